//! Helpers for the encoder round-trip tests: compare what an encoder writes with the bytes a
//! value was parsed from, and say where they differ.

use pac_runtime::EncodeError;

/// Runs `encode` into a fresh buffer and compares with `want`; the error names the spec type
/// `what`, the first differing offset and the bytes around it.
pub fn same(
    what: &str,
    want: &[u8],
    encode: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
) -> Result<(), String> {
    let mut got = Vec::new();
    encode(&mut got).map_err(|e| format!("{what}: encode failed: {e}"))?;
    if got == want {
        return Ok(());
    }
    let at = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    let window = |b: &[u8]| hex(&b[at.saturating_sub(4).min(b.len())..(at + 8).min(b.len())]);
    Err(format!(
        "{what}: re-encoded {} bytes, parsed {}; first difference at offset {at}: got ..{}.. want ..{}..",
        got.len(),
        want.len(),
        window(&got),
        window(want)
    ))
}

/// Lower-case hex of `b`.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Bytes from hex digits (whitespace ignored); `None` on anything else or an odd count.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}
