//! The Prometheus text exposition format, for node_exporter's textfile collector
//! (`--collector.textfile.directory`): a fleet's existing monitoring then carries twlint's
//! view of each host.
//!
//! Every family has its `# HELP` and `# TYPE` lines and its samples sorted by labels, so the
//! file is the same bytes for the same report. There are no timestamps: the collector exports
//! the file's modification time itself (`node_textfile_mtime_seconds`). Families are built as
//! [`Family`] values, so figures that only exist in host mode (live counters) are added as more
//! families without touching the ones here.

use crate::diag::Verdict;
use crate::report::Report;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// One metric family: name, help, type and its samples (labels, value).
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: &'static str,
    pub samples: BTreeMap<Vec<(&'static str, String)>, f64>,
}

impl Family {
    pub fn gauge(name: &'static str, help: &'static str) -> Family {
        Family {
            name,
            help,
            kind: "gauge",
            samples: BTreeMap::new(),
        }
    }

    /// A counter: a total that only grows (until a reboot or a new namespace resets it), so
    /// `rate()` and `increase()` apply. Its name ends in `_total`, as the format's convention asks.
    pub fn counter(name: &'static str, help: &'static str) -> Family {
        debug_assert!(name.ends_with("_total"), "{name}");
        Family {
            name,
            help,
            kind: "counter",
            samples: BTreeMap::new(),
        }
    }

    /// Adds `v` to the sample with these labels (creating it at 0).
    pub fn add(&mut self, labels: Vec<(&'static str, String)>, v: f64) {
        *self.samples.entry(labels).or_insert(0.0) += v;
    }

    pub fn set(&mut self, labels: Vec<(&'static str, String)>, v: f64) {
        self.samples.insert(labels, v);
    }

    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "# HELP {} {}", self.name, self.help)?;
        writeln!(out, "# TYPE {} {}", self.name, self.kind)?;
        for (labels, v) in &self.samples {
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                .collect();
            if labels.is_empty() {
                writeln!(out, "{} {}", self.name, number(*v))?;
            } else {
                writeln!(out, "{}{{{}}} {}", self.name, labels.join(","), number(*v))?;
            }
        }
        Ok(())
    }
}

/// Label values escape `\`, `"` and line feeds, as the exposition format requires. Every
/// other control character (a label value is a path, a node or a host name: input) is drawn as
/// its control picture (`␛` for ESC, see `super::safe`): the format has no escape for them, and
/// a raw one would act on the terminal of whoever reads the file.
pub fn escape_label(s: &str) -> String {
    let s = s
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    if !s.chars().any(|c| super::safe::picture(c).is_some()) {
        return s;
    }
    s.chars()
        .map(|c| super::safe::picture(c).unwrap_or(c))
        .collect()
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The families twlint derives from a report (declared values, no host mode).
pub fn families(r: &Report) -> Vec<Family> {
    let mut findings = Family::gauge(
        "twlint_findings",
        "Settings judged dangerous or pointless, by node, rule and verdict (one per hop end, or per node without a hop).",
    );
    let mut verdicts = Family::gauge(
        "twlint_verdicts",
        "Judged settings by node and verdict (every in-scope key on every hop end).",
    );
    let mut diags = Family::gauge(
        "twlint_diagnostics",
        "Problems at a place in a file or topology, by node, rule and severity.",
    );
    for n in &r.nodes {
        if n.role == "nat" {
            continue;
        }
        // Every verdict of every judged node, zero included, so an alert can test `> 0` and a
        // missing series means twlint did not run.
        for v in [Verdict::Safe, Verdict::Pointless, Verdict::Dangerous] {
            verdicts.set(
                vec![("node", n.name.clone()), ("verdict", v.as_str().into())],
                0.0,
            );
        }
    }
    // Suppressed findings were accepted with a reason: they leave the findings and verdict
    // counts (as in the report's summary) and are counted apart, so a dashboard can still
    // watch how many a fleet carries.
    let mut hidden_verdicts = Family::gauge(
        "twlint_suppressed_findings",
        "Settings judged dangerous or pointless whose finding a suppression accepted, by node, rule and verdict (not counted in twlint_findings or twlint_verdicts).",
    );
    let mut hidden_diags = Family::gauge(
        "twlint_suppressed_diagnostics",
        "Problems in a file or topology that a suppression accepted, by node, rule and severity (not counted in twlint_diagnostics).",
    );
    for v in r.verdicts.iter().filter(|v| v.suppressed.is_some()) {
        hidden_verdicts.add(
            vec![
                ("node", v.node.to_string()),
                ("rule", v.rule.as_deref().unwrap_or_default().to_string()),
                ("verdict", v.verdict.as_str().into()),
            ],
            1.0,
        );
    }
    for (d, _) in &r.suppressed {
        hidden_diags.add(
            vec![
                ("node", d.node.clone().unwrap_or_default()),
                ("rule", d.code.clone()),
                ("severity", format!("{:?}", d.severity).to_lowercase()),
            ],
            1.0,
        );
    }
    // The rows of hosts twlint cannot see are not judged: no verdict of theirs is counted.
    for v in r
        .verdicts
        .iter()
        .filter(|v| v.suppressed.is_none() && !v.unseen)
    {
        verdicts.add(
            vec![
                ("node", v.node.to_string()),
                ("verdict", v.verdict.as_str().into()),
            ],
            1.0,
        );
        if v.verdict != Verdict::Safe {
            findings.add(
                vec![
                    ("node", v.node.to_string()),
                    ("rule", v.rule.as_deref().unwrap_or_default().to_string()),
                    ("verdict", v.verdict.as_str().into()),
                ],
                1.0,
            );
        }
    }
    for d in &r.diagnostics {
        let severity = format!("{:?}", d.severity).to_lowercase();
        diags.add(
            vec![
                ("node", d.node.clone().unwrap_or_default()),
                ("rule", d.code.clone()),
                ("severity", severity),
            ],
            1.0,
        );
    }
    let mut rate = Family::gauge(
        "twlint_hop_declared_rate",
        "New connections per second the topology declares for a hop.",
    );
    let mut per_tuple = Family::gauge(
        "twlint_hop_capacity_per_tuple",
        "New connections per second the connecting side can open per (source, destination, port) tuple before its ports run out.",
    );
    let mut tw = Family::gauge(
        "twlint_hop_time_wait_sockets",
        "TIME_WAIT sockets the declared rate keeps on the side that closes first (rate x 60 s).",
    );
    let mut reuse = Family::gauge(
        "twlint_hop_reuse_works",
        "1 when tcp_tw_reuse can take over TIME_WAIT ports on the connecting side of the hop, else 0.",
    );
    let mut pressure = Family::gauge(
        "twlint_hop_port_pressure_ratio",
        "Declared rate per tuple over the capacity that applies; above 1 connect() fails with EADDRNOTAVAIL.",
    );
    for h in &r.hops {
        let c = &h.client;
        let link = || {
            vec![
                ("from", h.from.clone()),
                ("link", h.link.clone()),
                ("to", h.to.clone()),
            ]
        };
        if let Some(r) = h.rate {
            rate.set(link(), r);
            let mut l = link();
            l.push(("node", h.closes_first.clone()));
            tw.set(l, r * crate::facts::TIME_WAIT_SECONDS);
        }
        if c.unseen_clients {
            continue;
        }
        per_tuple.set(link(), c.capacity.effective);
        reuse.set(link(), if c.capacity.reuse_works { 1.0 } else { 0.0 });
        if c.rate_known && c.capacity.effective > 0.0 {
            pressure.set(link(), c.rate_per_tuple / c.capacity.effective);
        }
    }
    let mut info = Family::gauge(
        "twlint_info",
        "Always 1; the labels say which twlint wrote the file and what it judged.",
    );
    info.set(
        vec![
            (
                "mode",
                match r.mode {
                    crate::report::Mode::Files => "files",
                    crate::report::Mode::Topology => "topology",
                }
                .into(),
            ),
            ("topology", r.topology.clone().unwrap_or_default()),
            ("version", env!("CARGO_PKG_VERSION").into()),
        ],
        1.0,
    );
    let mut unread = Family::gauge(
        "twlint_unread_paths",
        "Paths named for linting that could not be read (1 each, by path); the other families cover the rest of the fleet.",
    );
    for u in &r.unread {
        unread.set(vec![("path", u.path.clone())], 1.0);
    }
    vec![
        info,
        verdicts,
        findings,
        diags,
        hidden_verdicts,
        hidden_diags,
        unread,
        rate,
        tw,
        per_tuple,
        reuse,
        pressure,
    ]
}

pub fn write(out: &mut dyn Write, r: &Report) -> io::Result<()> {
    // Hop families only mean something with a topology; without one they would be empty. The
    // suppressed families appear only when something is suppressed (absent means none), and
    // the unread paths only when some path could not be read.
    for f in families(r).into_iter().filter(|f| {
        !((f.name.starts_with("twlint_hop_")
            || f.name.starts_with("twlint_suppressed_")
            || f.name == "twlint_unread_paths")
            && f.samples.is_empty())
    }) {
        f.write(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(escape_label("a\x1b[2J\tb\u{9b}"), "a␛[2J\tb\u{fffd}");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.5), "0.5");
    }
}
