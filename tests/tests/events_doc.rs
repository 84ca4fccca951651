//! docs/events.md is the generator's rendering of the spec's `##` docs, kept in the repository
//! so the event reference can be read without building anything.
//!
//! In: `grammar/*.pac` and `docs/events.md`. Out: a failure, with the command that regenerates
//! the file, whenever the committed reference differs from what `pac_codegen` renders now.

#[test]
fn events_md_is_what_pacc_docs_renders() {
    let root = pac_tests::support::workspace_root();
    let out = pac_tests::support::workspace_spec();
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
