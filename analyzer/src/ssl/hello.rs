//! The few handshake facts the state machine itself needs, read straight from message bodies.
//!
//! In: the body of a ClientHello, ServerHello or Certificate message (after the 4-byte handshake
//! header). Out: the client's version; the server's version, chosen cipher and `supported_versions`
//! selection; the DER certificates of a chain. Everything else about these messages (and their
//! events) is the generated parser's job; this module only exists so that encryption tracking,
//! TLS 1.3 detection and the key-exchange class do not depend on event plumbing. Errors are the
//! text of the violation Zeek would report.

/// `supported_versions` (RFC 8446 §4.2.1).
const EXT_SUPPORTED_VERSIONS: u16 = 43;

/// A bounds-checked big-endian reader; every read that would run past the end is an error naming
/// the field, never a panic.
struct Cursor<'a> {
    data: &'a [u8],
    unit: &'static str,
}

impl<'a> Cursor<'a> {
    /// `field` documents the read at the call site; Zeek's binpac text names only the unit.
    fn bytes(&mut self, n: usize, _field: &str) -> Result<&'a [u8], String> {
        if n > self.data.len() {
            return Err(format!(
                "Binpac exception: binpac exception: out_of_bound: {}: {} > {}",
                self.unit,
                n,
                self.data.len()
            ));
        }
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        Ok(head)
    }

    fn uint(&mut self, n: usize, field: &str) -> Result<u32, String> {
        Ok(self
            .bytes(n, field)?
            .iter()
            .fold(0u32, |acc, b| acc << 8 | u32::from(*b)))
    }

    fn u16(&mut self, field: &str) -> Result<u16, String> {
        let b = self.bytes(2, field)?;
        Ok(u16::from_be_bytes([
            b.first().copied().unwrap_or(0),
            b.get(1).copied().unwrap_or(0),
        ]))
    }
}

/// The client's `client_version` (for SSLv3+ ClientHellos).
pub fn client_version(body: &[u8]) -> Result<u16, String> {
    Cursor {
        data: body,
        unit: "ClientHello",
    }
    .u16("client_version")
}

/// What the server chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerChoice {
    /// The ServerHello's own version field (`server_version`).
    pub server_version: u16,
    /// The version from a `supported_versions` extension, if the server sent one.
    pub selected_version: Option<u16>,
    /// The chosen cipher suite.
    pub cipher: u16,
}

/// Reads a ServerHello: the classic layout, or the TLS 1.3 draft layout (no session id and no
/// compression method) when the version is 0x0304 or 0x7Fxx, as Zeek's `ServerHelloChoice` does.
pub fn server_choice(body: &[u8]) -> Result<ServerChoice, String> {
    let mut c = Cursor {
        data: body,
        unit: "ServerHello",
    };
    let server_version = c.u16("server_version")?;
    let draft_layout = server_version == super::version::TLSV13 || server_version >> 8 == 0x7F;
    c.bytes(32, "random_bytes")?;
    if !draft_layout {
        let len = c.uint(1, "session_len")? as usize;
        c.bytes(len, "session_id")?;
    }
    let cipher = c.u16("cipher_suite")?;
    if !draft_layout {
        c.bytes(1, "compression_method")?;
    }
    let mut selected_version = None;
    // Extensions are optional (old servers); a truncated block is left to the full parser.
    if c.data.len() >= 2 {
        let ext_len = usize::from(c.u16("ext_len")?);
        let mut exts = Cursor {
            data: c.bytes(ext_len.min(c.data.len()), "extensions")?,
            unit: "SSLExtension",
        };
        while exts.data.len() >= 4 {
            let ext_type = exts.u16("type")?;
            let len = usize::from(exts.u16("data_len")?);
            let data = exts.bytes(len, "ext")?;
            if ext_type == EXT_SUPPORTED_VERSIONS && data.len() == 2 && selected_version.is_none() {
                selected_version = Some(u16::from_be_bytes([data[0], data[1]]));
            }
        }
    }
    Ok(ServerChoice {
        server_version,
        selected_version,
        cipher,
    })
}

/// Calls `each` with every certificate of a (TLS ≤ 1.2 style) Certificate message, in order.
pub fn certificates<'a>(body: &'a [u8], mut each: impl FnMut(&'a [u8])) -> Result<(), String> {
    let mut c = Cursor {
        data: body,
        unit: "Certificate",
    };
    let total = c.uint(3, "length")? as usize;
    // Zeek bounds the whole unit (`&length = length + 3`), so its text counts the prefix too.
    let Some(certs) = c.data.get(..total) else {
        return Err(format!(
            "Binpac exception: binpac exception: out_of_bound: Certificate: {} > {}",
            total + 3,
            body.len()
        ));
    };
    let mut list = Cursor {
        data: certs,
        unit: "X509Certificate",
    };
    while !list.data.is_empty() {
        let len = list.uint(3, "length")? as usize;
        each(list.bytes(len, "certificate")?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_hello_with_supported_versions() {
        let mut b = vec![3, 3];
        b.extend([0u8; 32]);
        b.push(0); // empty session id
        b.extend([0x13, 0x01, 0]);
        b.extend([0, 6, 0, 43, 0, 2, 3, 4]);
        assert_eq!(
            server_choice(&b),
            Ok(ServerChoice {
                server_version: 0x0303,
                selected_version: Some(0x0304),
                cipher: 0x1301
            })
        );
        for cut in 0..b.len() {
            // Every prefix is either a result or an error, never a panic.
            let _ = server_choice(&b[..cut]);
        }
    }

    #[test]
    fn certificate_chain_and_truncation() {
        let body = [0, 0, 9, 0, 0, 2, 0xaa, 0xbb, 0, 0, 1, 0xcc];
        let mut got = Vec::new();
        assert_eq!(certificates(&body, |c| got.push(c.to_vec())), Ok(()));
        assert_eq!(got, vec![vec![0xaa, 0xbb], vec![0xcc]]);
        let err = certificates(&[0, 0x0e, 0xef, 0], |_| {}).expect_err("too short");
        assert_eq!(
            err,
            "Binpac exception: binpac exception: out_of_bound: Certificate: 3823 > 4"
        );
    }
}
