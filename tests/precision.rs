//! Precision on real files: findings that real sysctl files showed to be wrong or missing,
//! each pinned (write-only keys, unknown keys outside the network trees, the era of the
//! port-range parity preference, a dump's same-parity range).

#[path = "common/in_process.rs"]
#[allow(dead_code)] // `masked` is for tests that pin temporary folders
mod in_process;

use in_process::twlint;

/// The `[TWnnn]` codes of a gcc-format run on `text` written to a file named `name`.
fn codes(name: &str, text: &str, extra: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let mut args = vec!["--format", "gcc", "--fail-on", "never"];
    args.extend_from_slice(extra);
    let p = path.to_str().unwrap().to_string();
    args.push(&p);
    let out = twlint(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.contains(": note: "))
        .filter_map(|l| {
            l.rsplit_once(" [")
                .map(|(_, c)| c.trim_end_matches(']').to_string())
        })
        .collect()
}

#[test]
fn write_only_keys_are_not_unknown_keys() {
    // Mode 0200: `sysctl -a` cannot read them, so a list taken from it lacks them.
    let got = codes(
        "flush.conf",
        "net.ipv4.route.flush = 1\nnet.ipv6.route.flush = 1\nvm.drop_caches = 3\n",
        &[],
    );
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn unknown_keys_are_found_outside_the_network_trees() {
    let got = codes("vm.conf", "vm.doesnotexist = 1\nvm.swappiness = 10\n", &[]);
    assert_eq!(got, ["TW002"]);
    // A near miss is an error with the real name.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.conf");
    std::fs::write(&p, "vm.swapiness = 10\n").unwrap();
    let out = twlint(&["--format", "gcc", p.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("did you mean `vm.swappiness`?"), "{text}");
    // Module trees are not checked: their keys exist only once the module is loaded.
    let got = codes("vs.conf", "net.ipv4.vs.conntrack = 1\n", &[]);
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn same_parity_is_not_reported_on_kernels_before_the_parity_preference() {
    // 40000 50000 covers no port a service commonly listens on (TW133).
    let text = "net.ipv4.ip_local_port_range = 40000 50000\n";
    assert!(codes("r.conf", text, &["--kernel", "3.10"]).is_empty());
    assert!(codes("r.conf", text, &["--kernel", "4.1"]).is_empty());
    assert_eq!(codes("r.conf", text, &["--kernel", "4.2"]), ["TW007"]);
}

#[test]
fn a_same_parity_range_in_a_dump_is_reported_as_in_a_file() {
    let mut dump = String::from("kernel.osrelease = 6.8.0-45-generic\n");
    for i in 0..150 {
        let top = ["kernel", "net", "vm", "fs"][i % 4];
        dump.push_str(&format!("{top}.key_{i} = {i}\n"));
    }
    dump.push_str("net.ipv4.ip_local_port_range = 1024 65000\n");
    let got = codes("host.txt", &dump, &[]);
    assert!(got.contains(&"TW007".to_string()), "{got:?}");
}

#[test]
fn a_whole_listing_kept_as_a_sysctl_file_names_the_read_only_keys_sysctl_p_fails_on() {
    let mut dump = String::from("fs.file-nr = 1184\t0\t9223372036854775807\n");
    for i in 0..150 {
        let top = ["kernel", "net", "vm", "fs"][i % 4];
        dump.push_str(&format!("{top}.key_{i} = {i}\n"));
    }
    dump.push_str("kernel.osrelease = 6.8.0-45-generic\nnet.ipv4.tcp_fin_timeout = 60\n");
    // Named as a `.conf`, and in a sysctl.d folder: applied by procps.
    let got = codes("99-all.conf", &dump, &[]);
    assert!(got.contains(&"TW086".to_string()), "{got:?}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("99-all.conf"), &dump).unwrap();
    let out = twlint(&["--format", "gcc", dir.path().to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("99-all.conf:1:1: warning: this sysctl file is a `sysctl -a` listing: `sysctl -p` fails on its read-only keys `fs.file-nr`, `kernel.osrelease`"),
        "{text}"
    );
    // Saved as a capture, it is a host's state, as before.
    assert!(!codes("host.txt", &dump, &[]).contains(&"TW086".to_string()));
}

#[test]
fn input_format_detection_by_file_name() {
    // `key=value` lines are a sysctl file's, but a file named `*.sh` is run by a shell, where
    // they are commands that do not exist: nothing reaches the kernel.
    let text = "net.ipv4.tcp_tw_recycle=1\n";
    assert!(codes("tune.sh", text, &["--kernel", "5.15"]).is_empty());
    assert_eq!(codes("tune.txt", text, &["--kernel", "5.15"]), ["TW101"]);
    // --input-format still forces a reader.
    assert_eq!(
        codes(
            "tune.sh",
            text,
            &["--kernel", "5.15", "--input-format", "sysctl"]
        ),
        ["TW101"]
    );
    // A tuned profile is read as tuned reads it, its [sysctl] section only.
    let profile = "[main]\nsummary=web\n\n[sysctl]\nnet.ipv4.tcp_tw_recycle=1\n\n[vm]\ntransparent_hugepages=never\n";
    assert_eq!(
        codes("tuned.conf", profile, &["--kernel", "5.15"]),
        ["TW101"]
    );
}

#[test]
fn tw_recycle_zero_on_a_kernel_without_the_key_is_pointless() {
    let got = codes(
        "r.conf",
        "net.ipv4.tcp_tw_recycle = 0\n",
        &["--kernel", "5.15"],
    );
    assert_eq!(got, ["TW107"]);
    let got = codes(
        "r.conf",
        "net.ipv4.tcp_tw_recycle = 1\n",
        &["--kernel", "5.15"],
    );
    assert_eq!(got, ["TW101"]);
    // Where the key exists, 0 is the default and nothing objects.
    assert!(codes(
        "r.conf",
        "net.ipv4.tcp_tw_recycle = 0\n",
        &["--kernel", "4.9"]
    )
    .is_empty());
}

#[test]
fn port_range_covering_well_known_ports_warns_without_a_topology() {
    let text = "net.ipv4.ip_local_port_range = 10000 65001\n";
    assert_eq!(codes("r.conf", text, &[]), ["TW133"]);
    // A warning: the run does not fail on it.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.conf");
    std::fs::write(&p, text).unwrap();
    let out = twlint(&["--format", "gcc", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains(": warning: the ephemeral range 10000-65001 covers 10250 (kubelet)"));
    // The default range and one above the NodePorts cover none.
    assert!(codes(
        "r.conf",
        "net.ipv4.ip_local_port_range = 32768 60999\n",
        &[]
    )
    .is_empty());
    assert!(codes(
        "r.conf",
        "net.ipv4.ip_local_port_range = 40000 60999\n",
        &[]
    )
    .is_empty());
    // Reserving them is the other way out.
    let reserved = "net.ipv4.ip_local_port_range = 10000 31001\nnet.ipv4.ip_local_reserved_ports = 10250,10256,11211,27017,30000-32767\n";
    assert!(codes("r.conf", reserved, &[]).is_empty());
}
