//! The rows of BENCHMARKS.md's table, measured in one run: each path users run against the
//! command it is compared with, as a ratio.
//!
//! Run with `benches/compare.sh` (or `cargo bench --bench compare`). Everything is generated
//! into a temporary folder by `benches/gen`. Every command is spawned directly (no shell in
//! front, which would add the same start-up to both sides and pull short ratios towards 1),
//! the two commands of a row run in turn (A, B, A, B, ...) so that both see the same load, the
//! figure of each is the median of its runs, and every run's exit code is checked (a
//! benchmark of a failure measures nothing). Peak memory is the child's own `ru_maxrss`
//! (`wait4`). `TWLINT_BENCH_RUNS` sets the runs per command (default 7; the start-up rows run
//! ten times as many), `TWLINT_BENCH_DUMPS` the fleet's size (default 10,000),
//! `TWLINT_BENCH_ROWS` which groups of rows to measure (comma-separated, of `startup`, `big`,
//! `huge`, `long`, `fleet`, `topology`; default all).

#[path = "gen/mod.rs"]
mod gen;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The binary measured: `TWLINT_BIN` (`benches/compare.sh` sets it to the `--profile dist` build
/// the README's first command makes), else this build's (`cargo bench` builds `--release`).
fn bin() -> OsString {
    std::env::var_os("TWLINT_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_twlint").into())
}

/// The awk parse twlint is compared with: every assignment split at the first `=`, key and value
/// trimmed, kept in an array (last wins), comments and lines without `=` skipped.
const AWK_PARSE: &str = r#"/^[ \t]*[#;]/ || !/=/ { next }
{ i = index($0, "="); k = substr($0, 1, i - 1); v = substr($0, i + 1)
  gsub(/^[ \t]+|[ \t\r]+$/, "", k); gsub(/^[ \t]+|[ \t\r]+$/, "", v); a[k] = v; n++ }
END { print n }"#;

/// The keys host mode reads, as `benches/host-read.sh` gives them to `sysctl -n`.
const HOST_KEYS: [&str; 9] = [
    "net.ipv4.tcp_tw_reuse",
    "net.ipv4.tcp_tw_recycle",
    "net.ipv4.tcp_timestamps",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_max_tw_buckets",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_tw_reuse_delay",
    "net.ipv4.ip_unprivileged_port_start",
];

/// Whether `TWLINT_BENCH_ROWS` asks for this group of rows (all when it is unset).
fn wanted(group: &str) -> bool {
    std::env::var("TWLINT_BENCH_ROWS").map_or(true, |v| v.split(',').any(|g| g.trim() == group))
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// A command as spawned: program and arguments, and the exit codes that count as success.
#[derive(Clone)]
struct Cmd {
    argv: Vec<OsString>,
    ok: &'static [i32],
}

fn cmd(argv: &[&dyn AsRef<std::ffi::OsStr>]) -> Cmd {
    Cmd {
        argv: argv.iter().map(|a| a.as_ref().to_os_string()).collect(),
        ok: &[0],
    }
}

/// twlint's exit codes for a run that judged everything: 0, or 1 for findings at `--fail-on`.
fn judged(c: Cmd) -> Cmd {
    Cmd { ok: &[0, 1], ..c }
}

impl Cmd {
    fn shown(&self) -> String {
        self.argv
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let a = a.to_string_lossy();
                // The program by its name, files by theirs, the awk script by its name here.
                let a = match Path::new(a.as_ref()).file_name() {
                    _ if a.contains('\n') => "\"$AWK_PARSE\"".into(),
                    Some(name) if i == 0 || a.starts_with('/') => name.to_string_lossy(),
                    _ => a,
                };
                // Long argument lists (a fleet) are shown by their first one.
                if a.len() > 60 {
                    format!("{}...", &a[..57])
                } else {
                    a.into_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What this process holds now (KiB): the least peak memory `run_once` can report for a child.
fn own_rss() -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// One run: wall time and peak memory (KiB) of the child, its exit code checked.
fn run_once(c: &Cmd) -> (Duration, u64) {
    // A child's ru_maxrss starts from the peak of the memory it was spawned from: exec records
    // the old address space's high-water mark (Linux, fs/exec.c, `setmax_mm_hiwater_rss`), and a
    // child of posix_spawn runs on its parent's until then. So this process's own peak (the
    // generated files it has held) would be the least any run could show. Writing 5 to
    // clear_refs brings that mark down to what this process holds now (`own_rss`).
    let _ = fs::write("/proc/self/clear_refs", "5");
    let start = Instant::now();
    // Reaped by `wait4` below, which also gives the child's own peak memory.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(&c.argv[0])
        .args(&c.argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", c.shown()));
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill; the pid is our own child's.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    // SAFETY: both pointers are to live locals of the types wait4 writes.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    assert_eq!(r, pid, "wait4 {}", c.shown());
    assert!(
        libc::WIFEXITED(status) && c.ok.contains(&libc::WEXITSTATUS(status)),
        "{}: exit status {status:#x}",
        c.shown()
    );
    (elapsed, usage.ru_maxrss as u64)
}

/// Medians of `runs` runs of each command, run in turn; and the largest peak memory of each.
fn interleaved(cmds: &[&Cmd], runs: usize) -> Vec<(Duration, u64)> {
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); cmds.len()];
    let mut peak = vec![0u64; cmds.len()];
    // One run of each first, not counted: files into the page cache, binaries mapped.
    for c in cmds {
        run_once(c);
    }
    for _ in 0..runs {
        for (i, c) in cmds.iter().enumerate() {
            let (t, rss) = run_once(c);
            times[i].push(t);
            peak[i] = peak[i].max(rss);
        }
    }
    times
        .into_iter()
        .zip(peak)
        .map(|(mut t, p)| {
            t.sort();
            (t[t.len() / 2], p)
        })
        .collect()
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

struct Row {
    path: String,
    commands: String,
    measured: String,
    goal: String,
    /// `None` for a row given for reference, with no goal.
    ok: Option<bool>,
}

/// Twlint (`a`) against a reference (`b`): the ratio of the medians against `goal`.
fn ratio_row(path: &str, a: &Cmd, b: &Cmd, runs: usize, goal: f64, rows: &mut Vec<Row>) -> f64 {
    let m = interleaved(&[a, b], runs);
    let r = m[0].0.as_secs_f64() / m[1].0.as_secs_f64();
    rows.push(Row {
        path: path.into(),
        commands: format!("`{}` / `{}`", a.shown(), b.shown()),
        measured: format!("{} / {} = **{r:.2}x**", ms(m[0].0), ms(m[1].0)),
        goal: format!("<= {goal}x"),
        ok: Some(r <= goal),
    });
    eprintln!("  {path}: {r:.2}x");
    r
}

fn main() {
    let runs = env_usize("TWLINT_BENCH_RUNS", 7);
    let fleet = env_usize("TWLINT_BENCH_DUMPS", 10_000);
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let dir = tmp.path();
    let mut rows = Vec::new();
    let bin = bin();
    let tw = |args: &[&dyn AsRef<std::ffi::OsStr>]| {
        let mut v: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&bin];
        v.extend_from_slice(args);
        cmd(&v)
    };
    eprintln!("generating into {} ...", dir.display());

    // 1. Start-up: the host read, a host run of a small topology, explain, rules.
    if wanted("startup") {
        let mut sysctl_n: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"sysctl", &"-n", &"-e"];
        sysctl_n.extend(HOST_KEYS.iter().map(|k| k as &dyn AsRef<std::ffi::OsStr>));
        let sysctl_n = cmd(&sysctl_n);
        // The keys host mode reads today (the issue's nine, and the keepalive, orphan and
        // conntrack keys added since), and the two it names the host by: `sysctl -n` of
        // exactly what twlint reads under /proc/sys. twlint also reads six files of /proc/net
        // (routes, addresses, counters) that this reference does not.
        let all_keys: Vec<String> = twlint::host::keys()
            .chain(["kernel.osrelease", "kernel.hostname"])
            .map(String::from)
            .collect();
        let mut sysctl_all: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"sysctl", &"-n", &"-e"];
        sysctl_all.extend(all_keys.iter().map(|k| k as &dyn AsRef<std::ffi::OsStr>));
        let sysctl_all = cmd(&sysctl_all);
        let many = runs * 10;
        if Path::new("/proc/sys/net/ipv4/tcp_fin_timeout").exists() && which("sysctl") {
            ratio_row(
                "`twlint host --no-sockets` vs `sysctl -n` of the same 9 keys",
                &tw(&[&"host", &"--no-sockets"]),
                &sysctl_n,
                many,
                1.2,
                &mut rows,
            );
            ratio_row(
                &format!(
                    "`twlint host --no-sockets` vs `sysctl -n` of the {} keys it reads",
                    all_keys.len()
                ),
                &tw(&[&"host", &"--no-sockets"]),
                &sysctl_all,
                many,
                1.2,
                &mut rows,
            );
            let topo = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/lb-web-db.yaml");
            ratio_row(
                "a full host run of a small topology vs the same `sysctl -n`",
                &judged(tw(&[&"--live", &"--node", &"web", &"--topology", &topo])),
                &sysctl_n,
                many,
                2.0,
                &mut rows,
            );
        }
        let truth = cmd(&[&"/bin/true"]);
        ratio_row(
            "`twlint explain TW101` vs `/bin/true`",
            &tw(&[&"explain", &"TW101"]),
            &truth,
            many,
            2.0,
            &mut rows,
        );
        ratio_row(
            "`twlint rules` vs `/bin/true`",
            &tw(&[&"rules"]),
            &truth,
            many,
            2.0,
            &mut rows,
        );
    }

    // 2. A 100,000-line sysctl file, JSON and human, against awk; its peak memory.
    if wanted("big") {
        let big = dir.join("big.conf");
        fs::write(&big, gen::sysctl_file(100_000)).unwrap();
        let size_kib = fs::metadata(&big).unwrap().len() / 1024;
        let awk = cmd(&[&"awk", &AWK_PARSE, &big]);
        let json = judged(tw(&[&"--format", &"json", &big]));
        let human = judged(tw(&[&"--color", &"never", &big]));
        ratio_row(
            "`twlint FILE` on a 100,000-line sysctl file vs an awk key=value parse, JSON",
            &json,
            &awk,
            runs,
            1.0,
            &mut rows,
        );
        ratio_row("same, human form", &human, &awk, runs, 1.5, &mut rows);
        let (_, rss) = run_once(&json);
        let (_, rss_h) = run_once(&human);
        let peak = rss.max(rss_h);
        rows.push(Row {
            path: "same, peak memory against the file's size".into(),
            commands: "ru_maxrss of the two runs above".into(),
            measured: format!(
                "{} for {} = **{:.1}x**",
                mib(peak),
                mib(size_kib),
                peak as f64 / size_kib as f64
            ),
            goal: "<= 3x".into(),
            ok: Some(peak <= 3 * size_kib),
        });
        // What the file itself costs, apart from what any run of a file costs (the executable's
        // pages, the catalog): the same runs on a one-line file, for the reader of the row above.
        let one = dir.join("one.conf");
        fs::write(&one, "net.ipv4.tcp_fin_timeout = 30\n").unwrap();
        let (_, floor) = run_once(&judged(tw(&[&"--format", &"json", &one])));
        let (_, floor_h) = run_once(&judged(tw(&[&"--color", &"never", &one])));
        let floor = floor.max(floor_h);
        rows.push(Row {
            path: "same, peak memory of a one-line file, and what the 100,000 lines add".into(),
            commands: "ru_maxrss of the same two runs on a one-line file".into(),
            measured: format!(
                "{}; the file adds {} = {:.1}x its size (this bench holds {}, the least a run \
                 can show)",
                mib(floor),
                mib(peak.saturating_sub(floor)),
                peak.saturating_sub(floor) as f64 / size_kib as f64,
                mib(own_rss())
            ),
            goal: "none: context for the row above".into(),
            ok: None,
        });
        fs::remove_file(&one).ok();
        fs::remove_file(&big).ok();
    }

    // 3. A file over 100,000 lines: read, not refused.
    if wanted("huge") {
        let huge = dir.join("huge.conf");
        fs::write(&huge, gen::sysctl_file(400_000)).unwrap();
        let huge_json = Cmd {
            ok: &[0, 1, 2],
            ..tw(&[&"--format", &"json", &huge])
        };
        let out = Command::new(&bin)
            .args(["--format", "json"])
            .arg(&huge)
            .output()
            .unwrap();
        let read = matches!(out.status.code(), Some(0 | 1));
        let (t, _) = interleaved(&[&huge_json], 1)[0];
        rows.push(Row {
            path: "files over 100,000 lines".into(),
            commands: format!("`{}` (400,000 lines)", huge_json.shown()),
            measured: format!(
                "{}, {}{}",
                out.status,
                ms(t),
                if read { ", read" } else { ", refused" }
            ),
            goal: "read by the one reader".into(),
            ok: Some(read),
        });
        fs::remove_file(&huge).ok();
    }

    // 4. 50,000 lines of long values: human within 2x of JSON.
    if wanted("long") {
        let long = dir.join("long.conf");
        fs::write(&long, gen::long_values(50_000, 400)).unwrap();
        ratio_row(
            "50,000 lines of long values (400 bytes), human vs JSON",
            &judged(tw(&[&"--color", &"never", &long])),
            &judged(tw(&[&"--format", &"json", &long])),
            runs.min(5),
            2.0,
            &mut rows,
        );
        fs::remove_file(&long).ok();
    }

    // 5. The fleet: `sysctl -a` dumps of 1,300 lines against cat; peak memory.
    if wanted("fleet") {
        let dumps = dir.join("dumps");
        fs::create_dir(&dumps).unwrap();
        let mut paths: Vec<PathBuf> = Vec::new();
        for i in 0..fleet {
            let p = dumps.join(format!("host-{i:05}.txt"));
            fs::write(&p, gen::dump(i, 1300)).unwrap();
            paths.push(p);
        }
        let with = |head: &[&dyn AsRef<std::ffi::OsStr>]| {
            let mut v: Vec<OsString> = head.iter().map(|a| a.as_ref().to_os_string()).collect();
            v.extend(paths.iter().map(|p| p.clone().into_os_string()));
            v
        };
        let cat = Cmd {
            argv: with(&[&"cat"]),
            ok: &[0],
        };
        for (format, what) in [("human", "human"), ("json", "JSON")] {
            let fleet_cmd = Cmd {
                argv: with(&[&bin, &"--format", &format, &"--color", &"never"]),
                ok: &[0, 1],
            };
            let m = interleaved(&[&fleet_cmd, &cat], runs.min(5));
            let r = m[0].0.as_secs_f64() / m[1].0.as_secs_f64();
            rows.push(Row {
                path: format!("{fleet} `sysctl -a` dumps vs `cat` of them, {what}"),
                commands: format!("`twlint --format {format} DUMPS...` / `cat DUMPS...`"),
                measured: format!(
                    "{} / {} = **{r:.2}x**; peak {}",
                    ms(m[0].0),
                    ms(m[1].0),
                    mib(m[0].1)
                ),
                goal: "<= 2.0x, memory <= 64 MiB".into(),
                ok: Some(r <= 2.0 && m[0].1 <= 64 * 1024),
            });
            eprintln!("  fleet {format}: {r:.2}x, {}", mib(m[0].1));
        }
        drop(paths);
        fs::remove_dir_all(&dumps).ok();
    }

    // 6. Topologies: 10,000 nodes accepted, time per node, growth from 2,500.
    if wanted("topology") {
        let mut per_node = Vec::new();
        for nodes in [2_500usize, 10_000] {
            let p = dir.join(format!("topology-{nodes}.yaml"));
            fs::write(&p, gen::topology(nodes, nodes * 5)).unwrap();
            let c = judged(tw(&[&"--format", &"json", &"--topology", &p]));
            let status = Command::new(&c.argv[0])
                .args(&c.argv[1..])
                .stdout(Stdio::null())
                .status()
                .unwrap();
            if !matches!(status.code(), Some(0 | 1)) {
                rows.push(Row {
                    path: format!("a topology of {nodes} nodes"),
                    commands: format!("`{}`", c.shown()),
                    measured: format!("refused ({status})"),
                    goal: "accepted".into(),
                    ok: Some(false),
                });
                print_table(&rows, runs);
                return;
            }
            let (t, _) = interleaved(&[&c], runs.min(3))[0];
            per_node.push((nodes, t));
        }
        let (n0, t0) = per_node[0];
        let (n1, t1) = per_node[1];
        let per = t1.as_secs_f64() * 1e3 / n1 as f64;
        rows.push(Row {
            path: "a topology of 10,000 nodes and 50,000 links, judged".into(),
            commands: "`twlint --format json --topology FILE`".into(),
            measured: format!("{} = **{per:.3} ms per node**", ms(t1)),
            goal: "accepted, <= 0.3 ms per node".into(),
            ok: Some(per <= 0.3),
        });
        let growth = per / (t0.as_secs_f64() * 1e3 / n0 as f64);
        rows.push(Row {
            path: "linear: time per node, 10,000 against 2,500 nodes".into(),
            commands: "the same".into(),
            measured: format!("{} / {} = **{growth:.2}x per node**", ms(t1), ms(t0)),
            goal: "<= 1.5x".into(),
            ok: Some(growth <= 1.5),
        });
    }

    print_table(&rows, runs);
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}

fn print_table(rows: &[Row], runs: usize) {
    println!("\nMachine: {}", machine());
    println!(
        "Runs: {runs} per command, interleaved (start-up rows: {}); medians.",
        runs * 10
    );
    println!("\n| path users run | commands | measured | goal | verdict |\n|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} |",
            r.path,
            r.commands,
            r.measured,
            r.goal,
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
