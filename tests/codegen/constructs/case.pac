enum Kind : uint8 { one = 1, two = 2, three = 3 }
type Two = record { x : uint16; };
type Msg(k: Kind) = record {
    body : case k of {
        Kind::one        -> first  : uint8;
        Kind::two, 4     -> second : Two;
        Kind::three      -> empty;
        default          -> unknown : bytestring &restofdata;
    };
    flag : uint8;
    tail : case flag == 1 of {
        true    -> yes : uint8;
        default -> empty;
    };
};
