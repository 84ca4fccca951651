# QUIC variable-length integers (RFC 9000 §16) as a field, a length, a count, a case selector and
# list elements (tests/tests/codegen_run.rs).
type VarFrame = record {
    frame_type : varint;
    body       : case frame_type of {
        0x06    -> crypto : VarCrypto;
        default -> unknown : bytestring &restofdata;
    };
};

type VarCrypto = record {
    offset : varint;
    length : varint;
    data   : bytestring &length = length;
    n      : varint;
    ids    : varint[n];
    rest   : varint[] &restofdata;
};
