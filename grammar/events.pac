# Events: the 35 events of Zeek's SSL/TLS/DTLS analyzer (plus the retired ssl_server_curve),
# their argument types, the values the host supplies, and the glue that raises them from
# parsed units. Parameter names and types are Zeek's, so scripts and log pipelines that know
# Zeek's events read ours unchanged. The docs are ours.
#
# Order: the walker raises events in post-order, children before parents. That yields Zeek's
# order for hellos: each extension's own event, then ssl_extension for it; after all
# extensions the hello event; then ssl_handshake_message for the message.
#
# Events marked "raised by the analyzer" depend on connection state (encryption, direction,
# what both sides have sent) and are emitted by hand-written code, not by glue.

## A hash/signature algorithm pair as Zeek reports it (RFC 5246 §7.4.1.4.1). For TLS 1.3
## signature schemes the two numbers are the high and low byte of the scheme.
zeek record SignatureAndHashAlgorithm {
    HashAlgorithm: count,
    SignatureAlgorithm: count,
}

## One PSK identity offered in a TLS 1.3 ClientHello (RFC 8446 §4.2.11).
zeek record psk_identity {
    identity: string,
    obfuscated_ticket_age: count,
}

## Values the host knows about the connection and supplies when it walks a parsed unit.
context {
    ## True when the bytes came from the connection's originator.
    is_orig: bool,
    ## The TLS role of the sender: true for the side that sent the ClientHello. This is
    ## is_orig unless the connection is flipped (the responder sent the first ClientHello).
    is_client: bool,
    ## Version field of the record that carried the unit; 0 for SSLv2.
    record_version: count,
    ## The negotiated protocol version once the ServerHello was seen (from its
    ## supported_versions extension if present), else 0.
    version: count,
    ## True in compatibility mode: also raise the retired ssl_server_curve event.
    emit_server_curve: bool,
}

# ---------------------------------------------------------------------------------------
# Hellos
# ---------------------------------------------------------------------------------------

## A client opened the handshake with its hello (TLS, DTLS or SSLv2 CLIENT-HELLO).
event ssl_client_hello(
    c: connection,
    ## The highest protocol version the client offers in the hello body (TLS 1.3 clients put
    ## 0x0303 here and the real list in supported_versions).
    version: count,
    ## Version field of the record that carried the hello; 0 for SSLv2.
    record_version: count,
    ## The first four bytes of the client random read as a Unix time; clients stopped putting
    ## the clock there long ago, so it is often meaningless. 0 for SSLv2.
    possible_ts: time,
    ## The remaining 28 bytes of the client random; for SSLv2 the whole challenge.
    client_random: string,
    ## The session id the client wants to resume, padded with zero bytes to 32 bytes (32 zero
    ## bytes when it is empty or longer than 32).
    session_id: string,
    ## The offered cipher suites in the client's order (24-bit cipher kinds for SSLv2).
    ciphers: index_vec,
    ## The offered compression methods; empty for SSLv2.
    comp_methods: index_vec
);

## A server answered with its hello (TLS, DTLS or SSLv2 SERVER-HELLO). Also raised for a
## TLS 1.3 HelloRetryRequest, which is a ServerHello on the wire.
event ssl_server_hello(
    c: connection,
    ## The version field of the hello body (0x0303 for final TLS 1.3; the negotiated version is
    ## then in supported_versions).
    version: count,
    ## Version field of the record that carried the hello; 0 for SSLv2.
    record_version: count,
    ## The first four bytes of the server random read as a Unix time; usually not a time at all.
    ## 0 for SSLv2.
    possible_ts: time,
    ## All 32 bytes of the server random (its first four bytes repeat possible_ts); for SSLv2
    ## the connection id.
    server_random: string,
    ## The session id the server assigned or resumed, zero-padded to 32 bytes; 32 zero bytes for
    ## hellos without one (SSLv2, early TLS 1.3 drafts).
    session_id: string,
    ## The cipher suite the server chose (the first cipher kind it lists for SSLv2).
    cipher: count,
    ## The compression method the server chose; 0 where the hello has none.
    comp_method: count
);

# ---------------------------------------------------------------------------------------
# Extensions
# ---------------------------------------------------------------------------------------

## Raised for every extension of a hello (and of EncryptedExtensions, HelloRetryRequest,
## CertificateRequest and NewSessionTicket when they are readable), after the extension's
## own event if it has one.
event ssl_extension(
    c: connection,
    ## True when the client's side sent the extension.
    is_client: bool,
    ## The extension type.
    code: count,
    ## The extension body as sent, without type and length.
    val: string
);

## The supported_groups extension (called elliptic_curves before RFC 7919): the key-exchange
## groups the sender supports.
event ssl_extension_elliptic_curves(
    c: connection,
    ## True when the client's side sent it.
    is_client: bool,
    ## The group code points in the sender's order, GREASE values included.
    curves: index_vec
);

## The ec_point_formats extension: the elliptic-curve point encodings the sender accepts.
event ssl_extension_ec_point_formats(
    c: connection,
    ## True when the client's side sent it.
    is_client: bool,
    ## The format code points in the sender's order.
    point_formats: index_vec
);

## The signature_algorithms extension: the signature algorithms the sender accepts for
## handshake signatures. Like Zeek, also raised for the signature algorithms of a TLS 1.2
## CertificateRequest (same layout, no ssl_extension), just before ssl_certificate_request.
event ssl_extension_signature_algorithm(
    c: connection,
    ## True when the client's side sent it.
    is_client: bool,
    ## One pair per two-byte entry; for TLS 1.3 schemes the pair is the scheme's high and low
    ## byte.
    signature_algorithms: vector of SignatureAndHashAlgorithm
);

## The signature_algorithms_cert extension (TLS 1.3): the signature algorithms the sender
## accepts in certificates, when they differ from signature_algorithms.
event ssl_extension_signature_algorithms_cert(
    c: connection,
    ## True when the client's side sent it.
    is_client: bool,
    ## The 16-bit signature schemes (RFC 8446 §4.2.3) in the sender's order, as plain
    ## numbers: unlike ssl_extension_signature_algorithm, Zeek does not split them into
    ## hash/signature pairs here.
    signature_schemes: index_vec
);

## The key_share extension (TLS 1.3, also its draft code point 40).
event ssl_extension_key_share(
    c: connection,
    ## True when the client's side sent it.
    is_client: bool,
    ## For a client, the group of each offered share; for a server, the one group of its share;
    ## for a HelloRetryRequest, the group the server wants a share for.
    curves: index_vec
);

## The pre_shared_key extension of a ClientHello (TLS 1.3): the PSKs the client offers.
event ssl_extension_pre_shared_key_client_hello(
    c: connection,
    ## True when the client's side sent it.
    is_client: bool,
    ## Each offered identity (a ticket or an external name) with its obfuscated age.
    identities: vector of psk_identity,
    ## The binder values proving possession of each PSK, in the same order.
    binders: string_vec
);

## The pre_shared_key extension of a ServerHello (TLS 1.3): the PSK the server accepted.
event ssl_extension_pre_shared_key_server_hello(
    c: connection,
    ## True when the client's side sent it (normally false).
    is_client: bool,
    ## Index of the accepted identity in the client's list, from 0.
    selected_identity: count
);

## The application_layer_protocol_negotiation extension: the client's offered protocols or
## the server's choice.
event ssl_extension_application_layer_protocol_negotiation(
    c: connection,
    ## True when the client's side sent it.
    is_client: bool,
    ## The protocol names, e.g. "h2", "http/1.1"; one name for a server.
    protocols: string_vec
);

## The server_name extension (SNI) with at least one name. A server's empty acknowledgement
## raises only ssl_extension.
event ssl_extension_server_name(
    c: connection,
    ## True when the client's side sent it.
    is_client: bool,
    ## The host names; entries of other name types are left out.
    names: string_vec
);

## One signed certificate timestamp delivered in the signed_certificate_timestamp extension
## (Certificate Transparency, RFC 6962); raised once per SCT.
event ssl_extension_signed_certificate_timestamp(
    c: connection,
    ## True when the client's side sent it (normally false).
    is_client: bool,
    ## The SCT format version (0 stands for v1).
    version: count,
    ## The 32-byte id of the log that issued the SCT.
    logid: string,
    ## When the log saw the certificate, in milliseconds since the Unix epoch.
    timestamp: count,
    ## The algorithm of the log's signature.
    signature_and_hashalgorithm: SignatureAndHashAlgorithm,
    ## The log's signature.
    signature: string
);

## The supported_versions extension (TLS 1.3): the client's offered versions or the server's
## choice.
event ssl_extension_supported_versions(
    c: connection,
    ## True when the client's side sent it.
    is_client: bool,
    ## The versions in the sender's order, GREASE included; one version for a server.
    versions: index_vec
);

## The psk_key_exchange_modes extension (TLS 1.3): how the client is willing to use a PSK.
event ssl_extension_psk_key_exchange_modes(
    c: connection,
    ## True when the client's side sent it.
    is_client: bool,
    ## The mode code points (0 = PSK only, 1 = PSK with (EC)DHE).
    modes: index_vec
);

## The connection_id extension (DTLS, RFC 9146): the id the sender wants on records sent to it.
event ssl_extension_connection_id(
    c: connection,
    ## True when the client's side sent it.
    is_client: bool,
    ## The connection id; empty means the sender supports ids but wants none itself.
    cid: string
);

## The outer form of the encrypted_client_hello extension (ECH, RFC 9849): the real
## ClientHello travels encrypted inside it.
event ssl_extension_encrypted_client_hello(
    c: connection,
    ## True when the client's side sent it.
    is_client: bool,
    ## The HPKE key derivation function of the cipher suite used.
    kdf_id: count,
    ## The HPKE AEAD of the cipher suite used.
    aead_id: count,
    ## The id of the server's ECH configuration the client used.
    config_id: count,
    ## The HPKE encapsulated key (empty in a second ClientHello after a retry request).
    enc: string,
    ## The length of the encrypted inner ClientHello.
    payload_length: count
);

## The record_size_limit extension (RFC 8449). Our own event: Zeek has no counterpart and
## reports this extension only through ssl_extension.
event ssl_extension_record_size_limit(
    c: connection,
    ## True when the client's side sent it.
    is_client: bool,
    ## The largest record the sender is willing to receive, in bytes.
    limit: count
);

# ---------------------------------------------------------------------------------------
# Key exchange
# ---------------------------------------------------------------------------------------

## The server's ECDH parameters from a ServerKeyExchange that names its curve (ECDHE and
## ECDH_anon suites).
event ssl_ecdh_server_params(
    c: connection,
    ## The named group.
    curve: count,
    ## The server's ephemeral public point, without its length byte.
    point: string
);

## The server's DH parameters from a ServerKeyExchange (DHE and DH_anon suites).
event ssl_dh_server_params(
    c: connection,
    ## The prime modulus, without its length prefix.
    p: string,
    ## The generator (Zeek's name for it), without its length prefix.
    q: string,
    ## The server's public value, without its length prefix.
    Ys: string
);

## The server's signature over its key-exchange parameters (signed DHE and ECDHE suites).
event ssl_server_signature(
    c: connection,
    ## The algorithm pair sent with the signature from TLS 1.2 and DTLS 1.2 on; earlier versions
    ## send none and report 256 for both numbers.
    signature_and_hashalgorithm: SignatureAndHashAlgorithm,
    ## The signature bytes.
    signature: string
);

## The client's ECDH public point from a ClientKeyExchange (ECDH, ECDHE, ECDH_anon suites).
event ssl_ecdh_client_params(
    c: connection,
    ## The ClientKeyExchange body, its length byte included.
    point: string
);

## The client's DH public value from a ClientKeyExchange (DH, DHE, DH_anon suites).
event ssl_dh_client_params(
    c: connection,
    ## The ClientKeyExchange body, its length prefix included.
    Yc: string
);

## The encrypted pre-master secret of an RSA key exchange.
event ssl_rsa_client_pms(
    c: connection,
    ## The ClientKeyExchange body, its length prefix included (none in SSLv3).
    pms: string
);

## Retired in Zeek 3.0 (replaced by ssl_ecdh_server_params); raised only when the analyzer
## runs in compatibility mode (context value emit_server_curve), just before
## ssl_ecdh_server_params.
event ssl_server_curve(
    c: connection,
    ## The named group of the server's ECDH parameters.
    curve: count
);

# ---------------------------------------------------------------------------------------
# Other handshake messages
# ---------------------------------------------------------------------------------------

## Raised for every handshake message read in clear, after the message's own events.
event ssl_handshake_message(
    c: connection,
    ## True when the client's side sent it.
    is_client: bool,
    ## The handshake type.
    msg_type: count,
    ## The message body length from the handshake header.
    length: count
);

## A session ticket sent by the server for stateless resumption (RFC 5077 NewSessionTicket).
event ssl_session_ticket_handshake(
    c: connection,
    ## How many seconds the client may keep the ticket (0 = unspecified).
    ticket_lifetime_hint: count,
    ## The opaque ticket, without its length prefix.
    ticket: string
);

## A server asked the client for a certificate (CertificateRequest up to TLS 1.2).
event ssl_certificate_request(
    c: connection,
    ## True when the client's side sent it (normally false).
    is_client: bool,
    ## The acceptable certificate types.
    certificate_types: index_vec,
    ## The acceptable signature algorithm pairs (TLS 1.2 only; empty for earlier versions).
    supported_signature_algorithms: vector of SignatureAndHashAlgorithm,
    ## The DER-encoded names of the acceptable CAs.
    certificate_authorities: string_vec
);

## A stapled OCSP response (CertificateStatus message, after the client asked with
## status_request).
event ssl_stapled_ocsp(
    c: connection,
    ## True when the client's side sent it (normally false).
    is_client: bool,
    ## The DER OCSP response.
    response: string
);

# ---------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------

## An alert read in clear; raised once per alert when a record carries several.
event ssl_alert(
    c: connection,
    ## True when the client's side sent it.
    is_client: bool,
    ## 1 = warning, 2 = fatal.
    level: count,
    ## The alert description.
    desc: count
);

## A heartbeat message (RFC 6520) read in clear.
event ssl_heartbeat(
    c: connection,
    ## True when the client's side sent it.
    is_client: bool,
    ## The length of the whole heartbeat record.
    length: count,
    ## 1 = request, 2 = response.
    heartbeat_type: count,
    ## The payload length the message claims.
    payload_length: count,
    ## What follows the claimed length up to the end of the record (payload and padding);
    ## shorter than payload_length in a Heartbleed probe.
    payload: string
);

## Raised by the analyzer: a ChangeCipherSpec record before encryption started on that side.
## Up to TLS 1.2 it switches the side to encrypted; in TLS 1.3 it is a compatibility no-op.
event ssl_change_cipher_spec(
    c: connection,
    ## True when the client's side sent it.
    is_client: bool
);

## Raised by the analyzer for each record sent before its side is encrypted, after the events
## of the record's contents.
event ssl_plaintext_data(
    c: connection,
    ## True when the client's side sent it.
    is_client: bool,
    ## Version field of the record; 0 for SSLv2.
    record_version: count,
    ## The record's content type; for SSLv2, 300 + the message type.
    content_type: count,
    ## The record's payload length.
    length: count
);

## Raised by the analyzer for each record sent after its side is encrypted (only while the
## analyzer keeps running after ssl_established).
event ssl_encrypted_data(
    c: connection,
    ## True when the client's side sent it.
    is_client: bool,
    ## Version field of the record; 0 for SSLv2; 0xfefc for DTLS 1.3 records with the unified
    ## header.
    record_version: count,
    ## The record's outer content type.
    content_type: count,
    ## The encrypted payload length (for DTLS 1.3 unified headers without a length field, what
    ## is left of the datagram).
    length: count
);

## Raised by the analyzer for TLS 1.3 application-data records that probably carry encrypted
## handshake messages: those after the ServerHello until both sides have sent application
## data. A heuristic; client certificates for instance can defeat it.
event ssl_probable_encrypted_handshake_message(
    c: connection,
    ## Despite the name, the packet direction (true when the originator sent it), not the TLS
    ## role: that is what Zeek passes here.
    is_client: bool,
    ## The record's payload length.
    length: count
);

# ---------------------------------------------------------------------------------------
# Connection state
# ---------------------------------------------------------------------------------------

## Raised by the analyzer once the handshake is done: on the first encrypted record after
## both sides switched to encryption. By default the analyzer stops here.
event ssl_established(c: connection);

## Raised by the analyzer when the connection's responder turns out to be the TLS client
## (it sent the ClientHello); is_client is the opposite of the packet direction from then on.
event ssl_connection_flipped(c: connection);

# ---------------------------------------------------------------------------------------
# Glue
# ---------------------------------------------------------------------------------------

# Extensions: the specific event fires in the body's walk, ssl_extension after it.
on Extension -> event ssl_extension($conn, $is_client, self.ext_type, self.body.$sourcedata);

on ServerNameList -> event ssl_extension_server_name($conn, $is_client,
        [n.host_name for n in self.server_name_list if n.name_type == NameType::host_name]);
on SupportedGroups -> event ssl_extension_elliptic_curves($conn, $is_client, self.named_group_list);
on ECPointFormatList -> event ssl_extension_ec_point_formats($conn, $is_client, self.ec_point_format_list);
on SignatureSchemeList -> event ssl_extension_signature_algorithm($conn, $is_client,
        [SignatureAndHashAlgorithm { HashAlgorithm: s >> 8, SignatureAlgorithm: s & 0xff }
            for s in self.supported_signature_algorithms]);
on SignatureSchemeListCert -> event ssl_extension_signature_algorithms_cert($conn, $is_client,
        self.supported_signature_algorithms);
on ProtocolNameList -> event ssl_extension_application_layer_protocol_negotiation($conn, $is_client,
        [p.name for p in self.protocol_name_list]);
on SignedCertificateTimestamp -> event ssl_extension_signed_certificate_timestamp($conn, $is_client,
        self.version, self.log_id, self.timestamp,
        SignatureAndHashAlgorithm { HashAlgorithm: self.hash_algorithm, SignatureAlgorithm: self.signature_algorithm },
        self.signature);
on KeyShareClientHello -> event ssl_extension_key_share($conn, $is_client,
        [e.group for e in self.client_shares]);
on KeyShareServerHello -> event ssl_extension_key_share($conn, $is_client,
        [e.group for e in self.server_share]);
on KeyShareHelloRetryRequest -> event ssl_extension_key_share($conn, $is_client, self.selected_group);
on OfferedPsks -> event ssl_extension_pre_shared_key_client_hello($conn, $is_client,
        [psk_identity { identity: i.identity, obfuscated_ticket_age: i.obfuscated_ticket_age } for i in self.identities],
        [b.binder for b in self.binders]);
on SelectedPsk -> event ssl_extension_pre_shared_key_server_hello($conn, $is_client, self.selected_identity);
on SupportedVersionsClientHello -> event ssl_extension_supported_versions($conn, $is_client, self.versions);
on SupportedVersionsServerHello -> event ssl_extension_supported_versions($conn, $is_client, self.selected_version);
on PskKeyExchangeModes -> event ssl_extension_psk_key_exchange_modes($conn, $is_client, self.ke_modes);
on ConnectionId -> event ssl_extension_connection_id($conn, $is_client, self.cid);
on ECHClientHelloOuter -> event ssl_extension_encrypted_client_hello($conn, $is_client,
        self.kdf_id, self.aead_id, self.config_id, self.enc, self.payload_length);
on RecordSizeLimit -> event ssl_extension_record_size_limit($conn, $is_client, self.limit);

# Hellos: after their extensions.
on ClientHello -> event ssl_client_hello($conn, self.client_version, $record_version,
        be_uint(self.random[0..4]), self.random[4..32], zero_pad(self.session_id, 32),
        self.cipher_suites, self.compression_methods);
on ServerHelloClassic -> event ssl_server_hello($conn, self.server_version, $record_version,
        be_uint(self.random[0..4]), self.random, zero_pad(self.session_id, 32),
        self.cipher_suite, self.compression_method);
# Early drafts have neither session id nor compression: report 32 zero bytes and 0.
on ServerHelloDraft -> event ssl_server_hello($conn, self.server_version, $record_version,
        be_uint(self.random[0..4]), self.random, zero_pad(self.random[0..0], 32),
        self.cipher_suite, 0);
# SSLv2 has no timestamp and no compression; the challenge and the connection id stand in
# for the randoms. The empty comprehension is an empty index_vec.
on SSLv2ClientHello -> event ssl_client_hello($conn, self.client_version, $record_version,
        0, self.challenge, zero_pad(self.session_id, 32),
        self.cipher_specs, [s for s in self.cipher_specs if false]);
on SSLv2ServerHello -> event ssl_server_hello($conn, self.server_version, $record_version,
        0, self.connection_id, zero_pad(self.connection_id[0..0], 32),
        self.first_cipher_spec, 0);

# Key exchange.
on ECDHNamedCurveParams if $emit_server_curve -> event ssl_server_curve($conn, self.named_curve);
on ECDHNamedCurveParams -> event ssl_ecdh_server_params($conn, self.named_curve, self.point);
on ServerDHParams -> event ssl_dh_server_params($conn, self.dh_p, self.dh_g, self.dh_Ys);
on ServerSignatureTls12 -> event ssl_server_signature($conn,
        SignatureAndHashAlgorithm { HashAlgorithm: self.hash_algorithm, SignatureAlgorithm: self.signature_algorithm },
        self.signature);
on ServerSignatureLegacy -> event ssl_server_signature($conn,
        SignatureAndHashAlgorithm { HashAlgorithm: 256, SignatureAlgorithm: 256 },
        self.signature);
on EncryptedPreMasterSecret -> event ssl_rsa_client_pms($conn, self.pms);
on ClientDiffieHellmanPublic -> event ssl_dh_client_params($conn, self.dh_Yc);
on ClientECDiffieHellmanPublic -> event ssl_ecdh_client_params($conn, self.point);

# Other handshake messages.
on NewSessionTicket12 -> event ssl_session_ticket_handshake($conn, self.ticket_lifetime_hint, self.ticket);
on CertificateRequest12 -> event ssl_certificate_request($conn, $is_client, self.certificate_types,
        [SignatureAndHashAlgorithm { HashAlgorithm: s >> 8, SignatureAlgorithm: s & 0xff }
            for s in self.supported_signature_algorithms.supported_signature_algorithms],
        [d.dn for d in self.certificate_authorities]);
# Before TLS 1.2 there are no signature algorithms: an empty vector.
on CertificateRequestLegacy -> event ssl_certificate_request($conn, $is_client, self.certificate_types,
        [SignatureAndHashAlgorithm { HashAlgorithm: t, SignatureAlgorithm: t }
            for t in self.certificate_types if false],
        [d.dn for d in self.certificate_authorities]);
on OCSPResponse -> event ssl_stapled_ocsp($conn, $is_client, self.response);
on HandshakeMessage -> event ssl_handshake_message($conn, $is_client, self.hs_type, self.hs_length);

# Records.
on Alert -> event ssl_alert($conn, $is_client, self.level, self.description);
on Heartbeat -> event ssl_heartbeat($conn, $is_client, len(self.$sourcedata),
        self.heartbeat_type, self.payload_length, self.payload);
