//! A CEL program's tree: [`parse`], the one parser of every rule program, with its bounds;
//! [`fact_names`], the facts' qualified names made single identifiers; and the encoding in
//! which `build.rs` (which includes this file with `#[path]`) writes the shipped programs'
//! trees, so that a run decodes them ([`decode`]) instead of parsing their sources
//! (`rules::program`). Compiled into the build script and the crate, so it uses only `std`
//! and `cel`.
//!
//! [`parse`] is cel's Pratt parser (the `parser_pratt` feature), which cel runs through the
//! same table of parser tests as its standard (ANTLR) parser and which gave the standard
//! parser's tree, ids included, for every shipped program, for a hundredth of the work (the
//! ANTLR parser's first runs in a process were a third of judging one dump). Its errors carry
//! the line and column a rule file diagnostic points at.
//!
//! Neither parser bounds a chain of binary operators: `num + 1 + 1 ...` with 4,000 terms parses
//! into a tree 4,000 deep, and evaluating a tree a few thousand deep overflows a thread's stack.
//! So [`parse`] bounds every program it gives out, in three steps, each before anything that
//! could run away:
//!
//! 1. Before parsing, a source of at most [`MAX_SOURCE`] bytes. The parser builds the tree
//!    recursively and dropping it recurses too: measured on a debug build, 20,000 terms parse on
//!    an 8 MiB stack and 100,000 overflow it, and rules are compiled on the pool's 2 MiB
//!    threads. A tree cannot be deeper than its source is long, so this cheap bound keeps the
//!    parser and the walk below within any thread's stack (the longest shipped program is 200
//!    bytes).
//! 2. After parsing, a tree at most [`MAX_DEPTH`] deep, operator chains included: evaluation
//!    recurses once per level, a few KiB of stack each in a debug build. The walk stops
//!    descending at the limit, so it is bounded itself.
//! 3. Evaluation cost: comprehensions (`map`, `all`, `exists`, `filter`) multiply the work of
//!    their bodies, so at most [`MAX_COMPREHENSIONS`] may nest, and a list literal holds at most
//!    [`MAX_LIST`] elements (a nested `map` over literals once rendered a 204 MB message). Lists
//!    from the facts are as long as the input, which its readers bound.
//!
//! The encoding: each node as its id, a tag byte and its fields, in prefix order; integers as
//! LEB128 varints, texts as their length and bytes. [`decode`] reads at most [`MAX_DEPTH`]
//! levels and refuses anything else, so damaged bytes give `None` (the source is then parsed).

use cel::common::ast::{
    CallExpr, ComprehensionExpr, EntryExpr, Expr, IdedEntryExpr, ListExpr, LiteralValue,
    MapEntryExpr, MapExpr, SelectExpr, StructExpr, StructFieldExpr,
};
use cel::parser::Expression;

/// The roots of the qualified names [`fact_names`] makes identifiers of.
const FACTS: &[&str] = &["node", "peer", "hop"];

/// Writes each qualified name of a fact in `e` (fields selected on `node`, `peer` or `hop`, as
/// in `hop.path.idle_timeout`) as one identifier of that name; whether it wrote any. CEL
/// resolves a selection on a name by joining its parts into a new string and asking each scope
/// for the longest name first (`cel::Context::resolve_qualified`), an identifier by asking for
/// it: the resolver answers the whole name at once either way, but the join and the list of
/// parts were a twentieth of judging a topology. Not inside a comprehension whose variable has
/// such a name (that variable is not the fact), and not the field a presence test (`has()`)
/// tests, which CEL selects itself. `shadowed` holds the comprehension variables in scope.
pub fn fact_names(e: &mut Expression, shadowed: &mut Vec<String>) -> bool {
    if let Some(name) = fact_name(e, shadowed) {
        e.expr = Expr::Ident(name);
        return true;
    }
    match &mut e.expr {
        Expr::Unspecified | Expr::Ident(_) | Expr::Literal(_) => false,
        Expr::Select(s) => fact_names(&mut s.operand, shadowed),
        Expr::Call(c) => {
            let mut changed = false;
            if let Some(t) = &mut c.target {
                changed |= fact_names(t, shadowed);
            }
            for a in &mut c.args {
                changed |= fact_names(a, shadowed);
            }
            changed
        }
        Expr::Comprehension(c) => {
            let mut changed = fact_names(&mut c.iter_range, shadowed);
            changed |= fact_names(&mut c.accu_init, shadowed);
            let outer = shadowed.len();
            shadowed.push(c.iter_var.clone());
            shadowed.extend(c.iter_var2.clone());
            shadowed.push(c.accu_var.clone());
            changed |= fact_names(&mut c.loop_cond, shadowed);
            changed |= fact_names(&mut c.loop_step, shadowed);
            changed |= fact_names(&mut c.result, shadowed);
            shadowed.truncate(outer);
            changed
        }
        Expr::List(l) => {
            let mut changed = false;
            for x in &mut l.elements {
                changed |= fact_names(x, shadowed);
            }
            changed
        }
        Expr::Map(m) => entry_names(&mut m.entries, shadowed),
        Expr::Struct(s) => entry_names(&mut s.entries, shadowed),
    }
}

fn entry_names(
    entries: &mut [cel::common::ast::IdedEntryExpr],
    shadowed: &mut Vec<String>,
) -> bool {
    let mut changed = false;
    for e in entries {
        match &mut e.expr {
            EntryExpr::StructField(f) => changed |= fact_names(&mut f.value, shadowed),
            EntryExpr::MapEntry(m) => {
                changed |= fact_names(&mut m.key, shadowed);
                changed |= fact_names(&mut m.value, shadowed);
            }
        }
    }
    changed
}

/// The name `e` spells when it selects fields (not presence tests) on a fact's root that no
/// comprehension variable shadows: `node.kernel.release`.
fn fact_name(e: &Expression, shadowed: &[String]) -> Option<String> {
    let mut fields = Vec::new();
    let mut at = e;
    loop {
        match &at.expr {
            Expr::Select(s) if !s.test => {
                fields.push(s.field.as_str());
                at = &s.operand;
            }
            Expr::Ident(root)
                if !fields.is_empty()
                    && FACTS.contains(&root.as_str())
                    && !shadowed.iter().any(|v| v == root) =>
            {
                let mut name = root.clone();
                for f in fields.iter().rev() {
                    name.push('.');
                    name.push_str(f);
                }
                return Some(name);
            }
            _ => return None,
        }
    }
}

/// The longest program source, in bytes (see the module comment: checked before parsing).
pub const MAX_SOURCE: usize = 2_000;

/// The deepest program tree, the root at depth 1.
pub const MAX_DEPTH: usize = 64;

/// How many comprehensions may nest, one in the body of another.
pub const MAX_COMPREHENSIONS: usize = 2;

/// The most elements of one list (or map) literal.
pub const MAX_LIST: usize = 256;

/// Why a program was refused.
#[derive(Debug)]
pub enum ParseError {
    /// Not valid CEL; each error has the line and column in the source.
    Syntax(cel::ParseErrors),
    /// The source is longer than [`MAX_SOURCE`] bytes (it is not parsed).
    TooLong(usize),
    /// The tree is deeper than [`MAX_DEPTH`].
    TooDeep,
    /// More than [`MAX_COMPREHENSIONS`] comprehensions nest.
    TooManyComprehensions,
    /// A list or map literal has more than [`MAX_LIST`] elements.
    ListTooLong(usize),
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::Syntax(e) => write!(f, "{e}"),
            ParseError::TooLong(n) => write!(
                f,
                "the expression is too long: {n} bytes, more than the {MAX_SOURCE} allowed"
            ),
            ParseError::TooDeep => write!(
                f,
                "the expression is nested too deep: more than {MAX_DEPTH} levels (long operator chains count, one level per operator)"
            ),
            ParseError::TooManyComprehensions => write!(
                f,
                "more than {MAX_COMPREHENSIONS} comprehensions (`map`, `all`, `exists`, `filter`) nest one in another: too costly to evaluate"
            ),
            ParseError::ListTooLong(n) => write!(
                f,
                "a list literal of {n} elements, more than the {MAX_LIST} allowed"
            ),
        }
    }
}

/// Parses a CEL program with the Pratt parser, with the standard macros and the options that
/// [`cel::Program::compile`] uses, and bounds it (see the module comment).
pub fn parse(source: &str) -> Result<Expression, ParseError> {
    if source.len() > MAX_SOURCE {
        return Err(ParseError::TooLong(source.len()));
    }
    let e = cel::parser::PrattParser::default()
        .parse(source)
        .map_err(ParseError::Syntax)?;
    bounded(&e, 1, 0)?;
    Ok(e)
}

/// Checks the tree below `e` (at `depth`, inside `comprehensions` nested ones) against the
/// limits. It returns at the first level over [`MAX_DEPTH`], so it recurses at most that deep.
fn bounded(e: &Expression, depth: usize, comprehensions: usize) -> Result<(), ParseError> {
    if depth > MAX_DEPTH {
        return Err(ParseError::TooDeep);
    }
    let next = depth + 1;
    match &e.expr {
        Expr::Unspecified | Expr::Ident(_) | Expr::Literal(_) => Ok(()),
        Expr::Call(c) => {
            if let Some(t) = &c.target {
                bounded(t, next, comprehensions)?;
            }
            c.args
                .iter()
                .try_for_each(|a| bounded(a, next, comprehensions))
        }
        Expr::Comprehension(c) => {
            // The range and the initial value are evaluated once; the condition and the step
            // once per element, so what nests there multiplies.
            bounded(&c.iter_range, next, comprehensions)?;
            bounded(&c.accu_init, next, comprehensions)?;
            bounded(&c.result, next, comprehensions)?;
            let inner = comprehensions + 1;
            if inner > MAX_COMPREHENSIONS {
                return Err(ParseError::TooManyComprehensions);
            }
            bounded(&c.loop_cond, next, inner)?;
            bounded(&c.loop_step, next, inner)
        }
        Expr::List(l) => {
            if l.elements.len() > MAX_LIST {
                return Err(ParseError::ListTooLong(l.elements.len()));
            }
            l.elements
                .iter()
                .try_for_each(|a| bounded(a, next, comprehensions))
        }
        Expr::Map(m) => entries(&m.entries, next, comprehensions),
        Expr::Struct(s) => entries(&s.entries, next, comprehensions),
        Expr::Select(s) => bounded(&s.operand, next, comprehensions),
    }
}

fn entries(
    entries: &[cel::common::ast::IdedEntryExpr],
    depth: usize,
    comprehensions: usize,
) -> Result<(), ParseError> {
    if entries.len() > MAX_LIST {
        return Err(ParseError::ListTooLong(entries.len()));
    }
    entries.iter().try_for_each(|e| match &e.expr {
        EntryExpr::StructField(f) => bounded(&f.value, depth, comprehensions),
        EntryExpr::MapEntry(m) => {
            bounded(&m.key, depth, comprehensions)?;
            bounded(&m.value, depth, comprehensions)
        }
    })
}

/// Writes `e` in the encoding [`decode`] reads: each node as its id, a tag byte and its
/// fields, in prefix order; integers as LEB128 varints, texts as their length and bytes.
#[allow(dead_code)] // The build script encodes; the crate decodes (and encodes in its tests).
pub fn encode(e: &Expression, out: &mut Vec<u8>) {
    varint(e.id, out);
    match &e.expr {
        Expr::Unspecified => out.push(0),
        Expr::Call(c) => {
            out.push(1);
            text(&c.func_name, out);
            match &c.target {
                Some(t) => {
                    out.push(1);
                    encode(t, out);
                }
                None => out.push(0),
            }
            varint(c.args.len() as u64, out);
            c.args.iter().for_each(|a| encode(a, out));
        }
        Expr::Comprehension(c) => {
            out.push(2);
            encode(&c.iter_range, out);
            text(&c.iter_var, out);
            match &c.iter_var2 {
                Some(v) => {
                    out.push(1);
                    text(v, out);
                }
                None => out.push(0),
            }
            text(&c.accu_var, out);
            for part in [&c.accu_init, &c.loop_cond, &c.loop_step, &c.result] {
                encode(part, out);
            }
        }
        Expr::Ident(name) => {
            out.push(3);
            text(name, out);
        }
        Expr::List(l) => {
            out.push(4);
            varint(l.elements.len() as u64, out);
            l.elements.iter().for_each(|x| encode(x, out));
            varint(l.optional_indices.len() as u64, out);
            l.optional_indices
                .iter()
                .for_each(|&i| varint(i as u64, out));
        }
        Expr::Literal(v) => {
            out.push(5);
            match v {
                LiteralValue::Boolean(b) => out.extend([0, u8::from(*b.inner())]),
                LiteralValue::Bytes(b) => {
                    out.push(1);
                    varint(b.inner().len() as u64, out);
                    out.extend_from_slice(b.inner());
                }
                LiteralValue::Double(d) => {
                    out.push(2);
                    out.extend(d.inner().to_bits().to_le_bytes());
                }
                LiteralValue::Int(i) => {
                    out.push(3);
                    out.extend(i.inner().to_le_bytes());
                }
                LiteralValue::Null => out.push(4),
                LiteralValue::String(s) => {
                    out.push(5);
                    text(s.inner(), out);
                }
                LiteralValue::UInt(u) => {
                    out.push(6);
                    varint(*u.inner(), out);
                }
            }
        }
        Expr::Map(m) => {
            out.push(6);
            encode_entries(&m.entries, out);
        }
        Expr::Select(s) => {
            out.push(7);
            encode(&s.operand, out);
            text(&s.field, out);
            out.push(u8::from(s.test));
        }
        Expr::Struct(s) => {
            out.push(8);
            text(&s.type_name, out);
            encode_entries(&s.entries, out);
        }
    }
}

fn encode_entries(entries: &[IdedEntryExpr], out: &mut Vec<u8>) {
    varint(entries.len() as u64, out);
    for e in entries {
        varint(e.id, out);
        match &e.expr {
            EntryExpr::StructField(f) => {
                out.push(0);
                text(&f.field, out);
                encode(&f.value, out);
                out.push(u8::from(f.optional));
            }
            EntryExpr::MapEntry(m) => {
                out.push(1);
                encode(&m.key, out);
                encode(&m.value, out);
                out.push(u8::from(m.optional));
            }
        }
    }
}

fn varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn text(s: &str, out: &mut Vec<u8>) {
    varint(s.len() as u64, out);
    out.extend_from_slice(s.as_bytes());
}

/// Reads a tree [`encode`] wrote; `None` when the bytes are not such a tree (the caller then
/// parses the source). String literals borrow their text from `bytes`.
#[allow(dead_code)] // The crate decodes; the build script only encodes.
pub fn decode(bytes: &'static [u8]) -> Option<Expression> {
    let mut r = Reader { bytes, at: 0 };
    let e = r.expr(0)?;
    (r.at == bytes.len()).then_some(e)
}

/// A cursor over encoded bytes. Trees are at most [`MAX_DEPTH`] deep, which `depth` holds
/// the reading to, so damaged bytes cannot make it recurse without end.
struct Reader {
    bytes: &'static [u8],
    at: usize,
}

impl Reader {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(n);
            }
        }
        None
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.varint()?).ok()
    }

    fn raw(&mut self) -> Option<&'static [u8]> {
        let n = self.len()?;
        let out = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(out)
    }

    fn str(&mut self) -> Option<&'static str> {
        std::str::from_utf8(self.raw()?).ok()
    }

    fn string(&mut self) -> Option<String> {
        self.str().map(String::from)
    }

    fn flag(&mut self) -> Option<bool> {
        match self.byte()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    fn eight(&mut self) -> Option<[u8; 8]> {
        let out = self.bytes.get(self.at..self.at + 8)?.try_into().ok()?;
        self.at += 8;
        Some(out)
    }

    fn many<T>(&mut self, mut one: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let n = self.len()?;
        // Each item takes at least a byte: a count past the end is damage, not an allocation.
        if n > self.bytes.len() - self.at {
            return None;
        }
        // Sized up front: collected through `Option` the vector would grow from empty.
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(one(self)?);
        }
        Some(out)
    }

    fn expr(&mut self, depth: usize) -> Option<Expression> {
        if depth > MAX_DEPTH {
            return None;
        }
        let next = depth + 1;
        let id = self.varint()?;
        let expr = match self.byte()? {
            0 => Expr::Unspecified,
            1 => {
                let func_name = self.string()?;
                let target = match self.flag()? {
                    true => Some(Box::new(self.expr(next)?)),
                    false => None,
                };
                let args = self.many(|r| r.expr(next))?;
                Expr::Call(CallExpr {
                    func_name,
                    target,
                    args,
                })
            }
            2 => {
                let iter_range = self.expr(next)?;
                let iter_var = self.string()?;
                let iter_var2 = match self.flag()? {
                    true => Some(self.string()?),
                    false => None,
                };
                let accu_var = self.string()?;
                Expr::Comprehension(Box::new(ComprehensionExpr {
                    iter_range,
                    iter_var,
                    iter_var2,
                    accu_var,
                    accu_init: self.expr(next)?,
                    loop_cond: self.expr(next)?,
                    loop_step: self.expr(next)?,
                    result: self.expr(next)?,
                }))
            }
            3 => Expr::Ident(self.string()?),
            4 => {
                let elements = self.many(|r| r.expr(next))?;
                let optional_indices = self.many(|r| r.len())?;
                Expr::List(ListExpr {
                    elements,
                    optional_indices,
                })
            }
            5 => Expr::Literal(match self.byte()? {
                0 => LiteralValue::Boolean(self.flag()?.into()),
                1 => LiteralValue::Bytes(self.raw()?.into()),
                2 => LiteralValue::Double(f64::from_bits(u64::from_le_bytes(self.eight()?)).into()),
                3 => LiteralValue::Int(i64::from_le_bytes(self.eight()?).into()),
                4 => LiteralValue::Null,
                5 => LiteralValue::String(self.str()?.into()),
                6 => LiteralValue::UInt(self.varint()?.into()),
                _ => return None,
            }),
            6 => Expr::Map(MapExpr {
                entries: self.entries(next)?,
            }),
            7 => {
                let operand = Box::new(self.expr(next)?);
                Expr::Select(SelectExpr {
                    operand,
                    field: self.string()?,
                    test: self.flag()?,
                })
            }
            8 => {
                let type_name = self.string()?;
                Expr::Struct(StructExpr {
                    type_name,
                    entries: self.entries(next)?,
                })
            }
            _ => return None,
        };
        Some(Expression { id, expr })
    }

    fn entries(&mut self, depth: usize) -> Option<Vec<IdedEntryExpr>> {
        self.many(|r| {
            let id = r.varint()?;
            let expr = match r.byte()? {
                0 => {
                    let field = r.string()?;
                    EntryExpr::StructField(StructFieldExpr {
                        field,
                        value: r.expr(depth)?,
                        optional: r.flag()?,
                    })
                }
                1 => {
                    let key = r.expr(depth)?;
                    EntryExpr::MapEntry(MapEntryExpr {
                        key,
                        value: r.expr(depth)?,
                        optional: r.flag()?,
                    })
                }
                _ => return None,
            };
            Some(IdedEntryExpr { id, expr })
        })
    }
}
