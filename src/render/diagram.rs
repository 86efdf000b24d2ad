//! The topology as a picture: a Mermaid flowchart (which GitHub and GitLab draw in a pull
//! request comment; the Markdown report opens with it) and a Graphviz DOT graph
//! (`--format dot`). Both are drawn from one [`Picture`] built from the report: nodes shaped by
//! role, hops from the side that connects to the side that accepts, coloured by the worst
//! verdict on the hop, labelled with the port, the declared rate against the connecting side's
//! capacity per tuple and where TIME_WAIT lands; a node where TIME_WAIT lands says how many
//! sockets the declared rates keep there. Nothing is judged here.

use crate::diag::Verdict;
use crate::facts::TIME_WAIT_SECONDS;
use crate::number::format_number;
use crate::report::{Mode, Report};
use std::io::{self, Write};

/// How a node is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Clients: a stadium (Mermaid), an ellipse (DOT).
    Client,
    /// A NAT middlebox: a hexagon.
    Nat,
    /// A load balancer or proxy: a box with double sides.
    Balancer,
    /// A database or cache: a cylinder.
    Store,
    /// Anything else: a box.
    Host,
}

fn shape(role: &str) -> Shape {
    match role {
        "client" => Shape::Client,
        "nat" => Shape::Nat,
        "load-balancer" | "proxy" => Shape::Balancer,
        "db" | "cache" => Shape::Store,
        _ => Shape::Host,
    }
}

/// A node of the picture.
struct PNode {
    name: String,
    role: String,
    /// The worst unsuppressed verdict on the node's values, or `None` when nothing of it was
    /// judged (a NAT, clients twlint cannot see).
    worst: Option<Verdict>,
    /// TIME_WAIT sockets the declared rates keep on this node (hops it closes first).
    time_wait: f64,
}

/// A hop of the picture: `from` connects to `to`, through `via` when a NAT is on the way.
struct PEdge {
    from: usize,
    to: usize,
    via: Option<usize>,
    label: Vec<String>,
    worst: Verdict,
}

/// What both pictures draw.
struct Picture {
    nodes: Vec<PNode>,
    edges: Vec<PEdge>,
}

fn worst<'a>(verdicts: impl Iterator<Item = &'a crate::report::VerdictEntry>) -> Option<Verdict> {
    verdicts
        .filter(|v| v.suppressed.is_none())
        .map(|v| v.verdict)
        .max()
}

fn picture(r: &Report) -> Picture {
    let index = |name: &str| r.nodes.iter().position(|n| n.name == name);
    let mut nodes: Vec<PNode> = r
        .nodes
        .iter()
        .map(|n| PNode {
            name: n.name.clone(),
            role: n.role.clone(),
            worst: worst(r.verdicts.iter().filter(|v| *v.node == *n.name)),
            time_wait: 0.0,
        })
        .collect();
    // Clients twlint cannot see are shown with defaults and not judged: no colour for them.
    for h in &r.hops {
        if h.client.unseen_clients {
            if let Some(i) = index(&h.from) {
                nodes[i].worst = None;
            }
        }
    }
    let mut edges = Vec::new();
    for h in &r.hops {
        let (Some(from), Some(to)) = (index(&h.from), index(&h.to)) else {
            continue;
        };
        let c = &h.client;
        let mut label = vec![match h.rate {
            Some(rate) => format!(":{} · {}/s", h.port, format_number(rate)),
            None => format!(":{} · no rate declared", h.port),
        }];
        if !c.unseen_clients {
            let capacity = format_number(c.capacity.effective);
            // Capacity binds only where the connecting side holds its ports in TIME_WAIT.
            label.push(match (h.rate, c.closes_first) {
                (Some(_), true) => format!(
                    "{}/s per tuple of {capacity}/s",
                    format_number(c.rate_per_tuple)
                ),
                (Some(_), false) => format!("{}/s per tuple", format_number(c.rate_per_tuple)),
                (None, true) => format!("capacity {capacity}/s per tuple"),
                (None, false) => format!("{} ports per tuple", c.capacity.ports),
            });
        }
        label.push(format!("TIME_WAIT on {}", h.closes_first));
        if let (Some(rate), Some(i)) = (h.rate, index(&h.closes_first)) {
            nodes[i].time_wait += rate * TIME_WAIT_SECONDS;
        }
        edges.push(PEdge {
            from,
            to,
            via: h.via.as_deref().and_then(index),
            label,
            worst: worst(
                r.verdicts
                    .iter()
                    .filter(|v| v.link.as_deref() == Some(&h.link)),
            )
            .unwrap_or(Verdict::Safe),
        });
    }
    Picture { nodes, edges }
}

fn node_lines(n: &PNode) -> Vec<String> {
    let mut lines = vec![n.name.clone()];
    // A node named after its role (`web`, `db`) needs the word once.
    if n.role != n.name {
        lines.push(n.role.clone());
    }
    if n.time_wait > 0.0 {
        lines.push(format!("TIME_WAIT {}", format_number(n.time_wait)));
    }
    lines
}

/// Stroke colours by verdict (GitHub's red, amber and green), and grey for what was not judged.
fn colour(v: Option<Verdict>) -> &'static str {
    match v {
        Some(Verdict::Dangerous) => "#d73a49",
        Some(Verdict::Pointless) => "#dbab09",
        Some(Verdict::Safe) => "#28a745",
        None => "#959da5",
    }
}

fn class(v: Option<Verdict>) -> &'static str {
    match v {
        Some(v) => v.as_str(),
        None => "unjudged",
    }
}

/// Text inside a quoted Mermaid label: Mermaid's entity codes for the characters its grammar or
/// its HTML labels would read, so a node name cannot end the label or inject markup.
fn mermaid_text(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '`' => out.push_str("#96;"),
            '|' => out.push_str("#124;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn mermaid_label(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| mermaid_text(l))
        .collect::<Vec<_>>()
        .join("<br/>")
}

/// Whether the report has a topology to draw.
fn drawable(r: &Report) -> bool {
    r.mode == Mode::Topology && !r.fatal && !r.nodes.is_empty()
}

/// The Mermaid flowchart of a topology report, as a fenced ```` ```mermaid ```` block followed by
/// a one-line legend; nothing for a report of files or a topology with errors.
pub fn write_mermaid_block(out: &mut dyn Write, r: &Report) -> io::Result<()> {
    if !drawable(r) {
        return Ok(());
    }
    let p = picture(r);
    writeln!(out, "```mermaid")?;
    writeln!(out, "flowchart LR")?;
    for (i, n) in p.nodes.iter().enumerate() {
        let label = mermaid_label(&node_lines(n));
        let (open, close) = match shape(&n.role) {
            Shape::Client => ("([", "])"),
            Shape::Nat => ("{{", "}}"),
            Shape::Balancer => ("[[", "]]"),
            Shape::Store => ("[(", ")]"),
            Shape::Host => ("[", "]"),
        };
        writeln!(out, "  n{i}{open}\"{label}\"{close}")?;
    }
    let mut styles = Vec::new();
    for e in &p.edges {
        let label = mermaid_label(&e.label);
        let from = match e.via {
            Some(v) => {
                // The leg to the NAT carries no label: the hop's figures are on the leg after it.
                writeln!(out, "  n{} -.-> n{v}", e.from)?;
                styles.push(e.worst);
                v
            }
            None => e.from,
        };
        writeln!(out, "  n{from} -->|\"{label}\"| n{}", e.to)?;
        styles.push(e.worst);
    }
    for (i, v) in styles.iter().enumerate() {
        writeln!(
            out,
            "  linkStyle {i} stroke:{},stroke-width:{}px",
            colour(Some(*v)),
            if *v == Verdict::Dangerous { 3 } else { 2 }
        )?;
    }
    for v in [
        Some(Verdict::Dangerous),
        Some(Verdict::Pointless),
        Some(Verdict::Safe),
        None,
    ] {
        let ids: Vec<String> = p
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.worst == v)
            .map(|(i, _)| format!("n{i}"))
            .collect();
        if ids.is_empty() {
            continue;
        }
        let dash = if v.is_none() {
            ",stroke-dasharray:4 3"
        } else {
            ""
        };
        writeln!(
            out,
            "  classDef {} stroke:{},stroke-width:2px{dash}",
            class(v),
            colour(v)
        )?;
        writeln!(out, "  class {} {}", ids.join(","), class(v))?;
    }
    writeln!(out, "```")?;
    writeln!(out)?;
    writeln!(
        out,
        "Arrows go from the side that connects to the side that accepts, coloured by the worst \
         verdict on the hop (red dangerous, amber pointless, green safe); a node's border by the \
         worst on its values (grey dashed: not judged). Labels: port, declared rate, rate per \
         tuple of the connecting side's capacity, where TIME_WAIT lands."
    )?;
    writeln!(out)
}

/// A DOT string literal's content.
fn dot_text(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn dot_label(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| dot_text(l))
        .collect::<Vec<_>>()
        .join("\\n")
}

/// `--format dot`: the topology as a Graphviz digraph (`dot -Tsvg` draws it). A report of files
/// has no topology: it is drawn as its hosts, unconnected.
pub fn write_dot(out: &mut dyn Write, r: &Report) -> io::Result<()> {
    super::safe::escaped(out, super::safe::Form::Text, |out| {
        write_dot_unescaped(out, r)
    })
}

fn write_dot_unescaped(out: &mut dyn Write, r: &Report) -> io::Result<()> {
    let title = match (&r.mode, &r.topology) {
        (Mode::Topology, Some(name)) => format!("twlint: topology {name}"),
        (Mode::Topology, None) => "twlint: topology".to_string(),
        (Mode::Files, _) => "twlint: sysctl files".to_string(),
    };
    writeln!(out, "digraph twlint {{")?;
    writeln!(out, "  label=\"{}\";", dot_text(&title))?;
    writeln!(out, "  labelloc=t;")?;
    writeln!(out, "  rankdir=LR;")?;
    writeln!(out, "  fontname=\"Helvetica\";")?;
    writeln!(
        out,
        "  node [fontname=\"Helvetica\", fontsize=11, penwidth=2, style=filled, fillcolor=white];"
    )?;
    writeln!(out, "  edge [fontname=\"Helvetica\", fontsize=10];")?;
    if !r.fatal {
        let p = picture(r);
        for (i, n) in p.nodes.iter().enumerate() {
            let shape = match shape(&n.role) {
                Shape::Client => "ellipse",
                Shape::Nat => "hexagon",
                Shape::Balancer => "box, peripheries=2",
                Shape::Store => "cylinder",
                Shape::Host => "box",
            };
            let dashed = if n.worst.is_none() {
                ", style=\"filled,dashed\""
            } else {
                ""
            };
            writeln!(
                out,
                "  n{i} [label=\"{}\", shape={shape}, color=\"{}\"{dashed}];",
                dot_label(&node_lines(n)),
                colour(n.worst)
            )?;
        }
        for e in &p.edges {
            let colour = colour(Some(e.worst));
            let width = if e.worst == Verdict::Dangerous { 3 } else { 2 };
            let to_label = match e.via {
                Some(v) => {
                    writeln!(
                        out,
                        "  n{} -> n{v} [color=\"{colour}\", penwidth={width}, style=dashed];",
                        e.from
                    )?;
                    v
                }
                None => e.from,
            };
            writeln!(
                out,
                "  n{to_label} -> n{} [label=\"{}\", color=\"{colour}\", fontcolor=\"{colour}\", penwidth={width}];",
                e.to,
                dot_label(&e.label)
            )?;
        }
    }
    writeln!(out, "}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_cannot_break_out_of_their_quotes() {
        assert_eq!(
            mermaid_text("a\"b]c<d>#e|f`g"),
            "a#quot;b]c#lt;d#gt;#35;e#124;f#96;g"
        );
        assert_eq!(dot_text("a\"b\\c\nd"), "a\\\"b\\\\c d");
    }

    #[test]
    fn roles_pick_shapes() {
        assert_eq!(shape("client"), Shape::Client);
        assert_eq!(shape("nat"), Shape::Nat);
        assert_eq!(shape("proxy"), Shape::Balancer);
        assert_eq!(shape("cache"), Shape::Store);
        assert_eq!(shape("app"), Shape::Host);
    }
}
