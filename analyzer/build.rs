//! Build script of `tls-analyzer`: only for its tests. It probes the optional tools and data the
//! integration tests in `tests/` use (python3, Python's parsezeeklogs, the conformance corpus in
//! `../shared`, root with openssl and tcpdump for live capture) and sets the `cfg`s under which the tests that need a missing one are ignored,
//! with the reason, in the test summary. The probe is `tests/build_probe.rs` of the workspace,
//! shared with the `pac-tests` build script; the library and the binary do not use the `cfg`s.

use std::path::PathBuf;

#[path = "../tests/build_probe.rs"]
mod probe;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../tests/build_probe.rs");
    let p = probe::Probe::new();
    let python = probe::executable("python3");
    p.record("python3", python);
    p.record(
        "parsezeeklogs",
        python && probe::python_module("parsezeeklogs"),
    );
    // Live capture tests: root (or the capabilities, which this probe does not look for),
    // openssl for the TLS traffic and tcpdump for the file run it is compared with.
    p.record(
        "live",
        probe::root() && probe::executable("openssl") && probe::executable("tcpdump"),
    );
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    if let Some(ws) = manifest.parent() {
        p.record("conformance", probe::conformance(ws));
    }
}
