# Registries of the SSL/TLS/DTLS protocols: every code point the analyzer names.
#
# All enums are open: a value that is not listed still parses, it just has no name.
# The names are the ones Zeek's ssl.log and its lookup tables print, so that our logs
# and event dumps read the same; where that name differs from the IANA identifier, the
# IANA-style identifier is the constant and Zeek's spelling is the label.

## Protocol versions (RFC 8446 §4.2.1, RFC 5246 §6.2.1, RFC 6347 §4.1, RFC 9147 §5.3),
## the SSLv2 version number (RFC-less, from the SSLv2 draft), and the code points of the
## TLS 1.3 drafts (0x7f00 + draft number, drafts 00 to 28), which Zeek prints as
## "TLSv13-draftN".
enum ProtocolVersion : uint16 {
    SSLv2   = 0x0002,
    SSLv3   = 0x0300,
    TLSv10  = 0x0301,
    TLSv11  = 0x0302,
    TLSv12  = 0x0303,
    TLSv13  = 0x0304,
    DTLSv10 = 0xfeff,
    # There never was a DTLS 1.1.
    DTLSv12 = 0xfefd,
    DTLSv13 = 0xfefc,
    TLSv13_draft00 = 0x7f00 "TLSv13-draft0",
    TLSv13_draft01 = 0x7f01 "TLSv13-draft1",
    TLSv13_draft02 = 0x7f02 "TLSv13-draft2",
    TLSv13_draft03 = 0x7f03 "TLSv13-draft3",
    TLSv13_draft04 = 0x7f04 "TLSv13-draft4",
    TLSv13_draft05 = 0x7f05 "TLSv13-draft5",
    TLSv13_draft06 = 0x7f06 "TLSv13-draft6",
    TLSv13_draft07 = 0x7f07 "TLSv13-draft7",
    TLSv13_draft08 = 0x7f08 "TLSv13-draft8",
    TLSv13_draft09 = 0x7f09 "TLSv13-draft9",
    TLSv13_draft10 = 0x7f0a "TLSv13-draft10",
    TLSv13_draft11 = 0x7f0b "TLSv13-draft11",
    TLSv13_draft12 = 0x7f0c "TLSv13-draft12",
    TLSv13_draft13 = 0x7f0d "TLSv13-draft13",
    TLSv13_draft14 = 0x7f0e "TLSv13-draft14",
    TLSv13_draft15 = 0x7f0f "TLSv13-draft15",
    TLSv13_draft16 = 0x7f10 "TLSv13-draft16",
    TLSv13_draft17 = 0x7f11 "TLSv13-draft17",
    TLSv13_draft18 = 0x7f12 "TLSv13-draft18",
    TLSv13_draft19 = 0x7f13 "TLSv13-draft19",
    TLSv13_draft20 = 0x7f14 "TLSv13-draft20",
    TLSv13_draft21 = 0x7f15 "TLSv13-draft21",
    TLSv13_draft22 = 0x7f16 "TLSv13-draft22",
    TLSv13_draft23 = 0x7f17 "TLSv13-draft23",
    TLSv13_draft24 = 0x7f18 "TLSv13-draft24",
    TLSv13_draft25 = 0x7f19 "TLSv13-draft25",
    TLSv13_draft26 = 0x7f1a "TLSv13-draft26",
    TLSv13_draft27 = 0x7f1b "TLSv13-draft27",
    TLSv13_draft28 = 0x7f1c "TLSv13-draft28",
}

## Record-layer content types (RFC 8446 §5.1, RFC 6520 §2 heartbeat, RFC 9146 §4 tls12_cid,
## RFC 9147 §7 ack).
enum ContentType : uint8 {
    change_cipher_spec = 20,
    alert              = 21,
    handshake          = 22,
    application_data   = 23,
    heartbeat          = 24,
    tls12_cid          = 25,
    ack                = 26,
}

## SSLv2 message types (the SSLv2 draft, "Protocol Specification"). The analyzer reports
## them as content types 300 + type, the way Zeek does.
enum SSLv2MessageType : uint8 {
    error               = 0,
    client_hello        = 1,
    client_master_key   = 2,
    client_finished     = 3,
    server_hello        = 4,
    server_verify       = 5,
    server_finished     = 6,
    request_certificate = 7,
    client_certificate  = 8,
}

## Handshake message types (RFC 8446 §4, RFC 5246 §7.4, RFC 6347 §4.2.2 hello_verify_request,
## RFC 5077 new_session_ticket, RFC 6066 certificate_url/certificate_status, RFC 4680
## supplemental_data, RFC 8879 compressed_certificate, RFC 8870 ekt_key, RFC 9147 §4 connection
## id messages; hello_retry_request as a message of its own existed only in TLS 1.3 drafts).
enum HandshakeType : uint8 {
    hello_request              = 0,
    client_hello               = 1,
    server_hello               = 2,
    hello_verify_request       = 3,
    new_session_ticket         = 4,
    end_of_early_data          = 5,
    hello_retry_request        = 6,
    encrypted_extensions       = 8,
    request_connection_id      = 9,
    new_connection_id          = 10,
    certificate                = 11,
    server_key_exchange        = 12,
    certificate_request        = 13,
    server_hello_done          = 14,
    certificate_verify         = 15,
    client_key_exchange        = 16,
    client_certificate_request = 17,
    finished                   = 20,
    certificate_url            = 21,
    certificate_status         = 22,
    supplemental_data          = 23,
    key_update                 = 24,
    compressed_certificate     = 25,
    ekt_key                    = 26,
    message_hash               = 254,
}

## Alert levels (RFC 5246 §7.2).
enum AlertLevel : uint8 {
    warning = 1,
    fatal   = 2,
}

## Alert descriptions (RFC 8446 §6, RFC 5246 §7.2, RFC 6066 §9, RFC 4279 §6, RFC 7301 §3.2,
## RFC 7507 inappropriate_fallback, RFC 9849 ech_required).
enum AlertDescription : uint8 {
    close_notify                    = 0,
    unexpected_message              = 10,
    bad_record_mac                  = 20,
    decryption_failed               = 21,
    record_overflow                 = 22,
    decompression_failure           = 30,
    handshake_failure               = 40,
    no_certificate                  = 41,
    bad_certificate                 = 42,
    unsupported_certificate         = 43,
    certificate_revoked             = 44,
    certificate_expired             = 45,
    certificate_unknown             = 46,
    illegal_parameter               = 47,
    unknown_ca                      = 48,
    access_denied                   = 49,
    decode_error                    = 50,
    decrypt_error                   = 51,
    export_restriction              = 60,
    protocol_version                = 70,
    insufficient_security           = 71,
    internal_error                  = 80,
    inappropriate_fallback          = 86,
    user_canceled                   = 90,
    no_renegotiation                = 100,
    unsupported_extension           = 110,
    certificate_unobtainable        = 111,
    unrecognized_name               = 112,
    bad_certificate_status_response = 113,
    bad_certificate_hash_value      = 114,
    unknown_psk_identity            = 115,
    certificate_required            = 116,
    general_error                   = 117,
    no_application_protocol         = 120,
    ech_required                    = 121,
}

## Hello extension types (IANA "TLS ExtensionType Values"; RFC 8446 §4.2 and the RFCs each
## line names). Labels give Zeek's spelling where it differs; GREASE values (RFC 8701) are
## named grease_0xNNNN.
enum ExtensionType : uint16 {
    server_name                            = 0,
    max_fragment_length                    = 1,
    client_certificate_url                 = 2,
    trusted_ca_keys                        = 3,
    truncated_hmac                         = 4,
    status_request                         = 5,
    user_mapping                           = 6,
    client_authz                           = 7,
    server_authz                           = 8,
    cert_type                              = 9,
    # Called elliptic_curves before RFC 7919 generalised it.
    supported_groups                       = 10,
    ec_point_formats                       = 11,
    srp                                    = 12,
    signature_algorithms                   = 13,
    use_srtp                               = 14,
    heartbeat                              = 15,
    application_layer_protocol_negotiation = 16,
    status_request_v2                      = 17,
    signed_certificate_timestamp           = 18,
    client_certificate_type                = 19,
    server_certificate_type                = 20,
    padding                                = 21,
    encrypt_then_mac                       = 22,
    extended_master_secret                 = 23,
    token_binding                          = 24,
    cached_info                            = 25,
    tls_lts                                = 26,
    compress_certificate                   = 27,
    record_size_limit                      = 28,
    pwd_protect                            = 29,
    pwd_clear                              = 30,
    password_salt                          = 31,
    ticket_pinning                         = 32,
    tls_cert_with_extern_psk               = 33,
    delegated_credential                   = 34,
    session_ticket                         = 35 "SessionTicket TLS",
    TLMSP                                  = 36,
    TLMSP_proxying                         = 37,
    TLMSP_delegate                         = 38,
    supported_ekt_ciphers                  = 39,
    # The key_share code point of TLS 1.3 drafts up to 22.
    key_share_old                          = 40,
    pre_shared_key                         = 41,
    early_data                             = 42,
    supported_versions                     = 43,
    cookie                                 = 44,
    psk_key_exchange_modes                 = 45,
    TicketEarlyDataInfo                    = 46,
    certificate_authorities                = 47,
    oid_filters                            = 48,
    post_handshake_auth                    = 49,
    signature_algorithms_cert              = 50,
    key_share                              = 51,
    transparency_info                      = 52,
    connection_id_deprecated               = 53,
    connection_id                          = 54,
    external_id_hash                       = 55,
    external_session_id                    = 56,
    quic_transport_parameters              = 57,
    ticket_request                         = 58,
    dnssec_chain                           = 59,
    sequence_number_encryption_algorithms  = 60,
    rrc                                    = 61,
    tls_flags                              = 62,
    next_protocol_negotiation              = 13172,
    origin_bound_certificates              = 13175,
    encrypted_client_certificates          = 13180,
    application_setting                    = 17513,
    channel_id                             = 30031,
    channel_id_new                         = 30032,
    padding_old                            = 35655 "padding",
    ech_outer_extensions                   = 64768,
    encrypted_client_hello                 = 65037,
    renegotiation_info                     = 65281,
    grease_0x0A0A = 0x0a0a,
    grease_0x1A1A = 0x1a1a,
    grease_0x2A2A = 0x2a2a,
    grease_0x3A3A = 0x3a3a,
    grease_0x4A4A = 0x4a4a,
    grease_0x5A5A = 0x5a5a,
    grease_0x6A6A = 0x6a6a,
    grease_0x7A7A = 0x7a7a,
    grease_0x8A8A = 0x8a8a,
    grease_0x9A9A = 0x9a9a,
    grease_0xAAAA = 0xaaaa,
    grease_0xBABA = 0xbaba,
    grease_0xCACA = 0xcaca,
    grease_0xDADA = 0xdada,
    grease_0xEAEA = 0xeaea,
    grease_0xFAFA = 0xfafa,
}

## Named groups for key exchange (RFC 8446 §4.2.7, RFC 8422 §5.1.1, RFC 7919, RFC 8734,
## RFC 9189, RFC 8998, and the ML-KEM and hybrid drafts), named as Zeek's ec_curves table
## prints them. GREASE values (RFC 8701) are named grease_0xNNNN.
enum NamedGroup : uint16 {
    sect163k1 = 1,
    sect163r1 = 2,
    sect163r2 = 3,
    sect193r1 = 4,
    sect193r2 = 5,
    sect233k1 = 6,
    sect233r1 = 7,
    sect239k1 = 8,
    sect283k1 = 9,
    sect283r1 = 10,
    sect409k1 = 11,
    sect409r1 = 12,
    sect571k1 = 13,
    sect571r1 = 14,
    secp160k1 = 15,
    secp160r1 = 16,
    secp160r2 = 17,
    secp192k1 = 18,
    secp192r1 = 19,
    secp224k1 = 20,
    secp224r1 = 21,
    secp256k1 = 22,
    secp256r1 = 23,
    secp384r1 = 24,
    secp521r1 = 25,
    brainpoolP256r1 = 26,
    brainpoolP384r1 = 27,
    brainpoolP512r1 = 28,
    x25519 = 29,
    x448 = 30,
    brainpoolP256r1tls13 = 31,
    brainpoolP384r1tls13 = 32,
    brainpoolP512r1tls13 = 33,
    GC256A = 34,
    GC256B = 35,
    GC256C = 36,
    GC256D = 37,
    GC512A = 38,
    GC512B = 39,
    GC512C = 40,
    curveSM2 = 41,
    ffdhe2048 = 256,
    ffdhe3072 = 257,
    ffdhe4096 = 258,
    ffdhe6144 = 259,
    ffdhe8192 = 260,
    MLKEM512 = 512,
    MLKEM768 = 513,
    MLKEM1024 = 514,
    SecP256r1MLKEM768 = 0x11eb,
    X25519MLKEM768 = 0x11ec,
    SecP384r1MLKEM1024 = 0x11ed,
    curveSM2MLKEM768 = 0x11ee,
    CECPQ2 = 0x4138,
    X25519Kyber768Draft00 = 0x6399,
    SecP256r1Kyber768Draft00 = 0x639a,
    arbitrary_explicit_prime_curves = 0xff01,
    arbitrary_explicit_char2_curves = 0xff02,
    grease_0x0A0A = 0x0a0a,
    grease_0x1A1A = 0x1a1a,
    grease_0x2A2A = 0x2a2a,
    grease_0x3A3A = 0x3a3a,
    grease_0x4A4A = 0x4a4a,
    grease_0x5A5A = 0x5a5a,
    grease_0x6A6A = 0x6a6a,
    grease_0x7A7A = 0x7a7a,
    grease_0x8A8A = 0x8a8a,
    grease_0x9A9A = 0x9a9a,
    grease_0xAAAA = 0xaaaa,
    grease_0xBABA = 0xbaba,
    grease_0xCACA = 0xcaca,
    grease_0xDADA = 0xdada,
    grease_0xEAEA = 0xeaea,
    grease_0xFAFA = 0xfafa,
}

## Elliptic-curve point formats (RFC 8422 §5.1.2).
enum ECPointFormat : uint8 {
    uncompressed              = 0,
    ansiX962_compressed_prime = 1,
    ansiX962_compressed_char2 = 2,
}

## Elliptic-curve parameter encodings in ServerKeyExchange (RFC 8422 §5.4).
enum ECCurveType : uint8 {
    explicit_prime = 1,
    explicit_char2 = 2,
    named_curve    = 3,
}

## Hash half of a TLS 1.2 signature-and-hash pair (RFC 5246 §7.4.1.4.1, RFC 8422 §5.1.3
## "Intrinsic"). TLS 1.3 reinterprets the pair as one SignatureScheme.
enum HashAlgorithm : uint8 {
    none      = 0,
    md5       = 1,
    sha1      = 2,
    sha224    = 3,
    sha256    = 4,
    sha384    = 5,
    sha512    = 6,
    Intrinsic = 8,
}

## Signature half of a TLS 1.2 signature-and-hash pair (RFC 5246 §7.4.1.4.1, RFC 8422,
## RFC 8446 §4.2.3 code points in the low byte of 0x08xx, RFC 9189 GOST), named the way
## Zeek's signature_algorithms table prints them.
enum SignatureAlgorithm : uint8 {
    anonymous               = 0,
    rsa                     = 1,
    dsa                     = 2,
    ecdsa                   = 3,
    rsa_pss_rsae_sha256     = 4 "rsa_pss_sha256",
    rsa_pss_rsae_sha384     = 5 "rsa_pss_sha384",
    rsa_pss_rsae_sha512     = 6 "rsa_pss_sha512",
    ed25519                 = 7,
    ed448                   = 8,
    rsa_pss_pss_sha256      = 9 "rsa_pss_sha256",
    rsa_pss_pss_sha384      = 10 "rsa_pss_sha384",
    rsa_pss_pss_sha512      = 11 "rsa_pss_sha512",
    gostr34102012_256       = 64,
    gostr34102012_512       = 65 "gostr34102012_256",
}

## TLS 1.3 signature schemes (RFC 8446 §4.2.3, RFC 8734, RFC 8998, RFC 9189, RFC 9367 and
## the ML-DSA draft). On the wire a scheme is the same two bytes as a TLS 1.2 hash/signature
## pair: hash = scheme >> 8, signature = scheme & 0xff.
enum SignatureScheme : uint16 {
    rsa_pkcs1_md5                     = 0x0101,
    rsa_pkcs1_sha1                    = 0x0201,
    dsa_sha1                          = 0x0202,
    ecdsa_sha1                        = 0x0203,
    rsa_pkcs1_sha224                  = 0x0301,
    dsa_sha224                        = 0x0302,
    ecdsa_sha224                      = 0x0303,
    rsa_pkcs1_sha256                  = 0x0401,
    dsa_sha256                        = 0x0402,
    ecdsa_secp256r1_sha256            = 0x0403,
    rsa_pkcs1_sha256_legacy           = 0x0420,
    rsa_pkcs1_sha384                  = 0x0501,
    dsa_sha384                        = 0x0502,
    ecdsa_secp384r1_sha384            = 0x0503,
    rsa_pkcs1_sha384_legacy           = 0x0520,
    rsa_pkcs1_sha512                  = 0x0601,
    dsa_sha512                        = 0x0602,
    ecdsa_secp521r1_sha512            = 0x0603,
    rsa_pkcs1_sha512_legacy           = 0x0620,
    eccsi_sha256                      = 0x0704,
    iso_ibs1                          = 0x0705,
    iso_ibs2                          = 0x0706,
    iso_chinese_ibs                   = 0x0707,
    sm2sig_sm3                        = 0x0708,
    gostr34102012_256a                = 0x0709,
    gostr34102012_256b                = 0x070a,
    gostr34102012_256c                = 0x070b,
    gostr34102012_256d                = 0x070c,
    gostr34102012_512a                = 0x070d,
    gostr34102012_512b                = 0x070e,
    gostr34102012_512c                = 0x070f,
    rsa_pss_rsae_sha256               = 0x0804,
    rsa_pss_rsae_sha384               = 0x0805,
    rsa_pss_rsae_sha512               = 0x0806,
    ed25519                           = 0x0807,
    ed448                             = 0x0808,
    rsa_pss_pss_sha256                = 0x0809,
    rsa_pss_pss_sha384                = 0x080a,
    rsa_pss_pss_sha512                = 0x080b,
    ecdsa_brainpoolP256r1tls13_sha256 = 0x081a,
    ecdsa_brainpoolP384r1tls13_sha384 = 0x081b,
    ecdsa_brainpoolP512r1tls13_sha512 = 0x081c,
    mldsa44                           = 0x0904,
    mldsa65                           = 0x0905,
    mldsa87                           = 0x0906,
}

## Certificate types a server may ask the client for (RFC 5246 §7.4.4, RFC 8422 §5.5).
enum ClientCertificateType : uint8 {
    rsa_sign                  = 1,
    dss_sign                  = 2,
    rsa_fixed_dh              = 3,
    dss_fixed_dh              = 4,
    rsa_ephemeral_dh_RESERVED = 5,
    dss_ephemeral_dh_RESERVED = 6,
    fortezza_dms_RESERVED     = 20,
    ecdsa_sign                = 64,
    rsa_fixed_ecdh            = 65,
    ecdsa_fixed_ecdh          = 66,
    gost_sign256              = 67,
    gost_sign512              = 68,
}

## TLS 1.3 PSK key-exchange modes (RFC 8446 §4.2.9).
enum PskKeyExchangeMode : uint8 {
    psk_ke     = 0,
    psk_dhe_ke = 1,
}

## Server name types of the server_name extension (RFC 6066 §3).
enum NameType : uint8 {
    host_name = 0,
}

## Certificate status types (RFC 6066 §8, RFC 6961 §2.2).
enum CertificateStatusType : uint8 {
    ocsp       = 1,
    ocsp_multi = 2,
}

## Heartbeat message types (RFC 6520 §3).
enum HeartbeatMessageType : uint8 {
    heartbeat_request  = 1,
    heartbeat_response = 2,
}

## ECH payload kinds of the encrypted_client_hello extension (RFC 9849 §5).
enum ECHClientHelloType : uint8 {
    outer = 0,
    inner = 1,
}

## TLS 1.3 KeyUpdate request flag (RFC 8446 §4.6.3).
enum KeyUpdateRequest : uint8 {
    update_not_requested = 0,
    update_requested     = 1,
}
