//! docs/events.md is the generator's rendering of the spec's `##` docs, kept in the repository
//! so the event reference can be read without building anything.
//!
//! In: `grammar/*.pac` and `docs/events.md`. Out: a failure, with the command that regenerates
//! the file, whenever the committed reference differs from what `pac_codegen` renders now.

use std::path::Path;

#[test]
fn events_md_is_what_pacc_docs_renders() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace");
    // The same inputs as `pacc docs grammar/` run from the workspace root: the spec files in
    // load order, their paths shown relative to the root.
    let opts = pac_codegen::Options {
        root: root.to_path_buf(),
        ..pac_codegen::Options::default()
    };
    let files = pac_codegen::spec_files(&root.join("grammar")).expect("grammar/ is readable");
    let sources = pac_codegen::load(&files, &opts).unwrap_or_else(|f| panic!("{f}"));
    let out = pac_codegen::front(sources, &opts).unwrap_or_else(|f| panic!("{f}"));
    let rendered = pac_codegen::docs::render(&out.ir);
    let committed = std::fs::read_to_string(root.join("docs/events.md")).unwrap_or_default();
    assert!(
        committed == rendered,
        "docs/events.md is out of date with the spec; regenerate it from the workspace root with\n\
         \n    cargo run -p pac-codegen --bin pacc -- docs grammar/ > docs/events.md\n\
         \nand commit it with the spec change (first differing line: {:?})",
        committed
            .lines()
            .zip(rendered.lines())
            .position(|(a, b)| a != b)
            .map(|i| i + 1)
            .unwrap_or(committed.lines().count().min(rendered.lines().count()) + 1)
    );
}
