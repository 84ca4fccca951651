//! Conformance with Zeek: our events and ssl.log against Zeek's on Zeek's own captures.
//!
//! The corpus lives outside the repository (`../shared/conformance`, or
//! `$TLS_ANALYZER_CONFORMANCE_DIR`); without it every test that needs it is ignored, with the
//! reason in the test summary (probed at build time, `tests/build.rs`), or fails when
//! `PAC_REQUIRE_TOOLS` names `conformance` (as in CI).
//!
//! * `full_corpus_conformance` runs [`our_analyzer`] over every capture and compares every
//!   field with `zeek/expected/` and `zeek-live/`, tolerating only what
//!   `tests/conformance/deviations.toml` lists. It is skipped while [`our_analyzer`] returns
//!   `None`.
//! * The `self_check_*` tests prove the comparator right and able to fail, using Zeek's own
//!   recorded output as the "analyzer": identical output gives no mismatch, and each in-memory
//!   perturbation (a changed byte, a dropped, added or reordered event, a changed column, a
//!   dropped row, a changed violation reason) is detected and named.

use pac_tests::conformance::analyzer::Analyzer;
use pac_tests::conformance::corpus::{self, Corpus};
use pac_tests::conformance::deviations::{self, glob, Deviations};
use pac_tests::conformance::live::is_zeek_live_event;
use pac_tests::conformance::replay::{Perturbation, ReplayAnalyzer, ReplayPolicy};
use pac_tests::conformance::value::{zeek_escape, zeek_unescape, Comparer, Style};
use pac_tests::conformance::{run_conformance, AnalyzerOutput, MismatchKind, Report, Scope};
use serde_json::{json, Value};

// =============================================================================================
// INTEGRATION POINT: return the real analyzer here once its library API exists.
//
// It must implement `pac_tests::conformance::Analyzer`: run one capture with `RunOptions` and
// return the event stream and ssl.log as JSON Lines (see tests/src/conformance/analyzer.rs).
// While this returns `None`, `full_corpus_conformance` is SKIPPED (and says so).
// =============================================================================================
fn our_analyzer() -> Option<Box<dyn Analyzer>> {
    Some(Box::new(pac_tests::adapter::TlsAnalyzer))
}

/// The corpus, or `None` after a loud notice that it is absent.
fn corpus_or_skip(test: &str) -> Option<Corpus> {
    match corpus::locate() {
        Some(root) => match Corpus::load(&root) {
            Ok(c) => Some(c),
            Err(e) => panic!(
                "conformance corpus at {} is unreadable: {e}",
                root.display()
            ),
        },
        None => {
            if pac_tests::require::required("conformance") {
                panic!(
                    "{test}: the conformance corpus is absent at {}, and PAC_REQUIRE_TOOLS \
                     requires it",
                    corpus::default_location().display()
                );
            }
            loud(&format!(
                "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                 !!! {test}: CONFORMANCE CORPUS ABSENT at {} \n\
                 !!! (set {} to its location). NOTHING WAS COMPARED; TEST SKIPPED.\n\
                 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
                corpus::default_location().display(),
                corpus::CORPUS_ENV
            ));
            None
        }
    }
}

/// Writes to the process's stderr directly: libtest captures `eprintln!`, and a skipped
/// conformance run or its summary must be visible in a plain `cargo test`.
fn loud(msg: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
}

fn load_deviations() -> Deviations {
    let path = deviations::default_path();
    Deviations::load(&path).unwrap_or_else(|e| panic!("deviations file {}: {e}", path.display()))
}

fn print_report(title: &str, r: &Report) {
    eprintln!("\n--- {title} ---\n{}{}", r.table(), r.details());
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn full_corpus_conformance() {
    let Some(corpus) = corpus_or_skip("full_corpus_conformance") else {
        return;
    };
    let Some(analyzer) = our_analyzer() else {
        loud(
            "\n!!! full_corpus_conformance: SKIPPED — our_analyzer() in tests/tests/conformance.rs \
             returns None (the analyzer's library API is not wired in yet). \
             Only the self-checks of the harness ran.\n",
        );
        return;
    };
    let devs = load_deviations();
    let report = run_conformance(&corpus, analyzer.as_ref(), &devs, &Scope::default());
    loud(&format!(
        "\n--- conformance with Zeek ---\n{}{}",
        report.table(),
        report.details()
    ));
    let (_, mismatches, _) = report.total();
    assert!(
        report.passed(),
        "{mismatches} mismatches not covered by tests/conformance/deviations.toml, \
         {} stale deviation entries (details above)",
        report.stale.len()
    );
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn deviations_file_is_valid_and_names_real_captures() {
    let devs = load_deviations();
    assert!(
        !devs.unsupported.is_empty(),
        "unsupported carriers must be listed, never silently dropped"
    );
    let Some(corpus) = corpus_or_skip("deviations_file_is_valid_and_names_real_captures") else {
        return;
    };
    for u in &devs.unsupported {
        assert!(
            corpus.captures.iter().any(|c| glob(&u.capture, &c.name)),
            "[[unsupported]] {} names no capture of the corpus",
            u.capture
        );
    }
    for d in &devs.deviation {
        assert!(
            corpus.captures.iter().any(|c| glob(&d.capture, &c.name)),
            "[[deviation]] {} names no capture of the corpus",
            d.capture
        );
    }
    // QUIC is analysed: no QUIC capture may hide behind an [[unsupported]] entry.
    for c in &corpus.captures {
        if c.category.as_deref() == Some("quic") {
            assert!(
                devs.unsupported(&c.name).is_none(),
                "{} is QUIC, which is analysed, but listed as unsupported",
                c.name
            );
        }
    }
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn every_corpus_capture_has_its_trace() {
    let Some(corpus) = corpus_or_skip("every_corpus_capture_has_its_trace") else {
        return;
    };
    if !corpus.orphans.is_empty() {
        loud(&format!(
            "every_corpus_capture_has_its_trace: REPORTED AND SKIPPED zeek-live files without a \
             capture: {:?}",
            corpus.orphans
        ));
    }
    // zeek-live files name gzip-compressed captures without `.gz`; they must land on the
    // manifest's entry, not on a capture of their own without a trace.
    for c in &corpus.captures {
        assert!(
            c.trace.is_file(),
            "{}: trace {} does not exist",
            c.name,
            c.trace.display()
        );
    }
    let frag = corpus
        .captures
        .iter()
        .find(|c| c.name == "tls/tls-fragmented-handshake.pcap.gz")
        .expect("the fragmented-handshake capture is in the manifest");
    assert!(frag.manifest.is_some() && frag.live_events.is_some() && frag.live_ssl.is_some());
}

// ---------------------------------------------------------------------------------------------
// Self-checks of the comparator.

/// Scope of one capture's zeek-live comparison.
fn live_scope(capture: &str) -> Scope {
    Scope {
        expected: false,
        live: true,
        only: Some(vec![capture.to_owned()]),
        check_stale: false,
    }
}

const CAPTURE: &str = "tls/tls1.2.pcap";

/// Runs the zeek-live comparison of `capture` with its replay changed by `perturb`.
fn perturbed(corpus: &Corpus, capture: &str, perturb: Perturbation) -> Report {
    let mut replay = ReplayAnalyzer::new(&corpus.root);
    replay.perturb = Some(perturb);
    run_conformance(
        corpus,
        &replay,
        &Deviations::default(),
        &live_scope(capture),
    )
}

/// Applies `f` to the parsed lines of a JSON Lines text.
fn edit_lines(text: &str, f: impl FnOnce(&mut Vec<Value>)) -> String {
    let mut lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("zeek-live line is JSON"))
        .collect();
    f(&mut lines);
    lines.iter().map(|v| format!("{v}\n")).collect()
}

fn edit_events(f: impl Fn(&mut Vec<Value>) + Sync + 'static) -> Perturbation {
    Box::new(move |_, out: &mut AnalyzerOutput| out.events = edit_lines(&out.events, &f))
}

fn edit_ssl(f: impl Fn(&mut Vec<Value>) + Sync + 'static) -> Perturbation {
    Box::new(move |_, out: &mut AnalyzerOutput| out.ssl_log = edit_lines(&out.ssl_log, &f))
}

fn first_index(lines: &[Value], event: &str) -> usize {
    lines
        .iter()
        .position(|l| l["event"] == event)
        .unwrap_or_else(|| panic!("zeek-live stream of {CAPTURE} has no {event}"))
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn self_check_zeek_live_against_itself_has_no_mismatch() {
    let Some(corpus) = corpus_or_skip("self_check_zeek_live_against_itself_has_no_mismatch") else {
        return;
    };
    let replay = ReplayAnalyzer::new(&corpus.root);
    let scope = Scope {
        expected: false,
        live: true,
        only: None,
        check_stale: false,
    };
    let report = run_conformance(&corpus, &replay, &Deviations::default(), &scope);
    print_report("self-check: zeek-live against itself", &report);
    let (t, mismatches, _) = report.total();
    assert_eq!(mismatches, 0, "identical streams must not differ");
    assert!(
        t.events > 2000 && t.rows > 50 && t.fields > 10_000,
        "too little compared: {t:?}"
    );
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn self_check_detects_a_changed_byte_in_a_string_argument() {
    let Some(corpus) = corpus_or_skip("self_check_detects_a_changed_byte") else {
        return;
    };
    let r = perturbed(
        &corpus,
        CAPTURE,
        edit_events(|lines| {
            let i = first_index(lines, "ssl_client_hello");
            let s = lines[i]["args"]["client_random"]
                .as_str()
                .expect("client_random is a string")
                .to_owned();
            let mut bytes = zeek_unescape(&s);
            bytes[5] ^= 0x01;
            lines[i]["args"]["client_random"] = Value::String(zeek_escape(&bytes));
        }),
    );
    let m: Vec<_> = r.uncovered().collect();
    assert_eq!(m.len(), 1, "exactly the changed byte: {m:#?}");
    assert_eq!(m[0].kind, MismatchKind::Value);
    assert_eq!(m[0].event.as_deref(), Some("ssl_client_hello"));
    assert_eq!(m[0].field.as_deref(), Some("args.client_random"));
    assert!(
        m[0].expected.contains("first difference at byte 5"),
        "{}",
        m[0]
    );
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn self_check_detects_a_dropped_event() {
    let Some(corpus) = corpus_or_skip("self_check_detects_a_dropped_event") else {
        return;
    };
    let r = perturbed(
        &corpus,
        CAPTURE,
        edit_events(|lines| {
            let i = first_index(lines, "ssl_client_hello");
            lines.remove(i);
        }),
    );
    let m: Vec<_> = r.uncovered().collect();
    assert_eq!(m.len(), 1, "{m:#?}");
    assert_eq!(m[0].kind, MismatchKind::MissingEvent);
    assert_eq!(m[0].event.as_deref(), Some("ssl_client_hello"));
    assert_eq!(
        m[0].connection.as_deref(),
        Some("10.0.0.80:56637 > 68.233.76.12:443")
    );
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn self_check_detects_an_added_event() {
    let Some(corpus) = corpus_or_skip("self_check_detects_an_added_event") else {
        return;
    };
    let r = perturbed(
        &corpus,
        CAPTURE,
        edit_events(|lines| {
            let i = first_index(lines, "ssl_established");
            let dup = lines[i].clone();
            lines.insert(i, dup);
        }),
    );
    let m: Vec<_> = r.uncovered().collect();
    assert_eq!(m.len(), 1, "{m:#?}");
    assert_eq!(m[0].kind, MismatchKind::ExtraEvent);
    assert_eq!(m[0].event.as_deref(), Some("ssl_established"));
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn self_check_detects_swapped_order() {
    let Some(corpus) = corpus_or_skip("self_check_detects_swapped_order") else {
        return;
    };
    let r = perturbed(
        &corpus,
        CAPTURE,
        edit_events(|lines| {
            // The hello event comes after its extensions' events (post-order); swap them.
            let i = first_index(lines, "ssl_client_hello");
            lines.swap(i - 1, i);
        }),
    );
    let kinds: Vec<_> = r.uncovered().map(|m| m.kind).collect();
    assert!(
        kinds.contains(&MismatchKind::MissingEvent) && kinds.contains(&MismatchKind::ExtraEvent),
        "a reordering shows as an event missing at one point and extra at another: {kinds:?}"
    );
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn self_check_detects_a_changed_vector_element_and_is_client() {
    let Some(corpus) = corpus_or_skip("self_check_detects_a_changed_vector_element") else {
        return;
    };
    let r = perturbed(
        &corpus,
        CAPTURE,
        edit_events(|lines| {
            let i = first_index(lines, "ssl_client_hello");
            lines[i]["args"]["ciphers"][3] = json!(4865);
        }),
    );
    let m: Vec<_> = r.uncovered().collect();
    assert_eq!(m.len(), 1, "{m:#?}");
    assert_eq!(m[0].field.as_deref(), Some("args.ciphers[3]"));
    assert_eq!(m[0].got, "4865");

    let r = perturbed(
        &corpus,
        CAPTURE,
        edit_events(|lines| {
            let i = first_index(lines, "ssl_server_hello");
            lines[i]["args"]["is_client"] = json!(true);
        }),
    );
    assert!(
        r.uncovered().count() >= 1,
        "a flipped is_client must be detected"
    );
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn self_check_detects_ssl_log_changes() {
    let Some(corpus) = corpus_or_skip("self_check_detects_ssl_log_changes") else {
        return;
    };
    let r = perturbed(
        &corpus,
        CAPTURE,
        edit_ssl(|rows| rows[0]["cipher"] = json!("TLS_NULL_WITH_NULL_NULL")),
    );
    let m: Vec<_> = r.uncovered().collect();
    assert_eq!(m.len(), 1, "{m:#?}");
    assert_eq!(m[0].source, "zeek-live ssl.log");
    assert_eq!(m[0].field.as_deref(), Some("cipher"));

    // An unset column must be absent: writing one Zeek left unset is a difference too.
    let r = perturbed(
        &corpus,
        CAPTURE,
        edit_ssl(|rows| rows[0]["server_name"] = json!("x")),
    );
    assert_eq!(r.uncovered().count(), 1);

    let r = perturbed(&corpus, CAPTURE, edit_ssl(|rows| rows.clear()));
    let m: Vec<_> = r.uncovered().collect();
    assert_eq!(m.len(), 1, "{m:#?}");
    assert_eq!(m[0].kind, MismatchKind::MissingRow);
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn self_check_detects_a_changed_violation_reason() {
    let Some(corpus) = corpus_or_skip("self_check_detects_a_changed_violation_reason") else {
        return;
    };
    let capture = "tls/tls-1.2-protocol-error.pcap";
    let r = perturbed(
        &corpus,
        capture,
        edit_events(|lines| {
            let i = lines
                .iter()
                .position(|l| l["event"] == "analyzer_violation_info")
                .expect("tls-1.2-protocol-error has a violation");
            lines[i]["args"]["reason"] = json!("something else");
        }),
    );
    let m: Vec<_> = r.uncovered().collect();
    assert_eq!(m.len(), 1, "{m:#?}");
    assert_eq!(m[0].field.as_deref(), Some("args.reason"));
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn self_check_deviations_cover_mismatches_and_stale_entries_are_reported() {
    let Some(corpus) = corpus_or_skip("self_check_deviations") else {
        return;
    };
    let devs = Deviations::parse(
        r#"
        [[deviation]]
        capture = "tls/tls1.2.pcap"
        source = "zeek-live*"
        event = "ssl_client_hello"
        field = "args.client_random"
        reason = "self-check: the perturbation below"

        [[deviation]]
        capture = "tls/tls1.2.pcap"
        field = "args.no_such_field"
        reason = "self-check: covers nothing, so it must be reported stale"
        "#,
    )
    .expect("self-check deviations parse");
    let mut replay = ReplayAnalyzer::new(&corpus.root);
    replay.perturb = Some(edit_events(|lines| {
        let i = first_index(lines, "ssl_client_hello");
        lines[i]["args"]["client_random"] = json!("changed");
    }));
    let mut scope = live_scope(CAPTURE);
    scope.check_stale = true;
    let r = run_conformance(&corpus, &replay, &devs, &scope);
    print_report("self-check: deviations", &r);
    assert_eq!(
        r.uncovered().count(),
        0,
        "the first entry covers the mismatch"
    );
    assert_eq!(r.total().2, 1, "one deviation applied");
    assert_eq!(r.stale.len(), 1, "{:?}", r.stale);
    assert!(r.stale[0].contains("no_such_field"));
    assert!(!r.passed(), "a stale entry fails the run");
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn self_check_unsupported_captures_are_listed_not_dropped() {
    let Some(corpus) = corpus_or_skip("self_check_unsupported") else {
        return;
    };
    let devs = load_deviations();
    let replay = ReplayAnalyzer::new(&corpus.root);
    let scope = Scope {
        expected: false,
        live: false,
        only: None,
        check_stale: false,
    };
    let r = run_conformance(&corpus, &replay, &devs, &scope);
    let table = r.table();
    assert!(table.contains("UNSUPPORTED: wstunnel"), "{table}");
    assert!(table.contains("websocket/wstunnel-https.pcap"), "{table}");
}

/// The btest expectations compared with zeek-live, where the run options agree: real data for
/// the hex/escape decoding, mapped codes, `any_of`, partial connection ids and derived values.
#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn self_check_expected_files_agree_with_zeek_live_under_the_same_options() {
    let Some(corpus) = corpus_or_skip("self_check_expected_files_agree_with_zeek_live") else {
        return;
    };
    let mut replay = ReplayAnalyzer::new(&corpus.root);
    replay.policy = ReplayPolicy::SameEvents;
    let scope = Scope {
        expected: true,
        live: false,
        only: None,
        check_stale: false,
    };
    let devs = load_deviations();
    let r = run_conformance(&corpus, &replay, &devs, &scope);
    print_report("self-check: zeek/expected against zeek-live", &r);
    // Runs under options that change events fail in the replay, and zeek-live cannot contain
    // the events it does not record (analyzer removals, events newer than Zeek 8.2.2);
    // everything else must agree.
    let artefact = |e: &str| !is_zeek_live_event(e);
    let other: Vec<_> = r
        .uncovered()
        .filter(|m| m.kind != MismatchKind::RunFailed)
        .filter(|m| !m.event.as_deref().is_some_and(artefact))
        .collect();
    for m in &other {
        eprintln!("{m}");
    }
    assert!(
        other.is_empty(),
        "{} disagreements between btest baselines and zeek-live",
        other.len()
    );
    assert!(r.total().0.events > 0, "nothing compared");
}

#[test]
fn self_check_value_rules() {
    let c = Comparer {
        expected: Style::Expected,
        got: Style::Zeek,
    };
    // hex: in the btest files and \xNN in Zeek's JSON are the same bytes.
    assert!(c.equal(&json!("hex:00410aff"), Some(&json!("\\x00A\n\\xff"))));
    assert!(!c.equal(&json!("hex:00410aff"), Some(&json!("\\x00A\n\\xfe"))));
    // A printable \xNN is literal text after an unescaped backslash.
    assert_eq!(zeek_unescape("a\\x41"), b"a\\x41".to_vec());
    // Unset equals absent; any_of accepts any listed code; vectors compare element-wise.
    assert!(c.equal(&json!(null), None));
    assert!(!c.equal(&json!(1), None));
    assert!(c.equal(&json!({"any_of": [4, 9]}), Some(&json!(9))));
    assert!(!c.equal(&json!({"any_of": [4, 9]}), Some(&json!(5))));
    assert!(!c.equal(&json!([1, 2]), Some(&json!([1, 2, 3]))));
    assert!(c.equal(&json!(1357328848.0), Some(&json!(1357328848.000001))));
    // Globs of the deviations file.
    assert!(glob("quic/*", "quic/interop/x.pcap"));
    assert!(glob("*", "tls/a.pcap"));
    assert!(!glob("tls/a.pcap", "tls/a.pcapng"));
    assert!(glob("args.*random", "args.client_random"));
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn self_check_expected_files_detect_a_perturbation() {
    let Some(corpus) = corpus_or_skip("self_check_expected_files_detect_a_perturbation") else {
        return;
    };
    let mut replay = ReplayAnalyzer::new(&corpus.root);
    replay.policy = ReplayPolicy::SameEvents;
    replay.perturb = Some(edit_events(|lines| {
        let i = first_index(lines, "ssl_client_hello");
        let s = lines[i]["args"]["client_random"]
            .as_str()
            .expect("client_random is a string")
            .to_owned();
        let mut bytes = zeek_unescape(&s);
        bytes[27] ^= 0x80;
        lines[i]["args"]["client_random"] = Value::String(zeek_escape(&bytes));
    }));
    let scope = Scope {
        expected: true,
        live: false,
        only: Some(vec![CAPTURE.to_owned()]),
        check_stale: false,
    };
    let r = run_conformance(&corpus, &replay, &Deviations::default(), &scope);
    let hits: Vec<_> = r
        .uncovered()
        .filter(|m| m.kind == MismatchKind::Value)
        .collect();
    assert_eq!(hits.len(), 1, "{hits:#?}");
    assert_eq!(
        hits[0].source,
        "scripts/base/protocols/ssl/tls-1.2-random.test:.stdout"
    );
    assert_eq!(hits[0].field.as_deref(), Some("args.client_random"));
    assert!(
        hits[0].expected.contains("first difference at byte 27"),
        "{}",
        hits[0]
    );
}

/// Builds one stream line for synthetic streams.
fn line(conn: u16, event: &str, args: Value) -> String {
    let v = json!({
        "ts": 1.0, "uid": "C1",
        "id": {"orig_h": "10.0.0.1", "orig_p": conn, "resp_h": "10.0.0.2", "resp_p": 443},
        "event": event, "args": args,
    });
    format!("{v}\n")
}

/// The group modes that zeek-live cannot exercise (it stops after `ssl_established`), on
/// synthetic streams: `subset` order, `per-connection-unordered` absence, and derived values.
#[test]
fn self_check_group_modes_on_synthetic_streams() {
    use pac_tests::conformance::analyzer::RunOptions;
    use pac_tests::conformance::corpus::parse_events;
    use pac_tests::conformance::expected::{run_check, Check, CheckKind};
    use pac_tests::conformance::mismatch::Tally;

    let ours_text = [
        line(1, "ssl_encrypted_data", json!({"is_client": true, "record_version": 771, "content_type": 24, "length": 32})),
        line(1, "ssl_encrypted_data", json!({"is_client": false, "record_version": 771, "content_type": 24, "length": 48})),
        line(1, "ssl_heartbeat", json!({"is_client": true, "length": 16368, "heartbeat_type": 1, "payload_length": 16365, "payload": "\\x01"})),
        line(2, "ssl_rsa_client_pms", json!({"pms": "\\x00\\x02ab"})),
    ]
    .concat();
    let ours = parse_events(&ours_text, "synthetic").expect("synthetic stream parses");
    let c1 =
        json!({"id": {"orig_h": "10.0.0.1", "orig_p": 1, "resp_h": "10.0.0.2", "resp_p": 443}});
    let c2 =
        json!({"id": {"orig_h": "10.0.0.1", "orig_p": 2, "resp_h": "10.0.0.2", "resp_p": 443}});
    let check = |order: &str, handlers: &[&str], events: Vec<Value>| Check {
        source: format!("synthetic {order}"),
        plan: RunOptions::from_manifest_run(&json!({"base_scripts_only": true})),
        kind: CheckKind::Events {
            handlers: handlers.iter().map(|h| (*h).to_owned()).collect(),
            order: order.to_owned(),
            filtered: false,
            events,
        },
    };
    let mismatches = |c: &Check| {
        let mut out = Vec::new();
        run_check("synthetic", c, &ours, &[], &mut Tally::default(), &mut out);
        out
    };
    let server_record = json!({"event": "ssl_encrypted_data", "is_client": false,
        "args": {"c": c1, "content_type": 24, "length": 48},
        "derived": {"length_of_preceding_client_heartbeat_record": 32}});
    let heartbeat = json!({"event": "ssl_heartbeat", "args": {"c": c1, "length": 16368, "payload_length": 16365}});

    // subset: in order, with the derived value taken from the client record before it.
    let ok = check(
        "subset",
        &["ssl_heartbeat", "ssl_encrypted_data"],
        vec![server_record.clone(), heartbeat.clone()],
    );
    assert!(mismatches(&ok).is_empty(), "{:#?}", mismatches(&ok));
    // subset: the wrong relative order is a difference.
    let swapped = check(
        "subset",
        &["ssl_heartbeat", "ssl_encrypted_data"],
        vec![heartbeat, server_record.clone()],
    );
    assert_eq!(mismatches(&swapped).len(), 1, "{:#?}", mismatches(&swapped));
    // A wrong derived value is a difference named after it.
    let mut bad = server_record;
    bad["derived"]["length_of_preceding_client_heartbeat_record"] = json!(33);
    let m = mismatches(&check("subset", &["ssl_encrypted_data"], vec![bad]));
    assert_eq!(m.len(), 1);
    assert_eq!(
        m[0].field.as_deref(),
        Some("derived.length_of_preceding_client_heartbeat_record")
    );

    // per-connection-unordered: hex: bytes match Zeek's escapes; an event on a connection of
    // the group whose column was unset is extra.
    let pms = json!({"event": "ssl_rsa_client_pms", "args": {"c": c2, "pms": "hex:00026162"}});
    let handlers = ["ssl_rsa_client_pms", "ssl_encrypted_data"];
    assert!(mismatches(&check(
        "per-connection-unordered",
        &handlers,
        vec![pms.clone()]
    ))
    .is_empty());
    let c1_only = json!({"event": "ssl_rsa_client_pms", "args": {"c": c1, "pms": "hex:00026162"}});
    let m = mismatches(&check(
        "per-connection-unordered",
        &handlers,
        vec![pms, c1_only],
    ));
    let kinds: Vec<_> = m.iter().map(|m| m.kind).collect();
    assert!(kinds.contains(&MismatchKind::MissingEvent), "{m:#?}");
    assert!(kinds.contains(&MismatchKind::ExtraEvent), "{m:#?}");
}
