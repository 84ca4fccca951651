//! A stand-in analyzer that replays Zeek's own recorded output, for self-checks.
//!
//! In: the corpus root. Out: an [`Analyzer`] whose output for a capture is the zeek-live
//! `*.events.json` and `*.ssl.json` of that capture, optionally perturbed in memory. Comparing
//! zeek-live with itself must give no mismatch; comparing it with a perturbed copy must give
//! the perturbation back. This proves the comparator works, and can fail, before the real
//! analyzer exists.

use std::path::{Path, PathBuf};

use super::analyzer::{Analyzer, AnalyzerOutput, RunOptions};

/// A change applied to the replayed output of a capture (capture name, output).
pub type Perturbation = Box<dyn Fn(&str, &mut AnalyzerOutput) + Sync>;

/// Which runs the replay answers; the others fail, because zeek-live was recorded under
/// [`RunOptions::zeek_live`] only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayPolicy {
    /// Only runs with exactly zeek-live's options.
    Exact,
    /// Also runs whose options differ only where the SSL events of a well-formed capture do
    /// not depend on them: checksum checking, port registrations (the analyzer detects TLS by
    /// content), and whether ssl.log is written (then the replayed log is empty).
    SameEvents,
}

/// Replays zeek-live.
pub struct ReplayAnalyzer {
    root: PathBuf,
    /// Which runs are answered.
    pub policy: ReplayPolicy,
    /// Applied to every replayed output.
    pub perturb: Option<Perturbation>,
}

impl ReplayAnalyzer {
    /// Replays from the corpus at `root` (the directory holding `zeek/` and `zeek-live/`).
    pub fn new(root: &Path) -> Self {
        ReplayAnalyzer {
            root: root.to_owned(),
            policy: ReplayPolicy::Exact,
            perturb: None,
        }
    }
}

impl Analyzer for ReplayAnalyzer {
    fn run(&self, capture: &Path, opts: &RunOptions) -> Result<AnalyzerOutput, String> {
        let traces = self.root.join("zeek/traces");
        let name = capture
            .strip_prefix(&traces)
            .map_err(|_| format!("{} is not under {}", capture.display(), traces.display()))?
            .to_string_lossy()
            .replace('\\', "/");
        let live_opts = RunOptions::zeek_live();
        let answered = match self.policy {
            ReplayPolicy::Exact => *opts == live_opts,
            ReplayPolicy::SameEvents => {
                RunOptions {
                    ignore_checksums: live_opts.ignore_checksums,
                    well_known_ports: live_opts.well_known_ports,
                    write_ssl_log: live_opts.write_ssl_log,
                    ..opts.clone()
                } == live_opts
            }
        };
        if !answered {
            return Err(format!(
                "replay: zeek-live was recorded with Zeek's defaults, not with {opts:?}"
            ));
        }
        let live = self.root.join("zeek-live");
        let read = |suffix: &str| {
            let mut p = live.join(format!("{name}{suffix}"));
            // zeek-live names a gzip-compressed capture without its `.gz` (see `corpus`).
            if let (false, Some(plain)) = (p.is_file(), name.strip_suffix(".gz")) {
                p = live.join(format!("{plain}{suffix}"));
            }
            std::fs::read_to_string(&p).map_err(|e| format!("replay: {}: {e}", p.display()))
        };
        let mut out = AnalyzerOutput {
            events: read(".events.json")?,
            ssl_log: read(".ssl.json")?,
            // Older corpora have no x509.json: no rows.
            x509_log: read(".x509.json").unwrap_or_default(),
        };
        if !opts.write_ssl_log {
            out.ssl_log.clear();
        }
        if let Some(p) = &self.perturb {
            p(&name, &mut out);
        }
        Ok(out)
    }
}
