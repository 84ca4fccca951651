# Handshake messages (RFC 8446 §4, RFC 5246 §7.4, RFC 6347 §4.2 and the RFCs cited per type).
#
# Several layouts depend on what was negotiated earlier in the connection; the analyzer tracks
# that and passes it in:
#   is_dtls     - the connection is DTLS (ClientHello carries a cookie);
#   tls13       - TLS 1.3 was negotiated (Certificate, CertificateRequest, NewSessionTicket
#                 have their TLS 1.3 forms);
#   has_sigalgs - the version is TLS 1.2 / DTLS 1.2 or later, so signatures are preceded by
#                 their hash/signature algorithm;
#   kex         - the key-exchange class of the cipher suite the server chose.

## RFC 8446 §4 / RFC 5246 §7.4 — a handshake message: type, 24-bit length, body.
type Handshake(is_dtls: bool, tls13: bool, has_sigalgs: bool, kex: KeyExchangeClass) = record {
    msg_type : HandshakeType;
    length   : uint24;
    message  : HandshakeMessage(msg_type, length, is_dtls, tls13, has_sigalgs, kex);
};

## RFC 6347 §4.2.2 — a DTLS handshake fragment: the TLS header plus the message sequence
## number and the fragment's place in the message. The analyzer reassembles fragments and
## parses the whole body as a HandshakeMessage. `length` is the whole message's length, which
## this fragment does not contain; RFC 6347 §4.2.3 only lets a fragment lie inside it.
type DtlsHandshake = record {
    msg_type        : HandshakeType;
    length          : uint24;
    message_seq     : uint16;
    fragment_offset : uint24;
    fragment_length : uint24 &check(fragment_offset + fragment_length <= length);
    fragment        : bytestring &length = fragment_length;
};

## RFC 8446 §4 — the body of a handshake message, selected by its type and bounded by its
## length. Shared by TLS and (reassembled) DTLS.
type HandshakeMessage(msg_type: HandshakeType, msg_length: uint32, is_dtls: bool, tls13: bool, has_sigalgs: bool, kex: KeyExchangeClass) = record {
    let hs_type   : HandshakeType = msg_type;
    let hs_length : uint32 = msg_length;
    body : case msg_type of {
        HandshakeType::hello_request          -> empty;
        HandshakeType::client_hello           -> client_hello : ClientHello(is_dtls);
        HandshakeType::server_hello           -> server_hello : ServerHello;
        HandshakeType::hello_verify_request   -> hello_verify_request : HelloVerifyRequest;
        HandshakeType::new_session_ticket     -> new_session_ticket : NewSessionTicket(tls13);
        HandshakeType::end_of_early_data      -> empty;
        HandshakeType::hello_retry_request    -> hello_retry_request : HelloRetryRequestDraft;
        HandshakeType::encrypted_extensions   -> encrypted_extensions : EncryptedExtensions;
        HandshakeType::certificate            -> certificate : Certificate(tls13);
        HandshakeType::server_key_exchange    -> server_key_exchange : ServerKeyExchange(kex, has_sigalgs);
        HandshakeType::certificate_request    -> certificate_request : CertificateRequest(tls13, has_sigalgs);
        HandshakeType::server_hello_done      -> empty;
        HandshakeType::certificate_verify     -> certificate_verify : CertificateVerify(has_sigalgs);
        HandshakeType::client_key_exchange    -> client_key_exchange : ClientKeyExchange(kex);
        HandshakeType::finished               -> finished : Finished;
        HandshakeType::certificate_url        -> certificate_url : CertificateUrl;
        HandshakeType::certificate_status     -> certificate_status : CertificateStatus;
        HandshakeType::supplemental_data      -> supplemental_data : SupplementalData;
        HandshakeType::key_update             -> key_update : KeyUpdate;
        HandshakeType::compressed_certificate -> compressed_certificate : CompressedCertificate;
        HandshakeType::message_hash           -> message_hash : MessageHash;
        default                               -> unknown : bytestring &restofdata;
    };
} &length = msg_length;

## RFC 8446 §4.1.2 / RFC 5246 §7.4.1.2 / RFC 6347 §4.2.1 — ClientHello. DTLS adds a cookie
## after the session id; the extension block is absent in old hellos.
type ClientHello(is_dtls: bool) = record {
    client_version             : ProtocolVersion;
    random                     : bytestring &length = 32;
    session_id_length          : uint8;
    session_id                 : bytestring &length = session_id_length;
    cookie                     : DtlsCookie &if(is_dtls);
    cipher_suites_length       : uint16;
    cipher_suites              : CipherSuite[] &length = cipher_suites_length;
    compression_methods_length : uint8;
    compression_methods        : uint8[] &length = compression_methods_length;
    extensions                 : Extensions(HandshakeType::client_hello) &optional;
};

## RFC 6347 §4.2.1 — the cookie of a DTLS ClientHello (empty in the first one).
type DtlsCookie = record {
    cookie_length : uint8;
    cookie        : bytestring &length = cookie_length;
};

## RFC 8446 §4.1.3 / RFC 5246 §7.4.1.3 — ServerHello. Its layout depends on the version it
## starts with, read the way Zeek reads it (tls-handshake-protocol.pac, ServerHelloChoice):
## a TLS 1.3 draft number (0x7fNN, any NN) or 0x0304 (the number the drafts' own text gives
## TLS 1.3) selects the draft layout without session id and compression method, which drafts
## up to 21 sent. Everything else is the classic layout; that includes final TLS 1.3 and
## drafts 22 and later, which went back to it with 0x0303 here and the real version in
## supported_versions (so no sender of those drafts puts 0x7f16 or later into this field).
type ServerHello = record {
    server_version : ProtocolVersion;
    hello : case ((server_version >> 8) == 0x7f || server_version == ProtocolVersion::TLSv13) of {
        true    -> draft   : ServerHelloDraft(server_version);
        default -> classic : ServerHelloClassic(server_version);
    };
};

## RFC 5246 §7.4.1.3 / RFC 8446 §4.1.3 — ServerHello after its version field. A TLS 1.3
## HelloRetryRequest has this layout too (with a fixed random).
type ServerHelloClassic(version: ProtocolVersion) = record {
    let server_version : ProtocolVersion = version;
    random             : bytestring &length = 32;
    session_id_length  : uint8;
    session_id         : bytestring &length = session_id_length;
    cipher_suite       : CipherSuite;
    compression_method : uint8;
    extensions         : Extensions(HandshakeType::server_hello) &optional;
};

## draft-ietf-tls-tls13-21 §4.1.3 — ServerHello of TLS 1.3 drafts before 22: no session id,
## no compression method. The extension block is optional as in the early drafts (and as Zeek
## parses it): a hello that ends after the cipher suite has none.
type ServerHelloDraft(version: ProtocolVersion) = record {
    let server_version : ProtocolVersion = version;
    random             : bytestring &length = 32;
    cipher_suite       : CipherSuite;
    extensions         : Extensions(HandshakeType::server_hello) &optional;
};

## draft-ietf-tls-tls13-21 §4.1.4 — HelloRetryRequest as a message of its own (drafts only;
## draft 19 added the cipher suite).
type HelloRetryRequestDraft = record {
    server_version : ProtocolVersion;
    cipher_suite   : CipherSuite &if((server_version & 0xff) >= 19);
    extensions     : Extensions(HandshakeType::hello_retry_request);
};

## RFC 6347 §4.2.1 — HelloVerifyRequest: the cookie the client must echo.
type HelloVerifyRequest = record {
    server_version : ProtocolVersion;
    cookie_length  : uint8;
    cookie         : bytestring &length = cookie_length;
};

## RFC 5077 §3.3 (TLS 1.2) and RFC 8446 §4.6.1 (TLS 1.3) — NewSessionTicket.
type NewSessionTicket(tls13: bool) = record {
    ticket : case tls13 of {
        true    -> tls13_ticket : NewSessionTicket13;
        default -> tls12_ticket : NewSessionTicket12;
    };
};

## RFC 5077 §3.3 — NewSessionTicket before TLS 1.3.
type NewSessionTicket12 = record {
    ticket_lifetime_hint : uint32;
    ticket_length        : uint16;
    ticket               : bytestring &length = ticket_length;
};

## RFC 8446 §4.6.1 — NewSessionTicket of TLS 1.3.
type NewSessionTicket13 = record {
    ticket_lifetime   : uint32;
    ticket_age_add    : uint32;
    ticket_nonce_length : uint8;
    ticket_nonce      : bytestring &length = ticket_nonce_length;
    ticket_length     : uint16;
    ticket            : bytestring &length = ticket_length;
    extensions        : Extensions(HandshakeType::new_session_ticket);
};

## RFC 8446 §4.3.1 — EncryptedExtensions.
type EncryptedExtensions = record {
    extensions : Extensions(HandshakeType::encrypted_extensions);
};

## RFC 5246 §7.4.2 (TLS 1.2) and RFC 8446 §4.4.2 (TLS 1.3) — Certificate.
type Certificate(tls13: bool) = record {
    certificates : case tls13 of {
        true    -> tls13_certificates : Certificate13;
        default -> tls12_certificates : Certificate12;
    };
};

## RFC 5246 §7.4.2 — a chain of DER certificates, each with a 24-bit length.
type Certificate12 = record {
    certificate_list_length : uint24;
    certificate_list        : ASN1Cert[] &length = certificate_list_length;
};

## RFC 5246 §7.4.2 — one DER certificate.
type ASN1Cert = record {
    cert_length : uint24;
    cert        : bytestring &length = cert_length;
};

## RFC 8446 §4.4.2 — the TLS 1.3 Certificate: a request context and entries that carry
## per-certificate extensions (kept raw: OCSP and SCT data of the entry).
type Certificate13 = record {
    certificate_request_context_length : uint8;
    certificate_request_context        : bytestring &length = certificate_request_context_length;
    certificate_list_length            : uint24;
    certificate_list                   : CertificateEntry[] &length = certificate_list_length;
};

## RFC 8446 §4.4.2 — CertificateEntry.
type CertificateEntry = record {
    cert_data_length  : uint24;
    cert_data         : bytestring &length = cert_data_length;
    extensions_length : uint16;
    extensions        : bytestring &length = extensions_length;
};

## RFC 5246 §7.4.3, RFC 8422 §5.4, RFC 4279 §2-3, RFC 5489 §2 — ServerKeyExchange, whose
## layout follows from the key exchange of the chosen cipher suite. Static (EC)DH suites do not
## send one; ECDH is parsed like ECDHE because some servers do.
type ServerKeyExchange(kex: KeyExchangeClass, has_sigalgs: bool) = record {
    exchange : case kex of {
        KeyExchangeClass::ECDHE, KeyExchangeClass::ECDH
                                     -> ecdhe : ServerKeyExchangeEcdhe(has_sigalgs);
        KeyExchangeClass::ECDH_anon  -> ecdh_anon : ServerECDHParams;
        KeyExchangeClass::DHE        -> dhe : ServerKeyExchangeDhe(has_sigalgs);
        KeyExchangeClass::DH_anon    -> dh_anon : ServerDHParams;
        KeyExchangeClass::RSA, KeyExchangeClass::RSA_EXPORT
                                     -> rsa : ServerRSAParams;
        KeyExchangeClass::PSK, KeyExchangeClass::RSA_PSK
                                     -> psk : PskIdentityHint;
        KeyExchangeClass::DHE_PSK    -> dhe_psk : ServerKeyExchangeDhePsk;
        KeyExchangeClass::ECDHE_PSK  -> ecdhe_psk : ServerKeyExchangeEcdhePsk;
        default                      -> unknown : bytestring &restofdata;
    };
};

## RFC 8422 §5.4 — ECDHE parameters followed by the server's signature over them. The
## signature is optional because explicit curves swallow the rest of the message.
type ServerKeyExchangeEcdhe(has_sigalgs: bool) = record {
    params    : ServerECDHParams;
    signature : ServerKeyExchangeSignature(has_sigalgs) &optional;
};

## RFC 8422 §5.4 — ServerECDHParams: the curve, then the server's public point.
type ServerECDHParams = record {
    curve_type : ECCurveType;
    curve      : case curve_type of {
        ECCurveType::named_curve -> named : ECDHNamedCurveParams;
        default                  -> explicit_params : bytestring &restofdata;
    };
};

## RFC 8422 §5.4 — a named curve and the server's ephemeral public point.
type ECDHNamedCurveParams = record {
    named_curve  : NamedGroup;
    point_length : uint8;
    point        : bytestring &length = point_length;
};

## RFC 5246 §7.4.3 — DHE parameters followed by the server's signature over them.
type ServerKeyExchangeDhe(has_sigalgs: bool) = record {
    params    : ServerDHParams;
    signature : ServerKeyExchangeSignature(has_sigalgs);
};

## RFC 5246 §7.4.3 — ServerDHParams: prime, generator, server public value.
type ServerDHParams = record {
    dh_p_length  : uint16;
    dh_p         : bytestring &length = dh_p_length;
    dh_g_length  : uint16;
    dh_g         : bytestring &length = dh_g_length;
    dh_Ys_length : uint16;
    dh_Ys        : bytestring &length = dh_Ys_length;
};

## RFC 4346 §7.4.3 — ServerRSAParams of export suites, then the signature (kept raw).
type ServerRSAParams = record {
    rsa_modulus_length  : uint16;
    rsa_modulus         : bytestring &length = rsa_modulus_length;
    rsa_exponent_length : uint16;
    rsa_exponent        : bytestring &length = rsa_exponent_length;
    signed_params       : bytestring &restofdata;
};

## RFC 4279 §2 — the PSK identity hint a server may send.
type PskIdentityHint = record {
    psk_identity_hint_length : uint16;
    psk_identity_hint        : bytestring &length = psk_identity_hint_length;
};

## RFC 4279 §3 — DHE_PSK: identity hint, then DH parameters (not signed).
type ServerKeyExchangeDhePsk = record {
    hint   : PskIdentityHint;
    params : ServerDHParams;
};

## RFC 5489 §2 — ECDHE_PSK: identity hint, then ECDH parameters (not signed).
type ServerKeyExchangeEcdhePsk = record {
    hint   : PskIdentityHint;
    params : ServerECDHParams;
};

## RFC 5246 §4.7 — the signature over the key-exchange parameters: with its algorithm pair
## from TLS 1.2 on, bare before.
type ServerKeyExchangeSignature(has_sigalgs: bool) = record {
    sig : case has_sigalgs of {
        true    -> with_algorithm : ServerSignatureTls12;
        default -> legacy         : ServerSignatureLegacy;
    };
};

## RFC 5246 §4.7 — digitally-signed with its hash and signature algorithm (TLS 1.2).
type ServerSignatureTls12 = record {
    hash_algorithm      : HashAlgorithm;
    signature_algorithm : SignatureAlgorithm;
    signature_length    : uint16;
    signature           : bytestring &length = signature_length;
};

## RFC 4346 §7.4.3 — digitally-signed before TLS 1.2: the algorithm follows from the
## certificate, only the signature is sent.
type ServerSignatureLegacy = record {
    signature_length : uint16;
    signature        : bytestring &length = signature_length;
};

## RFC 5246 §7.4.4 (up to TLS 1.2) and RFC 8446 §4.3.2 (TLS 1.3) — CertificateRequest.
type CertificateRequest(tls13: bool, has_sigalgs: bool) = record {
    request : case tls13 ? 2 : (has_sigalgs ? 1 : 0) of {
        2       -> tls13_request  : CertificateRequest13;
        1       -> tls12_request  : CertificateRequest12;
        default -> legacy_request : CertificateRequestLegacy;
    };
};

## RFC 5246 §7.4.4 — TLS 1.2 CertificateRequest. The signature algorithms have the layout of
## the signature_algorithms extension and are parsed as one, because Zeek raises
## ssl_extension_signature_algorithm for them (before ssl_certificate_request).
type CertificateRequest12 = record {
    certificate_types_length       : uint8;
    certificate_types              : ClientCertificateType[] &length = certificate_types_length;
    supported_signature_algorithms : SignatureSchemeList;
    certificate_authorities_length : uint16;
    certificate_authorities        : DistinguishedName[] &length = certificate_authorities_length;
};

## RFC 4346 §7.4.4 — CertificateRequest before TLS 1.2 (no signature algorithms).
type CertificateRequestLegacy = record {
    certificate_types_length       : uint8;
    certificate_types              : ClientCertificateType[] &length = certificate_types_length;
    certificate_authorities_length : uint16;
    certificate_authorities        : DistinguishedName[] &length = certificate_authorities_length;
};

## RFC 5246 §7.4.4 — one acceptable CA, as a DER-encoded distinguished name.
type DistinguishedName = record {
    dn_length : uint16;
    dn        : bytestring &length = dn_length;
};

## RFC 8446 §4.3.2 — TLS 1.3 CertificateRequest: context and extensions.
type CertificateRequest13 = record {
    certificate_request_context_length : uint8;
    certificate_request_context        : bytestring &length = certificate_request_context_length;
    extensions                         : Extensions(HandshakeType::certificate_request);
};

## RFC 5246 §7.4.8 / RFC 8446 §4.4.3 — CertificateVerify.
type CertificateVerify(has_sigalgs: bool) = record {
    verify : case has_sigalgs of {
        true    -> with_algorithm : CertificateVerifyTls12;
        default -> legacy         : CertificateVerifyLegacy;
    };
};

## RFC 5246 §7.4.8 / RFC 8446 §4.4.3 — signature with its scheme.
type CertificateVerifyTls12 = record {
    algorithm        : SignatureScheme;
    signature_length : uint16;
    signature        : bytestring &length = signature_length;
};

## RFC 4346 §7.4.8 — signature alone.
type CertificateVerifyLegacy = record {
    signature_length : uint16;
    signature        : bytestring &length = signature_length;
};

## RFC 5246 §7.4.7, RFC 8422 §5.7, RFC 4279 §2-4, RFC 5489 §2 — ClientKeyExchange, whose
## layout follows from the key exchange of the chosen cipher suite.
type ClientKeyExchange(kex: KeyExchangeClass) = record {
    exchange : case kex of {
        KeyExchangeClass::RSA, KeyExchangeClass::RSA_EXPORT
                                    -> rsa : EncryptedPreMasterSecret;
        KeyExchangeClass::DH, KeyExchangeClass::DHE, KeyExchangeClass::DH_anon
                                    -> dh : ClientDiffieHellmanPublic;
        KeyExchangeClass::ECDH, KeyExchangeClass::ECDHE, KeyExchangeClass::ECDH_anon
                                    -> ecdh : ClientECDiffieHellmanPublic;
        KeyExchangeClass::PSK       -> psk : ClientPskIdentity;
        KeyExchangeClass::RSA_PSK   -> rsa_psk : ClientKeyExchangeRsaPsk;
        KeyExchangeClass::DHE_PSK   -> dhe_psk : ClientKeyExchangeDhePsk;
        KeyExchangeClass::ECDHE_PSK -> ecdhe_psk : ClientKeyExchangeEcdhePsk;
        default                     -> unknown : bytestring &restofdata;
    };
};

## RFC 5246 §7.4.7.1 — the encrypted pre-master secret. TLS prefixes it with a 16-bit length,
## SSLv3 does not; like Zeek we keep the whole body, prefix included.
type EncryptedPreMasterSecret = record {
    pms : bytestring &restofdata;
};

## RFC 5246 §7.4.7.2 — the client's DH public value, 16-bit length prefix included.
type ClientDiffieHellmanPublic = record {
    dh_Yc : bytestring &restofdata;
};

## RFC 8422 §5.7 — the client's ECDH public point, 8-bit length prefix included.
type ClientECDiffieHellmanPublic = record {
    point : bytestring &restofdata;
};

## RFC 4279 §2 — the PSK identity the client uses.
type ClientPskIdentity = record {
    psk_identity_length : uint16;
    psk_identity        : bytestring &length = psk_identity_length;
};

## RFC 4279 §4 — RSA_PSK: identity, then the encrypted pre-master secret.
type ClientKeyExchangeRsaPsk = record {
    identity : ClientPskIdentity;
    exchange : EncryptedPreMasterSecret;
};

## RFC 4279 §3 — DHE_PSK: identity, then the client's DH public value.
type ClientKeyExchangeDhePsk = record {
    identity : ClientPskIdentity;
    exchange : ClientDiffieHellmanPublic;
};

## RFC 5489 §2 — ECDHE_PSK: identity, then the client's ECDH point.
type ClientKeyExchangeEcdhePsk = record {
    identity : ClientPskIdentity;
    exchange : ClientECDiffieHellmanPublic;
};

## RFC 5246 §7.4.9 — Finished (only seen in clear when something is off).
type Finished = record {
    verify_data : bytestring &restofdata;
};

## RFC 6066 §5 — CertificateURL, kept raw.
type CertificateUrl = record {
    url_and_hash_list : bytestring &restofdata;
};

## RFC 6066 §8 / RFC 8446 §4.4.2.1 — CertificateStatus: a stapled OCSP response.
type CertificateStatus = record {
    status_type : CertificateStatusType;
    response    : case status_type of {
        CertificateStatusType::ocsp -> ocsp_response : OCSPResponse;
        default                     -> unknown : bytestring &restofdata;
    };
};

## RFC 6066 §8 — the DER OCSP response, with a 24-bit length.
type OCSPResponse = record {
    response_length : uint24;
    response        : bytestring &length = response_length;
};

## RFC 4680 §2 — SupplementalData, kept raw.
type SupplementalData = record {
    supp_data_length : uint24;
    supp_data        : bytestring &length = supp_data_length;
};

## RFC 8446 §4.6.3 — KeyUpdate.
type KeyUpdate = record {
    request_update : KeyUpdateRequest;
};

## RFC 8879 §4 — CompressedCertificate. RFC 8879 calls the first length
## `uncompressed_length`; it measures the Certificate message after decompression, which is
## not in these bytes, so it is named for what it is rather than as a length of this unit.
type CompressedCertificate = record {
    algorithm                     : uint16;
    uncompressed_size             : uint24;
    compressed_certificate_length : uint24;
    compressed_certificate        : bytestring &length = compressed_certificate_length;
};

## RFC 8446 §4.4.1 — message_hash: the hash that replaces ClientHello1 in the transcript
## after a HelloRetryRequest. Never sent on the wire; parsed for completeness.
type MessageHash = record {
    hash : bytestring &restofdata;
};
