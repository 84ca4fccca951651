//! The run-time side of the optional tools and data (`tests/build_probe.rs` is the build-time
//! side): a test that finds one missing either fails, when `PAC_REQUIRE_TOOLS` names it (or is
//! `all`; `PAC_REQUIRE_TSHARK=1` names tshark), or prints a SKIPPED banner past libtest's output
//! capture and lets the caller return.
//!
//! Normally a test whose tool is missing is not run at all: the build script set the `cfg` that
//! makes it `#[ignore]`d with the reason. This path is taken when the tool is required (the
//! build script then leaves the test enabled, so that it fails here), when the tool vanished
//! after the build, or under `cargo test -- --include-ignored`.
//!
//! Also included by the `tls-analyzer` integration tests (`#[path]`), so it depends on std only.
#![allow(dead_code)] // Each includer uses what it needs.

/// Whether `name` (`tshark`, `python3`, `parsezeeklogs`, `conformance`) must not be skipped.
pub fn required(name: &str) -> bool {
    let listed = std::env::var("PAC_REQUIRE_TOOLS")
        .is_ok_and(|v| v.split(',').map(str::trim).any(|t| t == name || t == "all"));
    listed || (name == "tshark" && std::env::var("PAC_REQUIRE_TSHARK").is_ok_and(|v| v == "1"))
}

/// For a test that found `name` missing: panics when it is required, otherwise prints a loud
/// SKIPPED banner saying `what` did not run (the caller then returns).
pub fn skip_or_fail(name: &str, what: &str) {
    if required(name) {
        panic!("{what}: {name} is missing, and PAC_REQUIRE_TOOLS requires it");
    }
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr().lock(),
        "\n!!!!! SKIPPED: {what}: {name} is missing, so this check did NOT run \
         (PAC_REQUIRE_TOOLS={name} makes that a failure) !!!!!\n"
    );
}
