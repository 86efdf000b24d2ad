//! Reading what a run judges from paths: sysctl files and `sysctl -a` dumps into the sets the
//! judge takes (stopping at the first broken path, or, for a fleet, going on without the broken
//! ones and naming each), and a topology file with the containment its options ask for.

use super::Options;
use crate::error::{Error, Result};
use crate::source::SourceMap;
use crate::sysctl::{self, SysctlSet};
use crate::topology;
use std::path::{Path, PathBuf};

/// Reads sysctl files and dumps into the sets to judge without a topology, each named as the
/// report shows it; the first path that cannot be read, in argument order, stops the read.
///
/// Every `sysctl -a` dump is a host of its own (its kernel from its `kernel.osrelease`), and
/// every unit of a file that holds several (the pod templates of a Kubernetes manifest, the
/// services of a compose file) a node of its own, named by its reader; everything else is one
/// set read with `sysctl --system` precedence, listed first. Dumps are read and parsed on all
/// cores ([`crate::pool::par_map`]); the sets keep argument order whatever the thread that read
/// them. [`read_sysctl_paths_partial`] goes on past broken paths.
pub fn read_sysctl_paths(
    paths: &[PathBuf],
    sources: &mut SourceMap,
) -> Result<Vec<(String, SysctlSet)>> {
    let inputs: Vec<Input> = paths.iter().cloned().map(Input::Path).collect();
    read_paths(&inputs, None, sources, false).map(|r| r.sets)
}

/// A path named for linting that could not be read, and why.
#[derive(Debug)]
pub struct Unread {
    pub path: PathBuf,
    pub error: Error,
}

impl Unread {
    /// How the report records it.
    pub fn to_report(&self) -> crate::report::Unread {
        crate::report::Unread {
            path: self.path.display().to_string(),
            error: self.error.to_string(),
        }
    }
}

/// What [`read_sysctl_paths_partial`] read, and what it could not.
#[derive(Debug)]
pub struct PathsRead {
    /// As [`read_sysctl_paths`] gives them, without the broken paths.
    pub sets: Vec<(String, SysctlSet)>,
    /// Every path that could not be read, in argument order.
    pub unread: Vec<Unread>,
}

/// Like [`read_sysctl_paths`], except that when several paths are named a path that cannot be
/// read (missing, a dangling link, a FIFO, a folder with nothing to lint, too large, binary...)
/// does not stop the read: it is listed in [`PathsRead::unread`] and the others are read. One
/// broken dump among five hundred must not hide the other hosts; the caller reports every
/// broken path and that the run was incomplete. A single path is read as by
/// [`read_sysctl_paths`]: its error is the whole answer.
///
/// `forced` (`--input-format`) reads every file with that reader instead of the one its content
/// picks.
pub fn read_sysctl_paths_partial(
    paths: &[PathBuf],
    forced: Option<&'static crate::inputs::Reader>,
    sources: &mut SourceMap,
) -> Result<PathsRead> {
    let inputs: Vec<Input> = paths.iter().cloned().map(Input::Path).collect();
    read_paths(&inputs, forced, sources, paths.len() > 1)
}

/// One input named for linting: a path, or a text the caller read from elsewhere (standard
/// input; the library never reads it itself).
#[derive(Debug, Clone)]
pub enum Input {
    Path(PathBuf),
    /// A text and the name reports, messages and annotations give it (`<stdin>` or
    /// `--stdin-filename`); the name's file name may say the format, as a path's does. Its
    /// bytes went through [`crate::inputs::system::sysctl_text_from_bytes`].
    Text {
        name: String,
        text: String,
    },
}

impl Input {
    fn path(&self) -> PathBuf {
        match self {
            Input::Path(p) => p.clone(),
            Input::Text { name, .. } => PathBuf::from(name),
        }
    }
}

/// [`read_sysctl_paths_partial`] for inputs that may include a text read by the caller: it
/// stands for what the same text in a file named as it is would stand for (a host, the units
/// of a manifest, or a set), under the same limits. A text that would join other named files
/// in one set is refused ([`Error::StdinInSet`]): the set is read from disk.
pub fn read_sysctl_inputs(
    inputs: &[Input],
    forced: Option<&'static crate::inputs::Reader>,
    sources: &mut SourceMap,
) -> Result<PathsRead> {
    read_paths(inputs, forced, sources, inputs.len() > 1)
}

fn read_paths(
    inputs: &[Input],
    forced: Option<&'static crate::inputs::Reader>,
    sources: &mut SourceMap,
    keep_going: bool,
) -> Result<PathsRead> {
    // What each path stands for is independent per path (the input seam's registration table
    // decides); without `keep_going` an error stops the run at the first failing path in
    // argument order, as a sequential read would.
    let named = crate::pool::par_map(inputs, |input| match input {
        Input::Path(p) => crate::inputs::sort_named(p, forced),
        Input::Text { name, text } => crate::inputs::sort_text(Path::new(name), text, forced),
    });
    let mut hosts = Vec::new();
    let mut units = Vec::new();
    let mut set_paths = Vec::new();
    // A text that is a set of its own: (argument index, name, text, reader).
    let mut text_set = None;
    // (argument index, path, error), sorted into argument order at the end: the set's broken
    // paths are found after the hosts'.
    let mut unread: Vec<(usize, Unread)> = Vec::new();
    for (i, (input, n)) in inputs.iter().zip(named).enumerate() {
        match (n, input) {
            (Ok(crate::inputs::Named::Host(file)), _) => hosts.push(file),
            (Ok(crate::inputs::Named::Units(path, text, reader)), _) => {
                units.push((path, text, reader))
            }
            (Ok(crate::inputs::Named::Set(reader)), Input::Path(p)) => {
                set_paths.push((i, p.clone(), reader))
            }
            (Ok(crate::inputs::Named::Set(reader)), Input::Text { name, text }) => {
                text_set = Some((i, name, text, reader))
            }
            (Err(error), _) if keep_going => unread.push((
                i,
                Unread {
                    path: input.path(),
                    error,
                },
            )),
            (Err(e), _) => return Err(e),
        }
    }
    let mut sets: Vec<(String, SysctlSet)> = Vec::new();
    let set_paths_given = !set_paths.is_empty();
    if !set_paths.is_empty() {
        let before = sources.len();
        let all: Vec<PathBuf> = set_paths.iter().map(|(_, p, _)| p.clone()).collect();
        let readers: Vec<_> = set_paths.iter().map(|&(_, _, r)| r).collect();
        match sysctl::load_known(&all, &readers, sources, forced) {
            Ok(set) => sets.push((set_name(&all), set)),
            Err(e) if !keep_going => return Err(e),
            Err(_) => {
                // The set's error names only its first broken path. Each path is tried alone
                // (on this failure path only, and without registering its files) to name every
                // broken one; the others are then read together, as they would have been.
                sources.truncate(before);
                let mut good = Vec::new();
                for (i, p, _) in set_paths {
                    match sysctl::load_as(std::slice::from_ref(&p), &mut SourceMap::new(), forced) {
                        Ok(_) => good.push(p),
                        Err(error) => unread.push((i, Unread { path: p, error })),
                    }
                }
                if !good.is_empty() {
                    let set = sysctl::load_as(&good, sources, forced)?;
                    sets.push((set_name(&good), set));
                }
            }
        }
    }
    if let Some((i, name, text, reader)) = text_set {
        let read = if set_paths_given {
            Err(Error::StdinInSet {
                path: PathBuf::from(name),
            })
        } else {
            sysctl::load_named_text(name, text.clone(), reader, sources, forced)
        };
        match read {
            Ok(set) => sets.push((name.clone(), set)),
            Err(error) if keep_going => unread.push((
                i,
                Unread {
                    path: PathBuf::from(name),
                    error,
                },
            )),
            Err(e) => return Err(e),
        }
    }
    for (path, text, reader) in units {
        let file = sources.add(path.clone(), text);
        sources.set_format(file, reader.name);
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
    unread.sort_by_key(|(i, _)| *i);
    Ok(PathsRead {
        sets,
        unread: unread.into_iter().map(|(_, u)| u).collect(),
    })
}

/// The name of the set the files and folders named together make: their paths, joined.
fn set_name(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_member_of_the_set_is_named_and_leaves_no_file_registered() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("a.conf");
        std::fs::write(&good, "net.ipv4.tcp_fin_timeout = 30\n").unwrap();
        let empty = dir.path().join("empty.d");
        std::fs::create_dir(&empty).unwrap();
        let missing = dir.path().join("missing.conf");
        let paths = [missing.clone(), good.clone(), empty.clone()];
        let mut sources = SourceMap::new();
        let read = read_sysctl_paths_partial(&paths, None, &mut sources).unwrap();
        let named: Vec<&PathBuf> = read.unread.iter().map(|u| &u.path).collect();
        assert_eq!(named, [&missing, &empty], "argument order");
        assert!(matches!(read.unread[1].error, Error::EmptyFolder { .. }));
        assert_eq!(read.sets.len(), 1);
        assert_eq!(read.sets[0].0, good.display().to_string());
        // Only the good file: the failed read of the whole set was forgotten.
        let files: Vec<&str> = sources.files().map(|(_, f)| f.path.as_str()).collect();
        assert_eq!(files, [good.display().to_string()]);
        // Strict reading, and a single path, stop at the error.
        assert!(read_sysctl_paths(&paths, &mut SourceMap::new()).is_err());
        assert!(read_sysctl_paths_partial(&paths[..1], None, &mut SourceMap::new()).is_err());
    }

    #[test]
    fn a_text_is_read_as_the_same_text_in_a_file_of_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let text = "net.ipv4.tcp_tw_recycle = 1\nnet.ipv4.tcp_fin_timeout = 30\n";
        let path = dir.path().join("99-x.conf");
        std::fs::write(&path, text).unwrap();
        let name = path.display().to_string();
        let mut by_path = SourceMap::new();
        let from_path = read_sysctl_paths(std::slice::from_ref(&path), &mut by_path).unwrap();
        let mut by_text = SourceMap::new();
        let inputs = [Input::Text {
            name: name.clone(),
            text: text.to_string(),
        }];
        let from_text = read_sysctl_inputs(&inputs, None, &mut by_text).unwrap();
        assert!(from_text.unread.is_empty());
        // The sets' key maps are hash maps, printed in no fixed order: their files and
        // diagnostics are compared (the maps are built from them).
        let stable = |sets: &[(String, crate::sysctl::SysctlSet)]| -> Vec<String> {
            sets.iter()
                .map(|(name, set)| format!("{name} {:?} {:?}", set.files, set.diagnostics))
                .collect()
        };
        assert_eq!(stable(&from_path), stable(&from_text.sets));
        let files = |m: &SourceMap| -> Vec<(String, String)> {
            m.files()
                .map(|(_, f)| (f.path.clone(), f.text.to_string()))
                .collect()
        };
        assert_eq!(files(&by_path), files(&by_text));
        // Beside another file of a set, it would have to join it: refused, named.
        let inputs = [Input::Path(path.clone()), inputs[0].clone()];
        let read = read_sysctl_inputs(&inputs, None, &mut SourceMap::new()).unwrap();
        assert_eq!(read.sets.len(), 1);
        assert!(matches!(read.unread[0].error, Error::StdinInSet { .. }));
    }
}
