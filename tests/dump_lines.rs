//! A fleet run reads only the lines of a `sysctl -a` dump that twlint judges (the in-scope keys
//! and `kernel.osrelease`, found in the same pass that recognises the dump); the library's
//! `lint_text` parses every line. Both must give the same report, byte for byte, for every kind
//! of dump: generated hosts of six kernel releases, CRLF, leading comments, values the kernel
//! refuses, keys the kernel no longer has, an in-scope key listed twice, no release at all.

#[path = "../benches/gen/mod.rs"]
mod gen;

use std::path::PathBuf;
use twlint::engine;
use twlint::render;
use twlint::rules::load::load_catalog;
use twlint::source::SourceMap;

/// The JSON report of one dump judged both ways: (every line parsed, judged lines only).
fn both_ways(dir: &std::path::Path, name: &str, text: &str) -> (String, String) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let shown = path.display().to_string();

    let mut sources = SourceMap::new();
    let (rules, _) = load_catalog(&[], &mut sources).unwrap();
    let full = engine::lint_text(&shown, text, None, &rules, &mut sources).unwrap();
    let full = render::json::report(&sources, &full).to_string();

    let mut sources = SourceMap::new();
    let (rules, _) = load_catalog(&[], &mut sources).unwrap();
    let fast = engine::lint_files(&[PathBuf::from(&shown)], None, &rules, &mut sources).unwrap();
    let fast = render::json::report(&sources, &fast).to_string();
    (full, fast)
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
        set(&base, "net.ipv4.ip_local_reserved_ports", "80,443,32768-40000"),
    ));

    for (name, text) in &cases {
        assert!(twlint::sysctl::is_dump(text), "{name} should read as a dump");
        let (full, fast) = both_ways(tmp.path(), name, text);
        assert!(full.contains("\"kind\":\"dump\""), "{name}: {full}");
        assert_eq!(full, fast, "{name}");
    }
}
