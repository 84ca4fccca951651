//! Lints: findings about a spec whose every name and type resolved — a length field that bounds
//! nothing, a constant list length that is not a multiple of the element size.

use super::resolve::{elem_of, elem_size, uint_width};
use super::Checker;
use crate::ast::*;
use crate::diag::Span;

impl<'s> Checker<'s, '_> {
    /// A `uintN` field named like a length (`len_*`, `length*`, `*_len`, `*_length`) must bound
    /// something; reported only when the spec has no error, as it is often an echo of one.
    /// `varint` fields are exempt: QUIC's Length fields measure protected bytes that follow the
    /// record and that only the host can read (RFC 9000 §17.2).
    ///
    /// ```pac
    /// type T = record { body_len: uint16; body: bytestring &restofdata; };
    /// # error: length field `body_len` bounds nothing
    /// ```
    pub(super) fn unused_lengths(&mut self, spec: &'s Spec) {
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

    /// A constant `&length` of a list of fixed-size elements should be a multiple of the
    /// element size (a warning: the generated parser rejects the input at run time).
    ///
    /// ```pac
    /// type T = record { ids: uint16[] &length = 3; };
    /// # warning: length 3 is not a multiple of the element size 2
    /// ```
    pub(super) fn length_multiple(&mut self, n: u64, at: Span, elem: &str) {
        let Some(size) = elem_of(&self.env, elem).and_then(|e| elem_size(&self.env, &e)) else {
            return;
        };
        if size != 0 && !n.is_multiple_of(size) {
            self.diags.warning(at, format!("length {n} is not a multiple of the element size {size}"), "does not divide evenly", "the generated parser rejects such input at run time; fix the length if this is a mistake");
        }
    }
}

/// True for names that conventionally hold a length: `len_*`, `length*`, `*_len`, `*_length`.
fn is_length_name(name: &str) -> bool {
    name.starts_with("len_")
        || name.starts_with("length")
        || name.ends_with("_len")
        || name.ends_with("_length")
}
