//! The checker: every rule of docs/SPEC-LANGUAGE.md that a spec can break.
//!
//! In: the AST of all files. Out: a [`Checked`] spec — the symbol tables and cross-reference
//! facts ([`Env`]) and the type of every expression ([`Checked::typed`], keyed by the id the
//! parser gave it) — and every diagnostic of the stage at once. Lowering reads both and never
//! types an expression again, so the typing rules live only here.
//!
//! The rules are grouped by what they look at: [`resolve`] (names, duplicates, types by name),
//! [`expr`] (expression typing), [`enums`] (enums and derive tables), [`record`] (records,
//! fields, cases), [`glue`] (Zeek types, context, events, glue lines) and [`lints`] (findings
//! about a spec that is otherwise well-formed) and [`invertible`] (notes on layouts an encoder
//! cannot invert from the value alone).

mod enums;
mod expr;
mod glue;
mod invertible;
mod lints;
mod record;
mod resolve;

use crate::ast::*;
use crate::diag::Diags;
use crate::types::{IExpr, Ty};
use std::collections::{BTreeMap, BTreeSet};

pub use expr::show;
pub use resolve::{decl_ty, elem_of, elem_size, let_ty, resolve_ztype, uint_width, VARINT};

/// A spec that passed the checker: what lowering consumes.
pub struct Checked<'s> {
    /// Symbol tables and cross-reference facts.
    pub env: Env<'s>,
    /// The type of every expression the checker typed, by expression id. Expressions are typed
    /// exactly once, in the scope where the spec evaluates them.
    pub typed: BTreeMap<ExprId, IExpr>,
}

/// Symbol tables and cross-reference facts from checking.
#[derive(Default)]
pub struct Env<'s> {
    /// Enums by name (first definition wins).
    pub enums: BTreeMap<String, &'s EnumDef>,
    /// Records by name.
    pub records: BTreeMap<String, &'s RecordDef>,
    /// Zeek records by name.
    pub zeek: BTreeMap<String, &'s ZeekRecordDef>,
    /// Events by name.
    pub events: BTreeMap<String, &'s EventDef>,
    /// Context values by name.
    pub context: BTreeMap<String, &'s ZField>,
    /// (record, field) pairs referenced by some expression.
    pub used: BTreeSet<(String, String)>,
    /// (record, field) whose `$sourcedata` is referenced; field "" is the record itself.
    pub sources: BTreeSet<(String, String)>,
}

/// What names an expression may see.
#[derive(Clone)]
struct Scope<'s> {
    /// The record being parsed or walked.
    record: Option<&'s RecordDef>,
    /// Members `[..visible]` are parsed already.
    visible: usize,
    /// Glue: every member, `self` and context values are visible.
    glue: bool,
    /// Inside a comprehension: only the loop variable is visible.
    loop_var: Option<(String, Ty)>,
}

impl<'s> Scope<'s> {
    /// The scope of a record's member `visible` (members before it are parsed).
    fn parse(record: &'s RecordDef, visible: usize) -> Self {
        Self {
            record: Some(record),
            visible,
            glue: false,
            loop_var: None,
        }
    }
    /// The scope of glue on `record`.
    fn glue(record: Option<&'s RecordDef>) -> Self {
        Self {
            record,
            visible: usize::MAX,
            glue: true,
            loop_var: None,
        }
    }
}

/// Checks a whole spec: collects the names, checks every item in spec order, then the rules
/// that need the whole spec.
pub fn check<'s>(spec: &'s Spec, diags: &mut Diags) -> Checked<'s> {
    let mut c = Checker {
        env: Env::default(),
        typed: BTreeMap::new(),
        diags,
    };
    c.collect(spec);
    for item in &spec.items {
        match item {
            Item::Enum(e) => c.enum_def(e),
            Item::Derive(d) => c.derive(d),
            Item::Record(r) => c.record(r),
            Item::ZeekRecord(z) => c.zeek_record(z),
            Item::Context(ctx) => c.context(ctx),
            Item::Event(ev) => c.event(ev),
            Item::Glue(g) => c.glue(g),
        }
    }
    c.recursion(spec);
    // An unused length is often the echo of another mistake (a misspelt reference); report it
    // only when nothing else is wrong, so each fixture shows its one real error.
    if !c.diags.has_errors() {
        c.unused_lengths(spec);
    }
    // How encoders handle layouts they cannot invert: notes, for a spec that is otherwise fine.
    if !c.diags.has_errors() {
        c.encoder_notes(spec);
    }
    Checked {
        env: c.env,
        typed: c.typed,
    }
}

/// Checking state.
struct Checker<'s, 'd> {
    /// The symbol tables, complete after `collect`; the fact sets grow while checking.
    env: Env<'s>,
    /// Every expression typed so far.
    typed: BTreeMap<ExprId, IExpr>,
    /// Where findings go.
    diags: &'d mut Diags,
}
