//! Shell scripts, tuned profiles and cloud-init files: the values they write are read at the
//! key and value as written (inside quotes, heredocs, YAML blocks), what they compute or only
//! point at is said rather than judged, and a named file in no format twlint reads is refused.

#[allow(dead_code)] // the Prometheus checker is for other test files
mod common;
#[path = "common/in_process.rs"]
#[allow(dead_code)] // `masked` is for tests that pin temporary folders
mod in_process;

use in_process::twlint;
use std::path::PathBuf;
use twlint::judge::{self, Request};
use twlint::report::Report;
use twlint::rules::load::load_catalog;
use twlint::source::SourceMap;

const SCRIPT: &str = "tests/fixtures/inputs/shell/provision.sh";
const TUNED: &str = "tests/fixtures/inputs/tuned/web/tuned.conf";
const CLOUD: &str = "tests/fixtures/inputs/cloud-init/node.yaml";

fn judged(paths: &[&str]) -> (Report, SourceMap) {
    let mut sources = SourceMap::new();
    let (rules, _) = load_catalog(&[], &mut sources).unwrap();
    let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    let sets = judge::read_sysctl_paths(&paths, &mut sources).unwrap();
    let report = judge::judge(
        Request::sets(sets),
        &judge::Options::default(),
        &rules,
        &mut sources,
    )
    .unwrap();
    (report, sources)
}

/// Every diagnostic as `CODE line:column text-at-the-place`.
fn findings(report: &Report, sources: &SourceMap) -> Vec<String> {
    report
        .diagnostics
        .iter()
        .map(|d| {
            let span = d.primary.as_ref().unwrap().span;
            let at = sources.location(span);
            format!(
                "{} {}:{} {}",
                d.code,
                at.line,
                at.column,
                sources.slice(span)
            )
        })
        .collect()
}

fn value(report: &Report, key: &str) -> Option<String> {
    report
        .verdicts
        .iter()
        .find(|v| v.key == key)
        .and_then(|v| v.value.clone())
}

#[test]
fn a_script_s_writes_are_read_where_the_shell_reads_them() {
    let (report, sources) = judged(&[SCRIPT]);
    let got = findings(&report, &sources);
    assert_eq!(
        got,
        [
            // `sudo sysctl -w "k=v" k2=v2`: the value inside the quotes the shell removes.
            "TW140 6:42 30",
            // `sysctl k=v` without -w.
            "TW151 7:36 512",
            // printf into /proc/sys with `>>`: the value inside its quotes.
            "TW007 9:16 1024 65000",
            "TW133 9:16 1024 65000",
            // `echo 0 | tee /proc/sys/...`.
            "TW107 10:6 0",
            // Computed by the shell: not judged, neither here nor in an expanding heredoc.
            "TW083 11:26 $SWAPPINESS",
            "TW083 16:20 ${MAP_COUNT}",
            // `sysctl -p FILE` applies a file the script does not show.
            "TW084 19:1 sysctl -p /etc/sysctl.d/90-web.conf",
        ],
        "{got:#?}"
    );
    // The heredoc is a sysctl file, read where it was written; `echo 1 >` and `-w` are read.
    assert_eq!(
        value(&report, "net.ipv4.ip_local_reserved_ports").as_deref(),
        Some("30000-32767")
    );
    assert_eq!(
        value(&report, "net.ipv4.tcp_fin_timeout").as_deref(),
        Some("30")
    );
    assert_eq!(
        value(&report, "net.ipv4.tcp_timestamps").as_deref(),
        Some("1")
    );
    assert_eq!(
        value(&report, "net.ipv4.tcp_tw_reuse").as_deref(),
        Some("1")
    );
    // None of the nonsense of reading a script as sysctl.conf.
    assert!(!got
        .iter()
        .any(|g| g.starts_with("TW001") || g.starts_with("TW008")));
}

#[test]
fn a_tuned_profile_reads_its_sysctl_section_and_the_including_profile_wins() {
    let (report, sources) = judged(&[TUNED]);
    let got = findings(&report, &sources);
    // `base` sits beside: read first, so the including profile's tcp_fin_timeout wins, and
    // the inline comment is tuned's, not part of the value.
    assert_eq!(
        value(&report, "net.ipv4.tcp_fin_timeout").as_deref(),
        Some("30")
    );
    assert_eq!(
        value(&report, "net.ipv4.tcp_max_tw_buckets").as_deref(),
        Some("262144")
    );
    assert!(got.contains(&"TW101 14:27 1".to_string()), "{got:#?}");
    assert!(
        got.contains(&"TW083 15:35 ${f:cpulist2hex:1}".to_string()),
        "{got:#?}"
    );
    // tuned merges the profiles before writing: the overridden value is never written, so it
    // is no duplicate.
    assert!(!got.iter().any(|g| g.starts_with("TW006")), "{got:#?}");
    // Other sections (`[cpu]`, `[vm]`) are not sysctls; no line is "not an assignment".
    assert!(!got
        .iter()
        .any(|g| g.starts_with("TW001") || g.starts_with("TW005")));
    assert!(!got.iter().any(|g| g.starts_with("TW084")), "{got:#?}");

    // Alone, the included profile is said to be unread.
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("tuned.conf");
    std::fs::copy(TUNED, &web).unwrap();
    let (report, sources) = judged(&[web.to_str().unwrap()]);
    let got = findings(&report, &sources);
    assert!(got.contains(&"TW084 7:9 base".to_string()), "{got:#?}");
    assert_eq!(
        value(&report, "net.ipv4.tcp_fin_timeout").as_deref(),
        Some("30")
    );
    assert_eq!(value(&report, "net.ipv4.tcp_max_tw_buckets"), None);
}

#[test]
fn cloud_init_reads_sysctl_files_it_writes_and_commands_it_runs() {
    let (report, sources) = judged(&[CLOUD]);
    let got = findings(&report, &sources);
    assert_eq!(
        got,
        [
            // write_files content: the place in the YAML block.
            "TW151 16:37 512",
            "TW076 17:30 ${overcommit}",
            "TW085 19:15 b64",
            // runcmd, string form.
            "TW140 23:40 15",
        ],
        "{got:#?}"
    );
    // bootcmd in list form, runcmd's `echo > /proc/sys`; /etc/motd is no sysctl file.
    assert_eq!(
        value(&report, "net.ipv4.ip_local_port_range").as_deref(),
        Some("32768 60999")
    );
    assert_eq!(
        value(&report, "net.ipv4.tcp_timestamps").as_deref(),
        Some("1")
    );
    assert_eq!(
        value(&report, "net.ipv4.tcp_tw_reuse").as_deref(),
        Some("1")
    );
}

#[test]
fn a_jinja_cloud_config_sets_templated_values_aside_and_reads_the_rest() {
    // `## template: jinja`: `{% ... %}` lines are no YAML; cloud-init renders them first.
    let (report, sources) = judged(&["tests/fixtures/inputs/cloud-init/jinja.yaml"]);
    let got = findings(&report, &sources);
    assert_eq!(
        got,
        [
            // write_files content (the file's path is templated too, still a sysctl.d path).
            "TW076 7:34 {{ ds.meta_data.fin_timeout }}",
            "TW151 9:37 512",
            "TW076 11:28 {{ backlog }}",
            // runcmd.
            "TW076 13:37 {{ ds.meta_data.reuse }}",
            "TW121 16:39 0",
        ],
        "{got:#?}"
    );
    let help = report.diagnostics[0].help.as_deref().unwrap();
    assert!(help.contains("cloud-init devel render"), "{help}");
    // Not judged is never a value: the kernel's defaults stay.
    assert_eq!(
        value(&report, "net.ipv4.tcp_fin_timeout").as_deref(),
        Some("60")
    );
    assert_eq!(
        value(&report, "net.ipv4.tcp_keepalive_time").as_deref(),
        Some("600")
    );
}

#[test]
fn lines_printed_into_sysctl_files_and_heredocs_run_by_a_shell_are_read() {
    let (report, sources) = judged(&["tests/fixtures/inputs/shell/sysctl-files.sh"]);
    let got = findings(&report, &sources);
    assert_eq!(
        got,
        [
            // `echo "k = v" | sudo tee PATH`, at the value inside the quotes.
            "TW140 3:34 15",
            // `printf 'k = v\n' >> PATH`.
            "TW151 5:39 512",
            // `echo k = v >> PATH`: unquoted words.
            "TW198 8:29 1",
            // `echo "vm.swappiness = $SWAP"`: the shell computes it.
            "TW083 9:23 $SWAP",
            // `echo "$k = 20"`: the key is the shell's too.
            "TW083 17:45 $k",
            // Inside `sudo bash -c "echo ... > /proc/sys/..."` (outside the range set below).
            "TW160 19:20 30000-32767",
        ],
        "{got:#?}"
    );
    let at = |key: &str| {
        let v = report.verdicts.iter().find(|v| v.key == key).unwrap();
        let loc = sources.location(v.span.unwrap());
        (v.value.clone().unwrap(), loc.line, loc.column)
    };
    // `| tee -a PATH > /dev/null`, `printf "%s\n" "k = v"`, and two lines of one printf.
    assert_eq!(at("net.ipv4.tcp_tw_reuse"), ("1".into(), 4, 31));
    assert_eq!(at("net.ipv4.tcp_keepalive_time"), ("600".into(), 6, 46));
    assert_eq!(at("net.ipv4.tcp_keepalive_intvl"), ("30".into(), 7, 40));
    assert_eq!(at("net.ipv4.tcp_keepalive_probes"), ("5".into(), 7, 76));
    // `sudo bash -s <<EOF`: the heredoc is a script this host runs.
    assert_eq!(at("net.ipv4.tcp_orphan_retries"), ("1".into(), 12, 39));
    // `sh -c SCRIPT`: the script's places inside the quoted word.
    assert_eq!(at("net.ipv4.tcp_tw_reuse_delay"), ("2000".into(), 18, 49));
    assert_eq!(
        at("net.ipv4.ip_local_reserved_ports"),
        ("30000-32767".into(), 19, 20)
    );
    assert_eq!(
        at("net.ipv4.ip_local_port_range"),
        ("40000 60001".into(), 20, 49)
    );
    // Printed to another file, or run by `ssh` on another host: nothing set here.
    assert_eq!(
        value(&report, "net.ipv4.tcp_timestamps").as_deref(),
        Some("1")
    );
    assert!(report
        .verdicts
        .iter()
        .find(|v| v.key == "net.ipv4.tcp_max_orphans")
        .is_none_or(|v| v.span.is_none()));
}

#[test]
fn cloud_init_commands_that_write_sysctl_files_are_read() {
    let (report, sources) = judged(&["tests/fixtures/inputs/cloud-init/runcmd-files.yaml"]);
    let got = findings(&report, &sources);
    assert_eq!(
        got,
        [
            "TW140 4:38 15",
            // A heredoc in a literal block, each line where it is written.
            "TW151 7:35 512",
            "TW076 8:26 {{ n }}",
            // Two lines of one printf piped to tee.
            "TW115 10:37 1",
            "TW121 10:66 0",
        ],
        "{got:#?}"
    );
}

#[test]
fn each_format_can_be_forced_by_name() {
    for (format, path) in [("shell", SCRIPT), ("tuned", TUNED), ("cloud-init", CLOUD)] {
        let out = twlint(&["--input-format", format, "--format", "gcc", path]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{format}: {text}");
        assert!(!text.contains("[TW001]"), "{format}: {text}");
    }
}

#[test]
fn a_named_file_in_no_known_format_is_refused_with_the_formats_twlint_reads() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("values.yaml");
    std::fs::write(
        &notes,
        "# Helm values\nreplicas: 3\nimage:\n  tag: v1\nnodeSelector:\n  - /tmp/x\n",
    )
    .unwrap();
    let out = twlint(&[notes.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty() || !String::from_utf8_lossy(&out.stdout).contains("TW001"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("values.yaml:2: not in a format twlint reads"),
        "{err}"
    );
    for name in [
        "sysctl",
        "dump",
        "kubernetes",
        "compose",
        "shell",
        "tuned",
        "cloud-init",
    ] {
        assert!(err.contains(name), "{name} not named: {err}");
    }
    // Forced, it is read as asked.
    let out = twlint(&["--input-format", "sysctl", notes.to_str().unwrap()]);
    assert_ne!(out.status.code(), Some(2));
    // In a sysctl.d folder procps applies every `*.conf`: read as sysctl.conf, as before.
    std::fs::write(
        dir.path().join("10-x.conf"),
        "junk words\nnet.core.somaxconn = 1\n",
    )
    .unwrap();
    std::fs::remove_file(&notes).unwrap();
    let out = twlint(&["--format", "gcc", dir.path().to_str().unwrap()]);
    assert_ne!(out.status.code(), Some(2));
}

#[test]
fn an_init_container_s_echo_to_proc_sys_is_read_too() {
    let dir = tempfile::tempdir().unwrap();
    let pod = dir.path().join("pod.yaml");
    std::fs::write(
        &pod,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  initContainers:\n    - name: tune\n      \
         image: busybox\n      securityContext:\n        privileged: true\n      command:\n        - sh\n        \
         - -c\n        - echo 512 > /proc/sys/net/ipv4/tcp_max_tw_buckets\n  containers:\n    - name: app\n      \
         image: busybox\n",
    )
    .unwrap();
    let out = twlint(&["--format", "gcc", pod.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("pod.yaml:14:16: error: tcp_max_tw_buckets=512"),
        "{text}"
    );
}

#[test]
fn the_guide_page_shows_the_checked_example_output() {
    common::assert_docs_show_example(
        "docs/guide/input-scripts.md",
        "examples/11-scripts-tuned-cloud-init/README.md",
        "examples/11-scripts-tuned-cloud-init/",
    );
}
