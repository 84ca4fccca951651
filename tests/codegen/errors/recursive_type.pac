type Node = record {
    value : uint8;
    next  : Node;
};
