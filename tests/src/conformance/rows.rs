//! ssl.log comparison: expected rows against ours, column by column.
//!
//! In: expected rows (from `zeek/expected/*.ssl.json`, `*.ssl-partial.json`, `*.ssl-ext.json`
//! or `zeek-live/*.ssl.json`) and our rows. Out: mismatches per row and column.
//!
//! Rows are matched by connection, not by position: Zeek writes a row when the handshake is
//! established, on a violation, or when the connection ends (often at the end of the trace),
//! so its row order is an artefact of its timers. Each expected row, in order, takes the first
//! of our unmatched rows whose `id.*` columns agree with the ones it has; a row without `id.*`
//! columns takes the first unmatched row. Two rows of one 4-tuple are thus matched in order.
//! `ts` and `uid` are never compared.

use serde_json::{Map, Value};

use super::corpus::ConnId;
use super::mismatch::{Mismatch, MismatchKind, Tally};
use super::value::{Comparer, FieldDiff};

/// Columns never compared.
const IGNORED: [&str; 2] = ["ts", "uid"];

/// Which columns to compare.
#[derive(Debug, Clone)]
pub enum Columns {
    /// Every column of either row (zeek-live: both sides are complete logs).
    All,
    /// The columns of the expected row (expected files list every core column, null when
    /// unset; our extra columns, e.g. optional ones, are not part of that expectation).
    OfExpected,
    /// Only these columns (ssl-partial files, ssl-ext files).
    Only(Vec<String>),
}

/// Everything needed to report row mismatches.
#[derive(Debug, Clone)]
pub struct RowContext<'a> {
    /// Capture name.
    pub capture: &'a str,
    /// Expectation source.
    pub source: &'a str,
    /// Run notes to attach.
    pub notes: &'a [String],
}

/// Compares `expected` rows with `ours`; with `report_extra`, our rows left unmatched are
/// mismatches too (every source except ssl-ext files, which list only some rows).
#[allow(clippy::too_many_arguments)]
pub fn compare_rows(
    ctx: &RowContext<'_>,
    expected: &[Value],
    ours: &[Value],
    cmp: Comparer,
    columns: &Columns,
    report_extra: bool,
    tally: &mut Tally,
    out: &mut Vec<Mismatch>,
) {
    let mut used = vec![false; ours.len()];
    for (i, exp) in expected.iter().enumerate() {
        tally.rows += 1;
        let id = ConnId::from_row(exp);
        let found = ours.iter().enumerate().position(|(j, o)| {
            !used[j]
                && match (&id, ConnId::from_row(o)) {
                    (None, _) => true,
                    (Some(e), Some(g)) => e.matches(&g),
                    (Some(_), None) => false,
                }
        });
        let mut m = Mismatch::new(ctx.capture, ctx.source, MismatchKind::MissingRow);
        m.connection = id.as_ref().map(ToString::to_string);
        m.index = Some(i);
        m.notes = ctx.notes.to_vec();
        let Some(j) = found else {
            m.expected = exp.to_string();
            m.got = "<no row for this connection>".into();
            out.push(m);
            continue;
        };
        used[j] = true;
        let (e, g) = select(exp, &ours[j], columns);
        let mut diffs: Vec<FieldDiff> = Vec::new();
        tally.fields += cmp.compare(&Value::Object(e), Some(&Value::Object(g)), "", &mut diffs);
        for d in diffs {
            let mut v = m.clone();
            v.kind = MismatchKind::Value;
            v.field = Some(d.path);
            v.expected = d.expected;
            v.got = d.got;
            out.push(v);
        }
    }
    if report_extra {
        for (j, o) in ours.iter().enumerate().filter(|(j, _)| !used[*j]) {
            let mut m = Mismatch::new(ctx.capture, ctx.source, MismatchKind::ExtraRow);
            m.connection = ConnId::from_row(o).map(|c| c.to_string());
            m.index = Some(j);
            m.expected = "<no row>".into();
            m.got = o.to_string();
            m.notes = ctx.notes.to_vec();
            out.push(m);
        }
    }
}

/// The compared columns of both rows.
fn select(
    exp: &Value,
    ours: &Value,
    columns: &Columns,
) -> (Map<String, Value>, Map<String, Value>) {
    let empty = Map::new();
    let e = exp.as_object().unwrap_or(&empty);
    let g = ours.as_object().unwrap_or(&empty);
    let keep = |k: &String| -> bool {
        !IGNORED.contains(&k.as_str())
            && match columns {
                Columns::All => true,
                Columns::OfExpected => e.contains_key(k),
                Columns::Only(c) => c.contains(k),
            }
    };
    let es: Map<String, Value> = e
        .iter()
        .filter(|(k, _)| keep(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let gs: Map<String, Value> = g
        .iter()
        .filter(|(k, _)| keep(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (es, gs)
}
