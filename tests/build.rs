//! Build script of `pac-tests`: compiles the small runnable specs of `codegen/runnable/*.pac`.
//!
//! In: those spec files. Out: `OUT_DIR/runnable.rs` (event enum `TestEvent`), included by the
//! codegen run and allocation tests. A broken spec prints its diagnostics and exits 1.
//!
//! It also probes the optional tools and data the tests use (tshark, the conformance corpus;
//! see `build_probe.rs`) and sets the `cfg`s under which the tests that need a missing one are
//! ignored, with the reason, in the test summary.

use std::path::PathBuf;

#[path = "build_probe.rs"]
mod probe;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build_probe.rs");
    let p = probe::Probe::new();
    let tshark = std::env::var("TSHARK").unwrap_or_else(|_| "tshark".into());
    p.record("tshark", probe::executable(&tshark));
    if let Some(ws) = manifest.parent() {
        p.record("conformance", probe::conformance(ws));
    }
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let dir = manifest.join("codegen").join("runnable");
    println!("cargo:rerun-if-changed={}", dir.display());
    let files = pac_codegen::spec_files(&dir).unwrap_or_default();
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let root = manifest
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.clone());
    let opts = pac_codegen::Options {
        root,
        event_enum: "TestEvent".into(),
        ..pac_codegen::Options::default()
    };
    match pac_codegen::compile(&files, &opts) {
        Ok(out) => {
            let target = out_dir.join("runnable.rs");
            if std::fs::read_to_string(&target).ok().as_deref() != Some(out.code.as_str()) {
                if let Err(e) = std::fs::write(&target, &out.code) {
                    eprintln!("error: cannot write {}: {e}", target.display());
                    std::process::exit(1);
                }
            }
        }
        Err(f) => {
            eprint!("{f}");
            std::process::exit(1);
        }
    }
}
