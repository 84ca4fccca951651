//! The analyzer under test, behind the conformance harness's [`Analyzer`] trait.
//!
//! In: a capture path and the harness's [`RunOptions`] (Zeek settings of one test run). Out: the
//! event stream and ssl.log rows as JSON Lines, produced by `tls_analyzer::run::run` exactly as
//! `tls-analyzer events --format json` and `tls-analyzer log --format json` print them.

use std::path::Path;

use tls_analyzer::capture::Input;
use tls_analyzer::run::{run_with_x509, EventFormat, LogFormat, Outputs, RunOptions as OurOptions};

use crate::conformance::analyzer::{AfterEstablished, Analyzer, RunOptions};
use crate::conformance::AnalyzerOutput;

/// Fixed uid seed: outputs are compared run against run, so they must be reproducible.
const CONFORMANCE_SEED: u64 = 1;

/// `tls_analyzer` as the conformance harness sees it.
#[derive(Debug, Default, Clone, Copy)]
pub struct TlsAnalyzer;

impl TlsAnalyzer {
    /// Our options for a Zeek test run's settings. Settings without a counterpart are left at
    /// their defaults; the harness records them next to any mismatch.
    pub fn options(opts: &RunOptions) -> OurOptions {
        let mut o = OurOptions::default();
        o.capture.seed = Some(CONFORMANCE_SEED);
        o.ssl.disable_analyzer_after_detection =
            !matches!(opts.after_established, AfterEstablished::Continue);
        if let AfterEstablished::StopAfterEncryptedData(n) = opts.after_established {
            o.ssl.min_encrypted_data_before_disable = n;
        }
        o.max_ssl_history_length = usize::try_from(opts.max_ssl_history_length).unwrap_or(100);
        o.log_columns.server_subject_issuer = opts.log_server_subject_issuer;
        o.log_columns.client_subject_issuer = opts.log_client_subject_issuer;
        o
    }
}

impl Analyzer for TlsAnalyzer {
    fn run(&self, capture: &Path, opts: &RunOptions) -> Result<AnalyzerOutput, String> {
        let ours = Self::options(opts);
        let input = [Input::Path(capture.to_path_buf())];
        let mut events = Vec::new();
        let mut log = Vec::new();
        let mut x509 = Vec::new();
        let outputs = Outputs {
            events: Some((EventFormat::Json, &mut events)),
            log: if opts.write_ssl_log {
                Some((LogFormat::Json, &mut log))
            } else {
                None
            },
        };
        // x509.log is written whenever ssl.log is (zeek-live compares both).
        let x509_out = opts
            .write_ssl_log
            .then_some((LogFormat::Json, &mut x509 as &mut dyn std::io::Write));
        run_with_x509(&input, &ours, outputs, x509_out).map_err(|e| e.to_string())?;
        Ok(AnalyzerOutput {
            events: String::from_utf8(events).map_err(|e| format!("events are not UTF-8: {e}"))?,
            ssl_log: String::from_utf8(log).map_err(|e| format!("ssl.log is not UTF-8: {e}"))?,
            x509_log: String::from_utf8(x509).map_err(|e| format!("x509.log is not UTF-8: {e}"))?,
        })
    }
}

impl crate::zeek_quic::QuicAnalyzer for TlsAnalyzer {
    /// quic.log and ssl.log as TSV (one run each, so that each is exactly what `tls-analyzer
    /// log --log quic` and `log` print) and the events as JSON Lines, with Zeek's QUIC options
    /// mapped to ours. `-C` needs nothing: the analyzer does not verify checksums.
    fn run(
        &self,
        trace: &Path,
        opts: &crate::zeek_quic::QuicOptions,
    ) -> Result<crate::zeek_quic::QuicRunOutput, String> {
        use tls_analyzer::run::{run_with_logs, OtherLogs};
        let mut ours = OurOptions::default();
        ours.capture.seed = Some(CONFORMANCE_SEED);
        ours.quic.max_history_length =
            usize::try_from(opts.max_history_length()).unwrap_or(usize::MAX);
        ours.quic.analyzer.max_discarded_packet_events = opts.max_discarded_packet_events();
        let input = [Input::Path(trace.to_path_buf())];
        let (mut events, mut ssl, mut quic) = (Vec::new(), Vec::new(), Vec::new());
        let outputs = Outputs {
            events: Some((EventFormat::Json, &mut events)),
            log: Some((LogFormat::Tsv, &mut ssl)),
        };
        let logs = OtherLogs {
            x509: None,
            quic: Some((LogFormat::Tsv, &mut quic)),
            tunnel: None,
        };
        run_with_logs(&input, &ours, outputs, logs).map_err(|e| e.to_string())?;
        let text = |b: Vec<u8>, what: &str| {
            String::from_utf8(b).map_err(|e| format!("{what} is not UTF-8: {e}"))
        };
        Ok(crate::zeek_quic::QuicRunOutput {
            quic_log_tsv: text(quic, "quic.log")?,
            ssl_log_tsv: text(ssl, "ssl.log")?,
            events_json: text(events, "the events")?,
        })
    }
}
