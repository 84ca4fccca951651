//! Fuzz target `dtls_datagrams`: the SSL analyzer in DTLS mode fed arbitrary UDP payloads in
//! both directions.
//!
//! In: `[flags][deliveries...]` (see `tls_analyzer_fuzz::deliveries`; each delivery is one
//! datagram, the gap bit is ignored): flag bit 0 keeps the analyzer running after
//! `ssl_established`, bit 1 after a violation. Out: nothing; a panic, overflow, hang or
//! runaway allocation (libFuzzer's `-rss_limit_mb`/`-malloc_limit_mb`) is the finding.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tls_analyzer::ssl::{Config, SslAnalyzer};
use tls_analyzer_fuzz::{deliveries, Drain};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let cfg = Config {
        disable_analyzer_after_detection: flags & 1 == 0,
        disable_analyzer_after_violation: flags & 2 == 0,
        ..Config::default()
    };
    let mut a = SslAnalyzer::new(cfg);
    let mut sink = Drain::default();
    for (i, d) in deliveries(rest).iter().enumerate() {
        if a.is_done() {
            break;
        }
        a.datagram(d.is_orig, 1000.0 + i as f64, d.data, &mut sink);
    }
    let _ = (
        a.negotiated_version(),
        a.chosen_cipher(),
        a.flipped(),
        a.established(),
        a.analyzer(),
    );
    a.finish(&mut sink);
});
