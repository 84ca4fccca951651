//! The crafted fixtures of `tests/fixtures/crafted/`, built from the generated encoders: each
//! one a value of the spec's owned types (lengths, counts and selectors computed by the
//! encoder), checked against its `.hex` file, which stays the snapshot input of
//! `wire_fixtures.rs` and `tls13_drafts.rs`.
//!
//! These cover layouts our loopback captures cannot show: the tools we record with (OpenSSL
//! 3.0, GnuTLS 3.7) speak no SSLv2, DTLS 1.3, connection ids or ECH and send no heartbeats or
//! signature_algorithms_cert. Each fixture is built from the RFC's structures with made-up
//! values; its comment line says what it is and `# params:` how to parse it (`parse=<generated
//! type>` plus that type's parameters, and the side for the walker context).
//!
//! To add or change one: edit [`fixtures`], then
//! `PAC_WRITE_CRAFTED=1 cargo test -p pac-tests --test crafted_fixtures` rewrites the files;
//! review the hex and the snapshots it changes.

use pac_runtime::EncodeError;
use std::path::PathBuf;
use tls_grammar::*;

/// One crafted fixture: file stem, title, params line, bytes.
struct Crafted {
    name: &'static str,
    title: &'static str,
    params: &'static str,
    bytes: Vec<u8>,
}

/// Recognisable filler: byte i of a made-up value is (seed + i) & 0xff.
fn filler(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| seed.wrapping_add(i as u8)).collect()
}

/// `filler` as a fixed-size array.
fn filler32(seed: u8) -> [u8; 32] {
    core::array::from_fn(|i| seed.wrapping_add(i as u8))
}

/// An extension whose type follows from its body.
fn ext(body: ExtensionBodyOwned) -> ExtensionOwned {
    ExtensionOwned {
        body,
        ..Default::default()
    }
}

/// A TLS record around already encoded content.
fn record(ty: ContentType, version: u16, fragment: Vec<u8>) -> Result<Vec<u8>, EncodeError> {
    TlsRecordOwned {
        content_type: ty,
        version: ProtocolVersion(version),
        fragment,
        ..Default::default()
    }
    .to_bytes()
}

/// An SSLv2 record with the 2-byte header: the 15-bit length is split over two fields with
/// the high bit set, which the encoder checks and does not compute (`pacc encoders`).
fn sslv2_record(message: SSLv2MessageBodyOwned) -> Result<Vec<u8>, EncodeError> {
    let message = SSLv2MessageOwned {
        msg_type: None,
        body: message,
    };
    let n = message.to_bytes()?.len();
    SSLv2RecordOwned {
        length_high: 0x80 | ((n >> 8) as u8),
        length_low: n as u8,
        message,
    }
    .to_bytes()
}

/// A handshake message whose type and length follow from its body.
fn handshake(body: HandshakeMessageBodyOwned) -> Result<Vec<u8>, EncodeError> {
    HandshakeOwned {
        message: HandshakeMessageOwned { body },
        ..Default::default()
    }
    .to_bytes(false, false, false, KeyExchangeClass::default())
}

/// The server's X25519 key share.
fn x25519_share() -> ExtensionBodyOwned {
    ExtensionBodyOwned::KeyShare(KeyShareOwned {
        share: KeyShareShareOwned::Server(KeyShareServerHelloOwned {
            server_share: [KeyShareEntryOwned {
                group: NamedGroup::x25519,
                key_exchange: filler(32, 0x50),
                ..Default::default()
            }],
        }),
    })
}

/// A TLS 1.3 draft-layout ServerHello (no session id, no compression method).
fn draft_server_hello(
    version: u16,
    extensions: Option<Vec<ExtensionOwned>>,
) -> Result<Vec<u8>, EncodeError> {
    handshake(HandshakeMessageBodyOwned::ServerHello(ServerHelloOwned {
        server_version: ProtocolVersion(version),
        hello: ServerHelloHelloOwned::Draft(ServerHelloDraftOwned {
            random: filler32(0x10),
            cipher_suite: CipherSuite(0x1301),
            extensions: extensions.map(|extensions| ExtensionsOwned {
                extensions,
                ..Default::default()
            }),
        }),
    }))
}

/// key_share at its draft code point 40 (the encoder would pick the first label, 51).
fn key_share_40() -> ExtensionOwned {
    ExtensionOwned {
        ext_type: Some(ExtensionType::key_share_old),
        ..ext(x25519_share())
    }
}

fn fixtures() -> Result<Vec<Crafted>, EncodeError> {
    let spec = |v: u32| SSLv2CipherSpec(v);
    let mut out = Vec::new();

    // SSLv2 draft §2.5: CLIENT-HELLO in a record with the 2-byte header (high bit set).
    out.push(Crafted {
        name: "sslv2-client_hello",
        title: "SSLv2 CLIENT-HELLO (SSLv2 draft §2.5): 7 cipher kinds, no session id, 16-byte challenge",
        params: "parse=SSLv2Record side=c record_version=0x0000",
        bytes: sslv2_record(SSLv2MessageBodyOwned::ClientHello(SSLv2ClientHelloOwned {
            client_version: ProtocolVersion(0x0002),
            cipher_specs: [0x0700C0, 0x050080, 0x030080, 0x010080, 0x060040, 0x040080, 0x020080]
                .into_iter()
                .map(spec)
                .collect(),
            session_id: Vec::new(),
            challenge: filler(16, 0xA0),
            ..Default::default()
        }))?,
    });

    // SSLv2 draft §2.6: SERVER-HELLO with a stand-in certificate (not DER, the parser keeps it
    // opaque), two cipher kinds and a 16-byte connection id. cipher_specs_length bounds the
    // other kinds through an expression (`- 3`), so it is set by hand and checked.
    out.push(Crafted {
        name: "sslv2-server_hello",
        title: "SSLv2 SERVER-HELLO (SSLv2 draft §2.6): no session hit, X.509 type, 2 cipher kinds",
        params: "parse=SSLv2Record side=s record_version=0x0000",
        bytes: sslv2_record(SSLv2MessageBodyOwned::ServerHello(SSLv2ServerHelloOwned {
            session_id_hit: 0,
            certificate_type: 1,
            server_version: ProtocolVersion(0x0002),
            cipher_specs_length: 6,
            certificate: b"stand-in certificate".to_vec(),
            first_cipher_spec: spec(0x0700C0),
            other_cipher_specs: vec![spec(0x010080)],
            connection_id: filler(16, 0x30),
            ..Default::default()
        }))?,
    });

    // RFC 6520 §4: a heartbeat request as it should be (5-byte payload, 16 bytes of padding),
    // and a Heartbleed probe claiming 16384 bytes it does not carry (payload_length bounds
    // nothing in the layout, so the encoder writes what is set).
    let mut payload = b"hello".to_vec();
    payload.extend(filler(16, 0x00));
    let request = HeartbeatOwned {
        heartbeat_type: HeartbeatMessageType(1),
        payload_length: 5,
        payload,
    };
    out.push(Crafted {
        name: "heartbeat-request",
        title:
            "TLS 1.2 heartbeat record (RFC 6520 §4): request, 5-byte payload, 16 bytes of padding",
        params: "parse=TlsRecord side=c record_version=0x0303",
        bytes: record(ContentType::heartbeat, 0x0303, request.to_bytes()?)?,
    });
    let bleed = HeartbeatOwned {
        heartbeat_type: HeartbeatMessageType(1),
        payload_length: 0x4000,
        payload: Vec::new(),
    };
    out.push(Crafted {
        name: "heartbeat-heartbleed",
        title: "TLS 1.1 heartbeat record (RFC 6520 §4): request claiming 16384 payload bytes, carrying none",
        params: "parse=TlsRecord side=c record_version=0x0302",
        bytes: record(ContentType::heartbeat, 0x0302, bleed.to_bytes()?)?,
    });

    // RFC 5246 §7.2: two alerts in one record (a warning, then a fatal one).
    let alerts = AlertRecordOwned {
        alerts: vec![
            AlertOwned {
                level: AlertLevel::warning,
                description: AlertDescription::close_notify,
            },
            AlertOwned {
                level: AlertLevel::fatal,
                description: AlertDescription::internal_error,
            },
        ],
    };
    out.push(Crafted {
        name: "alert-two-in-one-record",
        title: "TLS 1.2 alert record carrying two alerts: close_notify (warning), internal_error (fatal)",
        params: "parse=TlsRecord side=s record_version=0x0303",
        bytes: record(ContentType::alert, 0x0303, alerts.to_bytes()?)?,
    });

    // RFC 9147 §4: DTLS 1.3 unified headers. 0x3e = 001 C=1 S=1 L=1 EE=10: a 4-byte connection
    // id, a 16-bit sequence number and a length. 0x21 = 001 C=0 S=0 L=0 EE=01: 8-bit sequence
    // number, no length (the record runs to the end of the datagram). The flag bits choose
    // the layout; the encoder checks the value against them.
    out.push(Crafted {
        name: "dtls13-unified-cid-len",
        title: "DTLS 1.3 unified header (RFC 9147 §4): connection id, 16-bit sequence, length",
        params: "parse=DtlsUnifiedHeader cid_length=4 side=c",
        bytes: DtlsUnifiedHeaderOwned {
            flags: 0x3E,
            connection_id: Some(vec![0xc1, 0xd2, 0xe3, 0xf4]),
            sequence_number: DtlsUnifiedHeaderSequenceNumberOwned::Seq16(0x0102),
            body: DtlsUnifiedHeaderBodyOwned::WithLength(DtlsUnifiedPayloadOwned {
                length: None,
                encrypted: filler(24, 0x40),
            }),
        }
        .to_bytes(4)?,
    });
    out.push(Crafted {
        name: "dtls13-unified-short",
        title: "DTLS 1.3 unified header (RFC 9147 §4): no connection id, 8-bit sequence, to end of datagram",
        params: "parse=DtlsUnifiedHeader cid_length=0 side=s",
        bytes: DtlsUnifiedHeaderOwned {
            flags: 0x21,
            connection_id: None,
            sequence_number: DtlsUnifiedHeaderSequenceNumberOwned::Seq8(0x07),
            body: DtlsUnifiedHeaderBodyOwned::ToEnd(filler(20, 0x60)),
        }
        .to_bytes(0)?,
    });

    let ch = HandshakeType::client_hello;
    let sh = HandshakeType::server_hello;
    let ee = HandshakeType::encrypted_extensions;

    // RFC 8446 §4.2.3: signature_algorithms_cert (50) in a ClientHello.
    out.push(Crafted {
        name: "ext-signature_algorithms_cert",
        title: "signature_algorithms_cert extension (RFC 8446 §4.2.3) of a ClientHello: 4 schemes",
        params: "parse=Extension msg=client_hello side=c",
        bytes: ext(ExtensionBodyOwned::SignatureAlgorithmsCert(
            SignatureSchemeListCertOwned {
                supported_signature_algorithms: [0x0403, 0x0804, 0x0401, 0x0201]
                    .into_iter()
                    .map(SignatureScheme)
                    .collect(),
                ..Default::default()
            },
        ))
        .to_bytes(ch)?,
    });

    // RFC 9146 §3: connection_id (54), a client asking for an 8-byte id and a server that
    // supports ids but wants none (empty cid).
    let cid = |cid: Vec<u8>| {
        ext(ExtensionBodyOwned::ConnectionId(ConnectionIdOwned {
            cid,
            ..Default::default()
        }))
    };
    out.push(Crafted {
        name: "ext-connection_id-client",
        title: "connection_id extension (RFC 9146 §3) of a DTLS 1.2 ClientHello: an 8-byte id",
        params: "parse=Extension msg=client_hello side=c",
        bytes: cid(filler(8, 0xC0)).to_bytes(ch)?,
    });
    out.push(Crafted {
        name: "ext-connection_id-empty",
        title: "connection_id extension (RFC 9146 §3) of a ServerHello: empty (no id wanted)",
        params: "parse=Extension msg=server_hello side=s",
        bytes: cid(Vec::new()).to_bytes(sh)?,
    });

    // RFC 9849 §5: encrypted_client_hello (0xfe0d). Outer form: HPKE KDF 1 (HKDF-SHA256),
    // AEAD 1 (AES-128-GCM), config id 0x2a, a 32-byte X25519 enc and a 64-byte stand-in
    // payload; the inner form's marker; a server's retry configs, kept raw.
    let ech = |payload: ECHClientHelloPayloadOwned| {
        ext(ExtensionBodyOwned::EncryptedClientHello(
            EncryptedClientHelloOwned {
                ech: EncryptedClientHelloEchOwned::Client(ECHClientHelloOwned {
                    ech_type: None,
                    payload,
                }),
            },
        ))
    };
    out.push(Crafted {
        name: "ext-ech-outer",
        title: "encrypted_client_hello extension (RFC 9849 §5) of a ClientHello: outer form",
        params: "parse=Extension msg=client_hello side=c",
        bytes: ech(ECHClientHelloPayloadOwned::Outer(
            ECHClientHelloOuterOwned {
                kdf_id: 1,
                aead_id: 1,
                config_id: 0x2A,
                enc: filler(32, 0x10),
                payload: filler(64, 0x80),
                ..Default::default()
            },
        ))
        .to_bytes(ch)?,
    });
    out.push(Crafted {
        name: "ext-ech-inner",
        title: "encrypted_client_hello extension (RFC 9849 §5) of an inner ClientHello: the marker",
        params: "parse=Extension msg=client_hello side=c",
        bytes: ech(ECHClientHelloPayloadOwned::Inner).to_bytes(ch)?,
    });
    let mut retry = vec![0, 12];
    retry.extend(filler(12, 0x20));
    out.push(Crafted {
        name: "ext-ech-retry_configs",
        title: "encrypted_client_hello extension (RFC 9849 §5) of EncryptedExtensions: retry configs, kept raw",
        params: "parse=Extension msg=encrypted_extensions side=s",
        bytes: ext(ExtensionBodyOwned::EncryptedClientHello(
            EncryptedClientHelloOwned {
                ech: EncryptedClientHelloEchOwned::Unknown {
                    tag: ee,
                    body: retry,
                },
            },
        ))
        .to_bytes(ee)?,
    });

    // RFC 8449 §4: record_size_limit (28) in a TLS 1.3 server's EncryptedExtensions.
    out.push(Crafted {
        name: "ext-record_size_limit",
        title: "record_size_limit extension (RFC 8449 §4) of EncryptedExtensions: 16385 bytes",
        params: "parse=Extension msg=encrypted_extensions side=s",
        bytes: ext(ExtensionBodyOwned::RecordSizeLimit(RecordSizeLimitOwned {
            limit: 0x4001,
        }))
        .to_bytes(ee)?,
    });

    // RFC 6066 §3: a server acknowledging SNI with an empty body; an unassigned code point.
    out.push(Crafted {
        name: "ext-server_name-ack",
        title: "server_name extension (RFC 6066 §3) of a ServerHello: the empty acknowledgement",
        params: "parse=Extension msg=server_hello side=s",
        bytes: ext(ExtensionBodyOwned::ServerName(None)).to_bytes(sh)?,
    });
    out.push(Crafted {
        name: "ext-unknown",
        title: "an extension with an unassigned code point (0x1234) and a 3-byte body",
        params: "parse=Extension msg=client_hello side=c",
        bytes: ext(ExtensionBodyOwned::Unknown {
            tag: ExtensionType(0x1234),
            body: b"abc".to_vec(),
        })
        .to_bytes(ch)?,
    });

    // TLS 1.3 draft ServerHellos, one per layout Zeek tells apart by the version field
    // (tls-handshake-protocol.pac, ServerHelloChoice): 0x7fNN or 0x0304 there means no session
    // id and no compression method; anything else is the TLS 1.2 layout, which drafts 22 and
    // later returned to (0x0303 there, the draft number in supported_versions).
    //
    // Firefox 52 speaking draft 16 (0x7f10) to a server that accepts it: key_share still has
    // its draft code point 40 and carries the server's X25519 share.
    out.push(Crafted {
        name: "server_hello-tls13-draft16",
        title: "TLS 1.3 draft-16 ServerHello (draft-ietf-tls-tls13-16 §4.1.3): no session id, no compression, key_share (40) x25519",
        params: "parse=Handshake side=s record_version=0x0303 version=0x7f10 cipher=0x1301",
        bytes: draft_server_hello(0x7F10, Some(vec![key_share_40()]))?,
    });
    // The draft layout's extension block is optional (Zeek reads one only if bytes remain).
    out.push(Crafted {
        name: "server_hello-tls13-draft16-no_extensions",
        title: "TLS 1.3 draft-16 ServerHello ending after its cipher suite: no extension block",
        params: "parse=Handshake side=s record_version=0x0303 version=0x7f10 cipher=0x1301",
        bytes: draft_server_hello(0x7F10, None)?,
    });
    // 0x0304, the number the drafts' own text gives TLS 1.3: the draft layout too.
    out.push(Crafted {
        name: "server_hello-tls13-0x0304",
        title: "TLS 1.3 ServerHello with 0x0304 in its version field: the draft layout, as Zeek reads it",
        params: "parse=Handshake side=s record_version=0x0303 version=0x0304 cipher=0x1301",
        bytes: draft_server_hello(0x0304, Some(vec![key_share_40()]))?,
    });
    // Any draft number selects the draft layout, also one past 21 (which real draft-22+
    // servers never put there): Zeek looks at the first byte only.
    out.push(Crafted {
        name: "server_hello-tls13-0x7f17",
        title: "TLS 1.3 ServerHello with draft 23's number (0x7f17) in its version field: the draft layout, as Zeek reads it",
        params: "parse=Handshake side=s record_version=0x0303 version=0x7f17 cipher=0x1301",
        bytes: draft_server_hello(0x7F17, Some(vec![key_share_40()]))?,
    });
    // Draft 23 (Chrome 67 era): the TLS 1.2 layout with the client's 32-byte session id
    // echoed, the draft number in supported_versions (43) and key_share at its final code
    // point 51.
    let versions = ext(ExtensionBodyOwned::SupportedVersions(
        SupportedVersionsOwned {
            versions: SupportedVersionsVersionsOwned::Server(SupportedVersionsServerHelloOwned {
                selected_version: [ProtocolVersion(0x7F17)],
            }),
        },
    ));
    out.push(Crafted {
        name: "server_hello-tls13-draft23",
        title: "TLS 1.3 draft-23 ServerHello (draft-ietf-tls-tls13-23 §4.1.3): legacy 0x0303, session id, supported_versions 0x7f17",
        params: "parse=Handshake side=s record_version=0x0303 version=0x7f17 cipher=0x1301",
        bytes: handshake(HandshakeMessageBodyOwned::ServerHello(ServerHelloOwned {
            server_version: ProtocolVersion(0x0303),
            hello: ServerHelloHelloOwned::Classic(ServerHelloClassicOwned {
                random: filler32(0x10),
                session_id: filler(32, 0xE0),
                cipher_suite: CipherSuite(0x1301),
                compression_method: 0,
                extensions: Some(ExtensionsOwned {
                    extensions: vec![versions, ext(x25519_share())],
                    ..Default::default()
                }),
                ..Default::default()
            }),
        }))?,
    });
    Ok(out)
}

/// The fixture file text: title, params, hex in lines of 32 bytes.
fn file_text(c: &Crafted) -> String {
    let mut s = format!("# {}\n# params: {}\n", c.title, c.params);
    for line in c.bytes.chunks(32) {
        s.push_str(&pac_tests::roundtrip::hex(line));
        s.push('\n');
    }
    s
}

#[test]
fn crafted_fixtures_are_what_the_encoders_build() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/crafted");
    let all = fixtures().unwrap_or_else(|e| panic!("a crafted fixture does not encode: {e}"));
    let write = std::env::var_os("PAC_WRITE_CRAFTED").is_some();
    let mut differ = Vec::new();
    for c in &all {
        let path = dir.join(format!("{}.hex", c.name));
        let want = file_text(c);
        if write {
            std::fs::write(&path, &want).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have != want {
            differ.push(format!("{}:\n  file:  {have:?}\n  built: {want:?}", c.name));
        }
    }
    assert!(
        differ.is_empty(),
        "crafted fixtures differ from what the encoders build (PAC_WRITE_CRAFTED=1 rewrites them):\n{}",
        differ.join("\n")
    );
    // Every .hex file of the directory is built here.
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/crafted exists")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".hex")
                .map(String::from)
        })
        .collect();
    files.sort();
    let mut built: Vec<String> = all.iter().map(|c| c.name.to_string()).collect();
    built.sort();
    assert_eq!(files, built, "every crafted fixture is built by this test");
}
