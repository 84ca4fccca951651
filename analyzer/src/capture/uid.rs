//! Zeek-style connection uids from a seeded generator.
//!
//! In: a 64-bit seed. Out: strings like `CHhAvVGS1DHFjwGM9`, built the way Zeek's `UID::Base62`
//! builds them: the prefix `C`, then each of two 64-bit words in base 62 with the least
//! significant digit first; the first word is cut to 32 bits, so 96 random bits in all. The
//! same seed gives the same sequence of uids; a run without a seed draws one from the OS.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// Digits in Zeek's order.
const BASE62_DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// SplitMix64: small, fast, full-period; statistical quality is ample for identifiers.
#[derive(Debug, Clone)]
pub struct UidGenerator {
    state: u64,
}

impl UidGenerator {
    /// A generator whose output is fully determined by `seed`.
    pub fn from_seed(seed: u64) -> Self {
        UidGenerator { state: seed }
    }

    /// A generator seeded from the randomness std uses for hash maps.
    pub fn from_entropy() -> Self {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(0x5eed);
        UidGenerator { state: h.finish() }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The next uid with the given one-letter prefix (`C` for connections, `F` for files).
    pub fn next_uid(&mut self, prefix: char) -> String {
        let hi = self.next_u64() >> 32;
        let lo = self.next_u64();
        let mut s = String::with_capacity(19);
        s.push(prefix);
        push_base62(&mut s, hi);
        push_base62(&mut s, lo);
        s
    }
}

/// Appends `v` in base 62, least significant digit first (as Zeek's `uitoa_n` does).
fn push_base62(s: &mut String, mut v: u64) {
    loop {
        let d = BASE62_DIGITS
            .get((v % 62) as usize)
            .copied()
            .unwrap_or(b'0');
        s.push(char::from(d));
        v /= 62;
        if v == 0 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_under_seed_and_zeek_shaped() {
        let a: Vec<String> = {
            let mut g = UidGenerator::from_seed(42);
            (0..100).map(|_| g.next_uid('C')).collect()
        };
        let mut g = UidGenerator::from_seed(42);
        let b: Vec<String> = (0..100).map(|_| g.next_uid('C')).collect();
        assert_eq!(a, b);
        let mut other = UidGenerator::from_seed(43);
        assert_ne!(a[0], other.next_uid('C'));
        for u in &a {
            assert!(u.starts_with('C'));
            assert!((3..=18).contains(&u.len()), "{u}");
            assert!(u[1..].bytes().all(|c| c.is_ascii_alphanumeric()));
        }
        let unique: std::collections::HashSet<_> = a.iter().collect();
        assert_eq!(unique.len(), a.len());
    }

    #[test]
    fn base62_digit_order_matches_zeek() {
        let mut s = String::new();
        push_base62(&mut s, 62 + 1);
        assert_eq!(s, "11");
        s.clear();
        push_base62(&mut s, 10 + 62 * 36);
        assert_eq!(s, "Aa");
        s.clear();
        push_base62(&mut s, 0);
        assert_eq!(s, "0");
    }
}
