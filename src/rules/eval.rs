//! Evaluating CEL rules against facts.
//!
//! Facts are converted to CEL values once per node and once per hop; each key then runs in an
//! inner scope that adds only the key's own variables, so the cost per (hop, key, rule) is the
//! evaluation of one small expression.

use super::program::Program;
use super::{Template, TemplatePart};
use crate::facts::{HopFacts, NodeFacts};
use crate::number::format_number;
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use cel::{Context, Value};

/// The variables a rule sees for one key, besides `node`, `peer` and `hop`.
#[derive(Debug, Clone)]
pub struct KeyVars {
    pub key: String,
    /// Effective value as the kernel prints it ("" when unknown).
    pub value: String,
    /// The first integer of the value (0 when there is none).
    pub num: i64,
    pub set: bool,
    pub present: bool,
    /// file, inline, live, dump or default.
    pub source: String,
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

/// Facts in the form CEL evaluates, converted once (per node, per hop) and lent to every
/// context that needs them. Binding a `Value` to a context converts it again, deeply: that was a
/// fifth of judging a topology, three maps per hop end.
#[derive(Debug)]
pub struct CelFacts(Box<dyn Val>);

impl CelFacts {
    pub fn new<T: serde::Serialize>(facts: &T) -> CelFacts {
        // The one conversion (`celval`); its tests hold it to the values `cel::to_value` gives.
        let val = super::celval::to_val(facts).expect("facts are plain data");
        CelFacts(val)
    }
}

/// Lends the node, peer and hop facts to a context without copying them.
pub struct Bound<'a> {
    node: &'a CelFacts,
    hop: Option<(&'a CelFacts, &'a CelFacts)>,
}

impl<'a> Bound<'a> {
    pub fn new(node: &'a CelFacts, hop: Option<(&'a CelFacts, &'a CelFacts)>) -> Bound<'a> {
        Bound { node, hop }
    }
}

impl VariableResolver for Bound<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        let f = match variable {
            "node" => self.node,
            "peer" => self.hop?.0,
            "hop" => self.hop?.1,
            _ => return None,
        };
        Some(CowVal::Borrowed(f.0.as_ref()))
    }
}

/// An inner scope of `root` holding the node (and, for a hop, the peer and hop) facts.
pub fn base_context<'a>(root: &'a Context<'a, 'a>, bound: &'a Bound<'a>) -> Context<'a, 'a> {
    let mut ctx = root.new_inner_scope();
    ctx.set_variable_resolver(bound);
    ctx.add_variable_from_value("topology", bound.hop.is_some());
    ctx
}

pub fn to_cel_node(n: &NodeFacts) -> CelFacts {
    CelFacts::new(n)
}

pub fn to_cel_hop(h: &HopFacts) -> CelFacts {
    CelFacts::new(h)
}

/// Lends a key's variables to its scope: each looked up by name when a condition names it,
/// its string borrowed. Binding them as variables copied three strings and hashed six names into
/// a map for every key of every node and hop, a fifteenth of judging a large topology.
pub struct KeyScope<'a>(pub &'a KeyVars);

impl VariableResolver for KeyScope<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        use cel::common::types::{CelBool, CelInt, CelString};
        let k = self.0;
        Some(match variable {
            "key" => CowVal::owned(CelString::from(k.key.as_str())),
            "value" => CowVal::owned(CelString::from(k.value.as_str())),
            "num" => CowVal::owned(CelInt::from(k.num)),
            "set" => CowVal::owned(CelBool::from(k.set)),
            "present" => CowVal::owned(CelBool::from(k.present)),
            "source" => CowVal::owned(CelString::from(k.source.as_str())),
            _ => return None,
        })
    }
}

/// An inner scope of `base` holding a key's variables.
pub fn key_scope<'a>(base: &'a Context<'a, 'a>, k: &'a KeyScope<'a>) -> Context<'a, 'a> {
    let mut inner = base.new_inner_scope();
    inner.set_variable_resolver(k);
    inner
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

    #[test]
    fn a_rendered_template_is_cut_with_an_ellipsis() {
        let src = "[0,1,2,3,4,5,6,7,8,9].map(a, [0,1,2,3,4,5,6,7,8,9].map(b, key))";
        let p = Program::compiled(src.into(), super::super::program::parse(src).unwrap());
        let t = Template {
            parts: vec![
                TemplatePart::Text("é".repeat(1500)),
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
