//! Support for the fingerprint tests: our ssl.log rows with fingerprint columns, and tshark's
//! JA3/JA3S per connection.
//!
//! In: a capture. Out: per connection (keyed without orientation, see [`ConnPair`]) the
//! fingerprint texts of our ssl.log row ([`ours`]) or the last JA3/JA3S tshark computed on it
//! ([`tshark_ja3`]: `tls.handshake.ja3`, `tls.handshake.ja3s` and the `dtls.` ones, read with
//! `-T fields`). The first value, because ssl.log keeps the first hello's (after a
//! HelloRetryRequest or a DTLS cookie exchange the client hello is sent again).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use tls_analyzer::capture::Input;
use tls_analyzer::fingerprint::FingerprintSet;
use tls_analyzer::run::{run, LogFormat, Outputs, RunOptions};

use crate::tshark::{TsharkError, TSHARK_ENV};

/// A connection without orientation: its two endpoints, sorted. (ssl.log has no transport
/// column; a TCP and a UDP connection with the same endpoints do not occur in the captures.)
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnPair {
    /// The smaller endpoint (address text, port).
    pub a: (String, u16),
    /// The other endpoint.
    pub b: (String, u16),
}

impl ConnPair {
    /// The pair of `x` and `y`.
    pub fn new(x: (String, u16), y: (String, u16)) -> Self {
        let (a, b) = if x <= y { (x, y) } else { (y, x) };
        ConnPair { a, b }
    }

    /// The connection of an ssl.log JSON row.
    pub fn of_row(row: &Value) -> Option<Self> {
        let (o, r) = row_endpoints(row)?;
        Some(ConnPair::new(o, r))
    }
}

/// Runs our analyzer on `capture` with the fingerprint columns `set` and returns its ssl.log
/// rows as JSON objects.
pub fn ours(capture: &Path, set: FingerprintSet) -> Result<Vec<Value>, String> {
    let mut opts = RunOptions::default();
    opts.capture.seed = Some(1);
    opts.log_columns.fingerprints = set;
    opts.ssl.hello_views = true;
    let mut out = Vec::new();
    let outputs = Outputs {
        events: None,
        log: Some((LogFormat::Json, &mut out)),
    };
    let input = [Input::Path(capture.to_path_buf())];
    // A truncated capture still yields the rows before the cut.
    let _ = run(&input, &opts, outputs);
    let text = String::from_utf8(out).map_err(|e| format!("ssl.log is not UTF-8: {e}"))?;
    text.lines()
        .map(|l| serde_json::from_str(l).map_err(|e| format!("bad ssl.log line {l}: {e}")))
        .collect()
}

/// The endpoints of an ssl.log JSON row.
pub fn row_endpoints(row: &Value) -> Option<((String, u16), (String, u16))> {
    let h = |k: &str| row.get(k).and_then(Value::as_str).map(str::to_owned);
    let p = |k: &str| {
        row.get(k)
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
    };
    Some((
        (h("id.orig_h")?, p("id.orig_p")?),
        (h("id.resp_h")?, p("id.resp_p")?),
    ))
}

/// tshark's first JA3 and JA3S per connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TsharkJa3 {
    /// The first `ja3` of the connection.
    pub ja3: Option<String>,
    /// The first `ja3s`.
    pub ja3s: Option<String>,
}

/// Runs tshark on `capture` and collects the JA3/JA3S values per connection.
pub fn tshark_ja3(capture: &Path) -> Result<BTreeMap<ConnPair, TsharkJa3>, TsharkError> {
    let bin = std::env::var(TSHARK_ENV).unwrap_or_else(|_| "tshark".into());
    let fields = [
        "ip.src",
        "ip.dst",
        "ipv6.src",
        "ipv6.dst",
        "tcp.srcport",
        "tcp.dstport",
        "udp.srcport",
        "udp.dstport",
        "tls.handshake.ja3",
        "tls.handshake.ja3s",
        "dtls.handshake.ja3",
        "dtls.handshake.ja3s",
    ];
    let mut cmd = Command::new(&bin);
    cmd.args(["-n", "-r"]).arg(capture).args([
        "-o",
        "tcp.desegment_tcp_streams:TRUE",
        "-Y",
        "tls.handshake.ja3 || tls.handshake.ja3s || dtls.handshake.ja3 || dtls.handshake.ja3s",
        "-T",
        "fields",
        "-E",
        "separator=\t",
        // The innermost IP header of a tunnelled packet (and the last hello of a packet, which
        // is the first of the connection unless a packet carries two).
        "-E",
        "occurrence=l",
    ]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = crate::tshark::output(&mut cmd)?;
    // tshark exits 2 on a capture cut short but still prints what it read.
    if !out.status.success() && out.stdout.is_empty() && !out.stderr.is_empty() {
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if !stderr.contains("cut short") && !stderr.contains("appears to have been cut") {
            return Err(TsharkError::Failed {
                status: out.status.code(),
                stderr,
            });
        }
    }
    let mut map: BTreeMap<ConnPair, TsharkJa3> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let get = |i: usize| f.get(i).copied().filter(|s| !s.is_empty());
        let (src, dst) = match (get(0), get(1), get(2), get(3)) {
            (_, _, Some(s), Some(d)) => (s, d),
            (Some(s), Some(d), _, _) => (s, d),
            _ => continue,
        };
        let port = |i: usize| get(i).and_then(|p| p.parse::<u16>().ok());
        let (sp, dp, ja3, ja3s) = match (port(4), port(5), port(6), port(7)) {
            (Some(s), Some(d), _, _) => (s, d, get(8), get(9)),
            // Over UDP: DTLS's fields, or TLS's for a QUIC hello.
            (_, _, Some(s), Some(d)) => (s, d, get(10).or(get(8)), get(11).or(get(9))),
            _ => continue,
        };
        let e = map
            .entry(ConnPair::new((src.to_owned(), sp), (dst.to_owned(), dp)))
            .or_default();
        if let (None, Some(v)) = (&e.ja3, ja3) {
            e.ja3 = Some(v.to_owned());
        }
        if let (None, Some(v)) = (&e.ja3s, ja3s) {
            e.ja3s = Some(v.to_owned());
        }
    }
    Ok(map)
}
