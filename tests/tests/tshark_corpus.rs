//! The tshark extraction (`pac_tests::tshark`) on the conformance corpus (Zeek's own test
//! captures, `../shared/conformance`, never copied here): every capture dissects, and every
//! connection of Zeek's `ssl.log` (zeek-live) is a connection of the dissection with the same
//! orientation (orig/resp). This checks our side of the differential test on captures that we did
//! not make: many link types, IPv6, truncated and mid-stream connections, SSLv2, DTLS.
//!
//! Ignored when the corpus or tshark is absent (probed at build time; see `tests/build.rs` and
//! `pac_tests::require`).

// A poisoned mutex means another worker thread already panicked; unwrapping re-raises that.
#![allow(clippy::unwrap_used)]

use pac_tests::conformance::corpus::{self, read_jsonl, Corpus};
use pac_tests::tshark::{self, ConnKey, Dissection, Transport, TsharkError};
use std::sync::Mutex;

#[test]
#[cfg_attr(
    any(pac_no_tshark, pac_no_conformance),
    ignore = "needs tshark and ../shared/conformance, and one is missing; probed at build time"
)]
fn corpus_connections_match_zeek_ssl_log() {
    let Some(root) = corpus::locate() else {
        pac_tests::require::skip_or_fail(
            "conformance",
            &format!(
                "tshark corpus test over {} (set {})",
                corpus::default_location().display(),
                corpus::CORPUS_ENV
            ),
        );
        return;
    };
    if let Err(e) = tshark::version() {
        tshark::skip_or_fail("tshark corpus test", &e);
        return;
    }
    let corpus = Corpus::load(&root).expect("corpus loads");
    assert!(!corpus.captures.is_empty());

    // tshark takes about half a second per capture; two workers for two cores.
    let next = Mutex::new(corpus.captures.iter());
    let problems = Mutex::new(Vec::<String>::new());
    let checked = Mutex::new((0usize, 0usize));
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let Some(entry) = next.lock().unwrap().next() else {
                    return;
                };
                // zeek-live names a compressed capture without its `.gz`.
                let mut trace = entry.trace.clone();
                if !trace.exists() {
                    trace.as_mut_os_string().push(".gz");
                }
                let d: Dissection = match tshark::dissect(&trace) {
                    Ok(d) => d,
                    Err(e @ TsharkError::NotInstalled) => panic!("{e}"),
                    Err(e) => {
                        problems
                            .lock()
                            .unwrap()
                            .push(format!("{}: {e}", entry.name));
                        continue;
                    }
                };
                let mut rows_checked = 0;
                if let Some(ssl) = &entry.live_ssl {
                    let rows = read_jsonl(ssl).expect("zeek-live ssl.json reads");
                    for row in rows {
                        let h = |k: &str| row[k].as_str().unwrap_or_default().to_string();
                        let p = |k: &str| row[k].as_u64().unwrap_or_default() as u16;
                        let key = |transport| ConnKey {
                            transport,
                            orig_h: h("id.orig_h"),
                            orig_p: p("id.orig_p"),
                            resp_h: h("id.resp_h"),
                            resp_p: p("id.resp_p"),
                        };
                        rows_checked += 1;
                        let found = [Transport::Tcp, Transport::Udp]
                            .into_iter()
                            .any(|t| d.connection(&key(t)).is_some());
                        if found {
                            continue;
                        }
                        let k = key(Transport::Tcp);
                        let flipped = d.connections.iter().any(|c| {
                            c.id.orig_h == k.resp_h
                                && c.id.orig_p == k.resp_p
                                && c.id.resp_h == k.orig_h
                                && c.id.resp_p == k.orig_p
                        });
                        problems.lock().unwrap().push(format!(
                            "{}: zeek's connection {}:{} -> {}:{} {}",
                            entry.name,
                            k.orig_h,
                            k.orig_p,
                            k.resp_h,
                            k.resp_p,
                            if flipped {
                                "is oriented the other way round by tshark's dissection"
                            } else {
                                "is missing from tshark's dissection"
                            }
                        ));
                    }
                }
                let mut c = checked.lock().unwrap();
                c.0 += 1;
                c.1 += rows_checked;
            });
        }
    });
    let (captures, rows) = *checked.lock().unwrap();
    let problems = problems.into_inner().unwrap();
    eprintln!(
        "tshark corpus test: {captures} captures dissected, {rows} ssl.log rows checked, {} problems",
        problems.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(rows > 0, "no zeek-live ssl.log rows were checked");
}
