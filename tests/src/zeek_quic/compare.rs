//! Comparing one produced file with its baseline, row by row and column by column.
//!
//! In: the baseline and our file as [`Table`]s of the same [`Form`], and the [`Rules`] of that
//! file. Out: a [`FileDiff`]: the header's mismatches and, per compared row, its mismatches,
//! each naming the row, the column, the expected and the got value.
//!
//! Rules, as Zeek's btest baselines call for:
//! * a log's columns and their `#types` must be Zeek's (the order of columns may differ);
//! * a masked baseline timestamp ([`MASKED_TIME`]) matches any value;
//! * `uid` columns are never compared (the uids are Zeek's), but the same baseline uid must map
//!   to the same uid of ours throughout the file;
//! * in printed lines, uid-looking parts are replaced on both sides by `UID1`, `UID2`, ... in
//!   order of first appearance, numbering again after each line the test `echo`ed (each run);
//! * rows pair up by connection (`id.*` columns, then order) when both sides have those columns,
//!   by position otherwise; printed lines by a longest common subsequence (see [`pair_lines`]).

use std::collections::{BTreeMap, HashMap};

use super::table::{Form, Table, MASKED_TIME};
use crate::conformance::live::align;

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The 1-based row (of the baseline; of ours for an extra row); 0 for the header.
    pub row: usize,
    /// The column name (`field N` for printed lines, `(row)` for a whole missing or extra row,
    /// `(header)` for a cut file's header line).
    pub column: String,
    /// The baseline's value.
    pub expected: String,
    /// Our value.
    pub got: String,
}

/// The comparison of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileDiff {
    /// Mismatches of the header (columns).
    pub header: Vec<Mismatch>,
    /// One entry per compared row (pairs, missing and extra rows), with its mismatches.
    pub rows: Vec<Vec<Mismatch>>,
}

/// What to compare in a file.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// Compare only these columns (weird.log: `name`, `addl`); `None`: all.
    pub only_columns: Option<Vec<String>>,
    /// For printed lines: the lines `echo` wrote, after which uid numbering restarts.
    pub run_markers: Vec<String>,
}

const UID_COLUMNS: [&str; 1] = ["uid"];
const ID_COLUMNS: [&str; 4] = ["id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p"];

/// Whether a printed part looks like a Zeek connection uid (`C` and 9 to 19 base62 characters).
pub fn looks_like_uid(s: &str) -> bool {
    s.len() >= 10
        && s.len() <= 20
        && s.starts_with('C')
        && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Replaces uid-looking parts of printed lines by `UIDn` (see the module docs).
pub fn placeholder_uids(t: &mut Table, run_markers: &[String]) {
    let mut map: HashMap<String, usize> = HashMap::new();
    for row in &mut t.rows {
        if row.len() == 1 && run_markers.contains(&row[0]) {
            map.clear();
            continue;
        }
        for cell in row.iter_mut() {
            if looks_like_uid(cell) {
                let next = map.len() + 1;
                let n = *map.entry(cell.clone()).or_insert(next);
                *cell = format!("UID{n}");
            }
        }
    }
}

fn row_key(t: &Table, row: &[String]) -> Option<Vec<String>> {
    ID_COLUMNS
        .iter()
        .map(|c| t.cell(row, c).map(str::to_string))
        .collect()
}

/// Pairs baseline rows with ours: `(Some(e), Some(o))`, `(Some(e), None)` (missing),
/// `(None, Some(o))` (extra).
fn pair_rows(exp: &Table, got: &Table) -> Vec<(Option<usize>, Option<usize>)> {
    if exp.form == Form::Lines {
        return pair_lines(exp, got);
    }
    let keyed = exp.form != Form::Lines
        && ID_COLUMNS
            .iter()
            .all(|c| exp.column(c).is_some() && got.column(c).is_some());
    if !keyed {
        let n = exp.rows.len().max(got.rows.len());
        return (0..n)
            .map(|i| {
                (
                    (i < exp.rows.len()).then_some(i),
                    (i < got.rows.len()).then_some(i),
                )
            })
            .collect();
    }
    // Our rows by connection, in order; each baseline row takes the first unused one.
    let mut ours: BTreeMap<Vec<String>, Vec<usize>> = BTreeMap::new();
    for (i, r) in got.rows.iter().enumerate().rev() {
        if let Some(k) = row_key(got, r) {
            ours.entry(k).or_default().push(i);
        }
    }
    let mut used = vec![false; got.rows.len()];
    let mut pairs = Vec::new();
    for (e, r) in exp.rows.iter().enumerate() {
        let o = row_key(exp, r).and_then(|k| ours.get_mut(&k).and_then(Vec::pop));
        if let Some(o) = o {
            used[o] = true;
        }
        pairs.push((Some(e), o));
    }
    for (o, u) in used.iter().enumerate() {
        if !u {
            pairs.push((None, Some(o)));
        }
    }
    pairs
}

/// Printed lines pair up by a longest common subsequence of whole lines; between two equal
/// lines, the differing ones pair up in order (a changed value is a value mismatch), and the
/// rest are missing or extra (a dropped event is one missing line, not a shift of all after it).
fn pair_lines(exp: &Table, got: &Table) -> Vec<(Option<usize>, Option<usize>)> {
    let key = |t: &Table| -> Vec<String> { t.rows.iter().map(|r| r.join(", ")).collect() };
    let mut pairs = Vec::new();
    let (mut pe, mut pg) = (Vec::new(), Vec::new());
    let flush = |pairs: &mut Vec<_>, pe: &mut Vec<usize>, pg: &mut Vec<usize>| {
        for k in 0..pe.len().max(pg.len()) {
            pairs.push((pe.get(k).copied(), pg.get(k).copied()));
        }
        pe.clear();
        pg.clear();
    };
    for p in align(&key(exp), &key(got)) {
        match p {
            (Some(e), None) => pe.push(e),
            (None, Some(g)) => pg.push(g),
            both => {
                flush(&mut pairs, &mut pe, &mut pg);
                pairs.push(both);
            }
        }
    }
    flush(&mut pairs, &mut pe, &mut pg);
    pairs
}

fn column_names(t: &Table, width: usize) -> Vec<String> {
    match t.form {
        Form::Lines => (1..=width).map(|i| format!("field {i}")).collect(),
        _ => t.columns.clone(),
    }
}

/// Compares our file with the baseline.
pub fn compare(exp: &Table, got: &Table, rules: &Rules) -> FileDiff {
    let mut diff = FileDiff::default();
    let (mut exp, mut got) = (exp.clone(), got.clone());
    if exp.form == Form::Lines {
        placeholder_uids(&mut exp, &rules.run_markers);
        placeholder_uids(&mut got, &rules.run_markers);
    }
    let wanted = |c: &str| {
        !UID_COLUMNS.contains(&c)
            && match &rules.only_columns {
                None => true,
                Some(o) => o.iter().any(|x| x == c),
            }
    };
    match exp.form {
        Form::Cut if exp.columns != got.columns => diff.header.push(Mismatch {
            row: 0,
            column: "(header)".into(),
            expected: exp.columns.join("\t"),
            got: got.columns.join("\t"),
        }),
        Form::ZeekLog => {
            for c in exp.columns.iter().filter(|c| got.column(c).is_none()) {
                diff.header.push(Mismatch {
                    row: 0,
                    column: c.clone(),
                    expected: "column present".into(),
                    got: "column absent".into(),
                });
            }
            // Column types, where the baseline has them (a cut has none).
            for (c, t) in exp.columns.iter().zip(&exp.types) {
                let Some(i) = got.column(c) else { continue };
                let ours = got.types.get(i).map_or("(no #types)", String::as_str);
                if ours != t {
                    diff.header.push(Mismatch {
                        row: 0,
                        column: c.clone(),
                        expected: format!("type {t}"),
                        got: format!("type {ours}"),
                    });
                }
            }
            for c in got.columns.iter().filter(|c| exp.column(c).is_none()) {
                diff.header.push(Mismatch {
                    row: 0,
                    column: c.clone(),
                    expected: "column absent".into(),
                    got: "column present".into(),
                });
            }
        }
        _ => {}
    }
    let mut uid_map: HashMap<String, String> = HashMap::new();
    for (e, o) in pair_rows(&exp, &got) {
        let mut row_mm = Vec::new();
        match (e, o) {
            (Some(e), Some(o)) => {
                let (er, or) = (&exp.rows[e], &got.rows[o]);
                let width = er.len().max(or.len());
                let names = column_names(&exp, width);
                if exp.form == Form::Lines && er.len() != or.len() {
                    row_mm.push(Mismatch {
                        row: e + 1,
                        column: "(line)".into(),
                        expected: er.join(", "),
                        got: or.join(", "),
                    });
                }
                for (i, name) in names.iter().enumerate() {
                    let ev = er.get(i).map_or("", String::as_str);
                    // By name in a log (our columns may be ordered differently), by position
                    // otherwise (a cut's names may be empty).
                    let gv = match exp.form {
                        Form::ZeekLog => match got.cell(or, name) {
                            Some(v) => v,
                            None => continue, // reported once in the header
                        },
                        _ => or.get(i).map_or("", String::as_str),
                    };
                    if exp.form == Form::Lines && er.len() != or.len() {
                        break; // the whole line is reported
                    }
                    if UID_COLUMNS.contains(&name.as_str()) {
                        let prev = uid_map.entry(ev.to_string()).or_insert(gv.to_string());
                        if prev != gv {
                            row_mm.push(Mismatch {
                                row: e + 1,
                                column: name.clone(),
                                expected: format!("the uid used for {ev} before ({prev})"),
                                got: gv.to_string(),
                            });
                        }
                        continue;
                    }
                    if !wanted(name) || ev == MASKED_TIME || ev == gv {
                        continue;
                    }
                    row_mm.push(Mismatch {
                        row: e + 1,
                        column: name.clone(),
                        expected: ev.to_string(),
                        got: gv.to_string(),
                    });
                }
            }
            (Some(e), None) => row_mm.push(Mismatch {
                row: e + 1,
                column: "(row)".into(),
                expected: exp.rows[e].join(sep(&exp)),
                got: "(missing)".into(),
            }),
            (None, Some(o)) => row_mm.push(Mismatch {
                row: o + 1,
                column: "(row)".into(),
                expected: "(no such row)".into(),
                got: got.rows[o].join(sep(&exp)),
            }),
            (None, None) => {}
        }
        diff.rows.push(row_mm);
    }
    diff
}

fn sep(t: &Table) -> &'static str {
    if t.form == Form::Lines {
        ", "
    } else {
        "\t"
    }
}

#[cfg(test)]
mod tests {
    use super::super::table::{parse_cut, parse_lines, parse_log};
    use super::*;

    #[test]
    fn masked_uid_and_keyed_rows() {
        let exp = parse_log("#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\thistory\nXXXXXXXXXX.XXXXXX\tCz\ta\t1\tb\t2\tIS\n1.0\tCy\ta\t3\tb\t2\tISh\n").expect("log");
        // Our rows in the other order, other uids, one history different.
        let got = parse_log("#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\thistory\n1.0\tC2\ta\t3\tb\t2\tISh\n5.5\tC1\ta\t1\tb\t2\tIH\n").expect("log");
        let d = compare(&exp, &got, &Rules::default());
        assert!(d.header.is_empty());
        assert_eq!(d.rows.len(), 2);
        assert_eq!(
            d.rows[0],
            vec![Mismatch {
                row: 1,
                column: "history".into(),
                expected: "IS".into(),
                got: "IH".into()
            }]
        );
        assert!(d.rows[1].is_empty());
    }

    #[test]
    fn log_header_types_and_columns() {
        let exp = parse_log("#fields\tts\tname\n#types\ttime\tstring\n1.0\ta\n").expect("log");
        let got = parse_log("#fields\tname\tts\textra\n#types\tstring\tdouble\tbool\na\t1.0\tT\n")
            .expect("log");
        let d = compare(&exp, &got, &Rules::default());
        let cols: Vec<(&str, &str)> = d
            .header
            .iter()
            .map(|m| (m.column.as_str(), m.got.as_str()))
            .collect();
        assert_eq!(cols, [("ts", "type double"), ("extra", "column present")]);
        // Columns are matched by name, so the row itself matches.
        assert_eq!(d.rows, vec![Vec::new()]);
    }

    #[test]
    fn cut_header_and_missing_row() {
        let exp = parse_cut("ts\tuid\thistory\nX\tC\tIS\nX\tC\tIS\n");
        let got = parse_cut("ts\tuid\thistory\t\nX\tC\tIS\t\n");
        let d = compare(&exp, &got, &Rules::default());
        assert_eq!(d.header.len(), 1);
        assert_eq!(d.rows.len(), 2);
        assert!(d.rows[0].is_empty());
        assert_eq!(d.rows[1][0].column, "(row)");
        assert_eq!(d.rows[1][0].got, "(missing)");
    }

    #[test]
    fn printed_lines_with_uid_placeholders() {
        let markers = vec!["a.pcap".to_string(), "b.pcap".to_string()];
        let exp = parse_lines("a.pcap\n1.0, x, CAAAAAAAAAAAA, T\nb.pcap\n1.0, x, CAAAAAAAAAAAA, T\n1.0, x, CBBBBBBBBBBBB, F\n");
        let got = parse_lines("a.pcap\n1.0, x, Cxxxxxxxxxxxx, T\nb.pcap\n1.0, x, Cyyyyyyyyyyyy, T\n1.0, x, Cyyyyyyyyyyyy, F\n");
        let rules = Rules {
            run_markers: markers,
            ..Rules::default()
        };
        let d = compare(&exp, &got, &rules);
        let all: Vec<_> = d.rows.iter().flatten().collect();
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!(all[0].row, 5);
        assert_eq!(all[0].column, "field 3");
        assert_eq!(
            (all[0].expected.as_str(), all[0].got.as_str()),
            ("UID2", "UID1")
        );
    }
}
