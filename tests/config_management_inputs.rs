//! Ansible tasks and variables, Salt states, NixOS modules and Jinja templates of sysctl.conf:
//! each is read behind the input seam, findings land on the key or value as the user wrote it,
//! templated values are reported as not judged (TW076, info) and never as wrong, and what the
//! tool itself would refuse is TW077.

#[allow(dead_code)] // the Prometheus checker is for other test files
mod common;
#[path = "common/in_process.rs"]
#[allow(dead_code)] // only `twlint` is used here
mod in_process;

use in_process::twlint;
use std::path::PathBuf;
use twlint::judge::{self, Request};
use twlint::kernel::KernelVersion;
use twlint::report::Report;
use twlint::rules::load::load_catalog;
use twlint::source::SourceMap;

const DIR: &str = "tests/fixtures/inputs";

fn judged(paths: &[&str], kernel: Option<&str>) -> (Report, SourceMap) {
    let mut sources = SourceMap::new();
    let (rules, _) = load_catalog(&[], &mut sources).unwrap();
    let paths: Vec<PathBuf> = paths.iter().map(|p| PathBuf::from(DIR).join(p)).collect();
    let sets = judge::read_sysctl_paths(&paths, &mut sources).unwrap();
    let opts = judge::Options {
        kernel: kernel.map(|k| KernelVersion::parse(k).unwrap()),
        ..judge::Options::default()
    };
    let report = judge::judge(Request::sets(sets), &opts, &rules, &mut sources).unwrap();
    (report, sources)
}

/// Every diagnostic as `CODE file:line:column` (file name only).
fn findings(report: &Report, sources: &SourceMap) -> Vec<String> {
    report
        .diagnostics
        .iter()
        .map(|d| {
            let span = d.primary.as_ref().unwrap().span;
            let at = sources.location(span);
            let path = &sources.get(span.file).path;
            let name = path.rsplit('/').next().unwrap();
            format!("{} {name}:{}:{}", d.code, at.line, at.column)
        })
        .collect()
}

/// The values the node ends with for `keys`, as `key=value (source kind)`.
fn values(report: &Report, keys: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for k in keys {
        if let Some(v) = report.verdicts.iter().find(|v| v.key == *k) {
            out.push(format!("{k}={}", v.value.as_deref().unwrap_or("-")));
        }
    }
    out
}

#[test]
fn a_playbook_is_read_through_plays_blocks_loops_and_the_free_form() {
    let (report, sources) = judged(&["ansible/playbook.yml"], None);
    assert_eq!(
        findings(&report, &sources),
        [
            // From the play's vars, through `loop: "{{ tw_settings }}"`: at the list item.
            "TW140 playbook.yml:6:16",
            "TW076 playbook.yml:8:17",
            // `tcp_tw_recycle: "1"` at the task's value, inside the quotes.
            "TW101 playbook.yml:13:17",
            // The free form, inside `value="..."`.
            "TW007 playbook.yml:23:60",
            "TW133 playbook.yml:23:60",
            // A loop over a variable of no file given: not judged, at the expression.
            "TW076 playbook.yml:41:14",
        ]
    );
    assert_eq!(report.nodes.len(), 1);
    // `state: absent` sets nothing; `with_dict` gives key and value; `yes` is `1`.
    assert_eq!(
        values(
            &report,
            &[
                "net.ipv4.tcp_timestamps",
                "net.ipv4.tcp_tw_reuse",
                "net.ipv4.tcp_max_tw_buckets"
            ]
        ),
        [
            "net.ipv4.tcp_timestamps=1",
            "net.ipv4.tcp_tw_reuse=1",
            "net.ipv4.tcp_max_tw_buckets=65536"
        ]
    );
    let timestamps = report
        .verdicts
        .iter()
        .find(|v| v.key == "net.ipv4.tcp_timestamps")
        .unwrap();
    assert!(
        timestamps.span.is_none(),
        "state: absent is not an assignment"
    );
}

#[test]
fn a_tw_recycle_task_gets_tw101_or_tw103_at_its_value_line() {
    let (report, sources) = judged(&["ansible/playbook.yml"], Some("4.9"));
    let got = findings(&report, &sources);
    assert!(
        got.contains(&"TW103 playbook.yml:13:17".to_string()),
        "{got:?}"
    );
    let (report, sources) = judged(&["ansible/playbook.yml"], None);
    let got = findings(&report, &sources);
    assert!(
        got.contains(&"TW101 playbook.yml:13:17".to_string()),
        "{got:?}"
    );
}

#[test]
fn a_role_defaults_file_is_judged_at_its_own_lines_and_its_tasks_loop_over_it() {
    let (report, sources) = judged(
        &[
            "ansible/role/tasks/main.yml",
            "ansible/role/defaults/main.yml",
        ],
        None,
    );
    assert_eq!(
        findings(&report, &sources),
        [
            "TW115 main.yml:4:42",
            "TW121 main.yml:5:44",
            "TW076 main.yml:6:37",
            // The task's `loop: "{{ role_sysctl }}"` is read from defaults/main.yml beside it
            // (tests/ansible_variables.rs), so it is not "defined elsewhere".
            "TW077 main.yml:12:11",
        ]
    );
    // The item with `state: absent` sets nothing.
    assert_eq!(
        values(&report, &["net.ipv4.tcp_fin_timeout"]),
        ["net.ipv4.tcp_fin_timeout=60"]
    );
    // Info-level TW076 never fails a run on its own: the TW077 of the tasks file does.
    let out = twlint(&[
        &format!("{DIR}/ansible/role/defaults/main.yml"),
        "--format",
        "gcc",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn salt_states_read_the_state_id_as_the_key_and_skip_jinja() {
    let (report, sources) = judged(&["salt/sysctl.sls"], None);
    assert_eq!(
        findings(&report, &sources),
        [
            "TW101 sysctl.sls:4:14",
            "TW076 sysctl.sls:9:14",
            "TW007 sysctl.sls:16:14",
            "TW133 sysctl.sls:16:14",
            "TW076 sysctl.sls:19:1",
            "TW077 sysctl.sls:25:3",
        ]
    );
}

#[test]
fn nixos_sysctl_sets_and_paths_are_read_with_strings_and_comments() {
    let (report, sources) = judged(&["nix/configuration.nix"], None);
    assert_eq!(
        findings(&report, &sources),
        [
            "TW101 configuration.nix:9:33",
            "TW007 configuration.nix:10:39",
            "TW133 configuration.nix:10:39",
            "TW076 configuration.nix:11:28",
            "TW077 configuration.nix:14:5",
            "TW151 configuration.nix:16:54",
        ]
    );
    // `lib.mkDefault true` is written as 1; `null` and the commented and string-quoted
    // settings are not set.
    assert_eq!(
        values(
            &report,
            &["net.ipv4.tcp_timestamps", "net.ipv4.tcp_tw_reuse"]
        ),
        ["net.ipv4.tcp_timestamps=1", "net.ipv4.tcp_tw_reuse=2"]
    );
}

#[test]
fn a_jinja_template_of_sysctl_conf_reads_its_plain_lines_and_skips_statements() {
    let (report, sources) = judged(&["jinja/sysctl.conf.j2"], None);
    assert_eq!(
        findings(&report, &sources),
        [
            "TW101 sysctl.conf.j2:2:27",
            "TW076 sysctl.conf.j2:3:28",
            "TW076 sysctl.conf.j2:8:1",
            "TW007 sysctl.conf.j2:10:32",
            "TW133 sysctl.conf.j2:10:32",
        ]
    );
    // No "not an assignment" for `{% %}` lines, no unknown key for `{{ key }}`.
    assert!(!report
        .diagnostics
        .iter()
        .any(|d| d.code == "TW001" || d.code == "TW002"));
}

#[test]
fn input_format_names_every_new_reader() {
    for (format, file) in [
        ("ansible", "ansible/playbook.yml"),
        ("salt", "salt/sysctl.sls"),
        ("nix", "nix/configuration.nix"),
        ("jinja", "jinja/sysctl.conf.j2"),
    ] {
        let out = twlint(&[
            "--input-format",
            format,
            "--format",
            "json",
            &format!("{DIR}/{file}"),
        ]);
        assert_eq!(out.status.code(), Some(1), "{format}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let kinds: Vec<&str> = json["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v["source"]["kind"].as_str())
            .collect();
        assert!(kinds.contains(&format), "{format}: {kinds:?}");
    }
}

/// The guide page shows the output its example keeps checked
/// (`examples/12-ansible-salt-nixos/README.md`, run by `tests/cli.rs`).
#[test]
fn the_guide_page_shows_the_checked_example_output() {
    common::assert_docs_show_example(
        "docs/guide/input-config-management.md",
        "examples/12-ansible-salt-nixos/README.md",
        "examples/12-ansible-salt-nixos/sysctl.yml",
    );
}

/// Issue 13: a task file whose tasks run `sysctl -w` through `shell` or `command` (string,
/// `cmd:`, `argv:`) is Ansible, not a Jinja template of sysctl.conf: each value is judged at its
/// place inside the command string, a `{{ var }}` value is not judged (TW076), no YAML line is
/// read as a key, and a redirection to /proc/sys under `command` (which runs no shell) sets
/// nothing.
#[test]
fn ansible_shell_and_command_tasks_are_read_as_commands_at_their_places() {
    let (report, sources) = judged(&["ansible/shell-tasks.yml"], None);
    assert_eq!(
        findings(&report, &sources),
        [
            "TW076 shell-tasks.yml:4:55",
            "TW101 shell-tasks.yml:7:44",
            "TW140 shell-tasks.yml:11:15",
            "TW151 shell-tasks.yml:14:50",
            "TW007 shell-tasks.yml:21:39",
            "TW133 shell-tasks.yml:21:39",
        ]
    );
    assert!(report.diagnostics.iter().all(|d| d
        .key
        .as_deref()
        .is_none_or(|k| !k.contains(' ') && !k.contains(':'))));
    assert_eq!(
        values(
            &report,
            &["net.ipv4.tcp_max_tw_buckets", "net.ipv4.tcp_tw_reuse"]
        ),
        ["net.ipv4.tcp_max_tw_buckets=512", "net.ipv4.tcp_tw_reuse=2"]
    );
    let out = twlint(&[&format!("{DIR}/ansible/shell-tasks.yml"), "--format", "gcc"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("ansible.builtin.shell"), "{stdout}");
}

/// A shell script template (`*.sh.j2`): keys are read, a templated value is not judged
/// (TW076), and a plain value is judged at its place.
#[test]
fn a_shell_script_template_sets_templated_values_aside_and_reads_the_rest() {
    let (report, sources) = judged(&["shell/tune.sh.j2"], None);
    assert_eq!(
        findings(&report, &sources),
        [
            "TW076 tune.sh.j2:3:30",
            "TW151 tune.sh.j2:4:39",
            "TW076 tune.sh.j2:5:7",
        ]
    );
    let keys: Vec<_> = report
        .diagnostics
        .iter()
        .filter_map(|d| d.key.clone())
        .collect();
    assert_eq!(
        keys,
        [
            "net.core.somaxconn",
            "net.ipv4.tcp_max_tw_buckets",
            "net.ipv4.tcp_fin_timeout"
        ]
    );
}

#[test]
fn ansible_action_forms_aliases_args_and_loop_variables_are_read() {
    let (report, sources) = judged(&["ansible/forms.yml"], None);
    assert_eq!(
        findings(&report, &sources),
        [
            // `action: ansible.posix.sysctl key=... val=...`.
            "TW140 forms.yml:4:65",
            // `community.general.sysctl`.
            "TW151 forms.yml:15:12",
        ]
    );
    assert_eq!(
        values(
            &report,
            &[
                "net.ipv4.tcp_keepalive_time",
                "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes",
                "net.ipv4.tcp_orphan_retries",
            ]
        ),
        [
            // `local_action:` with `module: sysctl`.
            "net.ipv4.tcp_keepalive_time=600",
            // `with_items` with `loop_control.loop_var: setting`.
            "net.ipv4.tcp_keepalive_intvl=15",
            "net.ipv4.tcp_keepalive_probes=4",
            // `args:`, and `"off"` is the module's boolean word for 0.
            "net.ipv4.tcp_orphan_retries=0",
        ]
    );
}
