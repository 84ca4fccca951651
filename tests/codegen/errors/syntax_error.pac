type Alert = record {
    level : uint8
    desc  : uint8;
};
