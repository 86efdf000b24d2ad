//! Ansible variables files that feed sysctl tasks where the link is plain: a task's
//! `{{ var }}` (or `{{ item.value }}` over a list or mapping variable) whose variable a role's
//! defaults/main.yml or vars/main.yml, the play's `vars:` or `vars_files:`, or a
//! group_vars/host_vars file beside the playbook defines as a literal is judged at the value's place in that file, with the task
//! as a related place; precedence is Ansible's; several definitions whose winner depends on the
//! host, filters and expressions stay not judged (TW076), never wrong; a variables file whose
//! real location is outside its role's or playbook's folder is not read, and neither is a
//! templated or first-found `vars_files:` entry.

#[path = "common/in_process.rs"]
#[allow(dead_code)] // only `twlint` is used here
mod in_process;

use in_process::twlint;
use serde_json::Value;

const LINKED: &str = "tests/fixtures/inputs/ansible/linked";
const VARS_FILES: &str = "tests/fixtures/inputs/ansible/varsfiles";

/// The JSON report of `twlint ARGS --format json`, with the exit code.
fn json(args: &[&str]) -> (Value, Option<i32>) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = twlint(&all);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out.status.code())
}

/// A JSON location as `path-below-LINKED:line:column` (or below VARS_FILES).
fn place(loc: &Value) -> String {
    let path = loc["path"].as_str().unwrap();
    let path = path
        .strip_prefix(LINKED)
        .or_else(|| path.strip_prefix(VARS_FILES))
        .map_or(path, |p| p.trim_start_matches('/'));
    format!("{path}:{}:{}", loc["line"], loc["column"])
}

/// The notes of every diagnostic, in order.
fn notes(report: &Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["notes"].as_array().cloned().unwrap_or_default())
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

/// Every diagnostic as `RULE place [related places]`.
fn findings(report: &Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let related: Vec<String> = d["labels"]
                .as_array()
                .map(|ls| {
                    ls.iter()
                        .map(|l| {
                            format!(
                                "{} ({})",
                                place(&l["location"]),
                                l["message"].as_str().unwrap()
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "{} {} {related:?}",
                d["rule"].as_str().unwrap(),
                place(&d["location"])
            )
        })
        .collect()
}

/// The verdict row of `key`: its value and where it was set (`default` when nowhere).
fn value(report: &Value, key: &str) -> String {
    let v = report["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["key"] == key)
        .unwrap_or_else(|| panic!("no verdict for {key}"));
    let at = match v["source"]["path"].as_str() {
        Some(_) => place(&v["source"]),
        None => v["source"]["kind"].as_str().unwrap().to_string(),
    };
    format!("{}={} at {at}", key, v["value"].as_str().unwrap_or("-"))
}

#[test]
fn a_role_task_reads_its_values_from_the_role_defaults_and_vars_with_the_task_as_related_place() {
    let (report, code) = json(&[&format!("{LINKED}/roles/tuning/tasks/main.yml")]);
    assert_eq!(code, Some(1));
    let task = "roles/tuning/tasks/main.yml";
    assert_eq!(
        findings(&report),
        [
            // `value="{{ fin_timeout }}"` in the free form: 15 in defaults/main.yml.
            format!("TW140 roles/tuning/defaults/main.yml:2:14 [\"{task}:4:48 (applied by this task)\"]"),
            // `loop: "{{ tuning_sysctls }}"`: the list in defaults/main.yml, at each item's value.
            format!("TW151 roles/tuning/defaults/main.yml:8:12 [\"{task}:19:13 (applied by this task)\"]"),
            // A filter and a variable defined nowhere twlint reads: not judged, at the task.
            format!("TW076 {task}:32:13 []"),
            format!("TW076 {task}:37:13 []"),
            // vars/main.yml beats defaults/main.yml (tw_recycle: 1 over 0).
            format!("TW101 roles/tuning/vars/main.yml:2:13 [\"{task}:9:13 (applied by this task)\"]"),
            // `with_dict: "{{ tuning_map }}"` over a mapping in vars/main.yml.
            format!("TW007 roles/tuning/vars/main.yml:4:34 [\"{task}:26:13 (applied by this task)\"]"),
            format!("TW133 roles/tuning/vars/main.yml:4:34 [\"{task}:26:13 (applied by this task)\"]"),
        ]
    );
    assert_eq!(
        [
            value(&report, "net.ipv4.tcp_tw_recycle"),
            value(&report, "net.ipv4.tcp_fin_timeout"),
            value(&report, "net.ipv4.tcp_tw_reuse"),
            // group_vars/all.yml beside the playbook beats the role's defaults (0).
            value(&report, "net.ipv4.tcp_orphan_retries"),
            // `state: "{{ item.state | default('present') }}"` is `absent` for this item: the
            // module removes the line and sets nothing.
            value(&report, "net.ipv4.tcp_timestamps"),
        ],
        [
            "net.ipv4.tcp_tw_recycle=1 at roles/tuning/vars/main.yml:2:13",
            "net.ipv4.tcp_fin_timeout=15 at roles/tuning/defaults/main.yml:2:14",
            "net.ipv4.tcp_tw_reuse=1 at roles/tuning/defaults/main.yml:10:12",
            "net.ipv4.tcp_orphan_retries=2 at group_vars/all.yml:2:17",
            "net.ipv4.tcp_timestamps=1 at default",
        ]
    );
}

#[test]
fn a_role_defaults_file_named_too_gives_each_finding_once() {
    let tasks = format!("{LINKED}/roles/tuning/tasks/main.yml");
    let defaults = format!("{LINKED}/roles/tuning/defaults/main.yml");
    let (alone, _) = json(&[&tasks]);
    let (both, _) = json(&[&tasks, &defaults]);
    let (reversed, _) = json(&[&defaults, &tasks]);
    assert_eq!(findings(&both), findings(&alone));
    assert_eq!(findings(&reversed), findings(&alone));
    // No duplicate assignment (TW006) between the named file and the task that links it.
    assert!(!findings(&both).iter().any(|f| f.starts_with("TW006")));
}

#[test]
fn a_playbook_reads_play_vars_and_one_group_or_host_file_and_leaves_host_dependent_values() {
    let (report, code) = json(&[&format!("{LINKED}/site.yml")]);
    assert_eq!(code, Some(0));
    assert_eq!(
        findings(&report),
        [
            // The play's `vars:` are in the file: no related place.
            // Two group_vars files define it: which one a host gets depends on its groups.
            "TW076 site.yml:13:52 [\"group_vars/db.yml:2:1 (defined here)\", \"group_vars/web.yml:3:1 (defined here)\"]",
        ]
    );
    assert_eq!(
        [
            value(&report, "net.ipv4.tcp_tw_reuse_delay"),
            value(&report, "net.ipv4.tcp_keepalive_probes"),
            value(&report, "net.ipv4.tcp_max_orphans"),
        ],
        [
            "net.ipv4.tcp_tw_reuse_delay=1000 at site.yml:4:18",
            "net.ipv4.tcp_keepalive_probes=3 at host_vars/web1.yml:2:19",
            "net.ipv4.tcp_max_orphans=- at default",
        ]
    );
}

#[test]
fn a_variables_file_leading_outside_its_folder_is_not_read_and_nothing_is_judged_from_it() {
    let outside = tempfile::tempdir().unwrap();
    let canary = outside.path().join("secret.yml");
    std::fs::write(&canary, "fin_timeout: 7 # CANARY-outside\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let role = dir.path().join("roles/r");
    std::fs::create_dir_all(role.join("tasks")).unwrap();
    std::fs::create_dir_all(role.join("defaults")).unwrap();
    std::fs::write(
        role.join("tasks/main.yml"),
        "- sysctl: name=net.ipv4.tcp_fin_timeout value=\"{{ fin_timeout }}\"\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&canary, role.join("defaults/main.yml")).unwrap();
    let tasks = role.join("tasks/main.yml");
    for format in ["json", "human"] {
        let out = twlint(&[tasks.to_str().unwrap(), "--format", format]);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("CANARY"), "{all}");
        assert!(all.contains("TW076"), "{all}");
        assert_eq!(out.status.code(), Some(0), "{all}");
    }
    // A group_vars file leading out makes every variable unknown: it might define any.
    let pb = dir.path().join("site.yml");
    std::fs::write(
        &pb,
        "- hosts: all\n  tasks:\n    - sysctl: name=net.ipv4.tcp_fin_timeout value=\"{{ fin }}\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("group_vars")).unwrap();
    std::fs::write(dir.path().join("group_vars/all.yml"), "fin: 15\n").unwrap();
    std::os::unix::fs::symlink(&canary, dir.path().join("group_vars/web.yml")).unwrap();
    let (report, code) = json(&[pb.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    assert!(!report.to_string().contains("CANARY"));
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].starts_with("TW076"), "{f:?}");
    std::fs::remove_file(dir.path().join("group_vars/web.yml")).unwrap();
    let (report, _) = json(&[pb.to_str().unwrap()]);
    assert!(findings(&report)[0].starts_with("TW140"));
}

#[test]
fn a_topology_naming_a_role_task_file_reads_its_defaults_inside_the_topology_folder() {
    let dir = tempfile::tempdir().unwrap();
    let role = dir.path().join("roles/r");
    std::fs::create_dir_all(role.join("tasks")).unwrap();
    std::fs::create_dir_all(role.join("defaults")).unwrap();
    std::fs::write(
        role.join("tasks/main.yml"),
        "- sysctl: name=net.ipv4.tcp_max_tw_buckets value=\"{{ buckets }}\"\n",
    )
    .unwrap();
    std::fs::write(role.join("defaults/main.yml"), "buckets: 512\n").unwrap();
    let topo = dir.path().join("topology.yaml");
    std::fs::write(
        &topo,
        "version: 1\nnodes:\n  - name: web\n    sysctl:\n      files: [roles/r/tasks/main.yml]\n  - name: db\nlinks:\n  - from: web\n    to: db\n    port: 5432\n    closes_first: web\n",
    )
    .unwrap();
    let (report, code) = json(&["--topology", topo.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{report}");
    let d = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "TW151")
        .unwrap_or_else(|| panic!("{report}"));
    assert!(d["location"]["path"]
        .as_str()
        .unwrap()
        .ends_with("roles/r/defaults/main.yml"));
    assert_eq!(d["labels"][0]["message"], "applied by this task");
}

#[test]
fn a_play_reads_its_vars_files_above_its_vars_and_each_play_only_its_own() {
    let (report, code) = json(&[&format!("{VARS_FILES}/site.yml")]);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(
        findings(&report),
        [
            // `recycle` of the first play's vars_files does not reach the second play's task.
            "TW076 site.yml:29:51 []",
            // Judged at the value in the vars file, with the task as the related place.
            "TW101 vars/web.yml:2:10 [\"site.yml:11:51 (applied by this task)\"]",
            // vars_files (15) beats the play's `vars:` (30).
            "TW140 vars/web.yml:3:14 [\"site.yml:13:52 (applied by this task)\"]",
        ]
    );
    assert_eq!(
        [
            value(&report, "net.ipv4.tcp_fin_timeout"),
            value(&report, "net.ipv4.tcp_keepalive_time"),
            // vars/web.yml, later in the list, beats vars/common.yml (4096).
            value(&report, "net.ipv4.tcp_max_tw_buckets"),
            // `probes` is 5 in the first play's files and 30 in the second's.
            value(&report, "net.ipv4.tcp_keepalive_probes"),
            value(&report, "net.ipv4.tcp_keepalive_intvl"),
        ],
        [
            "net.ipv4.tcp_fin_timeout=15 at vars/web.yml:3:14",
            "net.ipv4.tcp_keepalive_time=600 at site.yml:5:16",
            "net.ipv4.tcp_max_tw_buckets=65536 at vars/web.yml:4:10",
            "net.ipv4.tcp_keepalive_probes=5 at vars/common.yml:3:9",
            "net.ipv4.tcp_keepalive_intvl=30 at vars/db.yml:2:9",
        ]
    );
}

#[test]
fn a_templated_or_first_found_vars_files_entry_is_not_read_and_what_it_may_define_is_not_judged() {
    let (report, code) = json(&[&format!("{VARS_FILES}/templated.yml")]);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(
        findings(&report),
        [
            // The templated entry comes after vars/web.yml, which defines it: it may win.
            "TW076 templated.yml:10:52 []",
            "TW076 templated.yml:16:57 []",
            // A plain file after the templated entry wins over it.
            "TW101 vars/web.yml:2:10 [\"templated.yml:23:51 (applied by this task)\"]",
        ]
    );
    assert_eq!(
        notes(&report),
        [
            "the play's vars_files entry `vars/{{ env }}.yml` is templated, so twlint does not know which file it names; that file may define this variable",
            "the play's vars_files names a list, of which Ansible reads the first file found on the host; that file may define this variable",
        ]
    );
}

#[test]
fn a_vars_files_entry_leading_outside_the_playbook_folder_is_not_read_and_nothing_is_judged_from_it(
) {
    let outside = tempfile::tempdir().unwrap();
    let canary = outside.path().join("secret.yml");
    std::fs::write(&canary, "fin: 7 # CANARY-outside\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("site.yml");
    std::fs::create_dir_all(dir.path().join("vars")).unwrap();
    std::fs::write(dir.path().join("vars/ok.yml"), "fin: 15\n").unwrap();
    std::os::unix::fs::symlink(&canary, dir.path().join("vars/link.yml")).unwrap();
    let rel_out = format!(
        "../{}/secret.yml",
        outside.path().file_name().unwrap().to_str().unwrap()
    );
    for entry in ["vars/link.yml", rel_out.as_str(), canary.to_str().unwrap()] {
        std::fs::write(
            &pb,
            format!("- hosts: all\n  vars_files:\n    - vars/ok.yml\n    - {entry}\n  tasks:\n    - sysctl: name=net.ipv4.tcp_fin_timeout value=\"{{{{ fin }}}}\"\n"),
        )
        .unwrap();
        for format in ["json", "human"] {
            let out = twlint(&[pb.to_str().unwrap(), "--format", format]);
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!all.contains("CANARY"), "{entry}: {all}");
            assert!(all.contains("TW076"), "{entry}: {all}");
            if format == "json" {
                assert!(
                    all.contains("leads outside the playbook's folder"),
                    "{entry}: {all}"
                );
            }
            assert_eq!(out.status.code(), Some(0), "{entry}: {all}");
        }
    }
    // Inside, the same value is judged (TW140 at vars/ok.yml).
    std::fs::write(
        &pb,
        "- hosts: all\n  vars_files:\n    - vars/ok.yml\n  tasks:\n    - sysctl: name=net.ipv4.tcp_fin_timeout value=\"{{ fin }}\"\n",
    )
    .unwrap();
    let (report, _) = json(&[pb.to_str().unwrap()]);
    let d = &report["diagnostics"][0];
    assert_eq!(d["rule"], "TW140", "{report}");
    assert!(d["location"]["path"]
        .as_str()
        .unwrap()
        .ends_with("vars/ok.yml"));
}
