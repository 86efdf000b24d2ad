//! The JSON report's writer writes its verdicts and diagnostics on all cores and splices them into
//! the rest; these tests hold it to the bytes serde writes for the same model in one pass, on
//! reports with several batches of verdicts (a fleet of generated dumps) and on every reference
//! topology.

#[path = "../benches/gen/mod.rs"]
mod gen;

use std::path::{Path, PathBuf};
use twlint::judge::{self, Request};
use twlint::render::json::{self, Json};
use twlint::report::Report;
use twlint::rules::load::load_catalog;
use twlint::source::SourceMap;

/// (what the writer writes, what serde writes for the model in one pass).
fn both(sources: &SourceMap, report: &Report) -> (String, String) {
    let mut written = Vec::new();
    json::write(&mut written, Json::new(sources, report)).unwrap();
    let mut serde = serde_json::to_string_pretty(&Json::new(sources, report)).unwrap();
    serde.push('\n');
    (String::from_utf8(written).unwrap(), serde)
}

#[test]
fn parallel_writer_writes_what_serde_writes() {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = (0..60)
        .map(|i| {
            let p = dir.path().join(format!("host-{i:02}.txt"));
            std::fs::write(&p, gen::dump(i, 1300)).unwrap();
            p
        })
        .collect();
    let mut sources = SourceMap::new();
    let (rules, _) = load_catalog(&[], &mut sources).unwrap();
    let sets = judge::read_sysctl_paths(&paths, &mut sources).unwrap();
    let opts = judge::Options::default();
    let report = judge::judge(Request::sets(sets), &opts, &rules, &mut sources).unwrap();
    // More than one batch of verdicts (256 a batch), so the joins between batches are checked.
    assert!(report.verdicts.len() > 300, "{}", report.verdicts.len());
    let (written, serde) = both(&sources, &report);
    assert_eq!(written, serde);
}

#[test]
fn parallel_writer_writes_what_serde_writes_for_every_topology() {
    for entry in std::fs::read_dir("topologies").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let rel = Path::new("topologies").join(path.file_name().unwrap());
        let mut sources = SourceMap::new();
        let (rules, _) = load_catalog(&[], &mut sources).unwrap();
        let opts = judge::Options::default();
        let loaded = judge::load_topology(&rel, &opts, &mut sources).unwrap();
        let report = judge::judge(Request::topology(loaded), &opts, &rules, &mut sources).unwrap();
        let (written, serde) = both(&sources, &report);
        assert_eq!(written, serde, "{}", rel.display());
    }
}

#[test]
fn parallel_writer_writes_what_serde_writes_over_several_windows() {
    // A generated topology large enough that its verdicts span more than one window of batches
    // (64 batches of 256), so the joins between windows are checked too.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("topology.yaml");
    std::fs::write(&path, gen::topology(450, 2250)).unwrap();
    let mut sources = SourceMap::new();
    let (rules, _) = load_catalog(&[], &mut sources).unwrap();
    let opts = judge::Options::default();
    let loaded = judge::load_topology(&path, &opts, &mut sources).unwrap();
    let in_file: Vec<String> = loaded
        .topology
        .as_ref()
        .unwrap()
        .links
        .iter()
        .map(|l| l.name())
        .collect();
    let report = judge::judge(Request::topology(loaded), &opts, &rules, &mut sources).unwrap();
    assert!(
        report.verdicts.len() > 64 * 256,
        "{} verdicts",
        report.verdicts.len()
    );
    // Its links are judged a window of 2,048 at a time: the hops and the verdicts still come
    // link by link, in the file's order.
    let mut groups: Vec<&str> = Vec::new();
    for v in report.verdicts.iter().filter_map(|v| v.link.as_deref()) {
        if groups.last() != Some(&v) {
            groups.push(v);
        }
    }
    let hops: Vec<&str> = report.hops.iter().map(|h| h.link.as_str()).collect();
    assert!(hops.len() > 2048, "{} links", hops.len());
    assert_eq!(hops, in_file);
    assert_eq!(groups, hops);
    let (written, serde) = both(&sources, &report);
    assert_eq!(written, serde);
}

/// The generator the topology benchmarks use refuses to ask for more distinct links than its
/// nodes allow (it used to draw forever), and makes exactly as many as it says are possible.
#[test]
fn generated_topology_refuses_more_links_than_its_nodes_allow() {
    for nodes in [8, 13, 40] {
        let refused = std::panic::catch_unwind(|| gen::topology(nodes, 100_000))
            .expect_err("100,000 links from a few nodes");
        let message = refused
            .downcast_ref::<String>()
            .expect("a formatted panic message");
        let possible: usize = message
            .split("at most ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count in {message:?}"));
        let text = gen::topology(nodes, possible);
        let links = text.lines().filter(|l| l.starts_with("  - {from:")).count();
        assert_eq!(links, possible, "{nodes} nodes");
    }
}
