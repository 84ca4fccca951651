//! Build script of `pac-tests`: compiles the small runnable specs of `codegen/runnable/*.pac`.
//!
//! In: those spec files. Out: `OUT_DIR/runnable.rs` (event enum `TestEvent`), included by the
//! codegen run and allocation tests. A broken spec prints its diagnostics and exits 1.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
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
