//! Snapshots of the generated Rust and the IR for one small spec per construct
//! (`tests/codegen/constructs/*.pac`). Review changes with `cargo insta review`.

use pac_codegen::Options;
use pac_tests::snapshot_failures::SnapshotFailures;
use std::path::{Path, PathBuf};

fn constructs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("codegen")
        .join("constructs");
    pac_codegen::spec_files(&dir).unwrap_or_default()
}

fn opts() -> Options {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    Options {
        root,
        event_enum: "Event".into(),
        ..Options::default()
    }
}

#[test]
fn generated_rust_per_construct() {
    let files = constructs();
    assert!(files.len() >= 8, "construct specs missing");
    let mut failures = SnapshotFailures::new();
    for f in files {
        let name = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let out = pac_codegen::compile(std::slice::from_ref(&f), &opts())
            .unwrap_or_else(|e| panic!("{name} does not compile:\n{e}"));
        assert!(
            out.code.starts_with("// @generated"),
            "{name}: no @generated header"
        );
        let again = pac_codegen::compile(std::slice::from_ref(&f), &opts())
            .map(|o| o.code)
            .unwrap_or_default();
        assert_eq!(out.code, again, "{name}: output is not deterministic");
        failures.check(&format!("rust_{name}"), || {
            insta::assert_snapshot!(format!("rust_{name}"), out.code);
        });
        failures.check(&format!("ir_{name}"), || {
            insta::assert_snapshot!(format!("ir_{name}"), pac_codegen::dump_ir(&out.ir));
        });
    }
    failures.finish();
}
