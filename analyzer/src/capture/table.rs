//! The connection table's storage: entries in a slab, a hash index of slab positions by flow,
//! and the entries' creation order.
//!
//! In: entries that know their flow ([`FlowEntry`]); lookups by the two endpoints and the IP
//! protocol in either direction. Out: stable slot numbers (dense, reused once an entry is
//! removed), the entries, and the oldest entry first (for ending everything in creation order
//! without collecting and sorting).
//!
//! Memory per entry: the entry itself in a `Vec` (no per-entry allocation), 4 bytes of slot
//! number plus 1 control byte in the index (the key is not stored twice: lookups compare
//! against the entry), and 8 bytes of creation-order links.
//!
//! The index hashes with [`FlowHasher`], a keyed multiply-fold hash ([`crate::fasthash`]): a few
//! multiplications per lookup instead of SipHash's rounds, keyed per table from the OS's
//! randomness so that a sender cannot aim flows at one bucket without knowing the key.

use std::net::IpAddr;

use hashbrown::HashTable;

use crate::fasthash::{fold_mul, random_keys};

/// One side of a flow.
pub type Endpoint = (IpAddr, u16);

/// What the table needs to know about an entry: its flow, in any orientation.
pub trait FlowEntry {
    /// The two endpoints and the IP protocol number.
    fn flow(&self) -> (Endpoint, Endpoint, u8);
}

/// "No slot": the end of a list.
const NIL: u32 = u32::MAX;
/// Most entries a table holds; slot numbers are `u32` and [`NIL`] is reserved.
pub const MAX_TABLE_ENTRIES: usize = (u32::MAX - 1) as usize;

/// A keyed hash of a flow that does not depend on its direction.
#[derive(Debug, Clone, Copy)]
pub struct FlowHasher {
    keys: [u64; 4],
}

impl FlowHasher {
    /// A hasher keyed from the OS's randomness.
    pub fn random() -> Self {
        FlowHasher {
            keys: random_keys(),
        }
    }

    /// A hasher with fixed keys (tests).
    pub fn with_keys(keys: [u64; 4]) -> Self {
        FlowHasher { keys }
    }

    fn endpoint(&self, (addr, port): Endpoint) -> u64 {
        let (hi, lo) = match addr {
            // The family tag keeps 1.2.3.4 and ::102:304 apart.
            IpAddr::V4(a) => (1 << 32 | u64::from(port), u64::from(u32::from(a))),
            IpAddr::V6(a) => {
                let x = u128::from(a);
                (
                    ((x >> 64) as u64) ^ u64::from(port).rotate_left(48),
                    x as u64,
                )
            }
        };
        fold_mul(lo ^ self.keys[0], hi ^ self.keys[1])
    }

    /// The hash of the flow `a` <-> `b` over `proto`; the same for `b` <-> `a`.
    pub fn hash(&self, a: Endpoint, b: Endpoint, proto: u8) -> u64 {
        let (x, y) = (self.endpoint(a), self.endpoint(b));
        let (lo, hi) = if x <= y { (x, y) } else { (y, x) };
        fold_mul(lo ^ self.keys[2], hi ^ self.keys[3] ^ u64::from(proto))
    }
}

/// An entry and its neighbours in creation order.
#[derive(Debug)]
struct Linked<T> {
    value: T,
    older: u32,
    newer: u32,
}

#[derive(Debug)]
enum Slot<T> {
    Used(Linked<T>),
    /// Free; the next free slot (or [`NIL`]).
    Free(u32),
}

/// Entries by flow, see the module docs.
#[derive(Debug)]
pub struct FlowTable<T> {
    slots: Vec<Slot<T>>,
    /// Head of the free list.
    free: u32,
    index: HashTable<u32>,
    hasher: FlowHasher,
    oldest: u32,
    newest: u32,
    len: usize,
}

impl<T: FlowEntry> FlowTable<T> {
    /// Bytes of one entry in the slab (the entry, its creation-order links, the slot's tag).
    pub const ENTRY_BYTES: usize = std::mem::size_of::<Slot<T>>();

    /// An empty table whose index uses `hasher`.
    pub fn new(hasher: FlowHasher) -> Self {
        FlowTable {
            slots: Vec::new(),
            free: NIL,
            index: HashTable::new(),
            hasher,
            oldest: NIL,
            newest: NIL,
            len: 0,
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The slot the next [`Self::insert`] will use (`None` when the table is at
    /// [`MAX_TABLE_ENTRIES`]).
    pub fn next_slot(&self) -> Option<u32> {
        if self.free != NIL {
            return Some(self.free);
        }
        u32::try_from(self.slots.len()).ok().filter(|&s| s != NIL)
    }

    fn used(&self, slot: u32) -> Option<&Linked<T>> {
        match self.slots.get(slot as usize) {
            Some(Slot::Used(l)) => Some(l),
            _ => None,
        }
    }

    fn used_mut(&mut self, slot: u32) -> Option<&mut Linked<T>> {
        match self.slots.get_mut(slot as usize) {
            Some(Slot::Used(l)) => Some(l),
            _ => None,
        }
    }

    /// The slot of the entry for the flow `a` <-> `b` over `proto`, in either direction.
    pub fn find(&self, a: Endpoint, b: Endpoint, proto: u8) -> Option<u32> {
        let hash = self.hasher.hash(a, b, proto);
        let slots = &self.slots;
        self.index
            .find(hash, |&s| match slots.get(s as usize) {
                Some(Slot::Used(l)) => {
                    let (x, y, p) = l.value.flow();
                    p == proto && ((x == a && y == b) || (x == b && y == a))
                }
                _ => false,
            })
            .copied()
    }

    /// The entry in `slot`.
    pub fn get(&self, slot: u32) -> Option<&T> {
        self.used(slot).map(|l| &l.value)
    }

    /// The entry in `slot`, mutably. Its flow must not change.
    pub fn get_mut(&mut self, slot: u32) -> Option<&mut T> {
        self.used_mut(slot).map(|l| &mut l.value)
    }

    /// Adds an entry for a flow that has none, as the newest, in [`Self::next_slot`]; gives
    /// the entry back when the table is full.
    pub fn insert(&mut self, value: T) -> Result<u32, T> {
        let Some(slot) = self.next_slot() else {
            return Err(value);
        };
        let (a, b, proto) = value.flow();
        let linked = Slot::Used(Linked {
            value,
            older: self.newest,
            newer: NIL,
        });
        if self.free == slot {
            if let Some(s) = self.slots.get_mut(slot as usize) {
                self.free = match s {
                    Slot::Free(next) => *next,
                    Slot::Used(_) => NIL,
                };
                *s = linked;
            }
        } else {
            self.slots.push(linked);
        }
        let newest = self.newest;
        match self.used_mut(newest) {
            Some(l) => l.newer = slot,
            None => self.oldest = slot,
        }
        self.newest = slot;
        let hash = self.hasher.hash(a, b, proto);
        let (slots, hasher) = (&self.slots, self.hasher);
        self.index
            .insert_unique(hash, slot, |&s| match slots.get(s as usize) {
                Some(Slot::Used(l)) => {
                    let (a, b, p) = l.value.flow();
                    hasher.hash(a, b, p)
                }
                _ => 0,
            });
        self.len += 1;
        Ok(slot)
    }

    /// Removes the entry in `slot`; the slot becomes free for reuse.
    pub fn remove(&mut self, slot: u32) -> Option<T> {
        let (a, b, proto) = self.get(slot)?.flow();
        let hash = self.hasher.hash(a, b, proto);
        if let Ok(e) = self.index.find_entry(hash, |&s| s == slot) {
            e.remove();
        }
        let old = std::mem::replace(self.slots.get_mut(slot as usize)?, Slot::Free(self.free));
        self.free = slot;
        let Slot::Used(l) = old else {
            return None;
        };
        match self.used_mut(l.older) {
            Some(o) => o.newer = l.newer,
            None => self.oldest = l.newer,
        }
        match self.used_mut(l.newer) {
            Some(n) => n.older = l.older,
            None => self.newest = l.older,
        }
        self.len -= 1;
        Some(l.value)
    }

    /// The slot of the oldest entry (the first created of those still held).
    pub fn oldest(&self) -> Option<u32> {
        (self.oldest != NIL).then_some(self.oldest)
    }

    /// The slots of all entries, oldest first.
    pub fn slots_by_age(&self) -> impl Iterator<Item = u32> + '_ {
        let mut next = self.oldest;
        std::iter::from_fn(move || {
            let slot = next;
            next = self.used(slot)?.newer;
            Some(slot)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[derive(Debug, PartialEq)]
    struct E(Endpoint, Endpoint, u8);
    impl FlowEntry for E {
        fn flow(&self) -> (Endpoint, Endpoint, u8) {
            (self.0, self.1, self.2)
        }
    }

    fn ep(i: u8, port: u16) -> Endpoint {
        (IpAddr::V4(Ipv4Addr::new(10, 0, 0, i)), port)
    }

    #[test]
    fn hash_ignores_direction_and_separates_protocols() {
        let h = FlowHasher::random();
        let (a, b) = (ep(1, 1000), ep(2, 443));
        assert_eq!(h.hash(a, b, 6), h.hash(b, a, 6));
        assert_ne!(h.hash(a, b, 6), h.hash(a, b, 17));
        assert_ne!(h.hash(a, b, 6), h.hash(a, ep(2, 444), 6));
        let v6: IpAddr = "::a00:1".parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_ne!(h.hash(a, b, 6), h.hash((v6, 1000), b, 6));
    }

    #[test]
    fn find_insert_remove_and_slot_reuse() {
        let mut t = FlowTable::new(FlowHasher::with_keys([1, 2, 3, 4]));
        let s0 = t.insert(E(ep(1, 1), ep(2, 2), 6)).ok();
        let s1 = t.insert(E(ep(3, 3), ep(2, 2), 6)).ok();
        assert_eq!((s0, s1), (Some(0), Some(1)));
        assert_eq!(t.find(ep(2, 2), ep(1, 1), 6), Some(0));
        assert_eq!(t.find(ep(1, 1), ep(2, 2), 17), None);
        assert_eq!(t.remove(0), Some(E(ep(1, 1), ep(2, 2), 6)));
        assert_eq!(t.find(ep(1, 1), ep(2, 2), 6), None);
        assert_eq!(t.remove(0), None);
        assert_eq!(t.next_slot(), Some(0));
        assert_eq!(t.insert(E(ep(4, 4), ep(2, 2), 17)).ok(), Some(0));
        assert_eq!(t.len(), 2);
        assert_eq!(t.find(ep(4, 4), ep(2, 2), 17), Some(0));
        assert_eq!(t.find(ep(3, 3), ep(2, 2), 6), Some(1));
    }

    #[test]
    fn creation_order_survives_removals_and_reuse() {
        let mut t = FlowTable::new(FlowHasher::random());
        for i in 0..10 {
            let _ = t.insert(E(ep(i, 1), ep(100, 2), 6));
        }
        for s in [0, 4, 9, 5] {
            assert!(t.remove(s).is_some());
        }
        // Reused slots are the newest entries now.
        let n1 = t.insert(E(ep(50, 1), ep(100, 2), 6)).ok();
        let n2 = t.insert(E(ep(51, 1), ep(100, 2), 6)).ok();
        let order: Vec<u32> = t.slots_by_age().collect();
        let mut want = vec![1, 2, 3, 6, 7, 8];
        want.extend(n1);
        want.extend(n2);
        assert_eq!(order, want);
        assert_eq!(t.oldest(), Some(1));
        while let Some(s) = t.oldest() {
            assert!(t.remove(s).is_some());
        }
        assert!(t.is_empty());
        assert_eq!(t.slots_by_age().count(), 0);
    }

    #[test]
    fn many_entries_stay_findable() {
        let mut t = FlowTable::new(FlowHasher::random());
        for i in 0..5000u16 {
            let _ = t.insert(E(ep(1, i), ep(2, 443), 6));
        }
        for i in (0..5000u16).step_by(3) {
            let s = t.find(ep(2, 443), ep(1, i), 6);
            assert!(s.is_some_and(|s| t.remove(s).is_some()), "{i}");
        }
        for i in 0..5000u16 {
            assert_eq!(t.find(ep(1, i), ep(2, 443), 6).is_some(), i % 3 != 0, "{i}");
        }
    }
}
