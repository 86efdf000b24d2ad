//! A rule's CEL program, compiled when it is first run. A run on one dump needs only the
//! programs of the rules whose keys it judges and the messages of the rules that fire; so the
//! shipped catalog keeps the source and compiles it on first use, once, shared by every thread.
//!
//! One parser, [`parse`] (`rules::tree`, with the bounds every program is held to), for every
//! program: a user's rule files are parsed when they load. The shipped catalog's programs were
//! parsed by `build.rs` with that parser, and their trees (as parsed, and with the facts' names,
//! [`tree::fact_names`]) embedded (`PREBUILT`): on first use a shipped program's tree is
//! decoded, and its tree as parsed only when it is needed. A source the build did not parse is
//! parsed then.
//!
//! What a template renders is cut separately (`eval::render`).

use super::tree::{self, decode};
pub use super::tree::{parse, ParseError, MAX_COMPREHENSIONS, MAX_DEPTH, MAX_LIST, MAX_SOURCE};
use cel::parser::Expression;
use cel::{Context, ResolveResult, Value};
use std::sync::OnceLock;

#[derive(Debug)]
pub struct Program {
    source: std::borrow::Cow<'static, str>,
    compiled: OnceLock<Result<Compiled, String>>,
}

/// A program's tree as parsed, and with the facts' qualified names as single identifiers.
#[derive(Debug)]
struct Compiled {
    /// [`tree::fact_names`] of the tree as parsed, when it has any such name.
    names: Option<Expression>,
    /// The tree as parsed; for a program the build parsed, decoded when first needed (most
    /// programs run only their `names` tree).
    plain: OnceLock<Expression>,
    /// The build's encoding of the tree as parsed, while `plain` is not made.
    encoded: Option<&'static [u8]>,
}

impl Compiled {
    fn new(plain: Expression) -> Compiled {
        let mut names = plain.clone();
        let changed = tree::fact_names(&mut names, &mut Vec::new());
        Compiled {
            names: changed.then_some(names),
            plain: OnceLock::from(plain),
            encoded: None,
        }
    }

    /// The trees the build parsed `source` into, when it did and they decode.
    fn prebuilt(source: &str) -> Option<Compiled> {
        let at = PREBUILT.binary_search_by(|(s, ..)| (*s).cmp(source)).ok()?;
        let (_, start, middle, end) = PREBUILT[at];
        let (plain, names) = (
            PROGRAM_TREES.get(start..middle)?,
            PROGRAM_TREES.get(middle..end)?,
        );
        Some(if names.is_empty() {
            Compiled {
                names: None,
                plain: OnceLock::from(decode(plain)?),
                encoded: None,
            }
        } else {
            Compiled {
                names: Some(decode(names)?),
                plain: OnceLock::new(),
                encoded: Some(plain),
            }
        })
    }

    /// The tree as parsed. Decoding it cannot fail where decoding the names' tree of the same
    /// program did not; if it did, `source` is parsed again (the build parsed it, so this
    /// parser does), and a tree that is neither gives CEL's error for an unspecified expression.
    fn plain(&self, source: &str) -> &Expression {
        self.plain.get_or_init(|| {
            self.encoded
                .and_then(decode)
                .or_else(|| parse(source).ok())
                .unwrap_or_default()
        })
    }
}

/// The shipped catalog's programs as `build.rs` parsed them, sorted by source: each source with
/// the range of [`PROGRAM_TREES`] that holds its tree as parsed, then the range with its names'
/// tree (empty when it has no facts' names), in [`tree::encode`]'s encoding.
static PREBUILT: &[(&str, usize, usize, usize)] =
    include!(concat!(env!("OUT_DIR"), "/embedded_programs.rs"));

/// The encoded trees [`PREBUILT`] points into.
static PROGRAM_TREES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/program-trees.bin"));

impl Program {
    /// A program already parsed (and checked) at load.
    pub fn compiled(source: String, expression: Expression) -> Self {
        Program {
            source: source.into(),
            compiled: OnceLock::from(Ok(Compiled::new(expression))),
        }
    }

    /// A program of the shipped catalog, compiled on first use.
    pub fn deferred(source: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        Program {
            source: source.into(),
            compiled: OnceLock::new(),
        }
    }

    /// The CEL source as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The compiled program; a parse error is an error in the rule.
    pub fn get(&self) -> Result<&Expression, String> {
        self.compiled_form().map(|c| c.plain(&self.source))
    }

    fn compiled_form(&self) -> Result<&Compiled, String> {
        self.compiled
            .get_or_init(|| match Compiled::prebuilt(&self.source) {
                Some(c) => Ok(c),
                None => parse(&self.source)
                    .map(Compiled::new)
                    .map_err(|e| e.to_string()),
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
        // Each place the name's first byte is, found with memchr: a substring searcher set up
        // per call was half of this on a topology run, which asks it of 400 templates. Every
        // place is tried, overlaps too: a name of identifier characters that overlaps another
        // place of itself is not bounded there, so this finds what `match_indices` finds.
        variables.iter().any(|v| {
            let Some(&first) = v.as_bytes().first() else {
                return false;
            };
            memchr::memchr_iter(first, src).any(|at| {
                let end = at + v.len();
                src[at..].starts_with(v.as_bytes())
                    && (at == 0 || !continues(src[at - 1]))
                    && src.get(end).is_none_or(|&b| !continues(b))
            })
        })
    }

    /// Runs the program in `ctx`: `Err` when it does not compile, else what CEL gives.
    ///
    /// The tree with the facts' names as identifiers ([`tree::fact_names`]) runs first; when it gives
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
        Ok(Value::resolve(c.plain(&self.source), ctx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cel::common::ast::Expr;

    /// Every shipped program was parsed by the build, and its trees decode to the ones parsing
    /// its source gives now.
    #[test]
    fn every_shipped_program_is_prebuilt_as_it_parses() {
        let mut sources = crate::source::SourceMap::default();
        let (rules, _) = crate::rules::load::load_catalog(&[], &mut sources).unwrap();
        let mut programs = 0;
        for rule in &rules.rules {
            for p in crate::rules::load::programs(rule) {
                let src = p.source();
                let built = Compiled::prebuilt(src).unwrap_or_else(|| panic!("`{src}`"));
                let parsed = Compiled::new(parse(src).unwrap());
                assert_eq!(built.names, parsed.names, "`{src}`");
                assert_eq!(built.plain(src), parsed.plain(src), "`{src}`");
                programs += 1;
            }
        }
        assert!(programs > 100, "{programs} programs");
        assert!(
            PREBUILT.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, once each"
        );
        assert!(Compiled::prebuilt("not a shipped program").is_none());
    }

    /// Trees of every kind (literals of each type, lists, maps, messages, comprehensions,
    /// presence tests) decode as they were encoded; damaged bytes and trees deeper than the
    /// parser allows decode to nothing, without a panic.
    #[test]
    fn every_kind_of_tree_decodes_as_it_was_encoded() {
        for src in [
            "{'a': 1, 2u: b'xy', 3.5: null, true: -4}.size() > 0",
            "has(a.b.c) ? x.y : [1, 'é', 2.0e-3]",
            "a.exists(x, x > 0) && [1].all(y, y < 2) && b.map(z, z * 2).filter(w, w != 0) == []",
            "pkg.Msg{field: 1, other: [2]}",
            "f(g(1), -(2), !true) || 9223372036854775807 > 18446744073709551615u",
            "node.kernel.release in ['6.8'] && size(peer.name) > 0",
        ] {
            let e = parse(src).unwrap_or_else(|err| panic!("{src}: {err}"));
            let mut bytes = Vec::new();
            tree::encode(&e, &mut bytes);
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            assert_eq!(decode(bytes).as_ref(), Some(&e), "{src}");
            for cut in 0..bytes.len() {
                assert_eq!(decode(&bytes[..cut]), None, "{src} cut at {cut}");
            }
        }
        // A chain of selections deeper than any parsed tree.
        let mut deep = Vec::new();
        for _ in 0..=MAX_DEPTH {
            deep.extend([1, 7]);
        }
        deep.extend([1, 3, 1, b'a']);
        for _ in 0..=MAX_DEPTH {
            deep.extend([1, b'f', 0]);
        }
        let deep: &'static [u8] = Box::leak(deep.into_boxed_slice());
        assert_eq!(decode(deep), None);
    }

    /// `num + num + ... > 0` with `n` terms: a tree `n + 1` deep (the comparison, then the
    /// chain's `n - 1` additions, left-deep, then the first term).
    fn chain(n: usize) -> String {
        vec!["num"; n].join(" + ") + " > 0"
    }

    #[test]
    fn names_any_finds_every_variable_a_program_reads() {
        let names = |src: &str| Program::deferred(src.to_owned()).names_any(&["hop", "peer"]);
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
        // As the word search with `match_indices` finds them, on hand cases and below on every
        // shipped program.
        let by_words = |src: &str, v: &str| {
            let bytes = src.as_bytes();
            let continues = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
            src.match_indices(v).any(|(at, _)| {
                let end = at + v.len();
                (at == 0 || !continues(bytes[at - 1]))
                    && bytes.get(end).is_none_or(|&b| !continues(b))
            })
        };
        for src in [
            "hophop",
            "hop_hop hop",
            "peerpeer.peer",
            "xhop",
            "hop1",
            "é hop",
            "",
        ] {
            for v in ["hop", "peer"] {
                let p = Program::deferred(src.to_owned());
                assert_eq!(p.names_any(&[v]), by_words(src, v), "{v} in {src:?}");
            }
        }
        // Against cel's own reading of every shipped program: never a variable it misses (words
        // in strings make it say "reads" where cel does not, which only costs the memo).
        let mut sources = crate::source::SourceMap::default();
        let (rules, _) = crate::rules::load::load_catalog(&[], &mut sources).unwrap();
        let mut programs = 0;
        for rule in &rules.rules {
            for p in crate::rules::load::programs(rule) {
                let refs = p.get().unwrap().references();
                for v in ["hop", "peer", "node", "topology", "value", "num"] {
                    assert_eq!(p.names_any(&[v]), by_words(p.source(), v));
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
        (c.plain.into_inner().unwrap(), c.names)
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
                let plain = Value::resolve(c.plain(p.source()), &ctx).map_err(|e| e.to_string());
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
