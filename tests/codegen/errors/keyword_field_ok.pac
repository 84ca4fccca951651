# Not an error: Rust keywords as field names are escaped (r#type, self_), never rejected.
# The snapshot of this fixture is empty because it compiles cleanly.
type Item = record {
    type  : uint8;
    match : uint8;
    self  : uint8;
};
