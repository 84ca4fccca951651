type Hello = record {
    version : uint16;
    random  : Random;
};
