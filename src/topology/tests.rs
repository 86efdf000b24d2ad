use super::*;
use crate::diag::Severity;
use crate::error::Error;

/// Loads `text` with `sysctl.files` relative to a fresh temporary folder.
fn load_in(dir: &Path, text: &str) -> (SourceMap, Loaded) {
    let mut map = SourceMap::new();
    let loaded = load_text("topo.yaml", dir, text, &mut map);
    (map, loaded)
}

fn load_str(text: &str) -> (SourceMap, Loaded) {
    let dir = tempfile::tempdir().unwrap();
    load_in(dir.path(), text)
}

/// Every diagnostic as (code, line, column) of its primary label.
fn found(map: &SourceMap, loaded: &Loaded) -> Vec<(String, usize, usize)> {
    loaded
        .diagnostics
        .iter()
        .map(|d| {
            let l = map.location(d.primary.as_ref().expect("a place").span);
            (d.code.clone(), l.line, l.column)
        })
        .collect()
}

/// Asserts that `text` gives exactly one diagnostic, `code` at `line`:`column`, and returns it.
fn only(text: &str, code: &str, line: usize, column: usize) -> (SourceMap, Diagnostic) {
    let (map, loaded) = load_str(text);
    assert_eq!(
        found(&map, &loaded),
        [(code.to_string(), line, column)],
        "{:#?}",
        loaded.diagnostics
    );
    let d = loaded.diagnostics.into_iter().next().unwrap();
    (map, d)
}

fn pos(map: &SourceMap, span: Span) -> (usize, usize) {
    let l = map.location(span);
    (l.line, l.column)
}

const DESIGN_EXAMPLE: &str = r#"version: 1
name: lb-web-db
defaults:
  kernel: "6.8"
nodes:
  - name: clients
    role: client
  - name: nat
    role: nat
  - name: lb
    role: load-balancer
    kernel: "5.15"
    addresses: [115.29.253.156, 10.162.74.10]
    listen: [80]
    sysctl:
      files: [hosts/lb/sysctl.conf]
      set:
        net.ipv4.tcp_tw_reuse: 1
  - name: web
    role: web
    addresses: [10.162.74.43, 10.162.74.44]
    listen: [80]
  - name: db
    role: db
    addresses: [10.162.74.45]
    listen: [3306]
links:
  - from: clients
    to: lb
    port: 80
    via: nat
    closes_first: clients
  - from: lb
    to: web
    port: 80
    closes_first: lb
    rate: 1500
  - from: web
    to: db
    port: 3306
    closes_first: web
"#;

#[test]
fn design_example_loads_without_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("hosts/lb")).unwrap();
    std::fs::write(dir.path().join("hosts/lb/sysctl.conf"), "").unwrap();
    let (map, loaded) = load_in(dir.path(), DESIGN_EXAMPLE);
    // Only the note on how the load balancer's public and private addresses were read.
    let codes: Vec<_> = loaded
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.severity, d.node.as_deref()))
        .collect();
    assert_eq!(
        codes,
        [("TW091", Severity::Info, Some("lb"))],
        "{:#?}",
        loaded.diagnostics
    );
    let t = loaded.topology.unwrap();
    assert_eq!(t.name.as_ref().unwrap().value, "lb-web-db");
    assert_eq!(t.nodes.len(), 5);
    assert_eq!(t.links.len(), 3);
    let (lb_idx, lb) = t.node("lb").unwrap();
    assert_eq!(lb_idx, 2);
    assert_eq!(lb.role.value, Role::LoadBalancer);
    assert_eq!(t.kernel_of(lb_idx), Some(KernelVersion::new(5, 15)));
    assert_eq!(t.kernel_of(0), Some(KernelVersion::new(6, 8)));
    assert_eq!(lb.addresses[1].value, "10.162.74.10");
    assert_eq!(lb.listen[0].value, 80);
    assert_eq!(
        lb.sysctl_files[0].value,
        dir.path().join("hosts/lb/sysctl.conf")
    );
    assert_eq!(pos(&map, lb.sysctl_files[0].span), (16, 15));
    let (key, value) = &lb.sysctl_set[0];
    assert_eq!(
        (key.value.as_str(), value.value.as_str()),
        ("net.ipv4.tcp_tw_reuse", "1")
    );
    assert_eq!(pos(&map, value.span), (18, 32));
    let first = &t.links[0];
    assert_eq!(first.name(), "clients->lb");
    assert!(first.client_closes());
    assert_eq!(first.via_idx, Some(1));
    assert_eq!((first.from_idx, first.to_idx), (0, 2));
    assert_eq!(t.links[1].rate.as_ref().unwrap().value, 1500.0);
    assert_eq!(t.links[2].port.value, 3306);
    assert_eq!(pos(&map, t.links[2].span), (38, 5));
}

#[test]
fn absent_role_is_generic_at_the_name() {
    let (_, loaded) = load_str("version: 1\nnodes:\n  - name: box\n");
    assert!(loaded.diagnostics.is_empty());
    let t = loaded.topology.unwrap();
    assert_eq!(t.nodes[0].role.value, Role::Generic);
    assert_eq!(t.nodes[0].role.span, t.nodes[0].name.span);
    assert_eq!(t.kernel_of(0), None);
    assert_eq!(Role::parse("load-balancer"), Some(Role::LoadBalancer));
    assert_eq!(Role::Cache.as_str(), "cache");
}

#[test]
fn tw050_yaml_syntax_error_gives_no_topology() {
    let (map, loaded) = load_str("version: 1\nnodes: [\n");
    assert_eq!(found(&map, &loaded), [("TW050".to_string(), 3, 1)]);
    assert!(loaded.topology.is_none());
}

#[test]
fn tw051_unknown_field_suggests_the_near_one() {
    let (_, d) = only(
        "version: 1\nnodes:\n  - nmae: web\n    name: web\n",
        "TW051",
        3,
        5,
    );
    assert_eq!(d.message, "unknown field `nmae` in a node");
    assert_eq!(d.help.as_deref(), Some("did you mean `name`?"));
    assert_eq!(d.node.as_deref(), Some("web"));
    let (_, d) = only("version: 1\nnodes: []\ncolour: red\n", "TW051", 3, 1);
    assert!(d
        .help
        .unwrap()
        .contains("version, name, defaults, nodes, links"));
    only(
        "version: 1\ndefaults: {kernal: \"6.8\"}\nnodes: []\n",
        "TW051",
        2,
        12,
    );
    only(
        "version: 1\nnodes:\n  - name: a\n    sysctl: {file: [x]}\n",
        "TW051",
        4,
        14,
    );
    let (_, d) = only(
        "version: 1\nnodes: [{name: a}, {name: b}]\nlinks:\n  - {from: a, to: b, port: 1, closes_first: a, rates: 5}\n",
        "TW051",
        4,
        48,
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `rate`?"));
}

/// A misspelt required field is one problem: its TW051 says "did you mean", and no TW052 says
/// the field is missing; a required field nothing resembles is still missing.
#[test]
fn a_misspelt_required_field_is_reported_once() {
    let (map, loaded) = load_str(
        "version: 1\nnodes: [{name: a}, {name: b}]\nlinks:\n  - from: a\n    to: b\n    prot: 80\n    closes_frist: a\n",
    );
    assert_eq!(
        found(&map, &loaded),
        [("TW051".to_string(), 6, 5), ("TW051".to_string(), 7, 5)]
    );
    assert_eq!(
        loaded.diagnostics[0].help.as_deref(),
        Some("did you mean `port`?")
    );
    assert_eq!(
        loaded.diagnostics[1].help.as_deref(),
        Some("did you mean `closes_first`?")
    );
    let (map, loaded) = load_str(
        "version: 1\nnodes: [{name: a}, {name: b}]\nlinks:\n  - from: a\n    to: b\n    prot: 80\n    zzz: a\n",
    );
    let codes: Vec<String> = found(&map, &loaded).into_iter().map(|f| f.0).collect();
    assert_eq!(codes, ["TW052", "TW051", "TW051"]);
    assert!(loaded.diagnostics[0].message.contains("`closes_first`"));
}

#[test]
fn tw052_missing_fields() {
    let (map, loaded) = load_str("name: x\n");
    assert_eq!(
        found(&map, &loaded),
        [("TW052".to_string(), 1, 1), ("TW052".to_string(), 1, 1)]
    );
    assert_eq!(
        loaded.diagnostics[0].message,
        "the topology has no `version`"
    );
    assert_eq!(loaded.diagnostics[1].message, "the topology has no `nodes`");
    let (_, d) = only("version: 1\nnodes:\n  - role: web\n", "TW052", 3, 5);
    assert_eq!(d.message, "this node has no `name`");
    let (map, loaded) =
        load_str("version: 1\nnodes: [{name: a}]\nlinks:\n  - from: a\n    to: a\n");
    assert_eq!(
        found(&map, &loaded),
        [("TW052".to_string(), 4, 5), ("TW052".to_string(), 4, 5)]
    );
    assert!(loaded.diagnostics[0].message.contains("`port`"));
    assert!(loaded.diagnostics[1].message.contains("`closes_first`"));
    assert!(loaded.topology.unwrap().links.is_empty());
    // An empty file has neither.
    let (map, loaded) = load_str("");
    assert_eq!(found(&map, &loaded).len(), 2);
    assert!(loaded.topology.is_none());
}

#[test]
fn tw053_wrong_types() {
    let (_, d) = only(
        "version: 1\nnodes:\n  - name: web\n    listen: 80\n",
        "TW053",
        4,
        13,
    );
    assert_eq!(d.message, "expected a list of ports, found a number");
    assert_eq!(d.node.as_deref(), Some("web"));
    let (_, d) = only("version: 1\nnodes: {web: 1}\n", "TW053", 2, 8);
    assert_eq!(d.message, "expected a list of nodes, found a mapping");
    let (_, d) = only(
        "version: 1\nnodes: [{name: a}, {name: b}]\nlinks:\n  - {from: a, to: b, port: \"80\", closes_first: a}\n",
        "TW053",
        4,
        28,
    );
    assert_eq!(d.message, "expected a port number, found a quoted string");
    only("version: \"1\"\nnodes: []\n", "TW053", 1, 10);
    let (map, loaded) = load_str("- version: 1\n");
    assert_eq!(found(&map, &loaded), [("TW053".to_string(), 1, 1)]);
    assert!(loaded.topology.is_none());
}

#[test]
fn tw054_duplicate_node_name() {
    let (map, d) = only(
        "version: 1\nnodes:\n  - name: web\n  - name: web\n    role: db\n",
        "TW054",
        4,
        11,
    );
    assert_eq!(pos(&map, d.secondary[0].span), (3, 11));
    assert_eq!(d.secondary[0].message, "first defined here");
    let (_, loaded) = load_str("version: 1\nnodes:\n  - name: web\n  - name: web\n    role: db\n");
    let t = loaded.topology.unwrap();
    assert_eq!(t.nodes.len(), 1);
    assert_eq!(t.nodes[0].role.value, Role::Generic);
}

#[test]
fn tw055_unknown_node_with_suggestion() {
    let (_, d) = only(
        "version: 1\nnodes: [{name: web}, {name: db}]\nlinks:\n  - {from: wbe, to: db, port: 5432, closes_first: db}\n",
        "TW055",
        4,
        12,
    );
    assert_eq!(d.message, "unknown node `wbe`");
    assert_eq!(d.help.as_deref(), Some("did you mean `web`?"));
    only(
        "version: 1\nnodes: [{name: web}, {name: db}]\nlinks:\n  - {from: web, to: db, port: 5432, via: nat, closes_first: web}\n",
        "TW055",
        4,
        42,
    );
    let (_, d) = only(
        "version: 1\nnodes: [{name: web}, {name: db}]\nlinks:\n  - {from: web, to: db, port: 5432, closes_first: wbe}\n",
        "TW055",
        4,
        51,
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `web`?"));
}

#[test]
fn tw056_closes_first_not_an_endpoint() {
    let (map, d) = only(
        "version: 1\nnodes: [{name: a}, {name: b}, {name: c}]\nlinks:\n  - from: a\n    to: b\n    port: 80\n    closes_first: c\n",
        "TW056",
        7,
        19,
    );
    let secondary: Vec<_> = d.secondary.iter().map(|l| pos(&map, l.span)).collect();
    assert_eq!(secondary, [(4, 11), (5, 9)]);
}

#[test]
fn tw057_via_not_nat() {
    let text = "version: 1\nnodes:\n  - {name: c, role: client}\n  - {name: fw, role: proxy}\n  - {name: s}\nlinks:\n  - {from: c, to: s, port: 80, via: fw, closes_first: c}\n";
    let (map, d) = only(text, "TW057", 7, 37);
    assert_eq!(pos(&map, d.secondary[0].span), (4, 22));
    assert_eq!(d.secondary[0].message, "its role is proxy");
    assert_eq!(d.node.as_deref(), Some("fw"));
    // With no role at all, the secondary label points at the node's name.
    let text = "version: 1\nnodes: [{name: c}, {name: fw}, {name: s}]\nlinks:\n  - {from: c, to: s, port: 80, via: fw, closes_first: c}\n";
    let (map, d) = only(text, "TW057", 4, 37);
    assert_eq!(pos(&map, d.secondary[0].span), (2, 27));
}

#[test]
fn tw058_invalid_ports() {
    let text = "version: 1\nnodes:\n  - name: a\n    listen: [0, 80, 70000, http]\n  - name: b\nlinks:\n  - {from: a, to: b, port: 80.5, closes_first: a}\n";
    let (map, loaded) = load_str(text);
    assert_eq!(
        found(&map, &loaded),
        [
            ("TW058".to_string(), 4, 14),
            ("TW058".to_string(), 4, 21),
            ("TW058".to_string(), 4, 28),
            ("TW058".to_string(), 7, 28),
        ]
    );
    assert_eq!(loaded.diagnostics[0].message, "port 0 is out of range");
    assert_eq!(loaded.diagnostics[2].message, "`http` is not a port number");
    let t = loaded.topology.unwrap();
    assert_eq!(t.nodes[0].listen.len(), 1);
    assert!(t.links.is_empty());
}

#[test]
fn tw059_invalid_rates() {
    let link = |rate: &str| {
        format!(
            "version: 1\nnodes: [{{name: a}}, {{name: b}}]\nlinks:\n  - {{from: a, to: b, port: 1, closes_first: a, rate: {rate}}}\n"
        )
    };
    for bad in ["0", "-3", ".nan", ".inf", "fast"] {
        let (_, d) = only(&link(bad), "TW059", 4, 54);
        assert!(d.message.contains(bad), "{}", d.message);
    }
    for good in ["1500", "1500.5", "2e3"] {
        let (_, loaded) = load_str(&link(good));
        assert!(loaded.diagnostics.is_empty(), "{good}");
        let rate = loaded.topology.unwrap().links[0].rate.clone().unwrap();
        assert!(rate.value >= 1500.0);
    }
}

#[test]
fn tw060_missing_sysctl_file_and_folders_are_fine() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sysctl.d")).unwrap();
    let text =
        "version: 1\nnodes:\n  - name: a\n    sysctl:\n      files: [sysctl.d, missing.conf]\n";
    let (map, loaded) = load_in(dir.path(), text);
    assert_eq!(found(&map, &loaded), [("TW060".to_string(), 5, 25)]);
    assert_eq!(loaded.diagnostics[0].node.as_deref(), Some("a"));
    let t = loaded.topology.unwrap();
    assert_eq!(t.nodes[0].sysctl_files.len(), 1);
    assert_eq!(
        t.nodes[0].sysctl_files[0].value,
        dir.path().join("sysctl.d")
    );
}

#[test]
fn tw061_invalid_kernel_version() {
    only(
        "version: 1\ndefaults:\n  kernel: latest\nnodes: []\n",
        "TW061",
        3,
        11,
    );
    let (_, d) = only(
        "version: 1\nnodes:\n  - name: a\n    kernel: \"6\"\n",
        "TW061",
        4,
        13,
    );
    assert_eq!(d.message, "`6` is not a kernel release");
    // An unquoted 5.10 is read as written, not as the float 5.1.
    let (_, loaded) = load_str("version: 1\nnodes:\n  - name: a\n    kernel: 5.10\n");
    assert!(loaded.diagnostics.is_empty());
    assert_eq!(
        loaded.topology.unwrap().kernel_of(0),
        Some(KernelVersion::new(5, 10))
    );
}

#[test]
fn tw062_unsupported_version() {
    let (_, d) = only("version: 2\nnodes: []\n", "TW062", 1, 10);
    assert_eq!(d.message, "unsupported topology format version `2`");
}

#[test]
fn tw063_invalid_role_with_suggestion() {
    let (_, d) = only(
        "version: 1\nnodes:\n  - name: lb\n    role: loadbalancer\n",
        "TW063",
        4,
        11,
    );
    assert_eq!(d.help.as_deref(), Some("did you mean `load-balancer`?"));
    assert_eq!(d.node.as_deref(), Some("lb"));
}

#[test]
fn tw064_duplicate_key() {
    let (map, d) = only(
        "version: 1\nnodes:\n  - name: a\n    role: web\n    role: db\n",
        "TW064",
        5,
        5,
    );
    assert_eq!(pos(&map, d.secondary[0].span), (4, 5));
}

#[test]
fn tw065_nat_as_endpoint() {
    let text = "version: 1\nnodes:\n  - {name: nat, role: nat}\n  - {name: web}\nlinks:\n  - {from: nat, to: web, port: 80, closes_first: web}\n";
    let (map, d) = only(text, "TW065", 6, 12);
    assert_eq!(pos(&map, d.secondary[0].span), (3, 23));
    assert_eq!(d.node.as_deref(), Some("nat"));
}

#[test]
fn tw066_invalid_address() {
    let text = "version: 1\nnodes:\n  - name: a\n    addresses: [10.0.0.1, \"fd00::1\", 10.0.0.300, 10.0.0.2/24]\n";
    let (map, loaded) = load_str(text);
    assert_eq!(
        found(&map, &loaded),
        [
            // An IPv4 and an IPv6 address: one host with both, said as an assumption.
            ("TW091".to_string(), 4, 16),
            ("TW066".to_string(), 4, 38),
            ("TW066".to_string(), 4, 50)
        ]
    );
    assert_eq!(loaded.topology.unwrap().nodes[0].addresses.len(), 2);
}

#[test]
fn tw068_duplicate_link_is_a_warning() {
    let text = "version: 1\nnodes: [{name: a}, {name: b}]\nlinks:\n  - {from: a, to: b, port: 80, closes_first: a}\n  - {from: a, to: b, port: 80, closes_first: b}\n";
    let (map, d) = only(text, "TW068", 5, 5);
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(pos(&map, d.secondary[0].span), (4, 5));
    let (_, loaded) = load_str(text);
    let t = loaded.topology.unwrap();
    assert_eq!(t.links.len(), 1);
    assert!(t.links[0].client_closes());
}

#[test]
fn tw069_second_document_is_ignored_with_a_warning() {
    let (_, d) = only("version: 1\nnodes: []\n---\nversion: 2\n", "TW069", 3, 1);
    assert_eq!(d.severity, Severity::Warning);
}

#[test]
fn several_problems_are_reported_at_once() {
    let text = "\
version: 1
nodes:
  - name: lb
    role: load-balancer
    listen: [0]
  - name: web
    role: wbe
    kernel: banana
  - name: lb
links:
  - {from: lb, to: dbb, port: 80, closes_first: lb}
  - {from: lb, to: web, port: 80, closes_first: web, rate: -1}
";
    let (map, loaded) = load_str(text);
    let codes: Vec<_> = found(&map, &loaded)
        .into_iter()
        .map(|(c, l, col)| format!("{c}@{l}:{col}"))
        .collect();
    assert_eq!(
        codes,
        [
            "TW058@5:14",
            "TW063@7:11",
            "TW061@8:13",
            "TW054@9:11",
            "TW055@11:20",
            "TW059@12:60",
        ]
    );
    let t = loaded.topology.unwrap();
    assert_eq!(t.nodes.len(), 2);
    assert!(t.links.is_empty());
}

#[test]
fn non_ascii_before_a_problem_keeps_the_column() {
    // "zürich" and "münchen" hold two-byte characters; columns count characters.
    let text = "version: 1\nnodes:\n  - {name: zürich, role: wbe}\n  - {name: münchen}\nlinks:\n  - {from: zürich, to: münchen, port: 0, closes_first: zürich}\n";
    let (map, loaded) = load_str(text);
    assert_eq!(
        found(&map, &loaded),
        [("TW063".to_string(), 3, 26), ("TW058".to_string(), 6, 39)]
    );
}

#[test]
fn crlf_input_gives_the_same_positions() {
    let text = "version: 1\nnodes:\n  - name: web\n    listen: [80, 0]\n";
    let (map, loaded) = load_str(&text.replace('\n', "\r\n"));
    assert_eq!(found(&map, &loaded), [("TW058".to_string(), 4, 18)]);
    let (_, loaded) = load_str(&DESIGN_EXAMPLE.replace('\n', "\r\n"));
    // Only the sysctl file is missing here (and the note on lb's addresses); every value reads
    // the same.
    let codes: Vec<_> = loaded.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["TW091", "TW060"]);
    let t = loaded.topology.unwrap();
    assert_eq!(t.nodes[2].name.value, "lb");
    assert_eq!(t.links.len(), 3);
}

#[test]
fn byte_order_mark_does_not_shift_columns() {
    let (map, loaded) = load_str("\u{FEFF}versoin: 1\nnodes: []\n");
    assert_eq!(found(&map, &loaded), [("TW051".to_string(), 1, 1)]);
    let span = loaded.diagnostics[0].primary.as_ref().unwrap().span;
    assert_eq!(map.slice(span), "versoin");
    assert_eq!(span.start, 0);
}

#[test]
fn load_reads_files_relative_to_their_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lb.conf"), "net.ipv4.tcp_tw_reuse = 1\n").unwrap();
    let path = dir.path().join("topo.yaml");
    std::fs::write(
        &path,
        "version: 1\nnodes:\n  - name: lb\n    sysctl: {files: [lb.conf]}\n",
    )
    .unwrap();
    let mut map = SourceMap::new();
    let loaded = load(&path, &mut map).unwrap();
    assert!(loaded.diagnostics.is_empty(), "{:#?}", loaded.diagnostics);
    let t = loaded.topology.unwrap();
    assert_eq!(t.dir, dir.path());
    assert_eq!(t.nodes[0].sysctl_files[0].value, dir.path().join("lb.conf"));
    assert_eq!(map.get(t.file).path, path.display().to_string());
}

#[test]
fn load_refuses_what_is_not_a_small_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut map = SourceMap::new();
    assert!(matches!(
        load(&dir.path().join("absent.yaml"), &mut map),
        Err(Error::Read { .. })
    ));
    assert!(matches!(
        load(dir.path(), &mut map),
        Err(Error::NotReadable { .. })
    ));
    assert!(matches!(
        load(Path::new("/dev/zero"), &mut map),
        Err(Error::NotReadable { .. })
    ));
    let big = dir.path().join("big.yaml");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(MAX_FILE_SIZE + 1)
        .unwrap();
    assert!(matches!(load(&big, &mut map), Err(Error::TooLarge { .. })));
    let fifo = dir.path().join("fifo.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // Opening a FIFO would block; it must be refused before that.
    assert!(matches!(
        load(&fifo, &mut map),
        Err(Error::NotReadable { .. })
    ));
}

/// Every code the loader can emit has a rule file whose example fires it and whose fix loads
/// cleanly. The rule files are read with the same YAML module.
#[test]
fn rule_docs_examples_fire_and_fixes_are_clean() {
    let codes = [
        "TW050", "TW051", "TW052", "TW053", "TW054", "TW055", "TW056", "TW057", "TW058", "TW059",
        "TW060", "TW061", "TW062", "TW063", "TW064", "TW065", "TW066", "TW068", "TW069",
    ];
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    for code in codes {
        let entry = std::fs::read_dir(&rules)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&format!("{code}-"))
            })
            .unwrap_or_else(|| panic!("no rule file for {code}"));
        let text = std::fs::read_to_string(&entry).unwrap();
        let mut map = SourceMap::new();
        let file = map.add(entry.display().to_string(), text.as_str());
        let doc = crate::yaml::parse(file, &text).expect("rule file is YAML");
        assert!(doc.diagnostics.is_empty(), "{code}: {:?}", doc.diagnostics);
        let scalar = |node: Option<&crate::yaml::YamlNode>| {
            node.and_then(|n| n.as_scalar())
                .map(|(s, _)| s.value.clone())
                .unwrap_or_else(|| panic!("{code}: missing field"))
        };
        assert_eq!(scalar(doc.root.get("id")), code);
        let name = scalar(doc.root.get("name"));
        assert_eq!(
            entry.file_name().unwrap().to_string_lossy(),
            format!("{code}-{name}.yaml")
        );
        let docs = doc.root.get("docs").unwrap();
        for section in ["what", "why", "kernel"] {
            assert!(
                !scalar(docs.get(section)).trim().is_empty(),
                "{code} {section}"
            );
        }
        let example = scalar(docs.get("example").and_then(|e| e.get("topology")));
        let fix = scalar(docs.get("use_instead").and_then(|e| e.get("topology")));

        let (_, loaded) = load_str(&example);
        let severity = scalar(doc.root.get("severity"));
        let fired: Vec<_> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.code == code)
            .collect();
        assert!(
            !fired.is_empty(),
            "{code}: example does not fire: {:#?}",
            loaded.diagnostics
        );
        let expected = if severity == "warning" {
            Severity::Warning
        } else {
            Severity::Error
        };
        assert!(
            fired.iter().all(|d| d.severity == expected),
            "{code} severity"
        );
        let (_, loaded) = load_str(&fix);
        assert!(
            loaded.diagnostics.is_empty(),
            "{code}: use_instead is not clean: {:#?}",
            loaded.diagnostics
        );
    }
}

/// Messages start lowercase and do not end with a period; every diagnostic has help.
#[test]
fn messages_follow_the_style() {
    let texts = [
        "version: 2\nnodes: {a: 1}\nfoo: 1\n",
        DESIGN_EXAMPLE,
        "version: 1\nnodes:\n  - name: a\n    role: x\n    kernel: k\n    addresses: [x]\n    listen: [0]\n    sysctl: {files: [nope], set: {a: [1]}}\n  - name: a\n  - {name: n, role: nat}\n  - {role: web}\nlinks:\n  - {from: a, to: b, port: 0, via: a, closes_first: c, rate: 0}\n  - {from: n, to: a, port: 1, closes_first: n}\n  - {from: a, to: n, port: 1, closes_first: zz, via: n}\n  - 5\n",
    ];
    for text in texts {
        let (_, loaded) = load_str(text);
        assert!(!loaded.diagnostics.is_empty());
        for d in &loaded.diagnostics {
            let first = d.message.chars().next().unwrap();
            assert!(!first.is_uppercase(), "{}", d.message);
            assert!(!d.message.ends_with('.'), "{}", d.message);
            assert!(d.help.is_some(), "{}", d.message);
            assert!(d.primary.is_some(), "{}", d.message);
        }
    }
}

#[test]
fn tw090_counts_must_be_whole_numbers_in_range() {
    only(
        "version: 1\nnodes:\n  - {name: web, replicas: 0}\n",
        "TW090",
        3,
        27,
    );
    only(
        "version: 1\nnodes:\n  - {name: web, replicas: 2.5}\n",
        "TW090",
        3,
        27,
    );
    let text = "version: 1\nnodes:\n  - {name: a}\n  - {name: b}\nlinks:\n  - {from: a, to: b, port: 80, closes_first: a, open: -1}\n";
    only(text, "TW090", 6, 55);
    let (_, loaded) =
        load_str("version: 1\nnodes:\n  - {name: a}\n  - {name: b}\nlinks:\n  - {from: a, to: b, port: 80, closes_first: a, open: 0}\n");
    assert!(loaded.diagnostics.is_empty());
    assert_eq!(
        loaded.topology.unwrap().links[0]
            .open
            .as_ref()
            .unwrap()
            .value,
        0
    );
}

#[test]
fn replicas_and_host_addresses_say_how_many_hosts() {
    let (_, loaded) = load_str(
        "version: 1\nnodes:\n  - {name: web, replicas: 3, addresses: [10.0.0.1, 10.0.0.2, 10.0.0.3]}\n  - {name: lb, host_addresses: [[203.0.113.10, 10.0.0.10], [203.0.113.11, 10.0.0.11]]}\n  - {name: one, addresses: [10.0.0.7, 10.0.0.8]}\n  - {name: none}\n",
    );
    assert!(loaded.diagnostics.is_empty(), "{:#?}", loaded.diagnostics);
    let t = loaded.topology.unwrap();
    assert_eq!(t.nodes[0].hosts(), 3);
    assert_eq!(t.nodes[1].hosts(), 2);
    assert_eq!(t.nodes[1].host_addresses, vec![vec![0, 1], vec![2, 3]]);
    assert_eq!(t.nodes[1].addresses.len(), 4);
    // Format 1: one host per address of one kind; no address is one host.
    assert_eq!(t.nodes[2].hosts(), 2);
    assert_eq!(t.nodes[3].hosts(), 1);
}

#[test]
fn tw095_hosts_said_twice_must_agree() {
    let text = "version: 1\nnodes:\n  - {name: web, replicas: 3, host_addresses: [[10.0.0.1], [10.0.0.2]]}\n";
    only(text, "TW095", 3, 27);
    let text = "version: 1\nnodes:\n  - {name: web, addresses: [10.0.0.9], host_addresses: [[10.0.0.1]]}\n";
    let (map, d) = only(text, "TW095", 3, 56);
    assert_eq!(pos(&map, d.secondary[0].span), (3, 28));
}

#[test]
fn tw092_source_must_be_an_address_of_from() {
    let text = "version: 1\nnodes:\n  - {name: lb, addresses: [203.0.113.10, 10.0.0.10]}\n  - {name: web, addresses: [10.0.0.20]}\nlinks:\n  - {from: lb, to: web, port: 80, closes_first: lb, source: 10.0.0.11}\n";
    let (_, loaded) = load_str(text);
    let codes: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["TW091", "TW092"]);
    // An error leaves the link out.
    assert!(loaded.topology.unwrap().links.is_empty());
}

#[test]
fn tw093_namespaces_and_sharing() {
    only(
        "version: 1\nnodes:\n  - {name: app, namespace: pod}\n",
        "TW093",
        3,
        28,
    );
    // A sidecar cannot have values of its own; the namespace has them.
    let text = "version: 1\nnodes:\n  - {name: app, namespace: own, addresses: [10.1.0.5]}\n  - {name: envoy, shares_namespace_with: app, addresses: [10.1.0.6]}\n";
    let (map, d) = only(text, "TW093", 4, 58);
    assert_eq!(pos(&map, d.secondary[0].span), (4, 42));
    // Sharing a sharer's namespace, or one's own.
    let text = "version: 1\nnodes:\n  - {name: app, namespace: own}\n  - {name: envoy, shares_namespace_with: app}\n  - {name: log, shares_namespace_with: envoy}\n  - {name: me, shares_namespace_with: me}\n";
    let (_, loaded) = load_str(text);
    let codes: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["TW093", "TW093"]);
    // An unknown node is TW055.
    only(
        "version: 1\nnodes:\n  - {name: envoy, shares_namespace_with: ap}\n",
        "TW055",
        3,
        42,
    );
}

#[test]
fn a_sidecar_takes_its_namespace_s_addresses_and_hosts() {
    let text = "version: 1\nnodes:\n  - {name: app, namespace: own, replicas: 2, addresses: [10.1.0.5, 10.1.0.6]}\n  - {name: envoy, shares_namespace_with: app}\n";
    let (_, loaded) = load_str(text);
    assert!(loaded.diagnostics.is_empty(), "{:#?}", loaded.diagnostics);
    let t = loaded.topology.unwrap();
    let envoy = &t.nodes[1];
    assert_eq!(envoy.hosts(), 2);
    assert!(envoy.own_namespace());
    assert_eq!(envoy.addresses.len(), 2);
    assert_eq!(envoy.shares_namespace_with.as_ref().unwrap().1, 0);
}
