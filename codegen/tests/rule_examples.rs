//! Every checker rule in `src/check/` documents itself with a small ```` ```pac ```` example whose
//! last line says what the compiler reports (`# error: ...`, `# warning: ...`, or an encoder
//! `# note: ...`). This test
//! compiles each example and checks that it does report that, so the examples stay true.

use pac_codegen::{Options, Source};
use std::path::Path;

/// One documented example: where it is, its spec text, and the expected finding.
struct Example {
    at: String,
    spec: String,
    expected: String,
}

/// The ```` ```pac ```` blocks of `///` comments in one source text.
fn examples(file: &str, text: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut block: Option<(usize, Vec<String>)> = None;
    for (n, line) in text.lines().enumerate() {
        let Some(doc) = line.trim_start().strip_prefix("///") else {
            continue;
        };
        let doc = doc.strip_prefix(' ').unwrap_or(doc);
        match (&mut block, doc.trim_end()) {
            (None, "```pac") => block = Some((n + 1, Vec::new())),
            (Some(_), "```") => {
                if let Some((start, mut lines)) = block.take() {
                    let expected = lines.pop().unwrap_or_default();
                    out.push(Example {
                        at: format!("{file}:{start}"),
                        spec: lines.join("\n"),
                        expected: expected.trim_start_matches("# ").to_string(),
                    });
                }
            }
            (Some((_, lines)), _) => lines.push(doc.to_string()),
            (None, _) => {}
        }
    }
    out
}

#[test]
fn every_rule_example_reports_what_it_says() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join("check");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("src/check is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned());
        all.extend(examples(&name.unwrap_or_default(), &text));
    }
    assert!(all.len() >= 20, "only {} rule examples found", all.len());
    let mut wrong = Vec::new();
    for ex in &all {
        assert!(
            ex.expected.starts_with("error: ")
                || ex.expected.starts_with("warning: ")
                || ex.expected.starts_with("note: "),
            "{}: the last line must be `# error: ...`, `# warning: ...` or `# note: ...`, not {:?}",
            ex.at,
            ex.expected
        );
        let src = Source {
            name: "example.pac".into(),
            text: ex.spec.clone(),
        };
        let rendered = match pac_codegen::front(vec![src], &Options::default()) {
            Ok(out) => format!("{}{}", out.warnings, out.notes),
            Err(f) => f.rendered,
        };
        if !rendered.lines().any(|l| l == ex.expected) {
            wrong.push(format!(
                "{}: expected `{}`, got:\n{rendered}",
                ex.at, ex.expected
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn examples_are_read_from_doc_comments_only() {
    let text = "/// ```pac\n/// type T = record { x: Widget; };\n/// # error: unknown type `Widget`\n/// ```\n// ```pac\n";
    let found = examples("x.rs", text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].spec, "type T = record { x: Widget; };");
    assert_eq!(found[0].expected, "error: unknown type `Widget`");
    assert_eq!(found[0].at, "x.rs:1");
}
