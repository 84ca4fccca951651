//! The spanned syntax tree of a spec.
//!
//! In: nothing (plain data built by `parse.rs`). Out: every item, field, attribute and expression
//! with the byte span it came from, so the checker can point a caret at the exact token.

use crate::diag::Span;

/// A name and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    /// The name as written.
    pub name: String,
    /// Where.
    pub span: Span,
}

/// `##` doc lines attached to an item, without the `##` marker.
pub type Docs = Vec<String>;

/// All files of a spec, in load order.
#[derive(Clone, Debug, Default)]
pub struct Spec {
    /// Items of all files, file by file in sorted path order.
    pub items: Vec<Item>,
}

/// One top-level declaration.
#[derive(Clone, Debug)]
pub enum Item {
    /// `enum Name : uintN { ... }`
    Enum(EnumDef),
    /// `derive Enum.method : Target by prefix { ... }`
    Derive(DeriveDef),
    /// `type Name(params) = record { ... } attrs;`
    Record(RecordDef),
    /// `zeek record Name { ... }`
    ZeekRecord(ZeekRecordDef),
    /// `context { ... }`
    Context(ContextDef),
    /// `event name(params);`
    Event(EventDef),
    /// `on Type [if cond] -> event name(args);`
    Glue(GlueDef),
}

/// An open enum.
#[derive(Clone, Debug)]
pub struct EnumDef {
    /// Its name.
    pub name: Ident,
    /// Its base type (`uint8`..`uint32`).
    pub base: Ident,
    /// Its constants in order.
    pub consts: Vec<EnumConst>,
    /// Doc lines.
    pub docs: Docs,
    /// The `enum` keyword through the closing brace.
    pub span: Span,
}

/// One enum constant.
#[derive(Clone, Debug)]
pub struct EnumConst {
    /// Its name.
    pub name: Ident,
    /// Its value; `None` when the literal does not fit in `u64` (reported by the checker).
    pub value: Option<u64>,
    /// Where the value was written.
    pub value_span: Span,
    /// The optional `"label"` that `name()` prints instead of the identifier.
    pub label: Option<String>,
    /// Attributes (`&alias`).
    pub attrs: Vec<Attr>,
    /// Doc lines.
    pub docs: Docs,
}

/// A derived table over an enum's constant names.
#[derive(Clone, Debug)]
pub struct DeriveDef {
    /// The enum the method is added to.
    pub enum_name: Ident,
    /// The method name.
    pub method: Ident,
    /// The enum the method returns.
    pub target: Ident,
    /// The matching mode (only `prefix`).
    pub mode: Ident,
    /// `"prefix" -> CONST` rules; `None` is the `default` rule.
    pub rules: Vec<DeriveRule>,
    /// Doc lines.
    pub docs: Docs,
    /// The whole item.
    pub span: Span,
}

/// One rule of a derived table.
#[derive(Clone, Debug)]
pub struct DeriveRule {
    /// The name prefix, or `None` for `default`.
    pub prefix: Option<String>,
    /// The target constant.
    pub target: Ident,
    /// The whole rule.
    pub span: Span,
}

/// A record type.
#[derive(Clone, Debug)]
pub struct RecordDef {
    /// Its name.
    pub name: Ident,
    /// Its parameters.
    pub params: Vec<Param>,
    /// Fields and `let`s in order.
    pub members: Vec<Member>,
    /// Record attributes.
    pub attrs: Vec<Attr>,
    /// Doc lines.
    pub docs: Docs,
    /// The whole item.
    pub span: Span,
}

/// A record parameter.
#[derive(Clone, Debug)]
pub struct Param {
    /// Its name.
    pub name: Ident,
    /// Its type name.
    pub ty: Ident,
}

/// A record member.
#[derive(Clone, Debug)]
pub enum Member {
    /// A parsed field.
    Field(Field),
    /// A computed `let` value.
    Let(LetDef),
}

/// A parsed field (also the single field of a `case` arm).
#[derive(Clone, Debug)]
pub struct Field {
    /// Its name.
    pub name: Ident,
    /// Its type.
    pub ty: FieldType,
    /// Its attributes.
    pub attrs: Vec<Attr>,
    /// Doc lines.
    pub docs: Docs,
    /// The whole declaration.
    pub span: Span,
}

/// A computed value.
#[derive(Clone, Debug)]
pub struct LetDef {
    /// Its name.
    pub name: Ident,
    /// Its type name.
    pub ty: Ident,
    /// Its value.
    pub expr: Expr,
    /// Doc lines.
    pub docs: Docs,
    /// The whole declaration.
    pub span: Span,
}

/// The type of a field.
#[derive(Clone, Debug)]
pub enum FieldType {
    /// `Name` or `Name(args)`.
    Named(NamedType),
    /// `Name[]` or `Name[count]`.
    Array {
        /// The element type.
        elem: NamedType,
        /// The element count, when given.
        count: Option<Expr>,
        /// The whole array type.
        span: Span,
    },
    /// `case e of { ... }`.
    Case(CaseType),
}

/// A type reference with arguments.
#[derive(Clone, Debug)]
pub struct NamedType {
    /// The type name.
    pub name: Ident,
    /// Arguments for a parameterized record.
    pub args: Vec<Expr>,
}

/// A tagged union.
#[derive(Clone, Debug)]
pub struct CaseType {
    /// What selects the arm.
    pub selector: Expr,
    /// The arms in order.
    pub arms: Vec<CaseArm>,
    /// `case` through the closing brace.
    pub span: Span,
}

/// One arm of a `case`.
#[derive(Clone, Debug)]
pub struct CaseArm {
    /// Its labels; empty for `default`.
    pub labels: Vec<Label>,
    /// True for the `default` arm.
    pub is_default: bool,
    /// The arm's field, or `None` for `empty`.
    pub field: Option<Field>,
    /// The name of a `name : empty` arm (names its variant).
    pub empty_name: Option<Ident>,
    /// The whole arm.
    pub span: Span,
}

/// A `case` label.
#[derive(Clone, Debug)]
pub enum Label {
    /// `Enum::name`.
    Const(Ident, Ident),
    /// An integer literal.
    Int(Option<u64>, Span),
    /// `true` / `false`.
    Bool(bool, Span),
}

/// An attribute: `&name`, `&name = e`, `&name(e)`, recognised once by the parser.
#[derive(Clone, Debug)]
pub struct Attr {
    /// Which attribute, with its value where it takes one.
    pub kind: AttrKind,
    /// Its name as written, without `&` (for messages and carets).
    pub name: Ident,
    /// The whole attribute.
    pub span: Span,
}

/// The attributes of the language. A value given to an attribute that takes none is dropped;
/// a missing value of one that needs it is `None` (the checker reports it).
#[derive(Clone, Debug)]
pub enum AttrKind {
    /// `&length = e` (field or record).
    Length(Option<Expr>),
    /// `&restofdata` (field).
    RestOfData,
    /// `&check(e)` (field).
    Check(Option<Expr>),
    /// `&if(e)` (field).
    If(Option<Expr>),
    /// `&optional` (field).
    Optional,
    /// `&exportsourcedata` (field or record).
    ExportSourceData,
    /// `&alias` (enum constant).
    Alias,
    /// Any other name (an error wherever it appears).
    Unknown,
}

impl AttrKind {
    /// The kind for an attribute name, with its value.
    pub fn new(name: &str, value: Option<Expr>) -> Self {
        match AttrName::ALL.iter().find(|n| n.as_str() == name) {
            Some(AttrName::Length) => Self::Length(value),
            Some(AttrName::RestOfData) => Self::RestOfData,
            Some(AttrName::Check) => Self::Check(value),
            Some(AttrName::If) => Self::If(value),
            Some(AttrName::Optional) => Self::Optional,
            Some(AttrName::ExportSourceData) => Self::ExportSourceData,
            Some(AttrName::Alias) => Self::Alias,
            None => Self::Unknown,
        }
    }

    /// Which attribute it is, without its value (`None` for an unknown name).
    pub fn name(&self) -> Option<AttrName> {
        Some(match self {
            Self::Length(_) => AttrName::Length,
            Self::RestOfData => AttrName::RestOfData,
            Self::Check(_) => AttrName::Check,
            Self::If(_) => AttrName::If,
            Self::Optional => AttrName::Optional,
            Self::ExportSourceData => AttrName::ExportSourceData,
            Self::Alias => AttrName::Alias,
            Self::Unknown => return None,
        })
    }
}

/// The names of the language's attributes: the one place their spelling is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrName {
    /// `&length`.
    Length,
    /// `&restofdata`.
    RestOfData,
    /// `&check`.
    Check,
    /// `&if`.
    If,
    /// `&optional`.
    Optional,
    /// `&exportsourcedata`.
    ExportSourceData,
    /// `&alias`.
    Alias,
}

impl AttrName {
    /// Every attribute.
    pub const ALL: [AttrName; 7] = [
        AttrName::Length,
        AttrName::RestOfData,
        AttrName::Check,
        AttrName::If,
        AttrName::Optional,
        AttrName::ExportSourceData,
        AttrName::Alias,
    ];

    /// The name as written after `&`.
    pub fn as_str(self) -> &'static str {
        match self {
            AttrName::Length => "length",
            AttrName::RestOfData => "restofdata",
            AttrName::Check => "check",
            AttrName::If => "if",
            AttrName::Optional => "optional",
            AttrName::ExportSourceData => "exportsourcedata",
            AttrName::Alias => "alias",
        }
    }
}

/// Identifies one expression of the spec: given by the parser, unique across all files, so the
/// checker can record each expression's type once and lowering can look it up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ExprId(pub u32);

/// An expression with its span.
#[derive(Clone, Debug)]
pub struct Expr {
    /// Its identity.
    pub id: ExprId,
    /// What it is.
    pub kind: ExprKind,
    /// Where it was written.
    pub span: Span,
}

pub use crate::types::{BinOp, UnOp};

/// Expression forms.
#[derive(Clone, Debug)]
pub enum ExprKind {
    /// Integer literal (`None` when it does not fit in `u64`).
    Int(Option<u64>),
    /// String literal bytes.
    Str(Vec<u8>),
    /// `true` / `false`.
    Bool(bool),
    /// A field, parameter, `let` or loop variable.
    Name(String),
    /// `$name`.
    Ctx(String),
    /// `self`.
    SelfRef,
    /// `Enum::name`.
    EnumConst(Ident, Ident),
    /// `x.field`.
    Member(Box<Expr>, Ident),
    /// `x.$sourcedata`.
    SourceData(Box<Expr>),
    /// `x[a..b]`.
    Slice(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `f(args)`.
    Call(Ident, Vec<Expr>),
    /// `!x`, `-x`.
    Unary(UnOp, Box<Expr>),
    /// `a op b`.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `c ? a : b`.
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `[body for var in list if filter]`.
    Comprehension {
        /// The projected value.
        body: Box<Expr>,
        /// The loop variable.
        var: Ident,
        /// The list iterated.
        list: Box<Expr>,
        /// The optional filter.
        filter: Option<Box<Expr>>,
    },
    /// `Rec { field: e, ... }`.
    RecordLit(Ident, Vec<(Ident, Expr)>),
}

/// A Zeek record type used by event parameters.
#[derive(Clone, Debug)]
pub struct ZeekRecordDef {
    /// Its name.
    pub name: Ident,
    /// Its fields.
    pub fields: Vec<ZField>,
    /// Doc lines.
    pub docs: Docs,
    /// The whole item.
    pub span: Span,
}

/// A typed name in a Zeek record, the context, or an event's parameters.
#[derive(Clone, Debug)]
pub struct ZField {
    /// Its name.
    pub name: Ident,
    /// Its type.
    pub ty: ZType,
    /// Doc lines.
    pub docs: Docs,
}

/// A Zeek type.
#[derive(Clone, Debug)]
pub enum ZType {
    /// `count`, `string`, a Zeek record name, ...
    Named(Ident),
    /// `vector of T`.
    Vector(Box<ZType>, Span),
}

/// The context block.
#[derive(Clone, Debug)]
pub struct ContextDef {
    /// The values the host supplies.
    pub fields: Vec<ZField>,
    /// The whole item.
    pub span: Span,
}

/// An event declaration.
#[derive(Clone, Debug)]
pub struct EventDef {
    /// Its Zeek name.
    pub name: Ident,
    /// Its parameters.
    pub params: Vec<ZField>,
    /// Doc lines (parameter docs already split off into the parameters).
    pub docs: Docs,
    /// The whole item.
    pub span: Span,
}

/// A glue line.
#[derive(Clone, Debug)]
pub struct GlueDef {
    /// The record type it hangs on.
    pub ty: Ident,
    /// The optional condition.
    pub cond: Option<Expr>,
    /// The event raised.
    pub event: Ident,
    /// Its arguments.
    pub args: Vec<Expr>,
    /// The argument list's parentheses.
    pub args_span: Span,
    /// The whole item.
    pub span: Span,
}
