//! Fuzz target `ssl_stream`: the SSL connection analyzer (TCP side) fed arbitrary chunks in both
//! directions.
//!
//! In: `[flags][deliveries...]` (see `tls_analyzer_fuzz::deliveries`): flag bit 0 keeps the
//! analyzer running after `ssl_established`, bit 1 after a violation, bit 2 enables the
//! retired `ssl_server_curve`. Out: nothing; besides panics, one oracle is checked: the same
//! bytes with consecutive same-direction deliveries merged must give the same events, except
//! that the chunked run may stop earlier (the analyzer finishes the current packet after a
//! violation or `ssl_established`; each delivery is a packet here, and merged ones are longer).
//! So the chunked run's
//! events are a prefix of the merged run's, and equal when the chunked run did not stop. Both
//! are compared only up to their first violation: after a parse error binpac drops the rest of
//! the delivery, so what follows depends on delivery boundaries in Zeek too.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tls_analyzer::ssl::{Config, EventSink, SslAnalyzer};
use tls_analyzer_fuzz::{deliveries, Delivery, Drain, Transcript};

fn config(flags: u8) -> Config {
    Config {
        disable_analyzer_after_detection: flags & 1 == 0,
        disable_analyzer_after_violation: flags & 2 == 0,
        raise_ssl_server_curve: flags & 4 != 0,
        ..Config::default()
    }
}

/// Feeds `items` (each with its packet timestamp) to a fresh analyzer; returns whether it
/// finished early (before the end of the input), i.e. stopped itself.
fn feed(cfg: Config, items: &[(f64, Delivery<'_>)], sink: &mut dyn EventSink) -> bool {
    let mut a = SslAnalyzer::new(cfg);
    let mut stopped = false;
    for (ts, d) in items {
        if a.is_done() {
            stopped = true;
            break;
        }
        if d.gap {
            a.gap(d.is_orig, d.data.len() as u64, sink);
        } else {
            a.deliver(d.is_orig, *ts, d.data, sink);
        }
    }
    stopped |= a.is_done();
    // Touch the per-connection facts ssl.log reads.
    let _ = (
        a.negotiated_version(),
        a.chosen_cipher(),
        a.flipped(),
        a.established(),
        a.confirmed(),
        a.record_layer_version(),
    );
    a.finish(sink);
    stopped
}

/// Merges consecutive data deliveries of the same direction into one (gaps stay as they are);
/// a merged delivery keeps the timestamp of its first part.
fn merge<'a>(items: &[(f64, Delivery<'a>)]) -> Vec<(f64, bool, bool, Vec<u8>)> {
    let mut out: Vec<(f64, bool, bool, Vec<u8>)> = Vec::new();
    for (ts, d) in items {
        match out.last_mut() {
            Some((_, o, false, buf)) if !d.gap && *o == d.is_orig => buf.extend_from_slice(d.data),
            _ => out.push((*ts, d.is_orig, d.gap, d.data.to_vec())),
        }
    }
    out
}

/// The events up to and including the first violation, without the analyzer's removal
/// (`Disabled`): where a run stops is exactly what differs between the two.
fn until_violation(lines: &[String]) -> Vec<&String> {
    let kept = lines.iter().filter(|l| !l.starts_with("Disabled"));
    let mut out = Vec::new();
    for l in kept {
        out.push(l);
        if l.starts_with("Violation") {
            break;
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let cfg = config(flags);
    // Each delivery is its own packet (own timestamp): the analyzer's removal after a
    // violation or ssl_established takes effect with the next packet.
    let items: Vec<(f64, Delivery<'_>)> = deliveries(rest)
        .into_iter()
        .enumerate()
        .map(|(i, d)| (1000.0 + i as f64, d))
        .collect();

    // Every event formatted and every value visited.
    let mut drain = Drain::default();
    feed(cfg, &items, &mut drain);

    // The chunking oracle.
    let mut chunked = Transcript::default();
    let stopped = feed(cfg, &items, &mut chunked);
    let merged_owned = merge(&items);
    let merged: Vec<(f64, Delivery<'_>)> = merged_owned
        .iter()
        .map(|(ts, is_orig, gap, data)| {
            (
                *ts,
                Delivery {
                    is_orig: *is_orig,
                    gap: *gap,
                    data,
                },
            )
        })
        .collect();
    let mut whole = Transcript::default();
    feed(cfg, &merged, &mut whole);
    // A parse error makes binpac drop the rest of the delivery it happened in, so what follows
    // a violation legitimately depends on delivery boundaries: compare up to the first one.
    let chunked = until_violation(&chunked.lines);
    let whole = until_violation(&whole.lines);
    let n = chunked.len();
    assert!(
        n <= whole.len() && chunked[..] == whole[..n],
        "chunked events are not a prefix of the merged run's:\nchunked: {chunked:#?}\nmerged: {whole:#?}"
    );
    if !stopped {
        assert_eq!(
            chunked, whole,
            "same bytes, different events (chunked run did not stop)"
        );
    }
});
