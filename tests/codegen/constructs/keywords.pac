## Rust keywords as field names are escaped, never rejected.
type Item = record {
    type   : uint8;
    match  : uint8;
    self   : uint8;
    crate  : bytestring &length = type;
};
