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
}

# ---------------------------------------------------------------------------------------
# Hellos
# ---------------------------------------------------------------------------------------

## A client opened the handshake with its hello (TLS, DTLS or SSLv2 CLIENT-HELLO).
## version: the highest protocol version the client offers in the hello body (TLS 1.3
##     clients put 0x0303 here and the real list in supported_versions).
## record_version: version field of the record that carried the hello; 0 for SSLv2.
## possible_ts: the first four bytes of the client random read as a Unix time; clients
##     stopped putting the clock there long ago, so it is often meaningless. 0 for SSLv2.
## client_random: the remaining 28 bytes of the client random; for SSLv2 the whole challenge.
## session_id: the session id the client wants to resume, padded with zero bytes to 32 bytes
##     (32 zero bytes when it is empty or longer than 32).
## ciphers: the offered cipher suites in the client's order (24-bit cipher kinds for SSLv2).
## comp_methods: the offered compression methods; empty for SSLv2.
event ssl_client_hello(c: connection, version: count, record_version: count, possible_ts: time, client_random: string, session_id: string, ciphers: index_vec, comp_methods: index_vec);

## A server answered with its hello (TLS, DTLS or SSLv2 SERVER-HELLO). Also raised for a
## TLS 1.3 HelloRetryRequest, which is a ServerHello on the wire.
## version: the version field of the hello body (0x0303 for final TLS 1.3; the negotiated
##     version is then in supported_versions).
## record_version: version field of the record that carried the hello; 0 for SSLv2.
## possible_ts: the first four bytes of the server random read as a Unix time; usually not a
##     time at all. 0 for SSLv2.
## server_random: all 32 bytes of the server random (its first four bytes repeat
##     possible_ts); for SSLv2 the connection id.
## session_id: the session id the server assigned or resumed, zero-padded to 32 bytes; 32
##     zero bytes for hellos without one (SSLv2, early TLS 1.3 drafts).
## cipher: the cipher suite the server chose (the first cipher kind it lists for SSLv2).
## comp_method: the compression method the server chose; 0 where the hello has none.
event ssl_server_hello(c: connection, version: count, record_version: count, possible_ts: time, server_random: string, session_id: string, cipher: count, comp_method: count);

# ---------------------------------------------------------------------------------------
# Extensions
# ---------------------------------------------------------------------------------------

## Raised for every extension of a hello (and of EncryptedExtensions, HelloRetryRequest,
## CertificateRequest and NewSessionTicket when they are readable), after the extension's
## own event if it has one.
## is_client: true when the client's side sent the extension.
## code: the extension type.
## val: the extension body as sent, without type and length.
event ssl_extension(c: connection, is_client: bool, code: count, val: string);

## The supported_groups extension (called elliptic_curves before RFC 7919): the key-exchange
## groups the sender supports.
## is_client: true when the client's side sent it.
## curves: the group code points in the sender's order, GREASE values included.
event ssl_extension_elliptic_curves(c: connection, is_client: bool, curves: index_vec);

## The ec_point_formats extension: the elliptic-curve point encodings the sender accepts.
## is_client: true when the client's side sent it.
## point_formats: the format code points in the sender's order.
event ssl_extension_ec_point_formats(c: connection, is_client: bool, point_formats: index_vec);

## The signature_algorithms extension: the signature algorithms the sender accepts for
## handshake signatures.
## is_client: true when the client's side sent it.
## signature_algorithms: one pair per two-byte entry; for TLS 1.3 schemes the pair is the
##     scheme's high and low byte.
event ssl_extension_signature_algorithm(c: connection, is_client: bool, signature_algorithms: vector of SignatureAndHashAlgorithm);

## The signature_algorithms_cert extension (TLS 1.3): the signature algorithms the sender
## accepts in certificates, when they differ from signature_algorithms.
## is_client: true when the client's side sent it.
## signature_algorithms: one pair per two-byte entry, as for ssl_extension_signature_algorithm.
event ssl_extension_signature_algorithms_cert(c: connection, is_client: bool, signature_algorithms: vector of SignatureAndHashAlgorithm);

## The key_share extension (TLS 1.3, also its draft code point 40).
## is_client: true when the client's side sent it.
## curves: for a client, the group of each offered share; for a server, the one group of its
##     share; for a HelloRetryRequest, the group the server wants a share for.
event ssl_extension_key_share(c: connection, is_client: bool, curves: index_vec);

## The pre_shared_key extension of a ClientHello (TLS 1.3): the PSKs the client offers.
## is_client: true when the client's side sent it.
## identities: each offered identity (a ticket or an external name) with its obfuscated age.
## binders: the binder values proving possession of each PSK, in the same order.
event ssl_extension_pre_shared_key_client_hello(c: connection, is_client: bool, identities: vector of psk_identity, binders: string_vec);

## The pre_shared_key extension of a ServerHello (TLS 1.3): the PSK the server accepted.
## is_client: true when the client's side sent it (normally false).
## selected_identity: index of the accepted identity in the client's list, from 0.
event ssl_extension_pre_shared_key_server_hello(c: connection, is_client: bool, selected_identity: count);

## The application_layer_protocol_negotiation extension: the client's offered protocols or
## the server's choice.
## is_client: true when the client's side sent it.
## protocols: the protocol names, e.g. "h2", "http/1.1"; one name for a server.
event ssl_extension_application_layer_protocol_negotiation(c: connection, is_client: bool, protocols: string_vec);

## The server_name extension (SNI) with at least one name. A server's empty acknowledgement
## raises only ssl_extension.
## is_client: true when the client's side sent it.
## names: the host names; entries of other name types are left out.
event ssl_extension_server_name(c: connection, is_client: bool, names: string_vec);

## One signed certificate timestamp delivered in the signed_certificate_timestamp extension
## (Certificate Transparency, RFC 6962); raised once per SCT.
## is_client: true when the client's side sent it (normally false).
## version: the SCT format version (0 stands for v1).
## logid: the 32-byte id of the log that issued the SCT.
## timestamp: when the log saw the certificate, in milliseconds since the Unix epoch.
## signature_and_hashalgorithm: the algorithm of the log's signature.
## signature: the log's signature.
event ssl_extension_signed_certificate_timestamp(c: connection, is_client: bool, version: count, logid: string, timestamp: count, signature_and_hashalgorithm: SignatureAndHashAlgorithm, signature: string);

## The supported_versions extension (TLS 1.3): the client's offered versions or the server's
## choice.
## is_client: true when the client's side sent it.
## versions: the versions in the sender's order, GREASE included; one version for a server.
event ssl_extension_supported_versions(c: connection, is_client: bool, versions: index_vec);

## The psk_key_exchange_modes extension (TLS 1.3): how the client is willing to use a PSK.
## is_client: true when the client's side sent it.
## modes: the mode code points (0 = PSK only, 1 = PSK with (EC)DHE).
event ssl_extension_psk_key_exchange_modes(c: connection, is_client: bool, modes: index_vec);

## The connection_id extension (DTLS, RFC 9146): the id the sender wants on records sent to it.
## is_client: true when the client's side sent it.
## cid: the connection id; empty means the sender supports ids but wants none itself.
event ssl_extension_connection_id(c: connection, is_client: bool, cid: string);

## The outer form of the encrypted_client_hello extension (ECH, RFC 9849): the real
## ClientHello travels encrypted inside it.
## is_client: true when the client's side sent it.
## kdf_id: the HPKE key derivation function of the cipher suite used.
## aead_id: the HPKE AEAD of the cipher suite used.
## config_id: the id of the server's ECH configuration the client used.
## enc: the HPKE encapsulated key (empty in a second ClientHello after a retry request).
## payload_length: the length of the encrypted inner ClientHello.
event ssl_extension_encrypted_client_hello(c: connection, is_client: bool, kdf_id: count, aead_id: count, config_id: count, enc: string, payload_length: count);

# ---------------------------------------------------------------------------------------
# Key exchange
# ---------------------------------------------------------------------------------------

## The server's ECDH parameters from a ServerKeyExchange that names its curve (ECDHE and
## ECDH_anon suites).
## curve: the named group.
## point: the server's ephemeral public point, without its length byte.
event ssl_ecdh_server_params(c: connection, curve: count, point: string);

## The server's DH parameters from a ServerKeyExchange (DHE and DH_anon suites).
## p: the prime modulus, without its length prefix.
## q: the generator (Zeek's name for it), without its length prefix.
## Ys: the server's public value, without its length prefix.
event ssl_dh_server_params(c: connection, p: string, q: string, Ys: string);

## The server's signature over its key-exchange parameters (signed DHE and ECDHE suites).
## signature_and_hashalgorithm: the algorithm pair sent with the signature from TLS 1.2 and
##     DTLS 1.2 on; earlier versions send none and report 256 for both numbers.
## signature: the signature bytes.
event ssl_server_signature(c: connection, signature_and_hashalgorithm: SignatureAndHashAlgorithm, signature: string);

## The client's ECDH public point from a ClientKeyExchange (ECDH, ECDHE, ECDH_anon suites).
## point: the ClientKeyExchange body, its length byte included.
event ssl_ecdh_client_params(c: connection, point: string);

## The client's DH public value from a ClientKeyExchange (DH, DHE, DH_anon suites).
## Yc: the ClientKeyExchange body, its length prefix included.
event ssl_dh_client_params(c: connection, Yc: string);

## The encrypted pre-master secret of an RSA key exchange.
## pms: the ClientKeyExchange body, its length prefix included (none in SSLv3).
event ssl_rsa_client_pms(c: connection, pms: string);

## Retired in Zeek 3.0 (replaced by ssl_ecdh_server_params); raised only when the analyzer
## runs in compatibility mode.
## curve: the named group of the server's ECDH parameters.
event ssl_server_curve(c: connection, curve: count);

# ---------------------------------------------------------------------------------------
# Other handshake messages
# ---------------------------------------------------------------------------------------

## Raised for every handshake message read in clear, after the message's own events.
## is_client: true when the client's side sent it.
## msg_type: the handshake type.
## length: the message body length from the handshake header.
event ssl_handshake_message(c: connection, is_client: bool, msg_type: count, length: count);

## A session ticket sent by the server for stateless resumption (RFC 5077 NewSessionTicket).
## ticket_lifetime_hint: how many seconds the client may keep the ticket (0 = unspecified).
## ticket: the opaque ticket, without its length prefix.
event ssl_session_ticket_handshake(c: connection, ticket_lifetime_hint: count, ticket: string);

## A server asked the client for a certificate (CertificateRequest up to TLS 1.2).
## is_client: true when the client's side sent it (normally false).
## certificate_types: the acceptable certificate types.
## supported_signature_algorithms: the acceptable signature algorithm pairs (TLS 1.2 only;
##     empty for earlier versions).
## certificate_authorities: the DER-encoded names of the acceptable CAs.
event ssl_certificate_request(c: connection, is_client: bool, certificate_types: index_vec, supported_signature_algorithms: vector of SignatureAndHashAlgorithm, certificate_authorities: string_vec);

## A stapled OCSP response (CertificateStatus message, after the client asked with
## status_request).
## is_client: true when the client's side sent it (normally false).
## response: the DER OCSP response.
event ssl_stapled_ocsp(c: connection, is_client: bool, response: string);

# ---------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------

## An alert read in clear; raised once per alert when a record carries several.
## is_client: true when the client's side sent it.
## level: 1 = warning, 2 = fatal.
## desc: the alert description.
event ssl_alert(c: connection, is_client: bool, level: count, desc: count);

## A heartbeat message (RFC 6520) read in clear.
## is_client: true when the client's side sent it.
## length: the length of the whole heartbeat record.
## heartbeat_type: 1 = request, 2 = response.
## payload_length: the payload length the message claims.
## payload: what follows the claimed length up to the end of the record (payload and
##     padding); shorter than payload_length in a Heartbleed probe.
event ssl_heartbeat(c: connection, is_client: bool, length: count, heartbeat_type: count, payload_length: count, payload: string);

## Raised by the analyzer: a ChangeCipherSpec record before encryption started on that side.
## Up to TLS 1.2 it switches the side to encrypted; in TLS 1.3 it is a compatibility no-op.
## is_client: true when the client's side sent it.
event ssl_change_cipher_spec(c: connection, is_client: bool);

## Raised by the analyzer for each record sent before its side is encrypted, after the events
## of the record's contents.
## is_client: true when the client's side sent it.
## record_version: version field of the record; 0 for SSLv2.
## content_type: the record's content type; for SSLv2, 300 + the message type.
## length: the record's payload length.
event ssl_plaintext_data(c: connection, is_client: bool, record_version: count, content_type: count, length: count);

## Raised by the analyzer for each record sent after its side is encrypted (only while the
## analyzer keeps running after ssl_established).
## is_client: true when the client's side sent it.
## record_version: version field of the record; 0 for SSLv2; 0xfefc for DTLS 1.3 records
##     with the unified header.
## content_type: the record's outer content type.
## length: the encrypted payload length (for DTLS 1.3 unified headers without a length field,
##     what is left of the datagram).
event ssl_encrypted_data(c: connection, is_client: bool, record_version: count, content_type: count, length: count);

## Raised by the analyzer for TLS 1.3 application-data records that probably carry encrypted
## handshake messages: those after the ServerHello until both sides have sent application
## data. A heuristic; client certificates for instance can defeat it.
## is_client: true when the client's side sent it.
## length: the record's payload length.
event ssl_probable_encrypted_handshake_message(c: connection, is_client: bool, length: count);

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
        [SignatureAndHashAlgorithm { HashAlgorithm: s >> 8, SignatureAlgorithm: s & 0xff }
            for s in self.supported_signature_algorithms]);
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
on ECDHNamedCurveParams -> event ssl_server_curve($conn, self.named_curve);
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
            for s in self.supported_signature_algorithms],
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
