//! Zeek's logging-framework caps on one log row (Zeek 7.1 and later, `src/logging/Manager.cc`).
//!
//! In: a row's fields in column order, as string lengths and container sizes. Out: how much of
//! each field is written, and the weirds Zeek raises for what it cut. Every stream has four caps:
//! bytes of one string field, bytes of all strings of the row, elements of one container
//! (vector or set) and elements of all containers of the row (`Log::default_max_*`, or the
//! stream's own values from `Log::create_stream`). Zeek applies them while converting the row
//! for the writers, field by field in column order: a field gets what both its own cap and the
//! rest of the row's cap allow; strings inside a container count as strings. A field that is
//! cut raises the weird `log_string_field_truncated` or `log_container_field_truncated`,
//! without a connection (Zeek's `net_weird`), with the stream's name (`X509::LOG`) as `addl`;
//! the row is still written, with the field shortened (a container keeps its first elements).
//! Unset fields count for nothing. A cap of 0 means no cap.
//!
//! Zeek also drops a row whose converted size exceeds `Log::max_log_record_size` (64 MiB); the
//! string caps keep every row of ssl.log and x509.log far below it.

/// `Log::default_max_field_string_bytes`.
pub const LOG_DEFAULT_MAX_FIELD_STRING_BYTES: usize = 4096;
/// `Log::default_max_total_string_bytes`.
pub const LOG_DEFAULT_MAX_TOTAL_STRING_BYTES: usize = 256_000;
/// `Log::default_max_field_container_elements`.
pub const LOG_DEFAULT_MAX_FIELD_CONTAINER_ELEMENTS: usize = 100;
/// `Log::default_max_total_container_elements`.
pub const LOG_DEFAULT_MAX_TOTAL_CONTAINER_ELEMENTS: usize = 500;

/// Weird raised for a string field Zeek cut.
pub const WEIRD_LOG_STRING_FIELD_TRUNCATED: &str = "log_string_field_truncated";
/// Weird raised for a container field Zeek cut.
pub const WEIRD_LOG_CONTAINER_FIELD_TRUNCATED: &str = "log_container_field_truncated";

/// One stream's caps (`Log::Stream`'s `max_*` fields); 0 is no cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimits {
    /// Bytes of one string field.
    pub max_field_string_bytes: usize,
    /// Bytes of all string fields of a row.
    pub max_total_string_bytes: usize,
    /// Elements of one container field.
    pub max_field_container_elements: usize,
    /// Elements of all container fields of a row.
    pub max_total_container_elements: usize,
}

/// The caps of a stream created without its own (ssl.log's).
pub const LOG_DEFAULT_LIMITS: LogLimits = LogLimits {
    max_field_string_bytes: LOG_DEFAULT_MAX_FIELD_STRING_BYTES,
    max_total_string_bytes: LOG_DEFAULT_MAX_TOTAL_STRING_BYTES,
    max_field_container_elements: LOG_DEFAULT_MAX_FIELD_CONTAINER_ELEMENTS,
    max_total_container_elements: LOG_DEFAULT_MAX_TOTAL_CONTAINER_ELEMENTS,
};

/// Zeek's `calculate_allowed`: what a field of `size` may keep under a per-field cap and what
/// is left of the row's cap.
fn allowed(size: usize, max_field: usize, max_total: usize, used: usize) -> usize {
    let mut a = size;
    if max_field != 0 {
        a = a.min(max_field);
    }
    if max_total != 0 {
        a = a.min(max_total.saturating_sub(used));
    }
    a
}

/// The caps applied to one row, field by field in column order; see the module docs.
#[derive(Debug)]
pub struct RowLimiter<'w> {
    limits: LogLimits,
    string_bytes: usize,
    container_elements: usize,
    /// The weirds raised so far, in order.
    weirds: &'w mut Vec<&'static str>,
}

impl<'w> RowLimiter<'w> {
    /// A row under `limits`; weirds are appended to `weirds`.
    pub fn new(limits: LogLimits, weirds: &'w mut Vec<&'static str>) -> Self {
        RowLimiter {
            limits,
            string_bytes: 0,
            container_elements: 0,
            weirds,
        }
    }

    /// A set string field of `len` bytes: how many of its bytes are written.
    pub fn string(&mut self, len: usize) -> usize {
        let a = allowed(
            len,
            self.limits.max_field_string_bytes,
            self.limits.max_total_string_bytes,
            self.string_bytes,
        );
        if a < len {
            self.weirds.push(WEIRD_LOG_STRING_FIELD_TRUNCATED);
        }
        self.string_bytes += a;
        a
    }

    /// A set container field of `len` elements: how many of its first elements are written.
    /// String elements are then passed to [`Self::string`] one by one.
    pub fn container(&mut self, len: usize) -> usize {
        let a = allowed(
            len,
            self.limits.max_field_container_elements,
            self.limits.max_total_container_elements,
            self.container_elements,
        );
        if a < len {
            self.weirds.push(WEIRD_LOG_CONTAINER_FIELD_TRUNCATED);
        }
        // The elements of ssl.log's and x509.log's containers are not containers themselves,
        // so the row's count can be updated before they are converted.
        self.container_elements += a;
        a
    }

    /// A vector of strings cut to what the caps allow, in place; the elements kept are
    /// shortened to their allowed bytes. Returns whether anything was cut.
    pub fn string_vec(&mut self, v: &mut Vec<String>) -> bool {
        let keep = self.container(v.len());
        let mut cut = keep < v.len();
        v.truncate(keep);
        for s in v.iter_mut() {
            let n = self.string(s.len());
            if n < s.len() {
                truncate_bytes(s, n);
                cut = true;
            }
        }
        cut
    }

    /// Whether the caps of `v` (a vector of strings) would cut nothing, counting it as
    /// [`Self::string_vec`] does. For the fast path: nothing is copied.
    pub fn string_slice_fits(&mut self, v: &[String]) -> bool {
        let keep = self.container(v.len());
        let mut fits = keep == v.len();
        for s in &v[..keep] {
            fits &= self.string(s.len()) == s.len();
        }
        fits
    }
}

/// The name of ssl.log's stream, the `addl` of the weirds its caps raise.
pub const SSL_LOG_STREAM: &str = "SSL::LOG";

/// Applies Zeek's caps for ssl.log ([`LOG_DEFAULT_LIMITS`]: the SSL module sets none of its
/// own) to `row` in place, in column order; the weirds are appended to `weirds`. In practice
/// only two things reach them: a chain of more than 100 certificates (`cert_chain_fps`,
/// `client_cert_chain_fps`) and an SNI of more than 4,096 bytes (`server_name`); `ssl_history`
/// too when `--max-ssl-history-length` is above 4,096. The fingerprint columns
/// (`--fingerprints`, after Zeek's columns) are not capped.
pub fn limit_ssl_row(row: &mut super::SslLogRow, weirds: &mut Vec<&'static str>) {
    let mut l = RowLimiter::new(LOG_DEFAULT_LIMITS, weirds);
    let text = |l: &mut RowLimiter<'_>, s: &mut Option<String>| {
        if let Some(s) = s {
            let n = l.string(s.len());
            truncate_bytes(s, n);
        }
    };
    let n = l.string(row.uid.len());
    truncate_bytes(&mut row.uid, n);
    text(&mut l, &mut row.version);
    text(&mut l, &mut row.cipher);
    text(&mut l, &mut row.curve);
    if let Some(sni) = row.server_name.as_mut() {
        // Bytes, cut as bytes (Zeek's cut).
        let n = l.string(sni.len());
        sni.truncate(n);
    }
    text(&mut l, &mut row.last_alert);
    if let Some(p) = row.next_protocol.as_mut() {
        let n = l.string(p.len());
        p.truncate(n);
    }
    let n = l.string(row.ssl_history.len());
    truncate_bytes(&mut row.ssl_history, n);
    for v in [&mut row.cert_chain_fps, &mut row.client_cert_chain_fps]
        .into_iter()
        .flatten()
    {
        l.string_vec(v);
    }
    for s in [
        &mut row.subject,
        &mut row.issuer,
        &mut row.client_subject,
        &mut row.client_issuer,
    ] {
        text(&mut l, s);
    }
}

/// Cuts `s` to at most `n` bytes. Zeek cuts bytes; the texts logged here are ASCII (certificate
/// names, hex, OpenSSL's escaped renderings), where every byte position is a character
/// boundary, so this is the same cut; on the rare non-ASCII text it ends before the character
/// that would be split.
pub fn truncate_bytes(s: &mut String, n: usize) {
    if n >= s.len() {
        return;
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: LogLimits = LogLimits {
        max_field_string_bytes: 4,
        max_total_string_bytes: 10,
        max_field_container_elements: 3,
        max_total_container_elements: 5,
    };

    #[test]
    fn fields_get_what_their_cap_and_the_rows_rest_allow() {
        let mut w = Vec::new();
        let mut l = RowLimiter::new(SMALL, &mut w);
        assert_eq!(l.string(3), 3);
        assert_eq!(l.string(9), 4, "field cap");
        assert_eq!(l.string(4), 3, "row cap: 10 - 7 left");
        assert_eq!(l.string(1), 0, "nothing left");
        assert_eq!(l.container(2), 2);
        assert_eq!(l.container(7), 3, "field cap");
        assert_eq!(l.container(1), 0, "row cap");
        assert_eq!(
            w,
            [
                WEIRD_LOG_STRING_FIELD_TRUNCATED,
                WEIRD_LOG_STRING_FIELD_TRUNCATED,
                WEIRD_LOG_STRING_FIELD_TRUNCATED,
                WEIRD_LOG_CONTAINER_FIELD_TRUNCATED,
                WEIRD_LOG_CONTAINER_FIELD_TRUNCATED,
            ]
        );
    }

    #[test]
    fn a_zero_cap_is_no_cap() {
        let none = LogLimits {
            max_field_string_bytes: 0,
            max_total_string_bytes: 0,
            max_field_container_elements: 0,
            max_total_container_elements: 0,
        };
        let mut w = Vec::new();
        let mut l = RowLimiter::new(none, &mut w);
        assert_eq!(l.string(1 << 20), 1 << 20);
        assert_eq!(l.container(1 << 20), 1 << 20);
        assert!(w.is_empty());
    }

    #[test]
    fn string_vectors_lose_elements_then_bytes() {
        let mut w = Vec::new();
        let mut l = RowLimiter::new(SMALL, &mut w);
        let mut v: Vec<String> = ["ab", "cdefgh", "ij", "kl"].map(String::from).to_vec();
        assert!(l.string_vec(&mut v));
        // Three elements (field cap); the second cut to 4 bytes (field cap), the third to the
        // 2 bytes left of the row's 10... which it needs exactly: 2 + 4 + 2 = 8.
        assert_eq!(v, ["ab", "cdef", "ij"]);
        assert_eq!(
            w,
            [
                WEIRD_LOG_CONTAINER_FIELD_TRUNCATED,
                WEIRD_LOG_STRING_FIELD_TRUNCATED
            ]
        );
        let mut w2 = Vec::new();
        let mut l2 = RowLimiter::new(SMALL, &mut w2);
        assert!(l2.string_slice_fits(&v), "3 elements, 8 bytes");
        // Again: 2 of the row's 5 elements are left, and 2 of its 10 bytes, which "ab" takes.
        assert!(!l2.string_slice_fits(&v), "the row's caps are nearly spent");
        assert_eq!(
            w2,
            [
                WEIRD_LOG_CONTAINER_FIELD_TRUNCATED,
                WEIRD_LOG_STRING_FIELD_TRUNCATED
            ]
        );
    }

    fn ssl_row() -> crate::log::SslLogRow {
        let a = std::net::IpAddr::from([127, 0, 0, 1]);
        crate::log::SslLogRow {
            ts: 1.0,
            uid: "CHhAvVGS1DHFjwGM9".into(),
            id: crate::output::ConnId {
                orig_h: a,
                orig_p: 1,
                resp_h: a,
                resp_p: 443,
            },
            version: Some("TLSv12".into()),
            cipher: None,
            curve: None,
            server_name: Some(b"example.test".to_vec()),
            resumed: false,
            last_alert: None,
            next_protocol: None,
            established: true,
            ssl_history: "CsxknGIi".into(),
            cert_chain_fps: Some(vec!["ab".repeat(32); 2]),
            client_cert_chain_fps: Some(Vec::new()),
            subject: None,
            issuer: None,
            client_subject: None,
            client_issuer: None,
            sni_matches_cert: Some(false),
            fingerprints: Default::default(),
        }
    }

    #[test]
    fn an_ordinary_ssl_row_is_not_touched() {
        let mut row = ssl_row();
        let before = row.clone();
        let mut w = Vec::new();
        limit_ssl_row(&mut row, &mut w);
        assert_eq!(row, before);
        assert!(w.is_empty());
    }

    #[test]
    fn ssl_rows_keep_100_fingerprints_and_4096_bytes_of_sni() {
        let mut row = ssl_row();
        row.server_name = Some(vec![b'a'; 5000]);
        row.cert_chain_fps = Some((0..150).map(|i| format!("{i:064}")).collect());
        let mut w = Vec::new();
        limit_ssl_row(&mut row, &mut w);
        assert_eq!(row.server_name.as_ref().map(Vec::len), Some(4096));
        let fps = row.cert_chain_fps.unwrap_or_default();
        assert_eq!(fps.len(), LOG_DEFAULT_MAX_FIELD_CONTAINER_ELEMENTS);
        assert_eq!(fps[99], format!("{:064}", 99));
        assert_eq!(
            w,
            [
                WEIRD_LOG_STRING_FIELD_TRUNCATED,
                WEIRD_LOG_CONTAINER_FIELD_TRUNCATED
            ]
        );
    }

    #[test]
    fn bytes_are_cut_on_character_boundaries() {
        let mut s = String::from("abc");
        truncate_bytes(&mut s, 2);
        assert_eq!(s, "ab");
        let mut s = String::from("aé");
        truncate_bytes(&mut s, 2);
        assert_eq!(s, "a", "é is two bytes");
    }
}
