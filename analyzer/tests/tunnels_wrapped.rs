//! Our captures wrapped in every tunnel (`tests/captures/tunnels/`, made by
//! `scripts/wrap-in-tunnels.py` with scapy): the inner analysis must be exactly what it is
//! without the tunnel. For each wrapped capture the events (JSON Lines and text) and ssl.log
//! (TSV, header lines included) are compared byte for byte with those of its baseline, the
//! original capture (or its IPv6 copy for 6in4, 6in6 and Teredo), under the same uid seed:
//! tunnels draw their uids from a generator of their own, so the inner connections keep theirs.
//! tunnel.log of each is checked too: every level of encapsulation is discovered, with the type
//! the file name says, and UDP tunnels are closed at the end.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::path::{Path, PathBuf};

use tls_analyzer::capture::Input;
use tls_analyzer::run::{run_with_logs, EventFormat, LogFormat, OtherLogs, Outputs, RunOptions};

const SEED: u64 = 1;

fn captures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/captures")
}

/// Events (JSON and text), ssl.log and tunnel.log of one capture.
struct Run {
    json: String,
    text: String,
    ssl: String,
    tunnel: String,
}

fn run(path: &Path) -> Run {
    let input = [Input::Path(path.to_path_buf())];
    let mut opts = RunOptions::default();
    opts.capture.seed = Some(SEED);
    let (mut json, mut ssl, mut tunnel, mut text) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    run_with_logs(
        &input,
        &opts,
        Outputs {
            events: Some((EventFormat::Json, &mut json)),
            log: Some((LogFormat::Tsv, &mut ssl)),
        },
        OtherLogs {
            tunnel: Some((LogFormat::Tsv, &mut tunnel)),
            ..OtherLogs::default()
        },
    )
    .unwrap();
    run_with_logs(
        &input,
        &opts,
        Outputs {
            events: Some((EventFormat::Text, &mut text)),
            log: None,
        },
        OtherLogs::default(),
    )
    .unwrap();
    let s = |b: Vec<u8>| String::from_utf8(b).unwrap();
    Run {
        json: s(json),
        text: s(text),
        ssl: s(ssl),
        tunnel: s(tunnel),
    }
}

/// (wrapped capture, its baseline, the tunnel's name).
fn wrapped() -> Vec<(PathBuf, PathBuf, String)> {
    let dir = captures_dir().join("tunnels");
    let mut v = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        if name.ends_with("-ipv6") {
            continue;
        }
        let (base, tunnel) = if let Some((b, t)) = name.split_once("-ipv6-") {
            (dir.join(format!("{b}-ipv6.pcap")), t.to_string())
        } else {
            let (b, t) = name.split_once('-').unwrap();
            (captures_dir().join(format!("{b}.pcap")), t.to_string())
        };
        v.push((p, base, tunnel));
    }
    v.sort();
    v
}

/// The tunnel types tunnel.log must show for a wrapping, outermost first.
fn expected_types(tunnel: &str) -> &'static [&'static str] {
    match tunnel {
        "ipip" | "ipip-v6outer" => &["Tunnel::IP"],
        "gre" | "gre-keyseq" | "pptp" | "gre-teb" | "erspan1" | "erspan2" | "erspan3"
        | "gre-udp" => &["Tunnel::GRE"],
        "gre-in-gre" => &["Tunnel::GRE", "Tunnel::GRE"],
        "vxlan" => &["Tunnel::VXLAN"],
        "geneve" | "geneve-eth" => &["Tunnel::GENEVE"],
        "gtp" => &["Tunnel::GTPv1"],
        "ayiya" => &["Tunnel::AYIYA"],
        "teredo" => &["Tunnel::TEREDO"],
        "nested" => &["Tunnel::IP", "Tunnel::GRE", "Tunnel::VXLAN"],
        other => panic!("no expectation for tunnel {other}"),
    }
}

fn rows(log: &str) -> Vec<Vec<String>> {
    log.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

#[test]
fn wrapped_captures_analyse_as_the_unwrapped_ones() {
    let all = wrapped();
    // tls13 and dtls12 in the 17 tunnels that carry IPv4 (all but Teredo), and their IPv6
    // copies in 4 (6in4, 6in6, Teredo, VXLAN).
    assert_eq!(all.len(), 2 * 17 + 2 * 4, "{all:?}");
    let mut failures = Vec::new();
    for (path, base, tunnel) in &all {
        let (w, b) = (run(path), run(base));
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(
            b.json.contains("ssl_client_hello") && !b.ssl.is_empty(),
            "{name}: the baseline analyses nothing"
        );
        for (what, got, want) in [
            ("events (JSON)", &w.json, &b.json),
            ("events (text)", &w.text, &b.text),
            ("ssl.log", &w.ssl, &b.ssl),
        ] {
            if got != want {
                failures.push(format!("{name}: {what} differ from {}", base.display()));
            }
        }
        // tunnel.log: the baseline has none; the wrapped capture discovers each level.
        assert!(b.tunnel.is_empty(), "{name}: baseline has tunnels");
        let r = rows(&w.tunnel);
        let discovered: Vec<&str> = r
            .iter()
            .filter(|r| r[7] == "Tunnel::DISCOVER")
            .map(|r| r[6].as_str())
            .collect();
        // The first packet discovers every level, outermost first; the first reply discovers
        // the other direction's outer flow of a UDP tunnel (its own source port).
        let mut want: Vec<&str> = expected_types(tunnel).to_vec();
        let udp = !matches!(want.last(), Some(&"Tunnel::IP") | Some(&"Tunnel::GRE"));
        if udp {
            want.extend(want.last().copied());
        }
        if discovered != want {
            failures.push(format!("{name}: tunnel.log discovers {discovered:?}"));
        }
        // UDP tunnels (ports other than 0) end with their outer flows: one CLOSE per DISCOVER.
        for d in r
            .iter()
            .filter(|r| r[7] == "Tunnel::DISCOVER" && r[3] != "0")
        {
            let closes = r
                .iter()
                .filter(|c| c[7] == "Tunnel::CLOSE" && c[1] == d[1] && c[2..6] == d[2..6])
                .count();
            if closes != 1 {
                failures.push(format!("{name}: {d:?} closed {closes} times"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// With decapsulation off (`--tunnel-max-depth 0`), a wrapped capture shows nothing of its
/// inner TLS, which proves the equality above comes from decapsulation.
#[test]
fn without_decapsulation_the_inner_tls_is_not_seen() {
    let path = captures_dir().join("tunnels/tls13-vxlan.pcap");
    let input = [Input::Path(path)];
    let mut opts = RunOptions::default();
    opts.capture.seed = Some(SEED);
    opts.capture.tunnel_max_depth = 0;
    let mut json = Vec::new();
    run_with_logs(
        &input,
        &opts,
        Outputs {
            events: Some((EventFormat::Json, &mut json)),
            log: None,
        },
        OtherLogs::default(),
    )
    .unwrap();
    assert!(!String::from_utf8(json)
        .unwrap()
        .contains("ssl_client_hello"));
}

/// Too deep: with a maximum of 2, the third level of `nested` (VXLAN in GRE in IP-in-IP) is
/// dropped with Zeek's weird, and the inner TLS is not analysed.
#[test]
fn beyond_the_maximum_depth_packets_are_dropped_with_a_weird() {
    let path = captures_dir().join("tunnels/tls13-nested.pcap");
    let input = [Input::Path(path)];
    let mut opts = RunOptions::default();
    opts.capture.seed = Some(SEED);
    opts.capture.tunnel_max_depth = 2;
    let mut json = Vec::new();
    run_with_logs(
        &input,
        &opts,
        Outputs {
            events: Some((EventFormat::Json, &mut json)),
            log: None,
        },
        OtherLogs::default(),
    )
    .unwrap();
    let json = String::from_utf8(json).unwrap();
    assert!(!json.contains("ssl_client_hello"));
    assert!(
        json.contains("exceeded_tunnel_max_depth_in_tunnel"),
        "{json}"
    );
}

/// Sharded over threads (`--threads`), every engine decapsulates and the inner connections
/// are shared out as usual: the same events as the unwrapped capture.
#[test]
fn sharded_runs_decapsulate_too() {
    for name in [
        "tls13-nested.pcap",
        "dtls12-vxlan.pcap",
        "tls13-ipv6-teredo.pcap",
    ] {
        let path = captures_dir().join("tunnels").join(name);
        let base = match name.split_once("-ipv6-") {
            Some((b, _)) => captures_dir().join(format!("tunnels/{b}-ipv6.pcap")),
            None => captures_dir().join(format!("{}.pcap", name.split_once('-').unwrap().0)),
        };
        let mut opts = RunOptions::default();
        opts.capture.seed = Some(SEED);
        opts.threads = 3;
        let mut json = Vec::new();
        run_with_logs(
            &[Input::Path(path)],
            &opts,
            Outputs {
                events: Some((EventFormat::Json, &mut json)),
                log: None,
            },
            OtherLogs::default(),
        )
        .unwrap();
        assert_eq!(String::from_utf8(json).unwrap(), run(&base).json, "{name}");
    }
}
