//! The terminal report as a new user meets it: problems first with their fix, safe settings
//! folded (`--show safe` / `-v` list them), every table line within the terminal's width (the
//! reasons wrap under their rows), one column layout per hop, unseen hosts shown as not judged
//! and not counted, a last line in the words of the exit code, syntax errors failing the run,
//! `twlint rules` with severities and verdicts apart, and the same flags across subcommands.

use twlint::cli::{run, Env};

const SEED: &str = "topologies/lb-web-db.yaml";
const DEFAULTS: &str = "tests/fixtures/never-silent/defaults-only.yaml";

fn twlint_at(columns: Option<usize>, args: &[&str]) -> (u8, String, String) {
    let env = Env {
        no_live: true,
        columns,
        ..Default::default()
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run(
        std::iter::once("twlint").chain(args.iter().copied()),
        &mut out,
        &mut err,
        &env,
    );
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn twlint(args: &[&str]) -> (u8, String, String) {
    twlint_at(None, args)
}

/// A line twlint lays out itself (not a frame that ariadne draws around a file's lines).
fn laid_out(line: &str) -> bool {
    !line.starts_with('[')
        && !line
            .chars()
            .any(|c| matches!(c, '│' | '╭' | '╰' | '─' | '├' | '┬' | '┴'))
}

/// The rows of one endpoint's table: from its `NODE (SIDE side)` line to the next line at
/// its indentation or less.
fn endpoint<'a>(text: &'a str, hop: &str, heading: &str) -> Vec<&'a str> {
    let from = text.find(&format!("hop {hop} ")).expect(hop);
    let lines: Vec<&str> = text[from..].lines().collect();
    let at = lines.iter().position(|l| *l == heading).expect(heading);
    lines[at + 1..]
        .iter()
        .take_while(|l| l.starts_with("    "))
        .copied()
        .collect()
}

#[test]
fn every_laid_out_line_fits_the_default_width_of_100() {
    let (_, text, _) = twlint(&["--topology", SEED]);
    for l in text.lines().filter(|l| laid_out(l)) {
        assert!(
            l.chars().count() <= 100,
            "{} columns: {l}",
            l.chars().count()
        );
    }
}

#[test]
fn a_narrow_terminal_wraps_reasons_and_fixes_under_their_rows() {
    let (_, text, _) = twlint_at(Some(72), &["--topology", SEED]);
    let rows = endpoint(&text, "clients->lb", "  lb (server side)");
    assert!(
        rows[0].starts_with("    pointless tcp_tw_reuse"),
        "{rows:#?}"
    );
    // The reason and the fix go under the row, indented, within 72 columns.
    assert!(
        rows[1].starts_with("      lb accepts clients->lb"),
        "{rows:#?}"
    );
    assert!(
        rows.iter()
            .any(|l| l.starts_with("      fix: nothing to change")),
        "{rows:#?}"
    );
    for l in text
        .lines()
        .filter(|l| laid_out(l) && !l.starts_with("hop "))
    {
        assert!(
            l.chars().count() <= 72,
            "{} columns: {l}",
            l.chars().count()
        );
    }
}

#[test]
fn problems_come_first_each_with_its_fix_and_safe_rows_fold() {
    let (_, text, _) = twlint(&["--topology", SEED]);
    let rows = endpoint(&text, "clients->lb", "  lb (server side)");
    let words: Vec<&str> = rows
        .iter()
        .filter(|l| !l.starts_with("      "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(words, ["pointless", "pointless", "safe"], "{rows:#?}");
    let safe = rows.iter().find(|l| l.starts_with("    safe")).unwrap();
    assert!(
        safe.starts_with(
            "    safe (10): tcp_timestamps, ip_local_port_range, tcp_max_tw_buckets, ip_local_reserved_ports"
        ),
        "{safe}"
    );
    // A dangerous default has its fix line under it too.
    let (_, text, _) = twlint(&["--topology", "topologies/loadgen.yaml"]);
    let rows = endpoint(&text, "loadgen->web", "  loadgen (client side)");
    assert!(
        rows[0].starts_with("    dangerous tcp_tw_reuse             2 (default)"),
        "{rows:#?}"
    );
    assert!(
        rows.iter()
            .take_while(|l| !l.starts_with("    dangerous ip_local"))
            .any(|l| l.starts_with("      fix: set")),
        "{rows:#?}"
    );
}

#[test]
fn show_safe_and_verbose_list_every_safe_row() {
    let (_, folded, _) = twlint(&["--topology", SEED]);
    let (_, shown, _) = twlint(&["--topology", SEED, "--show", "safe"]);
    let (_, verbose, _) = twlint(&["--topology", SEED, "-v"]);
    assert_eq!(shown, verbose);
    let rows = |t: &str| {
        t.lines()
            .filter(|l| l.starts_with("    safe      "))
            .count()
    };
    assert_eq!(rows(&folded), 0);
    // 56 safe rows on judged hosts (the NAT's among them), and the 12 rows of the unseen
    // clients, shown as unjudged.
    assert_eq!(rows(&shown), 56, "{shown}");
    assert_eq!(
        shown
            .lines()
            .filter(|l| l.starts_with("    unjudged  "))
            .count(),
        12
    );
}

#[test]
fn unseen_hosts_are_shown_as_not_judged_and_not_counted_as_safe() {
    let (_, text, _) = twlint(&["--topology", SEED]);
    let rows = endpoint(&text, "clients->lb", "  clients (client side)");
    assert!(
        rows[0].starts_with("    not judged: hosts twlint cannot see; 12 settings"),
        "{rows:#?}"
    );
    assert!(
        text.contains("verdicts: 3 dangerous, 6 pointless, 56 safe, 12 not judged\n"),
        "{text}"
    );
    let (_, json, _) = twlint(&["--topology", SEED, "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["summary"]["safe"], 56);
    assert_eq!(report["summary"]["not_judged"], 12);
}

#[test]
fn columns_stay_put_across_both_sides_of_a_hop() {
    let (_, text, _) = twlint(&["--topology", SEED, "--show", "safe"]);
    let mut starts = Vec::new();
    for heading in ["  lb (client side)", "  web (server side)"] {
        for row in endpoint(&text, "lb->web", heading) {
            if row.starts_with("      ") {
                continue;
            }
            // Where the value column starts: after the verdict and the key.
            let key_end = row[14..].find("  ").unwrap() + 14;
            let value_start = key_end + row[key_end..].find(|c: char| c != ' ').unwrap();
            starts.push(value_start);
        }
    }
    assert!(starts.len() > 6);
    assert!(
        starts.windows(2).all(|w| w[0] == w[1]),
        "{starts:?}\n{text}"
    );
}

#[test]
fn the_last_line_says_what_the_exit_code_says() {
    let (code, text, _) = twlint(&["--topology", DEFAULTS]);
    assert_eq!(code, 1);
    assert_eq!(
        text.lines().last().unwrap(),
        "twlint: failed: 2 errors, 0 warnings (--fail-on dangerous: errors fail)"
    );
    let (code, text, _) = twlint(&["--topology", DEFAULTS, "--fail-on", "never"]);
    assert_eq!(code, 0);
    assert_eq!(
        text.lines().last().unwrap(),
        "twlint: passed: 2 errors, 0 warnings (--fail-on never)"
    );
}

#[test]
fn a_line_that_is_not_an_assignment_fails_by_default_as_systemd_sysctl_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("99-broken.conf");
    std::fs::write(&path, "net.ipv4.tcp_fin_timeout 30\n").unwrap();
    let (code, text, _) = twlint(&[path.to_str().unwrap()]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("[TW001] Error: line is not an assignment"),
        "{text}"
    );
    assert!(
        text.ends_with("twlint: failed: 1 error, 0 warnings (--fail-on dangerous: errors fail)\n"),
        "{text}"
    );
}

#[test]
fn rules_lists_finding_severity_and_verdict_in_columns_of_their_own() {
    let (code, text, _) = twlint(&["rules"]);
    assert_eq!(code, 0);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["id", "name", "finding", "verdict", "summary"]);
    let row = |id: &str| -> Vec<String> {
        text.lines()
            .find(|l| l.starts_with(id))
            .unwrap()
            .split_whitespace()
            .take(4)
            .map(String::from)
            .collect()
    };
    assert_eq!(
        row("TW001"),
        ["TW001", "sysctl-syntax-error", "error", "dangerous"]
    );
    assert_eq!(
        row("TW006"),
        ["TW006", "duplicate-assignment", "warning", "-"]
    );
    assert_eq!(row("TW111"), ["TW111", "tw-reuse-effective", "-", "safe"]);
    assert_eq!(
        row("TW112"),
        ["TW112", "tw-reuse-accepting-side", "warning", "pointless"]
    );
}

#[test]
fn the_configuration_in_use_is_named_in_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("twlint.yaml");
    std::fs::write(&config, "fail-on: dangerous\n").unwrap();
    let (_, text, _) = twlint(&["--topology", SEED, "--config", config.to_str().unwrap()]);
    let second = text.lines().nth(1).unwrap();
    assert_eq!(second, format!("  configuration {}", config.display()));
}

#[test]
fn the_same_flags_are_accepted_across_subcommands() {
    // A capture laid out like /: observe reads it at its proc/, as a check run's --root does.
    let capture = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(capture.path().join("proc/net")).unwrap();
    std::fs::write(
        capture.path().join("proc/net/tcp"),
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n",
    )
    .unwrap();
    let root = capture.path().to_str().unwrap().to_string();
    let proc = format!("{root}/proc");
    for args in [
        &["--topology", SEED, "--format", "text"][..],
        &["advise", "--topology", SEED, "--no-live"],
        &[
            "advise",
            "--topology",
            SEED,
            "--format",
            "human",
            "--allow-outside-paths",
        ],
        &["explain", "TW110", "--no-live", "--format", "text"],
        &["rules", "--no-live", "--format", "text"],
        &["observe", "--root", &root, "--format", "text"],
        &["observe", "--proc-dir", &proc],
    ] {
        let (code, out, err) = twlint(args);
        assert!(code < 2, "{args:?}: exit {code}\n{out}\n{err}");
    }
    assert_eq!(
        twlint(&["--topology", SEED, "--format", "text"]).1,
        twlint(&["--topology", SEED]).1
    );
}

#[test]
fn advise_lists_as_unfixable_only_what_its_drop_ins_leave() {
    // The defaults cannot carry 2000/s: TW110 sets tcp_tw_reuse = 1, which makes reuse work
    // and so also clears TW130 (whose rule has no fix of its own); nothing is left unfixable.
    let (code, text, err) = twlint(&["advise", "--topology", DEFAULTS]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("net.ipv4.tcp_tw_reuse = 1"), "{text}");
    assert!(!text.contains("not fixable by a drop-in"), "{text}");
}

#[test]
fn colour_honours_no_color_clicolor_force_and_a_dumb_terminal() {
    let painted = |env: Env| {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        run(["twlint", "--topology", DEFAULTS], &mut out, &mut err, &env);
        String::from_utf8(out).unwrap().contains("\u{1b}[")
    };
    let base = Env {
        no_live: true,
        ..Default::default()
    };
    let terminal = Env {
        stdout_is_terminal: true,
        ..base.clone()
    };
    assert!(painted(terminal.clone()));
    assert!(!painted(base.clone()));
    assert!(!painted(Env {
        term_dumb: true,
        ..terminal.clone()
    }));
    assert!(!painted(Env {
        no_color: true,
        ..terminal.clone()
    }));
    assert!(painted(Env {
        clicolor_force: true,
        ..base.clone()
    }));
    assert!(!painted(Env {
        clicolor_force: true,
        no_color: true,
        ..base
    }));
}

#[test]
fn advise_says_whose_values_it_advised() {
    let (_, _, err) = twlint(&["advise", "--topology", DEFAULTS]);
    assert!(
        err.contains(&format!(
            "twlint: advised on the values {DEFAULTS} declares (this host's live values are not read)"
        )),
        "{err}"
    );
}

#[test]
fn select_and_ignore_turn_rules_off_for_one_run() {
    // Only TW130: TW110 is off, so one finding is left and it still fails the run.
    let (code, text, _) = twlint(&[
        "--topology",
        DEFAULTS,
        "--select",
        "TW130",
        "--format",
        "gcc",
    ]);
    assert_eq!(code, 1);
    assert!(
        text.contains("[TW130]") && !text.contains("[TW110]"),
        "{text}"
    );
    // Both off, by name and by id: nothing fails.
    let (code, text, _) = twlint(&[
        "--topology",
        DEFAULTS,
        "--ignore",
        "tw-reuse-off-under-load,TW130",
        "--format",
        "gcc",
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(text.is_empty(), "{text}");
    // An id prefix names every rule under it.
    let (code, _, _) = twlint(&["--topology", DEFAULTS, "--ignore", "TW1"]);
    assert_eq!(code, 0);
    let (code, _, err) = twlint(&["--topology", DEFAULTS, "--ignore", "TW13O"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--ignore `TW13O` names no rule\n  help: did you mean"),
        "{err}"
    );
}

#[test]
fn twlint_format_and_twlint_fail_on_stand_for_the_flags() {
    let with = |format: Option<&str>, fail_on: Option<&str>, args: &[&str]| {
        let env = Env {
            no_live: true,
            format: format.map(String::from),
            fail_on: fail_on.map(String::from),
            ..Default::default()
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run(
            std::iter::once("twlint").chain(args.iter().copied()),
            &mut out,
            &mut err,
            &env,
        );
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    };
    let (code, text, _) = with(Some("gcc"), Some("never"), &["--topology", DEFAULTS]);
    assert_eq!(code, 0);
    assert!(
        text.starts_with(&format!("{DEFAULTS}:8:5: error: lb: ")),
        "{text}"
    );
    // The flags win over the variables.
    let (code, text, _) = with(
        Some("gcc"),
        Some("never"),
        &[
            "--topology",
            DEFAULTS,
            "--format",
            "json",
            "--fail-on",
            "dangerous",
        ],
    );
    assert_eq!(code, 1);
    assert!(text.starts_with('{'));
    let (code, _, err) = with(Some("yaml"), None, &["--topology", DEFAULTS]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with(
            "twlint: error: invalid TWLINT_FORMAT `yaml`\n  help: set it to one of human, json"
        ),
        "{err}"
    );
}

#[test]
fn the_configuration_is_found_from_the_linted_file_upward() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("project/sysctl.d");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(dir.path().join("project/.twlint.yaml"), "fail-on: never\n").unwrap();
    let file = sub.join("10-recycle.conf");
    std::fs::write(&file, "net.ipv4.tcp_tw_recycle = 1\n").unwrap();
    // Run from the repository root, which has no .twlint.yaml: the file's own is found.
    let (code, text, _) = twlint(&[file.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&format!(
            "  configuration {}",
            dir.path().join("project/.twlint.yaml").display()
        )),
        "{text}"
    );
}

#[test]
fn a_folder_of_dumps_gets_a_hint_to_name_the_dumps() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("web-1.txt"),
        "kernel.osrelease = 6.8.0\nnet.ipv4.tcp_tw_reuse = 2\n",
    )
    .unwrap();
    let (code, _, err) = twlint(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("holds no `*.conf` file"), "{err}");
    assert!(
        err.contains("\n  help: if it holds `sysctl -a` dumps or files of another format, name them (`twlint DIR/*`)"),
        "{err}"
    );
}

#[test]
fn observe_names_states_as_its_help_does() {
    let (code, _, err) = twlint(&["observe", "--state", "timewait"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("`timewait` is not a TCP state; use one of established, syn-sent, syn-recv, fin-wait1, fin-wait2, time-wait, close, close-wait, last-ack, listen, closing"),
        "{err}"
    );
    // Every spelling of one state is the same state.
    let capture = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(capture.path().join("net")).unwrap();
    std::fs::write(
        capture.path().join("net/tcp"),
        "  sl  local_address rem_address   st\n",
    )
    .unwrap();
    let dir = capture.path().to_str().unwrap();
    let outs: Vec<String> = ["time-wait", "time_wait", "TIME-WAIT"]
        .iter()
        .map(|s| twlint(&["observe", "--root", dir, "--state", s, "--format", "json"]).1)
        .collect();
    assert!(outs.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn interval_says_it_is_waiting_on_a_terminal_only() {
    let with = |terminal: bool| {
        let env = Env {
            stderr_is_terminal: terminal,
            ..Default::default()
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        run(
            [
                "twlint",
                "--topology",
                DEFAULTS,
                "--node",
                "lb",
                "--interval",
                "0.01",
            ],
            &mut out,
            &mut err,
            &env,
        );
        String::from_utf8(err).unwrap()
    };
    assert!(
        with(true).starts_with("twlint: reading this host's counters twice, 0.01 s apart...\n"),
        "{}",
        with(true)
    );
    assert!(!with(false).contains("reading this host's counters"));
}

#[test]
fn a_usage_error_reads_like_every_other_error() {
    let (code, _, err) = twlint(&["--formt", "json"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "twlint: error: unexpected argument '--formt' found\n  help: a similar argument exists: '--format'\n  help: usage: twlint --format <FORMAT> [PATH]...; `--help` lists every flag\n"
    );
    let (code, _, err) = twlint(&["advise"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("twlint: error: the following required arguments were not provided: --topology <FILE>\n  help: usage: twlint advise --topology <FILE>;"), "{err}");
}
