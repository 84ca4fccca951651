//! The intermediate representation's data: a resolved, typed spec ready for emission.
//!
//! In: nothing (plain data built by `lower.rs`). Out: enums, records (members with resolved
//! kinds, Rust identifiers, error paths, typed expressions), Zeek records, the context, events
//! with their glue, in spec order, plus the queries the emitter asks of them. `{:#?}` of [`Spec`]
//! is the `pacc dump-ir` text. The shared expression and operator types are re-exported from
//! `types.rs`, so the emitter needs no module but this one.

pub use crate::types::{show_z, BinOp, Elem, IExpr, IKind, Ty, UnOp, VarKind, ZTy};

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
    /// `varint` (QUIC's variable-length integer; its value is a `u64`).
    VarInt,
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
            Kind::Int(_) | Kind::VarInt | Kind::Enum(..) | Kind::Bytes => {}
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

impl Spec {
    /// The encoded size of every record that has one: a record whose every field has a fixed
    /// size (`uintN`, an enum, a `bytestring &length = <literal>`, a nested record with a fixed
    /// size, a list of fixed-size elements with a literal count or `&length`) and that accepts
    /// any bytes of that size (no `&if`, `&optional`, `&restofdata`, `&check`, case, record
    /// `&length`, nor an argument or `let` that can fail). Lists of such records are validated
    /// by their byte length alone. Sizes of zero are left out: an element must consume input.
    pub fn fixed_sizes(&self) -> std::collections::BTreeMap<String, u64> {
        // Records are sized once every record they embed is; one that embeds itself through a
        // list never is. Each round sizes at least one more record or ends.
        let mut known = std::collections::BTreeMap::new();
        loop {
            let before = known.len();
            for r in &self.records {
                if known.contains_key(&r.name) || r.length.is_some() {
                    continue;
                }
                let size = r.members.iter().try_fold(0u64, |total, m| {
                    total.checked_add(self.member_size(m, &known)?)
                });
                if let Some(size) = size.filter(|n| *n > 0) {
                    known.insert(r.name.clone(), size);
                }
            }
            if known.len() == before {
                break known;
            }
        }
    }

    /// The bytes one member always takes (0 for a `let` that cannot fail), given the sizes of
    /// the records known so far; `None` when it varies or some input of that size is rejected.
    fn member_size(
        &self,
        m: &Member,
        known: &std::collections::BTreeMap<String, u64>,
    ) -> Option<u64> {
        if let Kind::Let(_, e) = &m.kind {
            return (!e.can_fail()).then_some(0);
        }
        if m.if_cond.is_some() || m.optional || m.rest || !m.checks.is_empty() {
            return None;
        }
        let length = match &m.length {
            None => None,
            Some(IExpr {
                kind: IKind::Int(n),
                ..
            }) => Some(*n),
            Some(_) => return None,
        };
        match (&m.kind, length) {
            (Kind::Int(w) | Kind::Enum(_, w), None) => Some(u64::from(*w)),
            (Kind::Bytes, Some(n)) => Some(n),
            (Kind::Record(r, args), None) if !args.iter().any(IExpr::can_fail) => {
                known.get(r).copied()
            }
            (Kind::List { elem, args, count }, length) if !args.iter().any(IExpr::can_fail) => {
                let size = match elem {
                    Elem::Int(w) => u64::from(*w),
                    Elem::VarInt => return None,
                    Elem::Enum(e) => u64::from(self.enums.iter().find(|x| x.name == *e)?.width),
                    Elem::Record(r) => *known.get(r)?,
                };
                let counted = match count {
                    None => None,
                    Some(IExpr {
                        kind: IKind::Int(c),
                        ..
                    }) => Some(c.checked_mul(size)?),
                    Some(_) => return None,
                };
                match (counted, length) {
                    (Some(n), None) => Some(n),
                    (None, Some(n)) if size > 0 && n % size == 0 => Some(n),
                    (Some(a), Some(b)) if a == b => Some(a),
                    _ => None,
                }
            }
            _ => None,
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
