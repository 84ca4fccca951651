//! JA3 and JA3S (Salesforce, BSD 3-Clause), as tshark computes them (`tls.handshake.ja3`,
//! `dtls.handshake.ja3`, and the `ja3s` fields).
//!
//! JA3 = MD5 of `version,ciphers,extensions,groups,point_formats`: decimal values, each list
//! joined by `-`, GREASE values (RFC 8701) left out everywhere; a missing list is empty.
//! `version` is the hello's `client_version` (not `supported_versions`). JA3S = MD5 of
//! `version,cipher,extensions` of the ServerHello. DTLS hellos use the same definition (their
//! version numbers are DTLS's). SSLv2 CLIENT-HELLOs get no fingerprint, as in tshark.

use md5::{Digest, Md5};

use super::facts::{ascii, hex, ClientFacts, Out, ServerFacts, Text};
use super::is_grease;

/// Writes `values` without GREASE, decimal, joined by `-`.
fn join(out: &mut impl Out, values: impl Iterator<Item = u16>) {
    for (i, v) in values.filter(|v| !is_grease(*v)).enumerate() {
        if i > 0 {
            out.byte(b'-');
        }
        out.decimal(v);
    }
}

/// Writes the JA3 string of `f` to `out`.
pub fn write_ja3(f: &ClientFacts<'_>, out: &mut impl Out) {
    out.decimal(f.version);
    out.byte(b',');
    join(out, f.ciphers.as_slice().iter().copied());
    out.byte(b',');
    join(out, f.extensions.as_slice().iter().copied());
    out.byte(b',');
    // The first extension of each kind counts (a hello with two is malformed anyway).
    if let Some(groups) = &f.groups {
        join(out, groups.iter().map(|g| g.0));
    }
    out.byte(b',');
    if let Some(formats) = &f.point_formats {
        join(out, formats.iter().map(|p| u16::from(p.0)));
    }
}

/// Writes the JA3S string of `f` to `out`.
pub fn write_ja3s(f: &ServerFacts<'_>, out: &mut impl Out) {
    out.decimal(f.version);
    out.byte(b',');
    out.decimal(f.cipher);
    out.byte(b',');
    join(out, f.extensions.as_slice().iter().copied());
}

fn md5_hex(write: impl FnOnce(&mut Text)) -> String {
    let mut text = Text::default();
    write(&mut text);
    hex(&Md5::digest(text.as_slice()))
}

/// The JA3 string of `f`.
pub fn ja3_string(f: &ClientFacts<'_>) -> String {
    let mut out = Vec::new();
    write_ja3(f, &mut out);
    ascii(out)
}

/// The JA3S string of `f`.
pub fn ja3s_string(f: &ServerFacts<'_>) -> String {
    let mut out = Vec::new();
    write_ja3s(f, &mut out);
    ascii(out)
}

/// JA3 of `f`: 32 lower-case hex digits.
pub fn ja3(f: &ClientFacts<'_>) -> String {
    md5_hex(|h| write_ja3(f, h))
}

/// JA3S of `f`: 32 lower-case hex digits.
pub fn ja3s(f: &ServerFacts<'_>) -> String {
    md5_hex(|h| write_ja3s(f, h))
}
