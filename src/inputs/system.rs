//! The `sysctl --system` reader: what paths stand for (files, `sysctl.d` folders, root trees),
//! in the order procps and systemd-sysctl apply them.
//!
//! This module owns the file system side: which files a set of paths stands for, in which order
//! procps and systemd-sysctl apply them, masking, and refusing what cannot be read safely
//! (FIFOs, devices, huge files). Everything it reads is registered in the [`SourceMap`] and read
//! by the reader [`super::READERS`] chooses for it; which value wins is decided above, by
//! `crate::sysctl`, from the order given here.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::fs;
use std::path::{Component, Path, PathBuf};

use super::{reader_for, ParsedFile, Reader};
use crate::error::{Error, Result};
use crate::source::SourceMap;

/// Files larger than this (64 MiB) are refused before they are read, with the size in the
/// message. A file is read whole (its text is what every span points into) and its records take
/// about as much again, so this bounds what one file costs: the largest `sysctl -a` dump of a
/// host with a few thousand keys is a few hundred KiB. There is no limit on lines: TW006 and the other findings a
/// file can repeat on every line are built only up to what the report keeps, so a file's cost
/// grows with its size alone.
pub const MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// The drop-in folders of `sysctl --system` (procps-ng 4) in precedence order: for a file name
/// present in several, the first folder wins. systemd-sysctl uses the same list.
const SYSTEM_DIRS: [&str; 5] = [
    "etc/sysctl.d",
    "run/sysctl.d",
    "usr/local/lib/sysctl.d",
    "usr/lib/sysctl.d",
    "lib/sysctl.d",
];

/// How a file entered the set, which decides whether systemd-sysctl reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A `*.conf` from a folder: both tools read it.
    DropIn,
    /// A file whose name starts with `.` in a folder: procps reads it, systemd skips hidden files.
    HiddenDropIn,
    /// A file given by name: both tools read it when given it.
    Argument,
    /// A `sysctl.conf` outside any folder: procps applies it last, systemd does not read it.
    SysctlConf,
}

/// One file to read: where it really is, how to show it, and its role.
struct Entry {
    display: String,
    real: PathBuf,
    role: Role,
    /// Named on the command line, not found in a folder: refused when no reader recognises
    /// it, while a folder's `*.conf` is read as procps reads it.
    named: bool,
    /// What [`super::recognised`] gives its text, when known already.
    reader: Option<&'static Reader>,
    /// Named itself (on the command line or in a topology), not found in a folder: its file
    /// name may say its format ([`super::reader_by_name`]); a folder's `*.conf` is a sysctl file
    /// whatever its name.
    by_name: bool,
    /// Its text, when it was read from elsewhere than `real` (standard input).
    text: Option<String>,
}

/// The files of one set, read, in the order procps applies them.
#[derive(Debug, Clone)]
pub struct Applied {
    pub files: Vec<ParsedFile>,
    /// The indexes of the files systemd-sysctl reads, in its order, when that differs from
    /// procps' (`None`: both read `files` in the same order).
    pub systemd_order: Option<Vec<usize>>,
}

/// Reads the files and folders in `paths` as one set.
///
/// A folder contributes its `*.conf` files; the files of all folders are sorted by file name,
/// and a name found in an earlier folder (in argument order) masks the same name later, as does
/// a symlink to /dev/null. A folder that looks like a root file system (it has `etc/sysctl.d`,
/// `usr/lib/sysctl.d` or `etc/sysctl.conf`) is read as `sysctl --system` reads `/`. Files given
/// by name are applied after every folder, in argument order, as procps applies
/// `/etc/sysctl.conf` last. With a `jail`, any file whose real location, symlinks followed, is
/// outside it is refused before it is read: the files of a folder named by a topology must not
/// lead out of its tree.
///
/// Every named file is read as the reader [`super::READERS`] picks, sysctl.conf when none does
/// (a topology's `sysctl.files` are sysctl files by contract).
pub fn read(paths: &[PathBuf], sources: &mut SourceMap, jail: Option<&Path>) -> Result<Applied> {
    read_with(paths, &[], sources, jail, None, false)
}

/// [`read`], every file read by `forced` (`--input-format`) when given, instead of the reader
/// its content chooses.
///
/// A file named here (paths named on the command line) that no reader recognises is refused
/// ([`Error::Unrecognised`]), unless `forced`.
pub fn read_as(
    paths: &[PathBuf],
    sources: &mut SourceMap,
    jail: Option<&Path>,
    forced: Option<&'static Reader>,
) -> Result<Applied> {
    read_known(paths, &[], sources, jail, forced)
}

/// [`read_as`], with the reader of each named file already known where `readers` (one per
/// path, or none) says: what [`super::recognised`] gives its text, which is then not asked
/// again (see [`super::Named::Set`]).
pub fn read_known(
    paths: &[PathBuf],
    readers: &[Option<&'static Reader>],
    sources: &mut SourceMap,
    jail: Option<&Path>,
    forced: Option<&'static Reader>,
) -> Result<Applied> {
    read_with(paths, readers, sources, jail, forced, true)
}

/// [`read_as`], refusing a named file in no known format only when `refuse`.
fn read_with(
    paths: &[PathBuf],
    readers: &[Option<&'static Reader>],
    sources: &mut SourceMap,
    jail: Option<&Path>,
    forced: Option<&'static Reader>,
    refuse: bool,
) -> Result<Applied> {
    // (folder as displayed, folder on disk, root it lives in when read as a root file system)
    let mut dirs: Vec<(PathBuf, PathBuf, Option<PathBuf>)> = Vec::new();
    let mut tail: Vec<Entry> = Vec::new();
    for (k, path) in paths.iter().enumerate() {
        let meta = fs::metadata(path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            if looks_like_root(path) {
                for dir in SYSTEM_DIRS {
                    if let Some(real) = resolve_in_root(path, Path::new(dir)) {
                        dirs.push((path.join(dir), real, Some(path.clone())));
                    }
                }
                if let Some(real) = resolve_in_root(path, Path::new("etc/sysctl.conf")) {
                    if real.is_file() {
                        tail.push(Entry {
                            display: path.join("etc/sysctl.conf").display().to_string(),
                            real,
                            role: Role::SysctlConf,
                            named: false,
                            reader: None,
                            by_name: false,
                            text: None,
                        });
                    }
                }
            } else {
                dirs.push((path.clone(), path.clone(), None));
            }
        } else {
            let role = if path.file_name().is_some_and(|n| n == "sysctl.conf") {
                Role::SysctlConf
            } else {
                Role::Argument
            };
            tail.push(Entry {
                display: path.display().to_string(),
                real: path.clone(),
                role,
                named: refuse,
                reader: readers.get(k).copied().flatten(),
                by_name: true,
                text: None,
            });
        }
    }

    let (mut entries, has_conf) = drop_ins(&dirs)?;
    // A folder with nothing to read is almost always a wrong path; saying so beats judging an
    // empty set as "all defaults". A root tree counts as one folder.
    for path in paths {
        let mine =
            |(d, _, root): &(PathBuf, PathBuf, Option<PathBuf>)| root.as_ref().unwrap_or(d) == path;
        let is_folder = dirs.iter().any(mine);
        let found = dirs.iter().zip(&has_conf).any(|(d, &h)| h && mine(d))
            || tail
                .iter()
                .any(|e| e.display.starts_with(&path.display().to_string()));
        if is_folder && !found {
            return Err(Error::EmptyFolder { path: path.clone() });
        }
    }
    entries.extend(tail);
    read_all(entries, sources, jail, forced)
}

/// The `*.conf` files of the folders, masked and sorted by file name.
/// Also says, for each folder, whether it holds any `*.conf` name at all.
fn drop_ins(dirs: &[(PathBuf, PathBuf, Option<PathBuf>)]) -> Result<(Vec<Entry>, Vec<bool>)> {
    let mut has_conf = Vec::with_capacity(dirs.len());
    let mut seen: HashSet<OsString> = HashSet::new();
    let mut found: Vec<(OsString, Entry)> = Vec::new();
    for (shown, real_dir, root) in dirs {
        let listing = match fs::read_dir(real_dir) {
            Ok(listing) => listing,
            // A root file system need not have every folder of the list.
            Err(e) if root.is_some() && e.kind() == std::io::ErrorKind::NotFound => {
                has_conf.push(false);
                continue;
            }
            Err(source) => {
                return Err(Error::Read {
                    path: shown.clone(),
                    source,
                })
            }
        };
        let mut names = Vec::new();
        for entry in listing {
            let entry = entry.map_err(|source| Error::Read {
                path: shown.clone(),
                source,
            })?;
            let name = entry.file_name();
            // The suffix must be exactly ".conf" (case matters: `a.CONF` is not read).
            if name.as_encoded_bytes().ends_with(b".conf") {
                names.push(name);
            }
        }
        has_conf.push(!names.is_empty());
        // read_dir order is arbitrary; sort so masking and output do not depend on it.
        names.sort();
        for name in names {
            if !seen.insert(name.clone()) {
                continue; // masked by the same name in an earlier folder
            }
            let path = real_dir.join(&name);
            let real = match root {
                Some(root) => match resolve_in_root(root, &rel_to(root, &path)) {
                    Some(real) => real,
                    None => continue,
                },
                None => path,
            };
            if masks(&real) {
                continue;
            }
            let role = if name.as_encoded_bytes().starts_with(b".") {
                Role::HiddenDropIn
            } else {
                Role::DropIn
            };
            let display = shown.join(&name).display().to_string();
            found.push((
                name,
                Entry {
                    display,
                    real,
                    role,
                    named: false,
                    reader: None,
                    by_name: false,
                    text: None,
                },
            ));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((found.into_iter().map(|(_, e)| e).collect(), has_conf))
}

/// A drop-in that is a symlink to /dev/null masks the file of the same name in later folders.
fn masks(path: &Path) -> bool {
    fs::canonicalize(path).is_ok_and(|p| p == Path::new("/dev/null"))
}

/// Reads every entry once, applies procps' order, and derives systemd's.
fn read_all(
    entries: Vec<Entry>,
    sources: &mut SourceMap,
    jail: Option<&Path>,
    forced: Option<&'static Reader>,
) -> Result<Applied> {
    // The same file can appear twice: Debian links /etc/sysctl.d/99-sysctl.conf to
    // ../sysctl.conf, so procps applies it as a drop-in and again at the end. Applying a whole
    // file again later leaves the same end state as applying it only the last time, so procps'
    // order keeps the last occurrence; systemd reads it only where it appears as a drop-in.
    // Each file resolved once, for its identity and for the jail (`contain::check_real`, with
    // the jail resolved once for all of them).
    let real: Vec<Option<PathBuf>> = entries
        .iter()
        .map(|e| fs::canonicalize(&e.real).ok())
        .collect();
    let identity: Vec<&Path> = entries
        .iter()
        .zip(&real)
        .map(|(e, r)| r.as_deref().unwrap_or(&e.real))
        .collect();
    let real_jail = jail.and_then(|j| j.canonicalize().ok());
    let mut last: HashMap<&Path, usize> = HashMap::new();
    for (i, id) in identity.iter().enumerate() {
        last.insert(id, i);
    }
    let mut files = Vec::new();
    let mut index_of_entry: HashMap<usize, usize> = HashMap::new();
    // The files read for an entry before it (tuned profiles it includes).
    let mut extras: HashMap<usize, Vec<usize>> = HashMap::new();
    // Files registered so far by where they really are: a variables file an Ansible task file
    // links to and that is named too is registered once, so their findings are one.
    let mut registered: HashMap<PathBuf, crate::source::FileId> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        if last[identity[i]] != i {
            continue;
        }
        if let (Some(real_jail), Some(real)) = (&real_jail, &real[i]) {
            if let Err(crate::contain::Outside::Link(target)) =
                crate::contain::inside_real(real_jail, real)
            {
                return Err(Error::Outside {
                    path: PathBuf::from(&e.display),
                    target,
                });
            }
        }
        let text = match &e.text {
            Some(t) => t.clone(),
            None => read_source(&e.real, &e.display)?,
        };
        let by_name = e
            .by_name
            .then(|| super::reader_by_name(Path::new(&e.display)))
            .flatten();
        let chosen = forced.or(by_name);
        // Recognised only when neither the flag nor the name decides.
        let recognised = match chosen {
            Some(_) => None,
            None => e.reader.or_else(|| super::recognised(&text)),
        };
        let reader = match (chosen, recognised) {
            (Some(r), _) | (None, Some(r)) => r,
            (None, None) if e.named => {
                let at = super::conf::is_sysctl_conf(&text).err().unwrap_or(0);
                return Err(unrecognised(&e.display, &text, at));
            }
            // A folder's `*.conf` is applied by procps whatever it holds.
            (None, None) => reader_for(&text),
        };
        // A file of several units (pod templates, services) is no part of a set: each unit is
        // a node of its own, which only a file named on its own can say.
        if reader.units.is_some() {
            return Err(Error::Units {
                path: PathBuf::from(&e.display),
                format: reader.name,
            });
        }
        if reader.name == "tuned" {
            // tuned applies included profiles first, so the including profile wins: those
            // found beside it are read, and applied, before it.
            let mut found = Vec::new();
            let mut extra = Vec::new();
            let mut seen: Vec<PathBuf> = identity.iter().map(|p| p.to_path_buf()).collect();
            include_beside(
                &e.real, &text, sources, &mut found, &mut extra, &mut seen, 0,
            )?;
            let first = files.len();
            files.extend(extra);
            extras.insert(i, (first..files.len()).collect::<Vec<_>>());
            let id = sources.add(e.display.clone(), text);
            sources.set_format(id, reader.name);
            let parsed = super::tuned::read(id, &sources.get(id).text, &found);
            // tuned merges a profile and its includes into one set of options before it
            // writes any: a key the including profile sets is never written with the included
            // value, so that value is no assignment (and no duplicate) at all.
            let mut later: std::collections::HashSet<String> = parsed
                .assignments
                .iter()
                .map(|a| a.key().to_string())
                .collect();
            for f in files[first..].iter_mut().rev() {
                f.assignments.retain(|a| !later.contains(a.key()));
                later.extend(f.assignments.iter().map(|a| a.key().to_string()));
            }
            index_of_entry.insert(i, files.len());
            files.push(parsed);
            continue;
        }
        if reader.name == "ansible" && e.text.is_none() {
            // Ansible reads a task file's variables from files its layout names (a role's
            // defaults and vars, group_vars and host_vars beside the playbook).
            let (linked, unread) = ansible_vars(&e.real, &text, jail, sources, &mut registered);
            let id = register(sources, &mut registered, identity[i], &e.display, text);
            sources.set_format(id, reader.name);
            let outer: Vec<super::ansible::LinkedVars<'_>> = linked
                .iter()
                .map(|(read, place)| super::ansible::LinkedVars {
                    read: match read {
                        Ok(file) => {
                            super::ansible::LinkedText::Read(*file, &sources.get(*file).text)
                        }
                        Err(why) => super::ansible::LinkedText::Unread(why),
                    },
                    place: *place,
                })
                .collect();
            let parsed = super::ansible::read_linked(id, &sources.get(id).text, &outer, unread);
            index_of_entry.insert(i, files.len());
            files.push(parsed);
            continue;
        }
        let id = register(sources, &mut registered, identity[i], &e.display, text);
        sources.set_format(id, reader.name);
        // A named file given the sysctl reader unconfirmed (see `super::Named::Set`) is
        // recognised as it is read.
        let confirm = chosen.is_none()
            && e.named
            && e.reader
                .is_some_and(|r| std::ptr::eq(r, &super::conf::READER));
        let text = &sources.get(id).text;
        let mut parsed = if confirm {
            super::conf::parse_recognised(id, text, reader.kind)
                .map_err(|at| unrecognised(&e.display, text, at))?
        } else {
            (reader.read)(id, text)
        };
        // A sysctl file, or a listing in a file procps applies (a drop-in, a sysctl.conf, a
        // `.conf` named), is applied line by line, read-only keys included.
        let applied = !matches!(e.role, Role::Argument) || e.display.ends_with(".conf");
        if (reader.kind.is_printed() && applied) || reader.kind == super::SourceKind::File {
            parsed
                .diagnostics
                .extend(super::dump::read_only_written(&parsed));
        }
        index_of_entry.insert(i, files.len());
        files.push(parsed);
    }
    drop_linked_duplicates(&mut files);
    let mut systemd: Vec<usize> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if matches!(e.role, Role::DropIn | Role::Argument) {
            let at = last[identity[i]];
            let f = index_of_entry[&at];
            for &x in extras.get(&at).into_iter().flatten().chain([&f]) {
                systemd.retain(|&y| y != x);
                systemd.push(x);
            }
        }
    }
    let same = systemd.len() == files.len() && systemd.iter().enumerate().all(|(i, &f)| i == f);
    Ok(Applied {
        files,
        systemd_order: (!same).then_some(systemd),
    })
}

/// The refusal of a file named `display` that no reader recognises; `at` is the byte offset of
/// its first line that is not an assignment.
fn unrecognised(display: &str, text: &str, at: usize) -> Error {
    let line = 1 + text.as_bytes()[..at]
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    Error::Unrecognised {
        path: PathBuf::from(display),
        line,
        formats: super::format_names().collect::<Vec<_>>().join(", "),
    }
}

/// Reads the profiles a tuned profile at `real` includes that sit beside it
/// (`../NAME/tuned.conf`), theirs first, into `files` in the order tuned applies them; `found`
/// gets the names read. `seen` stops a file read twice or a loop of includes.
fn include_beside(
    real: &Path,
    text: &str,
    sources: &mut SourceMap,
    found: &mut Vec<String>,
    files: &mut Vec<ParsedFile>,
    seen: &mut Vec<PathBuf>,
    depth: usize,
) -> Result<()> {
    let Some(profiles) = real.parent().and_then(Path::parent) else {
        return Ok(());
    };
    for name in super::tuned::includes(text) {
        if depth > 8 || name.contains(['/', '$']) || name == ".." {
            continue;
        }
        let path = profiles.join(&name).join("tuned.conf");
        let Ok(id) = fs::canonicalize(&path) else {
            continue;
        };
        found.push(name);
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        let inner = read_source(&path, &path.display().to_string())?;
        let mut inner_found = Vec::new();
        include_beside(
            &path,
            &inner,
            sources,
            &mut inner_found,
            files,
            seen,
            depth + 1,
        )?;
        let file = sources.add(path.display().to_string(), inner);
        sources.set_format(file, "tuned");
        files.push(super::tuned::read(
            file,
            &sources.get(file).text,
            &inner_found,
        ));
    }
    Ok(())
}

/// Registers a file read as `display`, or finds it registered already under its real location
/// `identity` (read as a linked variables file first).
fn register(
    sources: &mut SourceMap,
    registered: &mut HashMap<PathBuf, crate::source::FileId>,
    identity: &Path,
    display: &str,
    text: String,
) -> crate::source::FileId {
    if let Some(&id) = registered.get(identity) {
        return id;
    }
    let id = sources.add(display.to_string(), text);
    registered.insert(identity.to_path_buf(), id);
    id
}

/// A linked variables file, registered, or why it was not read (see
/// [`super::ansible::LinkedText`]).
type LinkedFile = std::result::Result<crate::source::FileId, String>;

/// The variables files Ansible reads for the task file at `real` (see
/// [`super::ansible::linked_places`]), read and registered, in a stable order (folders' entries
/// sorted by name), and whether some file among them exists but was not read. A file is read
/// only when its real location, symlinks followed, is inside its role's or playbook's folder
/// (and inside `jail`), within the limits of any file; one that is not (a link leading out, a
/// file too large, not text) is not read, and then no variable is taken from the linked files
/// at all, since that file might define it. A play's `vars_files:` entry that is missing or not
/// read is listed in its place with why: it leaves unknown only what its play does not define
/// later in the precedence.
fn ansible_vars(
    real: &Path,
    text: &str,
    jail: Option<&Path>,
    sources: &mut SourceMap,
    registered: &mut HashMap<PathBuf, crate::source::FileId>,
) -> (Vec<(LinkedFile, super::ansible::VarsPlace)>, bool) {
    use super::ansible::{folder_entry_place, linked_places, VarsPlace};
    let places = linked_places(real, text);
    let mut out = Vec::new();
    // The play's files in their order (a later one beats an earlier one, and one not known
    // may define what those before it do), then the others.
    let mut candidates: Vec<(PathBuf, std::result::Result<PathBuf, String>, VarsPlace)> = places
        .play_files
        .into_iter()
        .map(|(base, entry, play)| (base, entry, VarsPlace::PlayFile(play)))
        .collect();
    candidates.extend(
        places
            .files
            .into_iter()
            .map(|(b, p, place)| (b, Ok(p), place)),
    );
    let sorted = |dir: &Path| -> Vec<(String, PathBuf, bool)> {
        let mut v: Vec<(String, PathBuf, bool)> = fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_string();
                let path = e.path();
                let is_dir = path.is_dir();
                Some((name, path, is_dir))
            })
            .collect();
        v.sort();
        v
    };
    for (base, dir, hosts) in places.folders {
        for (name, path, is_dir) in sorted(&dir) {
            let Some(place) = folder_entry_place(hosts, &name, is_dir) else {
                continue;
            };
            if is_dir {
                for (inner, p, d) in sorted(&path) {
                    if !d && folder_entry_place(hosts, &inner, false).is_some() {
                        candidates.push((base.clone(), Ok(p), place));
                    }
                }
            } else {
                candidates.push((base.clone(), Ok(path), place));
            }
        }
    }
    let mut unread = false;
    for (base, entry, place) in candidates {
        let path = match entry {
            Ok(path) => path,
            Err(why) => {
                out.push((Err(why), place));
                continue;
            }
        };
        let play_file = matches!(place, VarsPlace::PlayFile(_));
        if fs::symlink_metadata(&path).is_err() {
            if play_file {
                // Ansible stops the play on a missing `vars_files:` entry; the host it runs on
                // may have it, so its variables are unknown here.
                out.push((
                    Err(format!(
                        "the play's vars_files entry {} is not found",
                        path.display()
                    )),
                    place,
                ));
            }
            continue;
        }
        let inside = crate::contain::check_real(&base, &path).is_ok()
            && jail.is_none_or(|j| crate::contain::check_real(j, &path).is_ok());
        let identity = fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if let Some(&id) = registered.get(&identity) {
            out.push((Ok(id), place));
            continue;
        }
        match inside.then(|| read_source(&path, &path.display().to_string())) {
            Some(Ok(text)) => {
                let id = sources.add(path.display().to_string(), text);
                // An Ansible variables file: `crate::fix` edits it as YAML of that format.
                sources.set_format(id, "ansible");
                registered.insert(identity, id);
                out.push((Ok(id), place));
            }
            _ if play_file => out.push((
                Err(if inside {
                    format!("the play's vars_files entry {} cannot be read", path.display())
                } else {
                    format!(
                        "the play's vars_files entry {} leads outside the playbook's folder, so twlint does not read it",
                        path.display()
                    )
                }),
                place,
            )),
            _ => unread = true,
        }
    }
    (out, unread)
}

/// Drops the values a named variables file gives on its own that a task file linked to it
/// applies too (the same key and value at the same places): the task's assignment, which names
/// the task, is the one kept.
fn drop_linked_duplicates(files: &mut [ParsedFile]) {
    let linked: HashSet<(crate::source::Span, crate::source::Span)> = files
        .iter()
        .flat_map(|f| &f.assignments)
        .filter(|a| a.via().is_some())
        .map(|a| (a.key_span(), a.value_span()))
        .collect();
    if linked.is_empty() {
        return;
    }
    for f in files {
        f.assignments
            .retain(|a| a.via().is_some() || !linked.contains(&(a.key_span(), a.value_span())));
    }
}

/// Reads one file as text, refusing what is not a regular file or is too large.
fn read_source(path: &Path, display: &str) -> Result<String> {
    read_sysctl_text(path, Path::new(display))
}

/// A text named `name` read as one named file alone, as [`read_known`] reads a single path (the
/// same reader choice, refusals and diagnostics): standard input, read by the caller. `reader`
/// is what [`super::recognised`] gives the text, when known already.
pub fn read_named_text(
    name: &str,
    text: String,
    reader: Option<&'static Reader>,
    sources: &mut SourceMap,
    forced: Option<&'static Reader>,
) -> Result<Applied> {
    let real = PathBuf::from(name);
    let role = if real.file_name().is_some_and(|n| n == "sysctl.conf") {
        Role::SysctlConf
    } else {
        Role::Argument
    };
    let entry = Entry {
        display: name.to_string(),
        real,
        role,
        named: true,
        reader,
        by_name: true,
        text: Some(text),
    };
    read_all(vec![entry], sources, None, forced)
}

/// Bytes read by the caller (standard input) as a sysctl text named `shown`, within the limits
/// of a file ([`MAX_FILE_SIZE`]); the caller reads at most `MAX_FILE_SIZE + 1`.
pub fn sysctl_text_from_bytes(bytes: Vec<u8>, shown: &Path) -> Result<String> {
    crate::read::text_from_bytes(bytes, shown, MAX_FILE_SIZE)
}

/// Reads a sysctl file or dump within the size limit, naming it `shown` in errors.
/// [`read_sysctl_text`] into a reused buffer: the text borrows `buf` when it is valid UTF-8.
pub fn read_sysctl_bytes<'b>(
    path: &Path,
    buf: &'b mut Vec<u8>,
) -> Result<std::borrow::Cow<'b, str>> {
    let n = crate::read::read_bytes_into(path, path, MAX_FILE_SIZE, buf)?;
    let bytes = &buf[..n];
    // The tools work on bytes; invalid UTF-8 becomes U+FFFD so spans stay on character bounds.
    // (`from_utf8_lossy` alone walks valid text much more slowly than `from_utf8`.)
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    };
    Ok(text)
}

pub fn read_sysctl_text(path: &Path, shown: &Path) -> Result<String> {
    crate::read::read_text_as(path, shown, MAX_FILE_SIZE)
}

fn looks_like_root(dir: &Path) -> bool {
    dir.join("etc/sysctl.d").is_dir()
        || dir.join("usr/lib/sysctl.d").is_dir()
        || dir.join("etc/sysctl.conf").is_file()
}

fn rel_to(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

/// The real location of `rel` inside the root file system at `root`, following symlinks as if
/// `root` were `/`: an absolute link target (`/usr/lib`, common in images) must not lead to the
/// host's own files. /dev/null is kept as is, because a link to it masks a file. `None` when a
/// link loop or a `..` above the root makes the path meaningless.
fn resolve_in_root(root: &Path, rel: &Path) -> Option<PathBuf> {
    let mut pending: Vec<OsString> = Vec::new();
    push_components(&mut pending, rel);
    pending.reverse();
    let mut current = root.to_path_buf();
    let mut depth = 0usize; // components below root, so ".." cannot climb out
    let mut hops = 0;
    while let Some(part) = pending.pop() {
        if part == ".." {
            if depth == 0 {
                return None;
            }
            current.pop();
            depth -= 1;
            continue;
        }
        let next = current.join(&part);
        match fs::read_link(&next) {
            Ok(target) if target == Path::new("/dev/null") && pending.is_empty() => {
                return Some(target);
            }
            Ok(target) => {
                hops += 1;
                if hops > 40 {
                    return None;
                }
                let mut more = Vec::new();
                if target.is_absolute() {
                    current = root.to_path_buf();
                    depth = 0;
                }
                push_components(&mut more, &target);
                pending.extend(more.into_iter().rev());
            }
            Err(_) => {
                current = next;
                depth += 1;
            }
        }
    }
    Some(current)
}

fn push_components(out: &mut Vec<OsString>, path: &Path) {
    for c in path.components() {
        match c {
            Component::Normal(s) => out.push(s.to_os_string()),
            Component::ParentDir => out.push(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
}
