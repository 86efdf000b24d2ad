//! The comparisons of BENCHMARKS.md, measured in one run: twlint against `awk` and `cat` on the
//! same generated files, the start-to-exit time of one dump and topology growth. Prints a Markdown table (goal, measured, ratio, verdict).
//!
//! Run with `benches/compare.sh` (or `cargo bench --bench compare`). Everything is generated
//! into a temporary folder by `benches/gen`. Each figure is the fastest of several runs, for
//! twlint and for the tool it is compared with alike: on a shared machine the fastest run is the
//! one least disturbed by other work. `TWLINT_BENCH_RUNS` sets the number of runs (default 7).

#[path = "gen/mod.rs"]
mod gen;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_twlint");

/// The awk parse twlint is compared with: every assignment split at the first `=`, key and value
/// trimmed, kept in an array (last wins), comments and lines without `=` skipped.
const AWK_PARSE: &str = r#"/^[ \t]*[#;]/ || !/=/ { next }
{ i = index($0, "="); k = substr($0, 1, i - 1); v = substr($0, i + 1)
  gsub(/^[ \t]+|[ \t\r]+$/, "", k); gsub(/^[ \t]+|[ \t\r]+$/, "", v); a[k] = v; n++ }
END { print n }"#;

fn runs() -> usize {
    std::env::var("TWLINT_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7)
}

/// Fastest and median of `n` timings of `f`.
fn time(n: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut t: Vec<Duration> = (0..n)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    t.sort();
    (t[0], t[t.len() / 2])
}

/// Runs a command with stdout to /dev/null; panics when it fails (a benchmark of a failure
/// measures nothing).
fn run(cmd: &mut Command) {
    let status = cmd
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    // twlint exits 1 when it finds something dangerous, which the generated fleet has.
    assert!(matches!(status.code(), Some(0 | 1)), "{cmd:?}: {status}");
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

struct Row {
    goal: String,
    measured: String,
    ratio: String,
    /// `None` for a figure given for reference, with no goal of its own.
    ok: Option<bool>,
}

fn row(goal: &str, measured: String, ratio: String, ok: bool) -> Row {
    Row {
        goal: goal.into(),
        measured,
        ratio,
        ok: Some(ok),
    }
}

fn reference(what: &str, measured: String, ratio: String) -> Row {
    Row {
        goal: what.into(),
        measured,
        ratio,
        ok: None,
    }
}

fn main() {
    let n = runs();
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let dir = tmp.path();
    let mut rows = Vec::new();
    eprintln!("generating into {} ...", dir.display());

    // 1. A 1M-line sysctl file: the reader the binary runs (every line kept with its place,
    // TW006 per override), one thread, against awk.
    let big_text = gen::sysctl_file(1_000_000);
    let big = dir.join("big.conf");
    fs::write(&big, &big_text).unwrap();
    let (t_read, _) = time(n.min(3), || {
        let mut sources = twlint::source::SourceMap::new();
        let set = twlint::sysctl::load_text("big.conf", &big_text, &mut sources);
        assert!(!set.files[0].assignments.is_empty());
    });
    let (t_awk, _) = time(n, || {
        run(Command::new("awk").arg(AWK_PARSE).arg(&big));
    });
    let lines_per_s = 1e6 / t_read.as_secs_f64();
    rows.push(row(
        "1M-line sysctl file: >= 15 M lines/s, one thread",
        format!("{:.1} M lines/s ({})", lines_per_s / 1e6, ms(t_read)),
        format!("{:.2}x the goal", lines_per_s / 15e6),
        lines_per_s >= 15e6,
    ));
    let r = t_read.as_secs_f64() / t_awk.as_secs_f64();
    rows.push(row(
        "same file: <= 0.45x the time of awk",
        format!("twlint {} / awk {}", ms(t_read), ms(t_awk)),
        format!("{r:.2}x"),
        r <= 0.45,
    ));
    drop(big_text);
    fs::remove_file(&big).ok();

    // 2. 1,000 dumps of about 1,300 lines: the whole binary, all cores, against cat.
    let dumps = dir.join("dumps");
    fs::create_dir(&dumps).unwrap();
    let mut paths: Vec<PathBuf> = Vec::new();
    for i in 0..1000 {
        let p = dumps.join(format!("host-{i:04}.txt"));
        fs::write(&p, gen::dump(i, 1300)).unwrap();
        paths.push(p);
    }
    let (t_cat, _) = time(n, || run(Command::new("cat").args(&paths)));
    for (format, goal) in [
        (
            "human",
            "1,000 dumps x 1,300 lines: <= 4.3x the time of cat",
        ),
        ("json", "same, --format json"),
    ] {
        let (t, _) = time(n, || {
            run(Command::new(BIN)
                .args(["--format", format, "--color", "never"])
                .args(&paths));
        });
        let r = t.as_secs_f64() / t_cat.as_secs_f64();
        rows.push(row(
            goal,
            format!("twlint {} / cat {}", ms(t), ms(t_cat)),
            format!("{r:.2}x"),
            r <= 4.3,
        ));
    }

    // 3. One dump, start to exit; and what the start costs without input.
    let one = &paths[1];
    let many = (n * 5).max(30);
    let (best, median) = time(many, || run(Command::new(BIN).arg(one)));
    rows.push(row(
        "one dump, start to exit: <= 5 ms",
        format!("{} (median {})", ms(best), ms(median)),
        format!("{:.2}x the goal", best.as_secs_f64() / 0.005),
        best <= Duration::from_millis(5),
    ));
    let (v, _) = time(many, || run(Command::new(BIN).arg("--version")));
    let (rules, _) = time(many, || run(Command::new(BIN).arg("rules")));
    rows.push(reference(
        "start and exit: `--version` / `rules` (loads the catalog)",
        format!("{} / {}", ms(v), ms(rules)),
        format!("catalog {}", ms(rules.saturating_sub(v))),
    ));

    // 4. Topologies: 1,000 nodes and 5,000 links, and the growth from 250 to 2,000 nodes.
    let mut per_node = Vec::new();
    for nodes in [250usize, 500, 1000, 2000] {
        let p = dir.join(format!("topology-{nodes}.yaml"));
        fs::write(&p, gen::topology(nodes, nodes * 5)).unwrap();
        let (t, _) = time(n.min(5), || {
            run(Command::new(BIN)
                .args(["--format", "json", "--topology"])
                .arg(&p));
        });
        per_node.push((nodes, t));
    }
    let t1000 = per_node[2].1;
    rows.push(row(
        "topology 1,000 nodes / 5,000 links judged: <= 1 s",
        ms(t1000),
        format!("{:.2}x the goal", t1000.as_secs_f64()),
        t1000 <= Duration::from_secs(1),
    ));
    let growth: Vec<String> = per_node
        .iter()
        .map(|(nodes, t)| format!("{nodes}: {}", ms(*t)))
        .collect();
    let (n0, t0) = per_node[0];
    let (n3, t3) = per_node[3];
    let r = (t3.as_secs_f64() / n3 as f64) / (t0.as_secs_f64() / n0 as f64);
    rows.push(row(
        "growing linearly (time per node, 2,000 vs 250 nodes)",
        growth.join(", "),
        format!("{r:.2}x per node"),
        r <= 1.5,
    ));

    print_table(&rows);
}

fn print_table(rows: &[Row]) {
    let machine = machine();
    println!("\nMachine: {machine}");
    println!("\n| goal | measured | ratio | verdict |\n|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} |",
            r.goal,
            r.measured,
            r.ratio,
            match r.ok {
                Some(true) => "met",
                Some(false) => "NOT met",
                None => "(reference)",
            }
        );
    }
}

fn machine() -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let awk = Path::new("/usr/bin/awk")
        .canonicalize()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "awk".into());
    format!(
        "{cpu}, {cores} cores, Linux {}, awk = {awk}, load average at the end {}",
        kernel.trim(),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}
