# An arm without content may be named (`padding : empty`): its variant is `Padding` rather than
# `Empty0`, for integer labels that have no constant name.
type Frame = record {
    frame_type : uint8;
    body       : case frame_type of {
        0x00    -> padding : empty;
        0x01    -> ping : empty;
        0x06    -> data : bytestring &restofdata;
        default -> unknown : bytestring &restofdata;
    };
};
