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

# A string context value: bytes only the host knows (a connection id), passed into an event.
context {
    ## The connection id of the packet the frame came in.
    cid: string,
}
## Raised for every crypto-like frame of a packet with a connection id.
## cid: the packet's connection id (from the context).
## offset: the frame's offset.
event var_crypto(c: connection, cid: string, offset: count);
on VarCrypto if len($cid) > 0 -> event var_crypto($conn, $cid, self.offset);
