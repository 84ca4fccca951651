//! Proves that the one-pass `visit` allocates nothing: `stats_alloc`'s instrumented system
//! allocator counts every allocation of this test binary (its own binary, so no other test's
//! allocations interfere), and visiting real handshake messages, successfully and on truncated
//! input (errors included), must not move the count.

use pac_runtime::Reader;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use tls_grammar::{
    CipherSuite, ExtensionType, Handshake, KeyExchangeClass, NamedGroup, TlsRecord, Visitor,
};

/// Every allocation of this test binary goes through the instrumented system allocator.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// A visitor that folds a few values into counters (no allocation of its own).
#[derive(Default)]
struct Tally {
    values: u64,
    bytes: usize,
}

impl Visitor<'_> for Tally {
    fn extension_ext_type(&mut self, v: ExtensionType) {
        self.values += u64::from(v.0);
    }
    fn client_hello_cipher_suites(&mut self, v: CipherSuite) {
        self.values += u64::from(v.0);
    }
    fn supported_groups_named_group_list(&mut self, v: NamedGroup) {
        self.values += u64::from(v.0);
    }
    fn server_name_host_name(&mut self, v: &[u8]) {
        self.bytes += v.len();
    }
    fn extension_body_unknown(&mut self, _: ExtensionType, body: &[u8]) {
        self.bytes += body.len();
    }
}

/// The handshake messages of a fixture file (hex after `#` comment lines).
fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    let text = std::fs::read_to_string(path).expect("readable fixture");
    let hex: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(|l| l.trim().chars())
        .collect();
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex digits"))
        .collect()
}

fn visit_allocates_nothing() {
    let hello = fixture("handshake/gnutls-tls13-01-c-client_hello.hex");
    let record = [0x16, 0x03, 0x03, 0x00, 0x02, 0x0e, 0x00];
    let mut tally = Tally::default();
    let mut errors = 0usize;
    let region = Region::new(GLOBAL);
    for _ in 0..200 {
        let ok = Handshake::visit(
            &mut Reader::new(&hello),
            false,
            true,
            true,
            KeyExchangeClass::ECDHE,
            &mut tally,
        );
        assert!(ok.is_ok());
        // Errors are built without allocating too.
        for n in (0..hello.len()).step_by(7) {
            let r = Handshake::visit(
                &mut Reader::new(&hello[..n]),
                false,
                true,
                true,
                KeyExchangeClass::ECDHE,
                &mut tally,
            );
            errors += usize::from(r.is_err());
        }
        errors +=
            usize::from(TlsRecord::visit(&mut Reader::new(&record[..6]), &mut tally).is_err());
    }
    let change = region.change();
    assert!(tally.values > 0 && tally.bytes > 0 && errors > 200);
    assert_eq!(change.allocations, 0, "visit allocated: {change:?}");
    assert_eq!(change.reallocations, 0, "visit reallocated: {change:?}");
    // Positive control: the counter does see an allocation.
    let control: Box<[u8]> = std::hint::black_box(Box::new([0u8; 16]));
    assert!(region.change().allocations >= 1 && control.len() == 16);
}

/// Runs without libtest (`harness = false` in Cargo.toml): libtest's main thread records the
/// running test in its own tables while the test thread runs, and a loaded machine can delay
/// that bookkeeping into the measured region, where a process-wide counter sees it. Here the
/// measurement is the only thread.
fn main() {
    visit_allocates_nothing();
    println!("test visit_allocates_nothing ... ok");
}
