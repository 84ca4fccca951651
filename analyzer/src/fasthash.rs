//! Fast keyed hashing for the analyzer's own tables (connections, certificates).
//!
//! In: a key drawn once per table from the OS's randomness, and the bytes or words to hash.
//! Out: 64-bit hashes. The mixing step is foldhash's and wyhash's folded multiply: a few
//! multiplications per 16 bytes instead of SipHash's rounds, still keyed, so that a sender who
//! does not know the key cannot aim inputs at one bucket. Not for anything cryptographic.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// The 64x64 -> 128-bit product folded to 64 bits.
pub fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// `N` random 64-bit keys from the OS's randomness (the keys std draws for its hash maps).
pub fn random_keys<const N: usize>() -> [u64; N] {
    let state = RandomState::new();
    let mut keys = [0u64; N];
    for (i, k) in keys.iter_mut().enumerate() {
        let mut h = state.build_hasher();
        h.write_usize(i);
        // Odd keys can never zero a multiplication on their own.
        *k = h.finish() | 1;
    }
    keys
}

/// A keyed hash of a byte string: 16 bytes per folded multiply, the length mixed in last.
pub fn hash_bytes(keys: &[u64; 2], bytes: &[u8]) -> u64 {
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        if let Some(dst) = w.get_mut(..b.len()) {
            dst.copy_from_slice(b);
        }
        u64::from_le_bytes(w)
    };
    let mut acc = keys[0];
    let mut chunks = bytes.chunks_exact(16);
    for c in &mut chunks {
        let (a, b) = c.split_at(8);
        acc = fold_mul(word(a) ^ acc, word(b) ^ keys[1]);
    }
    let rest = chunks.remainder();
    let (a, b) = rest.split_at(rest.len().min(8));
    acc = fold_mul(word(a) ^ acc, word(b) ^ keys[1]);
    fold_mul(acc ^ bytes.len() as u64, keys[0] ^ keys[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_hash_sees_every_byte_and_the_length() {
        let keys = random_keys::<2>();
        let base: Vec<u8> = (0..100u8).collect();
        let h = hash_bytes(&keys, &base);
        assert_eq!(h, hash_bytes(&keys, &base));
        for i in 0..base.len() {
            let mut v = base.clone();
            v[i] ^= 1;
            assert_ne!(h, hash_bytes(&keys, &v), "byte {i}");
        }
        assert_ne!(hash_bytes(&keys, &[0; 3]), hash_bytes(&keys, &[0; 4]));
        assert_ne!(hash_bytes(&keys, b""), hash_bytes(&keys, &[0]));
    }

    #[test]
    fn keys_differ_between_draws() {
        assert_ne!(random_keys::<2>(), random_keys::<2>());
    }
}
