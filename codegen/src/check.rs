//! The checker: every rule of docs/SPEC-LANGUAGE.md that a spec can break.
//!
//! In: the AST of all files. Out: an [`Env`] (symbol tables, which fields are referenced, which
//! `$sourcedata` are kept) and every diagnostic of the stage at once. The typed expressions built
//! here ([`IExpr`]) are reused by lowering, so typing rules live in one place.

use crate::ast::*;
use crate::diag::{Diags, Span};
use crate::ir::{Elem, IExpr, IKind, Ty, VarKind, ZTy};
use crate::names::rust_ident_str;
use std::collections::{BTreeMap, BTreeSet};

/// Attributes a field accepts.
const FIELD_ATTRS: &[&str] = &[
    "length",
    "restofdata",
    "check",
    "if",
    "optional",
    "exportsourcedata",
];
/// Attributes a record accepts.
const RECORD_ATTRS: &[&str] = &["length", "exportsourcedata"];
/// Attributes an enum constant accepts.
const CONST_ATTRS: &[&str] = &["alias"];
/// The widths of `uintN` types, in bytes.
const UINT_TYPES: &[(&str, u8)] = &[
    ("uint8", 1),
    ("uint16", 2),
    ("uint24", 3),
    ("uint32", 4),
    ("uint48", 6),
    ("uint64", 8),
];
/// Enum base types (at most 32 bits, per the spec language).
const ENUM_BASES: &[&str] = &["uint8", "uint16", "uint24", "uint32"];

/// The width in bytes of a `uintN` name.
pub fn uint_width(name: &str) -> Option<u8> {
    UINT_TYPES.iter().find(|(n, _)| *n == name).map(|(_, w)| *w)
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
pub struct Scope<'s> {
    /// The record being parsed or walked.
    pub record: Option<&'s RecordDef>,
    /// Members `[..visible]` are parsed already.
    pub visible: usize,
    /// Glue: every member, `self` and context values are visible.
    pub glue: bool,
    /// Inside a comprehension: only the loop variable is visible.
    pub loop_var: Option<(String, Ty)>,
}

impl<'s> Scope<'s> {
    /// The scope of a record's member `visible` (members before it are parsed).
    pub fn parse(record: &'s RecordDef, visible: usize) -> Self {
        Self {
            record: Some(record),
            visible,
            glue: false,
            loop_var: None,
        }
    }
    /// The scope of glue on `record`.
    pub fn glue(record: Option<&'s RecordDef>) -> Self {
        Self {
            record,
            visible: usize::MAX,
            glue: true,
            loop_var: None,
        }
    }
}

/// Checks a whole spec.
pub fn check<'s>(spec: &'s Spec, diags: &mut Diags) -> Env<'s> {
    let mut c = Checker {
        env: Env::default(),
        diags,
    };
    c.collect(spec);
    for item in &spec.items {
        match item {
            Item::Enum(e) => c.enum_def(e),
            Item::Derive(d) => c.derive(d),
            Item::Record(r) => c.record(r),
            Item::ZeekRecord(z) => {
                for f in &z.fields {
                    c.ztype(&f.ty, false);
                }
                c.dup_names(z.fields.iter().map(|f| &f.name), "field");
            }
            Item::Context(ctx) => {
                for f in &ctx.fields {
                    let t = c.ztype(&f.ty, false);
                    if !matches!(
                        t,
                        Some(ZTy::Bool | ZTy::Count | ZTy::Int | ZTy::Double | ZTy::Time) | None
                    ) {
                        c.diags.error(
                            f.name.span,
                            "context values must be scalars",
                            "not bool, count, int, double or time",
                            "pass strings through the parsed unit instead",
                        );
                    }
                }
            }
            Item::Event(ev) => {
                for (i, p) in ev.params.iter().enumerate() {
                    c.ztype(&p.ty, i == 0);
                }
                c.dup_names(ev.params.iter().map(|p| &p.name), "parameter");
            }
            Item::Glue(g) => c.glue(g),
        }
    }
    c.recursion(spec);
    // An unused length is often the echo of another mistake (a misspelt reference); report it
    // only when nothing else is wrong, so each fixture shows its one real error.
    if !c.diags.has_errors() {
        c.unused_lengths(spec);
    }
    c.env
}

/// Checking state.
struct Checker<'s, 'd> {
    env: Env<'s>,
    diags: &'d mut Diags,
}

/// A readable name for a type in messages.
pub fn show(ty: &Ty) -> String {
    match ty {
        Ty::Int(_) => "an integer".into(),
        Ty::Bool => "a bool".into(),
        Ty::Enum(e) => format!("enum `{e}`"),
        Ty::Bytes => "a bytestring".into(),
        Ty::Str => "a padded string".into(),
        Ty::List(_) => "a list".into(),
        Ty::Record(r) => format!("record `{r}`"),
        Ty::Case => "a case field".into(),
        Ty::Opt(t) => format!("an optional {}", show(t)),
        Ty::ZeekRec(r) => format!("zeek record `{r}`"),
        Ty::Vector(_) => "a vector".into(),
        Ty::Conn => "the connection".into(),
        Ty::Unknown => "unknown".into(),
    }
}

/// A readable Zeek type.
pub fn show_z(t: &ZTy) -> String {
    match t {
        ZTy::Connection => "connection".into(),
        ZTy::Count => "count".into(),
        ZTy::Int => "int".into(),
        ZTy::Double => "double".into(),
        ZTy::Bool => "bool".into(),
        ZTy::String => "string".into(),
        ZTy::Time => "time".into(),
        ZTy::IndexVec => "index_vec".into(),
        ZTy::StringVec => "string_vec".into(),
        ZTy::Record(r) => r.clone(),
        ZTy::Vector(t) => format!("vector of {}", show_z(t)),
    }
}

/// Whether a value of type `ty` can be passed where Zeek type `z` is expected.
pub fn compatible(ty: &Ty, z: &ZTy) -> bool {
    match (ty, z) {
        (Ty::Unknown, _) => true,
        (Ty::Conn, ZTy::Connection) => true,
        (Ty::Int(_) | Ty::Enum(_), ZTy::Count | ZTy::Int | ZTy::Double | ZTy::Time) => true,
        (Ty::Bool, ZTy::Bool) => true,
        (Ty::Bytes | Ty::Str, ZTy::String) => true,
        (Ty::List(Elem::Int(_) | Elem::Enum(_)), ZTy::IndexVec) => true,
        (Ty::List(Elem::Int(_) | Elem::Enum(_)), ZTy::Vector(inner)) => **inner == ZTy::Count,
        (Ty::ZeekRec(a), ZTy::Record(b)) => a == b,
        (Ty::Vector(inner), ZTy::IndexVec) => **inner == ZTy::Count,
        (Ty::Vector(inner), ZTy::StringVec) => **inner == ZTy::String,
        (Ty::Vector(a), ZTy::Vector(b)) => a == b,
        _ => false,
    }
}

/// The Zeek type a comprehension body of type `ty` produces.
fn zeek_of(ty: &Ty) -> Option<ZTy> {
    match ty {
        Ty::Int(_) | Ty::Enum(_) => Some(ZTy::Count),
        Ty::Bool => Some(ZTy::Bool),
        Ty::Bytes | Ty::Str => Some(ZTy::String),
        Ty::ZeekRec(r) => Some(ZTy::Record(r.clone())),
        Ty::Unknown => Some(ZTy::Count),
        _ => None,
    }
}

/// Is the type integer-like (for arithmetic and lengths)? Enums count as their base integer.
fn is_int(ty: &Ty) -> bool {
    matches!(ty, Ty::Int(_) | Ty::Enum(_) | Ty::Unknown)
}

/// The fixed byte size of a list element, when it has one.
pub fn elem_size(env: &Env<'_>, elem: &Elem) -> Option<u64> {
    match elem {
        Elem::Int(w) => Some(u64::from(*w)),
        Elem::Enum(e) => env
            .enums
            .get(e)
            .and_then(|d| uint_width(&d.base.name))
            .map(u64::from),
        Elem::Record(_) => None,
    }
}

/// The type of a record member as expressions see it.
pub fn member_ty(env: &Env<'_>, m: &Member) -> Ty {
    match m {
        Member::Let(l) => decl_ty(env, &l.ty.name).unwrap_or(Ty::Unknown),
        Member::Field(f) => {
            let base = field_type_ty(env, &f.ty);
            if f.attrs
                .iter()
                .any(|a| a.name.name == "if" || a.name.name == "optional")
            {
                Ty::Opt(Box::new(base))
            } else {
                base
            }
        }
    }
}

/// The type of a field type.
pub fn field_type_ty(env: &Env<'_>, ft: &FieldType) -> Ty {
    match ft {
        FieldType::Named(n) => {
            let name = n.name.name.as_str();
            if let Some(w) = uint_width(name) {
                Ty::Int(w)
            } else if name == "bytestring" {
                Ty::Bytes
            } else if env.enums.contains_key(name) {
                Ty::Enum(name.into())
            } else if env.records.contains_key(name) {
                Ty::Record(name.into())
            } else {
                Ty::Unknown
            }
        }
        FieldType::Array { elem, .. } => match elem_of(env, &elem.name.name) {
            Some(e) => Ty::List(e),
            None => Ty::Unknown,
        },
        FieldType::Case(_) => Ty::Case,
    }
}

/// A list element type by name.
pub fn elem_of(env: &Env<'_>, name: &str) -> Option<Elem> {
    if let Some(w) = uint_width(name) {
        Some(Elem::Int(w))
    } else if env.enums.contains_key(name) {
        Some(Elem::Enum(name.into()))
    } else if env.records.contains_key(name) {
        Some(Elem::Record(name.into()))
    } else {
        None
    }
}

/// The type of a parameter or `let` declaration (`bool`, `uintN`, an enum).
pub fn decl_ty(env: &Env<'_>, name: &str) -> Option<Ty> {
    if name == "bool" {
        Some(Ty::Bool)
    } else if uint_width(name).is_some() {
        Some(Ty::Int(8))
    } else if env.enums.contains_key(name) {
        Some(Ty::Enum(name.into()))
    } else {
        None
    }
}

/// The type of an element as a comprehension variable.
fn elem_ty(e: &Elem) -> Ty {
    match e {
        Elem::Int(w) => Ty::Int(*w),
        Elem::Enum(n) => Ty::Enum(n.clone()),
        Elem::Record(r) => Ty::Record(r.clone()),
    }
}

/// Finds a member of a record by name.
pub fn find_member<'s>(r: &'s RecordDef, name: &str) -> Option<(usize, &'s Member)> {
    r.members
        .iter()
        .enumerate()
        .find(|(_, m)| member_name(m).name == name)
}

/// The name of a member.
pub fn member_name(m: &Member) -> &Ident {
    match m {
        Member::Field(f) => &f.name,
        Member::Let(l) => &l.name,
    }
}

/// True for names that conventionally hold a length: `len_*`, `length*`, `*_len`, `*_length`.
pub fn is_length_name(name: &str) -> bool {
    name.starts_with("len_")
        || name.starts_with("length")
        || name.ends_with("_len")
        || name.ends_with("_length")
}

impl<'s> Checker<'s, '_> {
    /// Builds the symbol tables and reports duplicate type and event names.
    fn collect(&mut self, spec: &'s Spec) {
        let mut types: BTreeMap<String, Span> = BTreeMap::new();
        for item in &spec.items {
            let name = match item {
                Item::Enum(e) => &e.name,
                Item::Record(r) => &r.name,
                Item::ZeekRecord(z) => &z.name,
                Item::Event(ev) => {
                    if self.env.events.contains_key(&ev.name.name) {
                        self.diags.error(
                            ev.name.span,
                            format!("duplicate event `{}`", ev.name.name),
                            "declared again here",
                            "each event has exactly one declaration; remove or rename this one",
                        );
                    } else {
                        self.env.events.insert(ev.name.name.clone(), ev);
                    }
                    continue;
                }
                Item::Context(ctx) => {
                    for f in &ctx.fields {
                        if self.env.context.insert(f.name.name.clone(), f).is_some() {
                            self.diags.error(
                                f.name.span,
                                format!("duplicate context value `{}`", f.name.name),
                                "declared again here",
                                "remove or rename one of them",
                            );
                        }
                    }
                    continue;
                }
                _ => continue,
            };
            let builtin = uint_width(&name.name).is_some()
                || ["bytestring", "bool"].contains(&name.name.as_str());
            if builtin || types.contains_key(&name.name) {
                self.diags.error(name.span, format!("duplicate type name `{}`", name.name), if builtin { "this is a built-in type" } else { "defined again here" }, "types, enums and zeek records share one namespace across all spec files; rename one");
                continue;
            }
            types.insert(name.name.clone(), name.span);
            match item {
                Item::Enum(e) => {
                    self.env.enums.insert(name.name.clone(), e);
                }
                Item::Record(r) => {
                    self.env.records.insert(name.name.clone(), r);
                }
                Item::ZeekRecord(z) => {
                    self.env.zeek.insert(name.name.clone(), z);
                }
                _ => {}
            }
        }
    }

    /// Reports names that occur twice in one list.
    fn dup_names<'a>(&mut self, names: impl Iterator<Item = &'a Ident>, what: &str) {
        let mut seen = BTreeSet::new();
        for n in names {
            if !seen.insert(n.name.as_str()) {
                self.diags.error(
                    n.span,
                    format!("duplicate {what} `{}`", n.name),
                    "declared again here",
                    format!("each {what} name must be unique here; rename one"),
                );
            }
        }
    }

    /// Checks attribute names against the allowed set.
    fn attrs_known(&mut self, attrs: &[Attr], known: &[&str], what: &str) {
        for a in attrs {
            if !known.contains(&a.name.name.as_str()) {
                self.diags.error(
                    a.name.span,
                    format!("unknown attribute `&{}`", a.name.name),
                    format!("not an attribute of {what}"),
                    format!(
                        "{what} attributes are: {}",
                        known
                            .iter()
                            .map(|k| format!("&{k}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
    }

    fn enum_def(&mut self, e: &'s EnumDef) {
        if !ENUM_BASES.contains(&e.base.name.as_str()) {
            self.diags.error(
                e.base.span,
                format!("unknown enum base type `{}`", e.base.name),
                "not an enum base type",
                "enum base types are uint8, uint16, uint24 and uint32",
            );
        }
        let max = uint_width(&e.base.name)
            .map(|w| {
                if w >= 8 {
                    u64::MAX
                } else {
                    (1u64 << (8 * u32::from(w))) - 1
                }
            })
            .unwrap_or(u64::MAX);
        self.dup_names(e.consts.iter().map(|c| &c.name), "enum constant");
        let mut values: BTreeMap<u64, &str> = BTreeMap::new();
        for c in &e.consts {
            self.attrs_known(&c.attrs, CONST_ATTRS, "an enum constant");
            let Some(v) = c.value else {
                self.diags.error(
                    c.value_span,
                    "integer literal too large",
                    "does not fit in 64 bits",
                    "use a smaller value",
                );
                continue;
            };
            if v > max {
                self.diags.error(
                    c.value_span,
                    format!("value {v:#x} does not fit in {}", e.base.name),
                    "too large",
                    "widen the enum's base type or fix the value",
                );
            }
            let alias = c.attrs.iter().any(|a| a.name.name == "alias");
            match values.get(&v) {
                Some(first) if !alias => self.diags.error(c.value_span, format!("duplicate enum value {v:#x} in `{}`", e.name.name), format!("`{first}` already has this value"), "mark the constant `&alias` if both names are intended (name() keeps returning the first)"),
                Some(_) => {}
                None => {
                    values.insert(v, &c.name.name);
                }
            }
        }
    }

    fn derive(&mut self, d: &'s DeriveDef) {
        if d.mode.name != "prefix" {
            self.diags.error(
                d.mode.span,
                format!("unknown derive mode `{}`", d.mode.name),
                "not a derive mode",
                "the only mode is `by prefix`",
            );
        }
        if !self.env.enums.contains_key(&d.enum_name.name) {
            self.diags.error(
                d.enum_name.span,
                format!("unknown enum `{}`", d.enum_name.name),
                "no enum of this name",
                "derive tables extend an enum declared with `enum`",
            );
        }
        let target = self.env.enums.get(&d.target.name).copied();
        if target.is_none() {
            self.diags.error(
                d.target.span,
                format!("unknown enum `{}`", d.target.name),
                "no enum of this name",
                "the result type of a derive table is an enum",
            );
        }
        for r in &d.rules {
            if let Some(t) = target {
                if !t.consts.iter().any(|c| c.name.name == r.target.name) {
                    self.diags.error(
                        r.target.span,
                        format!("unknown enum constant `{}::{}`", t.name.name, r.target.name),
                        "not a constant of the target enum",
                        format!(
                            "constants of `{}` are listed at its declaration",
                            t.name.name
                        ),
                    );
                }
            }
        }
        if !d.rules.iter().any(|r| r.prefix.is_none()) {
            self.diags.error(
                d.span,
                "derive table without `default`",
                "no `default -> ...` rule",
                "add `default -> UNKNOWN,` so every constant maps somewhere",
            );
        }
    }

    /// Resolves a record argument list against the record's parameters.
    fn args(&mut self, target: &str, args: &[Expr], at: Span, scope: &Scope<'s>) {
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

    fn record(&mut self, r: &'s RecordDef) {
        self.attrs_known(&r.attrs, RECORD_ATTRS, "a record");
        let mut names: Vec<&Ident> = r.params.iter().map(|p| &p.name).collect();
        names.extend(r.members.iter().map(member_name));
        self.dup_names(names.into_iter(), "field");
        for p in &r.params {
            if decl_ty(&self.env, &p.ty.name).is_none() {
                self.diags.error(
                    p.ty.span,
                    format!("unknown type `{}`", p.ty.name),
                    "not a parameter type",
                    "parameters are bool, uint8..uint64 or an enum",
                );
            }
        }
        for a in &r.attrs {
            if a.name.name == "length" {
                // A record's own length is known before its fields: only parameters are visible.
                self.int_attr(a, &Scope::parse(r, 0));
            }
            if a.name.name == "exportsourcedata" {
                self.env
                    .sources
                    .insert((r.name.name.clone(), String::new()));
            }
        }
        for (i, m) in r.members.iter().enumerate() {
            let scope = Scope::parse(r, i);
            match m {
                Member::Field(f) => self.field(r, f, &scope, i),
                Member::Let(l) => {
                    let want = decl_ty(&self.env, &l.ty.name);
                    let got = self.expr(&l.expr, &scope);
                    match want {
                        None => self.diags.error(
                            l.ty.span,
                            format!("unknown type `{}`", l.ty.name),
                            "not a `let` type",
                            "`let` values are bool, uint8..uint64 or an enum",
                        ),
                        Some(w) if !same_scalar(&got.ty, &w) => self.diags.error(
                            l.expr.span,
                            format!(
                                "type mismatch: `{}` is declared {}, found {}",
                                l.name.name,
                                show(&w),
                                show(&got.ty)
                            ),
                            "wrong type",
                            "change the declared type or the expression",
                        ),
                        _ => {}
                    }
                }
            }
        }
    }

    /// Checks an `&attr = int-expr` value.
    fn int_attr(&mut self, a: &Attr, scope: &Scope<'s>) -> Option<IExpr> {
        let Some(v) = &a.value else {
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

    /// Checks an `&attr(bool-expr)` value.
    fn bool_attr(&mut self, a: &Attr, scope: &Scope<'s>) {
        let Some(v) = &a.value else {
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

    fn field(&mut self, r: &'s RecordDef, f: &'s Field, scope: &Scope<'s>, index: usize) {
        self.attrs_known(&f.attrs, FIELD_ATTRS, "a field");
        let has = |n: &str| f.attrs.iter().any(|a| a.name.name == n);
        let mut length_const = None;
        for a in &f.attrs {
            match a.name.name.as_str() {
                "length" => {
                    if let Some(e) = self.int_attr(a, scope) {
                        if let IKind::Int(n) = e.kind {
                            length_const = a.value.as_ref().map(|v| (n, v.span));
                        }
                    }
                }
                "if" => self.bool_attr(a, scope),
                // A constraint sees the field itself.
                "check" => self.bool_attr(a, &Scope::parse(r, index + 1)),
                "exportsourcedata" => {
                    self.env
                        .sources
                        .insert((r.name.name.clone(), f.name.name.clone()));
                }
                _ => {}
            }
        }
        let bounded = has("length") || has("restofdata");
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
                } else if uint_width(name).is_none()
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
                    None if !bounded => self.diags.error(
                        *span,
                        format!("variable-size field `{}` has no bound", f.name.name),
                        "a list needs a count, a length or `&restofdata`",
                        "write `T[count]`, add `&length = <expr>`, or `&restofdata`",
                    ),
                    None => {}
                }
                if let (Some((n, lspan)), Some(size)) = (
                    length_const,
                    elem_of(&self.env, name).and_then(|e| elem_size(&self.env, &e)),
                ) {
                    if size != 0 && n % size != 0 {
                        self.diags.warning(lspan, format!("length {n} is not a multiple of the element size {size}"), "does not divide evenly", "the generated parser rejects such input at run time; fix the length if this is a mistake");
                    }
                }
            }
            FieldType::Case(c) => self.case(r, f, c, scope),
        }
    }

    fn unknown_type(&mut self, name: &Ident) {
        self.diags.error(
            name.span,
            format!("unknown type `{}`", name.name),
            "no type of this name",
            "declare it with `type`, `enum`, or use uint8..uint64 / bytestring",
        );
    }

    fn case(&mut self, r: &'s RecordDef, f: &'s Field, c: &'s CaseType, scope: &Scope<'s>) {
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
                        None => self.diags.error(
                            e.span,
                            format!("unknown enum `{}`", e.name),
                            "no enum of this name",
                            "case labels are `Enum::constant`, integers or true/false",
                        ),
                        Some(def) => {
                            if !def.consts.iter().any(|x| x.name.name == k.name) {
                                self.diags.error(
                                    k.span,
                                    format!("unknown enum constant `{}::{}`", e.name, k.name),
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
                if af.attrs.iter().any(|a| a.name.name == "check") {
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

    fn glue(&mut self, g: &'s GlueDef) {
        let rec = self.env.records.get(&g.ty.name).copied();
        if rec.is_none() {
            self.unknown_type(&g.ty);
        }
        let scope = Scope::glue(rec);
        if let Some(c) = &g.cond {
            let e = self.expr(c, &scope);
            if !matches!(e.ty, Ty::Bool | Ty::Unknown) {
                self.diags.error(
                    c.span,
                    format!(
                        "type mismatch: a glue condition must be a bool, found {}",
                        show(&e.ty)
                    ),
                    "expected a bool",
                    "compare it, e.g. `x != 0`",
                );
            }
        }
        let Some(ev) = self.env.events.get(&g.event.name).copied() else {
            self.diags.error(
                g.event.span,
                format!("unknown event `{}`", g.event.name),
                "no event of this name",
                "declare it with `event name(params);`",
            );
            for a in &g.args {
                self.expr(a, &scope);
            }
            return;
        };
        if ev.params.len() != g.args.len() {
            let sig: Vec<String> = ev
                .params
                .iter()
                .map(|p| format!("{}: {}", p.name.name, ztype_text(&p.ty)))
                .collect();
            self.diags.error(
                g.args_span,
                format!(
                    "event `{}` takes {} argument(s) but {} were given",
                    ev.name.name,
                    ev.params.len(),
                    g.args.len()
                ),
                "wrong number of arguments",
                format!("declared as `event {}({})`", ev.name.name, sig.join(", ")),
            );
        }
        let count_ok = ev.params.len() == g.args.len();
        for (a, p) in g.args.iter().zip(&ev.params) {
            let got = self.expr(a, &scope);
            // With a wrong count, positions do not line up: the count error says it all.
            if !count_ok {
                continue;
            }
            if let Some(want) = self.ztype_quiet(&p.ty) {
                if !compatible(&got.ty, &want) {
                    self.diags.error(
                        a.span,
                        format!(
                            "type mismatch: parameter `{}` of `{}` is {}, found {}",
                            p.name.name,
                            ev.name.name,
                            show_z(&want),
                            show(&got.ty)
                        ),
                        format!("expected {}", show_z(&want)),
                        "see §2 Glue of docs/SPEC-LANGUAGE.md for the conversions",
                    );
                }
            }
        }
    }

    /// Resolves a Zeek type, reporting unknown names.
    fn ztype(&mut self, t: &ZType, conn_ok: bool) -> Option<ZTy> {
        let r = self.ztype_quiet(t);
        if let ZType::Named(n) = t {
            if r.is_none() {
                self.diags.error(n.span, format!("unknown type `{}`", n.name), "not a Zeek type", "use count, int, double, bool, string, time, index_vec, string_vec, a zeek record or `vector of T`");
            } else if r == Some(ZTy::Connection) && !conn_ok {
                self.diags.error(
                    n.span,
                    "`connection` is only allowed as an event's first parameter",
                    "not allowed here",
                    "remove it",
                );
            }
        } else if let ZType::Vector(inner, _) = t {
            self.ztype(inner, false);
        }
        r
    }

    /// Resolves a Zeek type without reporting.
    pub fn ztype_quiet(&self, t: &ZType) -> Option<ZTy> {
        resolve_ztype(&self.env, t)
    }

    /// Types an expression, reporting every error in it.
    pub fn expr(&mut self, e: &Expr, scope: &Scope<'s>) -> IExpr {
        let unknown = |kind| IExpr {
            kind,
            ty: Ty::Unknown,
        };
        match &e.kind {
            ExprKind::Int(v) => match v {
                Some(v) => IExpr {
                    kind: IKind::Int(*v),
                    ty: Ty::Int(8),
                },
                None => {
                    self.diags.error(
                        e.span,
                        "integer literal too large",
                        "does not fit in 64 bits",
                        "use a smaller value",
                    );
                    unknown(IKind::Int(0))
                }
            },
            ExprKind::Str(b) => IExpr {
                kind: IKind::Bytes(b.clone()),
                ty: Ty::Bytes,
            },
            ExprKind::Bool(b) => IExpr {
                kind: IKind::Bool(*b),
                ty: Ty::Bool,
            },
            ExprKind::Name(n) => self.name(n, e.span, scope),
            ExprKind::Ctx(n) => {
                if !scope.glue || scope.loop_var.is_some() {
                    self.diags.error(
                        e.span,
                        format!("context value `${n}` used outside glue"),
                        "only glue sees context values",
                        "pass the value as a record parameter instead",
                    );
                    return unknown(IKind::Int(0));
                }
                if n == "conn" {
                    return IExpr {
                        kind: IKind::Conn,
                        ty: Ty::Conn,
                    };
                }
                match self
                    .env
                    .context
                    .get(n)
                    .and_then(|f| resolve_ztype(&self.env, &f.ty))
                {
                    Some(z) => {
                        let ty = match z {
                            ZTy::Bool => Ty::Bool,
                            _ => Ty::Int(8),
                        };
                        IExpr {
                            kind: IKind::Ctx(rust_ident_str(n)),
                            ty,
                        }
                    }
                    None => {
                        self.diags.error(
                            e.span,
                            format!("unknown context value `${n}`"),
                            "not declared in `context { ... }`",
                            "declare it in the context block, or use `$conn`",
                        );
                        unknown(IKind::Int(0))
                    }
                }
            }
            ExprKind::SelfRef => match (scope.glue && scope.loop_var.is_none(), scope.record) {
                (true, Some(r)) => IExpr {
                    kind: IKind::SelfRef,
                    ty: Ty::Record(r.name.name.clone()),
                },
                _ => {
                    self.diags.error(
                        e.span,
                        "`self` used outside glue",
                        "not available here",
                        "refer to earlier fields by name",
                    );
                    unknown(IKind::Int(0))
                }
            },
            ExprKind::EnumConst(en, k) => match self.env.enums.get(&en.name) {
                None => {
                    self.diags.error(
                        en.span,
                        format!("unknown enum `{}`", en.name),
                        "no enum of this name",
                        "declare it with `enum`",
                    );
                    unknown(IKind::Int(0))
                }
                Some(def) if !def.consts.iter().any(|c| c.name.name == k.name) => {
                    self.diags.error(
                        k.span,
                        format!("unknown enum constant `{}::{}`", en.name, k.name),
                        "not a constant of this enum",
                        format!("check the spelling against `enum {}`", en.name),
                    );
                    unknown(IKind::Int(0))
                }
                Some(_) => IExpr {
                    kind: IKind::EnumConst(en.name.clone(), rust_ident_str(&k.name)),
                    ty: Ty::Enum(en.name.clone()),
                },
            },
            ExprKind::Member(base, f) => {
                let b = self.expr(base, scope);
                let rec = match &b.ty {
                    Ty::Record(r) => self.env.records.get(r).copied(),
                    Ty::Unknown => return unknown(IKind::Int(0)),
                    other => {
                        self.diags.error(
                            f.span,
                            format!("type mismatch: `.{}` on {}", f.name, show(other)),
                            "not a record",
                            "only records have fields",
                        );
                        return unknown(IKind::Int(0));
                    }
                };
                let Some(rec) = rec else {
                    return unknown(IKind::Int(0));
                };
                if let Some(p) = rec.params.iter().find(|p| p.name.name == f.name) {
                    let ty = decl_ty(&self.env, &p.ty.name).unwrap_or(Ty::Unknown);
                    return IExpr {
                        kind: IKind::Member(Box::new(b), rust_ident_str(&f.name)),
                        ty,
                    };
                }
                match find_member(rec, &f.name) {
                    Some((_, m)) => {
                        self.env
                            .used
                            .insert((rec.name.name.clone(), f.name.clone()));
                        let ty = member_ty(&self.env, m);
                        IExpr {
                            kind: IKind::Member(Box::new(b), rust_ident_str(&f.name)),
                            ty,
                        }
                    }
                    None => {
                        self.diags.error(
                            f.span,
                            format!("unknown field `{}` in `{}`", f.name, rec.name.name),
                            "no such field",
                            format!(
                                "fields of `{}`: {}",
                                rec.name.name,
                                rec.members
                                    .iter()
                                    .map(|m| member_name(m).name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        );
                        unknown(IKind::Int(0))
                    }
                }
            }
            ExprKind::SourceData(base) => self.sourcedata(base, e.span, scope),
            ExprKind::Slice(x, a, b) => {
                let x = self.expr(x, scope);
                let a = self.int_operand(a, scope);
                let b = self.int_operand(b, scope);
                if !matches!(x.ty, Ty::Bytes | Ty::Unknown) {
                    self.diags.error(
                        e.span,
                        format!(
                            "type mismatch: slicing needs a bytestring, found {}",
                            show(&x.ty)
                        ),
                        "not a bytestring",
                        "slice a bytestring field",
                    );
                }
                IExpr {
                    kind: IKind::Slice(Box::new(x), Box::new(a), Box::new(b)),
                    ty: Ty::Bytes,
                }
            }
            ExprKind::Call(f, args) => self.call(f, args, e.span, scope),
            ExprKind::Unary(op, x) => {
                let xe = self.expr(x, scope);
                match op {
                    UnOp::Not if matches!(xe.ty, Ty::Bool | Ty::Unknown) => {}
                    UnOp::Not => self.diags.error(
                        x.span,
                        format!("type mismatch: `!` needs a bool, found {}", show(&xe.ty)),
                        "expected a bool",
                        "compare it, e.g. `x == 0`",
                    ),
                    UnOp::Neg => self.diags.error(
                        e.span,
                        "type mismatch: integers are unsigned, `-x` has no meaning",
                        "negation",
                        "rewrite as a subtraction",
                    ),
                }
                let ty = if *op == UnOp::Not {
                    Ty::Bool
                } else {
                    Ty::Unknown
                };
                IExpr {
                    kind: IKind::Unary(*op, Box::new(xe)),
                    ty,
                }
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, scope),
            ExprKind::Cond(c, a, b) => {
                let ce = self.expr(c, scope);
                if !matches!(ce.ty, Ty::Bool | Ty::Unknown) {
                    self.diags.error(
                        c.span,
                        format!(
                            "type mismatch: a condition must be a bool, found {}",
                            show(&ce.ty)
                        ),
                        "expected a bool",
                        "compare it, e.g. `x != 0`",
                    );
                }
                let ae = self.expr(a, scope);
                let be = self.expr(b, scope);
                let ty = if same_scalar(&ae.ty, &be.ty) {
                    if ae.ty == Ty::Unknown {
                        be.ty.clone()
                    } else {
                        ae.ty.clone()
                    }
                } else {
                    self.diags.error(
                        b.span,
                        format!(
                            "type mismatch: branches are {} and {}",
                            show(&ae.ty),
                            show(&be.ty)
                        ),
                        "differs from the other branch",
                        "both branches need the same type",
                    );
                    Ty::Unknown
                };
                IExpr {
                    kind: IKind::Cond(Box::new(ce), Box::new(ae), Box::new(be)),
                    ty,
                }
            }
            ExprKind::Comprehension {
                body,
                var,
                list,
                filter,
            } => {
                let le = self.expr(list, scope);
                let elem = match &le.ty {
                    Ty::List(el) => el.clone(),
                    Ty::Unknown => return unknown(IKind::Int(0)),
                    other => {
                        self.diags.error(
                            list.span,
                            format!(
                                "type mismatch: a comprehension iterates a list, found {}",
                                show(other)
                            ),
                            "not a list",
                            "iterate a list field",
                        );
                        return unknown(IKind::Int(0));
                    }
                };
                if let Elem::Record(rn) = &elem {
                    if self
                        .env
                        .records
                        .get(rn)
                        .is_some_and(|r| !r.params.is_empty())
                    {
                        self.diags.error(list.span, format!("comprehension over `{rn}`, which takes parameters"), "element type is parameterized", "comprehensions re-read elements without their arguments; iterate a list of a parameterless type");
                    }
                }
                let inner = Scope {
                    loop_var: Some((var.name.clone(), elem_ty(&elem))),
                    ..scope.clone()
                };
                let be = self.expr(body, &inner);
                let fe = filter.as_ref().map(|f| {
                    let fe = self.expr(f, &inner);
                    if !matches!(fe.ty, Ty::Bool | Ty::Unknown) {
                        self.diags.error(
                            f.span,
                            format!(
                                "type mismatch: a filter must be a bool, found {}",
                                show(&fe.ty)
                            ),
                            "expected a bool",
                            "compare it, e.g. `x != 0`",
                        );
                    }
                    Box::new(fe)
                });
                let z = match zeek_of(&be.ty) {
                    Some(z) => z,
                    None => {
                        self.diags.error(
                            body.span,
                            format!("type mismatch: a vector element cannot be {}", show(&be.ty)),
                            "not a Zeek value",
                            "project to an integer, bytestring or zeek record",
                        );
                        ZTy::Count
                    }
                };
                IExpr {
                    kind: IKind::Comprehension {
                        body: Box::new(be),
                        var: rust_ident_str(&var.name),
                        elem,
                        list: Box::new(le),
                        filter: fe,
                    },
                    ty: Ty::Vector(Box::new(z)),
                }
            }
            ExprKind::RecordLit(name, inits) => {
                let Some(z) = self.env.zeek.get(&name.name).copied() else {
                    self.diags.error(
                        name.span,
                        format!("unknown zeek record `{}`", name.name),
                        "no zeek record of this name",
                        "declare it with `zeek record`",
                    );
                    return unknown(IKind::Int(0));
                };
                let mut out = Vec::new();
                for (fname, _) in inits {
                    if !z.fields.iter().any(|f| f.name.name == fname.name) {
                        self.diags.error(
                            fname.span,
                            format!(
                                "unknown field `{}` in zeek record `{}`",
                                fname.name, name.name
                            ),
                            "no such field",
                            "use the field names of the zeek record",
                        );
                    }
                }
                for f in &z.fields {
                    let want = resolve_ztype(&self.env, &f.ty);
                    match inits.iter().find(|(n, _)| n.name == f.name.name) {
                        Some((_, fe)) => {
                            let got = self.expr(fe, scope);
                            if let Some(w) = &want {
                                if !compatible(&got.ty, w) {
                                    self.diags.error(
                                        fe.span,
                                        format!(
                                            "type mismatch: field `{}` is {}, found {}",
                                            f.name.name,
                                            show_z(w),
                                            show(&got.ty)
                                        ),
                                        format!("expected {}", show_z(w)),
                                        "see §2 Glue of docs/SPEC-LANGUAGE.md for the conversions",
                                    );
                                }
                            }
                            out.push((rust_ident_str(&f.name.name), got));
                        }
                        None => self.diags.error(
                            name.span,
                            format!("missing field `{}` in `{}` literal", f.name.name, name.name),
                            "incomplete record",
                            "give every field a value",
                        ),
                    }
                }
                IExpr {
                    kind: IKind::RecordLit(name.name.clone(), out),
                    ty: Ty::ZeekRec(name.name.clone()),
                }
            }
        }
    }

    fn int_operand(&mut self, e: &Expr, scope: &Scope<'s>) -> IExpr {
        let x = self.expr(e, scope);
        if !is_int(&x.ty) {
            self.diags.error(
                e.span,
                format!("type mismatch: expected an integer, found {}", show(&x.ty)),
                "expected an integer",
                "use an integer field, parameter or literal",
            );
        }
        x
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, scope: &Scope<'s>) -> IExpr {
        let ae = self.expr(a, scope);
        let be = self.expr(b, scope);
        let span = a.span.join(b.span);
        let ty = match op {
            BinOp::Or | BinOp::And => {
                for (x, s) in [(&ae, a.span), (&be, b.span)] {
                    if !matches!(x.ty, Ty::Bool | Ty::Unknown) {
                        self.diags.error(
                            s,
                            format!(
                                "type mismatch: `{}` needs bools, found {}",
                                op.symbol(),
                                show(&x.ty)
                            ),
                            "expected a bool",
                            "compare it, e.g. `x != 0`",
                        );
                    }
                }
                Ty::Bool
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let ok = match (&ae.ty, &be.ty) {
                    (Ty::Unknown, _) | (_, Ty::Unknown) => true,
                    (Ty::Int(_), Ty::Int(_)) => true,
                    (Ty::Enum(x), Ty::Enum(y)) => x == y,
                    (Ty::Enum(_), Ty::Int(_)) | (Ty::Int(_), Ty::Enum(_)) => true,
                    (Ty::Bool, Ty::Bool) | (Ty::Bytes, Ty::Bytes) => {
                        matches!(op, BinOp::Eq | BinOp::Ne)
                    }
                    _ => false,
                };
                if !ok {
                    self.diags.error(
                        span,
                        format!(
                            "type mismatch: cannot compare {} with {}",
                            show(&ae.ty),
                            show(&be.ty)
                        ),
                        format!("`{}` between different types", op.symbol()),
                        "compare values of the same type",
                    );
                }
                Ty::Bool
            }
            _ => {
                for (x, s) in [(&ae, a.span), (&be, b.span)] {
                    if !is_int(&x.ty) {
                        self.diags.error(
                            s,
                            format!(
                                "type mismatch: `{}` needs integers, found {}",
                                op.symbol(),
                                show(&x.ty)
                            ),
                            "expected an integer",
                            "arithmetic works on integers (use `len(x)` for a length)",
                        );
                    }
                }
                Ty::Int(8)
            }
        };
        IExpr {
            kind: IKind::Binary(op, Box::new(ae), Box::new(be)),
            ty,
        }
    }

    fn call(&mut self, f: &Ident, args: &[Expr], span: Span, scope: &Scope<'s>) -> IExpr {
        let arity = match f.name.as_str() {
            "len" | "be_uint" => 1,
            "zero_pad" => 2,
            _ => {
                self.diags.error(
                    f.span,
                    format!("unknown function `{}`", f.name),
                    "no such builtin",
                    "builtins are len(x), be_uint(bytes), zero_pad(bytes, n)",
                );
                return IExpr {
                    kind: IKind::Int(0),
                    ty: Ty::Unknown,
                };
            }
        };
        if args.len() != arity {
            self.diags.error(
                span,
                format!(
                    "`{}` takes {arity} argument(s) but {} were given",
                    f.name,
                    args.len()
                ),
                "wrong number of arguments",
                "see §2 Expressions of docs/SPEC-LANGUAGE.md",
            );
            return IExpr {
                kind: IKind::Int(0),
                ty: Ty::Unknown,
            };
        }
        let mut es: Vec<IExpr> = args.iter().map(|a| self.expr(a, scope)).collect();
        let first = es.remove(0);
        let want_bytes = |c: &mut Self, e: &IExpr, s: Span| {
            if !matches!(e.ty, Ty::Bytes | Ty::Unknown) {
                c.diags.error(
                    s,
                    format!(
                        "type mismatch: `{}` needs a bytestring, found {}",
                        f.name,
                        show(&e.ty)
                    ),
                    "expected a bytestring",
                    "pass a bytestring field",
                );
            }
        };
        let s0 = args.first().map(|a| a.span).unwrap_or(span);
        match f.name.as_str() {
            "len" => {
                if !matches!(first.ty, Ty::Bytes | Ty::Str | Ty::List(_) | Ty::Unknown) {
                    self.diags.error(
                        s0,
                        format!(
                            "type mismatch: `len` needs a bytestring or list, found {}",
                            show(&first.ty)
                        ),
                        "has no length",
                        "pass a bytestring or list field",
                    );
                }
                IExpr {
                    kind: IKind::Len(Box::new(first)),
                    ty: Ty::Int(8),
                }
            }
            "be_uint" => {
                want_bytes(self, &first, s0);
                IExpr {
                    kind: IKind::BeUint(Box::new(first)),
                    ty: Ty::Int(8),
                }
            }
            _ => {
                want_bytes(self, &first, s0);
                let n = es.remove(0);
                if !is_int(&n.ty) {
                    self.diags.error(
                        args.get(1).map(|a| a.span).unwrap_or(span),
                        format!(
                            "type mismatch: `zero_pad` needs an integer width, found {}",
                            show(&n.ty)
                        ),
                        "expected an integer",
                        "pass the padded length",
                    );
                }
                IExpr {
                    kind: IKind::ZeroPad(Box::new(first), Box::new(n)),
                    ty: Ty::Str,
                }
            }
        }
    }

    fn sourcedata(&mut self, base: &Expr, span: Span, scope: &Scope<'s>) -> IExpr {
        let bytes = |kind| IExpr {
            kind,
            ty: Ty::Bytes,
        };
        match &base.kind {
            ExprKind::SelfRef if scope.glue && scope.loop_var.is_none() => {
                if let Some(r) = scope.record {
                    self.env
                        .sources
                        .insert((r.name.name.clone(), String::new()));
                }
                bytes(IKind::Member(
                    Box::new(IExpr {
                        kind: IKind::SelfRef,
                        ty: Ty::Unknown,
                    }),
                    "sourcedata".into(),
                ))
            }
            ExprKind::Name(n) if scope.loop_var.is_none() => {
                self.name(n, base.span, scope);
                if let Some(r) = scope.record {
                    self.env.sources.insert((r.name.name.clone(), n.clone()));
                }
                bytes(IKind::Var(format!("{n}_sourcedata"), VarKind::Member))
            }
            ExprKind::Member(inner, f) => {
                let b = self.expr(inner, scope);
                if let Ty::Record(r) = &b.ty {
                    match self.env.records.get(r).copied() {
                        Some(rec) if find_member(rec, &f.name).is_some() => {
                            self.env.sources.insert((r.clone(), f.name.clone()));
                            self.env.used.insert((r.clone(), f.name.clone()));
                        }
                        _ => self.diags.error(
                            f.span,
                            format!("unknown field `{}` in `{r}`", f.name),
                            "no such field",
                            "`$sourcedata` applies to a field or `self`",
                        ),
                    }
                } else if b.ty != Ty::Unknown {
                    self.diags.error(
                        inner.span,
                        format!("type mismatch: `.{}` on {}", f.name, show(&b.ty)),
                        "not a record",
                        "only records have fields",
                    );
                }
                bytes(IKind::Member(Box::new(b), format!("{}_sourcedata", f.name)))
            }
            _ => {
                self.diags.error(
                    span,
                    "`$sourcedata` applies to `self` or a field",
                    "not a unit",
                    "write `self.$sourcedata` or `self.field.$sourcedata`",
                );
                IExpr {
                    kind: IKind::Int(0),
                    ty: Ty::Unknown,
                }
            }
        }
    }

    /// Resolves a bare name.
    fn name(&mut self, n: &str, span: Span, scope: &Scope<'s>) -> IExpr {
        if let Some((v, ty)) = &scope.loop_var {
            if v == n {
                return IExpr {
                    kind: IKind::Var(rust_ident_str(n), VarKind::Loop),
                    ty: ty.clone(),
                };
            }
            self.diags.error(
                span,
                format!("comprehension uses `{n}`, which is not its loop variable"),
                "not visible inside the comprehension",
                format!("a comprehension can only use `{v}`, literals and enum constants"),
            );
            return IExpr {
                kind: IKind::Int(0),
                ty: Ty::Unknown,
            };
        }
        let Some(r) = scope.record else {
            self.diags.error(
                span,
                format!("unknown name `{n}`"),
                "not defined here",
                "refer to a field, parameter or `let` of the record",
            );
            return IExpr {
                kind: IKind::Int(0),
                ty: Ty::Unknown,
            };
        };
        if let Some(p) = r.params.iter().find(|p| p.name.name == n) {
            let ty = decl_ty(&self.env, &p.ty.name).unwrap_or(Ty::Unknown);
            return IExpr {
                kind: IKind::Var(rust_ident_str(n), VarKind::Member),
                ty,
            };
        }
        match find_member(r, n) {
            Some((i, m)) if scope.glue || i < scope.visible => {
                self.env.used.insert((r.name.name.clone(), n.to_string()));
                IExpr {
                    kind: IKind::Var(rust_ident_str(n), VarKind::Member),
                    ty: member_ty(&self.env, m),
                }
            }
            Some(_) => {
                self.diags.error(
                    span,
                    format!("field `{n}` is used before it is parsed"),
                    "parsed later in the record",
                    format!("move `{n}` above its first use in `{}`", r.name.name),
                );
                IExpr {
                    kind: IKind::Int(0),
                    ty: Ty::Unknown,
                }
            }
            None => {
                self.diags.error(
                    span,
                    format!("unknown name `{n}`"),
                    format!("no field, parameter or `let` `{n}` in `{}`", r.name.name),
                    "check the spelling, or declare the field before this point",
                );
                IExpr {
                    kind: IKind::Int(0),
                    ty: Ty::Unknown,
                }
            }
        }
    }

    /// Reports records that contain themselves (directly, not through a list).
    fn recursion(&mut self, spec: &'s Spec) {
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

    /// Reports length fields that no expression references.
    fn unused_lengths(&mut self, spec: &'s Spec) {
        for item in &spec.items {
            let Item::Record(r) = item else { continue };
            for m in &r.members {
                let Member::Field(f) = m else { continue };
                let FieldType::Named(n) = &f.ty else { continue };
                if uint_width(&n.name.name).is_some()
                    && is_length_name(&f.name.name)
                    && !self
                        .env
                        .used
                        .contains(&(r.name.name.clone(), f.name.name.clone()))
                {
                    self.diags.error(f.name.span, format!("length field `{}` bounds nothing", f.name.name), "never referenced", format!("bound the field it measures with `&length = {}` (or `T[{}]`), or rename it if it is not a length", f.name.name, f.name.name));
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

/// True when two scalar types are interchangeable (`Unknown` matches anything).
fn same_scalar(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        (Ty::Unknown, _) | (_, Ty::Unknown) => true,
        (Ty::Int(_), Ty::Int(_)) => true,
        _ => a == b,
    }
}

/// The spec text of a Zeek type.
fn ztype_text(t: &ZType) -> String {
    match t {
        ZType::Named(n) => n.name.clone(),
        ZType::Vector(inner, _) => format!("vector of {}", ztype_text(inner)),
    }
}

/// Resolves a Zeek type.
pub fn resolve_ztype(env: &Env<'_>, t: &ZType) -> Option<ZTy> {
    match t {
        ZType::Vector(inner, _) => resolve_ztype(env, inner).map(|i| ZTy::Vector(Box::new(i))),
        ZType::Named(n) => Some(match n.name.as_str() {
            "connection" => ZTy::Connection,
            "count" => ZTy::Count,
            "int" => ZTy::Int,
            "double" => ZTy::Double,
            "bool" => ZTy::Bool,
            "string" => ZTy::String,
            "time" => ZTy::Time,
            "index_vec" => ZTy::IndexVec,
            "string_vec" => ZTy::StringVec,
            other if env.zeek.contains_key(other) => ZTy::Record(other.into()),
            _ => return None,
        }),
    }
}

/// Types an expression against an already-built environment (used by lowering, after checking
/// succeeded, so the diagnostics are discarded).
pub fn retype<'s>(env: &mut Env<'s>, e: &Expr, scope: &Scope<'s>) -> IExpr {
    let mut scratch = Diags::default();
    let mut c = Checker {
        env: std::mem::take(env),
        diags: &mut scratch,
    };
    let out = c.expr(e, scope);
    *env = c.env;
    out
}
