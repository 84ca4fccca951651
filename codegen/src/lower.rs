//! Lowering: a checked spec -> the IR.
//!
//! In: the AST and what the checker made of it ([`Checked`]: symbol tables, which fields are
//! referenced or keep their bytes, and the type of every expression). Out: the [`Spec`] of
//! `ir.rs`. Lowering assumes `check` found no errors and never fails: it looks every expression's
//! type up by id and types nothing again; anything it cannot find (impossible after a clean
//! check) degrades to a harmless default rather than panicking.

use crate::ast::{self, AttrKind};
use crate::check::{decl_ty, elem_of, let_ty, resolve_ztype, uint_width, Checked, Env, VARINT};
use crate::diag::{Files, Span};
use crate::ir::*;
use crate::names::{camel, event_variant, rust_ident_str};
use std::collections::BTreeSet;

/// The typed form of an expression, as the checker recorded it.
fn typed(checked: &Checked<'_>, e: &ast::Expr) -> IExpr {
    checked.typed.get(&e.id).cloned().unwrap_or(IExpr {
        kind: IKind::Int(0),
        ty: Ty::Unknown,
    })
}

/// Lowers a checked spec. Never fails: unresolved pieces (impossible after a clean check) become
/// neutral defaults.
pub fn lower(spec: &ast::Spec, checked: &Checked<'_>, files: &Files) -> Spec {
    let env = &checked.env;
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
                let rec = lower_record(checked, r, files, &origin);
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
                    variant: event_variant(&ev.name.name),
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
        let Some(ev) = env.events.get(&g.event.name).copied() else {
            continue;
        };
        let cond = g.cond.as_ref().map(|c| typed(checked, c));
        let mut args = Vec::new();
        for (a, p) in g.args.iter().zip(&ev.params) {
            let Some(z) = resolve_ztype(env, &p.ty) else {
                continue;
            };
            if z == ZTy::Connection {
                continue;
            }
            args.push((rust_ident_str(&p.name.name), z, typed(checked, a)));
        }
        let glue = Glue {
            cond,
            variant: event_variant(&g.event.name),
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
    let mut seen = BTreeSet::new();
    let consts: Vec<EnumConst> = e
        .consts
        .iter()
        .map(|c| {
            let value = c.value.unwrap_or(0);
            let alias =
                c.attrs.iter().any(|a| matches!(a.kind, AttrKind::Alias)) || !seen.insert(value);
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
    let width = uint_width(&e.base.name).unwrap_or(1);
    Enum {
        name: e.name.name.clone(),
        width,
        consts,
        derives,
        origin: origin(e.span, &e.docs),
    }
}

/// The value of the first `&length` among `attrs`.
fn length_attr(attrs: &[ast::Attr]) -> Option<&ast::Expr> {
    attrs
        .iter()
        .find_map(|a| match &a.kind {
            AttrKind::Length(v) => Some(v),
            _ => None,
        })
        .and_then(Option::as_ref)
}

/// Lowers a Zeek-typed name.
fn zfield(env: &Env<'_>, f: &ast::ZField) -> Option<ZField> {
    Some(ZField {
        name: f.name.name.clone(),
        rust: rust_ident_str(&f.name.name),
        ty: resolve_ztype(env, &f.ty)?,
        docs: f.docs.clone(),
    })
}

/// Lowers a record (glue is attached later).
fn lower_record(
    checked: &Checked<'_>,
    r: &ast::RecordDef,
    files: &Files,
    origin: &impl Fn(Span, &[String]) -> Origin,
) -> Record {
    let params = r
        .params
        .iter()
        .map(|p| {
            let ty = match decl_ty(&checked.env, &p.ty.name) {
                Some(Ty::Bool) => ParamTy::Bool,
                Some(Ty::Enum(e)) => ParamTy::Enum(e),
                _ => ParamTy::Int,
            };
            (rust_ident_str(&p.name.name), ty)
        })
        .collect();
    let length = length_attr(&r.attrs).map(|v| typed(checked, v));
    let sourcedata = checked
        .env
        .sources
        .contains(&(r.name.name.clone(), String::new()));
    let mut members = Vec::new();
    for m in &r.members {
        match m {
            ast::Member::Let(l) => {
                let ty = let_ty(&checked.env, &l.ty.name).unwrap_or(Ty::Int(8));
                let e = typed(checked, &l.expr);
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
                let m = lower_field(checked, r, f, path, files, origin);
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
fn lower_field(
    checked: &Checked<'_>,
    r: &ast::RecordDef,
    f: &ast::Field,
    path: String,
    files: &Files,
    origin: &impl Fn(Span, &[String]) -> Origin,
) -> Member {
    let env = &checked.env;
    let length = length_attr(&f.attrs).map(|v| typed(checked, v));
    let if_cond = f
        .attrs
        .iter()
        .find_map(|a| match &a.kind {
            AttrKind::If(v) => Some(v),
            _ => None,
        })
        .and_then(Option::as_ref)
        .map(|v| typed(checked, v));
    let mut checks = Vec::new();
    for a in &f.attrs {
        if let AttrKind::Check(Some(v)) = &a.kind {
            let text = files
                .text(v.span.file)
                .get(v.span.start..v.span.end)
                .unwrap_or("")
                .to_string();
            checks.push((typed(checked, v), text));
        }
    }
    let has = |k: fn(&AttrKind) -> bool| f.attrs.iter().any(|a| k(&a.kind));
    let kind =
        match &f.ty {
            ast::FieldType::Named(n) => {
                let name = n.name.name.as_str();
                if let Some(w) = uint_width(name) {
                    Kind::Int(w)
                } else if name == VARINT {
                    Kind::VarInt
                } else if name == "bytestring" {
                    Kind::Bytes
                } else if let Some(e) = env.enums.get(name) {
                    Kind::Enum(name.into(), uint_width(&e.base.name).unwrap_or(1))
                } else {
                    let args = n.args.iter().map(|a| typed(checked, a)).collect();
                    Kind::Record(name.into(), args)
                }
            }
            ast::FieldType::Array { elem, count, .. } => {
                let el = elem_of(env, &elem.name.name).unwrap_or(Elem::Int(1));
                let args = elem.args.iter().map(|a| typed(checked, a)).collect();
                let count = count.as_ref().map(|c| typed(checked, c));
                Kind::List {
                    elem: el,
                    args,
                    count,
                }
            }
            ast::FieldType::Case(c) => {
                let selector = typed(checked, &c.selector);
                let mut arms = Vec::new();
                let mut default = None;
                for (ai, arm) in c.arms.iter().enumerate() {
                    let field = arm.field.as_ref().map(|af| {
                        Box::new(lower_field(
                            checked,
                            r,
                            af,
                            format!("{path}.{}", af.name.name),
                            files,
                            origin,
                        ))
                    });
                    if arm.is_default {
                        let is_unknown = arm.field.as_ref().is_some_and(|af| {
                        matches!(&af.ty, ast::FieldType::Named(n) if n.name.name == "bytestring")
                            && af.attrs.len() == 1
                            && af.attrs.iter().all(|a| matches!(a.kind, AttrKind::RestOfData))
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
                    let variant = match (&arm.field, &arm.empty_name, arm.labels.first()) {
                        (Some(af), _, _) => camel(&af.name.name),
                        (None, Some(n), _) => camel(&n.name),
                        (None, None, Some(ast::Label::Const(_, k))) => camel(&k.name),
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
        rest: has(|k| matches!(k, AttrKind::RestOfData)),
        if_cond,
        optional: has(|k| matches!(k, AttrKind::Optional)),
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
        let borrowing: BTreeSet<String> = spec
            .records
            .iter()
            .filter(|r| r.borrows)
            .map(|r| r.name.clone())
            .collect();
        let walking: BTreeSet<String> = spec
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
        let borrowing: BTreeSet<String> = spec
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

fn set_case_borrows(m: &mut Member, borrowing: &BTreeSet<String>) {
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

fn member_borrows(m: &Member, borrowing: &BTreeSet<String>) -> bool {
    m.sourcedata
        || match &m.kind {
            Kind::Bytes | Kind::List { .. } | Kind::Let(Ty::Bytes, _) => true,
            Kind::Record(r, _) => borrowing.contains(r),
            Kind::Case(c) => c.borrows,
            _ => false,
        }
}

fn member_walks(m: &Member, walking: &BTreeSet<String>) -> bool {
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
