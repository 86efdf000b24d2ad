//! The rule loader: any bytes as a user's rule file. A rule that loads is added to the catalog
//! and run over a small topology, so its CEL condition and templates are evaluated too.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use twlint::render::{self, Style};
use twlint::rules::load::load_rule;
use twlint::rules::RuleSet;
use twlint::source::SourceMap;

const TOPOLOGY: &str = "version: 1
nodes:
  - {name: c, role: client, addresses: [10.0.0.1], sysctl: {files: [hosts/a.conf]}}
  - {name: s, role: web, addresses: [10.0.0.2], listen: [80], sysctl: {files: [hosts/b.conf]}}
links:
  - {from: c, to: s, port: 80, closes_first: c, rate: 2000}
";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut sources = SourceMap::new();
    let id = sources.add("TW900-fuzz.yaml", &*text);
    let mut diags = Vec::new();
    let rule = load_rule(id, "TW900-fuzz.yaml", &text, &mut diags);
    let mut sink = std::io::sink();
    for color in [false, true] {
        render::human::write_diagnostics(
            &mut sink,
            Style {
                color,
                ..Style::plain()
            },
            &sources,
            &diags,
        )
        .expect("writing to a sink cannot fail");
    }
    // Every place a diagnostic names resolves (what the JSON and SARIF forms print).
    for d in &diags {
        for l in d.primary.iter().chain(&d.secondary) {
            let _ = sources.location(l.span);
        }
    }
    if let Some(rule) = rule {
        let mut set: RuleSet = common::rules().clone();
        set.rules.push(rule);
        // A user's rule may fail at run time (a type error in CEL): that is an error, not a panic.
        if let Ok(report) =
            common::judge_topology_text("t.yaml", common::scratch(), TOPOLOGY, &set, &mut sources)
        {
            common::render_all(&sources, &report);
        }
    }
});
