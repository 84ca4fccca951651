//! GridFTP's GSI security exchange: a TLS handshake tunnelled through FTP `ADAT` commands.
//!
//! In: the FTP control connection's bytes, per direction, from the first `ADAT` command on. Out:
//! the TLS bytes its tokens carry, in order, for the SSL analyzer; and whether the exchange is
//! over.
//!
//! RFC 2228 lets an FTP client authenticate with `AUTH <mechanism>` and then exchange security
//! tokens: the client sends `ADAT <base64>`, the server answers `335 ADAT=<base64>` (more to
//! come) or `235 [ADAT=<base64>]` (done). GSI, the mechanism of GridFTP (Globus), puts a plain
//! TLS handshake into those tokens. Zeek's FTP analyzer hands such an exchange to an SSL analyzer
//! through its `FTP_ADAT_Analyzer`, whose rules this module follows line by line:
//!
//! * client lines: `ADAT <token>` is decoded and forwarded; `AUTH ...` (a new security exchange)
//!   ends it; anything else is skipped;
//! * server lines: replies 334, 335 and 235 forward an `ADAT=<token>` that follows the code (and
//!   an optional `-`); 235 (exchange complete), 232/234 (no ADAT exchange after all), the
//!   rejections 421, 431, 500, 501, 503, 535 and the protected replies 631–633 end it; other
//!   replies are skipped;
//! * the very first client token must look like a TLS handshake record (content type 22 and a
//!   record length that matches the token), else it is not GSI and the exchange ends at once.
//!
//! When the exchange ends, Zeek removes the SSL analyzer from the connection; the caller stops
//! feeding it likewise. Lines are bounded by [`MAX_LINE_LEN`].

use tls_grammar::{ContentType, HandshakeType, ProtocolVersion};

/// The FTP command that carries a client token.
const ADAT_COMMAND: &[u8] = b"ADAT";
/// The FTP command that starts a (new) security exchange.
const AUTH_COMMAND: &[u8] = b"AUTH";
/// What precedes a server token in a reply.
const ADAT_REPLY_PREFIX: &[u8] = b"ADAT=";
/// Longest FTP line kept while waiting for its end; a longer one ends the exchange with
/// [`WEIRD_LINE_TOO_LONG`]. Zeek keeps growing its line buffer; real tokens (a certificate chain
/// in base64) stay far below this.
pub const MAX_LINE_LEN: usize = 1 << 20;
/// Weird raised when a line exceeds [`MAX_LINE_LEN`].
pub const WEIRD_LINE_TOO_LONG: &str = "FTP_ADAT_line_too_long";
/// `source` of that weird.
pub const WEIRD_SOURCE: &str = "FTP_ADAT";

/// What a delivery did to the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The exchange goes on.
    Continue,
    /// The exchange is over (or was never GSI); nothing more is forwarded.
    Done,
    /// A line exceeded [`MAX_LINE_LEN`]; the exchange is over.
    LineTooLong,
}

/// One connection's ADAT exchange; see the module docs.
#[derive(Debug, Default)]
pub struct FtpAdat {
    /// Unfinished line per direction (originator, responder).
    partial: [Vec<u8>; 2],
    /// Whether the next client token is the first one.
    seen_first_token: bool,
    done: bool,
    /// Scratch buffer for decoded tokens, reused.
    decoded: Vec<u8>,
}

impl FtpAdat {
    /// A fresh exchange (the caller saw the first `ADAT` command begin).
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the exchange is over.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Feeds one direction's bytes; `tls` gets the bytes of every complete token, in order.
    pub fn deliver(&mut self, is_orig: bool, data: &[u8], mut tls: impl FnMut(&[u8])) -> Status {
        if self.done {
            return Status::Done;
        }
        let side = usize::from(!is_orig);
        let mut rest = data;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            let (piece, after) = rest.split_at(nl);
            rest = after.get(1..).unwrap_or_default();
            let mut line = std::mem::take(&mut self.partial[side]);
            if line.len() + piece.len() > MAX_LINE_LEN {
                self.done = true;
                return Status::LineTooLong;
            }
            line.extend_from_slice(piece);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            self.line(is_orig, &line, &mut tls);
            // Hand the allocation back for the next line.
            line.clear();
            self.partial[side] = line;
            if self.done {
                return Status::Done;
            }
        }
        if self.partial[side].len() + rest.len() > MAX_LINE_LEN {
            self.done = true;
            return Status::LineTooLong;
        }
        self.partial[side].extend_from_slice(rest);
        Status::Continue
    }

    /// One complete line without its end-of-line bytes.
    fn line(&mut self, is_orig: bool, line: &[u8], tls: &mut impl FnMut(&[u8])) {
        self.decoded.clear();
        let forward = if is_orig {
            self.client_line(line)
        } else {
            self.server_line(line)
        };
        if forward {
            tls(&self.decoded);
        }
    }

    /// A client line; true when `decoded` holds a token to forward.
    fn client_line(&mut self, line: &[u8]) -> bool {
        let line = skip_whitespace(line);
        let word_len = line
            .iter()
            .position(|b| b.is_ascii_whitespace())
            .unwrap_or(line.len());
        let (word, rest) = line.split_at(word_len);
        if word == ADAT_COMMAND {
            decode_base64(skip_whitespace(rest), &mut self.decoded);
            let first = !self.seen_first_token;
            self.seen_first_token = true;
            if first && !is_tls_handshake_record(&self.decoded) {
                self.done = true;
                return false;
            }
            true
        } else {
            if word == AUTH_COMMAND {
                self.done = true;
            }
            false
        }
    }

    /// A server reply line; true when `decoded` holds a token to forward.
    fn server_line(&mut self, line: &[u8]) -> bool {
        let code = reply_code(line);
        match code {
            Some(232 | 234 | 421 | 431 | 500 | 501 | 503 | 535 | 631 | 632 | 633) => {
                self.done = true;
                false
            }
            Some(235 | 334 | 335) => {
                // 235 ends the exchange after its (optional) final token.
                if code == Some(235) {
                    self.done = true;
                }
                let mut rest = line.get(3..).unwrap_or_default();
                if rest.first() == Some(&b'-') {
                    rest = rest.get(1..).unwrap_or_default();
                }
                match skip_whitespace(rest).strip_prefix(ADAT_REPLY_PREFIX) {
                    Some(token) => {
                        decode_base64(token, &mut self.decoded);
                        true
                    }
                    None => false,
                }
            }
            _ => false,
        }
    }
}

/// Whether the start of a stream is an `ADAT` command whose token begins a TLS handshake record:
/// the first bytes of a GSI exchange (used by content detection). A complete line must satisfy
/// Zeek's first-token rule (content type 22, record length = token length − 5); a line still
/// incomplete needs a token start of content type 22, version 3.x and a ClientHello.
pub fn starts_gsi_exchange(data: &[u8]) -> bool {
    let Some(rest) = data.strip_prefix(ADAT_COMMAND) else {
        return false;
    };
    if !rest.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
        return false;
    }
    let rest = skip_whitespace(rest);
    let mut token = Vec::new();
    match rest.iter().position(|&b| b == b'\n') {
        Some(end) => {
            let line = rest.get(..end).unwrap_or_default();
            decode_base64(line.strip_suffix(b"\r").unwrap_or(line), &mut token);
            is_tls_handshake_record(&token)
        }
        None => {
            // Enough base64 for the record header and the handshake type: 8 characters.
            decode_base64(rest.get(..8).unwrap_or(rest), &mut token);
            // A handshake record of SSL 3.0 … TLS 1.3 that starts with a ClientHello.
            let versions = ProtocolVersion::SSLv3.0..=ProtocolVersion::TLSv13.0;
            matches!(token.as_slice(), &[content, major, minor, _, _, msg]
                if ContentType(content) == ContentType::handshake
                    && versions.contains(&u16::from_be_bytes([major, minor]))
                    && HandshakeType(msg) == HandshakeType::client_hello)
        }
    }
}

/// Zeek's first-token check: a handshake record whose length field covers the rest exactly.
fn is_tls_handshake_record(token: &[u8]) -> bool {
    match token {
        [content, _, _, hi, lo, body @ ..] if ContentType(*content) == ContentType::handshake => {
            usize::from(u16::from_be_bytes([*hi, *lo])) == body.len()
        }
        _ => false,
    }
}

/// The three-digit reply code at the start of a line.
fn reply_code(line: &[u8]) -> Option<u16> {
    match line {
        [a, b, c, ..] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

fn skip_whitespace(s: &[u8]) -> &[u8] {
    let n = s
        .iter()
        .position(|b| *b != b' ' && *b != b'\t')
        .unwrap_or(s.len());
    s.get(n..).unwrap_or_default()
}

/// Decodes base64 into `out` like Zeek's `decode_base64`: characters outside the alphabet are
/// skipped, `=` ends the data, and an incomplete final group yields the whole bytes it holds.
pub fn decode_base64(s: &[u8], out: &mut Vec<u8>) {
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            // Truncation keeps the 8 bits just completed.
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                s.push(char::from(A[(n >> (18 - 6 * i) & 63) as usize]));
            }
            for _ in chunk.len()..3 {
                s.push('=');
            }
        }
        s
    }

    /// A TLS handshake record carrying `body` (a fake ClientHello).
    fn record(body: &[u8]) -> Vec<u8> {
        let mut r = vec![22, 3, 1];
        r.extend((body.len() as u16).to_be_bytes());
        r.extend(body);
        r
    }

    #[test]
    fn base64_round_trip_and_leniency() {
        for n in 0..20u8 {
            let data: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37)).collect();
            let mut out = Vec::new();
            decode_base64(b64(&data).as_bytes(), &mut out);
            assert_eq!(out, data, "{n} bytes");
        }
        let mut out = Vec::new();
        decode_base64(b"SGVs\r\nbG8=ignored", &mut out);
        assert_eq!(out, b"Hello");
    }

    #[test]
    fn detection_needs_an_adat_command_with_a_tls_record() {
        let hello = record(&[1, 0, 0, 2, 3, 3]);
        let line = format!("ADAT {}\r\n", b64(&hello));
        assert!(starts_gsi_exchange(line.as_bytes()));
        // Cut anywhere after 8 token characters: still recognised from the record header.
        assert!(starts_gsi_exchange(&line.as_bytes()[..13]));
        assert!(!starts_gsi_exchange(&line.as_bytes()[..9]));
        // A complete line whose record length does not match the token.
        let short = format!("ADAT {}\r\n", b64(&hello[..hello.len() - 1]));
        assert!(!starts_gsi_exchange(short.as_bytes()));
        // Other tokens, other commands, other protocols.
        assert!(!starts_gsi_exchange(b"ADAT YIIBhwYJKoZIhvcSAQICAQBu\r\n"));
        assert!(!starts_gsi_exchange(b"USER anonymous\r\n"));
        assert!(!starts_gsi_exchange(b"ADATFgMBAGsBAABnAwFQ\r\n"));
        assert!(!starts_gsi_exchange(b"GET / HTTP/1.1\r\n"));
        assert!(!starts_gsi_exchange(b""));
    }

    #[test]
    fn tokens_of_both_sides_are_forwarded_until_235() {
        let c1 = record(&[1, 0, 0, 1, 0]);
        let s1 = record(&[2, 0, 0, 1, 0]);
        let c2 = vec![20, 3, 1, 0, 1, 1];
        let s2 = vec![23, 3, 1, 0, 2, 9, 9];
        let mut adat = FtpAdat::new();
        let mut got: Vec<(bool, Vec<u8>)> = Vec::new();
        let client = format!("ADAT {}\r\nADAT {}\r\n", b64(&c1), b64(&c2));
        // The client's lines arrive cut in the middle.
        let (a, b) = client.as_bytes().split_at(7);
        for part in [a, b] {
            let st = adat.deliver(true, part, |t| got.push((true, t.to_vec())));
            assert_eq!(st, Status::Continue);
        }
        let server = format!(
            "335 ADAT={}\r\n632 not a token\r\n235-ADAT={}\r\n335 ADAT={}\r\n",
            b64(&s1),
            b64(&s2),
            b64(&s1)
        );
        let st = adat.deliver(false, server.as_bytes(), |t| got.push((false, t.to_vec())));
        // 632 ends the exchange before the 235 line.
        assert_eq!(st, Status::Done);
        assert!(adat.is_done());
        assert_eq!(
            got,
            [(true, c1.clone()), (true, c2.clone()), (false, s1.clone())]
        );

        let mut adat = FtpAdat::new();
        let mut got = Vec::new();
        let lines = format!("ADAT {}\n335 ignored\n235 ADAT={}\n", b64(&c1), b64(&s2));
        let (client_line, server_lines) = lines.split_at(lines.find('\n').unwrap_or(0) + 1);
        adat.deliver(true, client_line.as_bytes(), |t| got.push(t.to_vec()));
        let st = adat.deliver(false, server_lines.as_bytes(), |t| got.push(t.to_vec()));
        // 235 forwards its final token, then ends the exchange.
        assert_eq!(st, Status::Done);
        assert_eq!(got, [c1, s2]);
    }

    #[test]
    fn a_first_token_that_is_not_tls_or_a_new_auth_ends_it() {
        let mut adat = FtpAdat::new();
        let mut n = 0;
        let st = adat.deliver(true, b"ADAT YIIBhwYJKoZIhvcSAQICAQBu\r\n", |_| n += 1);
        assert_eq!((st, n), (Status::Done, 0));

        let mut adat = FtpAdat::new();
        let first = format!("ADAT {}\r\n", b64(&record(&[1])));
        adat.deliver(true, first.as_bytes(), |_| n += 1);
        let st = adat.deliver(true, b"AUTH GSSAPI\r\nADAT AAAA\r\n", |_| n += 1);
        assert_eq!((st, n), (Status::Done, 1));
    }

    #[test]
    fn overlong_lines_end_the_exchange() {
        let mut adat = FtpAdat::new();
        let chunk = vec![b'A'; MAX_LINE_LEN / 2 + 1];
        assert_eq!(adat.deliver(true, &chunk, |_| {}), Status::Continue);
        assert_eq!(adat.deliver(true, &chunk, |_| {}), Status::LineTooLong);
        assert_eq!(adat.deliver(true, b"\n", |_| {}), Status::Done);
    }
}
