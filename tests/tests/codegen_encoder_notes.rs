//! The encoder notes of the workspace's own spec (`pacc encoders grammar/`): every layout the
//! generated encoders cannot invert from an owned value alone, and how each is handled. A new
//! parameter-dependent case or `let` shows up here for review.

use pac_tests::support::workspace_spec;

#[test]
fn grammar_encoder_notes() {
    let out = workspace_spec();
    assert!(
        out.warnings.is_empty(),
        "the grammar has warnings:\n{}",
        out.warnings
    );
    let heads: Vec<&str> = out
        .notes
        .lines()
        .filter(|l| l.starts_with("note: "))
        .collect();
    // One note per let, per parameter-chosen case or condition, per bound that is an
    // expression or a parameter (docs/SPEC-LANGUAGE.md, "Encoders").
    assert!(heads
        .iter()
        .any(|h| h.contains("`let hs_length` is not encoded")));
    assert!(
        heads
            .iter()
            .any(|h| h
                .contains("the length of `HandshakeMessage` is given by parameter `msg_length`"))
    );
    assert!(heads
        .iter()
        .any(|h| h.contains("the arm of `share` is chosen by parameters `msg`, `len`")));
    insta::assert_snapshot!("grammar_encoder_notes", out.notes);
}
