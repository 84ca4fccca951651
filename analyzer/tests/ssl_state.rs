//! Hand-built byte streams through `SslAnalyzer`: framing, version latching, encryption start,
//! direction flipping, alert limits, SSLv2, DTLS fragment reassembly, the events of parsed
//! messages (generated parsers and walkers) between the stateful ones; and the invariant that a
//! stream fed whole or in small pieces yields the same events, for hand-built streams and for
//! every capture of `tests/captures/`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use pac_runtime::ValueSink;
use tls_analyzer::capture::{self, ConnInfo, EndReason, FlowHandler, Input, Options, Verdict};
use tls_analyzer::ssl::{Config, Event, EventSink, SslAnalyzer, SslEvent};

/// Renders one event argument list compactly: counts in decimal, booleans as `true`/`false`,
/// strings as `#<length>` (their bytes are checked elsewhere), vectors as `[..]`, records as
/// `{..}`.
#[derive(Default)]
struct Args(String);

impl Args {
    fn sep(&mut self) {
        if !self.0.is_empty() && !self.0.ends_with(['[', '{']) {
            self.0.push(' ');
        }
    }
}

impl ValueSink for Args {
    fn field(&mut self, _name: &'static str) {}
    fn count(&mut self, v: u64) {
        self.sep();
        self.0.push_str(&v.to_string());
    }
    fn int(&mut self, v: i64) {
        self.sep();
        self.0.push_str(&v.to_string());
    }
    fn double(&mut self, v: f64) {
        self.sep();
        self.0.push_str(&v.to_string());
    }
    fn boolean(&mut self, v: bool) {
        self.sep();
        self.0.push_str(&v.to_string());
    }
    fn string(&mut self, v: &[u8]) {
        self.sep();
        self.0.push_str(&format!("#{}", v.len()));
    }
    fn time(&mut self, secs: f64) {
        self.sep();
        self.0.push_str(&secs.to_string());
    }
    fn begin_vector(&mut self) {
        self.sep();
        self.0.push('[');
    }
    fn end_vector(&mut self) {
        self.0.push(']');
    }
    fn begin_record(&mut self, _type_name: &'static str) {
        self.sep();
        self.0.push('{');
    }
    fn end_record(&mut self) {
        self.0.push('}');
    }
}

/// One `ssl_*` event as a line. The record-level events print their record version in hex,
/// which is how the traces below are easiest to read; everything else prints its arguments
/// as [`Args`] does.
fn render_ssl(s: &SslEvent<'_>) -> String {
    match *s {
        SslEvent::SslEncryptedData {
            is_client,
            record_version,
            content_type,
            length,
        }
        | SslEvent::SslPlaintextData {
            is_client,
            record_version,
            content_type,
            length,
        } => format!(
            "{} {is_client} {record_version:#06x} {content_type} {length}",
            s.name()
        ),
        _ => {
            let mut args = Args::default();
            s.visit(&mut args);
            if args.0.is_empty() {
                s.name().to_string()
            } else {
                format!("{} {}", s.name(), args.0)
            }
        }
    }
}

/// Renders every event as one line, so traces compare as plain strings.
fn render(ev: &Event<'_>) -> String {
    match ev {
        Event::Ssl(s) => render_ssl(s),
        Event::Weird { name, addl } => format!("weird {name} {addl}"),
        Event::Violation { analyzer, reason } => {
            format!("violation {} {reason}", analyzer.zeek_name())
        }
        Event::Confirmation { analyzer } => format!("confirmation {}", analyzer.zeek_name()),
        Event::Disabled { analyzer } => format!("disabled {}", analyzer.zeek_name()),
        Event::Certificate { is_client, der, .. } => {
            format!("certificate {is_client} {}", der.len())
        }
        Event::Hello { dtls, .. } => format!("hello dtls={dtls}"),
    }
}

/// Collects rendered events.
#[derive(Default)]
struct Lines(Vec<String>);

impl EventSink for Lines {
    fn event(&mut self, _ts: f64, ev: &Event<'_>) {
        self.0.push(render(ev));
    }
}

fn record(content_type: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut r = vec![content_type];
    r.extend(version.to_be_bytes());
    r.extend((body.len() as u16).to_be_bytes());
    r.extend(body);
    r
}

fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let len = (body.len() as u32).to_be_bytes();
    let mut m = vec![msg_type, len[1], len[2], len[3]];
    m.extend(body);
    m
}

fn client_hello(version: u16) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend([7u8; 32]);
    b.push(0); // session id
    b.extend([0, 2, 0x00, 0x2f]); // cipher suites
    b.extend([1, 0]); // compression methods
    handshake(1, &b)
}

fn server_hello(supported_version: Option<u16>) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend([9u8; 32]);
    b.push(0);
    b.extend([0x00, 0x2f, 0]);
    if let Some(v) = supported_version {
        b.extend([0, 6, 0, 43, 0, 2]);
        b.extend(v.to_be_bytes());
    }
    handshake(2, &b)
}

fn certificate() -> Vec<u8> {
    let der = [0x30u8, 0x03, 1, 2, 3];
    let mut list = vec![0, 0, der.len() as u8];
    list.extend(der);
    let mut b = vec![0, 0, list.len() as u8];
    b.extend(list);
    handshake(11, &b)
}

/// One direction's bytes, in order: `(is_orig, bytes)`.
type Flow = Vec<(bool, Vec<u8>)>;

fn tls12_flow() -> Flow {
    let mut server_flight = record(22, 0x0303, &server_hello(None));
    server_flight.extend(record(
        22,
        0x0303,
        &[certificate(), handshake(14, &[])].concat(),
    ));
    let mut client_flight = record(22, 0x0303, &handshake(16, &[0, 2, 0xaa, 0xbb]));
    client_flight.extend(record(20, 0x0303, &[1]));
    client_flight.extend(record(22, 0x0303, &[0x55; 40]));
    let mut server_finish = record(20, 0x0303, &[1]);
    server_finish.extend(record(22, 0x0303, &[0x66; 40]));
    vec![
        (true, record(22, 0x0301, &client_hello(0x0303))),
        (false, server_flight),
        (true, client_flight),
        (false, server_finish),
        (true, record(23, 0x0303, &[0x77; 30])),
    ]
}

fn run(flow: &Flow, config: Config, piece: Option<usize>) -> (Vec<String>, SslAnalyzer) {
    let mut a = SslAnalyzer::new(config);
    let mut sink = Lines::default();
    for (i, (is_orig, bytes)) in flow.iter().enumerate() {
        match piece {
            None => a.deliver(*is_orig, i as f64, bytes, &mut sink),
            Some(n) => {
                for chunk in bytes.chunks(n) {
                    a.deliver(*is_orig, i as f64, chunk, &mut sink);
                }
            }
        }
        // Each element of a flow is one packet.
        a.end_of_packet(&mut sink);
    }
    (sink.0, a)
}

fn keep_going() -> Config {
    Config {
        disable_analyzer_after_detection: false,
        ..Config::default()
    }
}

#[test]
fn tls12_handshake_events_in_zeek_order() {
    let (events, a) = run(&tls12_flow(), keep_going(), None);
    let expected = [
        "confirmation Analyzer::ANALYZER_SSL",
        // version, record_version, possible_ts (the random's first 4 bytes), the other 28
        // random bytes, the zero-padded session id, ciphers, compression methods.
        "ssl_client_hello 771 769 117901063 #28 #32 [47] [0]",
        "ssl_handshake_message true 1 41",
        "ssl_plaintext_data true 0x0301 22 45",
        "ssl_server_hello 771 771 151587081 #32 #32 47 0",
        "ssl_handshake_message false 2 38",
        "ssl_plaintext_data false 0x0303 22 42",
        "certificate false 5",
        "ssl_handshake_message false 11 11",
        "ssl_handshake_message false 14 0",
        "ssl_plaintext_data false 0x0303 22 19",
        // TLS_RSA_WITH_AES_128_CBC_SHA: the whole ClientKeyExchange body, length prefix included.
        "ssl_rsa_client_pms #4",
        "ssl_handshake_message true 16 4",
        "ssl_plaintext_data true 0x0303 22 8",
        "ssl_change_cipher_spec true",
        "ssl_plaintext_data true 0x0303 20 1",
        "ssl_encrypted_data true 0x0303 22 40",
        "ssl_change_cipher_spec false",
        "ssl_plaintext_data false 0x0303 20 1",
        "ssl_established",
        "ssl_encrypted_data false 0x0303 22 40",
        "ssl_encrypted_data true 0x0303 23 30",
    ];
    assert_eq!(events, expected);
    assert!(a.established());
    assert_eq!(a.negotiated_version(), Some(0x0303));
    assert_eq!(a.chosen_cipher(), Some(0x002f));
    assert_eq!(a.record_layer_version(), 0x0301);
    assert!(!a.is_done());
}

#[test]
fn whole_and_bytewise_feeding_give_identical_events() {
    let flow = tls12_flow();
    let (whole, _) = run(&flow, keep_going(), None);
    for n in [1, 2, 3, 5, 7, 13] {
        let (pieces, _) = run(&flow, keep_going(), Some(n));
        assert_eq!(pieces, whole, "pieces of {n} bytes");
    }
}

#[test]
fn analyzer_stops_after_established_by_default_but_finishes_the_delivery() {
    let mut flow = tls12_flow();
    // Two ciphertext records in the delivery that establishes the connection.
    if let Some((_, last_server)) = flow.get_mut(3) {
        last_server.extend(record(23, 0x0303, &[1; 10]));
    }
    let (events, a) = run(&flow, Config::default(), None);
    assert!(a.is_done());
    let tail: Vec<&str> = events.iter().rev().take(4).map(String::as_str).collect();
    assert_eq!(
        tail,
        [
            "disabled Analyzer::ANALYZER_SSL",
            "ssl_encrypted_data false 0x0303 23 10",
            "ssl_encrypted_data false 0x0303 22 40",
            "ssl_established"
        ]
    );
    assert!(
        !events.iter().any(|e| e.contains("true 0x0303 23 30")),
        "nothing after removal"
    );
}

/// Zeek removes the analyzer after the packet's events are processed, so every delivery of
/// the packet that established the connection (a packet can release buffered out-of-order
/// segments: several deliveries, one timestamp) is still analysed; the next packet is not.
#[test]
fn removal_takes_effect_with_the_next_packet_not_the_next_delivery() {
    let flow = tls12_flow();
    let mut a = SslAnalyzer::new(Config::default());
    let mut sink = Lines::default();
    for (i, (is_orig, bytes)) in flow.iter().take(4).enumerate() {
        a.deliver(*is_orig, i as f64, bytes, &mut sink);
    }
    // Packet 3 established the connection; a second delivery of that packet still counts.
    assert!(a.removal_pending() && !a.is_done());
    a.deliver(false, 3.0, &record(23, 0x0303, &[2; 12]), &mut sink);
    // The next packet finds the analyzer removed.
    a.deliver(true, 4.0, &record(23, 0x0303, &[3; 14]), &mut sink);
    assert!(a.is_done() && !a.removal_pending());
    let tail: Vec<&str> = sink.0.iter().rev().take(3).map(String::as_str).collect();
    assert_eq!(
        tail,
        [
            "disabled Analyzer::ANALYZER_SSL",
            "ssl_encrypted_data false 0x0303 23 12",
            "ssl_encrypted_data false 0x0303 22 40",
        ]
    );
}

#[test]
fn removal_after_established_can_wait_for_encrypted_records() {
    // tls12_flow has 3 ciphertext records: the client Finished (before ssl_established), the
    // server Finished, and one application-data record of the client.
    let mut flow = tls12_flow();
    flow.push((true, record(23, 0x0303, &[0x78; 31])));
    flow.push((false, record(23, 0x0303, &[0x79; 32])));
    let encrypted = |events: &[String]| {
        events
            .iter()
            .filter(|e| e.starts_with("ssl_encrypted_data"))
            .count()
    };
    for (min, seen) in [(0, 2), (1, 2), (2, 2), (3, 3), (4, 4), (9, 5)] {
        let config = Config {
            min_encrypted_data_before_disable: min,
            ..Config::default()
        };
        let (events, a) = run(&flow, config, None);
        assert_eq!(encrypted(&events), seen, "min {min}");
        let disabled = events.iter().filter(|e| e.starts_with("disabled")).count();
        // With more records asked for than the flow has, the analyzer is never removed.
        assert_eq!(
            (disabled, a.is_done()),
            if min == 9 { (0, false) } else { (1, true) }
        );
        if disabled == 1 {
            assert!(events.last().is_some_and(|e| e.starts_with("disabled")));
        }
    }
    // Without the stop after detection the count changes nothing.
    let config = Config {
        min_encrypted_data_before_disable: 1,
        ..keep_going()
    };
    let (events, a) = run(&flow, config, None);
    assert_eq!(encrypted(&events), 5);
    assert!(!a.is_done());
}

#[test]
fn confirmation_once_and_disabled_only_on_removal() {
    // Two ClientHellos (renegotiation): Zeek confirms an analyzer once.
    let flow: Flow = vec![
        (true, record(22, 0x0301, &client_hello(0x0303))),
        (true, record(22, 0x0303, &client_hello(0x0303))),
    ];
    let (events, a) = run(&flow, Config::default(), None);
    let confirmations = events
        .iter()
        .filter(|e| e.starts_with("confirmation"))
        .count();
    assert_eq!(confirmations, 1);
    assert!(!events.iter().any(|e| e.starts_with("disabled")));
    assert!(!a.is_done());

    // A violation removes the analyzer (one `disabled`, after the violation) unless configured
    // not to.
    let mut client = record(22, 0x0301, &client_hello(0x0303));
    client.extend(b"GET / HTTP/1.1\r\n");
    let flow: Flow = vec![(true, client)];
    let (events, _) = run(&flow, Config::default(), None);
    let n = events.len();
    assert!(n >= 2);
    assert!(events[n - 2].starts_with("violation"));
    assert_eq!(events[n - 1], "disabled Analyzer::ANALYZER_SSL");
    let config = Config {
        disable_analyzer_after_violation: false,
        ..Config::default()
    };
    let (events, _) = run(&flow, config, None);
    assert!(!events.iter().any(|e| e.starts_with("disabled")));
}

#[test]
fn client_hello_from_responder_flips_the_connection() {
    let flow: Flow = vec![
        (false, record(22, 0x0301, &client_hello(0x0303))),
        (true, record(22, 0x0303, &server_hello(None))),
    ];
    let (events, a) = run(&flow, Config::default(), None);
    assert!(a.flipped());
    assert_eq!(events[0], "ssl_connection_flipped");
    assert!(events.contains(&"ssl_handshake_message true 1 41".to_string()));
    assert!(events.contains(&"ssl_plaintext_data false 0x0303 22 42".to_string()));

    // A second ClientHello from the other side flips back, with one weird.
    let mut flow = flow;
    flow.push((true, record(22, 0x0303, &client_hello(0x0303))));
    flow.push((false, record(22, 0x0303, &client_hello(0x0303))));
    let (events, a) = run(&flow, Config::default(), None);
    let flips = events
        .iter()
        .filter(|e| *e == "ssl_connection_flipped")
        .count();
    let weirds = events
        .iter()
        .filter(|e| e.starts_with("weird SSL_unclear_connection_direction"))
        .count();
    assert_eq!((flips, weirds), (3, 1));
    assert!(a.flipped());
}

#[test]
fn tls13_encryption_starts_with_application_data_and_ignores_ccs() {
    let mut server = record(22, 0x0303, &server_hello(Some(0x0304)));
    server.extend(record(20, 0x0303, &[1]));
    server.extend(record(23, 0x0303, &[0; 50]));
    let mut client = record(20, 0x0303, &[1]);
    client.extend(record(23, 0x0303, &[0; 20]));
    let flow: Flow = vec![
        (true, record(22, 0x0301, &client_hello(0x0303))),
        (false, server),
        (true, client),
    ];
    let (events, a) = run(&flow, Config::default(), None);
    assert_eq!(a.negotiated_version(), Some(0x0304));
    let tail: Vec<&str> = events.iter().skip(4).map(String::as_str).collect();
    assert_eq!(
        tail,
        [
            "ssl_extension_supported_versions false [772]",
            "ssl_extension false 43 #2",
            "ssl_server_hello 771 771 151587081 #32 #32 47 0",
            "ssl_handshake_message false 2 46",
            "ssl_plaintext_data false 0x0303 22 50",
            "ssl_change_cipher_spec false",
            "ssl_plaintext_data false 0x0303 20 1",
            "ssl_probable_encrypted_handshake_message false 50",
            "ssl_encrypted_data false 0x0303 23 50",
            "ssl_change_cipher_spec true",
            "ssl_plaintext_data true 0x0303 20 1",
            "ssl_probable_encrypted_handshake_message true 20",
            "ssl_established",
            "ssl_encrypted_data true 0x0303 23 20",
            "disabled Analyzer::ANALYZER_SSL",
        ]
    );
    assert!(a.is_done());
}

#[test]
fn late_invalid_version_is_a_violation_and_stops_parsing() {
    let mut client = record(22, 0x0301, &client_hello(0x0303));
    client.extend(b"GET / HTTP/1.1\r\n");
    let flow: Flow = vec![
        (true, client),
        (false, record(22, 0x0303, &server_hello(None))),
    ];
    let (events, a) = run(&flow, Config::default(), Some(1));
    let tail: Vec<&str> = events
        .iter()
        .rev()
        .take(2)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        [
            "violation Analyzer::ANALYZER_SSL Invalid version late in TLS connection. Packet reported version: 17748",
            "disabled Analyzer::ANALYZER_SSL",
        ]
    );
    assert!(a.is_done());
}

#[test]
fn not_tls_at_all() {
    let flow: Flow = vec![(true, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec())];
    let (events, a) = run(&flow, Config::default(), None);
    assert_eq!(
        events,
        [
            "violation Analyzer::ANALYZER_SSL Invalid version in TLS connection. Version: 17748",
            "disabled Analyzer::ANALYZER_SSL",
        ]
    );
    assert!(a.is_done());
}

#[test]
fn alerts_are_capped_per_record_with_zeeks_weird() {
    let alerts: Vec<u8> = (0..12).flat_map(|i| [2u8, i]).collect();
    let flow: Flow = vec![(true, record(21, 0x0303, &alerts))];
    let (events, _) = run(&flow, Config::default(), None);
    assert_eq!(events[0], "weird SSL_excessive_alerts_in_record 12");
    assert_eq!(
        events.iter().filter(|e| e.starts_with("ssl_alert")).count(),
        10
    );
    assert_eq!(
        events.last().map(String::as_str),
        Some("ssl_plaintext_data true 0x0303 21 24")
    );
}

#[test]
fn heartbeat_and_unknown_record_type() {
    let flow: Flow = vec![
        (true, record(24, 0x0303, &[1, 0x40, 0x00, b'A', b'B'])),
        (true, record(25, 0x0303, &[0])),
    ];
    let (events, _) = run(
        &flow,
        Config {
            disable_analyzer_after_violation: false,
            ..Config::default()
        },
        None,
    );
    assert_eq!(
        events,
        [
            "ssl_heartbeat true 5 1 16384 #2",
            "ssl_plaintext_data true 0x0303 24 5",
            "violation Analyzer::ANALYZER_SSL unknown SSL record type (25) from originator",
            "ssl_plaintext_data true 0x0303 25 1",
        ]
    );
}

#[test]
fn handshake_message_split_over_records_and_bad_message_recovers() {
    let ch = client_hello(0x0303);
    let (a, b) = ch.split_at(10);
    let mut stream = record(22, 0x0301, a);
    stream.extend(record(22, 0x0301, b));
    let flow: Flow = vec![(true, stream)];
    let (events, _) = run(&flow, Config::default(), None);
    assert_eq!(
        events,
        [
            "ssl_plaintext_data true 0x0301 22 10",
            "confirmation Analyzer::ANALYZER_SSL",
            "ssl_client_hello 771 769 117901063 #28 #32 [47] [0]",
            "ssl_handshake_message true 1 41",
            "ssl_plaintext_data true 0x0301 22 35",
        ]
    );

    // A truncated certificate list: violation, no handshake_message, the rest of the handshake
    // data buffered with it is discarded (binpac), the next record's message is parsed again.
    let bad_cert = handshake(11, &[0, 0x0e, 0xef, 0]);
    let mut stream = record(22, 0x0303, &[bad_cert, vec![0xde, 0xad]].concat());
    stream.extend(record(22, 0x0303, &handshake(14, &[])));
    let flow: Flow = vec![(false, stream)];
    let (events, _) = run(&flow, Config::default(), None);
    assert_eq!(
        events,
        [
            "violation Analyzer::ANALYZER_SSL Binpac exception: binpac exception: out_of_bound: Certificate: 3826 > 4",
            "ssl_plaintext_data false 0x0303 22 10",
            "ssl_handshake_message false 14 0",
            "ssl_plaintext_data false 0x0303 22 4",
            "disabled Analyzer::ANALYZER_SSL",
        ]
    );
}

#[test]
fn sslv2_hello_master_key_establishes() {
    // SSLv2 CLIENT-HELLO: 2-byte header, msg type 1, version 2, then lengths and data.
    let mut ch_body = vec![1, 0, 2, 0, 3, 0, 0, 0, 16, 0x07, 0x00, 0xc0];
    ch_body.extend([0xab; 16]);
    let mut ch = vec![0x80 | (ch_body.len() >> 8) as u8, ch_body.len() as u8];
    ch.extend(&ch_body);
    // SSLv2 SERVER-HELLO: type 4, session-id-hit 0, cert type 1, version 2, cert, ciphers, conn id.
    let mut sh_body = vec![
        4, 0, 1, 0, 2, 0, 3, 0, 3, 0, 16, 0xaa, 0xbb, 0xcc, 0x07, 0x00, 0xc0,
    ];
    sh_body.extend([0xcd; 16]);
    let mut sh = vec![0x80 | (sh_body.len() >> 8) as u8, sh_body.len() as u8];
    sh.extend(&sh_body);
    let mk_body = [2u8, 0x07, 0x00, 0xc0, 0, 0, 0, 0, 0, 0];
    let mut mk = vec![0x80, mk_body.len() as u8];
    mk.extend(mk_body);
    let flow: Flow = vec![(true, ch), (false, sh), (true, mk)];
    let (events, a) = run(&flow, Config::default(), None);
    assert_eq!(
        events,
        [
            "confirmation Analyzer::ANALYZER_SSL",
            // SSLv2: record_version 0, no timestamp, the challenge as the random, 24-bit
            // cipher kinds, no compression methods.
            "ssl_client_hello 2 0 0 #16 #32 [458944] []",
            "ssl_plaintext_data true 0x0000 301 25",
            // The connection id stands in for the server random.
            "ssl_server_hello 2 0 0 #16 #32 458944 0",
            "certificate false 3",
            "ssl_plaintext_data false 0x0000 304 30",
            "ssl_established",
            "ssl_plaintext_data true 0x0000 302 7",
            "disabled Analyzer::ANALYZER_SSL",
        ]
    );
    assert_eq!(a.record_layer_version(), 2);
    assert!(a.is_done());
}

/// One extension: type, 16-bit length, body.
fn extension(ext_type: u16, body: &[u8]) -> Vec<u8> {
    let mut e = ext_type.to_be_bytes().to_vec();
    e.extend((body.len() as u16).to_be_bytes());
    e.extend(body);
    e
}

/// A TLS 1.2-style ClientHello carrying `extensions`.
fn client_hello_with(extensions: &[Vec<u8>]) -> Vec<u8> {
    let exts = extensions.concat();
    let mut b = vec![3, 3];
    b.extend([7u8; 32]);
    b.push(0);
    b.extend([0, 2, 0x13, 0x01]);
    b.extend([1, 0]);
    b.extend((exts.len() as u16).to_be_bytes());
    b.extend(exts);
    handshake(1, &b)
}

#[test]
fn hello_extensions_raise_their_event_then_ssl_extension_then_the_hello() {
    let mut sni = vec![0, 14, 0, 0, 11];
    sni.extend(b"example.org");
    // signature_algorithms_cert (RFC 8446 §4.2.3): ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256.
    let sig_cert = [0, 4, 0x04, 0x03, 0x08, 0x04];
    // encrypted_client_hello, outer (RFC 9849 §5): HKDF-SHA256, AES-128-GCM, config 7,
    // a 3-byte enc and a 5-byte payload.
    let ech = [
        0, 0, 1, 0, 1, 7, 0, 3, 0xe1, 0xe2, 0xe3, 0, 5, 1, 2, 3, 4, 5,
    ];
    let hello = client_hello_with(&[
        extension(0, &sni),
        extension(50, &sig_cert),
        extension(0xfe0d, &ech),
        extension(0x0a0a, &[]),
    ]);
    let flow: Flow = vec![(true, record(22, 0x0301, &hello))];
    let (events, _) = run(&flow, Config::default(), None);
    assert_eq!(
        events,
        [
            "ssl_extension_server_name true [#11]",
            "ssl_extension true 0 #16",
            "ssl_extension_signature_algorithms_cert true [1027 2052]",
            "ssl_extension true 50 #6",
            "ssl_extension_encrypted_client_hello true 1 1 7 #3 5",
            "ssl_extension true 65037 #18",
            // A GREASE extension has no event of its own.
            "ssl_extension true 2570 #0",
            "confirmation Analyzer::ANALYZER_SSL",
            "ssl_client_hello 771 769 117901063 #28 #32 [4865] [0]",
            "ssl_handshake_message true 1 99",
            "ssl_plaintext_data true 0x0301 22 103",
        ]
    );
}

/// A TLS 1.2 ECDHE_RSA ServerHello, then a ServerKeyExchange on secp256r1 signed with
/// sha256/rsa.
fn ecdhe_server_flight() -> Vec<u8> {
    let mut sh = vec![3, 3];
    sh.extend([9u8; 32]);
    sh.push(0);
    sh.extend([0xc0, 0x2f, 0]);
    let ske = [3, 0, 23, 1, 4, 4, 1, 0, 2, 0xaa, 0xbb];
    [handshake(2, &sh), handshake(12, &ske)].concat()
}

#[test]
fn server_key_exchange_and_the_retired_server_curve_only_in_compat_mode() {
    let flow: Flow = vec![
        (true, record(22, 0x0301, &client_hello(0x0303))),
        (false, record(22, 0x0303, &ecdhe_server_flight())),
    ];
    let (events, _) = run(&flow, Config::default(), None);
    let ske: Vec<&str> = events.iter().skip(6).map(String::as_str).collect();
    assert_eq!(
        ske,
        [
            "ssl_ecdh_server_params 23 #1",
            "ssl_server_signature {4 1} #2",
            "ssl_handshake_message false 12 11",
            "ssl_plaintext_data false 0x0303 22 57",
        ]
    );
    let compat = Config {
        raise_ssl_server_curve: true,
        ..Config::default()
    };
    let (events, _) = run(&flow, compat, None);
    assert_eq!(
        events.get(6).map(String::as_str),
        Some("ssl_server_curve 23")
    );
}

#[test]
fn unsupported_client_version_is_reported_before_the_hello_event_and_stops_parsing() {
    let flow: Flow = vec![
        (true, record(22, 0x0301, &client_hello(0x0305))),
        (false, record(22, 0x0303, &server_hello(None))),
    ];
    let (events, a) = run(&flow, Config::default(), None);
    assert_eq!(
        events,
        [
            "violation Analyzer::ANALYZER_SSL unsupported client SSL version 0x0305",
            "ssl_client_hello 773 769 117901063 #28 #32 [47] [0]",
            "ssl_handshake_message true 1 41",
            "ssl_plaintext_data true 0x0301 22 45",
            "disabled Analyzer::ANALYZER_SSL",
        ]
    );
    assert!(a.is_done());
}

#[test]
fn every_truncated_or_corrupted_handshake_is_a_violation_never_a_panic() {
    let flow = tls12_flow();
    let client_hello = &flow[0].1;
    // Shorten the ClientHello inside an intact record (record and message lengths adjusted),
    // so the generated parser, not the framer, meets the end: binpac's out-of-bound text, no
    // hello event, nothing else lost.
    for cut in 10..client_hello.len() {
        let mut bytes = client_hello[..cut].to_vec();
        bytes[3..5].copy_from_slice(&((cut - 5) as u16).to_be_bytes());
        bytes[6..9].copy_from_slice(&((cut - 9) as u32).to_be_bytes()[1..]);
        let (events, _) = run(&vec![(true, bytes)], Config::default(), None);
        // Binpac counts from the unit's start and checks groups of fixed-size fields at once,
        // so only the unit and the available byte count are exactly Zeek's.
        let violation = events.first().cloned().unwrap_or_default();
        let prefix = "violation Analyzer::ANALYZER_SSL Binpac exception: binpac exception: \
                      out_of_bound: ClientHello: ";
        assert!(
            violation.starts_with(prefix) && violation.ends_with(&format!(" > {}", cut - 9)),
            "cut at {cut}: {events:?}"
        );
        assert!(!events.iter().any(|e| e.starts_with("ssl_client_hello")));
    }
    // Every byte of every delivery flipped in turn: whatever happens, no panic. A flipped
    // type or version byte of the first record's header is always noticed (a flipped length
    // byte just leaves the record incomplete).
    for (i, (is_orig, bytes)) in flow.iter().enumerate() {
        for pos in 0..bytes.len() {
            let mut mutated = flow.clone();
            mutated[i] = (*is_orig, bytes.clone());
            mutated[i].1[pos] ^= 0xff;
            let (events, _) = run(&mutated, keep_going(), None);
            if i == 0 && pos < 3 {
                assert!(
                    events.iter().any(|e| e.starts_with("violation ")),
                    "header byte {pos}: {events:?}"
                );
            }
        }
    }
}

fn dtls_record(content_type: u8, epoch: u16, seq: u64, body: &[u8]) -> Vec<u8> {
    let mut r = vec![content_type, 0xfe, 0xfd];
    r.extend(epoch.to_be_bytes());
    r.extend(&seq.to_be_bytes()[2..]);
    r.extend((body.len() as u16).to_be_bytes());
    r.extend(body);
    r
}

fn dtls_fragment(
    msg_type: u8,
    total: &[u8],
    message_seq: u16,
    offset: usize,
    len: usize,
) -> Vec<u8> {
    let l = (total.len() as u32).to_be_bytes();
    let o = (offset as u32).to_be_bytes();
    let f = (len as u32).to_be_bytes();
    let mut h = vec![msg_type, l[1], l[2], l[3]];
    h.extend(message_seq.to_be_bytes());
    h.extend(&o[1..]);
    h.extend(&f[1..]);
    h.extend(&total[offset..offset + len]);
    h
}

#[test]
fn dtls_fragments_reassemble_out_of_order_and_duplicates_are_ignored() {
    let ch = client_hello(0xfefd);
    let body = &ch[4..];
    let mut body_with_cookie = body[..34].to_vec();
    body_with_cookie.push(0); // cookie length (DTLS ClientHello)
    body_with_cookie.extend(&body[34..]);
    let f1 = dtls_record(22, 0, 0, &dtls_fragment(1, &body_with_cookie, 0, 0, 20));
    let f2 = dtls_record(
        22,
        0,
        1,
        &dtls_fragment(1, &body_with_cookie, 0, 20, body_with_cookie.len() - 20),
    );
    let mut a = SslAnalyzer::new(Config::default());
    let mut sink = Lines::default();
    a.datagram(true, 1.0, &f2, &mut sink);
    a.datagram(true, 1.0, &f2, &mut sink);
    a.datagram(true, 1.0, &f1, &mut sink);
    let messages: Vec<&String> = sink
        .0
        .iter()
        .filter(|e| e.starts_with("ssl_handshake_message"))
        .collect();
    assert_eq!(messages, ["ssl_handshake_message true 1 42"]);
    assert_eq!(
        sink.0
            .iter()
            .filter(|e| e.starts_with("ssl_plaintext_data true 0xfefd 22"))
            .count(),
        3
    );
}

#[test]
fn dtls_sequence_jump_is_zeeks_window_violation_and_stun_is_skipped() {
    let body = [0u8; 0x51];
    let mut a = SslAnalyzer::new(Config::default());
    let mut sink = Lines::default();
    let mut stun = vec![0, 1, 0, 8, 0x21, 0x12, 0xa4, 0x42];
    stun.extend([0u8; 20]);
    a.datagram(true, 0.5, &stun, &mut sink);
    assert!(sink.0.is_empty(), "STUN raises nothing");
    a.datagram(
        true,
        1.0,
        &dtls_record(22, 0, 0, &dtls_fragment(1, &body, 0, 0, 0x1b)),
        &mut sink,
    );
    a.datagram(
        true,
        2.0,
        &dtls_record(22, 0, 0x80_0000, &dtls_fragment(1, &body, 0, 0x1b, 0x1b)),
        &mut sink,
    );
    assert_eq!(
        sink.0,
        [
            "ssl_plaintext_data true 0xfefd 22 39",
            "violation Analyzer::ANALYZER_DTLS DTLS handshake fragment sequence number outside reassembly window.",
            "ssl_plaintext_data true 0xfefd 22 39",
            "disabled Analyzer::ANALYZER_DTLS",
        ]
    );
    assert!(a.is_done());
}

#[test]
fn dtls13_unified_header_records_encrypt_their_direction() {
    let mut a = SslAnalyzer::new(Config::default());
    let mut sink = Lines::default();
    let sh = server_hello(Some(0xfefc));
    let mut dtls_sh = sh[..4].to_vec();
    dtls_sh.extend([0, 0, 0, 0, 0]);
    dtls_sh.extend(&sh[1..4]);
    dtls_sh.extend(&sh[4..]);
    a.datagram(false, 1.0, &dtls_record(22, 0, 0, &dtls_sh), &mut sink);
    assert_eq!(a.negotiated_version(), Some(0xfefc));
    // 0x2c: no connection id, 16-bit sequence number, length present.
    let mut unified = vec![0x2c, 0, 1, 0, 31];
    unified.extend([0u8; 31]);
    a.datagram(false, 2.0, &unified, &mut sink);
    a.datagram(true, 3.0, &unified, &mut sink);
    let tail: Vec<&str> = sink
        .0
        .iter()
        .rev()
        .take(4)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        [
            "ssl_encrypted_data false 0xfefc 23 31",
            "ssl_established",
            "ssl_encrypted_data true 0xfefc 23 31",
            "disabled Analyzer::ANALYZER_DTLS",
        ]
    );
}

/// Feeds every connection of a capture into its own analyzer (keeping it after
/// `ssl_established`, so encrypted records are compared too), TCP payload whole or in pieces of
/// `piece` bytes; collects rendered events per connection handle.
struct CaptureFeeder {
    piece: Option<usize>,
    conns: HashMap<u64, (SslAnalyzer, Lines)>,
}

impl CaptureFeeder {
    fn with(&mut self, c: &ConnInfo, f: impl FnOnce(&mut SslAnalyzer, &mut Lines)) -> Verdict {
        let (a, lines) = self
            .conns
            .entry(c.handle)
            .or_insert_with(|| (SslAnalyzer::new(keep_going()), Lines::default()));
        f(a, lines);
        if a.is_done() {
            Verdict::Stop
        } else {
            Verdict::Continue
        }
    }
}

impl FlowHandler for CaptureFeeder {
    fn tcp_data(&mut self, c: &ConnInfo, is_orig: bool, ts: f64, data: &[u8]) -> Verdict {
        let piece = self.piece;
        self.with(c, |a, lines| match piece {
            None => a.deliver(is_orig, ts, data, lines),
            Some(n) => {
                for chunk in data.chunks(n) {
                    a.deliver(is_orig, ts, chunk, lines);
                }
            }
        })
    }
    fn tcp_gap(&mut self, c: &ConnInfo, is_orig: bool, _ts: f64, len: u64) -> Verdict {
        self.with(c, |a, lines| a.gap(is_orig, len, lines))
    }
    fn udp_datagram(&mut self, c: &ConnInfo, is_orig: bool, ts: f64, data: &[u8]) -> Verdict {
        // A datagram is one unit; DTLS cannot be split.
        self.with(c, |a, lines| a.datagram(is_orig, ts, data, lines))
    }
    fn connection_end(&mut self, c: &ConnInfo, _ts: f64, _reason: EndReason) {
        if let Some((a, lines)) = self.conns.get_mut(&c.handle) {
            a.finish(lines);
        }
    }
}

fn feed_capture(path: &Path, piece: Option<usize>) -> BTreeMap<u64, Vec<String>> {
    let mut feeder = CaptureFeeder {
        piece,
        conns: HashMap::new(),
    };
    let options = Options {
        seed: Some(1),
        ..Options::default()
    };
    let result = capture::run(&[Input::Path(path.to_path_buf())], &options, &mut feeder);
    assert!(result.is_ok(), "{}: {result:?}", path.display());
    feeder
        .conns
        .into_iter()
        .map(|(handle, (_, lines))| (handle, lines.0))
        .collect()
}

#[test]
fn every_project_capture_gives_the_same_events_whole_and_in_1_byte_pieces() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/captures");
    let mut captures: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    captures.retain(|p| p.extension().is_some_and(|e| e == "pcap"));
    captures.sort();
    assert!(
        captures.len() >= 30,
        "expected the project's captures in {}",
        dir.display()
    );
    for path in &captures {
        let whole = feed_capture(path, None);
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        // Every TLS/DTLS capture shows a parsed ClientHello (proof the generated parsers ran);
        // the plain-HTTP one is the analyzer's violation instead.
        let hellos = whole
            .values()
            .flatten()
            .filter(|l| l.starts_with("ssl_client_hello"))
            .count();
        if name.starts_with("http-") {
            assert_eq!(hellos, 0, "{name}");
        } else {
            assert!(hellos > 0, "{name}: no ssl_client_hello");
        }
        let pieces = feed_capture(path, Some(1));
        assert_eq!(
            pieces, whole,
            "{name}: 1-byte pieces differ from whole segments"
        );
    }
}
