//! A fleet run reads only the lines of a `sysctl -a` dump that twlint judges (the in-scope keys
//! and `kernel.osrelease`, found in the same pass that recognises the dump); the library's
//! `sysctl::load_text` parses every line, and keeps the whole text where the fleet run keeps only the
//! lines it read (the others emptied). Both must give the same report, JSON and human, byte for
//! byte (source snippets included), for every kind of dump: generated hosts of six kernel releases, CRLF, leading comments, values the kernel
//! refuses, keys the kernel no longer has, an in-scope key listed twice, no release at all.

#[path = "../benches/gen/mod.rs"]
mod gen;

use std::path::PathBuf;
use twlint::judge::{self, Request};
use twlint::render;
use twlint::rules::load::load_catalog;
use twlint::source::SourceMap;

/// The JSON and human reports of one dump, judged with every line parsed and kept.
fn full_way(shown: &str, text: &str) -> String {
    let mut sources = SourceMap::new();
    let (rules, _) = load_catalog(&[], &mut sources).unwrap();
    let set = twlint::sysctl::load_text(shown, text, &mut sources);
    let report = judge::judge(
        Request::sets(vec![(shown.to_string(), set)]),
        &judge::Options::default(),
        &rules,
        &mut sources,
    )
    .unwrap();
    rendered(&sources, &report)
}

fn rendered(sources: &SourceMap, report: &twlint::report::Report) -> String {
    let mut human = Vec::new();
    let style = render::Style::plain();
    render::human::write(
        &mut human,
        style,
        sources,
        report,
        Some(twlint::diag::Verdict::Dangerous),
    )
    .unwrap();
    format!(
        "{}\n{}",
        serde_json::to_string(&render::json::Json::new(sources, report)).unwrap(),
        String::from_utf8(human).unwrap()
    )
}

/// The reports of one dump judged both ways: (every line parsed, judged lines only).
fn both_ways(dir: &std::path::Path, name: &str, text: &str) -> (String, String) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let shown = path.display().to_string();

    let full = full_way(&shown, text);
    let mut sources = SourceMap::new();
    let (rules, _) = load_catalog(&[], &mut sources).unwrap();
    let sets = judge::read_sysctl_paths(&[PathBuf::from(&shown)], &mut sources).unwrap();
    let fast = judge::judge(
        Request::sets(sets),
        &judge::Options::default(),
        &rules,
        &mut sources,
    )
    .unwrap();
    (full, rendered(&sources, &fast))
}

fn set(text: &str, key: &str, value: &str) -> String {
    let mut out = String::new();
    let mut found = false;
    for line in text.lines() {
        if line.split(" = ").next() == Some(key) {
            out.push_str(&format!("{key} = {value}\n"));
            found = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !found {
        out.push_str(&format!("{key} = {value}\n"));
    }
    out
}

#[test]
fn judging_only_the_judged_lines_of_a_dump_gives_the_report_of_reading_them_all() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cases: Vec<(String, String)> = Vec::new();
    // Every variant the generator makes: six releases times seven kinds of host.
    for n in 0..42 {
        cases.push((format!("host-{n}.txt"), gen::dump(n, 1300)));
    }
    let base = gen::dump(4, 1300);
    assert!(twlint::sysctl::is_dump(&base));
    cases.push(("crlf.txt".into(), base.replace('\n', "\r\n")));
    cases.push((
        "comments.txt".into(),
        format!("# sysctl -a on web-1\n# 2026-11-25\n\n{base}"),
    ));
    cases.push((
        "refused.txt".into(),
        set(
            &set(&base, "net.ipv4.tcp_tw_reuse", "7"),
            "net.ipv4.ip_local_port_range",
            "61000\t32768",
        ),
    ));
    cases.push((
        "huge.txt".into(),
        set(&base, "net.ipv4.tcp_fin_timeout", "99999999999999999999"),
    ));
    // A directive among the comments above the listing suppresses as it does in any file.
    cases.push((
        "directive.txt".into(),
        format!(
            "# twlint: disable-file=TW151 -- a lab host\n{}",
            set(&base, "net.ipv4.tcp_max_tw_buckets", "5000")
        ),
    ));
    // A value ending in a carriage return before a finding (found by the `dump` fuzz target):
    // the frame must number lines as twlint and procps do, in both ways of reading.
    cases.push((
        "lone-cr.txt".into(),
        format!(
            "abi.odd = x\r\r\n{}",
            set(&base, "net.ipv4.tcp_max_tw_buckets", "5000")
        ),
    ));
    cases.push((
        "removed.txt".into(),
        set(&base, "net.ipv4.tcp_tw_recycle", "1"),
    ));
    cases.push((
        "twice.txt".into(),
        format!("{base}net.ipv4.tcp_max_tw_buckets = 5000\n"),
    ));
    let no_release: String = base
        .lines()
        .filter(|l| !l.starts_with("kernel.osrelease"))
        .map(|l| format!("{l}\n"))
        .collect();
    cases.push(("no-release.txt".into(), no_release));
    cases.push((
        "reserved.txt".into(),
        set(
            &base,
            "net.ipv4.ip_local_reserved_ports",
            "80,443,32768-40000",
        ),
    ));

    for (name, text) in &cases {
        assert!(
            twlint::sysctl::is_dump(text),
            "{name} should read as a dump"
        );
        let (full, fast) = both_ways(tmp.path(), name, text);
        assert!(full.contains("\"kind\":\"dump\""), "{name}: {full}");
        // Findings are drawn with their source lines in the human form.
        if full.contains("\"severity\":\"error\"") {
            assert!(full.contains(" │ "), "{name}: {full}");
        }
        assert_eq!(full, fast, "{name}");
        if name == "directive.txt" {
            assert!(full.contains("\"suppressed\""), "{full}");
        }
    }
}
