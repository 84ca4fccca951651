type Exts = record { len_exts : uint16; data : bytestring &length = len_exts; };
type Hello = record {
    flags : uint8;
    cid   : uint16 &if((flags & 0x10) != 0);
    exts  : Exts &optional;
};
