enum Suite : uint16 { A = 1, B = 2 }
type Entry(flag: bool) = record { len : uint8; body : bytestring &length = len; };
type Lists = record {
    len_suites : uint16;
    suites     : Suite[] &length = len_suites;
    n          : uint8;
    triples    : uint24[n];
    entries    : Entry(true)[] &restofdata;
};
