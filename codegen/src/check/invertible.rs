//! Encoder notes: where a layout cannot be inverted from the value alone, so the generated
//! encoder takes something from the caller or checks what it cannot compute.
//!
//! In: a spec whose every name and type resolved. Out: `note:` findings (never errors or
//! warnings: the spec is fine for parsing, and the encoder handles each case as the note says;
//! `pacc encoders` prints them, builds do not). docs/SPEC-LANGUAGE.md, "Encoders", lists the
//! constructs and what the encoder does with each.

use super::Checker;
use crate::ast::*;
use std::collections::BTreeSet;

/// The plain names (`Name` expressions) an expression reads.
fn names(e: &Expr, out: &mut BTreeSet<String>) {
    match &e.kind {
        ExprKind::Name(n) => {
            out.insert(n.clone());
        }
        ExprKind::Member(x, _) | ExprKind::SourceData(x) | ExprKind::Unary(_, x) => names(x, out),
        ExprKind::Slice(a, b, c) | ExprKind::Cond(a, b, c) => {
            names(a, out);
            names(b, out);
            names(c, out);
        }
        ExprKind::Binary(_, a, b) => {
            names(a, out);
            names(b, out);
        }
        ExprKind::Call(_, args) => args.iter().for_each(|a| names(a, out)),
        ExprKind::Comprehension {
            body, list, filter, ..
        } => {
            names(body, out);
            names(list, out);
            if let Some(f) = filter {
                names(f, out);
            }
        }
        ExprKind::RecordLit(_, fields) => fields.iter().for_each(|(_, v)| names(v, out)),
        ExprKind::Int(_)
        | ExprKind::Str(_)
        | ExprKind::Bool(_)
        | ExprKind::Ctx(_)
        | ExprKind::SelfRef
        | ExprKind::EnumConst(..) => {}
    }
}

/// "an argument" or "arguments" for a list made by [`params_read`].
fn arguments(ps: &str) -> &'static str {
    if ps.contains(',') {
        "arguments"
    } else {
        "an argument"
    }
}

/// "parameter `a`" or "parameters `a`, `b`".
fn params_word(ps: &str) -> String {
    if ps.contains(',') {
        format!("parameters {ps}")
    } else {
        format!("parameter {ps}")
    }
}

/// The parameters of `r` that `e` reads, as "`a`, `b`".
fn params_read(r: &RecordDef, e: &Expr) -> Option<String> {
    let mut read = BTreeSet::new();
    names(e, &mut read);
    let ps: Vec<String> = r
        .params
        .iter()
        .filter(|p| read.contains(&p.name.name))
        .map(|p| format!("`{}`", p.name.name))
        .collect();
    (!ps.is_empty()).then(|| ps.join(", "))
}

impl<'s> Checker<'s, '_> {
    /// Notes every construct whose encoding is not decided by the owned value alone.
    pub(super) fn encoder_notes(&mut self, spec: &'s Spec) {
        for item in &spec.items {
            let Item::Record(r) = item else { continue };
            for a in &r.attrs {
                if let AttrKind::Length(Some(e)) = &a.kind {
                    self.record_length_note(r, e);
                }
            }
            for m in &r.members {
                match m {
                    Member::Let(l) => self.let_note(r, l),
                    Member::Field(f) => self.field_notes(r, f),
                }
            }
        }
    }

    /// A `let` is computed, not encoded.
    ///
    /// ```pac
    /// type T = record { a: uint8; let b: uint8 = a + 1; };
    /// # note: `let b` is not encoded
    /// ```
    fn let_note(&mut self, r: &RecordDef, l: &LetDef) {
        self.diags.note(
            l.name.span,
            format!("`let {}` is not encoded", l.name.name),
            format!("not a field of `{}Owned`", r.name.name),
            "the encoder evaluates it from the fields and parameters it reads, where a bound, selector or condition needs it",
        );
    }

    /// A record-level `&length` on a parameter is computed by the record that passes it.
    ///
    /// ```pac
    /// type T(n: uint16) = record { a: uint8; } &length = n;
    /// # note: the length of `T` is given by parameter `n`
    /// ```
    fn record_length_note(&mut self, r: &RecordDef, e: &Expr) {
        if let Some(ps) = params_read(r, e) {
            self.diags.note(
                e.span,
                format!("the length of `{}` is given by {}", r.name.name, params_word(&ps)),
                "checked, not computed, by this record's encoder",
                format!("an enclosing record that passes one of its own length fields computes it from the encoding; `{}Owned::encode` called directly fails with `LengthMismatch` when the argument disagrees", r.name.name),
            );
        }
    }

    /// Conditions, selectors and bounds on parameters, and bounds given by expressions.
    ///
    /// ```pac
    /// type T(big: bool) = record { a: uint8 &if(big); };
    /// # note: whether `a` is present depends on parameter `big`
    /// ```
    ///
    /// ```pac
    /// type T(k: uint8) = record { body: case k of { 1 -> one: uint8; default -> rest: bytestring &restofdata; }; };
    /// # note: the arm of `body` is chosen by parameter `k`
    /// ```
    ///
    /// ```pac
    /// type T = record { n: uint8; xs: bytestring &length = n - 1; };
    /// # note: the length of `xs` is an expression, checked and not computed
    /// ```
    fn field_notes(&mut self, r: &RecordDef, f: &Field) {
        let field = &f.name.name;
        for a in &f.attrs {
            match &a.kind {
                AttrKind::If(Some(e)) => {
                    if let Some(ps) = params_read(r, e) {
                        self.diags.note(
                            e.span,
                            format!("whether `{field}` is present depends on {}", params_word(&ps)),
                            "the value alone does not say",
                            format!("the encoder takes {ps} as {} and fails with `Condition` when `{field}` is present against it", arguments(&ps)),
                        );
                    }
                }
                AttrKind::Length(Some(e)) => self.bound_note(r, field, e, "length"),
                _ => {}
            }
        }
        match &f.ty {
            FieldType::Case(c) => {
                if let Some(ps) = params_read(r, &c.selector) {
                    self.diags.note(
                        c.selector.span,
                        format!("the arm of `{field}` is chosen by {}", params_word(&ps)),
                        "the value alone does not say",
                        format!("the encoder takes {ps} as {} and fails with `CaseMismatch` when the variant held is not the one chosen", arguments(&ps)),
                    );
                }
                for arm in &c.arms {
                    if let Some(af) = &arm.field {
                        self.field_notes(r, af);
                    }
                }
            }
            FieldType::Array { count: Some(e), .. } => self.bound_note(r, field, e, "count"),
            _ => {}
        }
    }

    /// A bound that is neither a literal nor one field of the record: checked, not computed.
    fn bound_note(&mut self, r: &RecordDef, field: &str, e: &Expr, what: &str) {
        let is_field = |n: &str| {
            r.members
                .iter()
                .any(|m| matches!(m, Member::Field(x) if x.name.name == n))
        };
        match &e.kind {
            ExprKind::Int(_) => {}
            ExprKind::Name(n) if is_field(n) => {}
            _ => {
                let how = match params_read(r, e) {
                    Some(ps) => format!("given by {}", params_word(&ps)),
                    None => "an expression".to_string(),
                };
                self.diags.note(
                    e.span,
                    format!("the {what} of `{field}` is {how}, checked and not computed"),
                    "not inverted by the encoder",
                    format!("set what it reads so that it equals the encoded {what}; `encode` fails with `LengthMismatch` otherwise (`encode_raw` writes it anyway)"),
                );
            }
        }
    }
}
