//! Embeds the rule catalog (`rules/*.yaml`) in the binary, so twlint needs no files at run time:
//! each file's text, and the YAML parser's events for it, recorded here once so a run does not
//! parse the YAML again (see `src/yaml/replay.rs`, which this script shares with the crate), and
//! for each CEL rule the events without its documentation and the rule's fields prepared in the
//! form a run that judges reads (`src/rules/prepare.rs`, `rules::prepared`), and the trees of
//! the CEL programs those rules hold, parsed with the crate's parser (`src/rules/tree.rs`), which
//! a run decodes instead of parsing (`rules::program`).
//! It also writes the enum of built-in codes (`src/code.rs`) from the rules with
//! `check: builtin`, so a built-in check cannot emit a code that has no rule file, and records
//! the commit the binary is built from (`src/build_info.rs`), and links the executable
//! position-dependent on Linux with glibc (see `not_position_independent`), again whenever the
//! list of functions in order of use changes.
use std::{env, fs, path::Path, process::Command};

#[allow(dead_code)] // The crate replays; this script only records.
#[path = "src/yaml/replay.rs"]
mod replay;

#[path = "src/rules/prepare.rs"]
mod prepare;

#[allow(dead_code)] // The crate decodes and evaluates; this script only parses and encodes.
#[path = "src/rules/tree.rs"]
mod tree;

fn main() {
    commit();
    not_position_independent();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let out_dir = Path::new(&env::var("OUT_DIR").unwrap()).join("rule-events");
    println!("cargo:rerun-if-changed=rules");
    println!("cargo:rerun-if-changed=src/yaml/replay.rs");
    println!("cargo:rerun-if-changed=src/rules/prepare.rs");
    println!("cargo:rerun-if-changed=src/rules/tree.rs");
    fs::create_dir_all(&out_dir).unwrap();
    let mut files: Vec<_> = fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    files.sort();
    let mut out = String::from("&[\n");
    let mut builtin: Vec<(String, String)> = Vec::new();
    let mut events = String::from("&[\n");
    let mut index = String::from("&[\n");
    let mut judging = String::from("&[\n");
    let mut prepared = String::from("&[\n");
    let mut programs = std::collections::BTreeSet::new();
    for p in files {
        println!("cargo:rerun-if-changed={}", p.display());
        let name = p.file_name().unwrap().to_string_lossy();
        out.push_str(&format!(
            "    (\"rules/{name}\", include_str!({:?})),\n",
            p.display().to_string()
        ));
        // A file that is not UTF-8 or not YAML is left to the loader, which reports it.
        let text = fs::read_to_string(&p).ok();
        if let Some(code) = text.as_deref().and_then(builtin_code) {
            builtin.push(code);
        }
        index.push_str(&match text.as_deref().and_then(header) {
            Some(h) => format!("    Some({h}),\n"),
            None => "    None,\n".to_string(),
        });
        // A CEL rule's events without its documentation, for a run that judges (a built-in
        // check is then made from the index, without reading its file at all).
        let undocumented = text
            .as_deref()
            .filter(|t| !t.lines().any(|l| l.starts_with("check:")))
            .and_then(|t| replay::record_without(t, "docs"));
        // The same rule prepared in the form a run that judges uses (`rules::prepared`).
        let ready = undocumented
            .as_ref()
            .and(text.as_deref())
            .and_then(prepare::prepare);
        prepared.push_str(&match ready {
            Some((rust, sources)) => {
                programs.extend(sources);
                format!("    Some({rust}),\n")
            }
            None => "    None,\n".to_string(),
        });
        embed(
            undocumented,
            &out_dir.join(format!("{name}.judging.events")),
            &mut judging,
        );
        let recorded = text.and_then(|text| replay::record(&text));
        embed(
            recorded,
            &out_dir.join(format!("{name}.events")),
            &mut events,
        );
    }
    out.push(']');
    events.push(']');
    index.push(']');
    judging.push(']');
    prepared.push(']');
    let gen = Path::new(&env::var("OUT_DIR").unwrap()).to_path_buf();
    fs::write(gen.join("embedded_rules.rs"), out).unwrap();
    fs::write(gen.join("embedded_rule_events.rs"), events).unwrap();
    fs::write(gen.join("embedded_rule_index.rs"), index).unwrap();
    fs::write(gen.join("embedded_rule_judging_events.rs"), judging).unwrap();
    fs::write(gen.join("embedded_rule_prepared.rs"), prepared).unwrap();
    let (table, trees) = program_trees(&programs);
    fs::write(gen.join("embedded_programs.rs"), table).unwrap();
    fs::write(gen.join("program-trees.bin"), trees).unwrap();
    fs::write(gen.join("builtin_codes.rs"), codes_enum(&builtin)).unwrap();
}

/// The trees of the shipped CEL programs, for `rules::program::PREBUILT`: each source (in
/// order) with the range of the bytes that holds its tree as parsed, then the range with its
/// tree with the facts' names (empty when it has none), and those bytes. A source the parser
/// refuses is left out (the run parses it, and reports the error).
fn program_trees(sources: &std::collections::BTreeSet<String>) -> (String, Vec<u8>) {
    let (mut table, mut trees) = (String::from("&[\n"), Vec::new());
    for source in sources {
        let Ok(plain) = tree::parse(source) else {
            continue;
        };
        let start = trees.len();
        tree::encode(&plain, &mut trees);
        let middle = trees.len();
        let mut names = plain;
        if tree::fact_names(&mut names, &mut Vec::new()) {
            tree::encode(&names, &mut trees);
        }
        table.push_str(&format!(
            "    ({source:?}, {start}, {middle}, {}),\n",
            trees.len()
        ));
    }
    table.push(']');
    (table, trees)
}

/// Writes a recording to `path` and adds it to `list` as an entry of an `&[Option<&[u8]>]`
/// (`None` for a file that has none).
fn embed(recorded: Option<Vec<u8>>, path: &Path, list: &mut String) {
    match recorded {
        Some(bytes) => {
            fs::write(path, bytes).unwrap();
            list.push_str(&format!(
                "    Some(include_bytes!({:?})),\n",
                path.display().to_string()
            ));
        }
        None => list.push_str("    None,\n"),
    }
}

/// The id and summary of a rule file whose `check` is `builtin`, from its top-level lines.
///
/// The shipped rule files write these three keys as plain one-line scalars at the start of a
/// line; anything else is not a built-in code here, and `rules::load` (which reads the files
/// in full) and the test `the_builtin_code_enum_is_the_catalog_s_builtin_checks`
/// (tests/rule_examples.rs) catch a file this reading would misjudge.
fn builtin_code(text: &str) -> Option<(String, String)> {
    let top = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .map(|v| v.trim().to_string())
    };
    if top("check")? != "builtin" {
        return None;
    }
    let id = top("id")?;
    let ok = id.len() == 5 && id.starts_with("TW") && id[2..].bytes().all(|b| b.is_ascii_digit());
    ok.then(|| (id, top("summary").unwrap_or_default()))
}

/// The header of a rule file: the plain scalars of `id`, `name`, `summary`, `check`,
/// `verdict` and `severity` in its top-level mapping as the YAML parser gives them, written as
/// a `rules::load::Indexed`. It is the index that lets a run load only the shipped rules it
/// names, and list the catalog without loading it (`rules::load::Need`, `shipped_headers`).
/// `None` when the parser refuses the file or `id`, `name` or `summary` is missing or not a
/// scalar: the loader then always loads that file, and reports what is wrong. The test
/// `the_index_is_what_the_loader_reads` (src/rules/load.rs) holds every entry to the rule the
/// loader makes of the file.
fn header(text: &str) -> Option<String> {
    use saphyr_parser::{Event, Parser};
    const KEYS: [&str; 6] = ["id", "name", "summary", "check", "verdict", "severity"];
    let mut found: [Option<String>; 6] = Default::default();
    // `depth` 1 is inside the top-level mapping, whose nodes alternate key, value.
    let (mut depth, mut key, mut at_key) = (0usize, None::<String>, true);
    for item in Parser::new_from_str(text) {
        let (event, _) = item.ok()?;
        let scalar = match &event {
            Event::Scalar(v, ..) => Some(v.to_string()),
            _ => None,
        };
        let starts_node = matches!(
            event,
            Event::Scalar(..)
                | Event::Alias(_)
                | Event::MappingStart(..)
                | Event::SequenceStart(..)
        );
        if depth == 1 && starts_node {
            if at_key {
                key = scalar;
            } else if let Some(k) = key.take() {
                if let Some(i) = KEYS.iter().position(|&w| w == k) {
                    // A key written twice is the loader's error; the file is always loaded.
                    if found[i].is_some() {
                        return None;
                    }
                    found[i] = Some(scalar?);
                }
            }
            at_key = !at_key;
        }
        match event {
            Event::MappingStart(..) | Event::SequenceStart(..) => depth += 1,
            Event::MappingEnd | Event::SequenceEnd => depth -= 1,
            _ => {}
        }
    }
    let [id, name, summary, check, verdict, severity] = found;
    Some(format!(
        "Indexed {{ id: {:?}, name: {:?}, summary: {:?}, check: {check:?}, verdict: {verdict:?}, severity: {severity:?} }}",
        id?, name?, summary?
    ))
}

fn codes_enum(codes: &[(String, String)]) -> String {
    let mut s = String::from(
        "/// A built-in check's code: one variant per rule file with `check: builtin`, documented\n\
         /// by that file (`rules/<id>-<name>.yaml`) and generated from it by `build.rs`.\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]\n\
         pub enum Code {\n",
    );
    for (id, summary) in codes {
        s.push_str(&format!("    #[doc = {summary:?}]\n    {id},\n"));
    }
    s.push_str("}\n\nimpl Code {\n    /// Every built-in code, in id order.\n    pub const ALL: &[Code] = &[");
    for (id, _) in codes {
        s.push_str(&format!("Code::{id}, "));
    }
    s.push_str("];\n\n    /// The code as reports write it (`TW006`).\n    pub const fn as_str(self) -> &'static str {\n        match self {\n");
    for (id, _) in codes {
        s.push_str(&format!("            Code::{id} => {id:?},\n"));
    }
    s.push_str("        }\n    }\n\n    /// The summary of its rule file.\n    pub const fn summary(self) -> &'static str {\n        match self {\n");
    for (id, summary) in codes {
        s.push_str(&format!("            Code::{id} => {summary:?},\n"));
    }
    s.push_str("        }\n    }\n}\n");
    s
}

/// Links the `twlint` executable as a position-dependent one (`-no-pie`) on Linux with glibc,
/// when rustc links it dynamically (the README's `cargo build --release`). A position-independent
/// executable is relocated by the dynamic loader at every start: about 18,000 relocations, which
/// write (and so copy) every page they touch, 80 of a `twlint host` run's 260 page faults. A link
/// argument for the binaries only: `-C relocation-model` or `crt-static` in a Cargo config
/// would reach the proc macros too, which cannot be built that way without `--target`
/// (BENCHMARKS.md, "Paths users run"). The flag also marks the link that
/// `.cargo/link-static.sh` makes static. Not with `crt-static` (the packages): rustc links
/// those `-static-pie`, and `-no-pie` on top gives a binary that asks for a loader and crashes.
fn not_position_independent() {
    let var = |name| env::var(name).unwrap_or_default();
    let static_libc = var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "crt-static");
    if var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu" && !static_libc
    {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    // The list of functions in order of use, which the link script hands to lld for the shipped
    // binary (dist/symbol-order.sh): a new list links the binary again.
    let order = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/symbol-order.txt");
    if order.exists() {
        println!("cargo:rerun-if-changed={}", order.display());
    }
}

/// Sets `TWLINT_COMMIT` (the full hash, or empty) and `TWLINT_COMMIT_DATE` (YYYY-MM-DD, or
/// empty) for `src/build_info.rs`. In order: `TWLINT_COMMIT` from the environment (a build from
/// an exported source tree that knows its commit), the git work tree this crate is the top of
/// (its HEAD when the build script ran), the `.cargo_vcs_info.json` that `cargo package` writes
/// into a published crate. A crate that sits inside someone else's repository (vendored) takes
/// none of that repository's commits.
fn commit() {
    println!("cargo:rerun-if-env-changed=TWLINT_COMMIT");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (hash, date) = if let Some(h) = env::var("TWLINT_COMMIT").ok().filter(|h| !h.is_empty()) {
        (h, String::new())
    } else if let Some(found) = from_git(manifest) {
        found
    } else if let Some(h) = from_vcs_info(manifest) {
        (h, String::new())
    } else {
        (String::new(), String::new())
    };
    let hex = hash.len() >= 7 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    let (hash, date) = if hex {
        (hash, date)
    } else {
        (String::new(), String::new())
    };
    println!("cargo:rustc-env=TWLINT_COMMIT={hash}");
    println!("cargo:rustc-env=TWLINT_COMMIT_DATE={date}");
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn from_git(manifest: &Path) -> Option<(String, String)> {
    let top = git(manifest, &["rev-parse", "--show-toplevel"])?;
    if fs::canonicalize(&top).ok()? != fs::canonicalize(manifest).ok()? {
        return None;
    }
    // Run again when HEAD moves: HEAD itself (a checkout), the branch's loose ref (a commit) or,
    // when it has none yet, the folder it will be written to, and packed-refs. Only paths that
    // exist: cargo reruns a build script on every build while a watched path is missing.
    let mut watch = vec![git(manifest, &["rev-parse", "--git-path", "HEAD"])?];
    if let Some(branch) = git(manifest, &["symbolic-ref", "-q", "HEAD"]) {
        let loose = git(manifest, &["rev-parse", "--git-path", &branch])?;
        let loose = manifest.join(loose);
        if loose.exists() {
            watch.push(loose.display().to_string());
        } else if let Some(parent) = loose.parent().filter(|p| p.exists()) {
            watch.push(parent.display().to_string());
        }
    }
    watch.extend(git(manifest, &["rev-parse", "--git-path", "packed-refs"]));
    for w in watch {
        let p = manifest.join(w);
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
    let hash = git(manifest, &["rev-parse", "HEAD"])?;
    let date = git(manifest, &["log", "-1", "--format=%cs", "HEAD"]).unwrap_or_default();
    Some((hash, date))
}

/// `{"git": {"sha1": "..."}, ...}`: read without a JSON parser (the build has none).
fn from_vcs_info(manifest: &Path) -> Option<String> {
    let text = fs::read_to_string(manifest.join(".cargo_vcs_info.json")).ok()?;
    let rest = &text[text.find("\"sha1\"")? + 6..];
    let start = rest.find('"')? + 1;
    let end = start + rest[start..].find('"')?;
    Some(rest[start..end].to_string())
}
