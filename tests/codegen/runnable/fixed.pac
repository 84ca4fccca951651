# Lists of a fixed-size record (`FIXED_SIZE` is Some(3)): validated by their byte length alone,
# then iterated element by element (tests/tests/codegen_run.rs).
type FixedEntry = record {
    tag   : uint8;
    value : uint16;
};

type FixedList = record {
    n       : uint8;
    counted : FixedEntry[n];
    rest    : FixedEntry[] &restofdata;
};
