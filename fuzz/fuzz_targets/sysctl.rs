//! The sysctl reader: any bytes as a configuration file, read, judged and rendered, every
//! diagnostic's place resolvable in the text.
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
    for d in &report.diagnostics {
        for l in d.primary.iter().chain(&d.secondary) {
            let _ = sources.location(l.span);
            let _ = sources.slice(l.span);
        }
    }
});
