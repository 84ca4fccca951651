//! Conformance with Zeek's tunnel regression tests (harness: `pac_tests::zeek_tunnels`): every
//! tunnel.log row of every test under `zeek-tunnels/`, and the tunnel.log and ssl.log rows of
//! `zeek-tunnels/live/` (what a running Zeek wrote for traces carrying TLS in a tunnel), with the
//! deviations of `tests/conformance/tunnel-deviations.toml` allowed and every other difference a
//! failure. A deviation that no longer happens is a failure too (the list must stay honest).
//!
//! Without the corpus these tests are ignored (probed at build time) or, when
//! `PAC_REQUIRE_TOOLS` names `conformance`, fail.

use std::path::PathBuf;

use pac_tests::conformance::corpus;
use pac_tests::zeek_tunnels::{
    compare_live_events, compare_rows, compare_ssl, live_tests, parse_tsv, run_ours, tests,
    Deviations, TunnelRow,
};

fn corpus_or_skip(test: &str) -> Option<PathBuf> {
    match corpus::locate() {
        Some(root) if root.join("zeek-tunnels").is_dir() => Some(root),
        _ => {
            pac_tests::require::skip_or_fail("conformance", test);
            None
        }
    }
}

/// Checks `mismatches` against the deviations: returns the uncovered ones and marks the used.
fn uncovered(mismatches: Vec<String>, devs: &Deviations, used: &mut [bool]) -> Vec<String> {
    let mut out = Vec::new();
    for m in mismatches {
        match devs.covering(&m) {
            Some(i) => used[i] = true,
            None => out.push(m),
        }
    }
    out
}

#[test]
#[cfg_attr(
    pac_no_conformance,
    ignore = "the conformance corpus (../shared/conformance) is absent; probed at build time"
)]
fn zeek_tunnels_conformance() {
    let Some(root) = corpus_or_skip("zeek_tunnels_conformance") else {
        return;
    };
    let devs = Deviations::load().expect("deviations");
    let mut used = vec![false; devs.deviation.len()];
    let all = tests(&root).expect("tests");
    assert!(
        all.len() >= 25,
        "only {} tests with a tunnel.log",
        all.len()
    );
    let mut failures = Vec::new();
    let (mut rows, mut matched, mut deviating_tests) = (0usize, 0usize, 0usize);
    for t in &all {
        let ours = run_ours(&t.trace, t.max_depth).unwrap_or_else(|e| panic!("{}: {e}", t.name));
        let mismatches = compare_rows(&t.name, &t.expected, &ours.tunnel);
        rows += t.expected.len();
        let bad = mismatches.len();
        let open = uncovered(mismatches, &devs, &mut used);
        if bad == 0 {
            matched += t.expected.len();
        } else if open.is_empty() {
            deviating_tests += 1;
        }
        if !open.is_empty() {
            failures.push(format!("{}\nours:\n{}", open.join("\n"), ours.tunnel_tsv));
        }
    }
    let (mut live_tunnel, mut live_ssl, mut live_events) = (0usize, 0usize, 0usize);
    for t in live_tests(&root).expect("live") {
        let ours = run_ours(&t.trace, None).unwrap_or_else(|e| panic!("{}: {e}", t.name));
        let mut m = compare_rows(&t.name, &t.tunnel, &ours.tunnel);
        m.extend(compare_ssl(&t.name, &t.ssl, &ours.ssl));
        let (em, n) = compare_live_events(&t.name, &t.events, &ours.events).expect("events");
        m.extend(em);
        live_events += n;
        live_tunnel += t.tunnel.len();
        live_ssl += t.ssl.len();
        let open = uncovered(m, &devs, &mut used);
        failures.extend(open);
    }
    for (i, d) in devs.deviation.iter().enumerate() {
        if !used[i] {
            failures.push(format!(
                "stale deviation (nothing differs any more): {} / {}",
                d.test, d.what
            ));
        }
    }
    eprintln!(
        "zeek-tunnels: {} tests, {rows} tunnel.log rows; {matched} rows match (uids excepted), \
         the rest in {deviating_tests} test(s) listed as deviations; live: {live_tunnel} \
         tunnel.log and {live_ssl} ssl.log rows (with ts and every column but uid) and \
         {live_events} SSL events",
        all.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The comparison itself can fail: a dropped row, a swapped order of discoveries, a changed
/// type and a split uid are each reported.
#[test]
fn compare_rows_reports_each_kind_of_difference() {
    let zeek = parse_tsv(
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttunnel_type\taction\n\
         XXXXXXXXXX.XXXXXX\tCa\t1.1.1.1\t4789\t1.1.1.9\t4789\tTunnel::VXLAN\tTunnel::DISCOVER\n\
         XXXXXXXXXX.XXXXXX\tCb\t2.2.2.2\t4789\t2.2.2.9\t4789\tTunnel::VXLAN\tTunnel::DISCOVER\n\
         XXXXXXXXXX.XXXXXX\tCb\t2.2.2.2\t4789\t2.2.2.9\t4789\tTunnel::VXLAN\tTunnel::CLOSE\n\
         XXXXXXXXXX.XXXXXX\tCa\t1.1.1.1\t4789\t1.1.1.9\t4789\tTunnel::VXLAN\tTunnel::CLOSE\n",
    )
    .expect("parse");
    let mut ours: Vec<TunnelRow> = zeek.clone();
    for (r, u) in ours.iter_mut().zip(["Cx", "Cy", "Cy", "Cx"]) {
        r.uid = Some(u.to_string());
    }
    assert!(compare_rows("t", &zeek, &ours).is_empty());
    // CLOSE rows in another order are the same multiset.
    ours.swap(2, 3);
    assert!(compare_rows("t", &zeek, &ours).is_empty());
    let mut dropped = ours.clone();
    dropped.pop();
    assert_eq!(compare_rows("t", &zeek, &dropped).len(), 1);
    let mut swapped = ours.clone();
    swapped.swap(0, 1);
    assert_eq!(compare_rows("t", &zeek, &swapped).len(), 2);
    let mut typed = ours.clone();
    typed[1].tunnel_type = "Tunnel::GENEVE".into();
    assert!(!compare_rows("t", &zeek, &typed).is_empty());
    let mut split = ours.clone();
    split[3].uid = Some("Cz".into());
    let m = compare_rows("t", &zeek, &split);
    assert!(m.iter().any(|l| l.contains("two uids")), "{m:?}");
}
