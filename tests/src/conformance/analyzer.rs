//! The contract between the conformance harness and the analyzer under test.
//!
//! In: a capture path and [`RunOptions`] (what a Zeek test run changed from the defaults).
//! Out: an [`AnalyzerOutput`] with two JSON Lines texts, the event stream and the `ssl.log`
//! rows, in the formats of DESIGN §5 (the same formats as `zeek-live/*.events.json` and
//! `zeek-live/*.ssl.json`). The integrator implements [`Analyzer`] on top of the real analyzer;
//! the harness never looks inside it.
//!
//! [`RunOptions::from_manifest_run`] turns a run description of `zeek/manifest.json` into
//! options, and records every part of the run that the options cannot express, so that a
//! report about a mismatch also says which Zeek set-up was not reproduced.

use std::path::Path;

use serde_json::Value;

/// Runs the analyzer on one capture.
///
/// Implementations must be deterministic: the harness may run the same capture several times
/// with different options and compares the outputs with fixed expectations.
pub trait Analyzer {
    /// Analyzes `capture` (pcap or pcapng, possibly gzip-compressed) with `opts`.
    ///
    /// An `Err` is reported as a mismatch of the capture (the analyzer could not run), not as
    /// a panic, so one broken capture does not hide the results of the others.
    fn run(&self, capture: &Path, opts: &RunOptions) -> Result<AnalyzerOutput, String>;
}

/// What the analyzer produced for one capture.
///
/// `events`: one JSON object per line, in the order the events were raised:
/// `{"ts": <float>, "uid": "C...", "id": {"orig_h", "orig_p", "resp_h", "resp_p"},
/// "event": "<name>", "args": {...}}`. `args` are named after the event's parameters and do not
/// contain the connection; `is_client` is an ordinary argument. Byte strings are JSON strings
/// with Zeek's escaping (`\xNN` for bytes outside printable ASCII). Besides the `ssl_*` events
/// the stream carries the analyzer-level outcomes the harness compares:
/// * `conn_weird` with `{"name", "addl", "source"}` for every weird the analyzer raises;
/// * `analyzer_violation_info` with `{"atype": "Analyzer::ANALYZER_SSL"|"Analyzer::ANALYZER_DTLS",
///   "reason": <text>}`;
/// * `analyzer_confirmation_info` with `{"atype"}` when the analyzer confirms the protocol;
/// * `analyzer_disabled` with `{"atype"}` when the analyzer is removed from a connection for a
///   reason other than the end of the connection (this one is not a Zeek event; it stands for the
///   `disabled` records of Zeek's analyzer debug log).
///
/// `ssl_log`: one JSON object per `ssl.log` row with Zeek's JSON field names (`id.orig_h` ...);
/// unset columns are absent. Row order does not matter (see `expected::compare_ssl_rows`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnalyzerOutput {
    /// The event stream, JSON Lines.
    pub events: String,
    /// The `ssl.log` rows, JSON Lines.
    pub ssl_log: String,
    /// The `x509.log` rows, JSON Lines, in the order they were logged (compared in order with
    /// `zeek-live/*.x509.json`; `ts` is not compared).
    pub x509_log: String,
}

/// What happens to a connection's analyzer after `ssl_established`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AfterEstablished {
    /// Zeek's default (`SSL::disable_analyzer_after_detection=T`): the analyzer stops right after
    /// `ssl_established`, so no later record is reported.
    #[default]
    Stop,
    /// `SSL::disable_analyzer_after_detection=F` (also what the heartbleed policy does): the
    /// analyzer keeps reporting records until the connection ends.
    Continue,
    /// The removal is vetoed until this many `ssl_encrypted_data` events were raised on the
    /// connection (counted from its start); the event that reaches the count removes the analyzer.
    /// This is the `Analyzer::disabling_analyzer` hook of Zeek's `prevent-disable-analyzer` test.
    StopAfterEncryptedData(u32),
}

/// Which transport a [`PortRegistration`] is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// Which analyzer a [`PortRegistration`] attaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolKind {
    /// TLS and SSLv2 over TCP.
    Ssl,
    /// DTLS over UDP.
    Dtls,
}

/// An extra well-known port a test registered for an analyzer: traffic on it is handed to the
/// analyzer even when its content does not look like the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRegistration {
    /// The analyzer to attach.
    pub analyzer: ProtocolKind,
    /// The transport of the port.
    pub transport: Transport,
    /// The port number.
    pub port: u16,
}

/// Options of one analyzer run: the Zeek settings that change SSL events or `ssl.log`.
///
/// `Default` is Zeek with all base scripts loaded and default settings, but honouring packet
/// checksums; [`RunOptions::zeek_live`] is the set-up behind `zeek-live/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RunOptions {
    /// `zeek -C`: process packets whose checksums are wrong.
    pub ignore_checksums: bool,
    /// Whether the analyzer keeps running after `ssl_established`.
    pub after_established: AfterEstablished,
    /// `SSL::max_ssl_history_length` (Zeek's default is 100); longer histories are truncated
    /// and raise one weird.
    pub max_ssl_history_length: u32,
    /// `SSL::log_include_server_certificate_subject_issuer`: add `subject` and `issuer`.
    pub log_server_subject_issuer: bool,
    /// `SSL::log_include_client_certificate_subject_issuer`: add `client_subject` and
    /// `client_issuer`.
    pub log_client_subject_issuer: bool,
    /// Whether the SSL analyzer is registered on its well-known ports. `false` is a bare Zeek
    /// run without the SSL scripts, where only content signatures attach the analyzer.
    pub well_known_ports: bool,
    /// Extra port registrations made by a test.
    pub extra_ports: Vec<PortRegistration>,
    /// Whether `ssl.log` is written at all (bare runs without the SSL scripts write none).
    pub write_ssl_log: bool,
    /// Emit the deprecated `ssl_server_curve` event (compatibility flag of DESIGN §7).
    pub ssl_server_curve: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            ignore_checksums: false,
            after_established: AfterEstablished::Stop,
            max_ssl_history_length: ZEEK_DEFAULT_MAX_SSL_HISTORY_LENGTH,
            log_server_subject_issuer: false,
            log_client_subject_issuer: false,
            well_known_ports: true,
            extra_ports: Vec::new(),
            write_ssl_log: true,
            ssl_server_curve: false,
        }
    }
}

/// Zeek's default for `SSL::max_ssl_history_length`.
pub const ZEEK_DEFAULT_MAX_SSL_HISTORY_LENGTH: u32 = 100;

/// Options together with the parts of the Zeek run they could not express.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRun {
    /// The options to run the analyzer with.
    pub options: RunOptions,
    /// Parts of the run that the options do not reproduce, each with why it does or does not
    /// matter; shown next to any mismatch of that run.
    pub notes: Vec<String>,
}

impl RunOptions {
    /// The set-up behind `zeek-live/`: `zeek -C -r CAPTURE` with default scripts and settings.
    pub fn zeek_live() -> Self {
        RunOptions {
            ignore_checksums: true,
            ..RunOptions::default()
        }
    }

    /// Translates a `run` object of `zeek/manifest.json`.
    ///
    /// Settings that do not change SSL events or core `ssl.log` columns (certificate stores,
    /// CT log lists, policy hooks, record extensions) are noted as ignored; set-ups that would
    /// matter but have no option are noted as not reproduced.
    pub fn from_manifest_run(run: &Value) -> PlannedRun {
        let mut o = RunOptions::default();
        let mut notes = Vec::new();
        let flag = |k: &str| run.get(k).and_then(Value::as_bool).unwrap_or(false);
        let strings = |k: &str| -> Vec<String> {
            run.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        o.ignore_checksums = flag("ignore_checksums");
        if flag("bare_mode") {
            // A bare run loads only what it names; without the SSL scripts there is neither a
            // port registration nor an ssl.log.
            let mut loaded = strings("scripts_loaded_by_test");
            loaded.extend(strings("extra_scripts_on_command_line"));
            // Policy scripts under protocols/ssl load the base SSL scripts themselves.
            let ssl_loaded = loaded.iter().any(|s| s.contains("protocols/ssl"));
            if !ssl_loaded {
                o.well_known_ports = false;
                o.write_ssl_log = false;
            }
        }
        let mut assignments = strings("redefs");
        assignments.extend(strings("command_line_assignments"));
        for a in &assignments {
            let compact: String = a.chars().filter(|c| !c.is_whitespace()).collect();
            match compact.as_str() {
                "SSL::disable_analyzer_after_detection=F" => {
                    o.after_established = AfterEstablished::Continue;
                }
                "SSL::disable_analyzer_after_detection=T" => {
                    o.after_established = AfterEstablished::Stop;
                }
                "SSL::log_include_server_certificate_subject_issuer=T" => {
                    o.log_server_subject_issuer = true;
                }
                "SSL::log_include_client_certificate_subject_issuer=T" => {
                    o.log_client_subject_issuer = true;
                }
                _ => {
                    if let Some(n) = compact.strip_prefix("SSL::max_ssl_history_length=") {
                        match n.parse() {
                            Ok(n) => o.max_ssl_history_length = n,
                            Err(_) => notes.push(format!("not reproduced: `{a}` (bad number)")),
                        }
                    } else {
                        notes.push(format!(
                            "ignored: `{a}` (does not change SSL events or core ssl.log columns)"
                        ));
                    }
                }
            }
        }
        if let Some(b) = run.get("behaviour_to_mimic").and_then(Value::as_str) {
            if b.contains("DTLS analyzer is additionally registered for 53/udp") {
                o.extra_ports.push(PortRegistration {
                    analyzer: ProtocolKind::Dtls,
                    transport: Transport::Udp,
                    port: 53,
                });
            } else if b.contains("vetoed until 4 ssl_encrypted_data") {
                o.after_established = AfterEstablished::StopAfterEncryptedData(4);
            } else if b.contains("max_ssl_history_length") {
                // Already set from the command-line assignment of the same run.
            } else if b.contains("heartbleed policy keeps the analyzer") {
                o.after_established = AfterEstablished::Continue;
            } else if b.contains("attached only by content signatures")
                || b.contains("via signature")
                || b.contains("signature file only")
                || b.contains("found by signature")
            {
                // The analyzer detects TLS by content on any port; nothing to set beyond what
                // the bare-mode rule above derived.
                notes.push(format!("by content detection: {b}"));
            } else {
                notes.push(format!("not reproduced: {b}"));
            }
        }
        for h in strings("hooks") {
            if h != "Analyzer::disabling_analyzer" {
                notes.push(format!("ignored hook: {h}"));
            }
        }
        if !flag("base_scripts_only") {
            notes.push(
                "policy scripts were loaded; only their effect on SSL events is compared".into(),
            );
        }
        PlannedRun { options: o, notes }
    }
}
