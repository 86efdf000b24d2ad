//! The dump reader: fuzz lines after a valid `sysctl -a` prefix (so the text stays a dump while
//! its lines vary), and on their own; the kernel release of a dump comes from the input too.
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
        let report = twlint::engine::lint_text(name, t, None, common::rules(), &mut sources)
            .expect("the catalog's rules do not fail");
        common::render_all(&sources, &report);
    }
});
