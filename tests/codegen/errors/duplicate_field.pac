type Alert = record {
    level : uint8;
    level : uint8;
};
