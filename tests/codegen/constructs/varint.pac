# QUIC variable-length integers (RFC 9000 §16) wherever a uint64 goes: a field, a length, a
# list count, a case selector, a `let`, a list element, a parameter and a glue argument.
type Frame = record {
    frame_type : varint;
    body       : case frame_type of {
        0x00       -> empty;
        0x06       -> crypto  : Crypto(frame_type);
        default    -> unknown : bytestring &restofdata;
    };
};
type Crypto(kind: varint) = record {
    offset  : varint;
    length  : varint &check(length <= 16384);
    data    : bytestring &length = length;
    n       : varint;
    ids     : varint[n];
    rest    : varint[] &restofdata;
    let end : varint = offset + length;
};
event crypto_frame(c: connection, offset: count, ids: index_vec);
on Crypto -> event crypto_frame($conn, self.offset, self.ids);
