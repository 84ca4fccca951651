//! Small byte strings kept inline: the per-connection parts of the ssl.log state that nearly
//! always fit in a few dozen bytes, stored without a heap allocation of their own.
//!
//! In: bytes appended or set once. Out: the same bytes as a slice. A string longer than its
//! inline capacity moves to the heap, so nothing is ever cut; the inline case is only the
//! common, cheap one. With 100,000 tracked connections every saved allocation is worth its
//! ~32 bytes (malloc rounds up and adds a header).

/// Bytes of history kept inline: a full TLS 1.2 handshake with resumption and alerts
/// (`CsxknGIFifl...`) stays below it; Zeek's default limit of 100 letters goes to the heap.
pub const HISTORY_INLINE: usize = 22;
/// Bytes of a session id kept inline: 32 is the protocol maximum (RFC 8446 §4.1.2) and the
/// padded length the `ssl_client_hello` event carries.
pub const SESSION_ID_INLINE: usize = 32;

/// A byte string that grows by appending: inline up to `N` bytes, then a `Vec`.
#[derive(Debug, Clone)]
pub enum InlineBytes<const N: usize> {
    /// `len` bytes at the start of `buf`.
    Inline { len: u8, buf: [u8; N] },
    /// Grown beyond `N`.
    Heap(Vec<u8>),
}

impl<const N: usize> Default for InlineBytes<N> {
    fn default() -> Self {
        InlineBytes::Inline {
            len: 0,
            buf: [0; N],
        }
    }
}

impl<const N: usize> InlineBytes<N> {
    /// A copy of `bytes`.
    pub fn from_slice(bytes: &[u8]) -> Self {
        let mut s = Self::default();
        s.extend(bytes);
        s
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            InlineBytes::Inline { len, buf } => buf.get(..usize::from(*len)).unwrap_or_default(),
            InlineBytes::Heap(v) => v,
        }
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Appends one byte.
    pub fn push(&mut self, b: u8) {
        self.extend(&[b]);
    }

    /// Appends `bytes`, moving to the heap when they no longer fit inline.
    pub fn extend(&mut self, bytes: &[u8]) {
        match self {
            InlineBytes::Inline { len, buf } => {
                let old = usize::from(*len);
                let new = old + bytes.len();
                // `N` is far below 256 for every use, so an inline length fits a `u8`.
                match (buf.get_mut(old..new), u8::try_from(new)) {
                    (Some(dst), Ok(n)) => {
                        dst.copy_from_slice(bytes);
                        *len = n;
                    }
                    _ => {
                        let mut v = Vec::with_capacity(new);
                        v.extend_from_slice(buf.get(..old).unwrap_or_default());
                        v.extend_from_slice(bytes);
                        *self = InlineBytes::Heap(v);
                    }
                }
            }
            InlineBytes::Heap(v) => v.extend_from_slice(bytes),
        }
    }
}

impl<const N: usize> PartialEq<[u8]> for InlineBytes<N> {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_from_inline_to_heap_without_losing_bytes() {
        let mut s = InlineBytes::<4>::default();
        assert_eq!(s.len(), 0);
        s.extend(b"abc");
        assert!(matches!(s, InlineBytes::Inline { .. }));
        s.push(b'd');
        assert!(matches!(s, InlineBytes::Inline { .. }));
        s.push(b'e');
        assert!(matches!(s, InlineBytes::Heap(_)));
        s.extend(b"fg");
        assert_eq!(s.as_slice(), b"abcdefg");
        assert_eq!(s.len(), 7);
    }

    #[test]
    fn long_strings_are_kept_whole() {
        let long = [7u8; 100];
        let s = InlineBytes::<SESSION_ID_INLINE>::from_slice(&long);
        assert!(s == long[..]);
        let short = InlineBytes::<SESSION_ID_INLINE>::from_slice(&[1, 2]);
        assert!(short == [1u8, 2][..]);
        assert!(!(short == [1u8][..]));
    }

    #[test]
    fn inline_sizes_stay_small() {
        // One word of tag and length on top of the inline bytes, rounded to the alignment.
        assert!(std::mem::size_of::<InlineBytes<HISTORY_INLINE>>() <= 32);
        assert!(std::mem::size_of::<InlineBytes<SESSION_ID_INLINE>>() <= 40);
    }
}
