//! Certificate facts that ssl.log needs: SHA-256 fingerprints and the leaf's host names.
//!
//! In: one DER certificate as sent in a Certificate message. Out: its fingerprint (lowercase hex
//! SHA-256 of the DER bytes, what Zeek's `X509::hash_function` logs), the DNS names of its subject
//! alternative name extension and the last common name of its subject, and Zeek's
//! `x509_check_cert_hostname` verdict for a server name.

use sha2::{Digest, Sha256};
use x509_parser::extensions::GeneralName;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex SHA-256 of `der`.
pub fn fingerprint_hex(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    let mut s = String::with_capacity(digest.len() * 2);
    for b in digest {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

/// The names a certificate is valid for, as far as hostname checks go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertNames {
    /// DNS names of the subject alternative name extension, in order.
    pub san_dns: Vec<String>,
    /// Whether the certificate has a subject alternative name extension at all.
    pub has_san: bool,
    /// The last common name of the subject, if any.
    pub last_cn: Option<String>,
}

/// Parses `der` as an X.509 certificate and extracts its names; `None` when it does not parse
/// (Zeek then has no X.509 record for it: no fingerprint in ssl.log and no hostname check).
pub fn cert_names(der: &[u8]) -> Option<CertNames> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let mut names = CertNames::default();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        names.has_san = true;
        for gn in &san.value.general_names {
            if let GeneralName::DNSName(n) = gn {
                names.san_dns.push((*n).to_owned());
            }
        }
    }
    names.last_cn = cert
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok().map(str::to_owned))
        .last();
    Some(names)
}

/// Zeek's `x509_check_cert_hostname` as a boolean: the SAN's DNS names when the certificate has
/// a SAN (RFC 2818: the subject CN is then ignored), else the last subject CN.
pub fn cert_matches_hostname(names: &CertNames, hostname: &[u8]) -> bool {
    if names.has_san {
        names
            .san_dns
            .iter()
            .any(|n| check_hostname(hostname, n.as_bytes()))
    } else {
        names
            .last_cn
            .as_deref()
            .is_some_and(|cn| check_hostname(hostname, cn.as_bytes()))
    }
}

/// Minimum number of labels of a wildcard name: `*.a.b`, never `*.b`.
const MIN_WILDCARD_LABELS: usize = 3;

/// Zeek's `x509_check_hostname` rule: names compare case-insensitively; a wildcard is allowed
/// only in the leftmost label, only as that label's last character (`ww*.example.org` is fine),
/// spans exactly one label, and only in names of at least three labels.
pub fn check_hostname(hostname: &[u8], certname: &[u8]) -> bool {
    if !certname.contains(&b'*') {
        return hostname.eq_ignore_ascii_case(certname);
    }
    let labels = certname.split(|&b| b == b'.').count();
    if labels < MIN_WILDCARD_LABELS {
        return false;
    }
    let Some(dot) = certname.iter().position(|&b| b == b'.') else {
        return false;
    };
    let (first, rest) = certname.split_at(dot);
    // The wildcard must be the last character of the first label, and the only one.
    let Some((&b'*', prefix)) = first.split_last() else {
        return false;
    };
    if prefix.contains(&b'*') || rest.contains(&b'*') {
        return false;
    }
    let Some(hdot) = hostname.iter().position(|&b| b == b'.') else {
        return false;
    };
    let (hfirst, hrest) = hostname.split_at(hdot);
    !hfirst.is_empty()
        && hfirst.len() >= prefix.len()
        && hfirst[..prefix.len()].eq_ignore_ascii_case(prefix)
        && hrest.eq_ignore_ascii_case(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_rule_matches_zeeks_cases() {
        let cases: &[(&[u8], &[u8], bool)] = &[
            (b"hi", b"www.zeek.org", false),
            (b"ww.zeek.org", b"www.zeek.org", false),
            (b"www.zeek.org", b"www.zeek.org", true),
            (b"www.zeek.org", b"*", false),
            (b"www.zeek.org", b"zeek.org", false),
            (b"www.zeek.org", b"*.zeek.org", true),
            (b"www.zeek.org", b"a*.zeek.org", false),
            (b"www.zeek.org", b"ww*.zeek.org", true),
            (b"www.zeek.org", b"wa*.zeek.org", false),
            (b"www.zeek.org", b"ww*.leek.com", false),
            (b"www.zeek.org", b"*.*.com", false),
            (b"", b"", true),
            (b"www.zeek.org\x00testing", b"*.zeek.org", false),
            (b"zeek.org", b"zeek.org", true),
            (b"zeek.org", b"*.org", false),
            (b"a.b.zeek.org", b"*.b.zeek.org", true),
            (b"a.b.zeek.org", b"*.zeek.org", false),
            (b"a.b.zeek.org", b"*.a.zeek.org", false),
        ];
        for (host, cert, want) in cases {
            assert_eq!(check_hostname(host, cert), *want, "{host:?} vs {cert:?}");
        }
    }

    #[test]
    fn san_wins_over_cn() {
        let names = CertNames {
            san_dns: vec!["*.example.org".into()],
            has_san: true,
            last_cn: Some("other.test".into()),
        };
        assert!(cert_matches_hostname(&names, b"www.example.org"));
        assert!(!cert_matches_hostname(&names, b"other.test"));
        let cn_only = CertNames {
            last_cn: Some("other.test".into()),
            ..CertNames::default()
        };
        assert!(cert_matches_hostname(&cn_only, b"other.test"));
    }

    #[test]
    fn fingerprint_is_sha256_hex() {
        assert_eq!(
            fingerprint_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(cert_names(b"not a certificate").is_none());
    }
}
