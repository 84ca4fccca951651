zeek record Pair { hi: count, lo: count }
context { is_orig: bool }
## Raised per hello.
## is_orig: the direction.
## version: the hello's version.
event hello(c: connection, is_orig: bool, version: count, session: string, pairs: vector of Pair);
type Hello = record {
    version : uint16;
    len_sid : uint8;
    sid     : bytestring &length = len_sid;
    n       : uint8;
    algs    : uint16[n];
};
type Outer = record { hello : Hello; };
on Hello if $is_orig -> event hello($conn, $is_orig, self.version, zero_pad(self.sid, 32),
    [Pair { hi: a >> 8, lo: a & 0xff } for a in self.algs]);
