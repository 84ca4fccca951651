//! `pacc docs` output stays put when the spec grows: adding an item changes only that item's
//! section of the reference, not the `Spec:` lines of the items below it.

use pac_codegen::{Options, Source};

fn render(text: &str) -> String {
    let src = Source {
        name: "grammar/events.pac".into(),
        text: text.into(),
    };
    let out = pac_codegen::front(vec![src], &Options::default())
        .unwrap_or_else(|f| panic!("spec does not compile:\n{f}"));
    pac_codegen::docs::render(&out.ir)
}

const BEFORE: &str = "\
## The first event.
event ssl_a(c: connection, n: count);

## The second event.
event ssl_b(c: connection);

type Msg = record { n: uint8; };
on Msg -> event ssl_a($conn, n);
on Msg -> event ssl_b($conn);
";

#[test]
fn adding_an_event_changes_only_its_own_section() {
    let before = render(BEFORE);
    let after = render(&format!(
        "## A new event, declared above the others.\nevent ssl_new(c: connection);\n\n{BEFORE}\
         on Msg -> event ssl_new($conn);\n"
    ));
    let start = after
        .find("### `ssl_new`")
        .expect("the new event is documented");
    let end = after
        .find("### `ssl_a`")
        .expect("the old events are still documented");
    let without_new = format!("{}{}", &after[..start], &after[end..]);
    assert_eq!(without_new, before);
    assert!(
        before.contains("*Spec: `event ssl_b` in [grammar/events.pac](../grammar/events.pac)*"),
        "an item is located by its declaration and file:\n{before}"
    );
}
