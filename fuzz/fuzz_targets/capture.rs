//! Fuzz target `capture`: the whole pipeline, `tls_analyzer::run::run` on capture bytes in
//! memory (pcap, pcapng, gzip — whatever the magic says), both outputs written into
//! `io::sink()`.
//!
//! In: the capture file itself, so a crash artifact reproduces with the CLI
//! (`tls-analyzer events artifact`). The last byte picks the output formats and whether the
//! analyzer continues after `ssl_established` (bit 0: text events, bit 1: JSON log, bit 2:
//! continue); mutating it rarely changes what the capture means. Out: nothing; a panic,
//! overflow, hang or runaway allocation is the finding. Capture errors (truncated file, not a
//! capture) are expected results, not findings.

#![no_main]

use std::io;

use libfuzzer_sys::fuzz_target;
use tls_analyzer::capture::Input;
use tls_analyzer::run::{run, EventFormat, LogFormat, Outputs, RunOptions};

fuzz_target!(|data: &[u8]| {
    let flags = data.last().copied().unwrap_or(0);
    let mut opts = RunOptions::default();
    opts.capture.seed = Some(1);
    opts.ssl.disable_analyzer_after_detection = flags & 4 == 0;
    let mut events = io::sink();
    let mut log = io::sink();
    let outputs = Outputs {
        events: Some((
            if flags & 1 != 0 {
                EventFormat::Text
            } else {
                EventFormat::Json
            },
            &mut events,
        )),
        log: Some((
            if flags & 2 != 0 {
                LogFormat::Json
            } else {
                LogFormat::Tsv
            },
            &mut log,
        )),
    };
    let input = [Input::Memory("fuzz".to_string(), data.to_vec())];
    let _ = run(&input, &opts, outputs);
});
