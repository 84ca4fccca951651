//! The intermediate representation: a resolved, typed spec ready for emission.
//!
//! In: a checked AST (`lower` assumes `check` found no errors and never fails; anything it cannot
//! resolve degrades to a harmless default rather than panicking). Out: enums, records (members
//! with resolved kinds, Rust identifiers, error paths, typed expressions), Zeek records, the
//! context, events with their glue, in spec order. `{:#?}` of [`Spec`] is the `pacc dump-ir` text.

use crate::ast::{BinOp, UnOp};

/// A resolved expression type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    /// An unsigned integer; the byte width of its source (8 for computed values).
    Int(u8),
    /// `bool`.
    Bool,
    /// An enum type.
    Enum(String),
    /// A borrowed byte string.
    Bytes,
    /// A possibly zero-padded string (`zero_pad`).
    Str,
    /// A list view.
    List(Elem),
    /// A record.
    Record(String),
    /// A case field (only usable through `$sourcedata`).
    Case,
    /// An `&if`/`&optional` field.
    Opt(Box<Ty>),
    /// A Zeek record value built by a record literal.
    ZeekRec(String),
    /// A vector built by a comprehension; the element's Zeek type.
    Vector(Box<ZTy>),
    /// The `$conn` placeholder.
    Conn,
    /// An expression whose error was already reported; accepted everywhere to avoid cascades.
    Unknown,
}

/// A list element type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Elem {
    /// `uintN`, width in bytes.
    Int(u8),
    /// An enum.
    Enum(String),
    /// A record.
    Record(String),
}

/// A Zeek value type (event parameters, Zeek record fields, context values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ZTy {
    /// `connection` (first event parameter, supplied by the host).
    Connection,
    /// `count`.
    Count,
    /// `int`.
    Int,
    /// `double`.
    Double,
    /// `bool`.
    Bool,
    /// `string`.
    String,
    /// `time`.
    Time,
    /// `index_vec`.
    IndexVec,
    /// `string_vec`.
    StringVec,
    /// A `zeek record`.
    Record(String),
    /// `vector of T`.
    Vector(Box<ZTy>),
}

/// Where a name in an expression lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarKind {
    /// A field, `let` or parameter of the current record (a local while parsing, `self.x` in glue).
    Member,
    /// A comprehension's loop variable.
    Loop,
}

/// A typed expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IExpr {
    /// What it computes.
    pub kind: IKind,
    /// Its type.
    pub ty: Ty,
}

/// Expression forms after resolution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IKind {
    /// Integer literal.
    Int(u64),
    /// Boolean literal.
    Bool(bool),
    /// Byte-string literal.
    Bytes(Vec<u8>),
    /// A member of the current record, or a loop variable; the Rust identifier.
    Var(String, VarKind),
    /// A context value.
    Ctx(String),
    /// `$conn`.
    Conn,
    /// `self`.
    SelfRef,
    /// `Enum::name`.
    EnumConst(String, String),
    /// `x.field` (Rust identifier of the field).
    Member(Box<IExpr>, String),
    /// `x[a..b]`.
    Slice(Box<IExpr>, Box<IExpr>, Box<IExpr>),
    /// `len(x)`.
    Len(Box<IExpr>),
    /// `be_uint(x)`.
    BeUint(Box<IExpr>),
    /// `zero_pad(x, n)`.
    ZeroPad(Box<IExpr>, Box<IExpr>),
    /// `!x`, `-x`.
    Unary(UnOp, Box<IExpr>),
    /// `a op b`.
    Binary(BinOp, Box<IExpr>, Box<IExpr>),
    /// `c ? a : b`.
    Cond(Box<IExpr>, Box<IExpr>, Box<IExpr>),
    /// `[body for var in list if filter]`.
    Comprehension {
        /// Projected value.
        body: Box<IExpr>,
        /// Loop variable (Rust identifier).
        var: String,
        /// Element type of the list.
        elem: Elem,
        /// The list.
        list: Box<IExpr>,
        /// Filter.
        filter: Option<Box<IExpr>>,
    },
    /// `Rec { field: e }`, fields in declaration order.
    RecordLit(String, Vec<(String, IExpr)>),
}

/// Where an item came from, for `/// Spec:` lines and docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// Spec path relative to the workspace root.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// `##` doc lines.
    pub docs: Vec<String>,
}

/// The whole resolved spec.
#[derive(Clone, Debug, Default)]
pub struct Spec {
    /// Open enums.
    pub enums: Vec<Enum>,
    /// Records.
    pub records: Vec<Record>,
    /// Zeek records.
    pub zeek_records: Vec<ZeekRecord>,
    /// Context values.
    pub context: Vec<ZField>,
    /// Events.
    pub events: Vec<Event>,
}

/// An open enum.
#[derive(Clone, Debug)]
pub struct Enum {
    /// Rust and spec name.
    pub name: String,
    /// Base width in bytes.
    pub width: u8,
    /// Constants in order.
    pub consts: Vec<EnumConst>,
    /// Derived tables.
    pub derives: Vec<Derive>,
    /// Provenance.
    pub origin: Origin,
}

/// One constant.
#[derive(Clone, Debug)]
pub struct EnumConst {
    /// Spec name.
    pub name: String,
    /// Rust identifier.
    pub rust: String,
    /// Value.
    pub value: u64,
    /// What `name()` prints.
    pub display: String,
    /// True for an `&alias` (or a later duplicate value): not in `name()`.
    pub alias: bool,
    /// Docs.
    pub docs: Vec<String>,
}

/// A derived table, computed at generation time.
#[derive(Clone, Debug)]
pub struct Derive {
    /// Method name (Rust identifier).
    pub method: String,
    /// Target enum.
    pub target: String,
    /// (value, target constant Rust identifier) per source constant that has a rule.
    pub table: Vec<(u64, String)>,
    /// Target constant for everything else.
    pub default: String,
    /// Provenance.
    pub origin: Origin,
}

/// A record.
#[derive(Clone, Debug)]
pub struct Record {
    /// Name.
    pub name: String,
    /// Parameters: Rust identifier and type.
    pub params: Vec<(String, ParamTy)>,
    /// True when the struct borrows from the input (has a lifetime).
    pub borrows: bool,
    /// Record-level `&length`.
    pub length: Option<IExpr>,
    /// True when `self.$sourcedata` is kept (`sourcedata` field).
    pub sourcedata: bool,
    /// Fields and lets in order.
    pub members: Vec<Member>,
    /// Glue lines hung on this type, in declaration order.
    pub glue: Vec<Glue>,
    /// True when this type or anything below it has glue (it gets `walk`).
    pub walks: bool,
    /// Provenance.
    pub origin: Origin,
}

/// A record parameter type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamTy {
    /// `bool`.
    Bool,
    /// `uintN` (passed as `u64`).
    Int,
    /// An enum.
    Enum(String),
}

/// One field or `let`.
#[derive(Clone, Debug)]
pub struct Member {
    /// Spec name.
    pub name: String,
    /// Rust identifier.
    pub rust: String,
    /// `"Record.field"`.
    pub path: String,
    /// What it is.
    pub kind: Kind,
    /// `&length`.
    pub length: Option<IExpr>,
    /// `&restofdata`.
    pub rest: bool,
    /// `&if(e)`.
    pub if_cond: Option<IExpr>,
    /// `&optional`.
    pub optional: bool,
    /// `&check(e)` with the constraint text.
    pub checks: Vec<(IExpr, String)>,
    /// True when `<field>_sourcedata` is kept.
    pub sourcedata: bool,
    /// Provenance.
    pub origin: Origin,
}

/// Field kinds.
#[derive(Clone, Debug)]
pub enum Kind {
    /// `uintN`.
    Int(u8),
    /// An enum (base width).
    Enum(String, u8),
    /// `bytestring`.
    Bytes,
    /// A list; `count` for `T[e]`.
    List {
        /// Element type.
        elem: Elem,
        /// Element arguments.
        args: Vec<IExpr>,
        /// Element count.
        count: Option<IExpr>,
    },
    /// A nested record.
    Record(String, Vec<IExpr>),
    /// A tagged union.
    Case(Case),
    /// A computed value.
    Let(Ty, IExpr),
}

/// A tagged union.
#[derive(Clone, Debug)]
pub struct Case {
    /// Rust enum name.
    pub enum_name: String,
    /// Selector.
    pub selector: IExpr,
    /// Arms except the default.
    pub arms: Vec<Arm>,
    /// The default arm: `None` -> `Unknown { tag, body }`; `Some(None)` -> `Other { tag }` (empty);
    /// `Some(Some(member))` -> a regular variant.
    pub default: Option<Option<Box<Member>>>,
    /// True when any variant borrows.
    pub borrows: bool,
}

/// One arm.
#[derive(Clone, Debug)]
pub struct Arm {
    /// Variant name.
    pub variant: String,
    /// Match patterns.
    pub labels: Vec<Pattern>,
    /// The field, or `None` for `empty`.
    pub field: Option<Box<Member>>,
}

/// A case label.
#[derive(Clone, Debug)]
pub enum Pattern {
    /// `Enum::name` (Rust identifiers).
    Const(String, String),
    /// Integer literal (compared with the selector as `u64`, or as the enum's raw value).
    Int(u64),
    /// `true`/`false`.
    Bool(bool),
}

/// One glue line.
#[derive(Clone, Debug)]
pub struct Glue {
    /// Condition.
    pub cond: Option<IExpr>,
    /// Event variant name.
    pub variant: String,
    /// (parameter Rust name, parameter type, argument), `$conn` excluded.
    pub args: Vec<(String, ZTy, IExpr)>,
    /// Provenance.
    pub origin: Origin,
}

/// A Zeek record.
#[derive(Clone, Debug)]
pub struct ZeekRecord {
    /// Name.
    pub name: String,
    /// Fields.
    pub fields: Vec<ZField>,
    /// True when it borrows.
    pub borrows: bool,
    /// Provenance.
    pub origin: Origin,
}

/// A typed Zeek name.
#[derive(Clone, Debug)]
pub struct ZField {
    /// Spec name (reported to the sink as is).
    pub name: String,
    /// Rust identifier.
    pub rust: String,
    /// Type.
    pub ty: ZTy,
    /// Docs.
    pub docs: Vec<String>,
}

/// An event.
#[derive(Clone, Debug)]
pub struct Event {
    /// Zeek name.
    pub name: String,
    /// Variant name.
    pub variant: String,
    /// Parameters without the connection.
    pub params: Vec<ZField>,
    /// True when the first parameter is `connection`.
    pub has_conn: bool,
    /// Provenance.
    pub origin: Origin,
}

// ---------------------------------------------------------------------------------------------
// Queries the emitter asks of the IR.

impl IExpr {
    /// The direct subexpressions.
    fn children(&self) -> Vec<&IExpr> {
        match &self.kind {
            IKind::Int(_)
            | IKind::Bool(_)
            | IKind::Bytes(_)
            | IKind::Var(..)
            | IKind::Ctx(_)
            | IKind::Conn
            | IKind::SelfRef
            | IKind::EnumConst(..) => Vec::new(),
            IKind::Member(x, _) | IKind::Len(x) | IKind::BeUint(x) | IKind::Unary(_, x) => vec![x],
            IKind::ZeroPad(a, b) | IKind::Binary(_, a, b) => vec![a, b],
            IKind::Slice(a, b, c) | IKind::Cond(a, b, c) => vec![a, b, c],
            IKind::Comprehension {
                body, list, filter, ..
            } => {
                let mut v: Vec<&IExpr> = vec![body, list];
                v.extend(filter.as_deref());
                v
            }
            IKind::RecordLit(_, fields) => fields.iter().map(|(_, e)| e).collect(),
        }
    }

    /// Adds the record members and parameters this expression reads (Rust identifiers;
    /// `x.$sourcedata` reads `x_sourcedata`).
    pub fn collect_vars(&self, out: &mut std::collections::BTreeSet<String>) {
        if let IKind::Var(name, VarKind::Member) = &self.kind {
            out.insert(name.clone());
        }
        for c in self.children() {
            c.collect_vars(out);
        }
    }

    /// True when evaluating it while parsing can fail: checked arithmetic or a slice.
    pub fn can_fail(&self) -> bool {
        let here = match &self.kind {
            IKind::Slice(..) => true,
            IKind::Binary(op, ..) => matches!(
                op,
                BinOp::Add
                    | BinOp::Sub
                    | BinOp::Mul
                    | BinOp::Div
                    | BinOp::Rem
                    | BinOp::Shl
                    | BinOp::Shr
            ),
            _ => false,
        };
        here || self.children().into_iter().any(IExpr::can_fail)
    }
}

impl Member {
    /// Adds every expression evaluated while parsing this member: its bound, condition and
    /// checks, list count and element arguments, record arguments, `let` value, case selector,
    /// and the same of each case arm's field.
    pub fn parse_exprs<'m>(&'m self, out: &mut Vec<&'m IExpr>) {
        out.extend(self.length.iter());
        out.extend(self.if_cond.iter());
        out.extend(self.checks.iter().map(|(e, _)| e));
        match &self.kind {
            Kind::List { args, count, .. } => {
                out.extend(args);
                out.extend(count.iter());
            }
            Kind::Record(_, args) => out.extend(args),
            Kind::Let(_, e) => out.push(e),
            Kind::Case(c) => {
                out.push(&c.selector);
                for f in c.arms.iter().filter_map(|a| a.field.as_deref()) {
                    f.parse_exprs(out);
                }
                if let Some(Some(f)) = &c.default {
                    f.parse_exprs(out);
                }
            }
            Kind::Int(_) | Kind::Enum(..) | Kind::Bytes => {}
        }
    }
}

impl Record {
    /// The members, `let`s and parameters (and `<field>_sourcedata`s) that expressions read
    /// while validating: what `skip` must compute, not merely skip. A `let` counts only when
    /// validation evaluates it (something it needs reads it, or it can fail).
    pub fn parse_uses(&self) -> std::collections::BTreeSet<String> {
        let mut exprs: Vec<&IExpr> = self.length.iter().collect();
        let mut lets = Vec::new();
        for m in &self.members {
            match &m.kind {
                Kind::Let(_, e) => lets.push((m.rust.as_str(), e)),
                _ => m.parse_exprs(&mut exprs),
            }
        }
        let mut out = std::collections::BTreeSet::new();
        for e in exprs {
            e.collect_vars(&mut out);
        }
        // Lets may read lets: repeat until no evaluated let adds a name.
        loop {
            let before = out.len();
            for (name, e) in &lets {
                if out.contains(*name) || e.can_fail() {
                    e.collect_vars(&mut out);
                }
            }
            if out.len() == before {
                break out;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lowering: checked AST -> IR.

use crate::ast;
use crate::check::{self, Env, Scope};
use crate::diag::{Files, Span};
use crate::names::{camel, rust_ident_str};

/// Lowers a checked spec. Never fails: unresolved pieces (impossible after a clean check) become
/// neutral defaults.
pub fn lower<'s>(spec: &'s ast::Spec, env: &mut Env<'s>, files: &Files) -> Spec {
    let origin = |span: Span, docs: &[String]| Origin {
        file: files.name(span.file).to_string(),
        line: files.line(span),
        docs: docs.to_vec(),
    };
    let mut out = Spec::default();
    for item in &spec.items {
        match item {
            ast::Item::Enum(e)
                if env
                    .enums
                    .get(&e.name.name)
                    .is_some_and(|d| std::ptr::eq(*d, e)) =>
            {
                out.enums.push(lower_enum(spec, env, e, &origin));
            }
            ast::Item::Record(r)
                if env
                    .records
                    .get(&r.name.name)
                    .is_some_and(|d| std::ptr::eq(*d, r)) =>
            {
                let rec = lower_record(env, r, files, &origin);
                out.records.push(rec);
            }
            ast::Item::ZeekRecord(z)
                if env
                    .zeek
                    .get(&z.name.name)
                    .is_some_and(|d| std::ptr::eq(*d, z)) =>
            {
                let fields = z.fields.iter().filter_map(|f| zfield(env, f)).collect();
                out.zeek_records.push(ZeekRecord {
                    name: z.name.name.clone(),
                    fields,
                    borrows: false,
                    origin: origin(z.span, &z.docs),
                });
            }
            ast::Item::Context(c) => out
                .context
                .extend(c.fields.iter().filter_map(|f| zfield(env, f))),
            ast::Item::Event(ev)
                if env
                    .events
                    .get(&ev.name.name)
                    .is_some_and(|d| std::ptr::eq(*d, ev)) =>
            {
                let mut params: Vec<ZField> =
                    ev.params.iter().filter_map(|f| zfield(env, f)).collect();
                let has_conn = params.first().is_some_and(|p| p.ty == ZTy::Connection);
                if has_conn {
                    params.remove(0);
                }
                out.events.push(Event {
                    name: ev.name.name.clone(),
                    variant: camel(&ev.name.name),
                    params,
                    has_conn,
                    origin: origin(ev.span, &ev.docs),
                });
            }
            _ => {}
        }
    }
    for item in &spec.items {
        let ast::Item::Glue(g) = item else { continue };
        let rec_def = env.records.get(&g.ty.name).copied();
        let Some(ev) = env.events.get(&g.event.name).copied() else {
            continue;
        };
        let scope = Scope::glue(rec_def);
        let cond = g.cond.as_ref().map(|c| check::retype(env, c, &scope));
        let mut args = Vec::new();
        for (a, p) in g.args.iter().zip(&ev.params) {
            let Some(z) = check::resolve_ztype(env, &p.ty) else {
                continue;
            };
            if z == ZTy::Connection {
                continue;
            }
            args.push((
                rust_ident_str(&p.name.name),
                z,
                check::retype(env, a, &scope),
            ));
        }
        let glue = Glue {
            cond,
            variant: camel(&g.event.name),
            args,
            origin: origin(g.span, &[]),
        };
        if let Some(rec) = out.records.iter_mut().find(|r| r.name == g.ty.name) {
            rec.glue.push(glue);
        }
    }
    fixpoints(&mut out);
    out
}

/// Lowers an enum and its derived tables.
fn lower_enum(
    spec: &ast::Spec,
    env: &Env<'_>,
    e: &ast::EnumDef,
    origin: &impl Fn(Span, &[String]) -> Origin,
) -> Enum {
    let mut seen = std::collections::BTreeSet::new();
    let consts: Vec<EnumConst> = e
        .consts
        .iter()
        .map(|c| {
            let value = c.value.unwrap_or(0);
            let alias = c.attrs.iter().any(|a| a.name.name == "alias") || !seen.insert(value);
            EnumConst {
                name: c.name.name.clone(),
                rust: rust_ident_str(&c.name.name),
                value,
                display: c.label.clone().unwrap_or_else(|| c.name.name.clone()),
                alias,
                docs: c.docs.clone(),
            }
        })
        .collect();
    let mut derives = Vec::new();
    for item in &spec.items {
        let ast::Item::Derive(d) = item else { continue };
        if d.enum_name.name != e.name.name || !env.enums.contains_key(&d.target.name) {
            continue;
        }
        let default = d
            .rules
            .iter()
            .find(|r| r.prefix.is_none())
            .map(|r| rust_ident_str(&r.target.name))
            .unwrap_or_default();
        let mut table = Vec::new();
        for c in consts.iter().filter(|c| !c.alias) {
            // Longest matching prefix wins.
            let best = d
                .rules
                .iter()
                .filter_map(|r| r.prefix.as_ref().map(|p| (p, r)))
                .filter(|(p, _)| c.name.starts_with(p.as_str()))
                .max_by_key(|(p, _)| p.len());
            if let Some((_, r)) = best {
                table.push((c.value, rust_ident_str(&r.target.name)));
            }
        }
        derives.push(Derive {
            method: rust_ident_str(&d.method.name),
            target: d.target.name.clone(),
            table,
            default,
            origin: origin(d.span, &d.docs),
        });
    }
    let width = check::uint_width(&e.base.name).unwrap_or(1);
    Enum {
        name: e.name.name.clone(),
        width,
        consts,
        derives,
        origin: origin(e.span, &e.docs),
    }
}

/// Lowers a Zeek-typed name.
fn zfield(env: &Env<'_>, f: &ast::ZField) -> Option<ZField> {
    Some(ZField {
        name: f.name.name.clone(),
        rust: rust_ident_str(&f.name.name),
        ty: check::resolve_ztype(env, &f.ty)?,
        docs: f.docs.clone(),
    })
}

/// Lowers a record (glue is attached later).
fn lower_record<'s>(
    env: &mut Env<'s>,
    r: &'s ast::RecordDef,
    files: &Files,
    origin: &impl Fn(Span, &[String]) -> Origin,
) -> Record {
    let params = r
        .params
        .iter()
        .map(|p| {
            let ty = match check::decl_ty(env, &p.ty.name) {
                Some(Ty::Bool) => ParamTy::Bool,
                Some(Ty::Enum(e)) => ParamTy::Enum(e),
                _ => ParamTy::Int,
            };
            (rust_ident_str(&p.name.name), ty)
        })
        .collect();
    let length = r
        .attrs
        .iter()
        .find(|a| a.name.name == "length")
        .and_then(|a| a.value.as_ref())
        .map(|v| check::retype(env, v, &Scope::parse(r, 0)));
    let sourcedata = env.sources.contains(&(r.name.name.clone(), String::new()));
    let mut members = Vec::new();
    for (i, m) in r.members.iter().enumerate() {
        let scope = Scope::parse(r, i);
        match m {
            ast::Member::Let(l) => {
                let ty = check::decl_ty(env, &l.ty.name).unwrap_or(Ty::Int(8));
                let e = check::retype(env, &l.expr, &scope);
                members.push(Member {
                    name: l.name.name.clone(),
                    rust: rust_ident_str(&l.name.name),
                    path: format!("{}.{}", r.name.name, l.name.name),
                    kind: Kind::Let(ty, e),
                    length: None,
                    rest: false,
                    if_cond: None,
                    optional: false,
                    checks: Vec::new(),
                    sourcedata: false,
                    origin: origin(l.span, &l.docs),
                });
            }
            ast::Member::Field(f) => {
                let path = format!("{}.{}", r.name.name, f.name.name);
                let m = lower_field(env, r, f, &scope, i, path, files, origin);
                members.push(m);
            }
        }
    }
    Record {
        name: r.name.name.clone(),
        params,
        borrows: false,
        length,
        sourcedata,
        members,
        glue: Vec::new(),
        walks: false,
        origin: origin(r.span, &r.docs),
    }
}

/// Lowers one field (a record field or a case arm's field).
#[allow(clippy::too_many_arguments)]
fn lower_field<'s>(
    env: &mut Env<'s>,
    r: &'s ast::RecordDef,
    f: &'s ast::Field,
    scope: &Scope<'s>,
    index: usize,
    path: String,
    files: &Files,
    origin: &impl Fn(Span, &[String]) -> Origin,
) -> Member {
    let attr = |n: &str| f.attrs.iter().find(|a| a.name.name == n);
    let length = attr("length")
        .and_then(|a| a.value.as_ref())
        .map(|v| check::retype(env, v, scope));
    let if_cond = attr("if")
        .and_then(|a| a.value.as_ref())
        .map(|v| check::retype(env, v, scope));
    let check_scope = Scope::parse(r, index.saturating_add(1));
    let mut checks = Vec::new();
    for a in f.attrs.iter().filter(|a| a.name.name == "check") {
        if let Some(v) = &a.value {
            let text = files
                .text(v.span.file)
                .get(v.span.start..v.span.end)
                .unwrap_or("")
                .to_string();
            checks.push((check::retype(env, v, &check_scope), text));
        }
    }
    let kind = match &f.ty {
        ast::FieldType::Named(n) => {
            let name = n.name.name.as_str();
            if let Some(w) = check::uint_width(name) {
                Kind::Int(w)
            } else if name == "bytestring" {
                Kind::Bytes
            } else if let Some(e) = env.enums.get(name) {
                Kind::Enum(name.into(), check::uint_width(&e.base.name).unwrap_or(1))
            } else {
                let args = n
                    .args
                    .iter()
                    .map(|a| check::retype(env, a, scope))
                    .collect();
                Kind::Record(name.into(), args)
            }
        }
        ast::FieldType::Array { elem, count, .. } => {
            let el = check::elem_of(env, &elem.name.name).unwrap_or(Elem::Int(1));
            let args = elem
                .args
                .iter()
                .map(|a| check::retype(env, a, scope))
                .collect();
            let count = count.as_ref().map(|c| check::retype(env, c, scope));
            Kind::List {
                elem: el,
                args,
                count,
            }
        }
        ast::FieldType::Case(c) => {
            let selector = check::retype(env, &c.selector, scope);
            let mut arms = Vec::new();
            let mut default = None;
            for (ai, arm) in c.arms.iter().enumerate() {
                let field = arm.field.as_ref().map(|af| {
                    Box::new(lower_field(
                        env,
                        r,
                        af,
                        scope,
                        usize::MAX,
                        format!("{path}.{}", af.name.name),
                        files,
                        origin,
                    ))
                });
                if arm.is_default {
                    let is_unknown = arm.field.as_ref().is_some_and(|af| {
                        matches!(&af.ty, ast::FieldType::Named(n) if n.name.name == "bytestring")
                            && af.attrs.len() == 1
                            && af.attrs.iter().all(|a| a.name.name == "restofdata")
                    });
                    default = Some(if is_unknown { None } else { Some(field) });
                    continue;
                }
                let labels: Vec<Pattern> = arm
                    .labels
                    .iter()
                    .map(|l| match l {
                        ast::Label::Const(e, k) => {
                            Pattern::Const(e.name.clone(), rust_ident_str(&k.name))
                        }
                        ast::Label::Int(v, _) => Pattern::Int(v.unwrap_or(0)),
                        ast::Label::Bool(b, _) => Pattern::Bool(*b),
                    })
                    .collect();
                let variant = match (&arm.field, arm.labels.first()) {
                    (Some(af), _) => camel(&af.name.name),
                    (None, Some(ast::Label::Const(_, k))) => camel(&k.name),
                    _ => format!("Empty{ai}"),
                };
                arms.push(Arm {
                    variant,
                    labels,
                    field,
                });
            }
            let default = match default {
                None | Some(None) => None,
                Some(Some(d)) => Some(d),
            };
            Kind::Case(Case {
                enum_name: format!("{}{}", r.name.name, camel(&f.name.name)),
                selector,
                arms,
                default,
                borrows: false,
            })
        }
    };
    Member {
        name: f.name.name.clone(),
        rust: rust_ident_str(&f.name.name),
        path,
        kind,
        length,
        rest: attr("restofdata").is_some(),
        if_cond,
        optional: attr("optional").is_some(),
        checks,
        sourcedata: env
            .sources
            .contains(&(r.name.name.clone(), f.name.name.clone())),
        origin: origin(f.span, &f.docs),
    }
}

/// Computes `borrows` (records, cases, Zeek records) and `walks` to a fixpoint.
fn fixpoints(spec: &mut Spec) {
    loop {
        let borrowing: std::collections::BTreeSet<String> = spec
            .records
            .iter()
            .filter(|r| r.borrows)
            .map(|r| r.name.clone())
            .collect();
        let walking: std::collections::BTreeSet<String> = spec
            .records
            .iter()
            .filter(|r| r.walks)
            .map(|r| r.name.clone())
            .collect();
        let mut changed = false;
        for r in &mut spec.records {
            for m in &mut r.members {
                set_case_borrows(m, &borrowing);
            }
            let b = r.sourcedata || r.members.iter().any(|m| member_borrows(m, &borrowing));
            let w = !r.glue.is_empty() || r.members.iter().any(|m| member_walks(m, &walking));
            changed |= b != r.borrows || w != r.walks;
            r.borrows = b;
            r.walks = w;
        }
        if !changed {
            break;
        }
    }
    loop {
        let borrowing: std::collections::BTreeSet<String> = spec
            .zeek_records
            .iter()
            .filter(|z| z.borrows)
            .map(|z| z.name.clone())
            .collect();
        let mut changed = false;
        for z in &mut spec.zeek_records {
            let b = z.fields.iter().any(|f| zty_borrows(&f.ty, &borrowing));
            changed |= b != z.borrows;
            z.borrows = b;
        }
        if !changed {
            break;
        }
    }
}

/// Whether a Zeek type's Rust form borrows.
pub fn zty_borrows(t: &ZTy, borrowing: &std::collections::BTreeSet<String>) -> bool {
    match t {
        ZTy::String | ZTy::IndexVec | ZTy::StringVec | ZTy::Vector(_) => true,
        ZTy::Record(r) => borrowing.contains(r),
        _ => false,
    }
}

fn set_case_borrows(m: &mut Member, borrowing: &std::collections::BTreeSet<String>) {
    if let Kind::Case(c) = &mut m.kind {
        for a in &mut c.arms {
            if let Some(f) = &mut a.field {
                set_case_borrows(f, borrowing);
            }
        }
        if let Some(Some(f)) = &mut c.default {
            set_case_borrows(f, borrowing);
        }
        c.borrows = c.default.is_none()
            || c.arms
                .iter()
                .filter_map(|a| a.field.as_deref())
                .chain(c.default.iter().flatten().map(|b| &**b))
                .any(|f| member_borrows(f, borrowing));
    }
}

fn member_borrows(m: &Member, borrowing: &std::collections::BTreeSet<String>) -> bool {
    m.sourcedata
        || match &m.kind {
            Kind::Bytes | Kind::List { .. } => true,
            Kind::Record(r, _) => borrowing.contains(r),
            Kind::Case(c) => c.borrows,
            _ => false,
        }
}

fn member_walks(m: &Member, walking: &std::collections::BTreeSet<String>) -> bool {
    match &m.kind {
        Kind::Record(r, _)
        | Kind::List {
            elem: Elem::Record(r),
            ..
        } => walking.contains(r),
        Kind::Case(c) => c
            .arms
            .iter()
            .filter_map(|a| a.field.as_deref())
            .chain(c.default.iter().flatten().map(|b| &**b))
            .any(|f| member_walks(f, walking)),
        _ => false,
    }
}
