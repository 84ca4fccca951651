//! The files a test compares, as tables: Zeek TSV logs, `zeek-cut -m` output and printed lines.
//!
//! In: file text (ours, or a baseline whose first line is btest's `### BTest baseline ...`
//! banner). Out: a [`Table`] of named columns and rows, and [`zeek_cut`], which does what
//! `zeek-cut -m COLS` does to a Zeek TSV log: the selected columns under one plain header line
//! of their names (a column the log lacks gives an empty name and empty cells, as in the
//! `quic.log.*-discarded-packets` baselines, which ask for a `service_name` column quic.log does
//! not have).

/// The first line of every btest baseline.
const BTEST_BANNER: &str = "### BTest baseline data";

/// The value of a masked timestamp in a baseline; it matches any value.
pub const MASKED_TIME: &str = "XXXXXXXXXX.XXXXXX";

/// The shape a file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// A Zeek TSV log with `#` header lines (`#fields` names the columns).
    ZeekLog,
    /// `zeek-cut -m` output: one plain header line of column names, then rows.
    Cut,
    /// Printed lines (`out`): every line a row, its `, `-separated parts the columns.
    Lines,
}

/// A parsed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// How the file was read.
    pub form: Form,
    /// Column names (`ZeekLog`, `Cut`); empty for `Lines`.
    pub columns: Vec<String>,
    /// Column types (`#types` of a `ZeekLog`); empty when the file has none.
    pub types: Vec<String>,
    /// The rows, cells in column order.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// The index of a column.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// A cell, empty when the row is short.
    pub fn cell<'a>(&self, row: &'a [String], name: &str) -> Option<&'a str> {
        self.column(name)
            .map(|i| row.get(i).map_or("", String::as_str))
    }
}

/// The text without btest's banner line.
pub fn strip_banner(text: &str) -> &str {
    if text.starts_with(BTEST_BANNER) {
        text.split_once('\n').map_or("", |(_, rest)| rest)
    } else {
        text
    }
}

fn cells(line: &str) -> Vec<String> {
    line.split('\t').map(str::to_string).collect()
}

/// Reads a Zeek TSV log; `None` when it has no `#fields` line.
pub fn parse_log(text: &str) -> Option<Table> {
    let text = strip_banner(text);
    let mut columns = None;
    let mut types = Vec::new();
    let mut rows = Vec::new();
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            columns = Some(cells(f));
        } else if let Some(t) = line.strip_prefix("#types\t") {
            types = cells(t);
        } else if line.starts_with('#') || line.is_empty() {
            continue;
        } else {
            rows.push(cells(line));
        }
    }
    columns.map(|columns| Table {
        form: Form::ZeekLog,
        columns,
        types,
        rows,
    })
}

/// Reads `zeek-cut -m` output (an empty file gives no columns and no rows).
pub fn parse_cut(text: &str) -> Table {
    let text = strip_banner(text);
    let mut lines = text.lines();
    let columns = lines.next().map(cells).unwrap_or_default();
    Table {
        form: Form::Cut,
        columns,
        types: Vec::new(),
        rows: lines.filter(|l| !l.is_empty()).map(cells).collect(),
    }
}

/// Reads printed lines.
pub fn parse_lines(text: &str) -> Table {
    Table {
        form: Form::Lines,
        columns: Vec::new(),
        types: Vec::new(),
        rows: strip_banner(text)
            .lines()
            .map(|l| l.split(", ").map(str::to_string).collect())
            .collect(),
    }
}

/// Reads a baseline or our file in the form the baseline has: a `#fields` line makes it a log,
/// `cut` (the file came from zeek-cut or is compared by btest-diff-cut) a cut, else lines.
pub fn parse_as(text: &str, cut: bool) -> Table {
    if cut {
        return parse_cut(text);
    }
    parse_log(text).unwrap_or_else(|| parse_lines(text))
}

/// `zeek-cut -m COLUMNS` (all columns when `columns` is empty) of a Zeek TSV log. Text without a
/// `#fields` line gives empty output, as zeek-cut prints nothing for it.
pub fn zeek_cut(log: &str, columns: &[String]) -> String {
    let Some(t) = parse_log(log) else {
        return String::new();
    };
    let selected: Vec<Option<usize>> = if columns.is_empty() {
        (0..t.columns.len()).map(Some).collect()
    } else {
        columns.iter().map(|c| t.column(c)).collect()
    };
    let line = |row: &[String]| -> String {
        selected
            .iter()
            .map(|i| i.and_then(|i| row.get(i)).map_or("", String::as_str))
            .collect::<Vec<_>>()
            .join("\t")
    };
    let mut out = line(&t.columns);
    out.push('\n');
    for r in &t.rows {
        out.push_str(&line(r));
        out.push('\n');
    }
    out
}

/// A Zeek TSV log with the given columns, types (no `#types` line when empty) and rows (the
/// header lines a reader needs; `#open` and `#close` omitted, as nothing compares them).
pub fn write_log(path: &str, columns: &[String], types: &[String], rows: &[Vec<String>]) -> String {
    let mut s = format!(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{path}\n#fields\t{}\n",
        columns.join("\t")
    );
    if !types.is_empty() {
        s.push_str(&format!("#types\t{}\n", types.join("\t")));
    }
    for r in rows {
        s.push_str(&r.join("\t"));
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "### BTest baseline data generated by btest-diff.\n#separator \\x09\n#path\tquic\n#open XXXX\n#fields\tts\tuid\thistory\n#types\ttime\tstring\tstring\n1.0\tCa\tIS\n2.0\tCb\tISh\n#close XXXX\n";

    #[test]
    fn cut_like_zeek_cut() {
        let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            zeek_cut(LOG, &cols(&["ts", "history", "service_name"])),
            "ts\thistory\t\n1.0\tIS\t\n2.0\tISh\t\n"
        );
        assert_eq!(
            zeek_cut(LOG, &[]),
            "ts\tuid\thistory\n1.0\tCa\tIS\n2.0\tCb\tISh\n"
        );
        assert_eq!(zeek_cut("no header\n", &[]), "");
    }

    #[test]
    fn parses_forms() {
        let t = parse_log(LOG).expect("a log");
        assert_eq!(t.columns, ["ts", "uid", "history"]);
        assert_eq!(t.types, ["time", "string", "string"]);
        assert_eq!(t.rows.len(), 2);
        let c = parse_as("### BTest baseline data x\nts\tuid\t\nX\tC\t\n", true);
        assert_eq!(c.columns, ["ts", "uid", ""]);
        assert_eq!(c.rows, vec![vec!["X", "C", ""]]);
        let l = parse_as("### BTest baseline data x\n1.0, a, , b\n", false);
        assert_eq!(l.form, Form::Lines);
        assert_eq!(l.rows, vec![vec!["1.0", "a", "", "b"]]);
        let back = parse_log(&write_log("quic", &t.columns, &t.types, &t.rows)).expect("a log");
        assert_eq!(back, t);
    }
}
