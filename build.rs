//! Embeds the rule catalog (`rules/*.yaml`) in the binary, so twlint needs no files at run time:
//! each file's text, and the YAML parser's events for it, recorded here once so a run does not
//! parse the YAML again (see `src/yaml/replay.rs`, which this script shares with the crate).
//! It also writes the enum of built-in codes (`src/code.rs`) from the rules with
//! `check: builtin`, so a built-in check cannot emit a code that has no rule file.
use std::{env, fs, path::Path};

#[allow(dead_code)] // The crate replays; this script only records.
#[path = "src/yaml/replay.rs"]
mod replay;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let out_dir = Path::new(&env::var("OUT_DIR").unwrap()).join("rule-events");
    println!("cargo:rerun-if-changed=rules");
    println!("cargo:rerun-if-changed=src/yaml/replay.rs");
    fs::create_dir_all(&out_dir).unwrap();
    let mut files: Vec<_> = fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    files.sort();
    let mut out = String::from("&[\n");
    let mut builtin: Vec<(String, String)> = Vec::new();
    let mut events = String::from("&[\n");
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
        let recorded = text.and_then(|text| replay::record(&text));
        match recorded {
            Some(bytes) => {
                let path = out_dir.join(format!("{name}.events"));
                fs::write(&path, bytes).unwrap();
                events.push_str(&format!(
                    "    Some(include_bytes!({:?})),\n",
                    path.display().to_string()
                ));
            }
            None => events.push_str("    None,\n"),
        }
    }
    out.push(']');
    events.push(']');
    let gen = Path::new(&env::var("OUT_DIR").unwrap()).to_path_buf();
    fs::write(gen.join("embedded_rules.rs"), out).unwrap();
    fs::write(gen.join("embedded_rule_events.rs"), events).unwrap();
    fs::write(gen.join("builtin_codes.rs"), codes_enum(&builtin)).unwrap();
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
