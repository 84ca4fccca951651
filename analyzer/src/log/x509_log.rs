//! A run's x509.log: one row per certificate Zeek would log, in Zeek's TSV or JSON format.
//!
//! In: every certificate of every Certificate message (TLS over TCP, DTLS, SSLv2), with its
//! time, its sender's role and whether it is the first of its message. Out: x509.log rows written
//! to the caller's writer on [`X509Output::flush`]; the TSV header before the first row and the
//! footer at the end only if a row was written, as for ssl.log.
//!
//! When Zeek logs a certificate (`base/files/x509/main.zeek`, `file_state_remove`): when its
//! X.509 analyzer parsed it, and its deduplication index (fingerprint, `host_cert`,
//! `client_cert`) is not in `X509::known_log_certs`, a set whose entries expire
//! `X509::relog_known_certificates_after` (one day of network time) after they were added. The
//! set holds at most `X509::known_log_certs_maximum_size` entries; when it is full Zeek does not
//! add more, so such certificates are logged every time they are seen. [`KnownCerts`] does the
//! same (no eviction, so no weird: nothing is lost, a row is repeated instead), after first
//! dropping expired entries. `X509::caching_required_encounters` and
//! `X509::certificate_cache_max_entries` only decide whether Zeek re-parses a certificate or
//! replays its cached events; the row is the same either way, so they do not change the log.
//!
//! `ts` is the file's `ts`: when the certificate's bytes were seen. `host_cert` is Zeek's
//! `application/x-x509-user-cert` MIME type, which the SSL analyzer gives the first certificate
//! of each Certificate message; `client_cert` is the client's side.

use std::collections::HashMap;
use std::io::Write;

use super::cert_cache::CertCache;
use super::stream::LogFormat;
use super::writer::{
    format_log_time, json_bool, json_key, json_vec, sep, tsv_bool, tsv_header, tsv_opt, tsv_set,
    tsv_str, tsv_vec, TSV_UNSET_FIELD,
};
use super::x509::{x509_record, X509Record};
use crate::output::escape::{fixed6, json_double, json_string, push_addr, push_u64};
use crate::output::stream::Destination;

/// Zeek's `X509::known_log_certs_maximum_size`.
pub const KNOWN_LOG_CERTS_MAXIMUM_SIZE: usize = 1_000_000;
/// Zeek's `X509::relog_known_certificates_after`, in seconds.
pub const RELOG_KNOWN_CERTIFICATES_AFTER: f64 = 86_400.0;

/// Column names of Zeek's default x509.log, in Zeek's order.
pub const X509_LOG_FIELDS: [&str; 22] = [
    "ts",
    "fingerprint",
    "certificate.version",
    "certificate.serial",
    "certificate.subject",
    "certificate.issuer",
    "certificate.not_valid_before",
    "certificate.not_valid_after",
    "certificate.key_alg",
    "certificate.sig_alg",
    "certificate.key_type",
    "certificate.key_length",
    "certificate.exponent",
    "certificate.curve",
    "san.dns",
    "san.uri",
    "san.email",
    "san.ip",
    "basic_constraints.ca",
    "basic_constraints.path_len",
    "host_cert",
    "client_cert",
];

/// Zeek types of the columns, parallel to [`X509_LOG_FIELDS`].
pub const X509_LOG_TYPES: [&str; 22] = [
    "time",
    "string",
    "count",
    "string",
    "string",
    "string",
    "time",
    "time",
    "string",
    "string",
    "string",
    "count",
    "string",
    "string",
    "vector[string]",
    "vector[string]",
    "vector[string]",
    "vector[addr]",
    "bool",
    "count",
    "bool",
    "bool",
];

/// Log path written in the header.
pub const X509_LOG_PATH: &str = "x509";

/// Zeek's `X509::LogCertHash`: the SHA-256 fingerprint and the two flags.
type DedupKey = ([u8; 32], bool, bool);

/// Zeek's `X509::known_log_certs`; see the module docs.
#[derive(Debug, Default)]
pub struct KnownCerts {
    /// When each entry was added (network time).
    added: HashMap<DedupKey, f64>,
}

impl KnownCerts {
    /// Whether a certificate with `key` seen at `ts` is logged; remembers it if so.
    fn should_log(&mut self, key: DedupKey, ts: f64) -> bool {
        if let Some(&t) = self.added.get(&key) {
            if ts - t < RELOG_KNOWN_CERTIFICATES_AFTER {
                return false;
            }
            // Expired: Zeek has removed it, so it is logged and added again.
            self.added.remove(&key);
        }
        if self.added.len() >= KNOWN_LOG_CERTS_MAXIMUM_SIZE {
            self.added
                .retain(|_, t| ts - *t < RELOG_KNOWN_CERTIFICATES_AFTER);
        }
        if self.added.len() < KNOWN_LOG_CERTS_MAXIMUM_SIZE {
            self.added.insert(key, ts);
        }
        true
    }

    /// Entries kept.
    pub fn len(&self) -> usize {
        self.added.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
    }
}

/// x509.log of a run; see the module docs.
pub struct X509Output<'w> {
    format: LogFormat,
    buf: Vec<u8>,
    header_written: bool,
    open_ts: f64,
    known: KnownCerts,
    /// Where the rows go, and how many there were.
    pub dest: Destination<'w>,
}

impl<'w> X509Output<'w> {
    /// x509.log in `format`, written to `out`.
    pub fn new(format: LogFormat, out: &'w mut dyn Write) -> Self {
        X509Output {
            format,
            buf: Vec::new(),
            header_written: false,
            open_ts: 0.0,
            known: KnownCerts::default(),
            dest: Destination::new(out),
        }
    }

    /// Sets the time the TSV header's `#open` shows (the run's first timestamp).
    pub fn set_open_ts(&mut self, ts: f64) {
        self.open_ts = ts;
    }

    /// One certificate seen at `ts`: logged unless it does not parse or Zeek's deduplication
    /// suppresses it. `cache` has the certificates' fingerprints (ssl.log computes them too).
    pub fn certificate(
        &mut self,
        ts: f64,
        is_client: bool,
        first: bool,
        der: &[u8],
        cache: &mut CertCache,
    ) {
        let facts = cache.facts(der);
        let Some(fp) = facts.fingerprint.as_deref() else {
            return;
        };
        let Some(digest) = hex32(fp) else {
            return;
        };
        if !self.known.should_log((digest, first, is_client), ts) {
            return;
        }
        let Some(rec) = x509_record(der) else {
            return;
        };
        self.row(ts, fp, &rec, first, is_client);
    }

    /// Formats one row (after the TSV header, the first time).
    pub fn row(&mut self, ts: f64, fp: &str, r: &X509Record, host: bool, client: bool) {
        match self.format {
            LogFormat::Tsv => {
                if !self.header_written {
                    self.header();
                    self.header_written = true;
                }
                tsv_row(&mut self.buf, ts, fp, r, host, client);
            }
            LogFormat::Json => json_row(&mut self.buf, ts, fp, r, host, client),
        }
        self.dest.count();
    }

    fn header(&mut self) {
        let b = &mut self.buf;
        tsv_header(
            b,
            X509_LOG_PATH,
            self.open_ts,
            &X509_LOG_FIELDS,
            &X509_LOG_TYPES,
        );
    }

    /// Formats the TSV footer (`#close` at `close_ts`) if a row was written.
    pub fn footer(&mut self, close_ts: f64) {
        if self.header_written {
            let _ = writeln!(self.buf, "#close\t{}", format_log_time(close_ts));
        }
    }

    /// Ends the current file at `now` (the TSV footer, if a row was written) and starts the
    /// next one opened at `now` (log rotation; see [`crate::log::LogOutput::rotate`]).
    pub fn rotate(&mut self, now: f64) {
        self.footer(now);
        self.header_written = false;
        self.open_ts = now;
    }

    /// Moves the formatted rows to the output; remembers the first error.
    pub fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let buf = &mut self.buf;
        self.dest.write(|out| {
            let r = out.write_all(buf);
            buf.clear();
            r
        });
    }

    /// Certificates Zeek's deduplication remembers.
    pub fn known_certs(&self) -> &KnownCerts {
        &self.known
    }
}

/// The 32 bytes of a lowercase hex SHA-256.
fn hex32(hex: &str) -> Option<[u8; 32]> {
    let h = hex.as_bytes();
    if h.len() != 64 {
        return None;
    }
    let nib = |c: u8| char::from(c).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nib(h[2 * i])? << 4) | nib(h[2 * i + 1])?;
    }
    Some(out)
}

fn tsv_row(b: &mut Vec<u8>, ts: f64, fp: &str, r: &X509Record, host: bool, client: bool) {
    let san = r.san.as_ref();
    fixed6(b, ts);
    sep(b);
    tsv_str(b, fp.as_bytes());
    sep(b);
    push_u64(b, r.version);
    sep(b);
    tsv_str(b, r.serial.as_bytes());
    sep(b);
    tsv_str(b, r.subject.as_bytes());
    sep(b);
    tsv_str(b, r.issuer.as_bytes());
    sep(b);
    fixed6(b, r.not_valid_before);
    sep(b);
    fixed6(b, r.not_valid_after);
    sep(b);
    tsv_str(b, r.key_alg.as_bytes());
    sep(b);
    tsv_str(b, r.sig_alg.as_bytes());
    sep(b);
    tsv_opt(b, r.key_type.map(str::as_bytes));
    sep(b);
    match r.key_length {
        Some(n) => push_u64(b, n),
        None => unset(b),
    }
    sep(b);
    tsv_opt(b, r.exponent.as_deref().map(str::as_bytes));
    sep(b);
    tsv_opt(b, r.curve.map(str::as_bytes));
    sep(b);
    tsv_vec(b, san.and_then(|s| s.dns.as_deref()));
    sep(b);
    tsv_vec(b, san.and_then(|s| s.uri.as_deref()));
    sep(b);
    tsv_vec(b, san.and_then(|s| s.email.as_deref()));
    sep(b);
    tsv_set(b, san.and_then(|s| s.ip.as_deref()), |b, ip| {
        push_addr(b, *ip)
    });
    sep(b);
    tsv_bool(b, r.basic_constraints.map(|(ca, _)| ca));
    sep(b);
    match r.basic_constraints.and_then(|(_, p)| p) {
        Some(n) => push_u64(b, n),
        None => unset(b),
    }
    sep(b);
    tsv_bool(b, Some(host));
    sep(b);
    tsv_bool(b, Some(client));
    b.push(b'\n');
}

fn unset(b: &mut Vec<u8>) {
    b.extend_from_slice(TSV_UNSET_FIELD.as_bytes());
}

fn json_row(b: &mut Vec<u8>, ts: f64, fp: &str, r: &X509Record, host: bool, client: bool) {
    b.extend_from_slice(b"{\"ts\":");
    json_double(b, ts);
    json_str(b, "fingerprint", fp);
    json_key(b, "certificate.version");
    push_u64(b, r.version);
    json_str(b, "certificate.serial", &r.serial);
    json_str(b, "certificate.subject", &r.subject);
    json_str(b, "certificate.issuer", &r.issuer);
    json_key(b, "certificate.not_valid_before");
    json_double(b, r.not_valid_before);
    json_key(b, "certificate.not_valid_after");
    json_double(b, r.not_valid_after);
    json_str(b, "certificate.key_alg", &r.key_alg);
    json_str(b, "certificate.sig_alg", &r.sig_alg);
    if let Some(t) = r.key_type {
        json_str(b, "certificate.key_type", t);
    }
    if let Some(n) = r.key_length {
        json_key(b, "certificate.key_length");
        push_u64(b, n);
    }
    if let Some(e) = &r.exponent {
        json_str(b, "certificate.exponent", e);
    }
    if let Some(c) = r.curve {
        json_str(b, "certificate.curve", c);
    }
    if let Some(s) = &r.san {
        json_vec(b, "san.dns", s.dns.as_deref());
        json_vec(b, "san.uri", s.uri.as_deref());
        json_vec(b, "san.email", s.email.as_deref());
        if let Some(ips) = s.ip.as_deref() {
            json_key(b, "san.ip");
            b.push(b'[');
            for (i, ip) in ips.iter().enumerate() {
                if i > 0 {
                    b.push(b',');
                }
                b.push(b'"');
                push_addr(b, *ip);
                b.push(b'"');
            }
            b.push(b']');
        }
    }
    if let Some((ca, path_len)) = r.basic_constraints {
        json_bool(b, "basic_constraints.ca", Some(ca));
        if let Some(n) = path_len {
            json_key(b, "basic_constraints.path_len");
            push_u64(b, n);
        }
    }
    json_bool(b, "host_cert", Some(host));
    json_bool(b, "client_cert", Some(client));
    b.extend_from_slice(b"}\n");
}

fn json_str(b: &mut Vec<u8>, k: &str, v: &str) {
    json_key(b, k);
    json_string(b, v.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_certs_follow_zeeks_dedup_and_expiry() {
        let mut k = KnownCerts::default();
        let a = ([1u8; 32], true, false);
        assert!(k.should_log(a, 100.0));
        assert!(!k.should_log(a, 200.0), "seen within a day");
        // Same certificate in another role is another index.
        assert!(k.should_log(([1u8; 32], false, false), 200.0));
        assert!(k.should_log(([1u8; 32], true, true), 200.0));
        assert!(
            k.should_log(a, 100.0 + RELOG_KNOWN_CERTIFICATES_AFTER),
            "expired after a day"
        );
        assert!(!k.should_log(a, 101.0 + RELOG_KNOWN_CERTIFICATES_AFTER));
        assert_eq!(k.len(), 3);
    }

    #[test]
    fn a_certificate_that_does_not_parse_is_not_logged() {
        let mut out = Vec::new();
        let mut cache = CertCache::new();
        let mut x = X509Output::new(LogFormat::Tsv, &mut out);
        for der in [&b""[..], b"\x30\x82\xff\xff", b"not a certificate"] {
            x.certificate(1.0, false, true, der, &mut cache);
        }
        x.footer(2.0);
        x.flush();
        assert_eq!(x.dest.written(), 0);
        assert!(x.known_certs().is_empty());
        drop(x);
        assert!(out.is_empty(), "no rows, no header");
    }

    #[test]
    fn hex_fingerprints_decode() {
        let fp = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let d = hex32(fp).unwrap_or([0; 32]);
        assert_eq!(d[0], 0xba);
        assert_eq!(d[31], 0xad);
        assert!(hex32("xy").is_none());
    }
}
