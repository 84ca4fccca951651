//! Fingerprint edge rules (JA3, JA4; JA4S in `ja4plus` builds) on hellos built byte by byte and
//! parsed with the generated `ClientHello`/`ServerHello`, plus the analyzer's hello hand-off
//! (`Event::Hello`) and the `--fingerprints` list.
//!
//! Expected hashes were computed independently (Python's hashlib over the strings written in
//! each test), and the full example of FoxIO's JA4.md is reproduced exactly.

use tls_analyzer::fingerprint::ja4::alpn_chars;
use tls_analyzer::fingerprint::{ClientHelloFingerprints, FingerprintSet, Method};
use tls_analyzer::ssl::{Config, Event, EventSink, SslAnalyzer, SslEvent};
use tls_grammar::ClientHello;

const SNI: u16 = 0x0000;
const GROUPS: u16 = 0x000a;
const POINT_FORMATS: u16 = 0x000b;
const SIGALGS: u16 = 0x000d;
const ALPN: u16 = 0x0010;
const SUPPORTED_VERSIONS: u16 = 0x002b;

fn u16s(v: &[u16]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_be_bytes()).collect()
}

fn len16(body: Vec<u8>) -> Vec<u8> {
    let mut out = u16::try_from(body.len())
        .expect("short")
        .to_be_bytes()
        .to_vec();
    out.extend(body);
    out
}

fn len8(body: Vec<u8>) -> Vec<u8> {
    let mut out = vec![u8::try_from(body.len()).expect("short")];
    out.extend(body);
    out
}

fn sni(name: &[u8]) -> (u16, Vec<u8>) {
    let mut entry = vec![0u8];
    entry.extend(len16(name.to_vec()));
    (SNI, len16(entry))
}

fn alpn(names: &[&[u8]]) -> (u16, Vec<u8>) {
    let list: Vec<u8> = names.iter().flat_map(|n| len8(n.to_vec())).collect();
    (ALPN, len16(list))
}

/// A ClientHello body (after the handshake header); `extensions: None` leaves the block out.
fn client_hello(
    version: u16,
    dtls: bool,
    ciphers: &[u16],
    extensions: Option<&[(u16, Vec<u8>)]>,
) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend([7u8; 32]);
    b.push(0); // empty session id
    if dtls {
        b.push(0); // empty cookie
    }
    b.extend(len16(u16s(ciphers)));
    b.extend([1, 0]); // null compression
    if let Some(exts) = extensions {
        let mut block = Vec::new();
        for (code, body) in exts {
            block.extend(code.to_be_bytes());
            block.extend(len16(body.clone()));
        }
        b.extend(len16(block));
    }
    b
}

fn parse(body: &[u8], dtls: bool) -> ClientHello<'_> {
    ClientHello::parse(body, dtls).expect("hello parses").0
}

#[test]
fn foxio_example_reproduced() {
    // JA4.md's example: its cipher and extension lists in their original order.
    let ciphers = [
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
        0x009c, 0x009d, 0x002f, 0x0035,
    ];
    let sigalgs = [
        0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
    ];
    let exts = vec![
        (0x001b, vec![2, 0, 2]),
        sni(b"example.com"),
        (0x0033, len16(Vec::new())),
        alpn(&[b"h2", b"http/1.1"]),
        (0x4469, Vec::new()),
        (0x0017, Vec::new()),
        (0x002d, len8(vec![1])),
        (SIGALGS, len16(u16s(&sigalgs))),
        (0x0005, vec![1, 0, 0, 0, 0]),
        (0x0023, Vec::new()),
        (0x0012, Vec::new()),
        (SUPPORTED_VERSIONS, len8(u16s(&[0x0304, 0x0303]))),
        (0xff01, vec![0]),
        (POINT_FORMATS, len8(vec![0])),
        (GROUPS, len16(u16s(&[29, 23, 24]))),
        (0x0015, vec![0; 10]),
    ];
    let body = client_hello(0x0303, false, &ciphers, Some(&exts));
    let h = parse(&body, false);
    assert_eq!(h.ja4(), "t13d1516h2_8daaf6152771_e5627efa2ab1");
    assert_eq!(h.ja4_o(), "t13d1516h2_acb858a92679_18f69afefd3d");
    assert_eq!(
        h.ja4_r(),
        "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_\
         0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_\
         0403,0804,0401,0503,0805,0501,0806,0601"
    );
    assert_eq!(
        h.ja4_ro(),
        "t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_\
         001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015_\
         0403,0804,0401,0503,0805,0501,0806,0601"
    );
}

#[test]
fn grease_is_left_out_everywhere() {
    let exts = vec![
        (0x1a1a, Vec::new()),
        (GROUPS, len16(u16s(&[0x2a2a, 29, 23]))),
        (POINT_FORMATS, len8(vec![0])),
        (SIGALGS, len16(u16s(&[0x0403, 0x0804]))),
        (SUPPORTED_VERSIONS, len8(u16s(&[0x3a3a, 0x0304, 0x0303]))),
        (0xfafa, vec![0]),
    ];
    let body = client_hello(
        0x0303,
        false,
        &[0x0a0a, 0x1301, 0xfafa, 0xc02f],
        Some(&exts),
    );
    let h = parse(&body, false);
    assert_eq!(h.ja3_string(), "771,4865-49199,10-11-13-43,29-23,0");
    // GREASE is not counted (2 ciphers, 4 extensions) nor the highest supported version.
    assert_eq!(h.ja4(), "t13i020400_c1929292aa6b_fb71836bce29");
    assert_eq!(
        h.ja4_r(),
        "t13i020400_1301,c02f_000a,000b,000d,002b_0403,0804"
    );
}

#[test]
fn no_extensions_no_sni_no_alpn() {
    let body = client_hello(0x0303, false, &[0x002f], None);
    let h = parse(&body, false);
    assert_eq!(h.ja3_string(), "771,47,,,");
    assert_eq!(h.ja3(), "fde4273625b2ac63bd01d9c500dac91b");
    assert_eq!(h.ja4(), "t12i010000_ba72b8082249_000000000000");
    // Without signature algorithms the raw form has no trailing `_`.
    assert_eq!(h.ja4_r(), "t12i010000_002f_");
}

#[test]
fn empty_cipher_list() {
    let body = client_hello(0x0301, false, &[], Some(&[sni(b"a.example")]));
    let h = parse(&body, false);
    assert_eq!(h.ja3_string(), "769,,0,,");
    // Only SNI, which the sorted extension hash leaves out: both hashes are the empty marker.
    assert_eq!(h.ja4(), "t10d000100_000000000000_000000000000");
}

#[test]
fn alpn_first_value_rules() {
    assert_eq!(alpn_chars(Some(b"h2")), ['h', '2']);
    assert_eq!(alpn_chars(Some(b"http/1.1")), ['h', '1']);
    assert_eq!(alpn_chars(Some(b"h")), ['h', 'h']);
    assert_eq!(alpn_chars(Some(b"")), ['0', '0']);
    assert_eq!(alpn_chars(None), ['0', '0']);
    // FoxIO's examples for bytes that are not ASCII alphanumeric.
    assert_eq!(alpn_chars(Some(&[0xab])), ['a', 'b']);
    assert_eq!(alpn_chars(Some(&[0xab, 0xcd])), ['a', 'd']);
    assert_eq!(alpn_chars(Some(&[0x30, 0xab])), ['3', 'b']);
    assert_eq!(alpn_chars(Some(&[0x30, 0x31, 0xab, 0xcd])), ['3', 'd']);
    assert_eq!(alpn_chars(Some(&[0x30, 0xab, 0xcd, 0x31])), ['0', '1']);

    // Through a hello: the first protocol counts, here a non-ASCII one.
    let exts = vec![alpn(&[&[0xc3, 0xa9, b'x', 0xff], b"h2"])];
    let body = client_hello(0x0303, false, &[0x1301], Some(&exts));
    assert!(parse(&body, false).ja4().starts_with("t12i0101cf_"));
}

#[test]
fn counts_cap_at_99() {
    let ciphers: Vec<u16> = (1..=150).collect();
    let exts: Vec<(u16, Vec<u8>)> = (0..120).map(|i| (0x1000 + i, Vec::new())).collect();
    let body = client_hello(0x0303, false, &ciphers, Some(&exts));
    let h = parse(&body, false);
    let ja4 = h.ja4();
    assert!(ja4.starts_with("t12i999900_"), "{ja4}");
    // Every value is still hashed: the raw form lists all 150 ciphers and 120 extensions.
    let raw = h.ja4_r();
    let parts: Vec<&str> = raw.split('_').collect();
    assert_eq!(parts[1].split(',').count(), 150);
    assert_eq!(parts[2].split(',').count(), 120);
    assert_eq!(
        h.ja3_string()
            .split(',')
            .nth(1)
            .map(|c| c.split('-').count()),
        Some(150)
    );
}

#[test]
fn dtls_hello_gets_d() {
    let exts = vec![(GROUPS, len16(u16s(&[23])))];
    let body = client_hello(0xfefd, true, &[0xc02b], Some(&exts));
    let h = parse(&body, true);
    assert_eq!(h.ja4(), "dd2i010100_648b5c445417_a8f3e973773c");
    assert_eq!(h.ja3_string(), "65277,49195,10,23,");
}

/// Records whether the analyzer handed out a parsed hello, and which hello events it raised.
#[derive(Default)]
struct Seen {
    hello_views: usize,
    client_hello_events: usize,
}

impl EventSink for Seen {
    fn event(&mut self, _ts: f64, ev: &Event<'_>) {
        match ev {
            Event::Hello { .. } => self.hello_views += 1,
            Event::Ssl(SslEvent::SslClientHello { .. }) => self.client_hello_events += 1,
            _ => {}
        }
    }
}

fn analyze(record: &[u8], hello_views: bool) -> Seen {
    let mut a = SslAnalyzer::new(Config {
        hello_views,
        ..Config::default()
    });
    let mut seen = Seen::default();
    a.deliver(true, 1.0, record, &mut seen);
    seen
}

#[test]
fn sslv2_hello_has_no_fingerprint() {
    // SSLv2 CLIENT-HELLO (2-byte header): type 1, version 0x0301, 3 cipher specs of 3 bytes, no
    // session id, a 16-byte challenge. tshark computes no JA3 for it; neither do we.
    let mut msg = vec![1, 0x03, 0x01, 0, 9, 0, 0, 0, 16];
    msg.extend([0x01, 0x00, 0x80, 0x00, 0x00, 0x2f, 0x00, 0x00, 0x35]);
    msg.extend([0x55; 16]);
    let mut record = vec![0x80 | u8::try_from(msg.len() >> 8).expect("short"), 0];
    record[1] = u8::try_from(msg.len() & 0xff).expect("byte");
    record.extend(msg);
    let seen = analyze(&record, true);
    assert_eq!(seen.client_hello_events, 1, "the SSLv2 hello is analysed");
    assert_eq!(seen.hello_views, 0);
}

#[test]
fn tls_hello_is_handed_out_only_when_asked() {
    let body = client_hello(0x0303, false, &[0x002f], None);
    let mut msg = vec![1, 0];
    msg.extend(u16::try_from(body.len()).expect("short").to_be_bytes());
    msg.extend(body);
    let mut record = vec![22, 3, 1];
    record.extend(len16(msg));
    let on = analyze(&record, true);
    assert_eq!((on.client_hello_events, on.hello_views), (1, 1));
    let off = analyze(&record, false);
    assert_eq!((off.client_hello_events, off.hello_views), (1, 0));
}

#[test]
fn fingerprint_list_parses() {
    let set = FingerprintSet::parse("ja4, ja3,ja4_ro").expect("valid");
    let cols: Vec<&str> = set.iter().map(Method::column).collect();
    assert_eq!(cols, ["ja3", "ja4", "ja4_ro"]);
    let err = FingerprintSet::parse("ja3,ja5").expect_err("unknown name");
    assert!(err.contains("ja5"), "{err}");
    assert!(FingerprintSet::parse("").expect("empty").is_empty());
}

#[test]
#[cfg(not(feature = "ja4plus"))]
fn ja4s_needs_the_feature() {
    let err = FingerprintSet::parse("ja3,ja4s").expect_err("no JA4+ in this build");
    assert!(
        err.contains("ja4plus") && err.contains("FoxIO License 1.1"),
        "{err}"
    );
}

#[test]
#[cfg(feature = "ja4plus")]
fn ja4s_server_hello() {
    use tls_analyzer::fingerprint::ja4::Transport;
    use tls_analyzer::fingerprint::ja4plus::ja4s;
    use tls_grammar::ServerHello;
    // TLS 1.2 ServerHello: c030, extensions 0005, 0017, ff01, 0000 (JA4S.md's example).
    let mut b = vec![0x03, 0x03];
    b.extend([9u8; 32]);
    b.push(0);
    b.extend([0xc0, 0x30, 0]);
    let mut block = Vec::new();
    for (code, body) in [
        (0x0005u16, vec![]),
        (0x0017, vec![]),
        (0xff01, vec![0]),
        (0, vec![]),
    ] {
        block.extend(code.to_be_bytes());
        block.extend(len16(body));
    }
    b.extend(len16(block));
    let (h, _) = ServerHello::parse(&b).expect("server hello parses");
    assert_eq!(ja4s(&h, Transport::Tcp, false), "t120400_c030_4e8089b08790");
    assert_eq!(
        ja4s(&h, Transport::Tcp, true),
        "t120400_c030_0005,0017,ff01,0000"
    );
    assert_eq!(
        ja4s(&h, Transport::Dtls, false),
        "d120400_c030_4e8089b08790"
    );
}
