//! Resolution and duplicates: the symbol tables, names defined twice, attribute names, and the
//! lookups that turn a type name into a type.

use super::{Checker, Env};
use crate::ast::*;
use crate::diag::Span;
use crate::types::{Elem, Ty, ZTy};
use std::collections::BTreeMap;

/// The secondary label under the first of two definitions.
const FIRST: &str = "first defined here";

/// Help for a type name defined twice.
const NAMESPACE_HELP: &str =
    "types, enums and zeek records share one namespace across all spec files; rename one";

/// The widths of `uintN` types, in bytes.
const UINT_TYPES: &[(&str, u8)] = &[
    ("uint8", 1),
    ("uint16", 2),
    ("uint24", 3),
    ("uint32", 4),
    ("uint48", 6),
    ("uint64", 8),
];

/// The Zeek types by name (records aside).
const ZEEK_TYPES: &[&str] = &[
    "connection",
    "count",
    "int",
    "double",
    "bool",
    "string",
    "time",
    "index_vec",
    "string_vec",
];

/// Where an attribute is written; each place accepts its own set.
#[derive(Clone, Copy)]
pub(super) enum AttrSite {
    /// A record field or a case arm's field.
    Field,
    /// A record (after its closing brace).
    Record,
    /// An enum constant.
    Const,
}

impl AttrSite {
    /// The attributes this place accepts, and what the place is (for messages).
    fn accepts(self) -> (&'static [AttrName], &'static str) {
        use AttrName as N;
        match self {
            AttrSite::Field => (
                &[
                    N::Length,
                    N::RestOfData,
                    N::Check,
                    N::If,
                    N::Optional,
                    N::ExportSourceData,
                ],
                "a field",
            ),
            AttrSite::Record => (&[N::Length, N::ExportSourceData], "a record"),
            AttrSite::Const => (&[N::Alias], "an enum constant"),
        }
    }
}

/// The width in bytes of a `uintN` name.
pub fn uint_width(name: &str) -> Option<u8> {
    UINT_TYPES.iter().find(|(n, _)| *n == name).map(|(_, w)| *w)
}

/// The name of QUIC's variable-length integer type (RFC 9000 §16): 1, 2, 4 or 8 bytes on the
/// wire, a `u64` everywhere else.
pub const VARINT: &str = "varint";

/// True for the built-in integer types: `uintN` and `varint`.
pub fn is_int_type(name: &str) -> bool {
    uint_width(name).is_some() || name == VARINT
}

impl<'s> Checker<'s, '_> {
    /// Builds the symbol tables; reports a type, event or context name defined twice, pointing
    /// at both definitions (the first one wins).
    ///
    /// ```pac
    /// enum Version : uint16 { TLS12 = 0x0303 }
    /// type Version = record { v: uint16; };
    /// # error: duplicate type name `Version`
    /// ```
    pub(super) fn collect(&mut self, spec: &'s Spec) {
        let mut types: BTreeMap<String, Span> = BTreeMap::new();
        for item in &spec.items {
            let name = match item {
                Item::Enum(e) => &e.name,
                Item::Record(r) => &r.name,
                Item::ZeekRecord(z) => &z.name,
                Item::Event(ev) => {
                    if let Some(first) = define(&mut self.env.events, &ev.name, ev, |e| e.name.span)
                    {
                        self.duplicate(
                            "event",
                            &ev.name,
                            first,
                            "each event has exactly one declaration; remove or rename this one",
                        );
                    }
                    continue;
                }
                Item::Context(ctx) => {
                    for f in &ctx.fields {
                        if let Some(first) =
                            define(&mut self.env.context, &f.name, f, |f| f.name.span)
                        {
                            self.duplicate(
                                "context value",
                                &f.name,
                                first,
                                "remove or rename one of them",
                            );
                        }
                    }
                    continue;
                }
                _ => continue,
            };
            let builtin =
                is_int_type(&name.name) || ["bytestring", "bool"].contains(&name.name.as_str());
            if builtin {
                self.diags.error(
                    name.span,
                    format!("duplicate type name `{}`", name.name),
                    "this is a built-in type",
                    NAMESPACE_HELP,
                );
                continue;
            }
            if let Some(first) = types.get(&name.name) {
                self.diags
                    .error(
                        name.span,
                        format!("duplicate type name `{}`", name.name),
                        "defined again here",
                        NAMESPACE_HELP,
                    )
                    .also(*first, FIRST);
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

    /// Reports a name that occurs twice in one list (fields, parameters, constants, arms),
    /// pointing at both.
    ///
    /// ```pac
    /// type Hello = record { version: uint16; version: uint8; };
    /// # error: duplicate field `version`
    /// ```
    pub(super) fn dup_names<'a>(&mut self, names: impl Iterator<Item = &'a Ident>, what: &str) {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for n in names {
            match seen.get(n.name.as_str()) {
                Some(first) => {
                    let help = format!("each {what} name must be unique here; rename one");
                    self.duplicate(what, n, *first, help);
                }
                None => {
                    seen.insert(&n.name, n.span);
                }
            }
        }
    }

    /// Reports `name` declared again, with a secondary label at its first declaration.
    fn duplicate(&mut self, what: &str, name: &Ident, first: Span, help: impl Into<String>) {
        self.diags
            .error(
                name.span,
                format!("duplicate {what} `{}`", name.name),
                "declared again here",
                help,
            )
            .also(first, FIRST);
    }

    /// Reports a name that is not an enum, suggesting the closest enum.
    pub(super) fn unknown_enum(&mut self, name: &Ident, help: &str) {
        self.diags
            .error(
                name.span,
                format!("unknown enum `{}`", name.name),
                "no enum of this name",
                help,
            )
            .help(did_you_mean(
                &name.name,
                self.env.enums.keys().map(String::as_str),
            ));
    }

    /// Reports `en::k` where `k` is not a constant of `def` (the enum `en`), suggesting the
    /// closest constant.
    pub(super) fn unknown_const(
        &mut self,
        en: &str,
        k: &Ident,
        def: &EnumDef,
        label: &str,
        help: String,
    ) {
        self.diags
            .error(
                k.span,
                format!("unknown enum constant `{en}::{}`", k.name),
                label,
                help,
            )
            .help(did_you_mean(
                &k.name,
                def.consts.iter().map(|c| c.name.name.as_str()),
            ));
    }

    /// Reports an attribute that is unknown, or not one of those the item accepts.
    ///
    /// ```pac
    /// type T = record { n: uint8; body: bytestring &lenght = n; };
    /// # error: unknown attribute `&lenght`
    /// ```
    pub(super) fn attrs_known(&mut self, attrs: &[Attr], site: AttrSite) {
        let (known, what) = site.accepts();
        for a in attrs {
            if !a.kind.name().is_some_and(|n| known.contains(&n)) {
                self.diags
                    .error(
                        a.name.span,
                        format!("unknown attribute `&{}`", a.name.name),
                        format!("not an attribute of {what}"),
                        format!(
                            "{what} attributes are: {}",
                            known
                                .iter()
                                .map(|k| format!("&{}", k.as_str()))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                    .help(
                        closest(&a.name.name, known.iter().map(|k| k.as_str()))
                            .map(|k| format!("did you mean `&{k}`?")),
                    );
            }
        }
    }

    /// Reports a field type that names no type.
    ///
    /// ```pac
    /// type T = record { x: Widget; };
    /// # error: unknown type `Widget`
    /// ```
    pub(super) fn unknown_type(&mut self, name: &Ident) {
        self.diags
            .error(
                name.span,
                format!("unknown type `{}`", name.name),
                "no type of this name",
                "declare it with `type`, `enum`, or use uint8..uint64 / varint / bytestring",
            )
            .help(did_you_mean_type(&self.env, &name.name));
    }

    /// Resolves a Zeek type, reporting unknown names and a `connection` that is not an event's
    /// first parameter.
    ///
    /// ```pac
    /// event ssl_x(c: connection, n: counter);
    /// # error: unknown type `counter`
    /// ```
    pub(super) fn ztype(&mut self, t: &ZType, conn_ok: bool) -> Option<ZTy> {
        let r = self.ztype_quiet(t);
        if let ZType::Named(n) = t {
            if r.is_none() {
                self.diags.error(n.span, format!("unknown type `{}`", n.name), "not a Zeek type", "use count, int, double, bool, string, time, index_vec, string_vec, a zeek record or `vector of T`").help(did_you_mean(&n.name, ZEEK_TYPES.iter().copied().chain(self.env.zeek.keys().map(String::as_str))));
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
    pub(super) fn ztype_quiet(&self, t: &ZType) -> Option<ZTy> {
        resolve_ztype(&self.env, t)
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

/// The type of a record member as expressions see it.
pub(super) fn member_ty(env: &Env<'_>, m: &Member) -> Ty {
    match m {
        Member::Let(l) => let_ty(env, &l.ty.name).unwrap_or(Ty::Unknown),
        Member::Field(f) => {
            let base = field_type_ty(env, &f.ty);
            if f.attrs
                .iter()
                .any(|a| matches!(a.kind, AttrKind::If(_) | AttrKind::Optional))
            {
                Ty::Opt(Box::new(base))
            } else {
                base
            }
        }
    }
}

/// The type of a field type.
pub(super) fn field_type_ty(env: &Env<'_>, ft: &FieldType) -> Ty {
    match ft {
        FieldType::Named(n) => {
            let name = n.name.name.as_str();
            if let Some(w) = uint_width(name) {
                Ty::Int(w)
            } else if name == VARINT {
                Ty::Int(8)
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
    } else if name == VARINT {
        Some(Elem::VarInt)
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
    } else if is_int_type(name) {
        Some(Ty::Int(8))
    } else if env.enums.contains_key(name) {
        Some(Ty::Enum(name.into()))
    } else {
        None
    }
}

/// The type of a `let` declaration: what a parameter can be, or `bytestring` (a slice of
/// bytes already parsed, e.g. `data[0..len(data) - 16]`).
pub fn let_ty(env: &Env<'_>, name: &str) -> Option<Ty> {
    if name == "bytestring" {
        Some(Ty::Bytes)
    } else {
        decl_ty(env, name)
    }
}

/// The type of an element as a comprehension variable.
pub(super) fn elem_ty(e: &Elem) -> Ty {
    match e {
        Elem::Int(w) => Ty::Int(*w),
        Elem::VarInt => Ty::Int(8),
        Elem::Enum(n) => Ty::Enum(n.clone()),
        Elem::Record(r) => Ty::Record(r.clone()),
    }
}

/// Finds a member of a record by name.
pub(super) fn find_member<'s>(r: &'s RecordDef, name: &str) -> Option<(usize, &'s Member)> {
    r.members
        .iter()
        .enumerate()
        .find(|(_, m)| member_name(m).name == name)
}

/// The name of a member.
pub(super) fn member_name(m: &Member) -> &Ident {
    match m {
        Member::Field(f) => &f.name,
        Member::Let(l) => &l.name,
    }
}

/// The fixed byte size of a list element, when it has one.
pub fn elem_size(env: &Env<'_>, elem: &Elem) -> Option<u64> {
    match elem {
        Elem::Int(w) => Some(u64::from(*w)),
        Elem::VarInt => None,
        Elem::Enum(e) => env
            .enums
            .get(e)
            .and_then(|d| uint_width(&d.base.name))
            .map(u64::from),
        Elem::Record(_) => None,
    }
}

/// The spec text of a Zeek type.
pub(super) fn ztype_text(t: &ZType) -> String {
    match t {
        ZType::Named(n) => n.name.clone(),
        ZType::Vector(inner, _) => format!("vector of {}", ztype_text(inner)),
    }
}

/// Enters `def` under its name unless the name is taken (the first definition wins); returns
/// where the definition that holds the name is, for a duplicate.
fn define<'s, T>(
    table: &mut BTreeMap<String, &'s T>,
    name: &Ident,
    def: &'s T,
    span_of: fn(&T) -> Span,
) -> Option<Span> {
    match table.get(&name.name) {
        Some(first) => Some(span_of(first)),
        None => {
            table.insert(name.name.clone(), def);
            None
        }
    }
}

/// A suggestion among the field type names: `uintN`, `bytestring`, enums and records.
pub(super) fn did_you_mean_type(env: &Env<'_>, name: &str) -> Option<String> {
    let builtin = UINT_TYPES.iter().map(|(n, _)| *n).chain(["bytestring"]);
    let declared = env.enums.keys().chain(env.records.keys());
    did_you_mean(name, builtin.chain(declared.map(String::as_str)))
}

/// A suggestion among the parameter and `let` type names: `bool`, `uintN` and enums.
pub(super) fn did_you_mean_decl(env: &Env<'_>, name: &str) -> Option<String> {
    let builtin = UINT_TYPES.iter().map(|(n, _)| *n).chain(["bool"]);
    did_you_mean(name, builtin.chain(env.enums.keys().map(String::as_str)))
}

/// The names an expression in `r` may use by name: its parameters, then its members before
/// `visible`.
pub(super) fn record_names(r: &RecordDef, visible: usize) -> impl Iterator<Item = &str> {
    r.params.iter().map(|p| p.name.name.as_str()).chain(
        r.members
            .iter()
            .take(visible)
            .map(|m| member_name(m).name.as_str()),
    )
}

/// "did you mean `x`?" for the candidate closest to a misspelt `name`, when one is close.
pub(super) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The candidate closest to a misspelt `name`, when one is close: at most max(1, len/3) edits
/// away (len in characters of `name`). Among equally close candidates the alphabetically first
/// wins, so the suggestion does not depend on the order names were declared in.
pub(super) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

/// The edit distance between two names: insertions, deletions, substitutions, and swaps of
/// two neighbouring characters, each counting one (Levenshtein with transpositions, the
/// "optimal string alignment" form), so the common typo `unit8` is one edit from `uint8`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: the distance between a[..i] and b[..j].
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let same = a[i - 1] == b[j - 1];
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + usize::from(!same));
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::{did_you_mean, edit_distance};

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("unit8", "uint8"), 1, "a swap is one edit");
        assert_eq!(edit_distance("uint8", "uint16"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggests_only_close_names_and_breaks_ties_alphabetically() {
        let types = ["uint8", "uint16", "uint24", "bytestring"];
        assert_eq!(
            did_you_mean("unit8", types).as_deref(),
            Some("did you mean `uint8`?")
        );
        assert_eq!(did_you_mean("widget", types), None);
        // One edit allowed for short names: `ab` is as close to `aa` as to `bb`.
        assert_eq!(
            did_you_mean("ab", ["bb", "aa"]).as_deref(),
            Some("did you mean `aa`?")
        );
        assert_eq!(did_you_mean("ab", ["xyz"]), None);
    }
}
