# Fixed-size records: `Element::FIXED_SIZE` is their encoded size, so a list of them is
# validated by its byte length alone.
enum Level : uint8 { warning = 1, fatal = 2 }

## Two `uint8` fields: FIXED_SIZE is Some(2).
type Pair = record { a : uint8; b : uint8; };

## A fixed record, an enum, a fixed bytestring and a counted list of fixed records: Some(13).
type Nested = record {
    pair  : Pair;
    level : Level;
    tag   : bytestring &length = 4;
    pairs : Pair[3];
};

## Not fixed: a constraint can reject bytes of the right size.
type Checked = record { a : uint8 &check(a != 0); };

## Not fixed: the size depends on the input.
type Sized = record { n : uint8; body : bytestring &length = n; };

type Lists = record {
    pairs   : Pair[] &length = 4;
    checked : Checked[2];
    sized   : Sized[] &restofdata;
};
