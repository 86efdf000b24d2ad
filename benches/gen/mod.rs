//! Generators for the benchmarks: large sysctl files, `sysctl -a` dumps and topologies.
//!
//! Everything is deterministic (a fixed-seed xorshift), made from the key list twlint ships
//! (`src/data/known-keys.txt`, interface names folded to `*` and expanded here), and written by
//! the benchmarks into a temporary folder, so no generated file is committed and none comes
//! from the shared corpus. Shared by `benches/*.rs` through `#[path]`.

#![allow(dead_code)]

use std::fmt::Write as _;

const KNOWN_KEYS: &str = include_str!("../../src/data/known-keys.txt");

/// A small deterministic generator: the same sequence on every machine and run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The shipped key list with `*` expanded over a few interfaces, as `sysctl -a` lists them.
pub fn keys() -> Vec<String> {
    let mut out = Vec::new();
    for line in KNOWN_KEYS.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.contains('*') {
            for ifname in [
                "all",
                "default",
                "lo",
                "eth0",
                "eth1",
                "docker0",
                "veth1a2b3c",
            ] {
                out.push(line.replace('*', ifname));
            }
        } else {
            out.push(line.to_string());
        }
    }
    out
}

fn value_for(key: &str, rng: &mut Rng) -> String {
    if key.ends_with("port_range") {
        return "32768\t60999".into();
    }
    if key.ends_with("_mem") || key.ends_with("rmem") || key.ends_with("wmem") {
        return format!("{}\t{}\t{}", 4096, 87380 + rng.below(1000), 6291456);
    }
    match rng.below(10) {
        // Empty values exist in real dumps (kernel.domainname), never for network numbers.
        0 if !key.starts_with("net.") => String::new(),
        0 => "1".into(),
        1 => format!("{}", rng.below(1 << 31)),
        2 => "0".into(),
        _ => format!("{}", rng.below(1000)),
    }
}

/// A hand-written-looking sysctl file of exactly `lines` lines: comments, blank lines and
/// assignments in the spellings people use (`k=v`, `k = v`, tabs, `/` separators, leading `-`,
/// CRLF endings), over about 1,900 distinct keys. Values never carry `#`, `;` or quotes, so the
/// file holds no diagnostics and the figures measure reading, not reporting.
pub fn sysctl_file(lines: usize) -> String {
    let keys = keys();
    let mut rng = Rng::new(42);
    let mut s = String::with_capacity(lines * 44);
    for i in 0..lines {
        let eol = if i % 10 == 9 { "\r\n" } else { "\n" };
        match rng.below(20) {
            0 | 1 => {
                let _ = write!(s, "# tuning note {i}: keep in sync with the fleet{eol}");
            }
            2 => {
                let _ = write!(s, "; {i}{eol}");
            }
            3 => s.push_str(eol),
            r => {
                let key = &keys[rng.below(keys.len() as u64) as usize];
                let value = value_for(key, &mut rng);
                let value = if value.is_empty() { "1".into() } else { value };
                match r {
                    4 => {
                        let _ = write!(s, "{key}={value}{eol}");
                    }
                    5 => {
                        let _ = write!(s, "  {key}\t=\t{value}  {eol}");
                    }
                    6 => {
                        let slashed: String = key
                            .chars()
                            .map(|c| match c {
                                '.' => '/',
                                '/' => '.',
                                c => c,
                            })
                            .collect();
                        let _ = write!(s, "{slashed} = {value}{eol}");
                    }
                    7 => {
                        let _ = write!(s, "-{key} = {value}{eol}");
                    }
                    _ => {
                        let _ = write!(s, "{key} = {value}{eol}");
                    }
                }
            }
        }
    }
    s
}

/// The kernel releases the generated fleet runs.
const RELEASES: [&str; 6] = [
    "4.4.0-21-generic",
    "4.19.0-27-amd64",
    "5.4.0-42-generic",
    "5.15.0-105-generic",
    "6.8.0-45-generic",
    "6.17.0-5-generic",
];

/// One host's `sysctl -a` output as procps prints it (`key = value`, sorted, tabs between the
/// fields of a multi-field value), about `lines` lines. Host `n` gets its own kernel release and,
/// for some hosts, a setting twlint calls dangerous or pointless.
pub fn dump(n: usize, lines: usize) -> String {
    let keys = keys();
    let mut rng = Rng::new(1000 + n as u64);
    let release = RELEASES[n % RELEASES.len()];
    let mut entries: Vec<(String, String)> = Vec::with_capacity(lines);
    entries.push(("kernel.osrelease".into(), release.into()));
    let mut i = 0;
    while entries.len() < lines {
        let key = &keys[i % keys.len()];
        let key = if i >= keys.len() {
            // Beyond the shipped list: more interfaces, as on a host with many containers.
            key.replace(".eth0.", &format!(".veth{i:x}."))
        } else {
            key.clone()
        };
        if key != "kernel.osrelease" {
            let v = value_for(&key, &mut rng);
            entries.push((key, v));
        }
        i += 1;
    }
    let set = |entries: &mut Vec<(String, String)>, k: &str, v: &str| match entries
        .iter_mut()
        .find(|e| e.0 == k)
    {
        Some(e) => e.1 = v.into(),
        None => entries.push((k.into(), v.into())),
    };
    set(&mut entries, "net.ipv4.tcp_tw_reuse", "2");
    set(&mut entries, "net.ipv4.tcp_timestamps", "1");
    set(&mut entries, "net.ipv4.tcp_fin_timeout", "60");
    set(&mut entries, "net.ipv4.tcp_max_tw_buckets", "262144");
    set(&mut entries, "net.ipv4.ip_local_reserved_ports", "");
    // A dump lists only what its kernel has: tcp_tw_recycle before 4.12, tcp_tw_reuse_delay
    // from 6.14 (the key list is 6.18's).
    let old = release.starts_with("4.4.");
    let new = release.starts_with("6.17.");
    entries.retain(|e| e.0 != "net.ipv4.tcp_tw_reuse_delay" || new);
    if new {
        set(&mut entries, "net.ipv4.tcp_tw_reuse_delay", "1000");
    }
    if old {
        // tcp_tw_reuse = 2 (loopback only) came with 4.19; 4.4 prints 0.
        set(&mut entries, "net.ipv4.tcp_tw_recycle", "0");
        set(&mut entries, "net.ipv4.tcp_tw_reuse", "0");
    }
    match n % 7 {
        1 if old => set(&mut entries, "net.ipv4.tcp_tw_recycle", "1"),
        1 => set(&mut entries, "net.ipv4.ip_local_port_range", "60000\t60100"),
        2 => set(&mut entries, "net.ipv4.tcp_max_tw_buckets", "5000"),
        3 => {
            set(&mut entries, "net.ipv4.tcp_tw_reuse", "1");
            set(&mut entries, "net.ipv4.tcp_timestamps", "0");
        }
        4 => set(&mut entries, "net.ipv4.tcp_fin_timeout", "10"),
        _ => {}
    }
    entries.sort();
    entries.dedup_by(|a, b| a.0 == b.0);
    let mut s = String::with_capacity(entries.len() * 48);
    for (k, v) in entries {
        let _ = writeln!(s, "{k} = {v}");
    }
    s
}

/// A topology of `nodes` nodes and `links` links (version 1): a tier of clients behind NAT, load
/// balancers, web, app, cache and database nodes, each with addresses, listen ports and inline
/// values, linked tier to tier with rates. Links are distinct (from, to, port) triples.
pub fn topology(nodes: usize, links: usize) -> String {
    assert!(nodes >= 8, "a topology needs at least 8 nodes");
    let roles = ["load-balancer", "web", "app", "cache", "db"];
    let mut rng = Rng::new(7);
    let mut s = String::with_capacity(nodes * 300 + links * 90);
    let _ = writeln!(
        s,
        "version: 1\nname: generated-{nodes}\ndefaults:\n  kernel: \"5.15\"\nnodes:"
    );
    let _ = writeln!(
        s,
        "  - name: users\n    role: client\n  - name: gw\n    role: nat"
    );
    let named = nodes - 2;
    for i in 0..named {
        let role = roles[i % roles.len()];
        let port = [80, 8080, 9000, 6379, 5432][i % roles.len()];
        let _ = writeln!(s, "  - name: n{i}\n    role: {role}");
        if i % 9 == 0 {
            let _ = writeln!(s, "    kernel: \"{}\"", ["4.9", "6.8", "5.4"][i % 3]);
        }
        let _ = writeln!(
            s,
            "    addresses: [10.{}.{}.{}]\n    listen: [{port}]",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        );
        let _ = writeln!(s, "    sysctl:\n      set:");
        let _ = writeln!(s, "        net.ipv4.tcp_tw_reuse: {}", rng.below(3));
        let _ = writeln!(
            s,
            "        net.ipv4.tcp_timestamps: {}",
            u64::from(rng.below(8) != 0)
        );
        if i % 4 == 0 {
            let _ = writeln!(
                s,
                "        net.ipv4.ip_local_port_range: \"{} 60999\"",
                1024 + rng.below(30000)
            );
        }
        if i % 11 == 0 {
            let _ = writeln!(
                s,
                "        net.ipv4.tcp_max_tw_buckets: {}",
                1000 + rng.below(100000)
            );
        }
    }
    // Every distinct link there is: the clients' one to each load balancer, and from each node
    // one to every node of a later tier (a `to` is drawn among the first `named / 5` of its
    // tier). Asking for more would never end.
    let per_tier = named / roles.len();
    let possible = named.div_ceil(roles.len())
        + (0..named)
            .map(|from| per_tier * (roles.len() - 1 - from % roles.len()))
            .sum::<usize>();
    assert!(
        links <= possible,
        "{nodes} nodes allow at most {possible} distinct links, not {links}"
    );
    let _ = writeln!(s, "links:");
    let mut seen = std::collections::HashSet::new();
    let mut made = 0;
    // The clients reach every load balancer through the NAT.
    for i in (0..named).step_by(roles.len()) {
        if made == links {
            break;
        }
        let _ = writeln!(
            s,
            "  - {{from: users, to: n{i}, port: 80, via: gw, closes_first: users}}"
        );
        made += 1;
    }
    while made < links {
        // From a node to one of the next tier (a db connects to nothing: pick again).
        let from = rng.below(named as u64) as usize;
        let tier = from % roles.len();
        if tier == roles.len() - 1 {
            continue;
        }
        let to_tier = tier + 1 + rng.below((roles.len() - tier - 1) as u64) as usize;
        let to = (rng.below((named / roles.len()) as u64) as usize) * roles.len() + to_tier;
        if to >= named {
            continue;
        }
        let port = [80, 8080, 9000, 6379, 5432][to_tier];
        if !seen.insert((from, to)) {
            continue;
        }
        let closes = if rng.below(3) == 0 {
            format!("n{to}")
        } else {
            format!("n{from}")
        };
        let _ = writeln!(
            s,
            "  - {{from: n{from}, to: n{to}, port: {port}, closes_first: {closes}, rate: {}}}",
            10 + rng.below(5000)
        );
        made += 1;
    }
    s
}

/// A sysctl file of `lines` assignments whose values are `width` bytes long, over a few of the
/// keys twlint judges (so every key is set again many times: TW006 findings, drawn in human
/// form from the lines they cover).
pub fn long_values(lines: usize, width: usize) -> String {
    const KEYS: [&str; 8] = [
        "net.ipv4.tcp_tw_reuse",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.ip_local_port_range",
        "net.core.somaxconn",
        "net.ipv4.tcp_rmem",
        "net.ipv4.tcp_max_tw_buckets",
        "net.netfilter.nf_conntrack_max",
        "net.ipv4.tcp_timestamps",
    ];
    let pad = "x".repeat(width);
    let mut s = String::with_capacity(lines * (width + 40));
    for i in 0..lines {
        let _ = writeln!(s, "{} = {i} {pad}", KEYS[i % KEYS.len()]);
    }
    s
}
