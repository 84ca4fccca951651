# A `let` of type bytestring: a slice of bytes already parsed (QUIC's Retry token is all but the
# last 16 bytes of the packet, the tag the rest). A slice that does not fit is a parse error.
type Tail = record {
    data              : bytestring &restofdata;
    let token : bytestring = data[0 .. len(data) - 16];
    let tag   : bytestring = data[len(data) - 16 .. len(data)];
};
