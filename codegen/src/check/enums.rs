//! Enum rules: base types, constant names and values, aliases, and derive tables.

use super::resolve::{did_you_mean, uint_width, AttrSite};
use super::Checker;
use crate::ast::*;
use crate::diag::Span;
use std::collections::BTreeMap;

/// Enum base types (at most 32 bits, per the spec language).
const ENUM_BASES: &[&str] = &["uint8", "uint16", "uint24", "uint32"];

impl<'s> Checker<'s, '_> {
    /// An enum: a base type of at most 32 bits, unique constant names, values that fit the base,
    /// and unique values unless a constant is marked `&alias`.
    ///
    /// ```pac
    /// enum Level : uint8 { warning = 1, fatal = 1 }
    /// # error: duplicate enum value 0x1 in `Level`
    /// ```
    pub(super) fn enum_def(&mut self, e: &'s EnumDef) {
        if !ENUM_BASES.contains(&e.base.name.as_str()) {
            self.diags
                .error(
                    e.base.span,
                    format!("unknown enum base type `{}`", e.base.name),
                    "not an enum base type",
                    "enum base types are uint8, uint16, uint24 and uint32",
                )
                .help(did_you_mean(&e.base.name, ENUM_BASES.iter().copied()));
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
        let mut values: BTreeMap<u64, (&str, Span)> = BTreeMap::new();
        for c in &e.consts {
            self.attrs_known(&c.attrs, AttrSite::Const);
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
            let alias = c.attrs.iter().any(|a| matches!(a.kind, AttrKind::Alias));
            match values.get(&v) {
                Some((first, at)) if !alias => {
                    self.diags.error(c.value_span, format!("duplicate enum value {v:#x} in `{}`", e.name.name), format!("`{first}` already has this value"), "mark the constant `&alias` if both names are intended (name() keeps returning the first)").also(*at, "first given here");
                }
                Some(_) => {}
                None => {
                    values.insert(v, (&c.name.name, c.value_span));
                }
            }
        }
    }

    /// A derive table: mode `prefix`, source and target enums that exist, target constants that
    /// exist, and a `default` rule.
    ///
    /// ```pac
    /// enum S : uint8 { TLS_RSA_A = 1 }  enum K : uint8 { RSA = 1 }
    /// derive S.kx : K by prefix { "TLS_RSA_" -> RSA }
    /// # error: derive table without `default`
    /// ```
    pub(super) fn derive(&mut self, d: &'s DeriveDef) {
        if d.mode.name != "prefix" {
            self.diags.error(
                d.mode.span,
                format!("unknown derive mode `{}`", d.mode.name),
                "not a derive mode",
                "the only mode is `by prefix`",
            );
        }
        if !self.env.enums.contains_key(&d.enum_name.name) {
            self.unknown_enum(
                &d.enum_name,
                "derive tables extend an enum declared with `enum`",
            );
        }
        let target = self.env.enums.get(&d.target.name).copied();
        if target.is_none() {
            self.unknown_enum(&d.target, "the result type of a derive table is an enum");
        }
        for r in &d.rules {
            if let Some(t) = target {
                if !t.consts.iter().any(|c| c.name.name == r.target.name) {
                    self.unknown_const(
                        &t.name.name,
                        &r.target,
                        t,
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
}
