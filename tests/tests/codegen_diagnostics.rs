//! Snapshots of the rendered diagnostics for the broken specs of `tests/codegen/errors/`: one
//! mistake per fixture, rendered rustc-style with a caret and a help line. Also checks that the
//! compiler never panics on any prefix of any spec in the tests.

use pac_codegen::{Options, Source};
use pac_tests::snapshot_failures::SnapshotFailures;
use std::path::{Path, PathBuf};

/// The workspace root: spec paths in diagnostics are relative to it.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn specs(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("codegen")
        .join(dir);
    pac_codegen::spec_files(&dir).unwrap_or_default()
}

/// What the compiler prints for one spec: errors, or warnings of a successful compile.
fn rendered(path: &Path) -> String {
    let opts = Options {
        root: root(),
        ..Options::default()
    };
    match pac_codegen::compile(&[path.to_path_buf()], &opts) {
        Ok(out) => out.warnings,
        Err(f) => f.rendered,
    }
}

#[test]
fn error_fixtures_render_like_rustc() {
    let files = specs("errors");
    assert!(
        files.len() >= 12,
        "expected at least 12 broken fixtures, found {}",
        files.len()
    );
    let mut failures = SnapshotFailures::new();
    for f in files {
        let name = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = rendered(&f);
        if name.ends_with("_ok") {
            assert_eq!(text, "", "{name} should compile cleanly");
        } else {
            assert!(
                text.contains("tests/codegen/errors/"),
                "{name}: no relative path in\n{text}"
            );
            assert!(text.contains("= help:"), "{name}: no help line in\n{text}");
            assert!(text.contains('^'), "{name}: no caret in\n{text}");
        }
        failures.check(&format!("diag_{name}"), || {
            insta::assert_snapshot!(format!("diag_{name}"), text);
        });
    }
    failures.finish();
}

#[test]
fn compiler_never_panics_on_truncated_specs() {
    let opts = Options::default();
    let mut all = specs("errors");
    all.extend(specs("constructs"));
    all.extend(specs("runnable"));
    for f in all {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let cuts: Vec<usize> = (0..=text.len())
            .filter(|i| text.is_char_boundary(*i))
            .collect();
        for cut in cuts {
            let src = Source {
                name: "cut.pac".into(),
                text: text[..cut].to_string(),
            };
            // Either outcome is fine; reaching the next iteration proves there was no panic.
            let _ = pac_codegen::front(vec![src], &opts);
        }
    }
}
