//! Expectations from Zeek's regression tests (`zeek/expected/`), compared with our output.
//!
//! In: a capture's manifest entry and files. Out: [`Check`]s, each an expectation with the run
//! options it was made under; [`run_check`] compares one with our output of that run.
//!
//! * ssl.log (`*.ssl.json`, `*.ssl-partial.json`): every listed column, rows matched by
//!   connection (see [`super::rows`]).
//! * `*.ssl-ext.json`: only sources whose run loaded base scripts alone (history-length limit,
//!   subject/issuer columns); columns of policy scripts are not ours to produce and are counted
//!   as skipped.
//! * `*.events.json`, one check per printed group, by the group's `order`:
//!   - `exact`: the group is the sequence of all our events of the printed handlers, aligned
//!     by event name (so a dropped event shows as one missing event);
//!   - `subset` (and `exact` groups with a `filter` note): the group's events occur in our
//!     stream in this relative order;
//!   - `per-connection-unordered`: each event occurs on its connection with these values, and
//!     a printed handler absent for a connection did not occur on it.
//!
//!   An expected event's connection names only some id parts; those must agree with ours
//!   (`proto` is not part of our output and is not compared). `derived` values are computed
//!   from our arguments (`len(x)`, the length of the preceding client heartbeat record).
//! * `*.analyzer.json`: confirmations, violations and removals, in order, compared with our
//!   `analyzer_*` events; the kinds compared are those the group lists plus violations, which
//!   every source reported.

use serde_json::{Map, Value};

use super::analyzer::{PlannedRun, RunOptions};
use super::corpus::{read_jsonl, CaptureEntry, ConnId, Corpus, Event};
use super::live::{align, summarize};
use super::mismatch::{Mismatch, MismatchKind, Tally};
use super::rows::{compare_rows, Columns, RowContext};
use super::value::{join, Comparer, FieldDiff, Style};

/// One expectation and the run it was made under.
#[derive(Debug, Clone)]
pub struct Check {
    /// The expectation's source (`test:baseline`).
    pub source: String,
    /// Options for our run, and what they do not reproduce.
    pub plan: PlannedRun,
    /// What to compare.
    pub kind: CheckKind,
}

/// What a [`Check`] compares.
#[derive(Debug, Clone)]
pub enum CheckKind {
    /// ssl.log rows.
    SslRows {
        /// Expected rows.
        rows: Vec<Value>,
        /// Whether our unmatched rows are mismatches.
        report_extra: bool,
    },
    /// A printed event group.
    Events {
        /// Printed handlers: the events the group consists of.
        handlers: Vec<String>,
        /// `exact`, `subset` or `per-connection-unordered`.
        order: String,
        /// Whether a `filter` note says only some occurrences were printed.
        filtered: bool,
        /// The expected events.
        events: Vec<Value>,
    },
    /// Analyzer-level outcomes.
    Analyzer {
        /// The expected records.
        records: Vec<Value>,
    },
}

/// The checks of one capture, plus reasons for expectations that are not compared.
pub fn checks_for(
    corpus: &Corpus,
    entry: &CaptureEntry,
) -> Result<(Vec<Check>, Vec<String>), String> {
    let mut checks = Vec::new();
    let mut skipped = Vec::new();
    let Some(m) = &entry.manifest else {
        return Ok((checks, skipped));
    };
    let files = m.get("files").cloned().unwrap_or(Value::Null);
    let file = |k: &str| {
        files
            .get(k)
            .and_then(Value::as_str)
            .map(|f| corpus.zeek_file(f))
    };
    let src = |v: Option<&Value>| {
        v.and_then(|s| s.get("source"))
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned()
    };
    let mut ssl_rows = Vec::new();
    if let Some(p) = file("ssl") {
        ssl_rows = read_jsonl(&p)?;
        let s = m.get("ssl_source");
        checks.push(Check {
            source: src(s),
            plan: log_plan(s.and_then(|s| s.get("run"))),
            kind: CheckKind::SslRows {
                rows: ssl_rows.clone(),
                report_extra: true,
            },
        });
    }
    if let Some(p) = file("ssl_partial") {
        let s = m.get("ssl_partial_source");
        checks.push(Check {
            source: src(s),
            plan: log_plan(s.and_then(|s| s.get("run"))),
            kind: CheckKind::SslRows {
                rows: read_jsonl(&p)?,
                report_extra: true,
            },
        });
    }
    if let Some(p) = file("ssl_ext") {
        let rows = read_jsonl(&p)?;
        for source in distinct_sources(&rows) {
            let run = m.get("ssl_ext_sources").and_then(|s| s.get(&source));
            let base_only = run
                .and_then(|r| r.get("base_scripts_only"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if !base_only {
                skipped.push(format!(
                    "ssl-ext columns of {source}: written by policy scripts, not by the analyzer"
                ));
                continue;
            }
            let rows = rows
                .iter()
                .filter(|r| r.get("source").and_then(Value::as_str) == Some(source.as_str()))
                .map(|r| ext_row(r, &ssl_rows))
                .collect();
            checks.push(Check {
                source,
                plan: log_plan(run),
                kind: CheckKind::SslRows {
                    rows,
                    report_extra: false,
                },
            });
        }
    }
    if let Some(p) = file("events") {
        let events = read_jsonl(&p)?;
        for g in m
            .get("event_groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let source = src(Some(g));
            let strs = |k: &str| -> Vec<String> {
                g.get(k)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            };
            checks.push(Check {
                plan: plan(g.get("run")),
                kind: CheckKind::Events {
                    handlers: strs("printed_handlers"),
                    order: g
                        .get("order")
                        .and_then(Value::as_str)
                        .unwrap_or("exact")
                        .to_owned(),
                    filtered: g.get("filter").is_some(),
                    events: of_source(&events, &source),
                },
                source,
            });
        }
    }
    if let Some(p) = file("analyzer") {
        let records = read_jsonl(&p)?;
        for g in m
            .get("analyzer_groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let source = src(Some(g));
            checks.push(Check {
                plan: plan(g.get("run")),
                kind: CheckKind::Analyzer {
                    records: of_source(&records, &source),
                },
                source,
            });
        }
    }
    Ok((checks, skipped))
}

/// The plan of a run whose ssl.log rows are expected: whatever the script list says, Zeek
/// wrote the log.
fn log_plan(run: Option<&Value>) -> PlannedRun {
    let mut p = plan(run);
    p.options.write_ssl_log = true;
    p
}

fn plan(run: Option<&Value>) -> PlannedRun {
    match run {
        Some(r) => RunOptions::from_manifest_run(r),
        None => PlannedRun {
            options: RunOptions::default(),
            notes: vec!["the manifest gives no run options; Zeek's defaults used".into()],
        },
    }
}

fn distinct_sources(rows: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rows {
        if let Some(s) = r.get("source").and_then(Value::as_str) {
            if !out.iter().any(|o| o == s) {
                out.push(s.to_owned());
            }
        }
    }
    out
}

fn of_source(items: &[Value], source: &str) -> Vec<Value> {
    items
        .iter()
        .filter(|v| v.get("source").and_then(Value::as_str) == Some(source))
        .cloned()
        .collect()
}

/// An ssl-ext row as an ssl.log row: bookkeeping keys dropped, and the connection taken from
/// the ssl.json row it refers to when it has no `id.*` columns of its own.
fn ext_row(r: &Value, ssl_rows: &[Value]) -> Value {
    let mut o: Map<String, Value> = r.as_object().cloned().unwrap_or_default();
    o.remove("source");
    let row = o.remove("row");
    if ConnId::from_row(&Value::Object(o.clone())).is_none() {
        if let Some(base) = row
            .and_then(|v| v.as_u64())
            .and_then(|i| ssl_rows.get(usize::try_from(i).ok()?))
        {
            for k in ["id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p"] {
                if let Some(v) = base.get(k) {
                    o.insert(k.to_owned(), v.clone());
                }
            }
        }
    }
    Value::Object(o)
}

/// Compares one check with our output of its run.
pub fn run_check(
    capture: &str,
    check: &Check,
    ours: &[Event],
    our_rows: &[Value],
    tally: &mut Tally,
    out: &mut Vec<Mismatch>,
) {
    let base = {
        let mut m = Mismatch::new(capture, &check.source, MismatchKind::Value);
        m.notes = check.plan.notes.clone();
        m
    };
    match &check.kind {
        CheckKind::SslRows { rows, report_extra } => {
            let ctx = RowContext {
                capture,
                source: &check.source,
                notes: &check.plan.notes,
            };
            let cmp = Comparer {
                expected: Style::Expected,
                got: Style::Zeek,
            };
            compare_rows(
                &ctx,
                rows,
                our_rows,
                cmp,
                &Columns::OfExpected,
                *report_extra,
                tally,
                out,
            );
        }
        CheckKind::Events {
            handlers,
            order,
            filtered,
            events,
        } => {
            let exp: Vec<Expected> = events.iter().map(Expected::from_value).collect();
            let mine: Vec<&Event> = ours.iter().filter(|e| handlers.contains(&e.name)).collect();
            tally.events += exp.len();
            let g = GroupCtx {
                base,
                ours,
                tally,
                out,
            };
            match (order.as_str(), filtered) {
                ("exact", false) => exact(g, &exp, &mine),
                ("per-connection-unordered", _) => unordered(g, &exp, &mine, handlers),
                _ => subset(g, &exp, &mine),
            }
        }
        CheckKind::Analyzer { records } => analyzer(base, records, ours, tally, out),
    }
}

/// One expected event.
#[derive(Debug, Clone)]
struct Expected {
    name: String,
    conn: Option<ConnId>,
    is_client: Option<bool>,
    args: Map<String, Value>,
    derived: Map<String, Value>,
}

impl Expected {
    fn from_value(v: &Value) -> Expected {
        let mut args = v
            .get("args")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let conn = args
            .remove("c")
            .and_then(|c| c.get("id").map(ConnId::from_id));
        Expected {
            name: v
                .get("event")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned(),
            conn,
            is_client: v.get("is_client").and_then(Value::as_bool),
            args,
            derived: v
                .get("derived")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        }
    }

    fn render(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = &self.conn {
            parts.push(format!("c={c}"));
        }
        if let Some(b) = self.is_client {
            parts.push(format!("is_client={b}"));
        }
        for (k, v) in &self.args {
            parts.push(format!("{k}={}", super::value::render(v, Style::Expected)));
        }
        for (k, v) in &self.derived {
            parts.push(format!("{k}={v}"));
        }
        let s = format!("{}({})", self.name, parts.join(", "));
        if s.chars().count() > 240 {
            format!("{}…", s.chars().take(240).collect::<String>())
        } else {
            s
        }
    }

    /// Whether the event is on connection `c` (as far as the expectation names it).
    fn on(&self, c: &ConnId) -> bool {
        match &self.conn {
            Some(x) => x.matches(c),
            None => true,
        }
    }

    /// Whether our event `g` has every expected value.
    fn equals(&self, g: &Event, stream: &[Event]) -> bool {
        let mut d = Vec::new();
        self.compare(g, stream, &mut d);
        d.is_empty()
    }

    /// Compares with one of our events; `stream` is our whole stream (for derived values that
    /// look at earlier events).
    fn compare(&self, g: &Event, stream: &[Event], diffs: &mut Vec<FieldDiff>) -> usize {
        let cmp = Comparer {
            expected: Style::Expected,
            got: Style::Zeek,
        };
        let mut n = 0;
        if let Some(c) = &self.conn {
            n += 1;
            if !c.matches(&g.conn) {
                diffs.push(FieldDiff {
                    path: "c.id".into(),
                    expected: c.to_string(),
                    got: g.conn.to_string(),
                });
            }
        }
        if let Some(b) = self.is_client {
            n += cmp.compare(&Value::Bool(b), g.args.get("is_client"), "is_client", diffs);
        }
        for (k, v) in &self.args {
            n += cmp.compare(v, g.args.get(k), &join("args", k), diffs);
        }
        for (k, v) in &self.derived {
            n += 1;
            let got = derive(k, g, stream);
            let ok = matches!((&got, v.as_u64()), (Some(a), Some(b)) if *a == b);
            if !ok {
                diffs.push(FieldDiff {
                    path: format!("derived.{k}"),
                    expected: v.to_string(),
                    got: got.map_or_else(
                        || "<cannot be derived from our event>".into(),
                        |a| a.to_string(),
                    ),
                });
            }
        }
        n
    }
}

/// Computes a `derived` value from our event.
fn derive(key: &str, g: &Event, stream: &[Event]) -> Option<u64> {
    if let Some(arg) = key.strip_prefix("len(").and_then(|k| k.strip_suffix(')')) {
        return match g.args.get(arg)? {
            Value::String(s) => {
                u64::try_from(super::value::string_bytes(s, Style::Zeek).len()).ok()
            }
            Value::Array(a) => u64::try_from(a.len()).ok(),
            _ => None,
        };
    }
    if key == "length_of_preceding_client_heartbeat_record" {
        // The heartbleed policy compares a server record with the client heartbeat before it:
        // an encrypted record of content type 24, or a cleartext heartbeat.
        return stream[..g.seq.min(stream.len())]
            .iter()
            .rev()
            .find_map(|e| {
                let client = e.args.get("is_client").and_then(Value::as_bool) == Some(true);
                let heartbeat = e.name == "ssl_heartbeat"
                    || (e.name == "ssl_encrypted_data"
                        && e.args.get("content_type").and_then(Value::as_u64) == Some(24));
                (e.conn == g.conn && client && heartbeat)
                    .then(|| e.args.get("length").and_then(Value::as_u64))
                    .flatten()
            });
    }
    None
}

/// Shared state of one group comparison.
struct GroupCtx<'a> {
    base: Mismatch,
    ours: &'a [Event],
    tally: &'a mut Tally,
    out: &'a mut Vec<Mismatch>,
}

impl GroupCtx<'_> {
    fn push_diffs(&mut self, i: usize, e: &Expected, g: &Event, diffs: Vec<FieldDiff>) {
        for d in diffs {
            let mut m = self.base.clone();
            m.connection = Some(g.conn.to_string());
            m.index = Some(i);
            m.event = Some(e.name.clone());
            m.field = Some(d.path);
            m.expected = d.expected;
            m.got = d.got;
            self.out.push(m);
        }
    }

    fn missing(&mut self, i: usize, e: &Expected, why: &str) {
        let mut m = self.base.clone();
        m.kind = MismatchKind::MissingEvent;
        m.connection = e.conn.as_ref().map(ToString::to_string);
        m.index = Some(i);
        m.event = Some(e.name.clone());
        m.expected = e.render();
        m.got = why.to_owned();
        self.out.push(m);
    }

    fn extra(&mut self, j: usize, g: &Event, why: &str) {
        let mut m = self.base.clone();
        m.kind = MismatchKind::ExtraEvent;
        m.connection = Some(g.conn.to_string());
        m.index = Some(j);
        m.event = Some(g.name.clone());
        m.expected = why.to_owned();
        m.got = summarize(g, Style::Zeek);
        self.out.push(m);
    }
}

fn exact(mut g: GroupCtx<'_>, exp: &[Expected], mine: &[&Event]) {
    let ek: Vec<&str> = exp.iter().map(|e| e.name.as_str()).collect();
    let gk: Vec<&str> = mine.iter().map(|e| e.name.as_str()).collect();
    for pair in align(&ek, &gk) {
        match pair {
            (Some(i), Some(j)) => {
                let mut diffs = Vec::new();
                g.tally.fields += exp[i].compare(mine[j], g.ours, &mut diffs);
                g.push_diffs(i, &exp[i], mine[j], diffs);
            }
            (Some(i), None) => g.missing(i, &exp[i], "<no such event at this point of our stream>"),
            (None, Some(j)) => g.extra(j, mine[j], "<the group has no such event at this point>"),
            (None, None) => {}
        }
    }
}

fn subset(mut g: GroupCtx<'_>, exp: &[Expected], mine: &[&Event]) {
    let mut cursor = 0;
    for (i, e) in exp.iter().enumerate() {
        let found =
            (cursor..mine.len()).find(|&j| mine[j].name == e.name && e.equals(mine[j], g.ours));
        match found {
            Some(j) => {
                g.tally.fields += e.compare(mine[j], g.ours, &mut Vec::new());
                cursor = j + 1;
            }
            None => {
                // Show the differences of the closest candidate, which is what a human needs.
                let later: Vec<&Event> = mine[cursor..].to_vec();
                match closest(e, &later, g.ours) {
                    Some((o, n, d)) => {
                        g.tally.fields += n;
                        g.push_diffs(i, e, o, d);
                    }
                    None => g.missing(i, e, "<no such event later in our stream>"),
                }
            }
        }
    }
}

/// Among our events of the expected name on its connection, the one with the fewest
/// differences (the first on ties), with the fields compared and the differences.
fn closest<'a>(
    e: &Expected,
    cands: &[&'a Event],
    stream: &[Event],
) -> Option<(&'a Event, usize, Vec<FieldDiff>)> {
    let mut best: Option<(&'a Event, usize, Vec<FieldDiff>)> = None;
    for o in cands.iter().filter(|o| o.name == e.name && e.on(&o.conn)) {
        let mut d = Vec::new();
        let n = e.compare(o, stream, &mut d);
        let better = match &best {
            None => true,
            Some(b) => d.len() < b.2.len(),
        };
        if better {
            best = Some((o, n, d));
        }
    }
    best
}

fn unordered(mut g: GroupCtx<'_>, exp: &[Expected], mine: &[&Event], handlers: &[String]) {
    for (i, e) in exp.iter().enumerate() {
        let cands: Vec<&Event> = mine
            .iter()
            .copied()
            .filter(|o| o.name == e.name && e.on(&o.conn))
            .collect();
        match closest(e, &cands, g.ours) {
            Some((o, n, d)) => {
                g.tally.fields += n;
                g.push_diffs(i, e, o, d);
            }
            None => g.missing(i, e, "<no such event on this connection>"),
        }
    }
    // An unset column means the event did not occur on that connection.
    let conns: Vec<&ConnId> = exp.iter().filter_map(|e| e.conn.as_ref()).collect();
    for (j, o) in mine.iter().enumerate() {
        let Some(c) = conns.iter().find(|c| c.matches(&o.conn)) else {
            continue;
        };
        let expected_here = exp
            .iter()
            .any(|e| e.name == o.name && e.conn.as_ref() == Some(*c));
        if handlers.contains(&o.name) && !expected_here {
            g.extra(
                j,
                o,
                "<the test's column is unset: no such event on this connection>",
            );
        }
    }
}

/// An analyzer-level outcome: kind, analyzer, reason, connection.
type Outcome = (String, String, Option<String>, ConnId);

fn our_outcomes(ours: &[Event]) -> Vec<Outcome> {
    ours.iter()
        .filter_map(|e| {
            let kind = match e.name.as_str() {
                "analyzer_confirmation_info" => "confirmation",
                "analyzer_violation_info" => "violation",
                "analyzer_disabled" => "disabled",
                _ => return None,
            };
            let atype = e.args.get("atype").and_then(Value::as_str).unwrap_or("?");
            let short = atype.strip_prefix("Analyzer::ANALYZER_").unwrap_or(atype);
            let reason = e
                .args
                .get("reason")
                .and_then(Value::as_str)
                .map(str::to_owned);
            Some((kind.to_owned(), short.to_owned(), reason, e.conn.clone()))
        })
        .collect()
}

fn analyzer(
    base: Mismatch,
    records: &[Value],
    ours: &[Event],
    tally: &mut Tally,
    out: &mut Vec<Mismatch>,
) {
    let exp: Vec<Outcome> = records
        .iter()
        .map(|r| {
            let s = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_owned);
            let conn = r
                .get("c")
                .and_then(|c| c.get("id"))
                .map_or_else(|| ConnId::from_id(&Value::Null), ConnId::from_id);
            (
                s("kind").unwrap_or_default(),
                s("analyzer").unwrap_or_default(),
                s("reason"),
                conn,
            )
        })
        .collect();
    let mut kinds: Vec<&str> = exp.iter().map(|e| e.0.as_str()).collect();
    kinds.push("violation");
    let mine: Vec<Outcome> = our_outcomes(ours)
        .into_iter()
        .filter(|o| kinds.contains(&o.0.as_str()))
        .collect();
    tally.events += exp.len();
    let render = |o: &Outcome| {
        format!(
            "{} {} {}{}",
            o.0,
            o.1,
            o.3,
            o.2.as_ref().map_or(String::new(), |r| format!(": {r}"))
        )
    };
    let ek: Vec<&str> = exp.iter().map(|e| e.0.as_str()).collect();
    let gk: Vec<&str> = mine.iter().map(|e| e.0.as_str()).collect();
    for pair in align(&ek, &gk) {
        let mut m = base.clone();
        match pair {
            (Some(i), Some(j)) => {
                let (e, g) = (&exp[i], &mine[j]);
                tally.fields += 3;
                if e.1 != g.1 || !e.3.matches(&g.3) || (e.2.is_some() && e.2 != g.2) {
                    m.connection = Some(g.3.to_string());
                    m.index = Some(i);
                    m.event = Some(format!("analyzer {}", e.0));
                    m.expected = render(e);
                    m.got = render(g);
                    out.push(m);
                }
            }
            (Some(i), None) => {
                m.kind = MismatchKind::MissingEvent;
                m.connection = Some(exp[i].3.to_string());
                m.index = Some(i);
                m.event = Some(format!("analyzer {}", exp[i].0));
                m.expected = render(&exp[i]);
                m.got = "<not reported by us>".into();
                out.push(m);
            }
            (None, Some(j)) => {
                m.kind = MismatchKind::ExtraEvent;
                m.connection = Some(mine[j].3.to_string());
                m.index = Some(j);
                m.event = Some(format!("analyzer {}", mine[j].0));
                m.expected = "<not reported by Zeek>".into();
                m.got = render(&mine[j]);
                out.push(m);
            }
            (None, None) => {}
        }
    }
}
