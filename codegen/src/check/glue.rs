//! Glue rules and the Zeek side: Zeek record fields, context values, event parameters, and
//! glue lines (their record, condition, event and arguments).

use super::expr::{compatible, show};
use super::resolve::{did_you_mean, ztype_text};
use super::{Checker, Scope};
use crate::ast::*;
use crate::types::{show_z, Ty, ZTy};

impl<'s> Checker<'s, '_> {
    /// A Zeek record: known field types, unique field names.
    ///
    /// ```pac
    /// zeek record Pair { a: count, a: string }
    /// # error: duplicate field `a`
    /// ```
    pub(super) fn zeek_record(&mut self, z: &'s ZeekRecordDef) {
        for f in &z.fields {
            self.ztype(&f.ty, false);
        }
        self.dup_names(z.fields.iter().map(|f| &f.name), "field");
    }

    /// Context values are scalars or byte strings the host supplies.
    ///
    /// ```pac
    /// context { server_names: string_vec }
    /// # error: context values must be scalars or strings
    /// ```
    pub(super) fn context(&mut self, ctx: &'s ContextDef) {
        for f in &ctx.fields {
            let t = self.ztype(&f.ty, false);
            if !matches!(
                t,
                Some(ZTy::Bool | ZTy::Count | ZTy::Int | ZTy::Double | ZTy::Time | ZTy::String)
                    | None
            ) {
                self.diags.error(
                    f.name.span,
                    "context values must be scalars or strings",
                    "not bool, count, int, double, time or string",
                    "pass vectors and records through the parsed unit instead",
                );
            }
        }
    }

    /// An event: known parameter types (`connection` only first), unique parameter names.
    ///
    /// ```pac
    /// event ssl_x(c: connection, n: count, n: count);
    /// # error: duplicate parameter `n`
    /// ```
    pub(super) fn event(&mut self, ev: &'s EventDef) {
        for (i, p) in ev.params.iter().enumerate() {
            self.ztype(&p.ty, i == 0);
        }
        self.dup_names(ev.params.iter().map(|p| &p.name), "parameter");
    }

    /// A glue line: a known record, a bool condition, a declared event, and as many arguments
    /// as it has parameters, each convertible to the parameter's Zeek type.
    ///
    /// ```pac
    /// type T = record { r: bytestring &restofdata; };  event ssl_x(c: connection, n: count);
    /// on T -> event ssl_x($conn, self.r);
    /// # error: type mismatch: parameter `n` of `ssl_x` is count, found a bytestring
    /// ```
    pub(super) fn glue(&mut self, g: &'s GlueDef) {
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
            self.diags
                .error(
                    g.event.span,
                    format!("unknown event `{}`", g.event.name),
                    "no event of this name",
                    "declare it with `event name(params);`",
                )
                .help(did_you_mean(
                    &g.event.name,
                    self.env.events.keys().map(String::as_str),
                ));
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
}
