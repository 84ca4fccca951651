# Hello extensions (RFC 8446 §4.2, RFC 5246 §7.4.1.4, RFC 6066 and the RFCs cited per type).
#
# Every extension is parsed as type + length + body. The bodies that have an event of their
# own are parsed into records; everything else lands in the `unknown` arm with its raw bytes.
# Which layout a body has often depends on the message carrying it (a client's list versus a
# server's single choice), so the extension knows its message type.

## RFC 8446 §4.2 — the extension block that ends a hello: a 16-bit length, then extensions.
type Extensions(msg: HandshakeType) = record {
    extensions_length : uint16;
    extensions        : Extension(msg)[] &length = extensions_length;
};

## RFC 8446 §4.2 — one extension: its type, then a body bounded by its 16-bit length.
type Extension(msg: HandshakeType) = record {
    ext_type : ExtensionType;
    len_data : uint16;
    body     : case ext_type of {
        ExtensionType::server_name            -> server_name : ServerNameList &optional;
        ExtensionType::supported_groups       -> supported_groups : SupportedGroups;
        ExtensionType::ec_point_formats       -> ec_point_formats : ECPointFormatList;
        ExtensionType::signature_algorithms   -> signature_algorithms : SignatureSchemeList;
        ExtensionType::application_layer_protocol_negotiation
                                              -> alpn : ProtocolNameList;
        ExtensionType::signed_certificate_timestamp
                                              -> signed_certificate_timestamp : SignedCertificateTimestampList &optional;
        ExtensionType::key_share, ExtensionType::key_share_old
                                              -> key_share : KeyShare(msg, len_data);
        ExtensionType::pre_shared_key         -> pre_shared_key : PreSharedKey(msg);
        ExtensionType::supported_versions     -> supported_versions : SupportedVersions(msg);
        ExtensionType::psk_key_exchange_modes -> psk_key_exchange_modes : PskKeyExchangeModes;
        ExtensionType::signature_algorithms_cert
                                              -> signature_algorithms_cert : SignatureSchemeListCert;
        ExtensionType::connection_id          -> connection_id : ConnectionId;
        ExtensionType::encrypted_client_hello -> encrypted_client_hello : EncryptedClientHello(msg);
        ExtensionType::record_size_limit      -> record_size_limit : RecordSizeLimit;
        default                               -> unknown : bytestring &restofdata;
    } &length = len_data &exportsourcedata;
};

## RFC 6066 §3 — server_name: a list of names. A server acknowledges with an empty body,
## which is why the body is optional.
type ServerNameList = record {
    server_name_list_length : uint16;
    server_name_list        : ServerName[] &length = server_name_list_length;
};

## RFC 6066 §3 — one server name: type (0 = host_name) and the name.
type ServerName = record {
    name_type   : NameType;
    name_length : uint16;
    host_name   : bytestring &length = name_length;
};

## RFC 8446 §4.2.7 (RFC 8422 §5.1.1 "elliptic_curves") — the groups a client supports.
type SupportedGroups = record {
    named_group_list_length : uint16;
    named_group_list        : NamedGroup[] &length = named_group_list_length;
};

## RFC 8422 §5.1.2 — ec_point_formats, sent by both sides.
type ECPointFormatList = record {
    ec_point_format_list_length : uint8;
    ec_point_format_list        : ECPointFormat[] &length = ec_point_format_list_length;
};

## RFC 8446 §4.2.3 / RFC 5246 §7.4.1.4.1 — signature_algorithms: schemes (TLS 1.3 view) or
## hash/signature pairs (TLS 1.2 view) of two bytes each.
type SignatureSchemeList = record {
    supported_signature_algorithms_length : uint16;
    supported_signature_algorithms        : SignatureScheme[] &length = supported_signature_algorithms_length;
};

## RFC 8446 §4.2.3 — signature_algorithms_cert: the same list, for certificate signatures.
type SignatureSchemeListCert = record {
    supported_signature_algorithms_length : uint16;
    supported_signature_algorithms        : SignatureScheme[] &length = supported_signature_algorithms_length;
};

## RFC 7301 §3.1 — application_layer_protocol_negotiation: the client's list, or the
## server's choice as a list of one.
type ProtocolNameList = record {
    protocol_name_list_length : uint16;
    protocol_name_list        : ProtocolName[] &length = protocol_name_list_length;
};

## RFC 7301 §3.1 — one protocol name.
type ProtocolName = record {
    name_length : uint8;
    name        : bytestring &length = name_length;
};

## RFC 6962 §3.3.1 — signed_certificate_timestamp: a list of serialized SCTs. A client
## announces support with an empty body, which is why the body is optional.
type SignedCertificateTimestampList = record {
    sct_list_length : uint16;
    sct_list        : SerializedSct[] &length = sct_list_length;
};

## RFC 6962 §3.3 — one SCT, prefixed by its length.
type SerializedSct = record {
    sct_length : uint16;
    sct        : SignedCertificateTimestamp &length = sct_length;
};

## RFC 6962 §3.2 — SignedCertificateTimestamp.
type SignedCertificateTimestamp = record {
    version            : uint8;
    log_id             : bytestring &length = 32;
    timestamp          : uint64;
    extensions_length  : uint16;
    extensions         : bytestring &length = extensions_length;
    hash_algorithm     : HashAlgorithm;
    signature_algorithm : SignatureAlgorithm;
    signature_length   : uint16;
    signature          : bytestring &length = signature_length;
};

## RFC 8446 §4.2.8 — key_share. A ClientHello carries a list of shares; a ServerHello one
## share; a HelloRetryRequest (a ServerHello in the final RFC, its own message in the drafts)
## only the selected group, which is how a 2-byte body is told apart.
type KeyShare(msg: HandshakeType, len: uint16) = record {
    share : case (msg == HandshakeType::client_hello) ? 0 : ((len == 2) ? 1 : 2) of {
        0       -> client : KeyShareClientHello;
        1       -> hello_retry_request : KeyShareHelloRetryRequest;
        default -> server : KeyShareServerHello;
    };
};

## RFC 8446 §4.2.8 — the client's shares, one per group it guesses the server will pick.
type KeyShareClientHello = record {
    client_shares_length : uint16;
    client_shares        : KeyShareEntry[] &length = client_shares_length;
};

## RFC 8446 §4.2.8 — the server's single share (a list of exactly one).
type KeyShareServerHello = record {
    server_share : KeyShareEntry[1];
};

## RFC 8446 §4.2.8 — the group the server asks the client to retry with (a list of one).
type KeyShareHelloRetryRequest = record {
    selected_group : NamedGroup[1];
};

## RFC 8446 §4.2.8 — one share: group and key exchange value.
type KeyShareEntry = record {
    group               : NamedGroup;
    key_exchange_length : uint16;
    key_exchange        : bytestring &length = key_exchange_length;
};

## RFC 8446 §4.2.11 — pre_shared_key: the client offers identities and binders, the server
## answers with the index of the identity it picked.
type PreSharedKey(msg: HandshakeType) = record {
    psk : case msg of {
        HandshakeType::client_hello -> offered  : OfferedPsks;
        default                     -> selected : SelectedPsk;
    };
};

## RFC 8446 §4.2.11 — OfferedPsks.
type OfferedPsks = record {
    identities_length : uint16;
    identities        : PskIdentity[] &length = identities_length;
    binders_length    : uint16;
    binders           : PskBinderEntry[] &length = binders_length;
};

## RFC 8446 §4.2.11 — PskIdentity: a ticket or external identity and its obfuscated age.
type PskIdentity = record {
    identity_length       : uint16;
    identity              : bytestring &length = identity_length;
    obfuscated_ticket_age : uint32;
};

## RFC 8446 §4.2.11 — PskBinderEntry: an HMAC over the partial transcript.
type PskBinderEntry = record {
    binder_length : uint8;
    binder        : bytestring &length = binder_length;
};

## RFC 8446 §4.2.11 — the server's selected_identity.
type SelectedPsk = record {
    selected_identity : uint16;
};

## RFC 8446 §4.2.1 — supported_versions: the client's list, or the server's choice (a list
## of one, in a ServerHello or HelloRetryRequest).
type SupportedVersions(msg: HandshakeType) = record {
    versions : case msg of {
        HandshakeType::client_hello -> client : SupportedVersionsClientHello;
        default                     -> server : SupportedVersionsServerHello;
    };
};

## RFC 8446 §4.2.1 — the versions a client offers, most preferred first.
type SupportedVersionsClientHello = record {
    versions_length : uint8;
    versions        : ProtocolVersion[] &length = versions_length;
};

## RFC 8446 §4.2.1 — the version a server selected.
type SupportedVersionsServerHello = record {
    selected_version : ProtocolVersion[1];
};

## RFC 8446 §4.2.9 — psk_key_exchange_modes.
type PskKeyExchangeModes = record {
    ke_modes_length : uint8;
    ke_modes        : PskKeyExchangeMode[] &length = ke_modes_length;
};

## RFC 9146 §3 — connection_id: the id the sender wants to receive records with.
type ConnectionId = record {
    cid_length : uint8;
    cid        : bytestring &length = cid_length;
};

## RFC 8449 §4 — record_size_limit: the largest protected record the sender is willing to
## receive (a TLS 1.3 limit includes the content type byte and padding).
type RecordSizeLimit = record {
    limit : uint16;
};

## RFC 9849 §5 — encrypted_client_hello. In a ClientHello it is the outer form (the encrypted
## inner hello) or the inner marker; servers send retry configs in EncryptedExtensions and a
## confirmation in HelloRetryRequest, which we keep as raw bytes.
type EncryptedClientHello(msg: HandshakeType) = record {
    ech : case msg of {
        HandshakeType::client_hello -> client : ECHClientHello;
        default                     -> server_data : bytestring &restofdata;
    };
};

## RFC 9849 §5 — ECHClientHello: its kind, then the outer payload or nothing.
type ECHClientHello = record {
    ech_type : ECHClientHelloType;
    payload  : case ech_type of {
        ECHClientHelloType::outer -> outer : ECHClientHelloOuter;
        ECHClientHelloType::inner -> empty;
        default                   -> unknown : bytestring &restofdata;
    };
};

## RFC 9849 §5 — the outer ECH payload: the HPKE suite, the config it was made for, the
## encapsulated key and the encrypted inner ClientHello.
type ECHClientHelloOuter = record {
    kdf_id         : uint16;
    aead_id        : uint16;
    config_id      : uint8;
    enc_length     : uint16;
    enc            : bytestring &length = enc_length;
    payload_length : uint16;
    payload        : bytestring &length = payload_length;
};
