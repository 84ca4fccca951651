//! Typed IR expressions -> Rust expressions.
//!
//! In: an [`IExpr`] and where it is evaluated (while validating, while building from validated
//! bytes, in a walker, or inside a comprehension's function pointer). Out: a `TokenStream`. While
//! validating, arithmetic is checked and failures become `ParseError`s naming the field; everywhere
//! else (nothing there can fail) it saturates.

use super::Gen;
use crate::ir::{BinOp, Elem, IExpr, IKind, Ty, UnOp, VarKind, ZTy};
use crate::names::ident;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

/// Where an expression is evaluated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Inside `skip`: members are locals, `r` is the reader, `?` is available.
    Parse,
    /// Inside `read_validated`: members are locals, nothing can fail (validation evaluated the
    /// same expression successfully), so arithmetic saturates as in walkers.
    Validated,
    /// Inside `walk`: members are `self.x`, `ctx` is the context, nothing can fail.
    Glue,
    /// Inside a comprehension step: only the loop variable; nothing can fail.
    Closure,
}

/// Expression emitter for one evaluation site.
pub struct ExprGen<'g> {
    /// The generator (types, runtime path).
    pub gen: &'g Gen<'g>,
    /// Evaluation site.
    pub mode: Mode,
    /// Error path literal for failures while parsing.
    pub path: &'g str,
}

impl ExprGen<'_> {
    /// The expression as a `u64`.
    pub fn int(&self, e: &IExpr) -> TokenStream {
        match (&e.kind, &e.ty) {
            (IKind::Int(n), _) => {
                let n = Literal::u64_suffixed(*n);
                quote!(#n)
            }
            (_, Ty::Enum(_)) => {
                let v = self.value(e);
                quote!(u64::from(#v.0))
            }
            (IKind::Len(_) | IKind::BeUint(_) | IKind::Binary(..) | IKind::Cond(..), _) => {
                self.value(e)
            }
            _ => {
                let v = self.value(e);
                quote!(u64::from(#v))
            }
        }
    }

    /// The expression as a `bool`.
    pub fn boolean(&self, e: &IExpr) -> TokenStream {
        self.value(e)
    }

    /// The expression in its natural Rust type.
    pub fn value(&self, e: &IExpr) -> TokenStream {
        let rt = &self.gen.rt;
        let path = self.path;
        match &e.kind {
            IKind::Int(n) => {
                let n = Literal::u64_suffixed(*n);
                quote!(#n)
            }
            IKind::Bool(b) => quote!(#b),
            IKind::Bytes(b) => {
                let lit = Literal::byte_string(b);
                quote!(&#lit[..])
            }
            IKind::Var(name, kind) => {
                let id = ident(name);
                match (self.mode, kind) {
                    (Mode::Glue, VarKind::Member) => quote!(self.#id),
                    _ => quote!(#id),
                }
            }
            IKind::Ctx(name) => {
                let id = ident(name);
                quote!(ctx.#id)
            }
            IKind::Conn => quote!(()),
            IKind::SelfRef => quote!(self),
            IKind::EnumConst(en, c) => {
                let (en, c) = (ident(en), ident(c));
                quote!(#en::#c)
            }
            IKind::Member(base, f) => {
                let b = self.value(base);
                let f = ident(f);
                quote!(#b.#f)
            }
            IKind::Slice(x, a, b) => {
                let x = self.value(x);
                let (a, b) = (self.int(a), self.int(b));
                match self.mode {
                    Mode::Validated | Mode::Glue | Mode::Closure => {
                        quote!(#x.get(usize::try_from(#a).unwrap_or(usize::MAX)..usize::try_from(#b).unwrap_or(usize::MAX)).unwrap_or(&[]))
                    }
                    Mode::Parse => quote!({
                        let __a = #rt::to_usize(#a, #path, r.offset())?;
                        let __b = #rt::to_usize(#b, #path, r.offset())?;
                        #x.get(__a..__b).ok_or(#rt::ParseError::new(#path, r.offset(), #rt::ErrorKind::Arithmetic))?
                    }),
                }
            }
            IKind::Len(x) => {
                let x = self.value(x);
                quote!((#x.len() as u64))
            }
            IKind::BeUint(x) => {
                let x = self.value(x);
                quote!(#rt::be_uint(#x))
            }
            IKind::ZeroPad(x, n) => {
                let x = self.value(x);
                let n = self.int(n);
                quote!(#rt::ZeekString::zero_pad(#x, #n))
            }
            IKind::Unary(UnOp::Not, x) => {
                let x = self.boolean(x);
                quote!((!#x))
            }
            IKind::Unary(UnOp::Neg, x) => self.int(x),
            IKind::Binary(op, a, b) => self.binary(*op, a, b),
            IKind::Cond(c, a, b) => {
                let c = self.boolean(c);
                let (a, b) = if e.ty == Ty::Int(8) || matches!(e.ty, Ty::Int(_)) {
                    (self.int(a), self.int(b))
                } else {
                    (self.value(a), self.value(b))
                };
                quote!((if #c { #a } else { #b }))
            }
            IKind::Comprehension {
                body,
                var,
                elem,
                list,
                filter,
            } => {
                let list = self.value(list);
                let elem_ty = self.gen.elem_type(elem, quote!('_));
                let var = ident(var);
                let inner = ExprGen {
                    gen: self.gen,
                    mode: Mode::Closure,
                    path: self.path,
                };
                let z = match &e.ty {
                    Ty::Vector(z) => (**z).clone(),
                    _ => ZTy::Count,
                };
                let body = inner.convert(body, &z);
                let keep = match filter {
                    Some(f) => inner.boolean(f),
                    None => quote!(true),
                };
                quote!(#rt::VecView::new(&#list, |__r| {
                    let #var = <#elem_ty as #rt::Element<'_>>::read_validated(__r, ());
                    Ok(if #keep { Some(#body) } else { None })
                }))
            }
            IKind::RecordLit(name, fields) => {
                let rec = self.gen.spec.zeek_records.iter().find(|z| &z.name == name);
                let inits = fields.iter().map(|(f, v)| {
                    let z = rec
                        .and_then(|r| r.fields.iter().find(|x| &x.rust == f))
                        .map(|x| x.ty.clone())
                        .unwrap_or(ZTy::Count);
                    let fid = ident(f);
                    let v = self.convert(v, &z);
                    quote!(#fid: #v)
                });
                let name = ident(name);
                quote!(#name { #(#inits),* })
            }
        }
    }

    fn binary(&self, op: BinOp, a: &IExpr, b: &IExpr) -> TokenStream {
        let rt = &self.gen.rt;
        let path = self.path;
        match op {
            BinOp::And | BinOp::Or => {
                let (x, y) = (self.boolean(a), self.boolean(b));
                if op == BinOp::And {
                    quote!((#x && #y))
                } else {
                    quote!((#x || #y))
                }
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let natural = matches!((&a.ty, &b.ty), (Ty::Enum(x), Ty::Enum(y)) if x == y)
                    || matches!(
                        (&a.ty, &b.ty),
                        (Ty::Bool, Ty::Bool) | (Ty::Bytes, Ty::Bytes)
                    );
                let (x, y) = if natural {
                    (self.value(a), self.value(b))
                } else {
                    (self.int(a), self.int(b))
                };
                let tok = match op {
                    BinOp::Eq => quote!(==),
                    BinOp::Ne => quote!(!=),
                    BinOp::Lt => quote!(<),
                    BinOp::Le => quote!(<=),
                    BinOp::Gt => quote!(>),
                    _ => quote!(>=),
                };
                quote!((#x #tok #y))
            }
            BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor => {
                let (x, y) = (self.int(a), self.int(b));
                let tok = match op {
                    BinOp::BitAnd => quote!(&),
                    BinOp::BitOr => quote!(|),
                    _ => quote!(^),
                };
                quote!((#x #tok #y))
            }
            _ => {
                let (x, y) = (self.int(a), self.int(b));
                let checked = match op {
                    BinOp::Add => quote!(#x.checked_add(#y)),
                    BinOp::Sub => quote!(#x.checked_sub(#y)),
                    BinOp::Mul => quote!(#x.checked_mul(#y)),
                    BinOp::Div => quote!(#x.checked_div(#y)),
                    BinOp::Rem => quote!(#x.checked_rem(#y)),
                    BinOp::Shl => quote!(#x.checked_shl(u32::try_from(#y).unwrap_or(u32::MAX))),
                    _ => quote!(#x.checked_shr(u32::try_from(#y).unwrap_or(u32::MAX))),
                };
                match self.mode {
                    Mode::Parse => quote!(#rt::checked(#checked, #path, r.offset())?),
                    // Walkers cannot fail: out-of-range arithmetic yields 0 (documented).
                    Mode::Validated | Mode::Glue | Mode::Closure => quote!(#checked.unwrap_or(0)),
                }
            }
        }
    }

    /// The expression converted to the Rust form of Zeek type `z`.
    pub fn convert(&self, e: &IExpr, z: &ZTy) -> TokenStream {
        let rt = &self.gen.rt;
        match z {
            ZTy::Count => self.int(e),
            ZTy::Int => {
                let v = self.int(e);
                quote!(i64::try_from(#v).unwrap_or(i64::MAX))
            }
            ZTy::Double => {
                let v = self.int(e);
                quote!((#v as f64))
            }
            ZTy::Time => {
                let v = self.int(e);
                quote!(#rt::Time(#v as f64))
            }
            ZTy::Bool => self.boolean(e),
            ZTy::String => {
                let v = self.value(e);
                if e.ty == Ty::Str {
                    v
                } else {
                    quote!(#rt::ZeekString::new(#v))
                }
            }
            ZTy::IndexVec | ZTy::Vector(_) | ZTy::StringVec => match &e.ty {
                Ty::List(elem) => {
                    let list = self.value(e);
                    let elem_ty = self.gen.elem_type(elem, quote!('_));
                    let conv = match elem {
                        Elem::Enum(_) => quote!(u64::from(__v.0)),
                        _ => quote!(u64::from(__v)),
                    };
                    quote!(#rt::VecView::new(&#list, |__r| {
                        let __v = <#elem_ty as #rt::Element<'_>>::read_validated(__r, ());
                        Ok(Some(#conv))
                    }))
                }
                _ => self.value(e),
            },
            ZTy::Record(_) | ZTy::Connection => self.value(e),
        }
    }
}
