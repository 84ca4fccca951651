//! Snapshot loops that report every mismatch of a run, not only the first.
//!
//! `insta::assert_snapshot!` panics at the first mismatch, so a loop over fixtures stopped
//! there: with two changed fixtures, one run showed one of them, and reviewing took a run per
//! changed snapshot. [`SnapshotFailures::check`] runs one assertion with its panic caught (insta
//! has already printed its diff and, outside CI, written the `.snap.new` by then), the loop goes
//! on, and [`SnapshotFailures::finish`] fails the test naming every mismatch.
//!
//! Also included by the `tls-analyzer` integration tests (`#[path]`), so it depends on std only.
#![allow(dead_code)] // Each includer uses what it needs.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// The names of the snapshots that did not match, in order.
#[derive(Debug, Default)]
pub struct SnapshotFailures {
    failed: Vec<String>,
}

impl SnapshotFailures {
    pub fn new() -> SnapshotFailures {
        SnapshotFailures::default()
    }

    /// Runs `assertion` (one snapshot assertion, or anything else that panics on failure) and
    /// records `name` when it panics, with the first line of its message.
    pub fn check(&mut self, name: &str, assertion: impl FnOnce()) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(assertion)) {
            let msg = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            let first = msg.lines().next().unwrap_or("");
            self.failed.push(format!("{name}: {first}"));
        }
    }

    /// Panics, listing every recorded mismatch, when there is one.
    pub fn finish(self) {
        assert!(
            self.failed.is_empty(),
            "{} snapshots did not match (review every one: `cargo insta review`, or the \
             `.snap.new` files next to them):\n  {}",
            self.failed.len(),
            self.failed.join("\n  ")
        );
    }
}
