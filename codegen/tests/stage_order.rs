//! The compiler's modules form a pipeline, and no module imports a later stage: the parser does
//! not call the checker, the checker does not build IR, lowering does not re-type, the emitter
//! sees only the IR. This test reads `src/**/*.rs` and checks every `crate::` path against the
//! stage order below (the order of `lib.rs`).

use std::path::{Path, PathBuf};

/// The modules in stage order; each may use only itself and modules before it. `types` is the
/// shared leaf of data types; `ir` is the data `lower` builds and `emit` and `docs` read.
const ORDER: &[&str] = &[
    "diag", "names", "types", "ast", "parse", "check", "ir", "lower", "emit", "docs",
];

/// Every `.rs` file under `dir`, recursively, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// The module names a source text refers to through `crate::name` or `crate::{name, ..}`,
/// ignoring comments.
fn referenced(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or("");
                out.extend(inner.split(',').filter_map(|item| {
                    let head = item.trim().split("::").next().unwrap_or("").trim();
                    (!head.is_empty()).then(|| head.to_string())
                }));
            } else {
                let head: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.push(head);
            }
        }
    }
    out
}

/// For each (module, source text), the references that break the order, as readable lines.
/// Names that are not modules (`crate::Options`, an item of `lib.rs`) are allowed.
fn violations(files: &[(String, String)]) -> Vec<String> {
    let rank = |m: &str| ORDER.iter().position(|o| *o == m);
    let mut out = Vec::new();
    for (module, text) in files {
        let Some(own) = rank(module) else {
            out.push(format!(
                "module `{module}` is not in the stage order; add it to ORDER and lib.rs"
            ));
            continue;
        };
        for target in referenced(text) {
            if let Some(r) = rank(&target) {
                if r > own {
                    out.push(format!("`{module}` imports the later stage `{target}`"));
                }
            }
        }
    }
    out
}

/// The module a file belongs to: its first path component under `src/` (`check/expr.rs` ->
/// `check`), or `None` for the crate root and the binaries.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel
        .components()
        .next()?
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (name != "lib" && name != "bin").then_some(name)
}

#[test]
fn no_module_imports_a_later_stage() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files: Vec<(String, String)> = rust_files(&src)
        .into_iter()
        .filter_map(|f| {
            let module = module_of(&src, &f)?;
            Some((module, std::fs::read_to_string(&f).ok()?))
        })
        .collect();
    assert!(
        files.len() >= ORDER.len(),
        "source files not found under {src:?}"
    );
    let bad = violations(&files);
    assert!(bad.is_empty(), "stage order broken:\n{}", bad.join("\n"));
}

#[test]
fn the_check_sees_a_backward_import() {
    let files = vec![
        ("ast".to_string(), "use crate::diag::Span;\n".to_string()),
        (
            "check".to_string(),
            "use crate::{ast::Expr, lower::lower};\n// crate::emit in a comment is fine\n"
                .to_string(),
        ),
        (
            "emit".to_string(),
            "fn f(x: crate::ir::Spec) {}\nuse crate::Options;\n".to_string(),
        ),
        ("codegen2".to_string(), String::new()),
    ];
    assert_eq!(
        violations(&files),
        vec![
            "`check` imports the later stage `lower`".to_string(),
            "module `codegen2` is not in the stage order; add it to ORDER and lib.rs".to_string(),
        ]
    );
}
