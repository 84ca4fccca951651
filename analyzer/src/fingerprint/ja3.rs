//! JA3 and JA3S (Salesforce, BSD 3-Clause), as tshark computes them (`tls.handshake.ja3`,
//! `dtls.handshake.ja3`, and the `ja3s` fields).
//!
//! JA3 = MD5 of `version,ciphers,extensions,groups,point_formats`: decimal values, each list
//! joined by `-`, GREASE values (RFC 8701) left out everywhere; a missing list is empty.
//! `version` is the hello's `client_version` (not `supported_versions`). JA3S = MD5 of
//! `version,cipher,extensions` of the ServerHello. DTLS hellos use the same definition (their
//! version numbers are DTLS's). SSLv2 CLIENT-HELLOs get no fingerprint, as in tshark.

use std::fmt::{self, Write};

use md5::{Digest, Md5};
use tls_grammar::{ClientHello, ExtensionBody, ServerHello};

use super::{client_extensions, extensions_of, is_grease, push_hex, server_parts, HashWriter};

/// Writes `values` without GREASE, decimal, joined by `-`.
fn join(out: &mut impl Write, values: impl Iterator<Item = u16>) -> fmt::Result {
    for (i, v) in values.filter(|v| !is_grease(*v)).enumerate() {
        if i > 0 {
            out.write_char('-')?;
        }
        write!(out, "{v}")?;
    }
    Ok(())
}

/// Writes the JA3 string of `hello` to `out`.
pub fn write_ja3(hello: &ClientHello<'_>, out: &mut impl Write) -> fmt::Result {
    write!(out, "{},", hello.client_version.0)?;
    join(out, hello.cipher_suites.iter().map(|c| c.0))?;
    out.write_char(',')?;
    join(out, client_extensions(hello).map(|e| e.ext_type.0))?;
    out.write_char(',')?;
    // The first extension of each kind counts (tshark reads the lists as it dissects them; a
    // hello with two is malformed anyway).
    if let Some(groups) = client_extensions(hello).find_map(|e| match e.body {
        ExtensionBody::SupportedGroups(g) => Some(g.named_group_list),
        _ => None,
    }) {
        join(out, groups.iter().map(|g| g.0))?;
    }
    out.write_char(',')?;
    if let Some(formats) = client_extensions(hello).find_map(|e| match e.body {
        ExtensionBody::EcPointFormats(f) => Some(f.ec_point_format_list),
        _ => None,
    }) {
        join(out, formats.iter().map(|f| u16::from(f.0)))?;
    }
    Ok(())
}

/// Writes the JA3S string of `hello` to `out`.
pub fn write_ja3s(hello: &ServerHello<'_>, out: &mut impl Write) -> fmt::Result {
    let (cipher, block) = server_parts(hello);
    write!(out, "{},{cipher},", hello.server_version.0)?;
    join(out, extensions_of(block).map(|e| e.ext_type.0))
}

fn md5_hex(write: impl FnOnce(&mut HashWriter<Md5>) -> fmt::Result) -> String {
    let mut h = HashWriter(Md5::new());
    // Writing into a hash cannot fail.
    let _ = write(&mut h);
    let mut out = String::with_capacity(32);
    push_hex(&mut out, &h.0.finalize());
    out
}

/// JA3 of `hello`: 32 lower-case hex digits.
pub fn ja3(hello: &ClientHello<'_>) -> String {
    md5_hex(|h| write_ja3(hello, h))
}

/// JA3S of `hello`: 32 lower-case hex digits.
pub fn ja3s(hello: &ServerHello<'_>) -> String {
    md5_hex(|h| write_ja3s(hello, h))
}
