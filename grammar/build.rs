//! Build script: compiles `grammar/*.pac` into `OUT_DIR/tls.rs`.
//!
//! In: every `.pac` file of this crate's directory, in sorted order. Out: the generated module
//! (written only when its contents change, so unchanged specs do not force rebuilds), the spec's
//! warnings as `cargo:warning` lines, and on error every diagnostic on stderr with exit status 1
//! (no panic, no backtrace). With no `.pac` file at all it generates an empty but valid module.

use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    println!("cargo:rerun-if-changed={}", manifest.display());
    let files = match pac_codegen::spec_files(&manifest) {
        Ok(f) => f,
        Err(e) => fail(&format!("error: cannot list {}: {e}\n", manifest.display())),
    };
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let root = manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest.clone());
    let opts = pac_codegen::Options {
        root,
        ..pac_codegen::Options::default()
    };
    // No spec yet: the same pipeline over zero sources yields the empty-but-valid module.
    let out = match pac_codegen::compile(&files, &opts) {
        Ok(out) => out,
        Err(f) => fail(&f.rendered),
    };
    for line in out.warnings.lines().filter(|l| !l.trim().is_empty()) {
        println!("cargo:warning={line}");
    }
    let target = out_dir.join("tls.rs");
    if std::fs::read_to_string(&target).ok().as_deref() != Some(out.code.as_str()) {
        if let Err(e) = std::fs::write(&target, &out.code) {
            fail(&format!("error: cannot write {}: {e}\n", target.display()));
        }
    }
}

/// Prints the rendered diagnostics and stops the build without a panic.
fn fail(rendered: &str) -> ! {
    eprint!("{rendered}");
    std::process::exit(1);
}
