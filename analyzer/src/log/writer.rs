//! ssl.log writers: Zeek's ASCII (TSV) format and Zeek's JSON Lines format.
//!
//! In: [`SslLogRow`]s, plus the open/close wall-clock times for the TSV header and footer. Out:
//! bytes appended to an internal buffer, flushed by the caller to any `std::io::Write`.
//!
//! TSV: the `#separator`..`#types` header Zeek's ascii writer prints, one tab-separated line per
//! row (`-` unset, `(empty)` for an empty string or vector, `,` between vector elements, `T`/`F`,
//! times with six decimals), `#close` at the end. JSON: one object per row with Zeek's field names
//! (`id.orig_h` ...), unset columns left out, times as Zeek's JSON doubles. Both write the
//! [`OptionalColumns`] they were created with (none by default, as Zeek).

use std::io::{self, Write};

use super::builder::SslLogRow;
use crate::fingerprint::FingerprintSet;
use crate::output::escape::{ascii_string, fixed6, json_double, json_string, push_addr, push_u64};
use crate::output::UidMark;

/// Column names of ssl.log with Zeek's default settings, in Zeek's order (see
/// [`OptionalColumns::fields`] for the optional ones).
pub const SSL_LOG_FIELDS: [&str; 18] = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "version",
    "cipher",
    "curve",
    "server_name",
    "resumed",
    "last_alert",
    "next_protocol",
    "established",
    "ssl_history",
    "cert_chain_fps",
    "client_cert_chain_fps",
    "sni_matches_cert",
];

/// Zeek types of the columns, parallel to [`SSL_LOG_FIELDS`].
pub const SSL_LOG_TYPES: [&str; 18] = [
    "time",
    "string",
    "addr",
    "port",
    "addr",
    "port",
    "string",
    "string",
    "string",
    "string",
    "bool",
    "string",
    "string",
    "bool",
    "string",
    "vector[string]",
    "vector[string]",
    "bool",
];

/// ssl.log columns Zeek leaves out unless an option switches them on (its `ssl` log filter
/// excludes them by default). Both writers take them; the builder fills them only when on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OptionalColumns {
    /// `SSL::log_include_server_certificate_subject_issuer`: `subject` and `issuer` of the
    /// server's first certificate.
    pub server_subject_issuer: bool,
    /// `SSL::log_include_client_certificate_subject_issuer`: `client_subject` and
    /// `client_issuer` of the client's first certificate.
    pub client_subject_issuer: bool,
    /// `--fingerprints`: fingerprint columns (`ja3`, `ja4`, ...), after Zeek's columns, as the
    /// Zeek packages that log them append theirs. They are filled only when the analyzer hands
    /// out the parsed hellos: set [`crate::ssl::Config::hello_views`] too (the CLI does).
    pub fingerprints: FingerprintSet,
}

/// Where the optional columns go: Zeek declares them between `client_cert_chain_fps` and
/// `sni_matches_cert` (`base/protocols/ssl/files.zeek`), so that is where they appear.
const OPTIONAL_AFTER: &str = "client_cert_chain_fps";

impl OptionalColumns {
    /// Column names and Zeek types of the log with these optional columns, in Zeek's order.
    pub fn fields(self) -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::with_capacity(SSL_LOG_FIELDS.len() + 4);
        for (f, t) in SSL_LOG_FIELDS.iter().zip(SSL_LOG_TYPES) {
            out.push((*f, t));
            if *f == OPTIONAL_AFTER {
                if self.server_subject_issuer {
                    out.push(("subject", "string"));
                    out.push(("issuer", "string"));
                }
                if self.client_subject_issuer {
                    out.push(("client_subject", "string"));
                    out.push(("client_issuer", "string"));
                }
            }
        }
        for m in self.fingerprints.iter() {
            out.push((m.column(), "string"));
        }
        out
    }
}

/// Field separator of the ASCII log.
pub const TSV_SEPARATOR: u8 = b'\t';
/// Separator between vector elements.
pub const TSV_SET_SEPARATOR: u8 = b',';
/// Marker of an empty string or container.
pub const TSV_EMPTY_FIELD: &str = "(empty)";
/// Marker of an unset column.
pub const TSV_UNSET_FIELD: &str = "-";
/// Log path written in the header.
pub const SSL_LOG_PATH: &str = "ssl";

/// Seconds per day, for the calendar conversion of header timestamps.
const SECS_PER_DAY: i64 = 86_400;

/// Formats `secs` since the epoch as Zeek's `#open`/`#close` stamp, `YYYY-MM-DD-HH-MM-SS`, in UTC
/// (Zeek uses the local time zone; run with `TZ=UTC` to compare).
pub fn format_log_time(secs: f64) -> String {
    // Truncation to whole seconds is what the stamp shows; out-of-range values saturate.
    let t = secs.floor() as i64;
    let days = t.div_euclid(SECS_PER_DAY);
    let rem = t.rem_euclid(SECS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}-{:02}-{:02}-{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Writes ssl.log in Zeek's ASCII format; see the module docs.
#[derive(Debug, Default)]
pub struct TsvLogWriter {
    buf: Vec<u8>,
    columns: OptionalColumns,
    /// Where the rows' uids went into `buf` (see [`UidMark`]).
    uids: Vec<UidMark>,
}

impl TsvLogWriter {
    /// An empty writer of Zeek's default columns.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty writer that also writes the optional columns switched on in `columns`.
    pub fn with_columns(columns: OptionalColumns) -> Self {
        TsvLogWriter {
            buf: Vec::new(),
            columns,
            uids: Vec::new(),
        }
    }

    /// Writes the header; `open_time` is the wall-clock time shown in `#open`.
    pub fn header(&mut self, open_time: f64) {
        let fields = self.columns.fields();
        let names: Vec<&str> = fields.iter().map(|(f, _)| *f).collect();
        let types: Vec<&str> = fields.iter().map(|(_, t)| *t).collect();
        tsv_header(&mut self.buf, SSL_LOG_PATH, open_time, &names, &types);
    }

    /// Writes the footer; `close_time` is the wall-clock time shown in `#close`.
    pub fn footer(&mut self, close_time: f64) {
        let _ = writeln!(self.buf, "#close\t{}", format_log_time(close_time));
    }

    /// Writes one row.
    pub fn row(&mut self, r: &SslLogRow) {
        let b = &mut self.buf;
        fixed6(b, r.ts);
        sep(b);
        // A uid is base62, which TSV does not escape.
        self.uids.push((b.len(), r.uid.len()));
        tsv_str(b, r.uid.as_bytes());
        sep(b);
        push_addr(b, r.id.orig_h);
        sep(b);
        push_u64(b, u64::from(r.id.orig_p));
        sep(b);
        push_addr(b, r.id.resp_h);
        sep(b);
        push_u64(b, u64::from(r.id.resp_p));
        sep(b);
        tsv_opt(b, r.version.as_deref().map(str::as_bytes));
        sep(b);
        tsv_opt(b, r.cipher.as_deref().map(str::as_bytes));
        sep(b);
        tsv_opt(b, r.curve.as_deref().map(str::as_bytes));
        sep(b);
        tsv_opt(b, r.server_name.as_deref());
        sep(b);
        tsv_bool(b, Some(r.resumed));
        sep(b);
        tsv_opt(b, r.last_alert.as_deref().map(str::as_bytes));
        sep(b);
        tsv_opt(b, r.next_protocol.as_deref());
        sep(b);
        tsv_bool(b, Some(r.established));
        sep(b);
        tsv_str(b, r.ssl_history.as_bytes());
        sep(b);
        tsv_vec(b, r.cert_chain_fps.as_deref());
        sep(b);
        tsv_vec(b, r.client_cert_chain_fps.as_deref());
        sep(b);
        if self.columns.server_subject_issuer {
            tsv_opt(b, r.subject.as_deref().map(str::as_bytes));
            sep(b);
            tsv_opt(b, r.issuer.as_deref().map(str::as_bytes));
            sep(b);
        }
        if self.columns.client_subject_issuer {
            tsv_opt(b, r.client_subject.as_deref().map(str::as_bytes));
            sep(b);
            tsv_opt(b, r.client_issuer.as_deref().map(str::as_bytes));
            sep(b);
        }
        tsv_bool(b, r.sni_matches_cert);
        for m in self.columns.fingerprints.iter() {
            sep(b);
            tsv_opt(b, r.fingerprints.get(m).map(str::as_bytes));
        }
        b.push(b'\n');
    }

    /// The bytes written so far.
    pub fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// Writes the buffered bytes to `w` and empties the buffer.
    pub fn flush_to<W: Write + ?Sized>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(&self.buf)?;
        self.buf.clear();
        self.uids.clear();
        Ok(())
    }

    /// Where the rows' uids are in the bytes [`Self::flush_to`] writes next.
    pub fn uid_marks(&self) -> &[UidMark] {
        &self.uids
    }
}

/// Zeek's ASCII log header: separators, `#path`, `#open` at `open_time`, `#fields`, `#types`.
pub(super) fn tsv_header(
    b: &mut Vec<u8>,
    path: &str,
    open_time: f64,
    names: &[&str],
    types: &[&str],
) {
    b.extend_from_slice(b"#separator \\x09\n");
    let _ = writeln!(b, "#set_separator\t{}", char::from(TSV_SET_SEPARATOR));
    let _ = writeln!(b, "#empty_field\t{TSV_EMPTY_FIELD}");
    let _ = writeln!(b, "#unset_field\t{TSV_UNSET_FIELD}");
    let _ = writeln!(b, "#path\t{path}");
    let _ = writeln!(b, "#open\t{}", format_log_time(open_time));
    let _ = writeln!(b, "#fields\t{}", names.join("\t"));
    let _ = writeln!(b, "#types\t{}", types.join("\t"));
}

/// A set of strings in a TSV cell, from any element writer (Zeek's rendering of an unset, an
/// empty and a filled set).
pub(super) fn tsv_set<T>(b: &mut Vec<u8>, v: Option<&[T]>, mut item: impl FnMut(&mut Vec<u8>, &T)) {
    match v {
        None => b.extend_from_slice(TSV_UNSET_FIELD.as_bytes()),
        Some([]) => b.extend_from_slice(TSV_EMPTY_FIELD.as_bytes()),
        Some(items) => {
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    b.push(TSV_SET_SEPARATOR);
                }
                item(b, x);
            }
        }
    }
}

pub(super) fn sep(b: &mut Vec<u8>) {
    b.push(TSV_SEPARATOR);
}

pub(super) fn tsv_str(b: &mut Vec<u8>, s: &[u8]) {
    if s.is_empty() {
        b.extend_from_slice(TSV_EMPTY_FIELD.as_bytes());
    } else {
        ascii_string(b, s, false);
    }
}

pub(super) fn tsv_opt(b: &mut Vec<u8>, s: Option<&[u8]>) {
    match s {
        Some(s) => tsv_str(b, s),
        None => b.extend_from_slice(TSV_UNSET_FIELD.as_bytes()),
    }
}

pub(super) fn tsv_bool(b: &mut Vec<u8>, v: Option<bool>) {
    match v {
        Some(true) => b.push(b'T'),
        Some(false) => b.push(b'F'),
        None => b.extend_from_slice(TSV_UNSET_FIELD.as_bytes()),
    }
}

pub(super) fn tsv_vec(b: &mut Vec<u8>, v: Option<&[String]>) {
    tsv_set(b, v, |b, s| {
        if s.is_empty() {
            b.extend_from_slice(TSV_EMPTY_FIELD.as_bytes());
        } else {
            ascii_string(b, s.as_bytes(), true);
        }
    });
}

/// Writes ssl.log rows as Zeek's JSON Lines; see the module docs.
#[derive(Debug, Default)]
pub struct JsonLogWriter {
    buf: Vec<u8>,
    columns: OptionalColumns,
    /// Where the rows' uids went into `buf` (see [`UidMark`]).
    uids: Vec<UidMark>,
}

impl JsonLogWriter {
    /// An empty writer of Zeek's default columns.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty writer that also writes the optional columns switched on in `columns`.
    pub fn with_columns(columns: OptionalColumns) -> Self {
        JsonLogWriter {
            buf: Vec::new(),
            columns,
            uids: Vec::new(),
        }
    }

    /// Writes one row as one line.
    pub fn row(&mut self, r: &SslLogRow) {
        let b = &mut self.buf;
        b.extend_from_slice(b"{\"ts\":");
        json_double(b, r.ts);
        b.extend_from_slice(b",\"uid\":");
        // Behind the opening quote: a uid is base62, which JSON does not escape.
        self.uids.push((b.len() + 1, r.uid.len()));
        json_string(b, r.uid.as_bytes());
        b.extend_from_slice(b",\"id.orig_h\":\"");
        push_addr(b, r.id.orig_h);
        b.extend_from_slice(b"\",\"id.orig_p\":");
        push_u64(b, u64::from(r.id.orig_p));
        b.extend_from_slice(b",\"id.resp_h\":\"");
        push_addr(b, r.id.resp_h);
        b.extend_from_slice(b"\",\"id.resp_p\":");
        push_u64(b, u64::from(r.id.resp_p));
        json_opt(b, "version", r.version.as_deref().map(str::as_bytes));
        json_opt(b, "cipher", r.cipher.as_deref().map(str::as_bytes));
        json_opt(b, "curve", r.curve.as_deref().map(str::as_bytes));
        json_opt(b, "server_name", r.server_name.as_deref());
        json_bool(b, "resumed", Some(r.resumed));
        json_opt(b, "last_alert", r.last_alert.as_deref().map(str::as_bytes));
        json_opt(b, "next_protocol", r.next_protocol.as_deref());
        json_bool(b, "established", Some(r.established));
        json_opt(b, "ssl_history", Some(r.ssl_history.as_bytes()));
        json_vec(b, "cert_chain_fps", r.cert_chain_fps.as_deref());
        json_vec(
            b,
            "client_cert_chain_fps",
            r.client_cert_chain_fps.as_deref(),
        );
        if self.columns.server_subject_issuer {
            json_opt(b, "subject", r.subject.as_deref().map(str::as_bytes));
            json_opt(b, "issuer", r.issuer.as_deref().map(str::as_bytes));
        }
        if self.columns.client_subject_issuer {
            json_opt(
                b,
                "client_subject",
                r.client_subject.as_deref().map(str::as_bytes),
            );
            json_opt(
                b,
                "client_issuer",
                r.client_issuer.as_deref().map(str::as_bytes),
            );
        }
        json_bool(b, "sni_matches_cert", r.sni_matches_cert);
        for m in self.columns.fingerprints.iter() {
            json_opt(b, m.column(), r.fingerprints.get(m).map(str::as_bytes));
        }
        b.extend_from_slice(b"}\n");
    }

    /// The bytes written so far.
    pub fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// Writes the buffered bytes to `w` and empties the buffer.
    pub fn flush_to<W: Write + ?Sized>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(&self.buf)?;
        self.buf.clear();
        self.uids.clear();
        Ok(())
    }

    /// Where the rows' uids are in the bytes [`Self::flush_to`] writes next.
    pub fn uid_marks(&self) -> &[UidMark] {
        &self.uids
    }
}

pub(super) fn json_key(b: &mut Vec<u8>, key: &str) {
    b.push(b',');
    json_string(b, key.as_bytes());
    b.push(b':');
}

pub(super) fn json_opt(b: &mut Vec<u8>, key: &str, v: Option<&[u8]>) {
    if let Some(v) = v {
        json_key(b, key);
        json_string(b, v);
    }
}

pub(super) fn json_bool(b: &mut Vec<u8>, key: &str, v: Option<bool>) {
    if let Some(v) = v {
        json_key(b, key);
        b.extend_from_slice(if v { b"true" as &[u8] } else { b"false" });
    }
}

pub(super) fn json_vec(b: &mut Vec<u8>, key: &str, v: Option<&[String]>) {
    if let Some(items) = v {
        json_key(b, key);
        b.push(b'[');
        for (i, s) in items.iter().enumerate() {
            if i > 0 {
                b.push(b',');
            }
            json_string(b, s.as_bytes());
        }
        b.push(b']');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_time_stamps() {
        assert_eq!(format_log_time(0.0), "1970-01-01-00-00-00");
        assert_eq!(format_log_time(1357328848.54937), "2013-01-04-19-47-28");
        assert_eq!(format_log_time(951_782_400.0), "2000-02-29-00-00-00");
    }
}
