//! What every fuzz target shares: the built-in catalog (compiled once), a scratch folder with a
//! few files that fuzzed topologies may name, and rendering a report in every format, so a panic
//! anywhere from the reader to the renderers is found.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use twlint::judge::{self, Request};
use twlint::kernel::KernelVersion;
use twlint::render::{self, Style};
use twlint::report::Report;
use twlint::rules::load::load_catalog;
use twlint::rules::RuleSet;
use twlint::source::SourceMap;

/// The embedded rule catalog, compiled once per process.
pub fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| {
        let mut sources = SourceMap::new();
        let (set, diags) = load_catalog(&[], &mut sources).expect("the embedded catalog loads");
        assert!(diags.is_empty(), "the embedded catalog has no problems");
        set
    })
}

/// A folder with files a fuzzed topology can name (`hosts/a.conf`, `hosts/b.conf`, `dump.txt`).
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("twlint-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("hosts")).expect("scratch folder");
        std::fs::write(
            dir.join("hosts/a.conf"),
            "net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_timestamps = 0\n",
        )
        .expect("scratch file");
        std::fs::write(
            dir.join("hosts/b.conf"),
            "net.ipv4.tcp_tw_recycle = 1\nnet.ipv4.ip_local_port_range = 1024 1024\n",
        )
        .expect("scratch file");
        std::fs::write(dir.join("dump.txt"), dump_prefix()).expect("scratch file");
        dir
    })
}

/// A valid `sysctl -a` dump of 120 lines, so appended fuzz lines are read as part of a dump.
pub fn dump_prefix() -> &'static str {
    static DUMP: OnceLock<String> = OnceLock::new();
    DUMP.get_or_init(|| {
        let mut s = String::from("kernel.osrelease = 5.4.0-42-generic\n");
        s.push_str("net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_timestamps = 1\n");
        s.push_str("net.ipv4.ip_local_port_range = 32768\t60999\n");
        for i in 0..116 {
            let top = ["kernel", "vm", "fs", "net.core"][i % 4];
            s.push_str(&format!("{top}.fuzz_key_{i} = {i}\n"));
        }
        s
    })
}

/// A kernel chosen by the input, so kernel-dependent paths are fuzzed too.
pub fn kernel_for(data: &[u8]) -> Option<KernelVersion> {
    match data.len() % 5 {
        0 => None,
        1 => KernelVersion::parse("3.10"),
        2 => KernelVersion::parse("4.9"),
        3 => KernelVersion::parse("5.15"),
        _ => KernelVersion::parse("6.18"),
    }
}

/// A report as JSON and human text (no colour), to compare two reports.
pub fn rendered(sources: &SourceMap, report: &Report) -> String {
    let mut human = Vec::new();
    render::human::write(
        &mut human,
        Style::plain(),
        sources,
        report,
        Some(twlint::diag::Verdict::Dangerous),
    )
    .expect("writing to memory cannot fail");
    let mut json = Vec::new();
    render::json::write(&mut json, render::json::Json::new(sources, report))
        .expect("writing to memory cannot fail");
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&json),
        String::from_utf8_lossy(&human)
    )
}

/// Renders a report as human text (with and without colour) and as JSON into a sink.
pub fn render_all(sources: &SourceMap, report: &Report) {
    let mut sink = std::io::sink();
    for (color, show_safe) in [(false, false), (true, true)] {
        let style = Style {
            color,
            show_safe,
            ..Style::plain()
        };
        render::human::write(
            &mut sink,
            style,
            sources,
            report,
            Some(twlint::diag::Verdict::Dangerous),
        )
        .expect("writing to a sink cannot fail");
    }
    render::json::write(&mut sink, render::json::Json::new(sources, report))
        .expect("writing to a sink cannot fail");
    let _ = twlint::report::Fleet::of(report);
}

/// Judges one text (a sysctl file or a `sysctl -a` dump) registered under `name`, as a node of
/// its own.
pub fn lint_text(
    name: &str,
    text: &str,
    kernel: Option<KernelVersion>,
    rules: &RuleSet,
    sources: &mut SourceMap,
) -> twlint::error::Result<Report> {
    let set = twlint::sysctl::load_text(name, text, sources);
    let opts = judge::Options {
        kernel,
        ..judge::Options::default()
    };
    judge::judge(
        Request::sets(vec![(name.to_string(), set)]),
        &opts,
        rules,
        sources,
    )
}

/// Judges a topology given as text; `dir` resolves its files.
pub fn judge_topology_text(
    name: &str,
    dir: &Path,
    text: &str,
    rules: &RuleSet,
    sources: &mut SourceMap,
) -> twlint::error::Result<Report> {
    let loaded = twlint::topology::load_text(name, dir, text, sources);
    judge::judge(
        Request::topology(loaded),
        &judge::Options::default(),
        rules,
        sources,
    )
}
