//! The sysctl reader: any bytes as a configuration file, read, judged and rendered; and read
//! again by the streaming reader, which must agree on every value.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use twlint::source::SourceMap;

fuzz_target!(|data: &[u8]| {
    // The reader sees what `read_text` gives it: invalid UTF-8 replaced by U+FFFD.
    let text = String::from_utf8_lossy(data);
    let _ = twlint::sysctl::is_dump(&text);
    let mut sources = SourceMap::new();
    let report = common::lint_text(
        "fuzz.conf",
        &text,
        common::kernel_for(data),
        common::rules(),
        &mut sources,
    )
    .expect("the catalog's rules do not fail");
    common::render_all(&sources, &report);
    // The streaming reader applies the same grammar: it must find the same effective values.
    let set = twlint::sysctl::load_text("same.conf", &text, &mut sources);
    let kind = set.files[0].kind;
    let streamed = twlint::sysctl::stream::effective(data, kind).expect("reading from memory");
    for (key, value) in streamed.explicit() {
        let held = set.get(key).map(|s| s.value.value);
        assert_eq!(Some(value), held.as_deref(), "key {key:?}");
    }
    // ... the same value for every key the file names (globs and exclusions at work), and the
    // same line-level problems.
    let file = &set.files[0];
    assert_eq!(
        streamed.summary.assignments as usize,
        file.assignments.len()
    );
    for a in &file.assignments {
        let held = set.get(&a.key.value).map(|s| s.value.value);
        assert_eq!(
            streamed.get(&a.key.value),
            held.as_deref(),
            "key {:?}",
            a.key.value
        );
    }
    let mut expected = std::collections::HashMap::new();
    for d in &file.diagnostics {
        if ["TW001", "TW005", "TW008", "TW011", "TW012"].contains(&d.code.as_str()) {
            *expected.entry(d.code.as_str()).or_insert(0u64) += 1;
        }
    }
    let got: std::collections::HashMap<&str, u64> = streamed
        .problems
        .iter()
        .map(|(p, n)| (p.code(), *n))
        .collect();
    assert_eq!(got, expected);
    for d in &report.diagnostics {
        for l in d.primary.iter().chain(&d.secondary) {
            let _ = sources.location(l.span);
            let _ = sources.slice(l.span);
        }
    }
});
