//! The dump reader: fuzz lines after a valid `sysctl -a` prefix (so the text stays a dump while
//! its lines vary), and on their own; the kernel release of a dump comes from the input too.
//! A text that is a dump is also judged the way a fleet run reads it from disk (only the judged
//! lines parsed and kept), and both reports, JSON and human, must be identical.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use twlint::source::SourceMap;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        if let Some((_, v)) = line.split_once(" = ") {
            let _ = twlint::kernel::KernelVersion::parse(v);
        }
    }
    let dump = format!("{}{}", common::dump_prefix(), text);
    let mut sources = SourceMap::new();
    for (name, t) in [("fuzz-dump.txt", dump.as_str()), ("fuzz.txt", &*text)] {
        let _ = twlint::sysctl::is_dump(t);
        let report = common::lint_text(name, t, None, common::rules(), &mut sources)
            .expect("the catalog's rules do not fail");
        common::render_all(&sources, &report);
        if twlint::sysctl::is_dump(t) {
            fleet_path_agrees(t);
        }
    }
});

fn fleet_path_agrees(text: &str) {
    // A file with a NUL byte is refused by the file reader (as C tools stop a line there);
    // `lint_text` takes text already read.
    if text.contains('\0') {
        return;
    }
    let path = common::scratch().join("fleet-dump.txt");
    std::fs::write(&path, text).expect("scratch file");
    let name = path.display().to_string();
    let mut full_sources = SourceMap::new();
    let full = common::lint_text(&name, text, None, common::rules(), &mut full_sources)
        .expect("the catalog's rules do not fail");
    let mut fleet_sources = SourceMap::new();
    let sets = twlint::judge::read_sysctl_paths(&[path], &mut fleet_sources)
        .expect("a dump that was written reads back");
    let fleet = twlint::judge::judge(
        twlint::judge::Request::sets(sets),
        &twlint::judge::Options::default(),
        common::rules(),
        &mut fleet_sources,
    )
    .expect("the catalog's rules do not fail");
    assert_eq!(
        common::rendered(&full_sources, &full),
        common::rendered(&fleet_sources, &fleet)
    );
}
