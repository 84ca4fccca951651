//! x509.log's certificate columns: what Zeek's X.509 file analyzer (`X509.cc`, OpenSSL) puts
//! into `X509::Certificate`, `X509::SubjectAlternativeName` and `X509::BasicConstraints`.
//!
//! In: one DER certificate. Out: an [`X509Record`] with the logged columns rendered the way Zeek
//! renders them, or `None` when x509-parser rejects it (Zeek's analyzer then raises the file
//! weird `x509_cert_parse_error` and no `x509_certificate` event, so nothing is logged).
//!
//! Renderings that follow OpenSSL rather than x509-parser: the serial as `i2a_ASN1_INTEGER`
//! prints it (uppercase hex of the magnitude, `-` for negative numbers), algorithm names as
//! OpenSSL's long names ([`algorithm_name`]; an unknown key algorithm is printed as its dotted
//! OID, an unknown signature algorithm as the empty string, as Zeek 8.2 logs them), the RSA
//! exponent in decimal, EC curves by OpenSSL's short name, key lengths in bits of the modulus,
//! of `p` (DSA) or of the curve's order.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::asn1_rs::Any;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::{PublicKey, RSAPublicKey};

use super::dn::rfc2253;

/// OID of `md5WithRSAEncryption`: RDP servers put it where the key algorithm belongs; Zeek
/// treats such a key as `rsaEncryption` so that OpenSSL parses it.
const OID_MD5_WITH_RSA: &str = "1.2.840.113549.1.1.4";
const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_DSA: &str = "1.2.840.10040.4.1";

/// One certificate's logged columns (the `certificate.*`, `san.*` and `basic_constraints.*`
/// columns of x509.log).
#[derive(Debug, Clone, PartialEq)]
pub struct X509Record {
    /// `certificate.version`: 1, 2 or 3.
    pub version: u64,
    /// `certificate.serial`.
    pub serial: String,
    /// `certificate.subject`, RFC 2253 as OpenSSL prints it.
    pub subject: String,
    /// `certificate.issuer`.
    pub issuer: String,
    /// `certificate.not_valid_before`, seconds since the epoch.
    pub not_valid_before: f64,
    /// `certificate.not_valid_after`.
    pub not_valid_after: f64,
    /// `certificate.key_alg`.
    pub key_alg: String,
    /// `certificate.sig_alg`.
    pub sig_alg: String,
    /// `certificate.key_type`: `rsa`, `dsa` or `ecdsa` (unset for other keys).
    pub key_type: Option<&'static str>,
    /// `certificate.key_length` in bits.
    pub key_length: Option<u64>,
    /// `certificate.exponent` (RSA), decimal.
    pub exponent: Option<String>,
    /// `certificate.curve` (EC keys on a named curve).
    pub curve: Option<&'static str>,
    /// The subject alternative name extension, when present.
    pub san: Option<San>,
    /// `basic_constraints.ca` and `basic_constraints.path_len`, when the extension is present.
    pub basic_constraints: Option<(bool, Option<u64>)>,
}

/// `X509::SubjectAlternativeName`: each list is unset when the extension has no such name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct San {
    /// `san.dns`.
    pub dns: Option<Vec<String>>,
    /// `san.uri`.
    pub uri: Option<Vec<String>>,
    /// `san.email`.
    pub email: Option<Vec<String>>,
    /// `san.ip`.
    pub ip: Option<Vec<IpAddr>>,
}

/// The record of `der`; `None` when it does not parse (see the module docs).
pub fn x509_record(der: &[u8]) -> Option<X509Record> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(record_of(&cert))
}

fn record_of(cert: &X509Certificate<'_>) -> X509Record {
    let spki = cert.public_key();
    let key_oid = spki.algorithm.algorithm.to_id_string();
    // Zeek's RDP special case: the key is read as an RSA key.
    let key_oid = if key_oid == OID_MD5_WITH_RSA {
        OID_RSA.to_owned()
    } else {
        key_oid
    };
    let key_alg = algorithm_name(&key_oid)
        .map(str::to_owned)
        .unwrap_or_else(|| clip(key_oid.clone(), KEY_ALG_TEXT_MAX));
    let sig_alg = algorithm_name(&cert.signature_algorithm.algorithm.to_id_string())
        .unwrap_or("")
        .to_owned();
    let mut r = X509Record {
        version: u64::from(cert.version().0) + 1,
        serial: clip(serial_text(cert.raw_serial()), SERIAL_TEXT_MAX),
        subject: rfc2253(cert.subject()),
        issuer: rfc2253(cert.issuer()),
        not_valid_before: cert.validity().not_before.timestamp() as f64,
        not_valid_after: cert.validity().not_after.timestamp() as f64,
        key_alg,
        sig_alg,
        key_type: None,
        key_length: None,
        exponent: None,
        curve: None,
        san: None,
        basic_constraints: None,
    };
    match key_oid.as_str() {
        OID_RSA => {
            let key = match spki.parsed() {
                Ok(PublicKey::RSA(k)) => Some(k),
                _ => RSAPublicKey::from_der(&spki.subject_public_key.data)
                    .ok()
                    .map(|(_, k)| k),
            };
            if let Some(k) = key {
                r.key_type = Some("rsa");
                r.key_length = Some(bit_length(k.modulus));
                r.exponent = Some(decimal(k.exponent));
            }
        }
        OID_EC_PUBLIC_KEY => {
            if let Ok(PublicKey::EC(_)) = spki.parsed() {
                r.key_type = Some("ecdsa");
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.as_oid().ok())
                    .and_then(|oid| named_curve(&oid.to_id_string()));
                if let Some((name, bits)) = curve {
                    r.curve = Some(name);
                    r.key_length = Some(bits);
                }
            }
        }
        OID_DSA => {
            if let Ok(PublicKey::DSA(_)) = spki.parsed() {
                r.key_type = Some("dsa");
                // Dss-Parms ::= SEQUENCE { p INTEGER, q INTEGER, g INTEGER }
                r.key_length = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.as_sequence().ok())
                    .and_then(|s| {
                        Any::from_der(&s.content)
                            .ok()
                            .map(|(_, p)| bit_length(p.data))
                    });
            }
        }
        _ => {}
    }
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        let mut s = San::default();
        for gn in &san.value.general_names {
            match gn {
                GeneralName::DNSName(n) => push(&mut s.dns, (*n).to_owned()),
                GeneralName::URI(u) => push(&mut s.uri, (*u).to_owned()),
                GeneralName::RFC822Name(e) => push(&mut s.email, (*e).to_owned()),
                GeneralName::IPAddress(a) => {
                    // Zeek skips (with a weird) addresses of other lengths.
                    if let Some(ip) = ip_of(a) {
                        push(&mut s.ip, ip);
                    }
                }
                _ => {}
            }
        }
        r.san = Some(s);
    }
    if let Ok(Some(bc)) = cert.basic_constraints() {
        r.basic_constraints = Some((bc.value.ca, bc.value.path_len_constraint.map(u64::from)));
    }
    r
}

fn push<T>(v: &mut Option<Vec<T>>, x: T) {
    v.get_or_insert_with(Vec::new).push(x);
}

fn ip_of(a: &[u8]) -> Option<IpAddr> {
    if let Ok(b) = <[u8; 4]>::try_from(a) {
        return Some(IpAddr::V4(Ipv4Addr::from(b)));
    }
    <[u8; 16]>::try_from(a)
        .ok()
        .map(|b| IpAddr::V6(Ipv6Addr::from(b)))
}

/// OpenSSL's long name of an algorithm OID (`OBJ_nid2ln`), for the algorithms certificates use.
pub fn algorithm_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        OID_RSA => "rsaEncryption",
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption",
        "1.2.840.113549.1.1.3" => "md4WithRSAEncryption",
        OID_MD5_WITH_RSA => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.3.14.3.2.29" => "sha1WithRSA",
        OID_EC_PUBLIC_KEY => "id-ecPublicKey",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        OID_DSA => "dsaEncryption",
        "1.2.840.10040.4.3" => "dsaWithSHA1",
        "2.16.840.1.101.3.4.3.1" => "dsa_with_SHA224",
        "2.16.840.1.101.3.4.3.2" => "dsa_with_SHA256",
        "1.3.101.110" => "X25519",
        "1.3.101.111" => "X448",
        "1.3.101.112" => "ED25519",
        "1.3.101.113" => "ED448",
        _ => return None,
    })
}

/// OpenSSL's short name of a named curve and the bit length of its order (Zeek's key length).
fn named_curve(oid: &str) -> Option<(&'static str, u64)> {
    Some(match oid {
        "1.2.840.10045.3.1.1" => ("prime192v1", 192),
        "1.3.132.0.33" => ("secp224r1", 224),
        "1.2.840.10045.3.1.7" => ("prime256v1", 256),
        "1.3.132.0.10" => ("secp256k1", 256),
        "1.3.132.0.34" => ("secp384r1", 384),
        "1.3.132.0.35" => ("secp521r1", 521),
        "1.3.36.3.3.2.8.1.1.7" => ("brainpoolP256r1", 256),
        "1.3.36.3.3.2.8.1.1.11" => ("brainpoolP384r1", 384),
        "1.3.36.3.3.2.8.1.1.13" => ("brainpoolP512r1", 512),
        _ => return None,
    })
}

/// Most bytes of the serial's text: Zeek reads `i2a_ASN1_INTEGER`'s output with one
/// `BIO_read` into a 2,048-byte buffer.
pub const SERIAL_TEXT_MAX: usize = 2048;
/// Most bytes of an unknown key algorithm's OID text: Zeek's `i2t_ASN1_OBJECT` writes into 255
/// bytes, the last of which is the terminating NUL.
pub const KEY_ALG_TEXT_MAX: usize = 254;

/// `s` cut to `max` bytes (ASCII text: hex digits, OID digits and dots).
fn clip(mut s: String, max: usize) -> String {
    if s.len() > max && s.is_char_boundary(max) {
        s.truncate(max);
    }
    s
}

/// Bytes of a serial per line of `i2a_ASN1_INTEGER`'s output, which breaks longer ones with a
/// backslash-newline.
const I2A_BYTES_PER_LINE: usize = 35;

/// A DER INTEGER's content octets as `i2a_ASN1_INTEGER` prints them: `-` for a negative value,
/// then the magnitude's bytes in uppercase hex (`00` for zero).
pub fn serial_text(raw: &[u8]) -> String {
    let negative = raw.first().is_some_and(|b| b & 0x80 != 0);
    let mut mag: Vec<u8> = if negative {
        // Two's complement magnitude: invert and add one.
        let mut m: Vec<u8> = raw.iter().map(|b| !b).collect();
        for b in m.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
        m
    } else {
        raw.to_vec()
    };
    // OpenSSL keeps the minimal magnitude: the sign octet is not part of it.
    while mag.len() > 1 && mag[0] == 0 {
        mag.remove(0);
    }
    let mut s = String::with_capacity(mag.len() * 2 + 1);
    if negative {
        s.push('-');
    }
    if mag.is_empty() {
        s.push_str("00");
    }
    for (i, b) in mag.iter().enumerate() {
        if i > 0 && i % I2A_BYTES_PER_LINE == 0 {
            s.push_str("\\\n");
        }
        s.push_str(&format!("{b:02X}"));
    }
    s
}

/// Bits of a big-endian unsigned integer (leading zero bytes ignored).
fn bit_length(be: &[u8]) -> u64 {
    let Some(i) = be.iter().position(|&b| b != 0) else {
        return 0;
    };
    (be.len() - i - 1) as u64 * 8 + u64::from(8 - be[i].leading_zeros())
}

/// A big-endian unsigned integer in decimal (OpenSSL's `BN_bn2dec`).
fn decimal(be: &[u8]) -> String {
    let mut n: Vec<u8> = be.iter().copied().skip_while(|&b| b == 0).collect();
    if n.is_empty() {
        return "0".to_owned();
    }
    let mut digits = Vec::new();
    while !n.is_empty() {
        // Long division by 10.
        let mut rem = 0u32;
        for b in n.iter_mut() {
            let cur = (rem << 8) | u32::from(*b);
            *b = (cur / 10) as u8;
            rem = cur % 10;
        }
        digits.push(b'0' + rem as u8);
        let lead = n.iter().take_while(|&&b| b == 0).count();
        n.drain(..lead);
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_as_openssl_prints_them() {
        assert_eq!(serial_text(&[0x00, 0x99, 0xfa]), "99FA");
        assert_eq!(serial_text(&[0x02, 0x03]), "0203");
        assert_eq!(serial_text(&[0x00]), "00");
        assert_eq!(serial_text(&[]), "00");
        assert_eq!(serial_text(&[0xff]), "-01");
        assert_eq!(serial_text(&[0xff, 0x00]), "-0100");
        let long = serial_text(&[0x11; 36]);
        assert!(long.starts_with(&"11".repeat(35)) && long.ends_with("\\\n11"));
    }

    #[test]
    fn long_texts_are_cut_where_zeeks_buffers_end() {
        // A 1,100-byte serial: 2,200 hex digits plus a line break every 35 bytes.
        let serial = clip(serial_text(&[0x11; 1100]), SERIAL_TEXT_MAX);
        assert_eq!(serial.len(), SERIAL_TEXT_MAX);
        assert_eq!(clip("1.2.3".into(), KEY_ALG_TEXT_MAX), "1.2.3");
        assert_eq!(
            clip("1.".repeat(200), KEY_ALG_TEXT_MAX).len(),
            KEY_ALG_TEXT_MAX
        );
    }

    #[test]
    fn integers_in_decimal_and_bits() {
        assert_eq!(decimal(&[0x01, 0x00, 0x01]), "65537");
        assert_eq!(decimal(&[0x00, 0x03]), "3");
        assert_eq!(decimal(&[]), "0");
        // 2^72 - 1, beyond u64.
        assert_eq!(decimal(&[0xff; 9]), "4722366482869645213695");
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x01]), 1);
        assert_eq!(bit_length(&[0x00]), 0);
    }

    #[test]
    fn not_a_certificate_has_no_record() {
        assert!(x509_record(b"not a certificate").is_none());
        assert!(x509_record(&[]).is_none());
    }
}
