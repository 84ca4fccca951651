//! What ssl.log needs from a certificate, worked out once per distinct certificate.
//!
//! In: DER certificates as Certificate messages carry them. Out: shared [`CertFacts`] — the
//! fingerprint, the host names, and on request the subject and issuer text. A server sends the
//! same chain on every connection, and X.509 parsing plus SHA-256 are most of the cost of a TLS
//! 1.2 handshake's analysis; [`CertCache`] remembers the facts by the certificate's bytes
//! (compared in full: a hash only finds the candidate).
//!
//! Bounded: at most [`MAX_CACHED_CERTS`] certificates and [`MAX_CACHED_CERT_BYTES`] bytes of
//! them; when either would be exceeded the cache starts over empty (certificates seen again are
//! simply worked out again). Certificates over [`MAX_CACHEABLE_CERT_LEN`] are never kept.

use std::cell::OnceCell;
use std::rc::Rc;

use hashbrown::HashTable;

use super::cert::{cert_names, fingerprint_hex, CertNames};
use super::dn::subject_issuer;
use crate::fasthash::{hash_bytes, random_keys};

/// Most certificates kept.
pub const MAX_CACHED_CERTS: usize = 4096;
/// Most bytes of certificates kept (their DER, which is compared on every hit).
pub const MAX_CACHED_CERT_BYTES: usize = 8 << 20;
/// Longest certificate kept; real ones are a few KiB.
pub const MAX_CACHEABLE_CERT_LEN: usize = 64 << 10;

/// The facts of one certificate.
#[derive(Debug)]
pub struct CertFacts {
    /// Its host names; `None` when it does not parse as X.509 (Zeek then has no record of it:
    /// no fingerprint in the log and no hostname check).
    pub names: Option<CertNames>,
    /// Lowercase hex SHA-256 of the DER, when it parses.
    pub fingerprint: Option<String>,
    /// Subject and issuer text, worked out the first time a log asks for them.
    dn: OnceCell<Option<(String, String)>>,
}

impl CertFacts {
    /// Parses `der` (no cache).
    pub fn parse(der: &[u8]) -> Self {
        let names = cert_names(der);
        let fingerprint = names.as_ref().map(|_| fingerprint_hex(der));
        CertFacts {
            names,
            fingerprint,
            dn: OnceCell::new(),
        }
    }

    /// Subject and issuer text of the certificate `der` these facts are of.
    pub fn subject_issuer(&self, der: &[u8]) -> Option<&(String, String)> {
        self.dn.get_or_init(|| subject_issuer(der)).as_ref()
    }

    /// Subject and issuer text, if [`Self::subject_issuer`] has worked them out.
    pub fn cached_subject_issuer(&self) -> Option<&(String, String)> {
        self.dn.get().and_then(Option::as_ref)
    }
}

/// One kept certificate.
struct Entry {
    hash: u64,
    der: Box<[u8]>,
    facts: Rc<CertFacts>,
}

/// Facts of recently seen certificates; see the module docs.
pub struct CertCache {
    keys: [u64; 2],
    table: HashTable<Entry>,
    bytes: usize,
}

impl Default for CertCache {
    fn default() -> Self {
        CertCache {
            keys: random_keys(),
            table: HashTable::new(),
            bytes: 0,
        }
    }
}

impl std::fmt::Debug for CertCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertCache")
            .field("certs", &self.table.len())
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl CertCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Certificates kept.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The facts of `der`, from the cache when it was seen before.
    pub fn facts(&mut self, der: &[u8]) -> Rc<CertFacts> {
        if der.len() > MAX_CACHEABLE_CERT_LEN {
            return Rc::new(CertFacts::parse(der));
        }
        let hash = hash_bytes(&self.keys, der);
        if let Some(e) = self.table.find(hash, |e| e.hash == hash && *e.der == *der) {
            return Rc::clone(&e.facts);
        }
        let facts = Rc::new(CertFacts::parse(der));
        if self.table.len() >= MAX_CACHED_CERTS || self.bytes + der.len() > MAX_CACHED_CERT_BYTES {
            self.table.clear();
            self.bytes = 0;
        }
        self.bytes += der.len();
        self.table.insert_unique(
            hash,
            Entry {
                hash,
                der: der.into(),
                facts: Rc::clone(&facts),
            },
            |e| e.hash,
        );
        facts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_same_facts_other_bytes_other_facts() {
        let mut c = CertCache::new();
        let a = c.facts(b"not a certificate");
        let b = c.facts(b"not a certificate");
        assert!(Rc::ptr_eq(&a, &b));
        assert!(a.names.is_none() && a.fingerprint.is_none());
        let d = c.facts(b"not a certificate either");
        assert!(!Rc::ptr_eq(&a, &d));
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn stays_within_its_bounds() {
        let mut c = CertCache::new();
        for i in 0..(MAX_CACHED_CERTS + 10) as u32 {
            let _ = c.facts(&i.to_be_bytes());
            assert!(c.len() <= MAX_CACHED_CERTS);
        }
        let big = vec![7u8; MAX_CACHEABLE_CERT_LEN + 1];
        let before = c.len();
        let _ = c.facts(&big);
        assert_eq!(c.len(), before, "an oversized certificate is not kept");
        let chunk = vec![1u8; MAX_CACHEABLE_CERT_LEN];
        for i in 0..(MAX_CACHED_CERT_BYTES / MAX_CACHEABLE_CERT_LEN + 5) {
            let mut v = chunk.clone();
            v[0] = i as u8;
            v[1] = (i >> 8) as u8;
            let _ = c.facts(&v);
            assert!(c.bytes <= MAX_CACHED_CERT_BYTES);
        }
    }
}
