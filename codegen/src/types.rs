//! The types shared by the stages: operators, resolved expression and Zeek types, and typed
//! expressions. A leaf module (it imports no other module of the compiler), so the AST, the
//! checker, the IR and the emitter can all name these without importing one another.
//!
//! In: nothing. Out: plain data ([`IExpr`] is what the checker produces for every expression and
//! what the IR carries to the emitter) and a few queries on it.

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `!`
    Not,
    /// `-`
    Neg,
}

/// Binary operators, loosest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `||`
    Or,
    /// `&&`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
    /// `&`
    BitAnd,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
}

impl BinOp {
    /// Binding strength; higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 3,
            BinOp::BitOr => 4,
            BinOp::BitXor => 5,
            BinOp::BitAnd => 6,
            BinOp::Shl | BinOp::Shr => 7,
            BinOp::Add | BinOp::Sub => 8,
            BinOp::Mul | BinOp::Div | BinOp::Rem => 9,
        }
    }

    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::BitAnd => "&",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
}

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
    /// `varint`: a QUIC variable-length integer (RFC 9000 §16), 1, 2, 4 or 8 bytes.
    VarInt,
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

/// A readable Zeek type, as the spec writes it.
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
