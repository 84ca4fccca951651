//! Certificate subject and issuer as text, the way Zeek logs them.
//!
//! In: a DER certificate (or a parsed X.509 name). Out: the name as OpenSSL's
//! `X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253)` prints it, which is what Zeek's X.509
//! analyzer stores in `X509::Certificate$subject`/`$issuer` and what ssl.log's optional `subject`,
//! `issuer`, `client_subject` and `client_issuer` columns show.
//!
//! The rules of that OpenSSL call, reproduced here:
//! * RDNs in reverse order (`XN_FLAG_DN_REV`), separated by `,`; the attributes of a
//!   multi-valued RDN by `+` (`XN_FLAG_SEP_COMMA_PLUS`), no spaces around `=`;
//! * attribute types by OpenSSL's short name (`CN`, `emailAddress`, `street` …); a type OpenSSL
//!   does not know is written as its dotted OID and its value as `#` + the hex of the value's DER
//!   encoding (`XN_FLAG_DUMP_UNKNOWN_FIELDS`);
//! * values of the string types OpenSSL decodes (UTF8String, PrintableString, IA5String,
//!   T61String, BMPString, UniversalString …) are converted to UTF-8; bytes of non-ASCII
//!   characters and control characters are written `\XX`, the RFC 2253 specials `,+"\<>;` get a
//!   backslash, as do a leading `#` or space and a trailing space; values of other types are
//!   dumped as `#` + hex DER (`ASN1_STRFLGS_RFC2253`);
//! * Zeek reads the text with `BIO_gets` into a 2048-byte buffer, which keeps at most 2047 bytes;
//!   longer names are cut there.

use std::fmt::Write as _;

use x509_parser::der_parser::asn1_rs::{Any, Class};
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

/// Bytes of a name Zeek keeps: its X.509 analyzer reads OpenSSL's text with `BIO_gets` into a
/// 2048-byte buffer, and `BIO_gets` leaves room for the terminating NUL.
pub const MAX_NAME_TEXT: usize = 2047;

/// The subject and issuer of the certificate `der`, formatted as Zeek logs them; `None` when it
/// does not parse as X.509 (Zeek then has no certificate record and logs neither).
pub fn subject_issuer(der: &[u8]) -> Option<(String, String)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some((rfc2253(cert.subject()), rfc2253(cert.issuer())))
}

/// Formats a DER-encoded `Name` (for tests and tools); `None` when it does not parse.
pub fn rfc2253_der(name_der: &[u8]) -> Option<String> {
    let (_, name) = X509Name::from_der(name_der).ok()?;
    Some(rfc2253(&name))
}

/// Formats a parsed name; see the module docs.
pub fn rfc2253(name: &X509Name<'_>) -> String {
    // Flatten to (rdn index, attribute) so that the reversed walk knows where RDNs change.
    let attrs: Vec<(usize, &x509_parser::x509::AttributeTypeAndValue<'_>)> = name
        .iter_rdn()
        .enumerate()
        .flat_map(|(i, rdn)| rdn.iter().map(move |a| (i, a)))
        .collect();
    let mut out = String::new();
    let mut prev: Option<usize> = None;
    for &(set, attr) in attrs.iter().rev() {
        match prev {
            Some(p) if p == set => out.push('+'),
            Some(_) => out.push(','),
            None => {}
        }
        prev = Some(set);
        let oid = attr.attr_type().to_id_string();
        match short_name(&oid) {
            Some(sn) => {
                out.push_str(sn);
                out.push('=');
                value(&mut out, attr.attr_value());
            }
            None => {
                out.push_str(&oid);
                out.push('=');
                dump(&mut out, attr.attr_value());
            }
        }
    }
    truncate(out)
}

/// Cuts `s` to [`MAX_NAME_TEXT`] bytes. The text is ASCII (every other byte is escaped), so any
/// byte position is a character boundary.
fn truncate(mut s: String) -> String {
    if s.len() > MAX_NAME_TEXT {
        let mut end = MAX_NAME_TEXT;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// How OpenSSL reads the characters of a string type (its `tag2nbyte` table).
#[derive(Clone, Copy)]
enum Width {
    /// UTF8String.
    Utf8,
    /// One byte per character (Latin-1 for the bytes above 0x7f).
    One,
    /// BMPString: UCS-2, big endian.
    Two,
    /// UniversalString: UCS-4, big endian.
    Four,
}

/// The width of a universal string type, `None` for types OpenSSL dumps as hex.
fn width(v: &Any<'_>) -> Option<Width> {
    if v.header.class() != Class::Universal || v.header.is_constructed() {
        return None;
    }
    match v.header.tag().0 {
        12 => Some(Width::Utf8),
        // Numeric, Printable, T61, IA5, UTCTime, GeneralizedTime, ISO646 (Visible)String.
        18 | 19 | 20 | 22 | 23 | 24 | 26 => Some(Width::One),
        28 => Some(Width::Four),
        30 => Some(Width::Two),
        _ => None,
    }
}

/// Writes an attribute value of a known attribute type.
fn value(out: &mut String, v: &Any<'_>) {
    let Some(w) = width(v) else {
        dump(out, v);
        return;
    };
    let Some(chars) = decode(v.data, w) else {
        // OpenSSL gives up on an undecodable string; keep what the bytes say, escaped.
        chars_out(out, v.data.iter().map(|&b| u32::from(b)));
        return;
    };
    chars_out(out, chars.into_iter());
}

/// The code points of a string of width `w`; `None` when the bytes do not fit it.
fn decode(data: &[u8], w: Width) -> Option<Vec<u32>> {
    match w {
        Width::Utf8 => Some(
            std::str::from_utf8(data)
                .ok()?
                .chars()
                .map(u32::from)
                .collect(),
        ),
        Width::One => Some(data.iter().map(|&b| u32::from(b)).collect()),
        Width::Two => {
            let units = data.chunks_exact(2);
            if !units.remainder().is_empty() {
                return None;
            }
            Some(
                units
                    .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
                    .collect(),
            )
        }
        Width::Four => {
            let units = data.chunks_exact(4);
            if !units.remainder().is_empty() {
                return None;
            }
            Some(
                units
                    .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            )
        }
    }
}

/// Writes characters with RFC 2253 escaping (OpenSSL's `do_buf` + `do_esc_char`).
fn chars_out(out: &mut String, chars: impl ExactSizeIterator<Item = u32>) {
    let n = chars.len();
    for (i, c) in chars.enumerate() {
        if c > 0x7f {
            // Converted to UTF-8, and every byte of it has the high bit set: `\XX` each.
            let mut buf = [0u8; 4];
            let bytes: &[u8] = match char::from_u32(c) {
                Some(ch) => ch.encode_utf8(&mut buf).as_bytes(),
                None => &[],
            };
            if bytes.is_empty() {
                // Not a Unicode scalar (a surrogate or beyond U+10FFFF): OpenSSL writes the
                // code as `\UXXXX` / `\WXXXXXXXX`.
                if c > 0xffff {
                    let _ = write!(out, "\\W{c:08X}");
                } else {
                    let _ = write!(out, "\\U{c:04X}");
                }
            }
            for b in bytes {
                let _ = write!(out, "\\{b:02X}");
            }
            continue;
        }
        // `c` is ASCII here.
        let b = c as u8;
        let first = i == 0;
        let last = i + 1 == n;
        let special = matches!(b, b',' | b'+' | b'"' | b'\\' | b'<' | b'>' | b';')
            || (first && (b == b'#' || b == b' '))
            || (last && b == b' ');
        if special {
            out.push('\\');
            out.push(char::from(b));
        } else if b < 0x20 || b == 0x7f {
            let _ = write!(out, "\\{b:02X}");
        } else {
            out.push(char::from(b));
        }
    }
}

/// Writes `#` and the uppercase hex of the value's DER encoding (tag, length, contents).
fn dump(out: &mut String, v: &Any<'_>) {
    out.push('#');
    let mut der = Vec::with_capacity(v.data.len() + 6);
    let class = (v.header.class() as u8) << 6;
    let constructed = if v.header.is_constructed() { 0x20 } else { 0 };
    let tag = v.header.tag().0;
    if tag < 31 {
        // `tag < 31` fits the low five bits of the identifier octet.
        der.push(class | constructed | tag as u8);
    } else {
        der.push(class | constructed | 0x1f);
        let mut groups = Vec::new();
        let mut t = tag;
        loop {
            groups.push((t & 0x7f) as u8);
            t >>= 7;
            if t == 0 {
                break;
            }
        }
        for (i, g) in groups.iter().rev().enumerate() {
            der.push(if i + 1 < groups.len() { g | 0x80 } else { *g });
        }
    }
    let len = v.data.len();
    if len < 0x80 {
        der.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        der.push(0x80 | (bytes.len() - skip) as u8);
        der.extend_from_slice(&bytes[skip..]);
    }
    der.extend_from_slice(v.data);
    for b in der {
        let _ = write!(out, "{b:02X}");
    }
}

/// OpenSSL's short name (`OBJ_nid2sn`) of a name attribute type, by dotted OID.
fn short_name(oid: &str) -> Option<&'static str> {
    if let Some(n) = oid.strip_prefix("2.5.4.") {
        return Some(match n {
            "3" => "CN",
            "4" => "SN",
            "5" => "serialNumber",
            "6" => "C",
            "7" => "L",
            "8" => "ST",
            "9" => "street",
            "10" => "O",
            "11" => "OU",
            "12" => "title",
            "13" => "description",
            "14" => "searchGuide",
            "15" => "businessCategory",
            "16" => "postalAddress",
            "17" => "postalCode",
            "18" => "postOfficeBox",
            "19" => "physicalDeliveryOfficeName",
            "20" => "telephoneNumber",
            "21" => "telexNumber",
            "22" => "teletexTerminalIdentifier",
            "23" => "facsimileTelephoneNumber",
            "24" => "x121Address",
            "25" => "internationaliSDNNumber",
            "26" => "registeredAddress",
            "27" => "destinationIndicator",
            "28" => "preferredDeliveryMethod",
            "29" => "presentationAddress",
            "30" => "supportedApplicationContext",
            "31" => "member",
            "32" => "owner",
            "33" => "roleOccupant",
            "34" => "seeAlso",
            "35" => "userPassword",
            "36" => "userCertificate",
            "37" => "cACertificate",
            "38" => "authorityRevocationList",
            "39" => "certificateRevocationList",
            "40" => "crossCertificatePair",
            "41" => "name",
            "42" => "GN",
            "43" => "initials",
            "44" => "generationQualifier",
            "45" => "x500UniqueIdentifier",
            "46" => "dnQualifier",
            "47" => "enhancedSearchGuide",
            "48" => "protocolInformation",
            "49" => "distinguishedName",
            "50" => "uniqueMember",
            "51" => "houseIdentifier",
            "52" => "supportedAlgorithms",
            "53" => "deltaRevocationList",
            "54" => "dmdName",
            "65" => "pseudonym",
            "72" => "role",
            "97" => "organizationIdentifier",
            "98" => "c3",
            "99" => "n3",
            "100" => "dnsName",
            _ => return None,
        });
    }
    Some(match oid {
        "1.2.840.113549.1.9.1" => "emailAddress",
        "1.2.840.113549.1.9.2" => "unstructuredName",
        "1.2.840.113549.1.9.3" => "contentType",
        "1.2.840.113549.1.9.7" => "challengePassword",
        "1.2.840.113549.1.9.8" => "unstructuredAddress",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.3" => "mail",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DER of one attribute: SET { SEQUENCE { OID, value } }.
    fn rdn(attrs: &[(&[u8], u8, &[u8])]) -> Vec<u8> {
        let mut set = Vec::new();
        for (oid, tag, val) in attrs {
            let mut seq = vec![0x06, oid.len() as u8];
            seq.extend_from_slice(oid);
            seq.push(*tag);
            seq.push(val.len() as u8);
            seq.extend_from_slice(val);
            set.push(0x30);
            set.push(seq.len() as u8);
            set.extend(seq);
        }
        let mut out = vec![0x31, set.len() as u8];
        out.extend(set);
        out
    }

    fn name(rdns: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = rdns.concat();
        let mut out = vec![0x30, body.len() as u8];
        out.extend(body);
        out
    }

    const CN: &[u8] = &[0x55, 0x04, 0x03];
    const C: &[u8] = &[0x55, 0x04, 0x06];
    const O: &[u8] = &[0x55, 0x04, 0x0a];
    const OU: &[u8] = &[0x55, 0x04, 0x0b];
    const EMAIL: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01];
    const PRINTABLE: u8 = 0x13;
    const UTF8: u8 = 0x0c;
    const IA5: u8 = 0x16;
    const BMP: u8 = 0x1e;

    // Expected strings below were checked with
    // `openssl x509 -noout -subject -nameopt RFC2253` on certificates with these names.

    #[test]
    fn reverse_order_short_names_and_commas() {
        let der = name(&[
            rdn(&[(C, PRINTABLE, b"DE")]),
            rdn(&[(O, UTF8, b"1&1 Mail & Media GmbH")]),
            rdn(&[(EMAIL, IA5, b"server-certs@1und1.de")]),
            rdn(&[(CN, UTF8, b"imap.gmx.net")]),
        ]);
        assert_eq!(
            rfc2253_der(&der).as_deref(),
            Some("CN=imap.gmx.net,emailAddress=server-certs@1und1.de,O=1&1 Mail & Media GmbH,C=DE")
        );
    }

    #[test]
    fn multi_valued_rdn_uses_plus_and_is_reversed_too() {
        let der = name(&[
            rdn(&[(C, PRINTABLE, b"US")]),
            rdn(&[(O, UTF8, b"Example"), (OU, UTF8, b"Web")]),
        ]);
        assert_eq!(rfc2253_der(&der).as_deref(), Some("OU=Web+O=Example,C=US"));
    }

    #[test]
    fn rfc2253_specials_are_escaped() {
        let der = name(&[rdn(&[(CN, UTF8, b"#a,b+c\"d\\e<f>g;h ")])]);
        assert_eq!(
            rfc2253_der(&der).as_deref(),
            Some("CN=\\#a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h\\ ")
        );
        let der = name(&[rdn(&[(CN, UTF8, b" lead and # inside")])]);
        assert_eq!(
            rfc2253_der(&der).as_deref(),
            Some("CN=\\ lead and # inside")
        );
    }

    #[test]
    fn non_ascii_and_control_bytes_are_hex_escaped() {
        // "Müller" in UTF-8, a tab, and the same name as BMPString.
        let der = name(&[rdn(&[(CN, UTF8, "Mü\tx".as_bytes())])]);
        assert_eq!(rfc2253_der(&der).as_deref(), Some("CN=M\\C3\\BC\\09x"));
        let der = name(&[rdn(&[(CN, BMP, &[0, b'M', 0, 0xfc])])]);
        assert_eq!(rfc2253_der(&der).as_deref(), Some("CN=M\\C3\\BC"));
        // T61String bytes are Latin-1.
        let der = name(&[rdn(&[(CN, 0x14, &[b'M', 0xfc])])]);
        assert_eq!(rfc2253_der(&der).as_deref(), Some("CN=M\\C3\\BC"));
    }

    #[test]
    fn unknown_types_and_values_are_dumped_as_der_hex() {
        // An OID OpenSSL has no name for: dotted OID, value as DER hex even though it is a string.
        let der = name(&[rdn(&[(
            &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37],
            UTF8,
            b"ab",
        )])]);
        assert_eq!(
            rfc2253_der(&der).as_deref(),
            Some("1.3.6.1.4.1.311=#0C026162")
        );
        // Known types with values OpenSSL accepts in a name but does not print as text: a BIT
        // STRING and a (constructed) SEQUENCE.
        let der = name(&[rdn(&[(CN, 0x03, &[0x00, 0xab])])]);
        assert_eq!(rfc2253_der(&der).as_deref(), Some("CN=#030200AB"));
        let der = name(&[rdn(&[(CN, 0x30, &[0x02, 0x01, 0x05])])]);
        assert_eq!(rfc2253_der(&der).as_deref(), Some("CN=#3003020105"));
    }

    #[test]
    fn universal_string_and_extended_validation_names() {
        // UniversalString "A😀": a character beyond the BMP becomes four escaped UTF-8 bytes.
        let der = name(&[rdn(&[(CN, 0x1c, &[0, 0, 0, 0x41, 0, 1, 0xf6, 0x00])])]);
        assert_eq!(rfc2253_der(&der).as_deref(), Some("CN=A\\F0\\9F\\98\\80"));
        let der = name(&[
            rdn(&[(&[0x55, 0x04, 97], UTF8, b"VATDE-1")]),
            rdn(&[(
                &[
                    0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x03,
                ],
                PRINTABLE,
                b"DE",
            )]),
            rdn(&[(&[0x55, 0x04, 15], UTF8, b"Private Organization")]),
        ]);
        assert_eq!(
            rfc2253_der(&der).as_deref(),
            Some("businessCategory=Private Organization,jurisdictionC=DE,organizationIdentifier=VATDE-1")
        );
    }

    #[test]
    fn delete_and_trailing_spaces() {
        let der = name(&[rdn(&[(CN, UTF8, b"a\x7fb")])]);
        assert_eq!(rfc2253_der(&der).as_deref(), Some("CN=a\\7Fb"));
        let der = name(&[rdn(&[(CN, UTF8, b"x ")]), rdn(&[(CN, UTF8, b"  ")])]);
        assert_eq!(rfc2253_der(&der).as_deref(), Some("CN=\\ \\ ,CN=x\\ "));
    }

    #[test]
    fn empty_name_and_long_names() {
        assert_eq!(rfc2253_der(&[0x30, 0x00]).as_deref(), Some(""));
        let long = "x".repeat(100);
        let rdns: Vec<Vec<u8>> = (0..30)
            .map(|_| rdn(&[(OU, UTF8, long.as_bytes())]))
            .collect();
        let body: Vec<u8> = rdns.concat();
        let mut der = vec![0x30, 0x82, (body.len() >> 8) as u8, body.len() as u8];
        der.extend(body);
        let text = rfc2253_der(&der).unwrap_or_default();
        assert_eq!(text.len(), MAX_NAME_TEXT);
        assert!(text.starts_with("OU=xxx"));
    }

    #[test]
    fn not_a_certificate() {
        assert!(subject_issuer(b"not a certificate").is_none());
        assert!(rfc2253_der(b"\x31\x00").is_none());
    }
}
