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
/// Every `sysctl -a` dump is a host of its own (its kernel from its `kernel.osrelease`), and
/// every unit of a file that holds several (the pod templates of a Kubernetes manifest, the
/// services of a compose file) a node of its own, named by its reader; everything else is one
/// set read with `sysctl --system` precedence, listed first. Dumps are read and parsed on all
/// cores ([`crate::pool::par_map`]); the sets keep argument order whatever the thread that read
/// them.
pub fn read_sysctl_paths(
    paths: &[PathBuf],
    sources: &mut SourceMap,
) -> Result<Vec<(String, SysctlSet)>> {
    read_sysctl_paths_as(paths, None, sources)
}

/// [`read_sysctl_paths`], every file read by `forced` (`--input-format`) when given.
pub fn read_sysctl_paths_as(
    paths: &[PathBuf],
    forced: Option<&'static crate::inputs::Reader>,
    sources: &mut SourceMap,
) -> Result<Vec<(String, SysctlSet)>> {
    // What each path stands for is independent per path (the input seam's registration table
    // decides); an error stops the run at the first failing path in argument order, as a
    // sequential read would.
    let named = crate::pool::par_map(paths, |p| crate::inputs::sort_named(p, forced));
    let mut hosts = Vec::new();
    let mut units = Vec::new();
    let mut set_paths = Vec::new();
    for (p, n) in paths.iter().zip(named) {
        match n? {
            crate::inputs::Named::Host(file) => hosts.push(file),
            crate::inputs::Named::Units(path, text, reader) => units.push((path, text, reader)),
            crate::inputs::Named::Set => set_paths.push(p.clone()),
        }
    }
    let mut sets: Vec<(String, SysctlSet)> = Vec::new();
    if !set_paths.is_empty() {
        let name = set_paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        sets.push((name, sysctl::load_as(&set_paths, sources, forced)?));
    }
    for (path, text, reader) in units {
        let file = sources.add(path.clone(), text);
        let read = crate::inputs::read_units(reader, file, &path, &sources.get(file).text);
        sets.extend(
            read.into_iter()
                .map(|u| (u.name, sysctl::resolve_unit(u.files))),
        );
    }
    // Registering is sequential (file ids follow argument order) and only moves the files.
    // A host is named by its path, as it was registered.
    let hosts: Vec<crate::inputs::RegisteredHost> =
        hosts.into_iter().map(|h| h.register(sources)).collect();
    let shared: &SourceMap = sources;
    sets.extend(crate::pool::par_map(&hosts, |h| {
        (
            shared.get(h.file).path.clone(),
            sysctl::resolve_file(h.read(shared)),
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
