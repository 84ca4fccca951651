type Alert = record {
    level : uint8 &lenght = 1;
};
