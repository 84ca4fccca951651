//! Architecture rules checked by reading the analyzer's own source.
//!
//! 1. The spec (`grammar/*.pac`) is the only source of wire constants: the analyzer may not
//!    define an integer constant that one of the spec's enums already names with the same value
//!    (`const CONTENT_HANDSHAKE: u8 = 22` beside `enum ContentType { handshake = 22 }`), nor a
//!    constant array listing an enum's values (`KNOWN_HANDSHAKE_TYPES: [u8; N] = [0, 1, ...]`).
//!    It uses the generated enums (`tls_grammar::ContentType::handshake`) instead. Caps and
//!    framing sizes are not wire constants and have no spec name, so they pass.
//! 2. The analyzer's top-level modules (`capture`, `ssl`, `log`, `output`, `run`, ...) form no
//!    import cycle: each `use crate::x` in module `m` is an edge `m -> x`.
//!
//! Both checks are plain text scans (no parser), each with a test on a made-up input showing
//! that it does fail on what it forbids.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// One value of one of the spec's enums.
#[derive(Debug, Clone)]
struct SpecConst {
    enum_name: String,
    name: String,
    value: u64,
}

/// An integer constant (or constant array of integers) the analyzer defines.
#[derive(Debug, Clone)]
struct RustConst {
    name: String,
    /// One value for a scalar, every element for an array.
    values: Vec<u64>,
    array: bool,
    location: String,
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).expect("read source dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `0x1F`, `22`, `1_000`, `22u8` -> the number.
fn parse_int(text: &str) -> Option<u64> {
    let t: String = text.trim().chars().filter(|&c| c != '_').collect();
    let t = t
        .trim_end_matches(|c: char| c.is_ascii_alphabetic() && !c.is_ascii_hexdigit())
        .to_string();
    let t = ["u8", "u16", "u32", "u64", "usize"]
        .iter()
        .find_map(|s| t.strip_suffix(s))
        .unwrap_or(&t);
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => t.parse().ok(),
    }
}

/// The values of every `enum Name : uintN { ident = value ["label"], ... }` in a spec text.
fn spec_consts(spec: &str) -> Vec<SpecConst> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for raw in spec.lines() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if let Some(rest) = line.strip_prefix("enum ") {
            current = rest.split_whitespace().next().map(str::to_string);
            continue;
        }
        let Some(enum_name) = &current else { continue };
        if line.starts_with('}') {
            current = None;
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let value = value
            .trim()
            .split(|c: char| c == ',' || c.is_whitespace())
            .next()
            .and_then(parse_int);
        if let Some(value) = value {
            out.push(SpecConst {
                enum_name: enum_name.clone(),
                name: name.trim().to_string(),
                value,
            });
        }
    }
    out
}

/// Every spec enum value, read from `grammar/*.pac`.
fn all_spec_consts() -> Vec<SpecConst> {
    let dir = manifest_dir().join("../grammar");
    let mut out = Vec::new();
    for entry in fs::read_dir(&dir).expect("grammar dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "pac") {
            out.extend(spec_consts(&fs::read_to_string(&path).expect("read spec")));
        }
    }
    assert!(
        out.len() > 500,
        "the spec's enums were not found ({} values)",
        out.len()
    );
    out
}

const INT_TYPES: [&str; 10] = [
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64",
];

/// `const NAME: <int> = <literal>;` and `const NAME: [<int>; N] = [<literals>];` on one line.
/// A value computed from anything else (a spec constant, another constant) is not a literal
/// and is not reported.
fn rust_consts(source: &str, file: &str) -> Vec<RustConst> {
    let mut out = Vec::new();
    let lines: Vec<&str> = source.lines().collect();
    for (i, first) in lines.iter().enumerate() {
        let Some(pos) = first.find("const ") else {
            continue;
        };
        // An array literal may continue over the next lines, up to its `];`.
        let mut line = first.to_string();
        if line.trim_end().ends_with('[') || (line.contains("= [") && !line.contains(']')) {
            for next in lines.iter().skip(i + 1) {
                line.push(' ');
                line.push_str(next.trim());
                if next.contains(']') {
                    break;
                }
            }
        }
        let rest = &line[pos + "const ".len()..];
        let rest = rest.to_string();
        let Some((name, rest)) = rest.split_once(':') else {
            continue;
        };
        let Some((ty, value)) = rest.split_once('=') else {
            continue;
        };
        let (ty, value) = (ty.trim(), value.trim().trim_end_matches(';').trim());
        let name = name.trim().to_string();
        if !name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            continue;
        }
        let location = format!("{file}:{}", i + 1);
        if INT_TYPES.contains(&ty) {
            if let Some(v) = parse_int(value) {
                out.push(RustConst {
                    name,
                    values: vec![v],
                    array: false,
                    location,
                });
            }
        } else if let Some(elem) = ty.strip_prefix('[').and_then(|t| t.split(';').next()) {
            let inner = value.strip_prefix('[').and_then(|v| v.strip_suffix(']'));
            if let (true, Some(inner)) = (INT_TYPES.contains(&elem.trim()), inner) {
                let values: Option<Vec<u64>> = inner
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(parse_int)
                    .collect();
                if let Some(values) = values.filter(|v| !v.is_empty()) {
                    out.push(RustConst {
                        name,
                        values,
                        array: true,
                        location,
                    });
                }
            }
        }
    }
    out
}

/// Lower case without underscores: `CONTENT_HANDSHAKE` and `handshake`, `TLSV12` and `TLSv12`
/// compare alike.
fn norm(name: &str) -> String {
    name.chars()
        .filter(|&c| c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Names count as the same when one ends with the other (a prefix such as `CONTENT_`, `HS_`,
/// `EXT_` names the registry), at least four letters long so that short words do not match
/// by accident; a version written with its minor zero (`SSLV20`, `SSLV30`) is the spec's
/// `SSLv2`, `SSLv3`.
fn equivalent(rust: &str, spec: &str) -> bool {
    let (r, s) = (norm(rust), norm(spec));
    let same = |r: &str| {
        let shorter = r.len().min(s.len());
        shorter >= 4 && (r.ends_with(&s) || s.ends_with(r))
    };
    same(&r) || r.strip_suffix('0').is_some_and(same)
}

/// The analyzer constants that repeat a spec constant, as readable lines.
fn duplicates_of_spec(rust: &[RustConst], spec: &[SpecConst]) -> Vec<String> {
    let mut found = Vec::new();
    for c in rust {
        if c.array {
            // An array naming an enum (`KNOWN_HANDSHAKE_TYPES` ~ `HandshakeType`) whose
            // elements are all values of that enum.
            let enums: BTreeSet<&str> = spec.iter().map(|s| s.enum_name.as_str()).collect();
            for e in enums {
                let e_norm = norm(e);
                if norm(&c.name).contains(&e_norm) {
                    let all = c
                        .values
                        .iter()
                        .all(|v| spec.iter().any(|s| s.enum_name == e && s.value == *v));
                    if all {
                        found.push(format!(
                            "{}: {} lists values of the spec's {e}",
                            c.location, c.name
                        ));
                    }
                }
            }
            continue;
        }
        for s in spec {
            if c.values.first() == Some(&s.value) && equivalent(&c.name, &s.name) {
                found.push(format!(
                    "{}: {} = {} is the spec's {}::{}",
                    c.location, c.name, s.value, s.enum_name, s.name
                ));
            }
        }
    }
    found
}

#[test]
fn the_analyzer_defines_no_wire_constant_the_spec_has() {
    let spec = all_spec_consts();
    let src = manifest_dir().join("src");
    let mut rust = Vec::new();
    for path in rust_files(&src) {
        let text = fs::read_to_string(&path).expect("read source");
        let rel = path
            .strip_prefix(&src)
            .unwrap_or(&path)
            .display()
            .to_string();
        rust.extend(rust_consts(&text, &rel));
    }
    assert!(!rust.is_empty(), "no constants found: the scan is broken");
    let found = duplicates_of_spec(&rust, &spec);
    assert!(
        found.is_empty(),
        "use the generated enums (tls_grammar::...) instead of redefining:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_wire_constant_check_fails_on_a_redefinition() {
    let spec = spec_consts(
        "enum ContentType : uint8 {\n    handshake = 22, # a comment\n}\n\
         enum ProtocolVersion : uint16 {\n    SSLv2 = 0x0002,\n    TLSv12 = 0x0303,\n    TLSv13_draft01 = 0x7f01 \"TLSv13-draft1\",\n}\n\
         enum HandshakeType : uint8 {\n    hello_request = 0,\n    client_hello = 1,\n}\n",
    );
    assert_eq!(spec.len(), 6, "{spec:?}");
    let rust = rust_consts(
        "const CONTENT_HANDSHAKE: u8 = 22;\n\
         pub const TLSV12: u16 = 0x0303;\n\
         pub(crate) const KNOWN_HANDSHAKE_TYPES: [u8; 2] = [\n    0,\n    1,\n];\n\
         const SSLV20: u16 = 2;\n\
         const MAX_RECORD_LENGTH: usize = 22;\n\
         const HANDSHAKE: u16 = ContentType::handshake.0 as u16;\n\
         const HEADER_LEN: usize = 5;\n",
        "made_up.rs",
    );
    let found = duplicates_of_spec(&rust, &spec);
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(found[0].contains("CONTENT_HANDSHAKE = 22 is the spec's ContentType::handshake"));
    assert!(found[1].contains("TLSV12 = 771 is the spec's ProtocolVersion::TLSv12"));
    assert!(found[2].contains("KNOWN_HANDSHAKE_TYPES lists values of the spec's HandshakeType"));
    assert!(found[3].contains("SSLV20 = 2 is the spec's ProtocolVersion::SSLv2"));
}

/// The analyzer's top-level modules (`src/<m>.rs` or `src/<m>/`), without `main`/`lib`.
fn top_level_modules(src: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in fs::read_dir(src).expect("src dir") {
        let path = entry.expect("entry").path();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if path.is_dir() || (path.extension().is_some_and(|e| e == "rs")) {
            out.insert(stem);
        }
    }
    out.remove("main");
    out.remove("lib");
    out
}

/// Edges `m -> x` for every `crate::x` a file of module `m` names (in `use` lines and in
/// paths), outside `#[cfg(test)]`-only files.
fn module_edges(
    files: &[(String, String)],
    modules: &BTreeSet<String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, text) in files {
        for line in text.lines() {
            let line = line.trim_start();
            if line.starts_with("//") {
                continue;
            }
            let mut rest = line;
            while let Some(p) = rest.find("crate::") {
                rest = &rest[p + "crate::".len()..];
                let target: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if target != *module && modules.contains(&target) {
                    edges.entry(module.clone()).or_default().insert(target);
                }
            }
            // `use crate::{a, b::c}` names several modules at once.
            if let Some(group) = line.strip_prefix("use crate::{") {
                for part in group.split(',') {
                    let target: String = part
                        .trim()
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if target != *module && modules.contains(&target) {
                        edges.entry(module.clone()).or_default().insert(target);
                    }
                }
            }
        }
    }
    edges
}

/// A cycle in `edges`, as the list of modules along it, if there is one.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == node) {
            let mut cycle = path[i..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        if let Some(c) = visit(node, edges, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn the_top_level_modules_import_no_cycle() {
    let src = manifest_dir().join("src");
    let modules = top_level_modules(&src);
    assert!(
        modules.contains("capture") && modules.contains("run"),
        "{modules:?}"
    );
    let mut files = Vec::new();
    for path in rust_files(&src) {
        let rel = path.strip_prefix(&src).unwrap_or(&path);
        let first = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default();
        let module = first.trim_end_matches(".rs").to_string();
        if modules.contains(&module) {
            files.push((module, fs::read_to_string(&path).expect("read source")));
        }
    }
    let edges = module_edges(&files, &modules);
    assert!(!edges.is_empty(), "no imports found: the scan is broken");
    if let Some(cycle) = find_cycle(&edges) {
        panic!(
            "import cycle between top-level modules: {}\nall edges: {edges:#?}",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn the_cycle_check_fails_on_a_cycle() {
    let modules: BTreeSet<String> = ["run", "session", "log", "capture"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let files = vec![
        (
            "run".to_string(),
            "use crate::session::Session;\n".to_string(),
        ),
        (
            "session".to_string(),
            "use crate::{log::X, capture};\n// use crate::run::not_an_edge;\n".to_string(),
        ),
        (
            "log".to_string(),
            "fn f() { crate::run::g() }\n".to_string(),
        ),
    ];
    let edges = module_edges(&files, &modules);
    assert_eq!(edges.get("session").map(|s| s.len()), Some(2), "{edges:?}");
    let cycle = find_cycle(&edges).expect("a cycle");
    assert_eq!(cycle.first(), cycle.last());
    assert!(cycle.len() == 4, "{cycle:?}");
    let acyclic: Vec<(String, String)> = files.into_iter().filter(|(m, _)| m != "log").collect();
    assert_eq!(find_cycle(&module_edges(&acyclic, &modules)), None);
}
