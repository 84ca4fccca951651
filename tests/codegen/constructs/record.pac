## Every integer width, a fixed-size and a length-bounded bytestring, a let and a check.
type Header = record {
    a        : uint8;
    b        : uint16;
    c        : uint24;
    d        : uint32;
    e        : uint48;
    f        : uint64;
    random   : bytestring &length = 4;
    len_data : uint8 &check(len_data < 100);
    data     : bytestring &length = len_data &exportsourcedata;
    let total : uint32 = len_data + 4;
    rest     : bytestring &restofdata;
} &length = 40;
