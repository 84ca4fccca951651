//! Value renderings shared by the event writers and the ssl.log writers.
//!
//! In: raw Zeek values (byte strings, doubles). Out: their text appended to a byte buffer, the way
//! Zeek renders them in JSON (`json_string`, `json_double`) and in its ASCII logs
//! (`ascii_string`, `fixed6`). Nothing here allocates beyond growing the caller's buffer.

use std::io::Write as _;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Largest magnitude that Zeek's JSON writer (rapidjson) prints in plain decimal notation.
const JSON_DECIMAL_MAX: f64 = 1e21;
/// Smallest non-zero magnitude that rapidjson prints in plain decimal notation.
const JSON_DECIMAL_MIN: f64 = 1e-6;

fn push_hex_escape(out: &mut Vec<u8>, b: u8, backslashes: &[u8]) {
    out.extend_from_slice(backslashes);
    out.push(b'x');
    out.push(HEX[usize::from(b >> 4)]);
    out.push(HEX[usize::from(b & 0x0f)]);
}

/// Appends `bytes` as a quoted JSON string escaped as Zeek's JSON output does: printable ASCII
/// stays (with `"` and `\` JSON-escaped), `\b \f \n \r \t` become the JSON escapes, and every
/// other byte (other controls, DEL, everything >= 0x80, even when it is valid UTF-8) becomes the
/// four characters `\xNN`, written in JSON as `\\xNN`.
pub fn json_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    json_string_body(out, bytes);
    out.push(b'"');
}

/// [`json_string`] without the quotes.
pub fn json_string_body(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let plain = (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\';
        if plain {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        start = i + 1;
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => push_hex_escape(out, b, b"\\\\"),
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends a double the way Zeek's JSON writer does: a representation that reads back to the
/// same value, with `.0` on integral values (`1357328848.0`), exponent notation only outside
/// rapidjson's decimal range, and `null` for NaN and infinities. Known deviation: we print the
/// shortest such representation, while rapidjson's Grisu2 occasionally prints one digit more
/// (`1348168976.5514221` for the double we print as `1348168976.551422`); both parse to the same
/// double.
pub fn json_double(out: &mut Vec<u8>, v: f64) {
    if !v.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    let mag = v.abs();
    let start = out.len();
    if v != 0.0 && !(JSON_DECIMAL_MIN..JSON_DECIMAL_MAX).contains(&mag) {
        // Writing into a Vec cannot fail.
        let _ = write!(out, "{v:e}");
        return;
    }
    let _ = write!(out, "{v}");
    if !out[start..].contains(&b'.') {
        out.extend_from_slice(b".0");
    }
}

/// Appends a `time`/`interval` as Zeek's ASCII logs print it: fixed, six decimals, exactly
/// what `format!("{v:.6}")` gives (the exact binary value rounded half to even).
///
/// Every ssl.log row and text event line starts with one, and the general float formatter was
/// a few percent of a whole run; non-negative values below 2^53 µs take an integer path.
pub fn fixed6(out: &mut Vec<u8>, v: f64) {
    match fixed6_micros(v) {
        Some(us) => {
            push_u64(out, us / 1_000_000);
            out.push(b'.');
            let frac = us % 1_000_000;
            let mut digits = [b'0'; 6];
            let mut f = frac;
            for d in digits.iter_mut().rev() {
                *d = b'0' + (f % 10) as u8;
                f /= 10;
            }
            out.extend_from_slice(&digits);
        }
        None => {
            let _ = write!(out, "{v:.6}");
        }
    }
}

/// `v` in millionths, rounded half to even from its exact binary value; `None` when `v` is
/// negative, not finite or too large for the integer path.
fn fixed6_micros(v: f64) -> Option<u64> {
    /// Values from 2^53 µs (about 285 years in seconds) on use the general formatter.
    const LIMIT: f64 = 9_007_199_254.740_992;
    if !(0.0..LIMIT).contains(&v) || v.is_sign_negative() {
        // Also -0.0, which prints as "-0.000000".
        return None;
    }
    let bits = v.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    let (mantissa, exp) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), biased - 1075)
    };
    // v · 10^6 = mantissa · 10^6 · 2^exp, with mantissa · 10^6 < 2^73: exact in a u128.
    let scaled = u128::from(mantissa) * 1_000_000;
    if exp >= 0 {
        // Below LIMIT an integral value has exp <= 0 unless mantissa carries the scale.
        return u64::try_from(scaled << exp).ok();
    }
    let shift = exp.unsigned_abs();
    if shift > 100 {
        // Below 2^-27: rounds to 0 (scaled < 2^73 is less than half of 2^100).
        return Some(0);
    }
    let q = scaled >> shift;
    let r = scaled & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    let q = if r > half || (r == half && q & 1 == 1) {
        q + 1
    } else {
        q
    };
    u64::try_from(q).ok()
}

/// Appends `n` in decimal.
pub fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends an address as Zeek prints it (dotted quad; IPv6 in its canonical compressed form).
pub fn push_addr(out: &mut Vec<u8>, a: std::net::IpAddr) {
    match a {
        std::net::IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            push_u64(out, u64::from(a));
            out.push(b'.');
            push_u64(out, u64::from(b));
            out.push(b'.');
            push_u64(out, u64::from(c));
            out.push(b'.');
            push_u64(out, u64::from(d));
        }
        std::net::IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

/// Appends a string field for Zeek's ASCII (TSV) log: `\` and bytes that are not printable
/// ASCII become `\xNN` (valid multi-byte UTF-8 is kept, as Zeek's UTF-8 mode does), and so does
/// any byte that would look like a separator: the field separator (a tab, already unprintable)
/// and, inside a container, the set separator `,`. A value equal to the unset (`-`) or empty
/// (`(empty)`) marker gets its first byte escaped so it cannot be mistaken for one.
pub fn ascii_string(out: &mut Vec<u8>, bytes: &[u8], in_container: bool) {
    if bytes == b"-" || bytes == b"(empty)" {
        push_hex_escape(out, bytes[0], b"\\");
        out.extend_from_slice(&bytes[1..]);
        return;
    }
    // Runs of plain bytes are copied at once; names and histories are nearly always one run.
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let plain = (0x20..0x7f).contains(&b) && b != b'\\' && !(in_container && b == b',');
        if plain {
            i += 1;
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        let n = if b >= 0x80 {
            utf8_sequence_len(&bytes[i..])
        } else {
            0
        };
        if n > 0 {
            out.extend_from_slice(&bytes[i..i + n]);
            i += n;
        } else {
            push_hex_escape(out, b, b"\\");
            i += 1;
        }
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Length of the valid UTF-8 multi-byte sequence at the start of `b`, or 0 when there is none.
fn utf8_sequence_len(b: &[u8]) -> usize {
    let n = match b.first() {
        Some(0xc2..=0xdf) => 2,
        Some(0xe0..=0xef) => 3,
        Some(0xf0..=0xf4) => 4,
        _ => return 0,
    };
    match b.get(..n).map(std::str::from_utf8) {
        Some(Ok(_)) => n,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn js(b: &[u8]) -> String {
        let mut v = Vec::new();
        json_string(&mut v, b);
        String::from_utf8(v).expect("ascii")
    }

    fn jd(d: f64) -> String {
        let mut v = Vec::new();
        json_double(&mut v, d);
        String::from_utf8(v).expect("ascii")
    }

    #[test]
    fn json_strings_like_zeek() {
        assert_eq!(js(b"\x03\x00\x01\x02"), r#""\\x03\\x00\\x01\\x02""#);
        assert_eq!(
            js(b"\x002\x00\x0e\x00\r\x00\x0c\t\n\x08"),
            r#""\\x002\\x00\\x0e\\x00\r\\x00\f\t\n\b""#
        );
        assert_eq!(js(b"a\"b\\c/d"), r#""a\"b\\c/d""#);
        assert_eq!(js(b"\x7f\xc3\xa9"), r#""\\x7f\\xc3\\xa9""#);
        assert_eq!(js(b""), r#""""#);
    }

    #[test]
    fn json_doubles_like_zeek() {
        assert_eq!(jd(1357328848.54937), "1357328848.54937");
        assert_eq!(jd(1357328848.0), "1357328848.0");
        // Zeek's rapidjson (Grisu2) printed this value as 1348168976.5514221 in the corpus; the
        // shortest form is one digit shorter and reads back to the same double.
        let v: f64 = "1348168976.5514221".parse().expect("float");
        assert_eq!(jd(v), "1348168976.551422");
        assert_eq!(jd(v).parse::<f64>().expect("float"), v);
        assert_eq!(jd(0.0), "0.0");
        assert_eq!(jd(1e-7), "1e-7");
        assert_eq!(jd(f64::NAN), "null");
    }

    #[test]
    fn ascii_strings_like_zeek() {
        let a = |b: &[u8], c: bool| {
            let mut v = Vec::new();
            ascii_string(&mut v, b, c);
            String::from_utf8(v).expect("utf8")
        };
        assert_eq!(a(b"www.example.com", false), "www.example.com");
        assert_eq!(a(b"a\tb\\c", false), "a\\x09b\\x5cc");
        assert_eq!(a(b"a,b", true), "a\\x2cb");
        assert_eq!(a(b"a,b", false), "a,b");
        assert_eq!(a(b"-", false), "\\x2d");
        assert_eq!(a(b"(empty)", false), "\\x28empty)");
        assert_eq!(a("é".as_bytes(), false), "é");
        assert_eq!(a(b"\xff\xc3", false), "\\xff\\xc3");
        let mut v = Vec::new();
        fixed6(&mut v, 1357328848.54937);
        assert_eq!(v, b"1357328848.549370");
    }

    /// The integer path of `fixed6` gives exactly what the general formatter gives: capture
    /// times, exact ties (odd multiples of 2^-7 and 2^-20 sit halfway between two millionths),
    /// tiny, subnormal and integral values, and values around the limit.
    #[test]
    fn fixed6_is_the_general_formatter() {
        let check = |v: f64| {
            let mut fast = Vec::new();
            fixed6(&mut fast, v);
            assert_eq!(
                String::from_utf8(fast).expect("ascii"),
                format!("{v:.6}"),
                "{v:e}"
            );
        };
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            // xorshift: capture-like times, then arbitrary bit patterns.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            check(1.0e9 + (x % 2_000_000_000_000_000) as f64 / 1e6);
            check(f64::from_bits(x >> 2));
            check((x % 10_000_000) as f64 / 128.0);
        }
        for k in 0..5_000u32 {
            check(f64::from(k) / 128.0);
            check(f64::from(k) / 1_048_576.0);
            check(1_357_328_848.0 + f64::from(k) / 128.0);
        }
        for v in [
            0.0,
            -0.0,
            -1.5,
            5e-324,
            1e-7,
            4.9999995e-7,
            5e-7,
            0.5,
            9_007_199_254.740_991,
            9_007_199_254.740_992,
            1e300,
            f64::INFINITY,
            f64::NAN,
        ] {
            check(v);
        }
    }

    #[test]
    fn addresses_and_numbers() {
        let mut v = Vec::new();
        push_addr(&mut v, "192.168.0.255".parse().expect("ip"));
        v.push(b' ');
        push_addr(&mut v, "2001:db8::1".parse().expect("ip"));
        v.push(b' ');
        push_u64(&mut v, 0);
        v.push(b' ');
        push_u64(&mut v, u64::MAX);
        assert_eq!(v, b"192.168.0.255 2001:db8::1 0 18446744073709551615");
    }
}
