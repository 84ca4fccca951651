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
//!
//! A row is written under the caps Zeek's logging framework puts on x509.log's stream
//! ([`X509_LOG_LIMITS`], see [`super::limits`]): at most 500 elements per container column
//! (`X509::default_max_field_container_elements`) and 1,500 in all
//! (`X509::default_max_total_container_elements`), 4,096 bytes per string and 256,000 in all
//! (the `Log::` defaults). A certificate with more names is logged with the first 500 of them,
//! and each cut column raises the weird Zeek raises (`log_container_field_truncated` or
//! `log_string_field_truncated`, no connection, `addl` `X509::LOG`), which
//! [`X509Output::certificate`] returns for the event stream.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;

use super::cert_cache::CertCache;
use super::limits::{
    truncate_bytes, LogLimits, RowLimiter, LOG_DEFAULT_MAX_FIELD_STRING_BYTES,
    LOG_DEFAULT_MAX_TOTAL_STRING_BYTES,
};
use super::stream::LogFormat;
use super::table::TableLog;
use super::writer::{
    json_bool, json_key, json_vec, sep, tsv_bool, tsv_opt, tsv_set, tsv_str, tsv_vec,
    TSV_UNSET_FIELD,
};
use super::x509::{x509_record, X509Record};
use crate::output::escape::{fixed6, json_double, json_string, push_addr, push_u64};
use crate::output::stream::Destination;

/// Zeek's `X509::known_log_certs_maximum_size`.
pub const KNOWN_LOG_CERTS_MAXIMUM_SIZE: usize = 1_000_000;
/// Zeek's `X509::relog_known_certificates_after`, in seconds.
pub const RELOG_KNOWN_CERTIFICATES_AFTER: f64 = 86_400.0;

/// `X509::default_max_field_container_elements`: x509.log's own cap (the `Log::` default is
/// 100), so that long SAN lists are kept.
pub const X509_MAX_FIELD_CONTAINER_ELEMENTS: usize = 500;
/// `X509::default_max_total_container_elements` (the `Log::` default is 500).
pub const X509_MAX_TOTAL_CONTAINER_ELEMENTS: usize = 1500;
/// The caps of Zeek's x509.log stream: `X509::default_max_field_string_bytes` is the `Log::`
/// default, the total string bytes are not set by the X509 module, so also the default.
pub const X509_LOG_LIMITS: LogLimits = LogLimits {
    max_field_string_bytes: LOG_DEFAULT_MAX_FIELD_STRING_BYTES,
    max_total_string_bytes: LOG_DEFAULT_MAX_TOTAL_STRING_BYTES,
    max_field_container_elements: X509_MAX_FIELD_CONTAINER_ELEMENTS,
    max_total_container_elements: X509_MAX_TOTAL_CONTAINER_ELEMENTS,
};
/// The stream's name, the `addl` of the weirds its caps raise.
pub const X509_LOG_STREAM: &str = "X509::LOG";

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
    table: TableLog<'w>,
    known: KnownCerts,
    limits: LogLimits,
    /// The weirds of the last certificate's row.
    weirds: Vec<&'static str>,
}

impl<'w> X509Output<'w> {
    /// x509.log in `format`, written to `out`.
    pub fn new(format: LogFormat, out: &'w mut dyn Write) -> Self {
        X509Output {
            table: TableLog::new(
                format,
                X509_LOG_PATH,
                &X509_LOG_FIELDS,
                &X509_LOG_TYPES,
                out,
            ),
            known: KnownCerts::default(),
            limits: X509_LOG_LIMITS,
            weirds: Vec::new(),
        }
    }

    /// Replaces Zeek's caps on a row (what redefining the `X509::default_max_*` options does).
    pub fn set_limits(&mut self, limits: LogLimits) {
        self.limits = limits;
    }

    /// One certificate seen at `ts`: logged unless it does not parse or Zeek's deduplication
    /// suppresses it. `cache` has the certificates' fingerprints (ssl.log computes them too).
    /// Returns the weirds Zeek's caps raised for its row (nearly always none), in order; each
    /// is a `net_weird` with `addl` [`X509_LOG_STREAM`].
    pub fn certificate(
        &mut self,
        ts: f64,
        is_client: bool,
        first: bool,
        der: &[u8],
        cache: &mut CertCache,
    ) -> &[&'static str] {
        self.weirds.clear();
        let facts = cache.facts(der);
        let Some(fp) = facts.fingerprint.as_deref() else {
            return &self.weirds;
        };
        let Some(digest) = hex32(fp) else {
            return &self.weirds;
        };
        if !self.known.should_log((digest, first, is_client), ts) {
            return &self.weirds;
        }
        let Some(rec) = x509_record(der) else {
            return &self.weirds;
        };
        let mut weirds = std::mem::take(&mut self.weirds);
        let (fp, rec) = limited(fp, &rec, self.limits, &mut weirds);
        self.row(ts, fp, &rec, first, is_client);
        self.weirds = weirds;
        &self.weirds
    }

    /// Formats one row (after the TSV header, the first time), as given: the caller has
    /// applied the caps ([`limited`]).
    pub fn row(&mut self, ts: f64, fp: &str, r: &X509Record, host: bool, client: bool) {
        self.table.row(|b, format| match format {
            LogFormat::Tsv => tsv_row(b, ts, fp, r, host, client),
            LogFormat::Json => json_row(b, ts, fp, r, host, client),
        });
    }

    /// The log file (header, footer, rotation, buffer, destination), which the pipeline
    /// handles alike for every log beside ssl.log.
    pub fn table(&mut self) -> &mut TableLog<'w> {
        &mut self.table
    }

    /// Where the rows go, and how many there were.
    pub fn dest(&self) -> &Destination<'w> {
        &self.table.dest
    }

    /// Certificates Zeek's deduplication remembers.
    pub fn known_certs(&self) -> &KnownCerts {
        &self.known
    }
}

/// Counts the string and container columns of a row in column order, as Zeek converts them.
fn account(l: &mut RowLimiter<'_>, fp: &str, r: &X509Record) {
    for s in [fp, &r.serial, &r.subject, &r.issuer, &r.key_alg, &r.sig_alg] {
        l.string(s.len());
    }
    for s in [r.key_type, r.exponent.as_deref(), r.curve]
        .into_iter()
        .flatten()
    {
        l.string(s.len());
    }
    if let Some(san) = &r.san {
        for v in [&san.dns, &san.uri, &san.email].into_iter().flatten() {
            l.string_slice_fits(v);
        }
        if let Some(ip) = &san.ip {
            l.container(ip.len());
        }
    }
}

/// The row of `fp` and `r` under `limits`: borrowed as it is when nothing is cut (the rule),
/// otherwise a copy cut as Zeek cuts it, with the weirds appended to `weirds`.
pub fn limited<'r>(
    fp: &'r str,
    r: &'r X509Record,
    limits: LogLimits,
    weirds: &mut Vec<&'static str>,
) -> (&'r str, Cow<'r, X509Record>) {
    let mut probe = Vec::new();
    account(&mut RowLimiter::new(limits, &mut probe), fp, r);
    if probe.is_empty() {
        return (fp, Cow::Borrowed(r));
    }
    let mut c = r.clone();
    let mut l = RowLimiter::new(limits, weirds);
    let fp = &fp[..l.string(fp.len())];
    for s in [
        &mut c.serial,
        &mut c.subject,
        &mut c.issuer,
        &mut c.key_alg,
        &mut c.sig_alg,
    ] {
        let n = l.string(s.len());
        truncate_bytes(s, n);
    }
    // Key types and curve names are short ASCII names: a cut lands on a character boundary.
    let cut_static = |l: &mut RowLimiter<'_>, v: &mut Option<&'static str>| {
        if let Some(t) = *v {
            *v = Some(t.get(..l.string(t.len())).unwrap_or(""));
        }
    };
    cut_static(&mut l, &mut c.key_type);
    if let Some(e) = c.exponent.as_mut() {
        let n = l.string(e.len());
        truncate_bytes(e, n);
    }
    cut_static(&mut l, &mut c.curve);
    if let Some(san) = c.san.as_mut() {
        for v in [&mut san.dns, &mut san.uri, &mut san.email]
            .into_iter()
            .flatten()
        {
            l.string_vec(v);
        }
        if let Some(ip) = san.ip.as_mut() {
            let keep = l.container(ip.len());
            ip.truncate(keep);
        }
    }
    (fp, Cow::Owned(c))
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
    use super::super::limits::{
        WEIRD_LOG_CONTAINER_FIELD_TRUNCATED, WEIRD_LOG_STRING_FIELD_TRUNCATED,
    };
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
        x.table().footer(2.0);
        x.table().flush();
        assert_eq!(x.dest().written(), 0);
        assert!(x.known_certs().is_empty());
        drop(x);
        assert!(out.is_empty(), "no rows, no header");
    }

    fn record(dns: usize, uri: usize, email: usize, ip: usize) -> X509Record {
        let names = |n: usize, what: &str| {
            (n > 0).then(|| (1..=n).map(|i| format!("{i}.{what}")).collect::<Vec<_>>())
        };
        X509Record {
            version: 3,
            serial: "01".into(),
            subject: "CN=Bro".into(),
            issuer: "CN=Bro".into(),
            not_valid_before: 0.0,
            not_valid_after: 1.0,
            key_alg: "rsaEncryption".into(),
            sig_alg: "sha256WithRSAEncryption".into(),
            key_type: Some("rsa"),
            key_length: Some(2048),
            exponent: Some("65537".into()),
            curve: None,
            san: Some(super::super::x509::San {
                dns: names(dns, "alt.example"),
                uri: names(uri, "uri"),
                email: names(email, "mail"),
                ip: (ip > 0).then(|| vec![std::net::IpAddr::from([10, 0, 0, 1]); ip]),
            }),
            basic_constraints: Some((false, None)),
        }
    }

    const FP: &str = "af4a46e989dc24078ee2a205490856e059e7f2f9d2114cec4d4c44974add9d34";

    fn san_lens(r: &X509Record) -> [usize; 4] {
        let s = r.san.as_ref().unwrap_or_else(|| unreachable!());
        let n = |v: &Option<Vec<String>>| v.as_ref().map_or(0, Vec::len);
        [
            n(&s.dns),
            n(&s.uri),
            n(&s.email),
            s.ip.as_ref().map_or(0, Vec::len),
        ]
    }

    #[test]
    fn a_row_within_the_caps_is_written_as_it_is() {
        let r = record(61, 2, 1, 1);
        let mut w = Vec::new();
        let (fp, out) = limited(FP, &r, X509_LOG_LIMITS, &mut w);
        assert!(matches!(out, Cow::Borrowed(_)), "no copy");
        assert_eq!(fp, FP);
        assert!(w.is_empty());
    }

    #[test]
    fn ten_thousand_names_are_cut_to_zeeks_500() {
        // tls-fragmented-handshake.pcap's certificate: 10,000 DNS names.
        let r = record(10_000, 0, 0, 0);
        let mut w = Vec::new();
        let (fp, out) = limited(FP, &r, X509_LOG_LIMITS, &mut w);
        assert_eq!(fp, FP);
        assert_eq!(san_lens(&out), [500, 0, 0, 0]);
        let dns = out.san.as_ref().and_then(|s| s.dns.as_ref());
        assert_eq!(
            dns.and_then(|d| d.last()).map(String::as_str),
            Some("500.alt.example")
        );
        assert_eq!(w, [WEIRD_LOG_CONTAINER_FIELD_TRUNCATED]);
        // Everything else is untouched.
        assert_eq!(
            (out.subject.as_str(), out.exponent.as_deref()),
            ("CN=Bro", Some("65537"))
        );
    }

    #[test]
    fn the_rows_container_cap_empties_later_columns() {
        // 500 + 500 + 500 reach X509::default_max_total_container_elements (1500): san.ip,
        // the last container column, is written empty.
        let r = record(600, 600, 600, 5);
        let mut w = Vec::new();
        let (_, out) = limited(FP, &r, X509_LOG_LIMITS, &mut w);
        assert_eq!(san_lens(&out), [500, 500, 500, 0]);
        assert_eq!(w, [WEIRD_LOG_CONTAINER_FIELD_TRUNCATED; 4]);
        let mut json = Vec::new();
        json_row(&mut json, 1.0, FP, &out, true, false);
        let text = String::from_utf8_lossy(&json);
        assert!(
            text.contains("\"san.ip\":[]"),
            "an empty vector, as Zeek's JSON: {text}"
        );
    }

    #[test]
    fn strings_are_cut_at_4096_bytes_and_the_rows_256000() {
        let mut r = record(2, 0, 0, 0);
        if let Some(d) = r.san.as_mut().and_then(|s| s.dns.as_mut()) {
            d[0] = "a".repeat(5000);
        }
        let mut w = Vec::new();
        let (_, out) = limited(FP, &r, X509_LOG_LIMITS, &mut w);
        let dns = out
            .san
            .as_ref()
            .and_then(|s| s.dns.clone())
            .unwrap_or_default();
        assert_eq!((dns[0].len(), dns[1].as_str()), (4096, "2.alt.example"));
        assert_eq!(w, [WEIRD_LOG_STRING_FIELD_TRUNCATED]);
        // 100 names of 4,000 bytes: the row's 256,000 bytes run out within the 64th name.
        let mut r = record(100, 0, 0, 0);
        if let Some(d) = r.san.as_mut().and_then(|s| s.dns.as_mut()) {
            d.iter_mut().for_each(|n| *n = "b".repeat(4000));
        }
        let mut w = Vec::new();
        let (_, out) = limited(FP, &r, X509_LOG_LIMITS, &mut w);
        let dns = out
            .san
            .as_ref()
            .and_then(|s| s.dns.clone())
            .unwrap_or_default();
        assert_eq!(dns.len(), 100, "no container is cut: 100 < 500");
        let before: usize =
            FP.len() + "01CN=BroCN=BrorsaEncryptionsha256WithRSAEncryptionrsa65537".len();
        let full = (LOG_DEFAULT_MAX_TOTAL_STRING_BYTES - before) / 4000;
        assert!(dns[..full].iter().all(|n| n.len() == 4000));
        assert_eq!(
            dns[full].len(),
            LOG_DEFAULT_MAX_TOTAL_STRING_BYTES - before - full * 4000
        );
        assert!(dns[full + 1..].iter().all(String::is_empty));
        assert_eq!(w.len(), 100 - full);
        assert!(w.iter().all(|n| *n == WEIRD_LOG_STRING_FIELD_TRUNCATED));
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
