//! Evaluating CEL rules against facts.
//!
//! Facts are converted to CEL values once per node and once per hop, field by field as rules
//! read them; each key then runs in one scope of the root context whose resolver ([`Vars`])
//! gives the key's own variables and the facts, so the cost per (hop, key, rule) is the
//! evaluation of one small expression.

use super::celfacts::FieldLayout;
use super::program::Program;
use super::{Template, TemplatePart};
use crate::facts::{HopFacts, NodeFacts};
use crate::number::format_number;
use cel::common::types::{CelBool, CelInt, CelString};
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use cel::{Context, Value};
use std::sync::Arc;

/// The variables a rule sees for one key, besides `node`, `peer` and `hop`, borrowed from the
/// node's values (made for every key of every node and hop: copies were three allocations each).
#[derive(Debug, Clone)]
pub struct KeyVars<'a> {
    pub key: &'a str,
    /// Effective value as the kernel prints it ("" when unknown).
    pub value: &'a str,
    /// The first integer of the value (0 when there is none).
    pub num: i64,
    pub set: bool,
    pub present: bool,
    /// file, inline, live, dump or default.
    pub source: &'a str,
}

/// The names a condition may reference; anything else is an error in the rule file.
pub const VARIABLES: &[&str] = &[
    "key", "value", "num", "set", "present", "source", "node", "peer", "hop", "topology",
];

/// The root context every evaluation of one run shares: CEL's standard library. Building it
/// is costly (it was a sixth of judging a large topology when made per hop), so a judge makes it
/// once and gives each node and hop an inner scope of it.
pub type RootContext = Context<'static, 'static>;

/// Builds a [`RootContext`].
pub fn root_context() -> RootContext {
    Context::default()
}

/// Runs `f` with this thread's [`RootContext`], built on the thread's first use: every
/// evaluation on a thread (a node's, a hop's, an evidence item's) is an inner scope of it.
pub fn with_root<R>(f: impl FnOnce(&RootContext) -> R) -> R {
    thread_local! {
        static ROOT: RootContext = root_context();
    }
    ROOT.with(f)
}

/// Facts in the form CEL evaluates, converted once (per node, per hop) and lent to every
/// context that needs them. Binding a `Value` to a context converts it again, deeply: that was a
/// fifth of judging a topology, three maps per hop end.
#[derive(Debug)]
pub struct CelFacts(Facts);

#[derive(Debug)]
enum Facts {
    /// Converted whole.
    Whole(Box<dyn Val>),
    /// Converted field by field as conditions read them (`rules::celfacts`).
    Lazy(super::celfacts::LazyStruct),
}

impl CelFacts {
    pub fn new<T: serde::Serialize>(facts: &T) -> CelFacts {
        // The one conversion (`celval`); its tests hold it to the values `cel::to_value` gives.
        let val = super::celval::to_val(facts).expect("facts are plain data");
        CelFacts(Facts::Whole(val))
    }

    /// The facts of a struct shared with the caller, each field converted the first time a
    /// condition reads it; the values are those [`CelFacts::new`] gives. `layout` keeps the
    /// type's field names (a `static` per type).
    pub fn lazy<T: serde::Serialize + Send + Sync + 'static>(
        facts: Arc<T>,
        layout: &'static FieldLayout<T>,
    ) -> CelFacts {
        match super::celfacts::LazyStruct::new(Arc::clone(&facts), layout) {
            Some(lazy) => CelFacts(Facts::Lazy(lazy)),
            None => CelFacts::new(&*facts),
        }
    }

    /// Whether the whole value has been made (a lazy one makes it when first asked for).
    #[cfg(test)]
    fn made_whole(&self) -> bool {
        match &self.0 {
            Facts::Whole(_) => true,
            Facts::Lazy(l) => l.made_whole(),
        }
    }

    /// The whole value.
    fn whole(&self) -> &(dyn Val + 'static) {
        match &self.0 {
            Facts::Whole(v) => v.as_ref(),
            Facts::Lazy(l) => l.whole(),
        }
    }

    /// The value at a dotted `path` below the facts (`kernel.release`), when it is served
    /// without the whole value (`None`: CEL asks for a shorter name, at last the whole value).
    fn get(&self, path: &str) -> Option<&(dyn Val + 'static)> {
        match &self.0 {
            Facts::Whole(_) => None,
            Facts::Lazy(l) => l.get(path),
        }
    }
}

/// The facts the keys of one node (on one side of a hop) are judged on, with CEL's standard
/// library they are evaluated in: the node's, and on a hop the peer's and the hop's.
pub struct Bound<'a> {
    root: &'a RootContext,
    node: &'a CelFacts,
    hop: Option<(&'a CelFacts, &'a CelFacts)>,
}

impl<'a> Bound<'a> {
    pub fn new(
        root: &'a RootContext,
        node: &'a CelFacts,
        hop: Option<(&'a CelFacts, &'a CelFacts)>,
    ) -> Bound<'a> {
        Bound { root, node, hop }
    }
}

/// Every variable a rule sees on one key: the key's own (`key`, `value`, `num`, ...; none
/// without a key), `topology`, and the node, peer and hop facts, given by one resolver in one
/// scope of the root context, each looked up when a condition names it.
///
/// CEL looks a name up scope by scope, innermost first, and in each scope tries the longest
/// name a qualified one spells first: `node.kernel.release`, then `node.kernel`, then `node`.
/// With the key's variables in a scope of their own inside the facts' (and `topology` bound in
/// a map there), every read of a fact asked the key's scope for each of those names, then the
/// facts' for two of them: a fifth of judging a topology. One scope that answers the longest
/// name itself ([`LazyStruct::get`](super::celfacts::LazyStruct::get)) answers at the first
/// question. The names do not overlap, so which of them is asked first changes nothing.
pub struct Vars<'a> {
    bound: &'a Bound<'a>,
    /// The key's variables as CEL values, made with the scope (they borrow the key's texts)
    /// and lent on every read, where a value made per read was an allocation each.
    key: Option<KeyVals<'a>>,
    topology: CelBool,
}

struct KeyVals<'a> {
    key: CelString<'a>,
    value: CelString<'a>,
    num: CelInt,
    set: CelBool,
    present: CelBool,
    source: CelString<'a>,
}

impl<'a> Vars<'a> {
    pub fn new(bound: &'a Bound<'a>, key: Option<&KeyVars<'a>>) -> Vars<'a> {
        Vars {
            bound,
            key: key.map(|k| KeyVals {
                key: CelString::from(k.key),
                value: CelString::from(k.value),
                num: CelInt::from(k.num),
                set: CelBool::from(k.set),
                present: CelBool::from(k.present),
                source: CelString::from(k.source),
            }),
            topology: CelBool::from(bound.hop.is_some()),
        }
    }

    /// The context a rule's programs run in: a scope of the root context holding these
    /// variables.
    pub fn context(&'a self) -> Context<'a, 'a> {
        let mut ctx = self.bound.root.new_inner_scope();
        ctx.set_variable_resolver(self);
        ctx
    }
}

impl VariableResolver for Vars<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        let (root, path) = super::celfacts::split_name(variable);
        let facts = match root {
            "node" => self.bound.node,
            "peer" => self.bound.hop?.0,
            "hop" => self.bound.hop?.1,
            // The key's variables and `topology` have no fields: CEL selects on them itself.
            _ if path.is_some() => return None,
            "topology" => return Some(CowVal::Borrowed(&self.topology)),
            _ => {
                let k = self.key.as_ref()?;
                let v: &dyn Val = match root {
                    "key" => &k.key,
                    "value" => &k.value,
                    "num" => &k.num,
                    "set" => &k.set,
                    "present" => &k.present,
                    "source" => &k.source,
                    _ => return None,
                };
                return Some(CowVal::Borrowed(v));
            }
        };
        let v = match path {
            Some(path) => facts.get(path)?,
            None => facts.whole(),
        };
        Some(CowVal::Borrowed(v))
    }
}

pub fn to_cel_node(n: &Arc<NodeFacts>) -> CelFacts {
    static LAYOUT: FieldLayout<NodeFacts> = FieldLayout::new();
    CelFacts::lazy(Arc::clone(n), &LAYOUT)
}

/// A hop's facts, handed over: a rule reads a few of them.
pub fn to_cel_hop(h: HopFacts) -> CelFacts {
    static LAYOUT: FieldLayout<HopFacts> = FieldLayout::new();
    CelFacts::lazy(Arc::new(h), &LAYOUT)
}

/// Runs a condition; anything but a boolean is an error in the rule.
pub fn condition(program: &Program, ctx: &Context) -> Result<bool, String> {
    match program.execute(ctx)? {
        Ok(Value::Bool(b)) => Ok(b),
        Ok(other) => Err(format!("the condition gave {other:?}, not a boolean")),
        Err(e) => Err(e.to_string()),
    }
}

/// The longest rendered message, help or note, in bytes; what is longer is cut, with an
/// ellipsis. A rule's message is a sentence or two: a template that renders more is broken or
/// hostile, and the output of every format repeats it per diagnostic.
pub const MAX_RENDERED: usize = 4096;

/// Formats a CEL value for a message: integers plainly, floats rounded to what a reader needs.
pub fn display(v: &Value) -> String {
    let mut out = String::new();
    display_into(v, &mut out, usize::MAX);
    out
}

/// Appends [`display`] of `v` to `out`, stopping once `out` is longer than `limit` bytes, so a
/// large list is never formatted whole only to be cut.
fn display_into(v: &Value, out: &mut String, limit: usize) {
    match v {
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::UInt(u) => out.push_str(&u.to_string()),
        Value::Float(f) => out.push_str(&format_number(*f)),
        Value::String(s) => out.push_str(s),
        Value::Bool(b) => out.push_str(&b.to_string()),
        Value::Null => out.push_str("null"),
        Value::List(items) => {
            for (i, item) in items.iter().enumerate() {
                if out.len() > limit {
                    return;
                }
                if i > 0 {
                    out.push_str(", ");
                }
                display_into(item, out, limit);
            }
        }
        other => out.push_str(&format!("{other:?}")),
    }
}

/// Cuts `s` to at most [`MAX_RENDERED`] bytes (on a character boundary), ending in `…` when
/// anything was cut.
fn cut(s: &mut String) {
    if s.len() <= MAX_RENDERED {
        return;
    }
    let ellipsis = "…";
    let mut end = MAX_RENDERED - ellipsis.len();
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s.push_str(ellipsis);
}

/// Renders a template, cut at [`MAX_RENDERED`] bytes; a hole that fails to evaluate is an
/// error in the rule. Holes after the cut are not evaluated.
pub fn render(t: &Template, ctx: &Context) -> Result<String, String> {
    let mut out = String::new();
    for part in &t.parts {
        if out.len() > MAX_RENDERED {
            break;
        }
        match part {
            TemplatePart::Text(s) => out.push_str(s),
            TemplatePart::Expr(p, src) => match p.execute(ctx)? {
                Ok(v) => display_into(&v, &mut out, MAX_RENDERED),
                Err(e) => return Err(format!("`{{{{ {src} }}}}`: {e}")),
            },
        }
    }
    cut(&mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cel_compares_floats_with_integers() {
        // Rules compare rates (floats) with literals written as integers.
        let src = "hop.rate > 470 && hop.rate < 471.0";
        let p = Program::compiled(src.into(), super::super::program::parse(src).unwrap());
        let mut ctx = Context::default();
        let mut m = std::collections::HashMap::new();
        m.insert("rate".to_string(), 470.5f64);
        ctx.add_variable("hop", m).unwrap();
        assert_eq!(condition(&p, &ctx), Ok(true));
    }

    /// Node and hop facts lent field by field, and the longest names answered by [`Vars`], read
    /// as CEL reads the whole conversions bound as plain variables with the key's variables
    /// (CEL resolving and selecting qualified names itself): fields, nested fields, indexing,
    /// presence tests, missing fields and their errors, every use of the node as a whole map
    /// (`in`, `size`, macros, equality), a comprehension's variable named like a fact, the key's
    /// variables and `topology`, on both sides of a link with and without a rate.
    #[test]
    fn lazy_facts_read_as_the_whole_conversion_reads() {
        let (client, server, hops) = super::super::celval::samples::facts();
        let exprs = [
            "node.name",
            "node.kernel.release",
            "node.kernel",
            "node.kernel.nope",
            "node.kernel.release.nope",
            "node.kernel.release.size()",
            "node.nope",
            "node.nope.deeper",
            "has(node.kernel)",
            "has(node.nope)",
            "has(node.kernel.release)",
            "has(node.kernel.nope)",
            "has(node.kernel.release.nope)",
            "node.num['net.ipv4.tcp_tw_reuse']",
            "node.num.nope",
            "node.sysctl['net.ipv4.ip_local_port_range']",
            "node.sysctl['no.such.key']",
            "node['kernel']['release']",
            "node['nope']",
            "node[1]",
            "size(node) > 10",
            "'name' in node",
            "'nope' in node",
            "node.exists(k, k == 'ports')",
            "node.all(k, k != '')",
            "node == node",
            "node.ports.low + 1",
            "size(node.ports.listen_exposed)",
            "node.ports.listen_exposed[0]",
            "node.name + '/' + peer.name",
            "peer.timestamps && node.timestamps",
            "peer.kernel.release == node.kernel.release",
            "peer == node",
            "hop.side == 'client' && hop.connects",
            "[node.tw_reuse, peer.tw_reuse]",
            "node.name.size()",
            "hop.path.idle_timeout",
            "hop.path.idle_timeout.nope",
            "has(hop.path.idle_timeout)",
            "has(hop.path.nope)",
            "hop.capacity.reuse_works",
            "hop.conntrack.tracks",
            "has(hop.path)",
            "hop.nope",
            "hop.nope.deeper",
            "size(hop) > 3",
            "hop == hop",
            "hop.rate > 470 && hop.rate < 471.0",
            "[1, 2].exists(node, node == 2)",
            "[1].map(hop, hop + 1)",
            "[node.kernel].exists(node, node.release == peer.kernel.release)",
            "[{'kernel': 1}].all(node, node.kernel == 1)",
            "key + '=' + value",
            "num + 1",
            "set || present",
            "source",
            "topology",
            "value.nope",
            "key.size()",
            "topology.nope",
            "nope",
            "nope.deeper",
        ];
        let key = KeyVars {
            key: "net.ipv4.tcp_tw_reuse",
            value: "1",
            num: 1,
            set: true,
            present: true,
            source: "file",
        };
        // The first path: the whole conversions and the key's variables bound as variables.
        let whole = |me: &NodeFacts, other: &NodeFacts, hop: &HopFacts| {
            let mut ctx = Context::default();
            ctx.add_variable_as_val("node", super::super::celval::to_val(me).unwrap());
            ctx.add_variable_as_val("peer", super::super::celval::to_val(other).unwrap());
            ctx.add_variable_as_val("hop", super::super::celval::to_val(hop).unwrap());
            ctx.add_variable_from_value("topology", true);
            ctx.add_variable_from_value("key", key.key);
            ctx.add_variable_from_value("value", key.value);
            ctx.add_variable_from_value("num", key.num);
            ctx.add_variable_from_value("set", key.set);
            ctx.add_variable_from_value("present", key.present);
            ctx.add_variable_from_value("source", key.source);
            ctx
        };
        let run = |p: &Program, ctx: &Context| match p.execute(ctx).unwrap() {
            Ok(v) => Ok(v),
            Err(e) => Err(e.to_string()),
        };
        // The reference runs the tree as parsed (CEL selecting every name itself).
        let plain = |p: &Program, ctx: &Context| match Value::resolve(p.get().unwrap(), ctx) {
            Ok(v) => Ok(v),
            Err(e) => Err(e.to_string()),
        };
        let pairs = [(&client, &server), (&server, &client)];
        let root = root_context();
        for ((me, other), hop) in pairs.iter().cycle().zip(&hops) {
            let first = whole(me, other, hop);
            let eager = (
                CelFacts::new(*me),
                CelFacts::new(*other),
                CelFacts::new(hop),
            );
            let lazy = (
                to_cel_node(&Arc::new((*me).clone())),
                to_cel_node(&Arc::new((*other).clone())),
                to_cel_hop(hop.clone()),
            );
            for src in exprs {
                let p = Program::compiled(src.into(), super::super::program::parse(src).unwrap());
                let expected = plain(&p, &first);
                for facts in [&lazy, &eager] {
                    let bound = Bound::new(&root, &facts.0, Some((&facts.1, &facts.2)));
                    let vars = Vars::new(&bound, Some(&key));
                    assert_eq!(run(&p, &vars.context()), expected, "{src}");
                }
            }
        }
        // Without a hop: `topology` is false, `peer` and `hop` are not there, as without them.
        let mut first = Context::default();
        first.add_variable_as_val("node", super::super::celval::to_val(&client).unwrap());
        first.add_variable_from_value("topology", false);
        let lazy = to_cel_node(&Arc::new(client.clone()));
        let bound = Bound::new(&root, &lazy, None);
        let vars = Vars::new(&bound, None);
        for src in [
            "topology",
            "node.kernel.release",
            "hop.side",
            "peer.name",
            "has(hop.side)",
            "key",
        ] {
            let p = Program::compiled(src.into(), super::super::program::parse(src).unwrap());
            assert_eq!(run(&p, &vars.context()), plain(&p, &first), "{src}");
        }
        // Reading fields makes only them; the whole node is made when asked for as a whole.
        let lazy = to_cel_node(&Arc::new(client.clone()));
        let bound = Bound::new(&root, &lazy, None);
        let vars = Vars::new(&bound, None);
        let ctx = vars.context();
        for src in [
            "node.kernel.release",
            "node.ports.low",
            "node.num['net.ipv4.tcp_tw_reuse']",
        ] {
            let p = Program::compiled(src.into(), super::super::program::parse(src).unwrap());
            assert!(p.execute(&ctx).unwrap().is_ok(), "{src}");
            assert!(!lazy.made_whole(), "{src} made the whole node");
        }
        let p = Program::compiled(
            "size(node)".into(),
            super::super::program::parse("size(node)").unwrap(),
        );
        assert!(p.execute(&ctx).unwrap().is_ok());
        assert!(lazy.made_whole());
    }

    /// The field names of a fact type, found from the first value lent, are those of every
    /// value: nodes of either side, hops with and without a rate, from both sides.
    #[test]
    fn every_value_of_a_fact_type_has_the_field_names_of_the_first() {
        use super::super::celfacts::{names_of, FieldLayout, LazyStruct};
        let (client, server, hops) = super::super::celval::samples::facts();
        static NODE: FieldLayout<NodeFacts> = FieldLayout::new();
        static HOP: FieldLayout<HopFacts> = FieldLayout::new();
        for node in [&client, &server] {
            let lazy = LazyStruct::new(Arc::new(node.clone()), &NODE).unwrap();
            assert_eq!(Some(lazy.names().to_vec()), names_of(node), "{}", node.name);
        }
        for hop in &hops {
            let lazy = LazyStruct::new(Arc::new(hop.clone()), &HOP).unwrap();
            assert_eq!(Some(lazy.names().to_vec()), names_of(hop), "{}", hop.link);
        }
        assert!(names_of(&hops[0]).unwrap().len() > 20);
    }

    #[test]
    fn a_rendered_template_is_cut_with_an_ellipsis() {
        let src = "[0,1,2,3,4,5,6,7,8,9].map(a, [0,1,2,3,4,5,6,7,8,9].map(b, key))";
        let p = Program::compiled(src.into(), super::super::program::parse(src).unwrap());
        let t = Template {
            parts: vec![
                TemplatePart::Text("é".repeat(1500).into()),
                TemplatePart::Expr(std::sync::Arc::new(p), src.into()),
            ],
        };
        let mut ctx = Context::default();
        ctx.add_variable("key", "net.ipv4.tcp_fin_timeout").unwrap();
        let out = render(&t, &ctx).unwrap();
        assert!(out.len() <= MAX_RENDERED, "{}", out.len());
        assert!(out.ends_with('…'), "{out}");
        assert!(out.starts_with("ééé"));
        // Short messages are left alone.
        let short = Template {
            parts: vec![TemplatePart::Text("fine".into())],
        };
        assert_eq!(render(&short, &ctx).unwrap(), "fine");
    }
}
