//! Conformance with Zeek's tunnel regression tests (`zeek-tunnels/` of the conformance corpus):
//! the tunnel.log rows of every test, and for the traces of `live/` (TLS inside a tunnel) the
//! tunnel.log and ssl.log rows a running Zeek wrote.
//!
//! In: the corpus root. Out: per test, the rows compared and the mismatches, each a line that
//! names the test, the row and what differs; [`Deviations`] (`tests/conformance/
//! tunnel-deviations.toml`) lists those that are known, with a reason each.
//!
//! How rows are matched. Zeek's btest baselines mask `ts` (and uids are random), so a tunnel.log
//! row is its 4-tuple, tunnel type and action. `Tunnel::DISCOVER` rows must come in Zeek's
//! order (it is packet order). `CLOSE` and `EXPIRE` rows are compared as a multiset: Zeek writes
//! the `CLOSE` rows of tunnels still open at the end while it tears down its session table, in
//! the table's hash order, which says nothing about the traffic. Uids must be consistent: the
//! rows Zeek gives one uid, we give one uid (and the other way round). The live rows have real
//! timestamps, which must be equal too.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tls_analyzer::capture::Input;
use tls_analyzer::run::{run_with_logs, EventFormat, LogFormat, OtherLogs, Outputs, RunOptions};

use crate::conformance::corpus::parse_events;
use crate::conformance::live::compare_events;
use crate::conformance::mismatch::Tally;

/// One row of tunnel.log, as both sides write it.
#[derive(Debug, Clone, PartialEq)]
pub struct TunnelRow {
    /// `ts` (`None` when masked).
    pub ts: Option<String>,
    /// `uid` (`None` when absent or masked).
    pub uid: Option<String>,
    /// `orig_h orig_p resp_h resp_p`, space-separated.
    pub tuple: String,
    /// `Tunnel::GRE` ...
    pub tunnel_type: String,
    /// `Tunnel::DISCOVER` ...
    pub action: String,
}

impl TunnelRow {
    /// The row without its uid and time.
    pub fn key(&self) -> String {
        format!("{} {} {}", self.tuple, self.tunnel_type, self.action)
    }
}

/// Parses a tunnel.log in Zeek's TSV (with `#fields`) or as `zeek-cut -m` printed it (a first
/// line of column names).
pub fn parse_tsv(text: &str) -> Result<Vec<TunnelRow>, String> {
    let mut fields: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            fields = Some(f.split('\t').map(str::to_string).collect());
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let Some(names) = fields.as_ref() else {
            fields = Some(cols.iter().map(|s| s.to_string()).collect());
            continue;
        };
        let get = |name: &str| -> Option<String> {
            let i = names.iter().position(|n| n == name)?;
            cols.get(i).map(|s| s.to_string())
        };
        let need = |name: &str| get(name).ok_or_else(|| format!("no column {name} in {line:?}"));
        let masked = |v: Option<String>| v.filter(|s| !s.starts_with("XXXX") && s != "-");
        rows.push(TunnelRow {
            ts: masked(get("ts")),
            uid: masked(get("uid")),
            tuple: format!(
                "{} {} {} {}",
                need("id.orig_h")?,
                need("id.orig_p")?,
                need("id.resp_h")?,
                need("id.resp_p")?
            ),
            tunnel_type: need("tunnel_type")?,
            action: need("action")?,
        });
    }
    Ok(rows)
}

/// Parses tunnel.log as JSON Lines (Zeek's JSON writer, or ours).
pub fn parse_json(text: &str) -> Result<Vec<TunnelRow>, String> {
    let mut rows = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).map_err(|e| format!("{e}: {line}"))?;
        let s = |k: &str| {
            v.get(k)
                .map(|x| x.to_string().trim_matches('"').to_string())
        };
        rows.push(TunnelRow {
            ts: v
                .get("ts")
                .map(|t| format!("{:.6}", t.as_f64().unwrap_or(0.0))),
            uid: s("uid"),
            tuple: format!(
                "{} {} {} {}",
                s("id.orig_h").unwrap_or_default(),
                s("id.orig_p").unwrap_or_default(),
                s("id.resp_h").unwrap_or_default(),
                s("id.resp_p").unwrap_or_default()
            ),
            tunnel_type: s("tunnel_type").unwrap_or_default(),
            action: s("action").unwrap_or_default(),
        });
    }
    Ok(rows)
}

/// Compares tunnel.log rows (see the module doc); returns the mismatches, each a line.
pub fn compare_rows(test: &str, expected: &[TunnelRow], got: &[TunnelRow]) -> Vec<String> {
    let mut out = Vec::new();
    let discovers = |rows: &[TunnelRow]| -> Vec<String> {
        rows.iter()
            .filter(|r| r.action == "Tunnel::DISCOVER")
            .map(TunnelRow::key)
            .collect()
    };
    let (de, dg) = (discovers(expected), discovers(got));
    let mut i = 0;
    while i < de.len().max(dg.len()) {
        match (de.get(i), dg.get(i)) {
            (Some(e), Some(g)) if e == g => {}
            (e, g) => {
                out.push(format!(
                    "{test}: DISCOVER #{}: Zeek {}, ours {}",
                    i + 1,
                    e.map_or("(none)", String::as_str),
                    g.map_or("(none)", String::as_str)
                ));
            }
        }
        i += 1;
    }
    let mut rest: HashMap<String, i64> = HashMap::new();
    for r in expected.iter().filter(|r| r.action != "Tunnel::DISCOVER") {
        *rest.entry(r.key()).or_default() += 1;
    }
    for r in got.iter().filter(|r| r.action != "Tunnel::DISCOVER") {
        *rest.entry(r.key()).or_default() -= 1;
    }
    let mut rest: Vec<(String, i64)> = rest.into_iter().filter(|(_, n)| *n != 0).collect();
    rest.sort();
    for (k, n) in rest {
        if n > 0 {
            out.push(format!("{test}: missing row: {k}"));
        } else {
            out.push(format!("{test}: extra row: {k}"));
        }
    }
    // Timestamps, where Zeek's are real: row by row in order of the same key.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for e in expected {
        let n = seen.entry(e.key()).or_default();
        let g = got.iter().filter(|g| g.key() == e.key()).nth(*n);
        *n += 1;
        if let (Some(ets), Some(g)) = (e.ts.as_ref(), g) {
            if g.ts.as_ref() != Some(ets) {
                out.push(format!(
                    "{test}: ts of {}: Zeek {ets}, ours {}",
                    e.key(),
                    g.ts.as_deref().unwrap_or("-")
                ));
            }
        }
    }
    out.extend(uid_consistency(test, expected, got));
    out
}

/// The same tunnel (4-tuple and type) must have one uid on each side, and different tunnels
/// different uids, wherever both sides logged it.
fn uid_consistency(test: &str, expected: &[TunnelRow], got: &[TunnelRow]) -> Vec<String> {
    let mut out = Vec::new();
    let tunnel = |r: &TunnelRow| format!("{} {}", r.tuple, r.tunnel_type);
    let mut ours: HashMap<String, String> = HashMap::new();
    for g in got {
        match (g.uid.as_ref(), ours.get(&tunnel(g))) {
            (Some(u), Some(prev)) if u != prev => out.push(format!(
                "{test}: {} has two uids, {prev} and {u}",
                tunnel(g)
            )),
            (Some(u), None) => {
                ours.insert(tunnel(g), u.clone());
            }
            (None, _) => out.push(format!("{test}: {} has no uid", g.key())),
            _ => {}
        }
    }
    // Zeek's uids, where unmasked, pair with ours one to one.
    let mut pairs: HashMap<String, String> = HashMap::new();
    let mut back: HashMap<String, String> = HashMap::new();
    for e in expected {
        let (Some(zu), Some(ou)) = (e.uid.as_ref(), ours.get(&tunnel(e))) else {
            continue;
        };
        let a = pairs
            .entry(zu.clone())
            .or_insert_with(|| ou.clone())
            .clone();
        let b = back.entry(ou.clone()).or_insert_with(|| zu.clone()).clone();
        if &a != ou || &b != zu {
            out.push(format!(
                "{test}: uid {zu} (Zeek) does not pair with {ou} (ours)"
            ));
        }
    }
    out
}

/// One of Zeek's tunnel tests with a tunnel.log.
#[derive(Debug, Clone)]
pub struct TunnelTest {
    /// The test's folder name.
    pub name: String,
    /// The trace the test reads.
    pub trace: PathBuf,
    /// `Tunnel::max_depth` when the test sets it.
    pub max_depth: Option<usize>,
    /// Zeek's tunnel.log rows.
    pub expected: Vec<TunnelRow>,
}

/// The tests of `<root>/zeek-tunnels` that have a tunnel.log, in name order.
pub fn tests(root: &Path) -> Result<Vec<TunnelTest>, String> {
    let dir = root.join("zeek-tunnels");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.path().join("tunnel.log").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let d = dir.join(&name);
        let run = std::fs::read_to_string(d.join("run.txt")).map_err(|e| format!("{name}: {e}"))?;
        let trace = run
            .split_whitespace()
            .find_map(|w| w.strip_prefix("$TRACES/"))
            .ok_or_else(|| format!("{name}: no trace in run.txt"))?;
        let log =
            std::fs::read_to_string(d.join("tunnel.log")).map_err(|e| format!("{name}: {e}"))?;
        out.push(TunnelTest {
            trace: dir.join("traces").join(trace),
            max_depth: max_depth(&run),
            expected: parse_tsv(&log).map_err(|e| format!("{name}: {e}"))?,
            name,
        });
    }
    Ok(out)
}

/// `Tunnel::max_depth` as run.txt sets it, on the command line (`Tunnel::max_depth=1`) or in
/// the test's script (`redef Tunnel::max_depth = 2;`).
pub fn max_depth(run: &str) -> Option<usize> {
    let at = run.find("Tunnel::max_depth")?;
    let rest = run.get(at + "Tunnel::max_depth".len()..)?;
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// What our analyzer writes for a trace: tunnel.log and ssl.log as JSON Lines.
#[derive(Debug, Default)]
pub struct Ours {
    /// tunnel.log.
    pub tunnel: Vec<TunnelRow>,
    /// ssl.log rows.
    pub ssl: Vec<Value>,
    /// tunnel.log as TSV (for messages).
    pub tunnel_tsv: String,
    /// The events, as `tls-analyzer events --format json` prints them.
    pub events: String,
}

/// Runs our analyzer on `trace` (uids seeded) and returns its tunnel.log and ssl.log.
pub fn run_ours(trace: &Path, max_depth: Option<usize>) -> Result<Ours, String> {
    let mut opts = RunOptions::default();
    opts.capture.seed = Some(1);
    if let Some(d) = max_depth {
        opts.capture.tunnel_max_depth = d;
    }
    let input = [Input::Path(trace.to_path_buf())];
    let mut ssl = Vec::new();
    let mut tunnel = Vec::new();
    let mut events = Vec::new();
    let outputs = Outputs {
        events: Some((EventFormat::Json, &mut events)),
        log: Some((LogFormat::Json, &mut ssl)),
    };
    let logs = OtherLogs {
        tunnel: Some((LogFormat::Json, &mut tunnel)),
        ..OtherLogs::default()
    };
    run_with_logs(&input, &opts, outputs, logs).map_err(|e| e.to_string())?;
    let tunnel_text = String::from_utf8_lossy(&tunnel).into_owned();
    let ssl = String::from_utf8_lossy(&ssl)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<Vec<Value>, _>>()
        .map_err(|e| e.to_string())?;
    Ok(Ours {
        tunnel: parse_json(&tunnel_text)?,
        ssl,
        tunnel_tsv: tunnel_text,
        events: String::from_utf8_lossy(&events).into_owned(),
    })
}

/// Compares ssl.log rows by 4-tuple and order, every column but `uid`.
pub fn compare_ssl(test: &str, expected: &[Value], got: &[Value]) -> Vec<String> {
    let tuple = |v: &Value| {
        ["id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p"]
            .iter()
            .map(|k| v.get(*k).map(Value::to_string).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out = Vec::new();
    let mut used = vec![false; got.len()];
    for e in expected {
        let t = tuple(e);
        let Some(i) = (0..got.len()).find(|&i| !used[i] && tuple(&got[i]) == t) else {
            out.push(format!("{test}: ssl.log row {t} missing"));
            continue;
        };
        used[i] = true;
        let (Some(eo), Some(go)) = (e.as_object(), got[i].as_object()) else {
            continue;
        };
        let mut keys: Vec<&String> = eo.keys().chain(go.keys()).collect();
        keys.sort();
        keys.dedup();
        for k in keys.into_iter().filter(|k| *k != "uid") {
            if eo.get(k) != go.get(k) {
                out.push(format!(
                    "{test}: ssl.log {t} {k}: Zeek {}, ours {}",
                    eo.get(k).map_or("(absent)".into(), Value::to_string),
                    go.get(k).map_or("(absent)".into(), Value::to_string)
                ));
            }
        }
    }
    for (i, g) in got.iter().enumerate() {
        if !used[i] {
            out.push(format!("{test}: extra ssl.log row {}", tuple(g)));
        }
    }
    out
}

/// A trace of `live/`: what a running Zeek logged for it.
#[derive(Debug, Clone)]
pub struct LiveTest {
    /// `live/<trace>`.
    pub name: String,
    /// The trace.
    pub trace: PathBuf,
    /// Zeek's tunnel.log rows (with timestamps and uids).
    pub tunnel: Vec<TunnelRow>,
    /// Zeek's ssl.log rows.
    pub ssl: Vec<Value>,
    /// Zeek's events (JSON Lines, as zeek-live records them).
    pub events: String,
}

/// The traces of `live/`.
pub fn live_tests(root: &Path) -> Result<Vec<LiveTest>, String> {
    let live = root.join("zeek-tunnels/live/tunnels");
    let mut out = Vec::new();
    for sub in ["", "gtp/"] {
        let dir = live.join(sub);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter_map(|n| n.strip_suffix(".tunnel.json").map(str::to_string))
            .collect();
        names.sort();
        for n in names {
            let read = |suffix: &str| {
                std::fs::read_to_string(dir.join(format!("{n}{suffix}"))).unwrap_or_default()
            };
            let ssl = read(".ssl.json")
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(serde_json::from_str)
                .collect::<Result<Vec<Value>, _>>()
                .map_err(|e| format!("{n}: {e}"))?;
            out.push(LiveTest {
                name: format!("live/{sub}{n}"),
                trace: root.join("zeek-tunnels/traces/tunnels").join(sub).join(&n),
                tunnel: parse_json(&read(".tunnel.json"))?,
                ssl,
                events: read(".events.json"),
            });
        }
    }
    Ok(out)
}

/// Known deviations: a mismatch line is covered when it starts with `<test>: ` and contains
/// `what`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Deviations {
    /// The entries.
    #[serde(default)]
    pub deviation: Vec<Deviation>,
}

/// One known deviation.
#[derive(Debug, serde::Deserialize)]
pub struct Deviation {
    /// The test (folder name, or `live/<trace>`).
    pub test: String,
    /// A substring of the mismatch line.
    pub what: String,
    /// Why we differ.
    pub reason: String,
}

impl Deviations {
    /// `tests/conformance/tunnel-deviations.toml`.
    pub fn load() -> Result<Deviations, String> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/tunnel-deviations.toml");
        let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
    }

    /// The deviation covering `line`, if any.
    pub fn covering(&self, line: &str) -> Option<usize> {
        self.deviation.iter().position(|d| {
            line.starts_with(&format!("{}: ", d.test)) && line.contains(d.what.as_str())
        })
    }
}

/// Compares Zeek's SSL events of a live trace with ours (zeek-live's comparison: per connection,
/// aligned by event name and side, every argument). Returns the mismatches as lines and the
/// number of Zeek's events compared.
pub fn compare_live_events(
    test: &str,
    zeek: &str,
    ours: &str,
) -> Result<(Vec<String>, usize), String> {
    let z = parse_events(zeek, "Zeek's events")?;
    let o = parse_events(ours, "our events")?;
    let mut tally = Tally::default();
    let mut out = Vec::new();
    compare_events(test, &z, &o, &mut tally, &mut out);
    Ok((
        out.iter().map(|m| format!("{test}: events: {m}")).collect(),
        tally.events,
    ))
}
