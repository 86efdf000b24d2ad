//! Lab tests: the end state twlint predicts for a sysctl file, under procps and under
//! systemd-sysctl, against what each tool really leaves in the kernel.
//!
//! For each scenario the test writes one sysctl file and a topology with one node that reads it
//! (`kernel` set to this machine's release, `applied_by` set to the tool), asks the real
//! `twlint --format json` for the value of every in-scope key the file names, then applies the
//! file with the tool inside a fresh network namespace (`unshare -n`: the keys are per
//! namespace, so the host's values are never touched) and reads `/proc/sys` back. The scenarios
//! are the ones where the two tools differ: a key's last value refused (procps keeps the value
//! written before it, systemd-sysctl writes only the last one and the key keeps its default).
//!
//! They need root, network namespaces, procps `sysctl` and `systemd-sysctl`, so they are ignored
//! by a plain `cargo test`; `.ci/lab.sh` runs them and fails when they cannot run.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

const SYSTEMD_SYSCTL: [&str; 2] = [
    "/lib/systemd/systemd-sysctl",
    "/usr/lib/systemd/systemd-sysctl",
];

fn release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .expect("read the kernel release")
        .trim()
        .to_string()
}

/// What twlint says the node ends with, key by key (dotted), for `applied_by: tool`.
fn predicted(dir: &Path, tool: &str, keys: &[&str]) -> Vec<String> {
    let topo = dir.join(format!("topology-{tool}.yaml"));
    std::fs::write(
        &topo,
        format!(
            "version: 1\nnodes:\n  - name: host\n    kernel: \"{}\"\n    sysctl: {{files: [test.conf]}}\napplied_by: {tool}\n",
            release()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_twlint"))
        .args(["--format", "json", "--fail-on", "never", "--topology"])
        .arg(&topo)
        .output()
        .expect("run twlint");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    keys.iter()
        .map(|k| {
            v["verdicts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["key"] == *k)
                .and_then(|e| e["value"].as_str())
                .unwrap_or_else(|| panic!("no verdict for {k}"))
                .to_string()
        })
        .collect()
}

/// What the tool leaves in a fresh network namespace, key by key, fields joined by one space.
fn applied(dir: &Path, tool: &str, keys: &[&str]) -> Vec<String> {
    let file = dir.join("test.conf");
    let command = match tool {
        "procps" => format!("sysctl -q -p {}", file.display()),
        _ => {
            let bin = SYSTEMD_SYSCTL
                .iter()
                .find(|p| Path::new(p).exists())
                .expect("systemd-sysctl is installed (the lab needs it)");
            format!("{bin} {}", file.display())
        }
    };
    let reads: Vec<String> = keys
        .iter()
        .map(|k| format!("cat /proc/sys/{}", k.replace('.', "/")))
        .collect();
    // The tool's exit status is not the subject (both exit 1 on a refused value).
    let script = format!("{command} >/dev/null 2>&1; {}", reads.join("; "));
    let out = Command::new("unshare")
        .args(["-n", "--", "sh", "-c", &script])
        .output()
        .expect("unshare -n (root and network namespaces are needed)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split_ascii_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

fn scenario(name: &str, text: &str, keys: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("test.conf"), text).unwrap();
    for tool in ["procps", "systemd"] {
        let want = applied(dir.path(), tool, keys);
        let got = predicted(dir.path(), tool, keys);
        println!(
            "\n| {name} | {tool} | {} | {} |",
            got.join(", "),
            want.join(", ")
        );
        assert_eq!(got, want, "{name} under {tool}: twlint vs the kernel");
    }
}

#[test]
#[ignore = "needs root and network namespaces; run by .ci/lab.sh"]
fn appliers_a_refused_last_value() {
    scenario(
        "tcp_tw_reuse 1 then 3",
        "net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_tw_reuse = 3\nnet.ipv4.tcp_fin_timeout = 33\n",
        &["net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_fin_timeout"],
    );
}

#[test]
#[ignore = "needs root and network namespaces; run by .ci/lab.sh"]
fn appliers_a_refused_only_value() {
    scenario(
        "tcp_tw_reuse_delay 0",
        "net.ipv4.tcp_tw_reuse_delay = 0\n",
        &["net.ipv4.tcp_tw_reuse_delay"],
    );
}

#[test]
#[ignore = "needs root and network namespaces; run by .ci/lab.sh"]
fn appliers_a_reversed_port_range_after_a_good_one() {
    scenario(
        "port range then reversed",
        "net.ipv4.ip_local_port_range = 40000 40999\nnet.ipv4.ip_local_port_range = 50000 40000\n",
        &["net.ipv4.ip_local_port_range"],
    );
}

#[test]
#[ignore = "needs root and network namespaces; run by .ci/lab.sh"]
fn appliers_agree_when_every_value_is_accepted() {
    scenario(
        "accepted values",
        "net.ipv4.tcp_tw_reuse = 0\nnet.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_timestamps = 1\n",
        &["net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_timestamps"],
    );
}
