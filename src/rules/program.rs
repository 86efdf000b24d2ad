//! A rule's CEL program, compiled when it is first run. A run on one dump needs only the
//! programs of the rules whose keys it judges and the messages of the rules that fire; so the
//! shipped catalog keeps the source and compiles it on first use, once, shared by every thread.
//!
//! One parser, [`parse`], for every program: a user's rule files are parsed when they load, the
//! shipped catalog's on first use. It is cel's Pratt parser (the `parser_pratt` feature), which
//! cel runs through the same table of parser tests as its standard (ANTLR) parser and which
//! gave the standard parser's tree, ids included, for every shipped program, for a hundredth of
//! the work (the ANTLR parser's first runs in a process were a third of judging one dump). Its
//! errors carry the line and column a rule file diagnostic points at.
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
//! What a template renders is cut separately (`eval::render`).

use cel::common::ast::{EntryExpr, Expr};
use cel::parser::Expression;
use cel::{Context, ResolveResult, Value};
use std::sync::OnceLock;

#[derive(Debug)]
pub struct Program {
    source: String,
    compiled: OnceLock<Result<Compiled, String>>,
}

/// A program's tree as parsed, and with the facts' qualified names as single identifiers.
#[derive(Debug)]
struct Compiled {
    plain: Expression,
    /// [`fact_names`] of `plain`, when it has any such name.
    names: Option<Expression>,
}

impl Compiled {
    fn new(plain: Expression) -> Compiled {
        let mut names = plain.clone();
        let changed = fact_names(&mut names, &mut Vec::new());
        Compiled {
            plain,
            names: changed.then_some(names),
        }
    }
}

impl Program {
    /// A program already parsed (and checked) at load.
    pub fn compiled(source: String, expression: Expression) -> Self {
        Program {
            source,
            compiled: OnceLock::from(Ok(Compiled::new(expression))),
        }
    }

    /// A program of the shipped catalog, compiled on first use.
    pub fn deferred(source: String) -> Self {
        Program {
            source,
            compiled: OnceLock::new(),
        }
    }

    /// The CEL source as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The compiled program; a parse error is an error in the rule.
    pub fn get(&self) -> Result<&Expression, String> {
        self.compiled_form().map(|c| &c.plain)
    }

    fn compiled_form(&self) -> Result<&Compiled, String> {
        self.compiled
            .get_or_init(|| {
                parse(&self.source)
                    .map(Compiled::new)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| format!("`{}` does not compile: {e}", self.source))
    }

    /// Whether the program's source names any of `variables`: a word of the source, bounded by
    /// characters that cannot continue an identifier. Read from the text, without compiling (a
    /// topology run asks it of every template of every rule it judges, most of which never
    /// render): CEL has no way to name a variable but to write it, so this never misses one. A
    /// string or a field of that name counts too, as does a program that does not compile;
    /// both err on the side of "reads it".
    pub fn names_any(&self, variables: &[&str]) -> bool {
        let src = self.source.as_bytes();
        let continues = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        variables.iter().any(|v| {
            self.source.match_indices(v).any(|(at, _)| {
                let end = at + v.len();
                (at == 0 || !continues(src[at - 1])) && src.get(end).is_none_or(|&b| !continues(b))
            })
        })
    }

    /// Runs the program in `ctx`: `Err` when it does not compile, else what CEL gives.
    ///
    /// The tree with the facts' names as identifiers ([`fact_names`]) runs first; when it gives
    /// an error, the tree as parsed runs again and gives the result. Where the resolver
    /// (`rules::eval::Vars`) gives the value a name spells, the identifier has the value CEL's
    /// selection has; where it does not, the identifier is an error where the selection is an
    /// error too (of another kind, or a value in a context without those facts). CEL's operators
    /// tell only a value from an error, never one error from another, so the first tree gives
    /// either the second's value or an error, and on an error the second gives the result, its
    /// error included. The test `fact_names_give_what_selection_gives` holds every shipped
    /// program to it.
    pub fn execute(&self, ctx: &Context) -> Result<ResolveResult, String> {
        let c = self.compiled_form()?;
        if let Some(names) = &c.names {
            let first = Value::resolve(names, ctx);
            if first.is_ok() {
                return Ok(first);
            }
        }
        Ok(Value::resolve(&c.plain, ctx))
    }
}

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
fn fact_names(e: &mut Expression, shadowed: &mut Vec<String>) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `num + num + ... > 0` with `n` terms: a tree `n + 1` deep (the comparison, then the
    /// chain's `n - 1` additions, left-deep, then the first term).
    fn chain(n: usize) -> String {
        vec!["num"; n].join(" + ") + " > 0"
    }

    #[test]
    fn names_any_finds_every_variable_a_program_reads() {
        let names = |src: &str| Program::deferred(src.into()).names_any(&["hop", "peer"]);
        assert!(names("hop.rate > 0"));
        assert!(names("node.x == 1 && peer.kernel.release != ''"));
        assert!(
            names("[1].exists(hop, hop > 0)"),
            "a comprehension's variable counts"
        );
        assert!(names("node.hop > 0"), "a field of that name counts");
        assert!(names("'hop' == node.name"), "a string of that name counts");
        assert!(names("hop"));
        assert!(!names("node.hops > 0 && node.peering"));
        assert!(!names("shop_peer1 + hop_count"));
        assert!(!names("node.rate > 0"));
        // Against cel's own reading of every shipped program: never a variable it misses (words
        // in strings make it say "reads" where cel does not, which only costs the memo).
        let mut sources = crate::source::SourceMap::default();
        let (rules, _) = crate::rules::load::load_catalog(&[], &mut sources).unwrap();
        let mut programs = 0;
        for rule in &rules.rules {
            for p in crate::rules::load::programs(rule) {
                let refs = p.get().unwrap().references();
                for v in ["hop", "peer", "node", "topology", "value", "num"] {
                    assert!(
                        p.names_any(&[v]) || !refs.has_variable(v),
                        "{v} missed in `{}` of {}",
                        p.source(),
                        rule.id
                    );
                }
                programs += 1;
            }
        }
        assert!(programs > 100, "{programs} programs");
    }

    /// The programs' trees as parsed and with the facts' names as identifiers.
    fn both(src: &str) -> (Expression, Option<Expression>) {
        let c = Compiled::new(parse(src).unwrap());
        (c.plain, c.names)
    }

    #[test]
    fn fact_names_are_the_selections_on_facts_no_variable_shadows() {
        let ident = |e: &Expression| match &e.expr {
            Expr::Ident(n) => Some(n.clone()),
            _ => None,
        };
        let (_, names) = both("node.kernel.release");
        assert_eq!(
            ident(&names.unwrap()).as_deref(),
            Some("node.kernel.release")
        );
        for src in [
            "node",
            "num + 1",
            "value.size() > 0",
            "[1].exists(node, node.x > 0)",
        ] {
            assert!(both(src).1.is_none(), "{src}");
        }
        // A presence test's field stays a selection; its operand is a name.
        let (_, names) = both("has(hop.path.idle_timeout)");
        let Expr::Select(s) = names.unwrap().expr else {
            panic!("a presence test")
        };
        assert!(s.test);
        assert_eq!(ident(&s.operand).as_deref(), Some("hop.path"));
        assert!(both("has(hop.path)").1.is_none());
        // Inside a comprehension over another variable, and in its range, names are made.
        let (_, names) = both("node.ports.listen_exposed.exists(p, p == hop.port)");
        let text = format!("{:?}", names.unwrap());
        assert!(text.contains("\"node.ports.listen_exposed\""), "{text}");
        assert!(text.contains("\"hop.port\""), "{text}");
        let (_, names) = both("[peer].exists(peer, peer.name == node.name)");
        let text = format!("{:?}", names.unwrap());
        assert!(!text.contains("\"peer.name\""), "{text}");
        assert!(text.contains("\"node.name\""), "{text}");
    }

    /// Every shipped program, and programs that read missing fields, shadow the facts, test
    /// presence and swallow errors, give from [`Program::execute`] (the tree with the facts'
    /// names first) what the tree as parsed gives, on both sides of a link with and without a
    /// rate and on a node without a link; and the names' tree gives the result itself for
    /// nearly all of them.
    #[test]
    fn fact_names_give_what_selection_gives() {
        use crate::rules::eval::{self, Bound, KeyVars, Vars};
        use std::sync::Arc;
        let mut sources = crate::source::SourceMap::default();
        let (rules, _) = crate::rules::load::load_catalog(&[], &mut sources).unwrap();
        let mut programs: Vec<&Program> = rules
            .rules
            .iter()
            .flat_map(crate::rules::load::programs)
            .collect();
        let shipped = programs.len();
        let extra: Vec<Program> = [
            "node.nope.deeper || true",
            "node.kernel.nope == 1 || hop.nope",
            "has(node.kernel.nope) && has(hop.path.idle_timeout)",
            "has(node.nope.x)",
            "[1, 2].exists(hop, hop == 2) && hop.connects",
            "[{'name': 'x'}].exists(node, node.name == 'x')",
            "[{'side': 'x'}].map(hop, hop.side)[0] + hop.side",
            "[node.kernel].all(node, node.release != '') == (peer.name != '')",
            "node.ports.listen_exposed.exists(p, p == hop.port || hop.nope)",
            "hop.path.idle_timeout.nope",
            "peer.kernel.release.size() > 0 ? node.name : peer.name",
            "{'a': node.name, node.kernel.release: hop.side}.size()",
        ]
        .iter()
        .map(|src| Program::compiled(src.to_string(), parse(src).unwrap()))
        .collect();
        programs.extend(&extra);
        let (client, server, hops) = crate::rules::celval::samples::facts();
        let key = KeyVars {
            key: "net.ipv4.tcp_fin_timeout",
            value: "60",
            num: 60,
            set: false,
            present: true,
            source: "default",
        };
        let root = eval::root_context();
        let (mut compared, mut first) = (0, 0);
        let pairs = [(&client, &server), (&server, &client)];
        let mut check = |bound: &Bound<'_>| {
            let vars = Vars::new(bound, Some(&key));
            let ctx = vars.context();
            for p in &programs {
                let c = p.compiled_form().unwrap();
                let plain = Value::resolve(&c.plain, &ctx).map_err(|e| e.to_string());
                let run = p.execute(&ctx).unwrap().map_err(|e| e.to_string());
                assert_eq!(run, plain, "`{}`", p.source());
                if let Some(names) = &c.names {
                    first += usize::from(Value::resolve(names, &ctx).is_ok());
                }
                compared += 1;
            }
        };
        for ((me, other), hop) in pairs.iter().cycle().zip(&hops) {
            let facts = (
                eval::to_cel_node(&Arc::new((*me).clone())),
                eval::to_cel_node(&Arc::new((*other).clone())),
                eval::to_cel_hop(hop.clone()),
            );
            check(&Bound::new(&root, &facts.0, Some((&facts.1, &facts.2))));
        }
        let alone = eval::to_cel_node(&Arc::new(client.clone()));
        check(&Bound::new(&root, &alone, None));
        assert!(shipped > 100, "{shipped} shipped programs");
        assert_eq!(compared, programs.len() * 5);
        // Most programs on a link read the facts by name and give their result at once.
        assert!(
            first > shipped * 2,
            "{first} of {compared} from the names' tree"
        );
    }

    #[test]
    fn the_depth_limit_counts_operator_chains() {
        assert!(parse(&chain(MAX_DEPTH - 1)).is_ok());
        assert!(matches!(parse(&chain(MAX_DEPTH)), Err(ParseError::TooDeep)));
        let e = parse(&chain(MAX_DEPTH)).unwrap_err().to_string();
        assert!(e.contains("nested too deep"), "{e}");
    }

    #[test]
    fn a_long_source_is_refused_before_parsing() {
        let e = parse(&chain(4000)).unwrap_err();
        assert!(matches!(e, ParseError::TooLong(24_001)), "{e:?}");
        assert!(e.to_string().contains("too long"));
    }

    #[test]
    fn the_deepest_sources_under_the_length_cap_parse_without_overflow() {
        // The tests run on 2 MiB threads, the pool's size: whatever fits in MAX_SOURCE must be
        // parsed, walked and dropped there without overflowing, whatever its shape.
        let n = MAX_SOURCE / 2 - 1;
        for src in [
            "1".to_string() + &"+1".repeat(n - 1),
            "(".repeat(n) + "1" + &")".repeat(n),
            "-".repeat(MAX_SOURCE - 1) + "1",
            "!".repeat(MAX_SOURCE - 4) + "true",
            "[".repeat(n) + &"]".repeat(n),
            "a".to_string() + &".b".repeat(n - 1),
            "f(".repeat(MAX_SOURCE / 3) + &")".repeat(MAX_SOURCE / 3),
        ] {
            assert!(src.len() <= MAX_SOURCE, "{}", src.len());
            // Refused or not (parentheses only group), it returns.
            let _ = parse(&src);
        }
    }

    #[test]
    fn comprehensions_nest_at_most_twice() {
        let ten = "[0,1,2,3,4,5,6,7,8,9]";
        assert!(parse(&format!("{ten}.map(a, {ten}.map(b, a + b))")).is_ok());
        // In sequence or in the range, they do not multiply.
        assert!(parse(&format!("{ten}.map(a, a).map(b, b).map(c, c).size() > 0")).is_ok());
        let three = format!("{ten}.map(a, {ten}.map(b, {ten}.exists(c, c == a + b)))");
        assert!(matches!(
            parse(&three),
            Err(ParseError::TooManyComprehensions)
        ));
    }

    #[test]
    fn list_literals_are_bounded() {
        let list = |n: usize| format!("size([{}]) > 0", vec!["1"; n].join(","));
        assert!(parse(&list(MAX_LIST)).is_ok());
        assert!(matches!(
            parse(&list(MAX_LIST + 1)),
            Err(ParseError::ListTooLong(257))
        ));
    }
}
