//! Lab tests of `twlint observe` against the real kernel, each in a throwaway network
//! namespace (`unshare -n`, loopback only): known numbers of TIME_WAIT and CLOSE_WAIT sockets
//! made by `benches/twgen.rs`, then the JSON totals compared with what `ss` counts, CLOSE_WAIT
//! attributed to the generator's pid, netlink and /proc agreeing, and `--interval` seeing
//! connections being made. They need root and namespaces, so they are ignored by default and
//! run by `.ci/observe.sh` (`cargo test --release --test lab_observe -- --ignored`); where
//! namespaces cannot be made they fail with the reason, never pass.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const TWLINT: &str = env!("CARGO_BIN_EXE_twlint");

/// Builds benches/twgen.rs once per test binary with the toolchain's rustc.
fn twgen() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("twgen");
            let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/twgen.rs");
            let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
            let st = Command::new(rustc)
                .args(["-O", "--edition", "2021", "-o"])
                .arg(&out)
                .arg(&src)
                .status()
                .expect("rustc runs");
            assert!(st.success(), "building {} failed", src.display());
            out
        })
        .clone()
}

/// Runs `script` with sh inside a new network namespace whose lo is up and whose
/// tcp_tw_reuse is 0 (so TIME_WAIT ports are not taken over while we count); `$TWLINT`,
/// `$TWGEN` and `$OUT` (a scratch folder) are set. Panics with the reason when the namespace
/// cannot be made.
fn in_netns(script: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let full =
        format!("set -eu\nip link set lo up\nsysctl -qw net.ipv4.tcp_tw_reuse=0\n{script}\n");
    let res = Command::new("unshare")
        .args(["-n", "sh", "-c", &full])
        .env("TWLINT", TWLINT)
        .env("TWGEN", twgen())
        .env("OUT", out)
        .output()
        .expect("unshare runs");
    assert!(
        res.status.success(),
        "the namespace script failed (this test needs root and network namespaces): {}\n{}",
        String::from_utf8_lossy(&res.stderr),
        String::from_utf8_lossy(&res.stdout)
    );
    dir
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

fn json(dir: &Path, name: &str) -> Value {
    serde_json::from_str(&read(dir, name)).unwrap()
}

fn num(dir: &Path, name: &str) -> u64 {
    read(dir, name).trim().parse().unwrap()
}

/// Holds 25 CLOSE_WAIT sockets in a twgen process fed by a fifo, makes 1500 TIME_WAIT
/// sockets, then records observe (netlink and /proc) and ss; the fifo's close ends twgen.
const SCENE: &str = r#"
mkfifo "$OUT/hold"
"$TWGEN" closewait 25 < "$OUT/hold" > "$OUT/ready" &
exec 3> "$OUT/hold"
i=0
while ! grep -q ready "$OUT/ready" 2>/dev/null; do
  i=$((i + 1)); [ "$i" -le 200 ] || { echo "twgen closewait never got ready" >&2; exit 1; }
  sleep 0.05
done
"$TWGEN" tw 1500 3
"$TWLINT" observe --format json > "$OUT/netlink.json"
"$TWLINT" observe --format json --reader proc > "$OUT/proc.json"
"$TWLINT" observe > "$OUT/table.txt"
ss -tan state time-wait | tail -n +2 | wc -l > "$OUT/ss_tw"
ss -tan state close-wait | tail -n +2 | wc -l > "$OUT/ss_cw"
ss -tanp state close-wait | tail -n +2 > "$OUT/ss_cw_p"
exec 3>&-
wait
"#;

#[test]
#[ignore = "needs root and network namespaces: run by .ci/run"]
fn counts_equal_ss_and_close_wait_has_its_owner() {
    let dir = in_netns(SCENE);
    let out = dir.path();
    let v = json(out, "netlink.json");
    assert_eq!(v["source"]["kind"], "netlink", "{v}");
    let ss_tw = num(out, "ss_tw");
    let ss_cw = num(out, "ss_cw");
    assert_eq!(ss_tw, 1500, "ss saw {ss_tw} TIME_WAIT sockets");
    assert_eq!(ss_cw, 25);
    assert_eq!(v["time_wait"]["total"], ss_tw);
    assert_eq!(v["totals"]["by_state"]["time_wait"], ss_tw);
    assert_eq!(v["close_wait"]["total"], ss_cw);

    // Every CLOSE_WAIT belongs to the twgen process, whose pid ss names too.
    let pid: u64 = read(out, "ready")
        .trim()
        .strip_prefix("ready ")
        .unwrap()
        .parse()
        .unwrap();
    assert!(read(out, "ss_cw_p").contains(&format!("pid={pid},")));
    let procs = v["close_wait"]["by_process"].as_array().unwrap();
    assert_eq!(procs.len(), 1, "{procs:?}");
    assert_eq!(procs[0]["pid"], pid);
    assert_eq!(procs[0]["command"], "twgen");
    assert_eq!(procs[0]["count"], 25);
    assert_eq!(v["close_wait"]["unattributed"], 0);

    // 1500 connections spread over 127.0.0.1-3:7000, 500 TIME_WAIT ports each.
    let tuples = v["ephemeral"]["tuples"].as_array().unwrap();
    for d in 1..=3 {
        let t = tuples
            .iter()
            .find(|t| t["remote"] == format!("127.0.0.{d}") && t["remote_port"] == 7000)
            .unwrap_or_else(|| panic!("no tuple to 127.0.0.{d}:7000 in {tuples:?}"));
        assert_eq!(t["time_wait"], 500);
        assert_eq!(t["usable"], 28232);
    }

    let table = read(out, "table.txt");
    assert!(table.contains("TIME_WAIT: 1500"), "{table}");
    assert!(table.contains("No sysctl fixes CLOSE_WAIT"), "{table}");
}

#[test]
#[ignore = "needs root and network namespaces: run by .ci/run"]
fn netlink_and_proc_readers_agree() {
    let dir = in_netns(SCENE);
    let out = dir.path();
    let mut a = json(out, "netlink.json");
    let mut b = json(out, "proc.json");
    assert_eq!(b["source"]["kind"], "proc");
    for v in [&mut a, &mut b] {
        v["source"] = Value::Null;
    }
    assert_eq!(a, b);
}

#[test]
#[ignore = "needs root and network namespaces: run by .ci/run"]
fn interval_sees_new_connections_and_growth() {
    // twgen makes 20000 connections to one tuple while observe takes two samples 1 s apart.
    let dir = in_netns(
        r#"
"$TWGEN" tw 20000 1 2> "$OUT/twgen.err" &
sleep 0.2
"$TWLINT" observe --format json --interval 1 > "$OUT/rate.json"
wait
"#,
    );
    let out = dir.path();
    let v = json(out, "rate.json");
    assert_eq!(v["ephemeral"]["interval_secs"], 1.0);
    let t = v["ephemeral"]["tuples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["remote"] == "127.0.0.1" && t["remote_port"] == 7000)
        .cloned()
        .unwrap_or_else(|| panic!("no tuple to 127.0.0.1:7000: {v}"));
    let rate = t["rate_per_sec"].as_f64().unwrap();
    let growth = t["growth_per_sec"].as_f64().unwrap();
    assert!(rate > 0.0 && rate <= 20000.0, "rate {rate}");
    // No TIME_WAIT ends within a second of a run this short, so every new port is growth.
    assert!((growth - rate).abs() < 1e-6, "growth {growth} rate {rate}");
    let left = t["exhausted_in_secs"].as_f64().unwrap();
    let in_use = t["in_use"].as_f64().unwrap();
    assert!((left - (28232.0 - in_use) / growth).abs() < 0.02 * left + 0.02);
}
