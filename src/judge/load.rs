//! Reading what a run judges from paths: sysctl files and `sysctl -a` dumps into the sets the
//! judge takes, and a topology file with the containment its options ask for.

use super::Options;
use crate::error::Result;
use crate::source::SourceMap;
use crate::sysctl::{self, SysctlSet};
use crate::topology;
use std::path::{Path, PathBuf};

/// Reads sysctl files and dumps into the sets to judge without a topology, each named as the
/// report shows it.
///
/// Every `sysctl -a` dump is a host of its own (its kernel from its `kernel.osrelease`);
/// everything else is one set read with `sysctl --system` precedence, listed first. Dumps are
/// read and parsed on all cores ([`crate::pool::par_map`]); the sets keep argument order
/// whatever the thread that read them.
pub fn read_sysctl_paths(
    paths: &[PathBuf],
    sources: &mut SourceMap,
) -> Result<Vec<(String, SysctlSet)>> {
    // Reading and recognising a dump is independent per path; an error stops the run at the
    // first failing path in argument order, as a sequential read would.
    enum Input {
        Dump(crate::source::SourceFile, sysctl::DumpLines),
        Conf,
    }
    thread_local! {
        // One read buffer per thread: a dump is kept only as the lines twlint reads, so its
        // text need not outlive the scan, and a thousand dumps need not touch fresh memory.
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let read: Vec<Result<Input>> = crate::pool::par_map(paths, |p| {
        if !p.is_file() {
            return Ok(Input::Conf);
        }
        BUF.with_borrow_mut(|buf| {
            let text = sysctl::read_sysctl_bytes(p, buf)?;
            // A dump is parsed from what was read here, not read again.
            Ok(
                match sysctl::DumpLines::scan_compact(p.display().to_string(), &text) {
                    Some((lines, file)) => Input::Dump(file, lines),
                    None => Input::Conf,
                },
            )
        })
    });
    let mut dumps = Vec::new();
    let mut confs = Vec::new();
    for (p, r) in paths.iter().zip(read) {
        match r? {
            Input::Dump(file, lines) => dumps.push((file, lines)),
            Input::Conf => confs.push(p.clone()),
        }
    }
    let mut sets: Vec<(String, SysctlSet)> = Vec::new();
    if !confs.is_empty() {
        let name = confs
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        sets.push((name, sysctl::load(&confs, sources)?));
    }
    // Registering is sequential (file ids follow argument order) and only moves the files.
    // A dump is named by its path, as it was registered.
    let dump_ids: Vec<(crate::source::FileId, sysctl::DumpLines)> = dumps
        .into_iter()
        .map(|(file, lines)| (sources.push(file), lines))
        .collect();
    let shared: &SourceMap = sources;
    sets.extend(crate::pool::par_map(&dump_ids, |(id, lines)| {
        let f = shared.get(*id);
        (
            f.path.clone(),
            sysctl::load_registered_dump(*id, &f.text, lines),
        )
    }));
    Ok(sets)
}

/// Loads a topology, its `sysctl.files` contained in its folder unless
/// `--allow-outside-paths` ([`Options::allow_outside_paths`]).
pub fn load_topology(
    path: &Path,
    opts: &Options,
    sources: &mut SourceMap,
) -> Result<topology::Loaded> {
    if opts.allow_outside_paths {
        topology::load_allowing_outside(path, sources)
    } else {
        topology::load(path, sources)
    }
}
