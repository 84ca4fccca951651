enum Kex : uint8 { UNKNOWN = 0, RSA = 1, ECDHE = 2 }
enum Suite : uint16 { TLS_RSA_A = 1, TLS_ECDHE_B = 2, TLS_ECDHE_RSA_C = 3, OTHER = 4 }
## Key exchange by name prefix.
derive Suite.kex : Kex by prefix {
    "TLS_RSA_"   -> RSA,
    "TLS_ECDHE_" -> ECDHE,
    default      -> UNKNOWN,
}
