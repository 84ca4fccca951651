//! JA4 (and, in `ja4plus` builds, JA4S) against FoxIO's reference implementation, on FoxIO's
//! own captures (`../shared/conformance/ja4/`: each `CAPTURE.expected.json` lists one JSON
//! object per handshake with the values FoxIO's `rust/ja4` printed; see that directory's README).
//!
//! Every handshake must match, over TCP and in QUIC (`transport: udp`, JA4's `q`), unless
//! `tests/conformance/deviations.toml` has a `[[deviation]]` with `source = "foxio ja4"`
//! covering it (selectors `capture`, `connection` as `src:src_port > dst:dst_port`, `field` =
//! `ja4`/`ja4s`/`server_name`). A QUIC handshake must also have its ssl.log row with FoxIO's
//! `tls_server_name` as `server_name`. Captures are found by their `.expected.json` files, so
//! new ones are picked up; a capture without one is ignored.
//!
//! Skips visibly when the corpus is absent (`pac_no_conformance`, or at run time).

use std::path::{Path, PathBuf};

use pac_tests::conformance::corpus;
use pac_tests::fingerprints::{ours, ConnPair};
use serde_json::Value;
use tls_analyzer::fingerprint::{FingerprintSet, Method};

/// A deviation entry for this corpus.
#[derive(Debug)]
struct Deviation {
    capture: String,
    connection: Option<String>,
    field: Option<String>,
}

/// Glob with `*` only, as deviations.toml uses it.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let Some((first, rest)) = parts.split_first() else {
        return text.is_empty();
    };
    let Some(mut t) = text.strip_prefix(first) else {
        return false;
    };
    for (i, p) in rest.iter().enumerate() {
        if i + 1 == rest.len() {
            return t.ends_with(p);
        }
        match t.find(p) {
            Some(at) => t = &t[at + p.len()..],
            None => return false,
        }
    }
    t.is_empty()
}

fn deviations() -> Vec<Deviation> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/deviations.toml");
    let text = std::fs::read_to_string(&path).expect("deviations.toml");
    let doc: toml::Value = toml::from_str(&text).expect("deviations.toml parses");
    let s = |v: &toml::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    doc.get("deviation")
        .and_then(|d| d.as_array())
        .into_iter()
        .flatten()
        .filter(|d| s(d, "source").as_deref() == Some("foxio ja4"))
        .map(|d| {
            assert!(
                s(d, "reason").is_some_and(|r| !r.is_empty()),
                "deviation without a reason: {d:?}"
            );
            Deviation {
                capture: s(d, "capture").unwrap_or_default(),
                connection: s(d, "connection"),
                field: s(d, "field"),
            }
        })
        .collect()
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "needs ../shared/conformance (FoxIO's ja4 captures), which is missing; probed at build time"
)]
fn ja4_matches_foxio_reference() {
    let dir = corpus::default_location().join("ja4");
    if !dir.is_dir() {
        pac_tests::require::skip_or_fail(
            "conformance",
            &format!("FoxIO JA4 corpus at {}", dir.display()),
        );
        return;
    }
    let mut expected_files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("ja4 corpus")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".expected.json"))
        .collect();
    expected_files.sort();
    let devs = deviations();
    let mut used = vec![false; devs.len()];
    // JA4S exists only when the analyzer was built with `ja4plus` (this crate's feature of the
    // same name turns it on).
    let with_ja4s = FingerprintSet::parse("ja4s").is_ok();
    let set = if with_ja4s {
        FingerprintSet::NONE.with(Method::Ja4).with(Method::Ja4s)
    } else {
        FingerprintSet::NONE.with(Method::Ja4)
    };
    let (mut matched, mut total, mut deviated) = (0, 0, 0);
    let (mut quic_matched, mut quic_total, mut names_matched, mut names_total) = (0, 0, 0, 0);
    let (mut ja4s_matched, mut ja4s_total) = (0, 0);
    let mut failures = Vec::new();
    for exp in &expected_files {
        let name = exp
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let capture_name = name.trim_end_matches(".expected.json").to_owned();
        let capture = dir.join(&capture_name);
        if !capture.exists() {
            continue;
        }
        let rows = ours(&capture, set).unwrap_or_else(|e| panic!("{capture_name}: {e}"));
        let text = std::fs::read_to_string(exp).expect("expected file");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let e: Value = serde_json::from_str(line).expect("expected line parses");
            let is_quic = e.get("transport").and_then(Value::as_str) == Some("udp");
            let h = |k: &str| {
                e.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let p = |k: &str| {
                e.get(k)
                    .and_then(Value::as_u64)
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or_default()
            };
            let (src, sp, dst, dp) = (h("src"), p("src_port"), h("dst"), p("dst_port"));
            let conn = format!("{src}:{sp} > {dst}:{dp}");
            let key = ConnPair::new((src, sp), (dst, dp));
            let row = rows
                .iter()
                .find(|r| ConnPair::of_row(r).as_ref() == Some(&key));
            // `want` names FoxIO's value, `field` our ssl.log column.
            let mut check = |want: &str, field: &str, counts: (&mut i32, &mut i32)| {
                let Some(want) = e.get(want).and_then(Value::as_str) else {
                    return;
                };
                *counts.1 += 1;
                let got = row.and_then(|r| r.get(field)).and_then(Value::as_str);
                if got == Some(want) {
                    *counts.0 += 1;
                    return;
                }
                let covering = devs.iter().position(|d| {
                    glob(&d.capture, &capture_name)
                        && d.connection.as_deref().is_none_or(|c| glob(c, &conn))
                        && d.field.as_deref().is_none_or(|f| glob(f, field))
                });
                match covering {
                    Some(i) => {
                        used[i] = true;
                        deviated += 1;
                    }
                    None => failures.push(format!(
                        "{capture_name} {conn} {field}: FoxIO {want}, ours {got:?}"
                    )),
                }
            };
            if is_quic {
                check("ja4", "ja4", (&mut quic_matched, &mut quic_total));
                // A QUIC handshake has its ssl.log row, with the server name FoxIO saw.
                check(
                    "tls_server_name",
                    "server_name",
                    (&mut names_matched, &mut names_total),
                );
            } else {
                check("ja4", "ja4", (&mut matched, &mut total));
            }
            if with_ja4s {
                check("ja4s", "ja4s", (&mut ja4s_matched, &mut ja4s_total));
            }
        }
    }
    eprintln!(
        "FoxIO ja4 corpus: JA4 {matched} of {total} TCP handshakes and {quic_matched} of \
         {quic_total} QUIC handshakes matched; {deviated} covered by deviations; server_name of \
         {names_matched} of {names_total} QUIC handshakes matched"
    );
    if with_ja4s {
        eprintln!("FoxIO ja4 corpus: JA4S {ja4s_matched} of {ja4s_total} handshakes (TCP and QUIC) matched");
    }
    assert!(total > 0, "no TCP handshake in {}", dir.display());
    assert!(quic_total > 0, "no QUIC handshake in {}", dir.display());
    assert!(
        failures.is_empty(),
        "JA4 differs from FoxIO's:\n{}",
        failures.join("\n")
    );
    // Only a full (ja4plus) run sees every kind of value, so staleness is judged there.
    if with_ja4s {
        let stale: Vec<&Deviation> = devs
            .iter()
            .zip(&used)
            .filter(|(_, u)| !**u)
            .map(|(d, _)| d)
            .collect();
        assert!(stale.is_empty(), "deviations that cover nothing: {stale:?}");
    }
}
