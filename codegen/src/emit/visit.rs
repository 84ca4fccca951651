//! The one-pass visitor API: the `Visitor` trait and each record's `visit`.
//!
//! In: the lowered records. Out: one trait with a default no-op `#[inline]` method per value a
//! spec field carries (named `<record>_<field>` in snake case), and per record a `visit` that
//! reads the record once with the checked reads of `skip` (same bounds, selectors, checks and
//! errors) and hands every value to the visitor as it is read, dispatching each `case` once.

use super::expr::{ExprGen, Mode};
use super::{docs, uint_type, Build, Gen};
use crate::ir::*;
use crate::names::{ident, snake};
use proc_macro2::TokenStream;
use quote::quote;
use std::collections::{BTreeMap, BTreeSet};

/// One visitor method: what it reports.
enum Callback<'s> {
    /// The value of an integer, enum, byte-string or `let` member.
    Value(&'s Member),
    /// One element of a list of integers or enums.
    Element(&'s Member, &'s Elem),
    /// The undecoded body of a `case` whose selector matched no arm (`Unknown { tag, body }`).
    Unknown(&'s Member, &'s Case),
    /// A record member's raw bytes (`<field>_sourcedata`).
    FieldSource(&'s Member),
    /// A record's raw bytes (`sourcedata`).
    RecordSource(&'s Record),
}

impl Callback<'_> {
    /// The key the emitter looks the method name up by.
    fn key(&self) -> String {
        match self {
            Callback::Value(m) | Callback::Element(m, _) => m.path.clone(),
            Callback::Unknown(m, _) => format!("{}#unknown", m.path),
            Callback::FieldSource(m) => format!("{}#sourcedata", m.path),
            Callback::RecordSource(r) => format!("{}#sourcedata", r.name),
        }
    }

    /// The method name before de-duplication: the path in snake case, `.` -> `_`.
    fn base_name(&self) -> String {
        let path = |p: &str| p.split('.').map(snake).collect::<Vec<_>>().join("_");
        match self {
            Callback::Value(m) | Callback::Element(m, _) => path(&m.path),
            Callback::Unknown(m, _) => format!("{}_unknown", path(&m.path)),
            Callback::FieldSource(m) => format!("{}_sourcedata", path(&m.path)),
            Callback::RecordSource(r) => format!("{}_sourcedata", snake(&r.name)),
        }
    }
}

/// The callbacks of one record, in the order `visit` calls them.
fn callbacks(r: &Record) -> Vec<Callback<'_>> {
    let mut out = Vec::new();
    for m in &r.members {
        member_callbacks(m, &mut out);
        if m.sourcedata {
            out.push(Callback::FieldSource(m));
        }
    }
    if r.sourcedata {
        out.push(Callback::RecordSource(r));
    }
    out
}

/// The callbacks of one member and, for a case, of its arms' fields.
fn member_callbacks<'s>(m: &'s Member, out: &mut Vec<Callback<'s>>) {
    match &m.kind {
        Kind::Int(_) | Kind::VarInt | Kind::Enum(..) | Kind::Bytes | Kind::Let(..) => {
            out.push(Callback::Value(m))
        }
        Kind::List {
            elem: elem @ (Elem::Int(_) | Elem::VarInt | Elem::Enum(_)),
            ..
        } => out.push(Callback::Element(m, elem)),
        Kind::List { .. } | Kind::Record(..) => {}
        Kind::Case(c) => {
            for f in c.arms.iter().filter_map(|a| a.field.as_deref()) {
                member_callbacks(f, out);
            }
            match &c.default {
                None => out.push(Callback::Unknown(m, c)),
                Some(None) => {}
                Some(Some(f)) => member_callbacks(f, out),
            }
        }
    }
}

/// The visitor method name of every callback key, unique (a clash gets `_2`, `_3`, ... in
/// spec order), computed once for the whole spec.
pub(super) fn method_names(spec: &Spec) -> BTreeMap<String, String> {
    let mut taken = BTreeSet::new();
    let mut out = BTreeMap::new();
    for r in &spec.records {
        for cb in callbacks(r) {
            let base = cb.base_name();
            let mut name = base.clone();
            let mut n = 1;
            while !taken.insert(name.clone()) {
                n += 1;
                name = format!("{base}_{n}");
            }
            out.insert(cb.key(), name);
        }
    }
    out
}

/// True when visiting the member calls the visitor (directly or in a nested `visit`).
fn member_reports(m: &Member) -> bool {
    match &m.kind {
        Kind::Case(c) => {
            c.default.is_none()
                || c.arms
                    .iter()
                    .filter_map(|a| a.field.as_deref())
                    .chain(c.default.iter().flatten().map(|b| &**b))
                    .any(member_reports)
        }
        _ => true,
    }
}

impl Gen<'_> {
    /// The identifier of the visitor method for `key`.
    fn callback(&self, key: &str) -> proc_macro2::Ident {
        ident(self.visit_names.get(key).map(String::as_str).unwrap_or("_"))
    }

    /// The `Visitor` trait (nothing when the spec has no records).
    pub(super) fn visitor_trait(&self) -> TokenStream {
        if self.spec.records.is_empty() {
            return quote!();
        }
        let mut methods = Vec::new();
        for r in &self.spec.records {
            for cb in callbacks(r) {
                let name = self.callback(&cb.key());
                let (what, params, origin, more) = match &cb {
                    Callback::Value(m) => {
                        let t = self.member_base_type(m);
                        let what = match &m.kind {
                            Kind::Let(..) => format!(
                                " `{}` (a computed `let`): its value, once computed.",
                                m.path
                            ),
                            _ if m.if_cond.is_some() || m.optional => {
                                format!(" `{}`: its value, when present and read.", m.path)
                            }
                            _ => format!(" `{}`: its value, when read.", m.path),
                        };
                        (what, quote!(v: #t), &m.origin, None)
                    }
                    Callback::Element(m, elem) => {
                        let t = match elem {
                            Elem::Int(w) => uint_type(*w),
                            Elem::VarInt => quote!(u64),
                            _ => self.elem_type(elem, quote!('a)),
                        };
                        let what = format!(
                            " `{}`: one element of the list, once per element, in order.",
                            m.path
                        );
                        (what, quote!(v: #t), &m.origin, None)
                    }
                    Callback::Unknown(m, c) => {
                        let tag = match &c.selector.ty {
                            Ty::Enum(e) => {
                                let id = ident(e);
                                quote!(#id)
                            }
                            Ty::Bool => quote!(bool),
                            _ => quote!(u64),
                        };
                        let what = format!(
                            " `{}`: no arm matched the selector `tag`; `body` is the undecoded",
                            m.path
                        );
                        let more = " rest of the case's bound (what `read` builds as `Unknown`).";
                        (
                            what,
                            quote!(tag: #tag, body: &'a [u8]),
                            &m.origin,
                            Some(more),
                        )
                    }
                    Callback::FieldSource(m) => {
                        let what = format!(
                            " `{}.$sourcedata`: the field's raw bytes, after the field is read.",
                            m.path
                        );
                        (what, quote!(v: &'a [u8]), &m.origin, None)
                    }
                    Callback::RecordSource(r) => {
                        let what = format!(
                            " `{}.$sourcedata`: the record's raw bytes, once it is all read.",
                            r.name
                        );
                        (what, quote!(v: &'a [u8]), &r.origin, None)
                    }
                };
                let d = docs(origin);
                let more = more.map(|m| quote!(#[doc = #m]));
                methods.push(quote! {
                    #[doc = #what]
                    #more
                    #[doc = ""]
                    #d
                    #[inline]
                    fn #name(&mut self, #params) {}
                });
            }
        }
        quote! {
            /// Receives the values of a one-pass `visit` (every record has one). One method
            /// per value a spec field carries, named `<record>_<field>` in snake case
            /// (`<record>_<case>_<arm>` for a case arm's field); each is a no-op by default, so
            /// an implementation overrides what it needs and pays for nothing else.
            ///
            /// Values are reported in wire order as they are read: integers, enums, byte strings
            /// and `let`s once each (a field's own `&check`s pass before it is reported), lists of
            /// integers or enums once per element, records and list elements through their own
            /// fields; of a `case` only the selected arm. A field that is absent (`&if`,
            /// `&optional`) is not reported. `visit` accepts and rejects exactly what `read`
            /// does and fails with the same error (path, offset, kind); on an error the visitor
            /// has seen the values read before the error point, and no later ones (the elements
            /// of a list of integers or enums are reported once the whole list is known to hold
            /// whole elements).
            #[allow(unused_variables)]
            pub trait Visitor<'a> {
                #(#methods)*
            }
        }
    }

    /// The `visit` function of a record, given the bound tokens `record` computed for `skip`.
    pub(super) fn visit_fn(
        &self,
        r: &Record,
        bound: &TokenStream,
        end: &TokenStream,
    ) -> TokenStream {
        let rt = &self.rt;
        // Everything `skip` computes, plus what every `let` reads (`visit` evaluates them all).
        let mut uses = r.parse_uses();
        for m in &r.members {
            if let Kind::Let(_, e) = &m.kind {
                e.collect_vars(&mut uses);
            }
        }
        let params = self.used_params(r, &uses);
        let stmts: Vec<TokenStream> = r
            .members
            .iter()
            .map(|m| self.visit_stmt(m, &uses))
            .collect();
        let reader = if r.length.is_none()
            && r.members.iter().all(|m| match &m.kind {
                Kind::Let(_, e) => !e.can_fail(),
                _ => false,
            }) {
            quote!(_r)
        } else {
            quote!(r)
        };
        let visitor = if r.sourcedata || r.members.iter().any(member_reports) {
            quote!(__visitor)
        } else {
            quote!(_visitor)
        };
        let (start, source) = if r.sourcedata {
            let cb = self.callback(&format!("{}#sourcedata", r.name));
            (
                quote!(let __start = r.pos();),
                quote!(__visitor.#cb(r.since(__start));),
            )
        } else {
            (quote!(), quote!())
        };
        let fn_lt = if r.borrows {
            quote!(<V: Visitor<'a>>)
        } else {
            quote!(<'a, V: Visitor<'a>>)
        };
        quote! {
            /// Reads one value in a single pass, handing each value to the visitor as it is read
            /// (see [`Visitor`]) and building nothing: consumes what `read` consumes and fails
            /// where it fails, with the same field path, offset and kind.
            #[inline]
            pub fn visit #fn_lt (#reader: &mut #rt::Reader<'a>, #(#params,)* #visitor: &mut V) -> Result<(), #rt::ParseError> {
                #bound
                #start
                #(#stmts)*
                #end
                #source
                Ok(())
            }
        }
    }

    /// The statements that read one record member, report it and, when a later expression
    /// needs it, keep it in a local named after it.
    fn visit_stmt(&self, m: &Member, uses: &BTreeSet<String>) -> TokenStream {
        let id = ident(&m.rust);
        let path = m.path.as_str();
        let used = uses.contains(&m.rust);
        if let Kind::Let(..) = &m.kind {
            let value = self.member_value(m, Build::Checked);
            let cb = self.callback(path);
            return quote! {
                let #id = #value;
                __visitor.#cb(#id);
            };
        }
        let (src_start, src_end) = self.sourcedata_bounds(m, m.sourcedata);
        let source = if m.sourcedata {
            let sid = ident(&format!("{}_sourcedata", m.name));
            let cb = self.callback(&format!("{path}#sourcedata"));
            quote!(__visitor.#cb(#sid);)
        } else {
            quote!()
        };
        let checks = self.member_checks(m, path);
        match &m.kind {
            Kind::Int(_) | Kind::VarInt | Kind::Enum(..) | Kind::Bytes => {
                let value = self.member_value(m, Build::Checked);
                let cb = self.callback(path);
                let local = if used { id } else { ident("__x") };
                let report = if m.if_cond.is_some() || m.optional {
                    quote!(if let Some(__x) = #local { __visitor.#cb(__x); })
                } else {
                    quote!(__visitor.#cb(#local);)
                };
                quote! {
                    #src_start
                    let #local = #value;
                    #src_end
                    #(#checks)*
                    #report
                    #source
                }
            }
            _ => {
                let visit = self.visit_value(m);
                // Needed by a later expression: built again from where it started, from bytes
                // that were just validated (rare; the TLS spec has none).
                let (save, build) = if used {
                    let value = self.member_value(m, Build::Validated);
                    (
                        quote!(let __at = *r;),
                        quote!(let #id = { let mut __again = __at; let r = &mut __again; #value };),
                    )
                } else {
                    (quote!(), quote!())
                };
                quote! {
                    #save
                    #src_start
                    #visit
                    #src_end
                    #build
                    #(#checks)*
                    #source
                }
            }
        }
    }

    /// Statements that read a member (a record member or a case arm's field) and report it,
    /// with its bound, condition and presence handled as `skip` handles them.
    fn visit_value(&self, m: &Member) -> TokenStream {
        let rt = &self.rt;
        let path = m.path.as_str();
        let eg = ExprGen {
            gen: self,
            mode: Mode::Parse,
            path,
        };
        let base = match &m.kind {
            Kind::Int(_) | Kind::VarInt | Kind::Enum(..) | Kind::Bytes | Kind::Let(..) => {
                let value = self.member_value(m, Build::Checked);
                let cb = self.callback(path);
                return if m.if_cond.is_some() || m.optional {
                    quote!(if let Some(__x) = #value { __visitor.#cb(__x); })
                } else {
                    quote!({
                        let __x = #value;
                        __visitor.#cb(__x);
                    })
                };
            }
            Kind::List { elem, args, count } => {
                let t = self.elem_type(elem, quote!('a));
                let args = self.list_args(elem, args, &eg);
                let each = match elem {
                    Elem::Record(rn) => {
                        let id = ident(rn);
                        let ps: Vec<proc_macro2::Ident> =
                            (0..args.len()).map(|i| ident(&format!("__p{i}"))).collect();
                        quote!(|r, (#(#ps,)*)| #id::visit(r, #(#ps,)* __visitor))
                    }
                    // Varints vary in size, so nothing has checked the element yet: the
                    // checked reader reports a truncated one.
                    Elem::VarInt => {
                        let cb = self.callback(path);
                        quote!(|r, _| {
                            __visitor.#cb(r.varint(#path)?);
                            Ok(())
                        })
                    }
                    _ => {
                        let cb = self.callback(path);
                        quote!(|r, _| {
                            __visitor.#cb(<#t as #rt::Element<'a>>::read_validated(r, ()));
                            Ok(())
                        })
                    }
                };
                match count {
                    Some(c) => {
                        let n = eg.int(c);
                        quote! {
                            let __n = #rt::to_usize(#n, #path, r.offset())?;
                            #rt::List::<#t>::visit_count(r, __n, (#(#args,)*), #path, #each)?;
                        }
                    }
                    None => {
                        quote!(#rt::List::<#t>::visit_all(r, (#(#args,)*), #path, #each)?;)
                    }
                }
            }
            Kind::Record(rn, args) => {
                let id = ident(rn);
                let args = self.record_args(rn, args, &eg);
                quote!(#id::visit(r, #(#args,)* __visitor)?;)
            }
            Kind::Case(c) => self.case_visit(m, c),
        };
        self.bound_value(m, base)
    }

    /// Reads and reports the selected arm of a case member: the selector is evaluated and
    /// matched once.
    fn case_visit(&self, m: &Member, c: &Case) -> TokenStream {
        let (sel, pats) = self.case_parts(m, c, Mode::Parse);
        let arms = c.arms.iter().zip(pats).map(|(a, pats)| {
            let v = a.field.as_deref().map(|f| self.visit_value(f));
            quote!(#pats => { #v })
        });
        let default = match &c.default {
            None => {
                let cb = self.callback(&format!("{}#unknown", m.path));
                quote!(_ => { __visitor.#cb(__tag, r.take_rest()); })
            }
            Some(None) => quote!(_ => {}),
            Some(Some(f)) => {
                let v = self.visit_value(f);
                quote!(_ => { #v })
            }
        };
        quote!({
            let __tag = #sel;
            #[allow(unreachable_patterns)]
            match __tag {
                #(#arms)*
                #default
            }
        })
    }
}
