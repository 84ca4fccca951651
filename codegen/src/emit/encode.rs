//! IR -> encoders: the owned counterpart of every record and case (`<Name>Owned`), the
//! conversion from a parsed view (`view.owned()`), and `encode` for both.
//!
//! In: a lowered record. Out: tokens for `struct <Name>Owned`, its case enums, `encode`,
//! `encode_raw`, `to_bytes`, the crate-internal `encode_with`, and on the view `owned()` and
//! `encode`. Lengths and counts that a field of the same record gives to a later member (a
//! *derived* field: `n : uint16; xs : T[] &length = n;`) are `Option`s in the owned type and
//! computed from the content; every other bound, condition and selector is evaluated from the
//! value and checked (docs/SPEC-LANGUAGE.md, "Encoders"). Nothing here touches the parse path
//! except the varint widths that views keep (see [`Gen::varint_slots`]).

use super::expr::{ExprGen, Mode};
use super::{docs, elem_param, uint_type, Gen};
use crate::ir::*;
use crate::names::{camel, ident};
use proc_macro2::{Literal, TokenStream};
use quote::quote;
use std::collections::{BTreeMap, BTreeSet};

/// The name of a record's or case's owned counterpart.
pub fn owned_name(name: &str) -> String {
    format!("{name}Owned")
}

/// What a derived field measures.
#[derive(Clone, Debug)]
struct Derived {
    /// The member it bounds (its Rust identifier).
    target: String,
    /// True when it is the element count of a list, false for a byte length.
    count: bool,
    /// True when the target reads the field (as an argument or in a selector), so the target is
    /// first measured with the field at 0 and then encoded with the computed value.
    measure: bool,
}

/// The literal value of an expression, if it is one.
fn literal(e: &IExpr) -> Option<u64> {
    match e.kind {
        IKind::Int(n) => Some(n),
        _ => None,
    }
}

/// The member a plain variable expression names.
fn var(e: &IExpr) -> Option<&str> {
    match &e.kind {
        IKind::Var(n, VarKind::Member) => Some(n.as_str()),
        _ => None,
    }
}

/// A `bytestring &length = <literal>`: owned as a byte array.
fn fixed_bytes(m: &Member) -> Option<usize> {
    match (&m.kind, &m.length) {
        (Kind::Bytes, Some(len)) => literal(len).and_then(|n| usize::try_from(n).ok()),
        _ => None,
    }
}

/// A list with a literal element count: owned as an array.
fn fixed_count(m: &Member) -> Option<usize> {
    match &m.kind {
        Kind::List { count: Some(c), .. } if m.length.is_none() => {
            literal(c).and_then(|n| usize::try_from(n).ok())
        }
        _ => None,
    }
}

/// The members whose value the encoder computes: `uintN`/`varint` fields that exactly one
/// later, unconditional member uses as its `&length`, its element count, or the argument its
/// record's own `&length` names; never one that a `let` reads (lets are evaluated before
/// lengths are known).
fn derived(spec: &Spec, r: &Record) -> BTreeMap<String, Derived> {
    let mut let_reads = BTreeSet::new();
    for m in &r.members {
        if let Kind::Let(_, e) = &m.kind {
            e.collect_vars(&mut let_reads);
        }
    }
    let mut found: BTreeMap<String, Vec<Derived>> = BTreeMap::new();
    for (i, f) in r.members.iter().enumerate() {
        if !matches!(f.kind, Kind::Int(_) | Kind::VarInt)
            || f.if_cond.is_some()
            || f.optional
            || let_reads.contains(&f.rust)
        {
            continue;
        }
        for m in &r.members[i + 1..] {
            let conditional = m.if_cond.is_some() || m.optional;
            let by_length = m.length.as_ref().and_then(var) == Some(f.rust.as_str())
                && fixed_bytes(m).is_none();
            let by_count = matches!(&m.kind, Kind::List { count: Some(c), .. } if var(c) == Some(f.rust.as_str()));
            let by_param = match &m.kind {
                Kind::Record(rn, args) => spec
                    .records
                    .iter()
                    .find(|x| &x.name == rn)
                    .and_then(|x| {
                        let p = x.length.as_ref().and_then(var)?;
                        let i = x.params.iter().position(|(n, _)| n == p)?;
                        args.get(i).and_then(var)
                    })
                    .is_some_and(|a| a == f.rust),
                _ => false,
            };
            if !(by_length || by_count || by_param) {
                continue;
            }
            let mut exprs = Vec::new();
            m.parse_exprs(&mut exprs);
            let mut reads = BTreeSet::new();
            for e in exprs {
                // The bound itself is what is computed; anything else reading the field needs
                // the two-pass measure.
                if by_length && m.length.as_ref().is_some_and(|l| std::ptr::eq(l, e)) {
                    continue;
                }
                if let Kind::List { count: Some(c), .. } = &m.kind {
                    if by_count && std::ptr::eq(c, e) {
                        continue;
                    }
                }
                e.collect_vars(&mut reads);
            }
            let entry = found.entry(f.rust.clone()).or_default();
            if conditional {
                // Absent, it bounds nothing: the field is then free, so not derived.
                entry.push(Derived {
                    target: String::new(),
                    count: false,
                    measure: false,
                });
                entry.push(Derived {
                    target: String::new(),
                    count: false,
                    measure: false,
                });
                continue;
            }
            entry.push(Derived {
                target: m.rust.clone(),
                count: by_count,
                measure: by_param || reads.contains(&f.rust),
            });
        }
    }
    found
        .into_iter()
        .filter_map(|(k, mut v)| (v.len() == 1).then(|| (k, v.remove(0))))
        .collect()
}

/// Where a selector field's value can be read from the value itself: the case member it
/// selects (`case <field> of` in the same record), or a record member that receives the field
/// as the parameter its own case member is selected by (`Handshake.msg_type` ->
/// `HandshakeMessage(msg_type, ..).body`). The owned field is then an `Option`, `None` meaning
/// "the first label of the variant held" (the tag of an `Unknown`/`Other`).
#[derive(Clone, Debug)]
struct Selected {
    /// The member of this record that holds (or is) the case (Rust identifier).
    member: String,
    /// The case member inside that record, when the case is one level down.
    inner: Option<String>,
}

/// The selector fields of a record that its encoder reads from the variant held.
fn selectors(
    spec: &Spec,
    r: &Record,
    lengths: &BTreeMap<String, Derived>,
) -> BTreeMap<String, Selected> {
    let mut let_reads = BTreeSet::new();
    for m in &r.members {
        if let Kind::Let(_, e) = &m.kind {
            e.collect_vars(&mut let_reads);
        }
    }
    let mut out = BTreeMap::new();
    for (i, f) in r.members.iter().enumerate() {
        if !matches!(f.kind, Kind::Int(_) | Kind::VarInt | Kind::Enum(..))
            || f.if_cond.is_some()
            || f.optional
            || !f.checks.is_empty()
            || lengths.contains_key(&f.rust)
            || let_reads.contains(&f.rust)
        {
            continue;
        }
        let found = r.members[i + 1..].iter().find_map(|m| {
            if m.if_cond.is_some() || m.optional {
                return None;
            }
            match &m.kind {
                Kind::Case(c) if var(&c.selector) == Some(f.rust.as_str()) => Some(Selected {
                    member: m.rust.clone(),
                    inner: None,
                }),
                Kind::Record(rn, args) => {
                    let i = args.iter().position(|a| var(a) == Some(f.rust.as_str()))?;
                    let rec = spec.records.iter().find(|x| &x.name == rn)?;
                    let p = &rec.params.get(i)?.0;
                    let inner = rec.members.iter().find(|x| {
                        x.if_cond.is_none()
                            && !x.optional
                            && matches!(&x.kind, Kind::Case(c) if var(&c.selector) == Some(p.as_str()))
                    })?;
                    Some(Selected {
                        member: m.rust.clone(),
                        inner: Some(inner.rust.clone()),
                    })
                }
                _ => None,
            }
        });
        if let Some(sel) = found {
            out.insert(f.rust.clone(), sel);
        }
    }
    out
}

/// `ROUND_TRIPS` (feature `arbitrary`): every record's round-trip property case by name.
pub fn round_trip_table(spec: &Spec) -> TokenStream {
    let entries = spec.records.iter().map(|r| {
        let n = &r.name;
        let owned = ident(&owned_name(n));
        quote!((#n, #owned::arbitrary_round_trip),)
    });
    quote! {
        /// One round-trip property case (see `<Name>Owned::arbitrary_round_trip`).
        #[cfg(feature = "arbitrary")]
        pub type RoundTripFn =
            fn(&mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Option<Result<(), String>>>;
        /// Every record's round-trip property case, by spec name, in spec order.
        #[cfg(feature = "arbitrary")]
        pub const ROUND_TRIPS: &[(&str, RoundTripFn)] = &[#(#entries)*];
    }
}

/// Paths of the varint fields of a record in slot order: its varint members, then (depth
/// first, in order) the varint fields of its case arms.
pub fn varint_slots(r: &Record) -> Vec<String> {
    fn walk(m: &Member, out: &mut Vec<String>) {
        match &m.kind {
            Kind::VarInt => out.push(m.path.clone()),
            Kind::Case(c) => {
                for f in c.arms.iter().filter_map(|a| a.field.as_deref()) {
                    walk(f, out);
                }
                if let Some(Some(f)) = &c.default {
                    walk(f, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for m in &r.members {
        walk(m, &mut out);
    }
    out.truncate(21);
    out
}

impl Gen<'_> {
    /// The owned type of a list element.
    fn owned_elem(&self, e: &Elem) -> TokenStream {
        match e {
            Elem::Int(w) => uint_type(*w),
            Elem::VarInt => quote!(u64),
            Elem::Enum(n) => {
                let id = ident(n);
                quote!(#id)
            }
            Elem::Record(r) => {
                let id = ident(&owned_name(r));
                quote!(#id)
            }
        }
    }

    /// The owned type of a member's value (without `Option`).
    fn owned_base_type(&self, m: &Member) -> TokenStream {
        match &m.kind {
            Kind::Int(w) => uint_type(*w),
            Kind::VarInt => quote!(u64),
            Kind::Enum(e, _) => {
                let id = ident(e);
                quote!(#id)
            }
            Kind::Bytes => match fixed_bytes(m).map(Literal::usize_unsuffixed) {
                Some(n) => quote!([u8; #n]),
                None => quote!(Vec<u8>),
            },
            Kind::List { elem, .. } => {
                let t = self.owned_elem(elem);
                match fixed_count(m).map(Literal::usize_unsuffixed) {
                    Some(n) => quote!([#t; #n]),
                    None => quote!(Vec<#t>),
                }
            }
            Kind::Record(r, _) => {
                let id = ident(&owned_name(r));
                quote!(#id)
            }
            Kind::Case(c) => {
                let id = ident(&owned_name(&c.enum_name));
                quote!(#id)
            }
            Kind::Let(..) => quote!(()),
        }
    }

    /// The owned type of a member (with `Option` for `&if`/`&optional`).
    fn owned_type(&self, m: &Member) -> TokenStream {
        let t = self.owned_base_type(m);
        if m.if_cond.is_some() || m.optional {
            quote!(Option<#t>)
        } else {
            t
        }
    }

    /// `#[arbitrary(with = ..)]` for values whose Rust type is wider than the field.
    fn arb_attr(&self, m: &Member) -> TokenStream {
        let rt = &self.rt;
        let opt = m.if_cond.is_some() || m.optional;
        let f = match (&m.kind, opt) {
            (Kind::Int(3), false) => quote!(#rt::encode::arb::u24),
            (Kind::Int(6), false) => quote!(#rt::encode::arb::u48),
            (Kind::VarInt, false) => quote!(#rt::encode::arb::varint),
            (Kind::Int(3), true) => quote!(#rt::encode::arb::u24_opt),
            (Kind::Int(6), true) => quote!(#rt::encode::arb::u48_opt),
            (Kind::VarInt, true) => quote!(#rt::encode::arb::varint_opt),
            (Kind::List { elem, .. }, false) if fixed_count(m).is_none() => match elem {
                Elem::Int(3) => quote!(#rt::encode::arb::u24_vec),
                Elem::Int(6) => quote!(#rt::encode::arb::u48_vec),
                Elem::VarInt => quote!(#rt::encode::arb::varint_vec),
                _ => return quote!(),
            },
            _ => return quote!(),
        };
        quote!(#[cfg_attr(feature = "arbitrary", arbitrary(with = #f))])
    }

    /// The owned struct, its case enums, the view's `owned()`/`encode` and the owned
    /// `encode` family for one record.
    pub fn encoder(&self, r: &Record) -> TokenStream {
        let rt = &self.rt;
        let view = ident(&r.name);
        let owned = ident(&owned_name(&r.name));
        let derived = derived(self.spec, r);
        let selected = selectors(self.spec, r, &derived);
        let slots = varint_slots(r);
        let spec_line = format!(" Spec: {}:{}", r.origin.file, r.origin.line);
        let doc1 = format!(
            " The owned counterpart of [`{}`], for building and encoding values.",
            r.name
        );
        let mut fields = Vec::new();
        let mut cases = Vec::new();
        let mut conv = Vec::new();
        let mut fixups = Vec::new();
        for m in &r.members {
            self.owned_cases(m, &mut cases);
            if let Kind::Let(..) = m.kind {
                continue;
            }
            let id = ident(&m.rust);
            let d = docs(&m.origin);
            if derived.contains_key(&m.rust) {
                let t = match m.kind {
                    Kind::VarInt => quote!(u64),
                    Kind::Int(w) => uint_type(w),
                    _ => quote!(u64),
                };
                fields.push(quote! {
                    #d
                    #[doc = ""]
                    #[doc = " Computed from the content when `None`; a value set here must agree (except through `encode_raw`)."]
                    #[cfg_attr(feature = "arbitrary", arbitrary(default))]
                    pub #id: Option<#t>,
                });
                conv.push(quote!(#id: None,));
                continue;
            }
            if let Some(sel) = selected.get(&m.rust) {
                let t = self.owned_type(m);
                fields.push(quote! {
                    #d
                    #[doc = ""]
                    #[doc = " The first label of the variant held when `None`; a value set here must choose that variant (except through `encode_raw`)."]
                    #[cfg_attr(feature = "arbitrary", arbitrary(default))]
                    pub #id: Option<#t>,
                });
                conv.push(quote!(#id: Some(self.#id),));
                let held = ident(&sel.member);
                let tag = match &sel.inner {
                    Some(inner) => {
                        let inner = ident(inner);
                        quote!(__o.#held.#inner.tag())
                    }
                    None => quote!(__o.#held.tag()),
                };
                let mine = match m.kind {
                    Kind::Enum(..) => quote!(__o.#id),
                    _ => quote!(__o.#id.map(u64::from)),
                };
                fixups.push(quote!(if #tag == #mine { __o.#id = None; }));
                continue;
            }
            let t = self.owned_type(m);
            let arb = self.arb_attr(m);
            fields.push(quote!(#d #arb pub #id: #t,));
            let v = self.owned_value_opt(m, quote!(self.#id));
            conv.push(quote!(#id: #v,));
        }
        if !slots.is_empty() {
            fields.push(quote! {
                /// The widths of varints that were not minimal when parsed (default: all minimal).
                #[cfg_attr(feature = "arbitrary", arbitrary(default))]
                pub varint_widths: #rt::VarIntWidths,
            });
            conv.push(quote!(varint_widths: self.varint_widths,));
        }
        let params: Vec<TokenStream> = r
            .params
            .iter()
            .map(|(p, ty)| {
                let id = ident(p);
                let t = self.param_type(ty);
                quote!(#id: #t)
            })
            .collect();
        let param_names: Vec<TokenStream> = r
            .params
            .iter()
            .map(|(p, _)| {
                let id = ident(p);
                quote!(#id)
            })
            .collect();
        let param_tys: Vec<TokenStream> =
            r.params.iter().map(|(_, ty)| self.param_type(ty)).collect();
        let what = format!("{} ({}:{})", r.name, r.origin.file, r.origin.line);
        let view_params = r.params.iter().map(|(p, _)| {
            let id = ident(p);
            quote!(self.#id)
        });
        let body = self.encode_body(r, &derived, &selected, &slots);
        let owned_body = if fixups.is_empty() {
            quote!(#owned { #(#conv)* })
        } else {
            quote! {
                let mut __o = #owned { #(#conv)* };
                // A selector the variant implies is left to the encoder.
                #(#fixups)*
                __o
            }
        };
        let open_method = self.record_open(r);
        let view_lt = if r.borrows { quote!(<'_>) } else { quote!() };
        let param_doc = if r.params.is_empty() {
            quote!()
        } else {
            quote!(#[doc = " The parameters are the record's spec parameters, which the encoder uses to check case selectors, conditions and bounds (docs/SPEC-LANGUAGE.md, \"Encoders\")."])
        };
        quote! {
            #[doc = #doc1]
            #[doc = ""]
            #[doc = #spec_line]
            #[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
            #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
            pub struct #owned { #(#fields)* }
            impl #owned {
                /// Appends the encoding to `out`, computing derived lengths and counts and
                /// checking every other bound, selector and condition against the value.
                #param_doc
                pub fn encode(&self, out: &mut Vec<u8>, #(#params),*) -> Result<(), #rt::EncodeError> {
                    self.encode_with(out, #(#param_names,)* #rt::EncodeMode::Strict)
                }
                /// The escape hatch for negative tests: like `encode`, but lengths and counts
                /// set by hand are written as they are and nothing is checked, so the bytes may
                /// not parse.
                pub fn encode_raw(&self, out: &mut Vec<u8>, #(#params),*) -> Result<(), #rt::EncodeError> {
                    self.encode_with(out, #(#param_names,)* #rt::EncodeMode::Raw)
                }
                /// The encoding as a new vector (see `encode`).
                pub fn to_bytes(&self, #(#params),*) -> Result<Vec<u8>, #rt::EncodeError> {
                    let mut out = Vec::new();
                    self.encode(&mut out, #(#param_names),*)?;
                    Ok(out)
                }
                /// True when the encoding runs to the end of its input (it ends in
                /// `&restofdata`, an unknown case body or an `&optional` field), so that nothing
                /// may follow it where the parser reads it.
                #[allow(clippy::all)]
                pub fn open_ended(&self) -> bool {
                    #open_method
                }
                /// Appends the encoding in the given mode (what `encode` and `encode_raw` call,
                /// and what enclosing records call).
                #[allow(unused_variables, unused_mut, clippy::all)]
                pub fn encode_with(&self, __out: &mut Vec<u8>, #(#params,)* __mode: #rt::EncodeMode) -> Result<(), #rt::EncodeError> {
                    #body
                }
            }
            impl #view #view_lt {
                /// The owned counterpart of this parsed value (derived lengths left to be
                /// computed, varint widths kept), which encodes back to the same bytes.
                #[allow(clippy::all)]
                pub fn owned(&self) -> #owned {
                    #owned_body
                }
                /// Re-emits this parsed value: the bytes it was parsed from.
                pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), #rt::EncodeError> {
                    self.owned().encode(out, #(#view_params),*)
                }
            }
            #[cfg(feature = "arbitrary")]
            impl #owned {
                /// One round-trip property case: an arbitrary value and arguments from `u`,
                /// encoded, parsed back and compared. `Ok(None)` when the value does not encode
                /// (a variant its arguments do not choose, a bound it does not meet);
                /// `Ok(Some(Err(why)))` names the type and its spec line when the round trip
                /// breaks.
                pub fn arbitrary_round_trip(
                    u: &mut arbitrary::Unstructured<'_>,
                ) -> arbitrary::Result<Option<Result<(), String>>> {
                    let __value: Self = u.arbitrary()?;
                    #(let #param_names: #param_tys = u.arbitrary()?;)*
                    let Ok(__bytes) = __value.to_bytes(#(#param_names),*) else {
                        return Ok(None);
                    };
                    let __what = #what;
                    Ok(Some(match #view::parse(&__bytes, #(#param_names),*) {
                        Err(e) => Err(format!("{__what}: the encoding {__bytes:02x?} of {__value:?} does not parse: {e:?}")),
                        Ok((_, rest)) if !rest.is_empty() => Err(format!("{__what}: {} bytes left after parsing the encoding of {__value:?}", rest.len())),
                        Ok((__parsed, _)) => {
                            let __back = __parsed.owned();
                            if __back == __value {
                                Ok(())
                            } else {
                                Err(format!("{__what}: {__value:?} encodes to {__bytes:02x?}, which parses back as {__back:?}"))
                            }
                        }
                    }))
                }
            }
            impl From<&#view #view_lt> for #owned {
                fn from(v: &#view #view_lt) -> Self {
                    v.owned()
                }
            }
            #(#cases)*
        }
    }

    /// The owned enums of a case member (recursively: arms may hold cases).
    fn owned_cases(&self, m: &Member, out: &mut Vec<TokenStream>) {
        let Kind::Case(c) = &m.kind else { return };
        let en = ident(&owned_name(&c.enum_name));
        let view_en = ident(&c.enum_name);
        let tag_ty = match &c.selector.ty {
            Ty::Enum(e) => {
                let id = ident(e);
                quote!(#id)
            }
            Ty::Bool => quote!(bool),
            _ => quote!(u64),
        };
        let mut variants = Vec::new();
        let mut conv = Vec::new();
        let mut first_default = None;
        let arms = c
            .arms
            .iter()
            .map(|a| (a.variant.clone(), a.field.as_deref()))
            .collect::<Vec<_>>();
        for (variant, field) in &arms {
            let var = ident(variant);
            let d = format!(" The owned form of [`{}::{}`].", c.enum_name, variant);
            match field {
                Some(f) => {
                    let t = self.owned_type(f);
                    let arb = self.arb_attr(f);
                    variants.push(quote!(#[doc = #d] #var(#arb #t),));
                    let v = self.owned_value_opt(f, quote!(__v));
                    conv.push(quote!(#view_en::#var(__v) => #en::#var(#v),));
                    self.owned_cases(f, out);
                    if first_default.is_none() {
                        first_default = Some(quote!(#en::#var(Default::default())));
                    }
                }
                None => {
                    variants.push(quote!(#[doc = #d] #var,));
                    conv.push(quote!(#view_en::#var => #en::#var,));
                    if first_default.is_none() {
                        first_default = Some(quote!(#en::#var));
                    }
                }
            }
        }
        let default = match &c.default {
            None => {
                variants.push(quote! {
                    /// Any other selector value: the tag and the undecoded body.
                    Unknown { tag: #tag_ty, body: Vec<u8> },
                });
                conv.push(quote!(#view_en::Unknown { tag, body } => #en::Unknown { tag: tag, body: body.to_vec() },));
                quote!(#en::Unknown { tag: Default::default(), body: Vec::new() })
            }
            Some(None) => {
                variants.push(quote! {
                    /// Any other selector value (the arm is empty).
                    Other { tag: #tag_ty },
                });
                conv.push(quote!(#view_en::Other { tag } => #en::Other { tag: tag },));
                quote!(#en::Other { tag: Default::default() })
            }
            Some(Some(f)) => {
                let var = ident(&camel(&f.name));
                let t = self.owned_type(f);
                let arb = self.arb_attr(f);
                variants.push(quote!(#[doc = " Any other selector value."] #var(#arb #t),));
                let v = self.owned_value_opt(f, quote!(__v));
                conv.push(quote!(#view_en::#var(__v) => #en::#var(#v),));
                self.owned_cases(f, out);
                quote!(#en::#var(Default::default()))
            }
        };
        let _ = first_default;
        // `tag()`: the selector value that chooses the variant held (its first label).
        let mut tags = Vec::new();
        for a in &c.arms {
            let var = ident(&a.variant);
            let pat = if a.field.is_some() {
                quote!(#en::#var(..))
            } else {
                quote!(#en::#var)
            };
            let label = a.labels.first().map(|l| match (l, &c.selector.ty) {
                (Pattern::Const(e, k), _) => {
                    let (e, k) = (ident(e), ident(k));
                    quote!(#e::#k)
                }
                (Pattern::Int(v), Ty::Enum(e)) => {
                    let e = ident(e);
                    let v = Literal::u64_unsuffixed(*v);
                    quote!(#e(#v))
                }
                (Pattern::Int(v), _) => {
                    let v = Literal::u64_suffixed(*v);
                    quote!(#v)
                }
                (Pattern::Bool(b), _) => quote!(#b),
            });
            match label {
                Some(l) => tags.push(quote!(#pat => Some(#l),)),
                None => tags.push(quote!(#pat => None,)),
            }
        }
        match &c.default {
            None => tags.push(quote!(#en::Unknown { tag, .. } => Some(*tag),)),
            Some(None) => tags.push(quote!(#en::Other { tag } => Some(*tag),)),
            Some(Some(f)) => {
                let var = ident(&camel(&f.name));
                tags.push(quote!(#en::#var(..) => None,));
            }
        }
        let mut opens = Vec::new();
        for a in &c.arms {
            let var = ident(&a.variant);
            match &a.field {
                Some(f) => {
                    let o = self
                        .open_expr(f, quote!(__f))
                        .unwrap_or_else(|| quote!(false));
                    opens.push(quote!(#en::#var(__f) => #o,));
                }
                None => opens.push(quote!(#en::#var => false,)),
            }
        }
        match &c.default {
            None => opens.push(quote!(#en::Unknown { .. } => true,)),
            Some(None) => opens.push(quote!(#en::Other { .. } => false,)),
            Some(Some(f)) => {
                let var = ident(&camel(&f.name));
                let o = self
                    .open_expr(f, quote!(__f))
                    .unwrap_or_else(|| quote!(false));
                opens.push(quote!(#en::#var(__f) => #o,));
            }
        }
        let d = docs(&m.origin);
        let view_lt = if c.borrows { quote!(<'_>) } else { quote!() };
        out.push(quote! {
            #d
            #[derive(Clone, Debug, PartialEq, Eq, Hash)]
            #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
            pub enum #en { #(#variants)* }
            impl #en {
                /// The selector value that chooses the variant held: its first label, the tag of
                /// an unknown or other value, `None` for a default arm's field.
                pub fn tag(&self) -> Option<#tag_ty> {
                    match self { #(#tags)* }
                }
                /// True when the variant's encoding runs to the end of its input.
                #[allow(clippy::all)]
                pub fn open_ended(&self) -> bool {
                    match self { #(#opens)* }
                }
            }
            impl Default for #en {
                /// The default arm, so that a default value of the enclosing record is the one
                /// whose selector chooses nothing in particular.
                fn default() -> Self { #default }
            }
            impl #view_en #view_lt {
                /// The owned counterpart of this parsed value.
                #[allow(clippy::all)]
                pub fn owned(&self) -> #en {
                    match *self { #(#conv)* }
                }
            }
        });
    }

    /// The owned value of member `m` from the view value `v` (with `Option` handled).
    fn owned_value_opt(&self, m: &Member, v: TokenStream) -> TokenStream {
        if m.if_cond.is_some() || m.optional {
            let inner = self.owned_value(m, quote!(__o));
            quote!(#v.map(|__o| #inner))
        } else {
            self.owned_value(m, v)
        }
    }

    /// The owned value of member `m` from the view value `v` (a plain value, not an `Option`).
    fn owned_value(&self, m: &Member, v: TokenStream) -> TokenStream {
        match &m.kind {
            Kind::Int(_) | Kind::VarInt | Kind::Enum(..) | Kind::Let(..) => v,
            Kind::Bytes => match fixed_bytes(m).map(Literal::usize_unsuffixed) {
                Some(n) => quote!(<[u8; #n]>::try_from(#v).unwrap_or([0; #n])),
                None => quote!(#v.to_vec()),
            },
            Kind::List { elem, .. } => {
                let each = match elem {
                    Elem::Record(_) => quote!(__e.owned()),
                    _ => quote!(__e),
                };
                match fixed_count(m) {
                    Some(_) => quote!({
                        let mut __it = #v.iter();
                        core::array::from_fn(|_| __it.next().map(|__e| #each).unwrap_or_default())
                    }),
                    None if matches!(elem, Elem::Record(_)) => {
                        quote!(#v.iter().map(|__e| #each).collect())
                    }
                    None => quote!(#v.iter().collect()),
                }
            }
            Kind::Record(..) | Kind::Case(_) => quote!(#v.owned()),
        }
    }

    /// The body of `encode_with`: bind the scalar members and lets, compute the derived
    /// fields, then write every member in order.
    fn encode_body(
        &self,
        r: &Record,
        derived: &BTreeMap<String, Derived>,
        selected: &BTreeMap<String, Selected>,
        slots: &[String],
    ) -> TokenStream {
        let rt = &self.rt;
        let name_str = r.name.as_str();
        let mut binds = Vec::new();
        // Scalars and byte strings straight from the value, as the parser's locals are.
        for m in &r.members {
            if derived.contains_key(&m.rust) {
                continue;
            }
            if let Some(sel) = selected.get(&m.rust) {
                let id = ident(&m.rust);
                let path = m.path.as_str();
                let held = ident(&sel.member);
                let tag = match &sel.inner {
                    Some(inner) => {
                        let inner = ident(inner);
                        quote!(self.#held.#inner.tag())
                    }
                    None => quote!(self.#held.tag()),
                };
                let (set, ty) = match m.kind {
                    Kind::Enum(ref e, _) => {
                        let e = ident(e);
                        (quote!(self.#id), quote!(#e))
                    }
                    _ => (quote!(self.#id.map(u64::from)), quote!(u64)),
                };
                binds.push(quote! {
                    let #id: #ty = match (#set, #tag) {
                        (Some(__v), _) | (None, Some(__v)) => __v,
                        (None, None) => return Err(#rt::EncodeError::CaseMismatch { path: #path }),
                    };
                });
                continue;
            }
            let id = ident(&m.rust);
            let opt = m.if_cond.is_some() || m.optional;
            let b = match (&m.kind, opt) {
                (Kind::Int(_), false) => quote!(let #id: u64 = u64::from(self.#id);),
                (Kind::Int(_), true) => quote!(let #id: Option<u64> = self.#id.map(u64::from);),
                (Kind::VarInt | Kind::Enum(..), _) => quote!(let #id = self.#id;),
                (Kind::Bytes, false) => quote!(let #id: &[u8] = &self.#id[..];),
                (Kind::Bytes, true) => {
                    quote!(let #id: Option<&[u8]> = self.#id.as_ref().map(|__b| &__b[..]);)
                }
                // Lists, records and cases are read by expressions only through `len(x)` and
                // `x.field`, which the owned forms answer alike.
                (Kind::List { .. } | Kind::Record(..) | Kind::Case(_), false) => {
                    quote!(let #id = &self.#id;)
                }
                (Kind::List { .. } | Kind::Record(..) | Kind::Case(_), true) => {
                    quote!(let #id = self.#id.as_ref();)
                }
                _ => continue,
            };
            binds.push(b);
        }
        // `x.$sourcedata` read by an expression: the member's own encoding.
        let uses = r.parse_uses();
        for m in &r.members {
            let sid = format!("{}_sourcedata", m.name);
            if !m.sourcedata || !uses.contains(&sid) {
                continue;
            }
            let sid = ident(&sid);
            let id = ident(&m.rust);
            let w = self.write_member(r, m, quote!(&self.#id), true, slots);
            binds.push(quote! {
                let #sid: Vec<u8> = {
                    let mut __src = Vec::new();
                    {
                        let __out = &mut __src;
                        let __mode = #rt::EncodeMode::Measure;
                        #w
                    }
                    __src
                };
            });
        }
        let eg = ExprGen {
            gen: self,
            mode: Mode::Validated,
            path: name_str,
        };
        for m in &r.members {
            if let Kind::Let(ty, e) = &m.kind {
                let id = ident(&m.rust);
                let path = m.path.as_str();
                let value = |eg: &ExprGen<'_>| match ty {
                    Ty::Bool | Ty::Enum(_) | Ty::Bytes => eg.value(e),
                    _ => eg.int(e),
                };
                let v = value(&eg);
                if e.can_fail() {
                    // The parser fails where the let's arithmetic or slice does (a Retry
                    // shorter than its tag): evaluate it as the parser does, over an empty
                    // reader that only supplies the error's offset.
                    let strict = value(&ExprGen {
                        gen: self,
                        mode: Mode::Parse,
                        path,
                    });
                    binds.push(quote! {
                        let #id = {
                            let r = &mut #rt::Reader::new(&[]);
                            let __strict = (|| -> Result<_, #rt::ParseError> { Ok(#strict) })();
                            match __strict {
                                Ok(__v) => __v,
                                Err(_) if __mode.checks() => {
                                    return Err(#rt::EncodeError::Arithmetic { path: #path });
                                }
                                Err(_) => #v,
                            }
                        };
                    });
                } else {
                    binds.push(quote!(let #id = #v;));
                }
            }
        }
        // Derived fields, in order: measure the member each one bounds.
        let mut pre = BTreeMap::new();
        for m in &r.members {
            let Some(d) = derived.get(&m.rust) else {
                continue;
            };
            let Some(target) = r.members.iter().find(|x| x.rust == d.target) else {
                continue;
            };
            let id = ident(&m.rust);
            let path = m.path.as_str();
            let tid = ident(&target.rust);
            let actual = if d.count {
                quote!(#rt::encode::len_u64(self.#tid.len()))
            } else if d.measure {
                let w = self.write_member(r, target, quote!(&self.#tid), true, slots);
                quote!({
                    let #id: u64 = 0;
                    let mut __measure = Vec::new();
                    {
                        let __out = &mut __measure;
                        let __mode = #rt::EncodeMode::Measure;
                        #w
                    }
                    #rt::encode::len_u64(__measure.len())
                })
            } else {
                let w = self.write_member(r, target, quote!(&self.#tid), true, slots);
                let buf = ident(&format!("__enc_{}", target.name));
                pre.insert(target.rust.clone(), buf.clone());
                binds.push(quote! {
                    let mut #buf = Vec::new();
                    {
                        let __out = &mut #buf;
                        #w
                    }
                });
                quote!(#rt::encode::len_u64(#buf.len()))
            };
            let set = quote!(self.#id.map(u64::from));
            binds.push(
                quote!(let #id: u64 = #rt::encode::derived_len(#set, #actual, __mode, #path)?;),
            );
        }
        let mut writes = Vec::new();
        for m in &r.members {
            if let Kind::Let(..) = m.kind {
                continue;
            }
            let id = ident(&m.rust);
            let path = m.path.as_str();
            if derived.contains_key(&m.rust) {
                let w = match m.kind {
                    Kind::VarInt => {
                        let slot = self.slot_width(slots, path);
                        quote!(#rt::encode::put_varint(__out, #id, #slot, #path)?;)
                    }
                    Kind::Int(w) => quote!(#rt::encode::put_uint(__out, #id, #w, #path)?;),
                    _ => quote!(),
                };
                // A computed length must still meet the field's `&check`s (a QUIC connection
                // id of 1 to 20 bytes): the parser rejects it otherwise.
                let checks = self.encode_checks(m);
                writes.push(quote!(#w #checks));
                continue;
            }
            if selected.contains_key(&m.rust) {
                writes.push(match m.kind {
                    Kind::VarInt => {
                        let width = self.slot_width(slots, path);
                        quote!(#rt::encode::put_varint(__out, #id, #width, #path)?;)
                    }
                    Kind::Int(w) => quote!(#rt::encode::put_uint(__out, #id, #w, #path)?;),
                    Kind::Enum(_, w) => {
                        quote!(#rt::encode::put_uint(__out, u64::from(#id.0), #w, #path)?;)
                    }
                    _ => quote!(),
                });
                continue;
            }
            if let Some(buf) = pre.get(&m.rust) {
                writes.push(quote!(__out.extend_from_slice(&#buf);));
                continue;
            }
            writes.push(self.write_member(r, m, quote!(&self.#id), false, slots));
        }
        // A member that runs to the end of its input must be the last thing written: the
        // parser would take whatever follows as part of it.
        let last = r
            .members
            .iter()
            .rposition(|m| !matches!(m.kind, Kind::Let(..)));
        let mut w = 0;
        let mut with_open = Vec::new();
        for (i, m) in r.members.iter().enumerate() {
            if let Kind::Let(..) = m.kind {
                continue;
            }
            let stmt = writes.get(w).cloned().unwrap_or_default();
            w += 1;
            let id = ident(&m.rust);
            let path = m.path.as_str();
            match self.open_expr(m, quote!((&self.#id))) {
                Some(open) if Some(i) != last => with_open.push(quote! {
                    #stmt
                    if __mode.checks() && #open {
                        __open = Some((#path, __out.len()));
                    }
                }),
                _ => with_open.push(stmt),
            }
        }
        let writes = with_open;
        let open_end = quote! {
            if let Some((__path, __at)) = __open {
                if __out.len() > __at {
                    return Err(#rt::EncodeError::OpenEnded { path: __path });
                }
            }
        };
        let (start, end) = match &r.length {
            Some(len) => {
                let n = eg.int(len);
                (
                    quote!(let __start = __out.len();),
                    quote!(#rt::encode::check_len(#n, __out.len() - __start, __mode, #name_str)?;),
                )
            }
            None => (quote!(), quote!()),
        };
        quote! {
            #(#binds)*
            #start
            let mut __open: Option<(&'static str, usize)> = None;
            #(#writes)*
            #open_end
            #end
            Ok(())
        }
    }

    /// The body of `open_ended()`: true when the value's encoding runs to the end of its
    /// input (ends in `&restofdata`, an unknown case body, or an `&optional` field).
    fn record_open(&self, r: &Record) -> TokenStream {
        if r.length.is_some() {
            return quote!(false);
        }
        let Some(m) = r
            .members
            .iter()
            .rev()
            .find(|m| !matches!(m.kind, Kind::Let(..)))
        else {
            return quote!(false);
        };
        let id = ident(&m.rust);
        self.open_expr(m, quote!((&self.#id)))
            .unwrap_or_else(|| quote!(false))
    }

    /// Whether member `m` (its value a reference at `place`) runs to the end of its input, or
    /// `None` when it never does (a bound, a fixed size, a count).
    fn open_expr(&self, m: &Member, place: TokenStream) -> Option<TokenStream> {
        if m.length.is_some() {
            return None;
        }
        if m.rest {
            return Some(quote!(true));
        }
        let inner = |v: TokenStream| -> Option<TokenStream> {
            match &m.kind {
                Kind::Bytes => Some(quote!(true)),
                Kind::List { count: None, .. } => Some(quote!(true)),
                Kind::Record(..) | Kind::Case(_) => Some(quote!(#v.open_ended())),
                _ => None,
            }
        };
        if m.optional {
            let some = inner(quote!(__x)).unwrap_or_else(|| quote!(false));
            Some(quote!(match #place { None => true, Some(__x) => #some }))
        } else if m.if_cond.is_some() {
            let some = inner(quote!(__x))?;
            Some(quote!(match #place { None => false, Some(__x) => #some }))
        } else {
            inner(place)
        }
    }

    /// The member's `&check`s, evaluated on the encoder's locals (strict mode only).
    fn encode_checks(&self, m: &Member) -> TokenStream {
        let rt = &self.rt;
        let path = m.path.as_str();
        let eg = ExprGen {
            gen: self,
            mode: Mode::Validated,
            path,
        };
        let checks = m.checks.iter().map(|(c, text)| {
            let c = eg.boolean(c);
            quote! {
                if __mode.checks() && !#c {
                    return Err(#rt::EncodeError::Check { path: #path, constraint: #text });
                }
            }
        });
        quote!(#(#checks)*)
    }

    /// The width to write a varint slot with, as tokens.
    fn slot_width(&self, slots: &[String], path: &str) -> TokenStream {
        match slots.iter().position(|p| p == path) {
            Some(i) => {
                let i = Literal::u32_suffixed(u32::try_from(i).unwrap_or(u32::MAX));
                quote!(self.varint_widths.width(#i))
            }
            None => quote!(0),
        }
    }

    /// Statements that write member `m` whose value is at `place` (a reference to the owned
    /// value, `Option` included), with its condition, bound and checks. `bare` leaves out the
    /// bound check (the caller computes the bound from what this writes).
    fn write_member(
        &self,
        r: &Record,
        m: &Member,
        place: TokenStream,
        bare: bool,
        slots: &[String],
    ) -> TokenStream {
        let rt = &self.rt;
        let path = m.path.as_str();
        let eg = ExprGen {
            gen: self,
            mode: Mode::Validated,
            path,
        };
        let opt = m.if_cond.is_some() || m.optional;
        let place = quote!((#place));
        let value = if opt { quote!(__p) } else { place.clone() };
        let base = self.write_kind(r, m, value.clone(), slots);
        // A bound given by an expression (not a derived field) is checked, not computed.
        let bounded = match (&m.length, bare) {
            (Some(len), false) if fixed_bytes(m).is_none() => {
                let n = eg.int(len);
                quote! {
                    let __at = __out.len();
                    #base
                    #rt::encode::check_len(#n, __out.len() - __at, __mode, #path)?;
                }
            }
            _ => base,
        };
        let count_check = match (&m.kind, bare) {
            (Kind::List { count: Some(c), .. }, false) if fixed_count(m).is_none() => {
                let n = eg.int(c);
                quote!(#rt::encode::check_len(#n, #value.len(), __mode, #path)?;)
            }
            _ => quote!(),
        };
        let checks = self.encode_checks(m);
        // `&check`s read the field by its name: bind it for them where it is not bound yet.
        let inner = quote!({ #count_check #bounded #checks });
        if let Some(c) = &m.if_cond {
            let c = eg.boolean(c);
            quote! {
                match (#place, #c) {
                    (Some(__p), true) => #inner,
                    (None, false) => {}
                    (Some(__p), false) if !__mode.checks() => #inner,
                    (None, true) if !__mode.checks() => {}
                    (__p, __c) => return Err(#rt::EncodeError::Condition { path: #path, expected_present: __c }),
                }
            }
        } else if m.optional {
            quote!(if let Some(__p) = #place #inner)
        } else {
            inner
        }
    }

    /// Statements that write the value `v` (a reference) of member `m`'s kind.
    fn write_kind(&self, r: &Record, m: &Member, v: TokenStream, slots: &[String]) -> TokenStream {
        let rt = &self.rt;
        let v = quote!((#v));
        let path = m.path.as_str();
        let eg = ExprGen {
            gen: self,
            mode: Mode::Validated,
            path,
        };
        match &m.kind {
            Kind::Int(w) => quote!(#rt::encode::put_uint(__out, u64::from(*#v), #w, #path)?;),
            Kind::VarInt => {
                let width = self.slot_width(slots, path);
                quote!(#rt::encode::put_varint(__out, *#v, #width, #path)?;)
            }
            Kind::Enum(_, w) => quote!(#rt::encode::put_uint(__out, u64::from(#v.0), #w, #path)?;),
            Kind::Bytes => quote!(__out.extend_from_slice(&#v[..]);),
            Kind::List { elem, args, .. } => {
                let each = match elem {
                    Elem::Int(w) => {
                        quote!(#rt::encode::put_uint(__out, u64::from(*__e), #w, #path)?;)
                    }
                    Elem::VarInt => quote!(#rt::encode::put_varint(__out, *__e, 0, #path)?;),
                    Elem::Enum(e) => {
                        let w = self
                            .spec
                            .enums
                            .iter()
                            .find(|x| &x.name == e)
                            .map_or(1, |x| x.width);
                        quote!(#rt::encode::put_uint(__out, u64::from(__e.0), #w, #path)?;)
                    }
                    Elem::Record(_) => {
                        let args: Vec<TokenStream> = args
                            .iter()
                            .enumerate()
                            .map(|(i, a)| self.arg(a, elem_param(self.spec, elem, i), &eg))
                            .collect();
                        quote!(__e.encode_with(__out, #(#args,)* __mode)?;)
                    }
                };
                let open = match elem {
                    Elem::Record(_) => quote! {
                        if __mode.checks() && __i + 1 < #v.len() && __e.open_ended() {
                            return Err(#rt::EncodeError::OpenEnded { path: #path });
                        }
                    },
                    _ => quote!(),
                };
                quote!(for (__i, __e) in #v.iter().enumerate() { #open #each })
            }
            Kind::Record(rn, args) => {
                let args = self.record_args(rn, args, &eg);
                quote!(#v.encode_with(__out, #(#args,)* __mode)?;)
            }
            Kind::Case(c) => self.write_case(r, m, c, v, slots),
            Kind::Let(..) => quote!(),
        }
    }

    /// Statements that write a case value `v` (a reference to the owned enum): check that the
    /// selector chooses the variant held, then write the variant's field.
    fn write_case(
        &self,
        r: &Record,
        m: &Member,
        c: &Case,
        v: TokenStream,
        slots: &[String],
    ) -> TokenStream {
        let rt = &self.rt;
        let path = m.path.as_str();
        let en = ident(&owned_name(&c.enum_name));
        let (sel, pats) = self.case_parts(m, c, Mode::Validated);
        // Which arm the selector chooses (arms in order, the default last).
        let n_arms = c.arms.len();
        let chosen = c.arms.iter().zip(&pats).enumerate().map(|(i, (_, p))| {
            let i = Literal::usize_unsuffixed(i);
            quote!(#p => #i,)
        });
        let mut held = Vec::new();
        let mut writes = Vec::new();
        for (i, a) in c.arms.iter().enumerate() {
            let var = ident(&a.variant);
            let i = Literal::usize_unsuffixed(i);
            match &a.field {
                Some(f) => {
                    held.push(quote!(#en::#var(..) => (#i, true),));
                    let w = self.write_member(r, f, quote!(__f), false, slots);
                    writes.push(quote!(#en::#var(__f) => { #w }));
                }
                None => {
                    held.push(quote!(#en::#var => (#i, true),));
                    writes.push(quote!(#en::#var => {}));
                }
            }
        }
        let d = Literal::usize_unsuffixed(n_arms);
        match &c.default {
            None => {
                held.push(quote!(#en::Unknown { tag, .. } => (#d, *tag == __tag),));
                writes.push(quote!(#en::Unknown { body, .. } => __out.extend_from_slice(body),));
            }
            Some(None) => {
                held.push(quote!(#en::Other { tag } => (#d, *tag == __tag),));
                writes.push(quote!(#en::Other { .. } => {}));
            }
            Some(Some(f)) => {
                let var = ident(&camel(&f.name));
                held.push(quote!(#en::#var(..) => (#d, true),));
                let w = self.write_member(r, f, quote!(__f), false, slots);
                writes.push(quote!(#en::#var(__f) => { #w }));
            }
        }
        quote! {
            if __mode.checks() {
                let __tag = #sel;
                #[allow(unreachable_patterns)]
                let __want: usize = match __tag { #(#chosen)* _ => #d };
                let (__have, __tag_ok): (usize, bool) = match #v { #(#held)* };
                if __want != __have || !__tag_ok {
                    return Err(#rt::EncodeError::CaseMismatch { path: #path });
                }
            }
            match #v { #(#writes)* }
        }
    }
}
