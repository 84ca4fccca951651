//! Expression typing: every expression gets a type once, in the scope where the spec evaluates
//! it; a type error makes the expression `Unknown`, which is accepted everywhere so one mistake
//! is reported once.

use super::resolve::{
    decl_ty, did_you_mean, elem_ty, find_member, member_name, member_ty, record_names,
    resolve_ztype,
};
use super::{Checker, Scope};
use crate::ast::*;
use crate::diag::Span;
use crate::names::rust_ident_str;
use crate::types::{show_z, Elem, IExpr, IKind, Ty, VarKind, ZTy};

/// The builtin functions.
const BUILTINS: &[&str] = &["len", "be_uint", "zero_pad"];

impl<'s> Checker<'s, '_> {
    /// Types an expression, reporting every error in it, and records its type under its id
    /// (what lowering reads; nothing types an expression twice).
    ///
    /// ```pac
    /// type T = record { n: uint8; body: bytestring &length = n + "x"; };
    /// # error: type mismatch: `+` needs integers, found a bytestring
    /// ```
    pub(super) fn expr(&mut self, e: &Expr, scope: &Scope<'s>) -> IExpr {
        let typed = self.type_expr(e, scope);
        let again = self.typed.insert(e.id, typed.clone());
        debug_assert!(again.is_none(), "expression {:?} typed twice", e.id);
        typed
    }

    /// The type of one expression form (literals, names, context values, `self`, enum
    /// constants, members, slices, calls, operators, conditionals, comprehensions, literals of
    /// Zeek records).
    pub(super) fn type_expr(&mut self, e: &Expr, scope: &Scope<'s>) -> IExpr {
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
                            ZTy::String => Ty::Bytes,
                            _ => Ty::Int(8),
                        };
                        IExpr {
                            kind: IKind::Ctx(rust_ident_str(n)),
                            ty,
                        }
                    }
                    None => {
                        self.diags
                            .error(
                                e.span,
                                format!("unknown context value `${n}`"),
                                "not declared in `context { ... }`",
                                "declare it in the context block, or use `$conn`",
                            )
                            .help(did_you_mean(n, self.env.context.keys().map(String::as_str)));
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
                    self.unknown_enum(en, "declare it with `enum`");
                    unknown(IKind::Int(0))
                }
                Some(def) if !def.consts.iter().any(|c| c.name.name == k.name) => {
                    self.unknown_const(
                        &en.name,
                        k,
                        def,
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
                        self.diags
                            .error(
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
                            )
                            .help(did_you_mean(&f.name, record_names(rec, usize::MAX)));
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
                    UnOp::Not => {
                        self.diags.error(
                            x.span,
                            format!("type mismatch: `!` needs a bool, found {}", show(&xe.ty)),
                            "expected a bool",
                            "compare it, e.g. `x == 0`",
                        );
                    }
                    UnOp::Neg => {
                        self.diags.error(
                            e.span,
                            "type mismatch: integers are unsigned, `-x` has no meaning",
                            "negation",
                            "rewrite as a subtraction",
                        );
                    }
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
                    self.diags
                        .error(
                            name.span,
                            format!("unknown zeek record `{}`", name.name),
                            "no zeek record of this name",
                            "declare it with `zeek record`",
                        )
                        .help(did_you_mean(
                            &name.name,
                            self.env.zeek.keys().map(String::as_str),
                        ));
                    return unknown(IKind::Int(0));
                };
                let mut out = Vec::new();
                for (fname, _) in inits {
                    if !z.fields.iter().any(|f| f.name.name == fname.name) {
                        self.diags
                            .error(
                                fname.span,
                                format!(
                                    "unknown field `{}` in zeek record `{}`",
                                    fname.name, name.name
                                ),
                                "no such field",
                                "use the field names of the zeek record",
                            )
                            .help(did_you_mean(
                                &fname.name,
                                z.fields.iter().map(|f| f.name.name.as_str()),
                            ));
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
                        None => {
                            self.diags.error(
                                name.span,
                                format!(
                                    "missing field `{}` in `{}` literal",
                                    f.name.name, name.name
                                ),
                                "incomplete record",
                                "give every field a value",
                            );
                        }
                    }
                }
                IExpr {
                    kind: IKind::RecordLit(name.name.clone(), out),
                    ty: Ty::ZeekRec(name.name.clone()),
                }
            }
        }
    }

    /// A slice bound must be an integer.
    ///
    /// ```pac
    /// type T = record { data: bytestring &restofdata; let h: uint8 = be_uint(data[0..true]); };
    /// # error: type mismatch: expected an integer, found a bool
    /// ```
    pub(super) fn int_operand(&mut self, e: &Expr, scope: &Scope<'s>) -> IExpr {
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

    /// `&&`/`||` take bools; comparisons take two values of one type (an enum compares with an
    /// integer); arithmetic takes integers.
    ///
    /// ```pac
    /// type T = record { v: uint16; let b: bool = v == true; };
    /// # error: type mismatch: cannot compare an integer with a bool
    /// ```
    pub(super) fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, scope: &Scope<'s>) -> IExpr {
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

    /// The builtins `len(x)`, `be_uint(bytes)` and `zero_pad(bytes, n)`: the name, the number
    /// of arguments and their types.
    ///
    /// ```pac
    /// type T = record { body: bytestring &restofdata; let n: uint8 = length(body); };
    /// # error: unknown function `length`
    /// ```
    pub(super) fn call(
        &mut self,
        f: &Ident,
        args: &[Expr],
        span: Span,
        scope: &Scope<'s>,
    ) -> IExpr {
        let arity = match f.name.as_str() {
            "len" | "be_uint" => 1,
            "zero_pad" => 2,
            _ => {
                self.diags
                    .error(
                        f.span,
                        format!("unknown function `{}`", f.name),
                        "no such builtin",
                        "builtins are len(x), be_uint(bytes), zero_pad(bytes, n)",
                    )
                    .help(did_you_mean(&f.name, BUILTINS.iter().copied()));
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

    /// `x.$sourcedata` applies to `self` (in glue) or a field, and marks those bytes as kept.
    ///
    /// ```pac
    /// type T = record { x: uint8; let n: uint8 = len(3.$sourcedata); };
    /// # error: `$sourcedata` applies to `self` or a field
    /// ```
    pub(super) fn sourcedata(&mut self, base: &Expr, span: Span, scope: &Scope<'s>) -> IExpr {
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
                    let rec = self.env.records.get(r).copied();
                    match rec {
                        Some(rec) if find_member(rec, &f.name).is_some() => {
                            self.env.sources.insert((r.clone(), f.name.clone()));
                            self.env.used.insert((r.clone(), f.name.clone()));
                        }
                        _ => {
                            self.diags
                                .error(
                                    f.span,
                                    format!("unknown field `{}` in `{r}`", f.name),
                                    "no such field",
                                    "`$sourcedata` applies to a field or `self`",
                                )
                                .help(did_you_mean(
                                    &f.name,
                                    rec.map(|rec| record_names(rec, usize::MAX))
                                        .into_iter()
                                        .flatten(),
                                ));
                        }
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

    /// Resolves a bare name: the loop variable in a comprehension, else a parameter, or a
    /// member parsed before this point (every member in glue).
    ///
    /// ```pac
    /// type T = record { body: bytestring &length = n; n: uint8; };
    /// # error: field `n` is used before it is parsed
    /// ```
    pub(super) fn name(&mut self, n: &str, span: Span, scope: &Scope<'s>) -> IExpr {
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
                self.diags
                    .error(
                        span,
                        format!("unknown name `{n}`"),
                        format!("no field, parameter or `let` `{n}` in `{}`", r.name.name),
                        "check the spelling, or declare the field before this point",
                    )
                    .help(did_you_mean(
                        n,
                        record_names(
                            r,
                            if scope.glue {
                                usize::MAX
                            } else {
                                scope.visible
                            },
                        ),
                    ));
                IExpr {
                    kind: IKind::Int(0),
                    ty: Ty::Unknown,
                }
            }
        }
    }
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

/// Whether a value of type `ty` can be passed where Zeek type `z` is expected.
pub(super) fn compatible(ty: &Ty, z: &ZTy) -> bool {
    match (ty, z) {
        (Ty::Unknown, _) => true,
        (Ty::Conn, ZTy::Connection) => true,
        (Ty::Int(_) | Ty::Enum(_), ZTy::Count | ZTy::Int | ZTy::Double | ZTy::Time) => true,
        (Ty::Bool, ZTy::Bool) => true,
        (Ty::Bytes | Ty::Str, ZTy::String) => true,
        (Ty::List(Elem::Int(_) | Elem::VarInt | Elem::Enum(_)), ZTy::IndexVec) => true,
        (Ty::List(Elem::Int(_) | Elem::VarInt | Elem::Enum(_)), ZTy::Vector(inner)) => {
            **inner == ZTy::Count
        }
        (Ty::ZeekRec(a), ZTy::Record(b)) => a == b,
        (Ty::Vector(inner), ZTy::IndexVec) => **inner == ZTy::Count,
        (Ty::Vector(inner), ZTy::StringVec) => **inner == ZTy::String,
        (Ty::Vector(a), ZTy::Vector(b)) => a == b,
        _ => false,
    }
}

/// The Zeek type a comprehension body of type `ty` produces.
pub(super) fn zeek_of(ty: &Ty) -> Option<ZTy> {
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
pub(super) fn is_int(ty: &Ty) -> bool {
    matches!(ty, Ty::Int(_) | Ty::Enum(_) | Ty::Unknown)
}

/// True when two scalar types are interchangeable (`Unknown` matches anything).
pub(super) fn same_scalar(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        (Ty::Unknown, _) | (_, Ty::Unknown) => true,
        (Ty::Int(_), Ty::Int(_)) => true,
        _ => a == b,
    }
}
