//! The topology loader: any bytes as a topology, validated, judged and rendered.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use twlint::source::SourceMap;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut sources = SourceMap::new();
    let report = common::judge_topology_text(
        "fuzz.yaml",
        common::scratch(),
        &text,
        common::rules(),
        &mut sources,
    );
    if let Ok(report) = report {
        common::render_all(&sources, &report);
    }
});
