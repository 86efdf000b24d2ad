//! Embeds the rule catalog (`rules/*.yaml`) in the binary, so twlint needs no files at run time:
//! each file's text, and the YAML parser's events for it, recorded here once so a run does not
//! parse the YAML again (see `src/yaml/replay.rs`, which this script shares with the crate).
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
    let mut events = String::from("&[\n");
    for p in files {
        println!("cargo:rerun-if-changed={}", p.display());
        let name = p.file_name().unwrap().to_string_lossy();
        out.push_str(&format!(
            "    (\"rules/{name}\", include_str!({:?})),\n",
            p.display().to_string()
        ));
        // A file that is not UTF-8 or not YAML is left to the loader, which reports it.
        let recorded = fs::read_to_string(&p)
            .ok()
            .and_then(|text| replay::record(&text));
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
}
