//! Every rule's documented example must fire and its `use_instead` must not: the docs are tests.
//! Also the catalog meta-tests: ids unique and permanent in shape, docs complete, messages in one
//! style. (Built-in codes are documented by construction: `twlint::code::Code` is generated
//! from the rule files.)

use std::collections::BTreeSet;
use twlint::judge::{self, Request};
use twlint::kernel::KernelVersion;
use twlint::report::Report;
use twlint::rules::load::load_catalog;
use twlint::rules::{Example, RuleSet};
use twlint::source::SourceMap;

fn catalog() -> RuleSet {
    let mut sources = SourceMap::new();
    let (rules, diags) = load_catalog(&[], &mut sources).expect("embedded rules load");
    assert!(diags.is_empty(), "rule files have problems: {diags:#?}");
    rules
}

/// Runs an example and returns the codes it produced (diagnostics and verdict rules), on the
/// example's node when it names one.
fn codes(rules: &RuleSet, ex: &Example) -> (BTreeSet<String>, Report) {
    let dir = tempfile::tempdir().unwrap();
    let mut sources = SourceMap::new();
    let report = if let Some(topo) = &ex.topology {
        // `#= PATH` lines after the topology are files beside it (a node's `sysctl.files`).
        let topo = write_marked_files(dir.path(), topo);
        let loaded = twlint::topology::load_text("example.yaml", dir.path(), &topo, &mut sources);
        judge::judge(
            Request::topology(loaded),
            &judge::Options::default(),
            rules,
            &mut sources,
        )
        .expect("example runs")
    } else {
        let text = ex.sysctl.as_deref().unwrap_or("");
        // An example in another input format (a manifest, a compose file) is read as that
        // format, as `--input-format` would.
        let forced = ex.format.as_deref().map(|f| {
            twlint::inputs::reader_named(f).unwrap_or_else(|| panic!("example format `{f}`"))
        });
        let path = match forced {
            Some(_) => {
                let p = dir.path().join("example.yaml");
                std::fs::write(&p, text).unwrap();
                p
            }
            None => write_sysctl_example(dir.path(), text),
        };
        let kernel = ex
            .kernel
            .as_deref()
            .map(|k| KernelVersion::parse(k).expect("example kernel parses"));
        let opts = judge::Options {
            kernel,
            ..judge::Options::default()
        };
        judge::read_sysctl_paths_partial(&[path], forced, &mut sources)
            .and_then(|read| judge::judge(Request::sets(read.sets), &opts, rules, &mut sources))
            .expect("example runs")
    };
    let on_node = |n: Option<&str>| ex.node.is_none() || n == ex.node.as_deref();
    let mut out = BTreeSet::new();
    for d in &report.diagnostics {
        if on_node(d.node.as_deref()) {
            out.insert(d.code.clone());
        }
    }
    for v in &report.verdicts {
        if let Some(r) = &v.rule {
            if on_node(Some(&v.node)) {
                out.insert(r.to_string());
            }
        }
    }
    (out, report)
}

/// Writes the files of `#= PATH` sections under `dir` and returns the text before the first one.
fn write_marked_files(dir: &std::path::Path, text: &str) -> String {
    let mut head = String::new();
    let mut current: Option<(std::path::PathBuf, String)> = None;
    let flush = |c: &mut Option<(std::path::PathBuf, String)>| {
        if let Some((p, body)) = c.take() {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        }
    };
    for line in text.lines() {
        if let Some(rel) = line.strip_prefix("#= ") {
            flush(&mut current);
            current = Some((dir.join(rel.trim()), String::new()));
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        } else {
            head.push_str(line);
            head.push('\n');
        }
    }
    flush(&mut current);
    head
}

/// Writes a sysctl example: one `example.conf`, or, when the text has `#= PATH` lines, a small
/// root file system with one file per marker (linted as a root, with `--system` precedence).
fn write_sysctl_example(dir: &std::path::Path, text: &str) -> std::path::PathBuf {
    if !text.lines().any(|l| l.starts_with("#= ")) {
        let path = dir.join("example.conf");
        std::fs::write(&path, text).unwrap();
        return path;
    }
    let root = dir.join("root");
    let mut current: Option<(std::path::PathBuf, String)> = None;
    let flush = |c: &mut Option<(std::path::PathBuf, String)>| {
        if let Some((p, body)) = c.take() {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        }
    };
    for line in text.lines() {
        if let Some(rel) = line.strip_prefix("#= ") {
            flush(&mut current);
            current = Some((root.join(rel.trim()), String::new()));
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    flush(&mut current);
    root
}

#[test]
fn every_example_fires_and_every_fix_does_not() {
    let rules = catalog();
    let mut failures = Vec::new();
    for rule in &rules.rules {
        let (fired, report) = codes(&rules, &rule.docs.example);
        if !fired.contains(&rule.id) {
            failures.push(format!(
                "{} example does not fire; got {fired:?}; diagnostics: {:?}",
                rule.id,
                report
                    .diagnostics
                    .iter()
                    .map(|d| (&d.code, &d.message))
                    .collect::<Vec<_>>()
            ));
        }
        let (fired, _) = codes(&rules, &rule.docs.use_instead);
        if fired.contains(&rule.id) {
            failures.push(format!("{} use_instead still fires", rule.id));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn ids_and_names_are_unique_and_well_formed() {
    let rules = catalog();
    let mut ids = BTreeSet::new();
    let mut names = BTreeSet::new();
    for r in &rules.rules {
        assert!(ids.insert(r.id.clone()), "duplicate id {}", r.id);
        assert!(names.insert(r.name.clone()), "duplicate name {}", r.name);
        assert!(r.path.ends_with(&format!("{}-{}.yaml", r.id, r.name)));
    }
    assert!(
        rules.rules.len() >= 40,
        "the catalog shrank to {}",
        rules.rules.len()
    );
}

#[test]
fn docs_are_complete_and_messages_share_one_style() {
    for r in &catalog().rules {
        for (section, text) in [
            ("what", &r.docs.what),
            ("why", &r.docs.why),
            ("kernel", &r.docs.kernel),
        ] {
            assert!(
                text.trim().len() >= 10,
                "{} docs.{section} is too thin",
                r.id
            );
        }
        assert!(!r.docs.references.is_empty(), "{} has no references", r.id);
        assert!(r.docs.example.sysctl.is_some() || r.docs.example.topology.is_some());
        let first = r.summary.chars().next().unwrap();
        assert!(
            !first.is_uppercase() && !r.summary.ends_with('.'),
            "{} summary style: {}",
            r.id,
            r.summary
        );
    }
}

#[test]
fn diagnostics_follow_the_message_style() {
    // Run every example and check every message a run produced, built-in or CEL.
    let rules = catalog();
    for r in &rules.rules {
        for ex in [&r.docs.example, &r.docs.use_instead] {
            let (_, report) = codes(&rules, ex);
            for d in &report.diagnostics {
                let first = d.message.chars().next().unwrap_or('x');
                assert!(
                    !first.is_uppercase(),
                    "{}: message starts with a capital: {}",
                    d.code,
                    d.message
                );
                assert!(
                    !d.message.ends_with('.'),
                    "{}: message ends with a period: {}",
                    d.code,
                    d.message
                );
            }
        }
    }
}

/// Every field of the fact model is documented in rules/README.md (the rule format's contract).
#[test]
fn fact_model_is_documented() {
    use twlint::config::{self, KernelOrigin};
    use twlint::facts::{self, LinkInfo, NodeInfo};
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/README.md")).unwrap();
    let mut diags = Vec::new();
    let cfg = config::resolve(
        "n",
        KernelVersion::new(6, 8),
        KernelOrigin::Node,
        None,
        &[],
        &mut diags,
    );
    let n = facts::node_facts(&cfg, &NodeInfo::default());
    let link = LinkInfo {
        name: "a->b".into(),
        from: 0,
        to: 1,
        port: 80,
        via_nat: false,
        client_closes: true,
        rate: None,
        open: None,
        source: None,
        namespace_rate: None,
        namespace_open: None,
        vias: vec![],
        keepalive: None,
    };
    let h = facts::hop_facts(&link, true, &n, &n, "web");
    fn fields(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
        if let serde_json::Value::Object(m) = v {
            for (k, v) in m {
                // Maps keyed by sysctl name are documented as `sysctl[KEY]` and the like.
                if k.starts_with("net.") {
                    continue;
                }
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.push(name.clone());
                fields(&name, v, out);
            }
        }
    }
    let mut all = Vec::new();
    fields("", &serde_json::to_value(&n).unwrap(), &mut all);
    fields("", &serde_json::to_value(&h).unwrap(), &mut all);
    let missing: Vec<_> = all
        .iter()
        .filter(|f| {
            !readme.contains(&format!("`{f}`"))
                && !readme.contains(&format!("`{f}["))
                && !readme.contains(&format!("{f}`"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "fact fields missing from rules/README.md: {missing:?}"
    );
}

/// The built-in codes (`twlint::code::Code`, generated by `build.rs`) and the catalog the loader
/// reads agree: the same ids, the same summaries, and exactly the rules whose check is built in.
#[test]
fn the_builtin_code_enum_is_the_catalog_s_builtin_checks() {
    let rules = catalog();
    let catalog: Vec<(&str, &str)> = rules
        .rules
        .iter()
        .filter(|r| matches!(r.check, twlint::rules::Check::Builtin { .. }))
        .map(|r| (r.id.as_str(), r.summary.as_str()))
        .collect();
    let generated: Vec<(&str, &str)> = twlint::code::Code::ALL
        .iter()
        .map(|c| (c.as_str(), c.summary()))
        .collect();
    assert_eq!(generated, catalog);
}
