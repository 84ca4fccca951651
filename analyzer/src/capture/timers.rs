//! The engine's connection timers: "look at the connection in slot `slot` at time `at`".
//!
//! In: deadlines of connections, armed when a connection is created, when it closes, and again
//! when a timer fires before the connection's (moved) deadline. Out: the earliest timer first;
//! among equal times, the older connection first (by handle), so that connections expiring at
//! one packet end in creation order. Entries are not removed when a connection ends or re-arms;
//! the engine recognises stale ones by the handle and generation they carry.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A heap entry (24 bytes: one per tracked connection, plus stale ones until they come up).
#[derive(Debug, Clone, Copy)]
pub struct Timer {
    /// When to look.
    pub at: f64,
    /// The connection's handle (unique for the run; a slot is reused, a handle is not).
    pub handle: u64,
    /// The connection's table slot.
    pub slot: u32,
    /// The connection's timer generation when armed; a later generation makes this one stale.
    pub generation: u32,
}

impl PartialEq for Timer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Timer {}
impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timer {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest timer first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .at
            .total_cmp(&self.at)
            .then_with(|| other.handle.cmp(&self.handle))
            .then_with(|| other.generation.cmp(&self.generation))
    }
}

/// The pending timers.
#[derive(Debug, Default)]
pub struct Timers {
    heap: BinaryHeap<Timer>,
}

impl Timers {
    /// Arms a timer.
    pub fn push(&mut self, t: Timer) {
        self.heap.push(t);
    }

    /// The earliest timer, without removing it.
    pub fn peek(&self) -> Option<Timer> {
        self.heap.peek().copied()
    }

    /// Removes and returns the earliest timer.
    pub fn pop(&mut self) -> Option<Timer> {
        self.heap.pop()
    }

    /// Timers pending, stale ones included.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Forgets every timer.
    pub fn clear(&mut self) {
        self.heap.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(at: f64, handle: u64, generation: u32) -> Timer {
        Timer {
            at,
            handle,
            slot: 0,
            generation,
        }
    }

    #[test]
    fn earliest_first_then_oldest_connection() {
        let mut ts = Timers::default();
        for x in [
            t(5.0, 3, 0),
            t(1.0, 9, 0),
            t(5.0, 1, 1),
            t(5.0, 1, 0),
            t(2.0, 4, 0),
        ] {
            ts.push(x);
        }
        assert_eq!(ts.len(), 5);
        let order: Vec<(f64, u64, u32)> = std::iter::from_fn(|| ts.pop())
            .map(|x| (x.at, x.handle, x.generation))
            .collect();
        assert_eq!(
            order,
            [
                (1.0, 9, 0),
                (2.0, 4, 0),
                (5.0, 1, 0),
                (5.0, 1, 1),
                (5.0, 3, 0)
            ]
        );
        assert!(ts.peek().is_none());
    }
}
