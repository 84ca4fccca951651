//! Record rules: parameters, members in order, field attributes and bounds, record arguments,
//! `case` fields, and records that contain themselves.

use super::expr::{is_int, same_scalar, show};
use super::resolve::{
    decl_ty, did_you_mean_decl, elem_of, is_int_type, let_ty, member_name, AttrSite,
};
use super::{Checker, Scope};
use crate::ast::*;
use crate::diag::Span;
use crate::types::{IExpr, IKind, Ty};
use std::collections::BTreeSet;

impl<'s> Checker<'s, '_> {
    /// A record's arguments match its parameters in number and type.
    ///
    /// ```pac
    /// type E(b: bool) = record { x: uint8; };  type T = record { e: E(true, 2); };
    /// # error: `E` takes 1 argument(s) but 2 were given
    /// ```
    pub(super) fn args(&mut self, target: &str, args: &[Expr], at: Span, scope: &Scope<'s>) {
        let Some(rec) = self.env.records.get(target).copied() else {
            return;
        };
        if rec.params.len() != args.len() {
            self.diags.error(
                at,
                format!(
                    "`{target}` takes {} argument(s) but {} were given",
                    rec.params.len(),
                    args.len()
                ),
                "wrong number of arguments",
                format!(
                    "declared as `type {}({})`",
                    target,
                    rec.params
                        .iter()
                        .map(|p| format!("{}: {}", p.name.name, p.ty.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        for (a, p) in args.iter().zip(&rec.params) {
            let got = self.expr(a, scope);
            let want = decl_ty(&self.env, &p.ty.name).unwrap_or(Ty::Unknown);
            if !same_scalar(&got.ty, &want) {
                self.diags.error(
                    a.span,
                    format!(
                        "type mismatch: parameter `{}` is {}, found {}",
                        p.name.name,
                        show(&want),
                        show(&got.ty)
                    ),
                    "wrong type",
                    "pass a value of the parameter's type",
                );
            }
        }
    }

    /// A record: its attributes, unique member and parameter names, parameter types, its own
    /// `&length` (which sees only parameters), and every member in order.
    ///
    /// ```pac
    /// type T(v: uint12) = record { x: uint8; };
    /// # error: unknown type `uint12`
    /// ```
    pub(super) fn record(&mut self, r: &'s RecordDef) {
        self.attrs_known(&r.attrs, AttrSite::Record);
        let mut names: Vec<&Ident> = r.params.iter().map(|p| &p.name).collect();
        names.extend(r.members.iter().map(member_name));
        self.dup_names(names.into_iter(), "field");
        for p in &r.params {
            if decl_ty(&self.env, &p.ty.name).is_none() {
                self.unknown_decl_type(&p.ty, "parameter", "parameters");
            }
        }
        for a in &r.attrs {
            match &a.kind {
                // A record's own length is known before its fields: only parameters are visible.
                AttrKind::Length(v) => {
                    self.int_attr(a, v.as_ref(), &Scope::parse(r, 0));
                }
                AttrKind::ExportSourceData => {
                    self.env
                        .sources
                        .insert((r.name.name.clone(), String::new()));
                }
                _ => {}
            }
        }
        for (i, m) in r.members.iter().enumerate() {
            let scope = Scope::parse(r, i);
            match m {
                Member::Field(f) => self.field(r, f, &scope, i),
                Member::Let(l) => {
                    let want = let_ty(&self.env, &l.ty.name);
                    let got = self.expr(&l.expr, &scope);
                    match want {
                        None => {
                            self.unknown_decl_type(&l.ty, "`let`", "`let` values");
                        }
                        Some(w) if !same_scalar(&got.ty, &w) => {
                            self.diags.error(
                                l.expr.span,
                                format!(
                                    "type mismatch: `{}` is declared {}, found {}",
                                    l.name.name,
                                    show(&w),
                                    show(&got.ty)
                                ),
                                "wrong type",
                                "change the declared type or the expression",
                            );
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    /// Reports the type of a parameter or `let` that is not `bool`, `uintN` or an enum.
    fn unknown_decl_type(&mut self, ty: &Ident, what: &str, plural: &str) {
        self.diags
            .error(
                ty.span,
                format!("unknown type `{}`", ty.name),
                format!("not a {what} type"),
                if what == "`let`" {
                    format!("{plural} are bool, uint8..uint64, varint, bytestring or an enum")
                } else {
                    format!("{plural} are bool, uint8..uint64, varint or an enum")
                },
            )
            .help(did_you_mean_decl(&self.env, &ty.name));
    }

    /// An `&attr = value` needs an integer value.
    ///
    /// ```pac
    /// type T = record { n: uint8; let ok: bool = n == 1; body: bytestring &length = ok; };
    /// # error: type mismatch: `&length` needs an integer, found a bool
    /// ```
    pub(super) fn int_attr(
        &mut self,
        a: &Attr,
        value: Option<&Expr>,
        scope: &Scope<'s>,
    ) -> Option<IExpr> {
        let Some(v) = value else {
            self.diags.error(
                a.span,
                format!("`&{}` needs a value", a.name.name),
                "missing `= expression`",
                format!("write `&{} = expression`", a.name.name),
            );
            return None;
        };
        let e = self.expr(v, scope);
        if !is_int(&e.ty) {
            self.diags.error(
                v.span,
                format!(
                    "type mismatch: `&{}` needs an integer, found {}",
                    a.name.name,
                    show(&e.ty)
                ),
                "expected an integer",
                "use an integer field, parameter or expression",
            );
        }
        Some(e)
    }

    /// An `&attr(condition)` needs a bool.
    ///
    /// ```pac
    /// type T = record { n: uint8; x: uint8 &if(n); };
    /// # error: type mismatch: `&if` needs a bool, found an integer
    /// ```
    pub(super) fn bool_attr(&mut self, a: &Attr, value: Option<&Expr>, scope: &Scope<'s>) {
        let Some(v) = value else {
            self.diags.error(
                a.span,
                format!("`&{}` needs a condition", a.name.name),
                "missing `(condition)`",
                format!("write `&{}(condition)`", a.name.name),
            );
            return;
        };
        let e = self.expr(v, scope);
        if !matches!(e.ty, Ty::Bool | Ty::Unknown) {
            self.diags.error(
                v.span,
                format!(
                    "type mismatch: `&{}` needs a bool, found {}",
                    a.name.name,
                    show(&e.ty)
                ),
                "expected a bool",
                "compare it, e.g. `x != 0`",
            );
        }
    }

    /// A field: its attributes (typed in the field's scope; `&check` also sees the field), a
    /// bound for every variable-size type, known type names, and record arguments.
    ///
    /// ```pac
    /// type T = record { n: uint8; body: bytestring; };
    /// # error: variable-size field `body` has no bound
    /// ```
    pub(super) fn field(
        &mut self,
        r: &'s RecordDef,
        f: &'s Field,
        scope: &Scope<'s>,
        index: usize,
    ) {
        self.attrs_known(&f.attrs, AttrSite::Field);
        let mut length_const = None;
        let mut bounded = false;
        for a in &f.attrs {
            match &a.kind {
                AttrKind::Length(v) => {
                    bounded = true;
                    if let Some(e) = self.int_attr(a, v.as_ref(), scope) {
                        if let IKind::Int(n) = e.kind {
                            length_const = v.as_ref().map(|v| (n, v.span));
                        }
                    }
                }
                AttrKind::RestOfData => bounded = true,
                AttrKind::If(v) => self.bool_attr(a, v.as_ref(), scope),
                // A constraint sees the field itself.
                AttrKind::Check(v) => {
                    self.bool_attr(a, v.as_ref(), &Scope::parse(r, index.saturating_add(1)))
                }
                AttrKind::ExportSourceData => {
                    self.env
                        .sources
                        .insert((r.name.name.clone(), f.name.name.clone()));
                }
                _ => {}
            }
        }
        match &f.ty {
            FieldType::Named(n) => {
                let name = n.name.name.as_str();
                if name == "bytestring" && !bounded {
                    self.diags.error(
                        f.name.span,
                        format!("variable-size field `{}` has no bound", f.name.name),
                        "a bytestring needs a length",
                        "add `&length = <expr>` or `&restofdata`",
                    );
                } else if !is_int_type(name)
                    && name != "bytestring"
                    && !self.env.enums.contains_key(name)
                    && !self.env.records.contains_key(name)
                {
                    self.unknown_type(&n.name);
                }
                if !n.args.is_empty() && !self.env.records.contains_key(name) {
                    self.diags.error(
                        n.name.span,
                        format!("`{name}` takes no arguments"),
                        "not a parameterized record",
                        "remove the argument list",
                    );
                } else {
                    let at = n.args.first().map(|a| a.span).unwrap_or(n.name.span);
                    self.args(name, &n.args, at, scope);
                }
            }
            FieldType::Array { elem, count, span } => {
                let name = elem.name.name.as_str();
                if name == "bytestring" {
                    self.diags.error(
                        elem.name.span,
                        "a list of bytestrings has no element bound",
                        "elements cannot delimit themselves",
                        "wrap the element in a record with a length field",
                    );
                } else if elem_of(&self.env, name).is_none() {
                    self.unknown_type(&elem.name);
                }
                let at = elem.args.first().map(|a| a.span).unwrap_or(elem.name.span);
                self.args(name, &elem.args, at, scope);
                match count {
                    Some(c) => {
                        let e = self.expr(c, scope);
                        if !is_int(&e.ty) {
                            self.diags.error(
                                c.span,
                                format!(
                                    "type mismatch: an element count must be an integer, found {}",
                                    show(&e.ty)
                                ),
                                "expected an integer",
                                "use an integer field or expression",
                            );
                        }
                    }
                    None if !bounded => {
                        self.diags.error(
                            *span,
                            format!("variable-size field `{}` has no bound", f.name.name),
                            "a list needs a count, a length or `&restofdata`",
                            "write `T[count]`, add `&length = <expr>`, or `&restofdata`",
                        );
                    }
                    None => {}
                }
                if let Some((n, lspan)) = length_const {
                    self.length_multiple(n, lspan, name);
                }
            }
            FieldType::Case(c) => self.case(r, f, c, scope),
        }
    }

    /// A `case`: the selector is an integer, enum or bool, there is a `default` arm, every label
    /// has the selector's type and names a constant that exists, arm names are unique.
    ///
    /// ```pac
    /// type T(k: uint8) = record { body: case k of { 1 -> x: uint8; }; };
    /// # error: `case` in `T.body` has no `default` arm
    /// ```
    pub(super) fn case(
        &mut self,
        r: &'s RecordDef,
        f: &'s Field,
        c: &'s CaseType,
        scope: &Scope<'s>,
    ) {
        let sel = self.expr(&c.selector, scope);
        if !matches!(sel.ty, Ty::Int(_) | Ty::Enum(_) | Ty::Bool | Ty::Unknown) {
            self.diags.error(
                c.selector.span,
                format!(
                    "type mismatch: a case selector must be an integer, enum or bool, found {}",
                    show(&sel.ty)
                ),
                "cannot select on this",
                "select on a field, parameter or integer expression",
            );
        }
        if !c.arms.iter().any(|a| a.is_default) {
            let keyword = Span {
                end: c.span.start + "case".len().min(c.span.end - c.span.start),
                ..c.span
            };
            self.diags.error(keyword, format!("`case` in `{}.{}` has no `default` arm", r.name.name, f.name.name), "no default", "add `default -> unknown : bytestring &restofdata;` (generated as `Unknown { tag, body }`)");
        }
        for arm in &c.arms {
            for l in &arm.labels {
                match l {
                    Label::Const(e, k) => match self.env.enums.get(&e.name).copied() {
                        None => {
                            self.unknown_enum(
                                e,
                                "case labels are `Enum::constant`, integers or true/false",
                            );
                        }
                        Some(def) => {
                            if !def.consts.iter().any(|x| x.name.name == k.name) {
                                self.unknown_const(
                                    &e.name,
                                    k,
                                    def,
                                    "not a constant of this enum",
                                    format!("check the spelling against `enum {}`", e.name),
                                );
                            }
                            if !matches!(&sel.ty, Ty::Enum(s) if *s == e.name)
                                && sel.ty != Ty::Unknown
                            {
                                self.diags.error(
                                    e.span.join(k.span),
                                    format!(
                                        "type mismatch: label is enum `{}`, selector is {}",
                                        e.name,
                                        show(&sel.ty)
                                    ),
                                    "wrong label type",
                                    "labels must have the selector's type",
                                );
                            }
                        }
                    },
                    Label::Int(_, s) => {
                        if !matches!(sel.ty, Ty::Int(_) | Ty::Enum(_) | Ty::Unknown) {
                            self.diags.error(
                                *s,
                                format!(
                                    "type mismatch: label is an integer, selector is {}",
                                    show(&sel.ty)
                                ),
                                "wrong label type",
                                "labels must have the selector's type",
                            );
                        }
                    }
                    Label::Bool(_, s) => {
                        if !matches!(sel.ty, Ty::Bool | Ty::Unknown) {
                            self.diags.error(
                                *s,
                                format!(
                                    "type mismatch: label is a bool, selector is {}",
                                    show(&sel.ty)
                                ),
                                "wrong label type",
                                "labels must have the selector's type",
                            );
                        }
                    }
                }
            }
            if let Some(af) = &arm.field {
                if af
                    .attrs
                    .iter()
                    .any(|a| matches!(a.kind, AttrKind::Check(_)))
                {
                    self.diags.error(
                        af.span,
                        "`&check` is not supported on case arms",
                        "unsupported here",
                        "put the constraint on a record field",
                    );
                }
                self.field(r, af, scope, usize::MAX);
            }
        }
        self.dup_names(
            c.arms
                .iter()
                .filter_map(|a| a.field.as_ref().map(|f| &f.name)),
            "case arm",
        );
    }

    /// A record may not contain itself by value (directly or through other records); a list
    /// breaks the cycle.
    ///
    /// ```pac
    /// type Node = record { next: Node; };
    /// # error: record `Node` contains itself
    /// ```
    pub(super) fn recursion(&mut self, spec: &'s Spec) {
        for item in &spec.items {
            let Item::Record(r) = item else { continue };
            let mut stack = vec![r.name.name.clone()];
            let mut seen = BTreeSet::new();
            while let Some(t) = stack.pop() {
                let Some(def) = self.env.records.get(&t).copied() else {
                    continue;
                };
                for m in &def.members {
                    let Member::Field(f) = m else { continue };
                    for child in direct_children(f) {
                        if child == r.name.name {
                            self.diags.error(
                                r.name.span,
                                format!("record `{}` contains itself", r.name.name),
                                "recursive type",
                                "break the cycle with a list (`T[] &length = n`)",
                            );
                            return;
                        }
                        if seen.insert(child.clone()) {
                            stack.push(child);
                        }
                    }
                }
            }
        }
    }
}

/// Record names a field embeds by value (not through a list).
fn direct_children(f: &Field) -> Vec<String> {
    match &f.ty {
        FieldType::Named(n) => vec![n.name.name.clone()],
        FieldType::Array { .. } => Vec::new(),
        FieldType::Case(c) => c
            .arms
            .iter()
            .filter_map(|a| a.field.as_ref())
            .flat_map(direct_children)
            .collect(),
    }
}
