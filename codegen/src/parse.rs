//! Spec text -> spanned AST. The only module that touches pest pairs.
//!
//! In: one file's text and its index in [`Files`]. Out: its items as [`ast::Item`]s, or a
//! diagnostic pointing at the first token the grammar could not accept. `##` doc lines are
//! comments to the grammar; they are recovered here from the lines just above each item.

use crate::ast::*;
use crate::diag::{Diags, Span};
use pest::iterators::Pair;
use pest::Parser as _;
use std::cell::Cell;

/// The pest parser generated from `grammar.pest`.
#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct PacParser;

/// Parses one file; syntax errors go to `diags`. Expression ids start at `*next_id`, which is
/// advanced past the last one given, so the next file's ids do not collide.
pub fn parse_file(file: usize, text: &str, next_id: &mut u32, diags: &mut Diags) -> Vec<Item> {
    let pairs = match PacParser::parse(Rule::file, text) {
        Ok(pairs) => pairs,
        Err(e) => {
            let (start, end) = match e.location {
                pest::error::InputLocation::Pos(p) => (p, p),
                pest::error::InputLocation::Span(s) => s,
            };
            // A zero-width span at the end of a line still gets a caret from codespan.
            let span = Span {
                file,
                start,
                end: end.max(start),
            };
            let e = e.renamed_rules(rule_name);
            let expected = e.variant.message().into_owned();
            diags.error(
                span,
                format!("syntax error: {expected}"),
                "here",
                "see docs/SPEC-LANGUAGE.md §1-2 for the syntax",
            );
            return Vec::new();
        }
    };
    let cx = Cx {
        file,
        text,
        next_id: Cell::new(*next_id),
    };
    let mut items = Vec::new();
    for pair in pairs.flatten().filter(|p| p.as_rule() == Rule::file) {
        for item in pair.into_inner() {
            if let Some(it) = cx.item(item) {
                items.push(it);
            }
        }
    }
    *next_id = cx.next_id.get();
    items
}

/// Human names for grammar rules in syntax errors.
fn rule_name(rule: &Rule) -> String {
    match rule {
        Rule::ident => "identifier",
        Rule::event_name => "event name",
        Rule::int_lit => "integer",
        Rule::string_lit => "string",
        Rule::expr | Rule::attr_expr | Rule::binary | Rule::unary => "expression",
        Rule::infix | Rule::attr_infix => "operator",
        Rule::attr => "`;` or an attribute",
        Rule::args => "`(`",
        Rule::EOI => "end of file",
        Rule::field | Rule::let_decl => "field",
        Rule::case_arm => "case arm",
        Rule::zfield => "`name: type`",
        other => return format!("{other:?}"),
    }
    .to_string()
}

/// Per-file parsing state.
struct Cx<'t> {
    /// Index of the file in `Files`.
    file: usize,
    /// Its text, for doc recovery.
    text: &'t str,
    /// The next expression id (ids are unique across all files of a spec).
    next_id: Cell<u32>,
}

impl Cx<'_> {
    /// A new expression with the next id.
    fn mk(&self, kind: ExprKind, span: Span) -> Expr {
        let id = self.next_id.get();
        self.next_id.set(id.saturating_add(1));
        Expr {
            id: ExprId(id),
            kind,
            span,
        }
    }

    fn span(&self, p: &Pair<'_, Rule>) -> Span {
        let s = p.as_span();
        Span {
            file: self.file,
            start: s.start(),
            end: s.end(),
        }
    }

    fn ident(&self, p: Pair<'_, Rule>) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: self.span(&p),
        }
    }

    /// The `##` lines immediately above byte `start` (no blank line between).
    fn docs(&self, start: usize) -> Docs {
        let before = self.text.get(..start).unwrap_or("");
        let mut lines: Vec<&str> = before.split('\n').collect();
        // The last element is the item's own line up to the item; skip it.
        lines.pop();
        let mut docs = Vec::new();
        while let Some(line) = lines.pop() {
            let t = line.trim_start();
            match t.strip_prefix("##") {
                Some(rest) => docs.push(
                    rest.strip_prefix(' ')
                        .unwrap_or(rest)
                        .trim_end()
                        .to_string(),
                ),
                None => break,
            }
        }
        docs.reverse();
        docs
    }

    fn item(&self, p: Pair<'_, Rule>) -> Option<Item> {
        let span = self.span(&p);
        let docs = self.docs(span.start);
        let rule = p.as_rule();
        let mut it = p.into_inner();
        Some(match rule {
            Rule::enum_def => {
                let name = self.ident(it.next()?);
                let base = self.ident(it.next()?);
                let consts = it.map(|c| self.enum_const(c)).collect();
                Item::Enum(EnumDef {
                    name,
                    base,
                    consts,
                    docs,
                    span,
                })
            }
            Rule::derive_def => {
                let enum_name = self.ident(it.next()?);
                let method = self.ident(it.next()?);
                let target = self.ident(it.next()?);
                let mode = self.ident(it.next()?);
                let rules = it.filter_map(|r| self.derive_rule(r)).collect();
                Item::Derive(DeriveDef {
                    enum_name,
                    method,
                    target,
                    mode,
                    rules,
                    docs,
                    span,
                })
            }
            Rule::type_def => {
                let name = self.ident(it.next()?);
                let mut params = Vec::new();
                let mut members = Vec::new();
                let mut attrs = Vec::new();
                for m in it {
                    match m.as_rule() {
                        Rule::params => {
                            for prm in m.into_inner() {
                                let mut pi = prm.into_inner();
                                let (Some(n), Some(t)) = (pi.next(), pi.next()) else {
                                    continue;
                                };
                                params.push(Param {
                                    name: self.ident(n),
                                    ty: self.ident(t),
                                });
                            }
                        }
                        Rule::field => members.push(Member::Field(self.field(m)?)),
                        Rule::let_decl => {
                            let lspan = self.span(&m);
                            let ldocs = self.docs(lspan.start);
                            let mut li = m.into_inner().skip(1);
                            let name = self.ident(li.next()?);
                            let ty = self.ident(li.next()?);
                            let expr = self.expr(li.next()?);
                            members.push(Member::Let(LetDef {
                                name,
                                ty,
                                expr,
                                docs: ldocs,
                                span: lspan,
                            }));
                        }
                        Rule::attr => attrs.push(self.attr(m)),
                        _ => {}
                    }
                }
                Item::Record(RecordDef {
                    name,
                    params,
                    members,
                    attrs,
                    docs,
                    span,
                })
            }
            Rule::zeek_record => {
                let name = self.ident(it.next()?);
                let fields = it.filter_map(|f| self.zfield(f)).collect();
                Item::ZeekRecord(ZeekRecordDef {
                    name,
                    fields,
                    docs,
                    span,
                })
            }
            Rule::context_def => {
                let fields = it.filter_map(|f| self.zfield(f)).collect();
                Item::Context(ContextDef { fields, span })
            }
            Rule::event_def => {
                let name = self.ident(it.next()?);
                let mut params: Vec<ZField> = it.filter_map(|f| self.zfield(f)).collect();
                // `## name: text` lines document the parameter `name`; the rest the event.
                let mut event_docs = Vec::new();
                for line in docs {
                    let target = line.split_once(':').and_then(|(n, rest)| {
                        params
                            .iter()
                            .position(|p| p.name.name == n.trim())
                            .map(|i| (i, rest.trim().to_string()))
                    });
                    match target.and_then(|(i, text)| params.get_mut(i).map(|p| (p, text))) {
                        Some((p, text)) => p.docs.push(text),
                        None => event_docs.push(line),
                    }
                }
                Item::Event(EventDef {
                    name,
                    params,
                    docs: event_docs,
                    span,
                })
            }
            Rule::glue => {
                let ty = self.ident(it.next()?);
                let mut cond = None;
                let mut next = it.next()?;
                if next.as_rule() == Rule::kw_if {
                    cond = Some(self.expr(it.next()?));
                    next = it.next()?;
                }
                let event = self.ident(next);
                let args: Vec<Expr> = it.map(|a| self.expr(a)).collect();
                // The argument list runs from just after the event name to the end of the item.
                let args_span = Span {
                    file: self.file,
                    start: event.span.end,
                    end: span.end.saturating_sub(1).max(event.span.end),
                };
                Item::Glue(GlueDef {
                    ty,
                    cond,
                    event,
                    args,
                    args_span,
                    span,
                })
            }
            _ => return None,
        })
    }

    fn enum_const(&self, p: Pair<'_, Rule>) -> EnumConst {
        let docs = self.docs(p.as_span().start());
        let mut name = None;
        let mut value = None;
        let mut value_span = self.span(&p);
        let mut label = None;
        let mut attrs = Vec::new();
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::ident => name = Some(self.ident(c)),
                Rule::int_lit => {
                    value_span = self.span(&c);
                    value = parse_int(c.as_str());
                }
                Rule::string_lit => {
                    label = Some(String::from_utf8_lossy(&unescape(c.as_str())).into_owned())
                }
                Rule::attr => attrs.push(self.attr(c)),
                _ => {}
            }
        }
        let name = name.unwrap_or(Ident {
            name: String::new(),
            span: value_span,
        });
        EnumConst {
            name,
            value,
            value_span,
            label,
            attrs,
            docs,
        }
    }

    fn derive_rule(&self, p: Pair<'_, Rule>) -> Option<DeriveRule> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let first = it.next()?;
        let prefix = match first.as_rule() {
            Rule::string_lit => {
                Some(String::from_utf8_lossy(&unescape(first.as_str())).into_owned())
            }
            _ => None,
        };
        Some(DeriveRule {
            prefix,
            target: self.ident(it.next()?),
            span,
        })
    }

    fn zfield(&self, p: Pair<'_, Rule>) -> Option<ZField> {
        let docs = self.docs(p.as_span().start());
        let mut it = p.into_inner();
        let name = self.ident(it.next()?);
        let ty = self.ztype(it.next()?)?;
        Some(ZField { name, ty, docs })
    }

    fn ztype(&self, p: Pair<'_, Rule>) -> Option<ZType> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let first = it.next()?;
        if first.as_rule() == Rule::kw_vector {
            Some(ZType::Vector(Box::new(self.ztype(it.next()?)?), span))
        } else {
            Some(ZType::Named(self.ident(first)))
        }
    }

    /// A field declaration (`field` or `arm_field`).
    fn field(&self, p: Pair<'_, Rule>) -> Option<Field> {
        let span = self.span(&p);
        let docs = self.docs(span.start);
        let mut it = p.into_inner();
        let name = self.ident(it.next()?);
        let ty = self.field_type(it.next()?)?;
        let attrs = it.map(|a| self.attr(a)).collect();
        Some(Field {
            name,
            ty,
            attrs,
            docs,
            span,
        })
    }

    fn named_type(&self, p: Pair<'_, Rule>) -> Option<NamedType> {
        let mut it = p.into_inner();
        let name = self.ident(it.next()?);
        let args = match it.next() {
            Some(a) => a.into_inner().map(|e| self.expr(e)).collect(),
            None => Vec::new(),
        };
        Some(NamedType { name, args })
    }

    fn field_type(&self, p: Pair<'_, Rule>) -> Option<FieldType> {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::named_type => Some(FieldType::Named(self.named_type(p)?)),
            Rule::array_type => {
                let mut it = p.into_inner();
                let elem = self.named_type(it.next()?)?;
                let count = it.next().map(|e| self.expr(e));
                Some(FieldType::Array { elem, count, span })
            }
            Rule::case_type => {
                let mut it = p.into_inner();
                let selector = self.expr(it.next()?);
                let mut arms = Vec::new();
                for arm in it {
                    let aspan = self.span(&arm);
                    let mut ai = arm.into_inner();
                    let labels_pair = ai.next()?;
                    let mut labels = Vec::new();
                    let mut is_default = false;
                    for l in labels_pair.into_inner() {
                        match l.as_rule() {
                            Rule::kw_default => is_default = true,
                            Rule::case_label => {
                                let inner = l.into_inner().next()?;
                                let lspan = self.span(&inner);
                                labels.push(match inner.as_rule() {
                                    Rule::enum_path => {
                                        let mut pi = inner.into_inner();
                                        Label::Const(self.ident(pi.next()?), self.ident(pi.next()?))
                                    }
                                    Rule::int_lit => Label::Int(parse_int(inner.as_str()), lspan),
                                    Rule::kw_true => Label::Bool(true, lspan),
                                    _ => Label::Bool(false, lspan),
                                });
                            }
                            _ => {}
                        }
                    }
                    let body = ai.next()?;
                    let mut empty_name = None;
                    let field = match body.as_rule() {
                        Rule::arm_field => Some(self.field(body)?),
                        Rule::empty_arm => {
                            empty_name = Some(self.ident(body.into_inner().next()?));
                            None
                        }
                        _ => None,
                    };
                    arms.push(CaseArm {
                        labels,
                        is_default,
                        field,
                        empty_name,
                        span: aspan,
                    });
                }
                Some(FieldType::Case(CaseType {
                    selector,
                    arms,
                    span,
                }))
            }
            _ => None,
        }
    }

    fn attr(&self, p: Pair<'_, Rule>) -> Attr {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let name = match it.next() {
            Some(n) => self.ident(n),
            None => Ident {
                name: String::new(),
                span,
            },
        };
        let value = it.next().map(|e| self.expr(e));
        Attr {
            kind: AttrKind::new(&name.name, value),
            name,
            span,
        }
    }

    /// Any expression rule (`expr`, `attr_expr`, `binary`, ...).
    fn expr(&self, p: Pair<'_, Rule>) -> Expr {
        let span = self.span(&p);
        // A placeholder for shapes the grammar rules out; it never reaches a well-formed spec.
        let err = || self.mk(ExprKind::Int(Some(0)), span);
        match p.as_rule() {
            Rule::expr => {
                let mut it = p.into_inner();
                let Some(first) = it.next() else { return err() };
                let cond = self.expr(first);
                match (it.next(), it.next()) {
                    (Some(a), Some(b)) => {
                        let (a, b) = (self.expr(a), self.expr(b));
                        self.mk(
                            ExprKind::Cond(Box::new(cond), Box::new(a), Box::new(b)),
                            span,
                        )
                    }
                    _ => cond,
                }
            }
            Rule::binary | Rule::attr_expr => {
                // Precedence climbing over the flat `operand (op operand)*` chain.
                let mut operands = Vec::new();
                let mut ops = Vec::new();
                for c in p.into_inner() {
                    match c.as_rule() {
                        Rule::infix | Rule::attr_infix => ops.push(binop(c.as_str())),
                        _ => operands.push(self.expr(c)),
                    }
                }
                let mut operands = operands.into_iter();
                let Some(first) = operands.next() else {
                    return err();
                };
                let mut rest = ops.into_iter().zip(operands).peekable();
                self.climb(first, 0, &mut rest)
            }
            Rule::unary => {
                let mut prefixes = Vec::new();
                let mut operand = err();
                for c in p.into_inner() {
                    match c.as_rule() {
                        Rule::prefix_op => prefixes.push((c.as_str() == "!", self.span(&c))),
                        _ => operand = self.expr(c),
                    }
                }
                for (not, pspan) in prefixes.into_iter().rev() {
                    let op = if not { UnOp::Not } else { UnOp::Neg };
                    let span = pspan.join(operand.span);
                    operand = self.mk(ExprKind::Unary(op, Box::new(operand)), span);
                }
                operand
            }
            Rule::postfix_expr => {
                let mut it = p.into_inner();
                let Some(first) = it.next() else { return err() };
                let mut e = self.expr(first);
                for post in it {
                    let pspan = self.span(&post);
                    let span = e.span.join(pspan);
                    let mut pi = post.into_inner();
                    let Some(a) = pi.next() else { continue };
                    e = match (a.as_rule(), pi.next()) {
                        (Rule::sourcedata, _) => self.mk(ExprKind::SourceData(Box::new(e)), span),
                        (Rule::ident, _) => {
                            self.mk(ExprKind::Member(Box::new(e), self.ident(a)), span)
                        }
                        (_, Some(b)) => {
                            let (a, b) = (self.expr(a), self.expr(b));
                            self.mk(ExprKind::Slice(Box::new(e), Box::new(a), Box::new(b)), span)
                        }
                        _ => e,
                    };
                }
                e
            }
            Rule::int_lit => self.mk(ExprKind::Int(parse_int(p.as_str())), span),
            Rule::string_lit => self.mk(ExprKind::Str(unescape(p.as_str())), span),
            Rule::kw_true => self.mk(ExprKind::Bool(true), span),
            Rule::kw_false => self.mk(ExprKind::Bool(false), span),
            Rule::kw_self => self.mk(ExprKind::SelfRef, span),
            Rule::ctx_ref => self.mk(
                ExprKind::Ctx(p.as_str().trim_start_matches('$').to_string()),
                span,
            ),
            Rule::ident => self.mk(ExprKind::Name(p.as_str().to_string()), span),
            Rule::enum_path => {
                let mut it = p.into_inner();
                match (it.next(), it.next()) {
                    (Some(a), Some(b)) => {
                        self.mk(ExprKind::EnumConst(self.ident(a), self.ident(b)), span)
                    }
                    _ => err(),
                }
            }
            Rule::call => {
                let mut it = p.into_inner();
                let Some(name) = it.next() else { return err() };
                let name = self.ident(name);
                let args = it.map(|a| self.expr(a)).collect();
                self.mk(ExprKind::Call(name, args), span)
            }
            Rule::record_lit => {
                let mut it = p.into_inner();
                let Some(name) = it.next() else { return err() };
                let name = self.ident(name);
                let mut inits = Vec::new();
                for init in it {
                    let mut ii = init.into_inner();
                    if let (Some(f), Some(e)) = (ii.next(), ii.next()) {
                        inits.push((self.ident(f), self.expr(e)));
                    }
                }
                self.mk(ExprKind::RecordLit(name, inits), span)
            }
            Rule::comprehension => {
                let mut body = None;
                let mut var = None;
                let mut list = None;
                let mut filter = None;
                for c in p.into_inner() {
                    match c.as_rule() {
                        Rule::kw_for | Rule::kw_in | Rule::kw_if => {}
                        Rule::ident if var.is_none() && body.is_some() => var = Some(self.ident(c)),
                        _ if body.is_none() => body = Some(self.expr(c)),
                        _ if list.is_none() => list = Some(self.expr(c)),
                        _ => filter = Some(Box::new(self.expr(c))),
                    }
                }
                match (body, var, list) {
                    (Some(body), Some(var), Some(list)) => self.mk(
                        ExprKind::Comprehension {
                            body: Box::new(body),
                            var,
                            list: Box::new(list),
                            filter,
                        },
                        span,
                    ),
                    _ => err(),
                }
            }
            _ => err(),
        }
    }

    /// Folds `first (op operand)*` into a tree, binding tighter operators first.
    fn climb(
        &self,
        mut lhs: Expr,
        min_prec: u8,
        rest: &mut std::iter::Peekable<impl Iterator<Item = (BinOp, Expr)>>,
    ) -> Expr {
        while let Some(&(op, _)) = rest.peek() {
            if op.precedence() < min_prec {
                break;
            }
            let Some((op, mut rhs)) = rest.next() else {
                break;
            };
            while let Some(&(next, _)) = rest.peek() {
                if next.precedence() <= op.precedence() {
                    break;
                }
                rhs = self.climb(rhs, next.precedence(), rest);
            }
            let span = lhs.span.join(rhs.span);
            lhs = self.mk(ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span);
        }
        lhs
    }
}

/// The operator for an infix token.
fn binop(s: &str) -> BinOp {
    match s.trim() {
        "||" => BinOp::Or,
        "&&" => BinOp::And,
        "==" => BinOp::Eq,
        "!=" => BinOp::Ne,
        "<" => BinOp::Lt,
        "<=" => BinOp::Le,
        ">" => BinOp::Gt,
        ">=" => BinOp::Ge,
        "|" => BinOp::BitOr,
        "^" => BinOp::BitXor,
        "&" => BinOp::BitAnd,
        "<<" => BinOp::Shl,
        ">>" => BinOp::Shr,
        "+" => BinOp::Add,
        "*" => BinOp::Mul,
        "/" => BinOp::Div,
        "%" => BinOp::Rem,
        _ => BinOp::Sub,
    }
}

/// Parses a decimal, `0x` or `0b` literal with `_` separators; `None` when it overflows `u64`.
pub fn parse_int(s: &str) -> Option<u64> {
    let digits: String = s.chars().filter(|c| *c != '_').collect();
    if let Some(hex) = digits.strip_prefix("0x") {
        u64::from_str_radix(hex, 16).ok()
    } else if let Some(bin) = digits.strip_prefix("0b") {
        u64::from_str_radix(bin, 2).ok()
    } else {
        digits.parse().ok()
    }
}

/// The bytes of a string literal (quotes included in the input).
fn unescape(s: &str) -> Vec<u8> {
    let inner = s
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s);
    let mut out = Vec::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('n') => out.push(b'\n'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&hex, 16).unwrap_or(0));
            }
            Some(other) => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
            }
            None => out.push(b'\\'),
        }
    }
    out
}
