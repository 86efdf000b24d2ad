//! Finding, ordering and reading sysctl files on disk, as `sysctl --system` does.
//!
//! This module owns the file system side: which files a set of paths stands for, in which order
//! procps and systemd-sysctl apply them, masking, and refusing what cannot be read safely
//! (FIFOs, devices, huge files). Everything it reads is registered in the [`SourceMap`] and
//! handed to `parse` and `resolve`.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::fs;
use std::path::{Component, Path, PathBuf};

use super::{parse_text, resolve, SysctlSet};
use crate::error::{Error, Result};
use crate::source::SourceMap;

/// Files larger than this are refused: no sysctl file comes near it, and reading it whole could
/// exhaust memory.
pub const MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// Files with more lines than this are refused before they are parsed: the largest `sysctl -a`
/// dump of a busy host has a few thousand lines (one block of keys per interface), and a file of
/// a million assignments is an attack on the linter, not a configuration.
pub const MAX_LINES: usize = 100_000;

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
}

/// Reads the files and folders in `paths` and resolves them as one set.
///
/// A folder contributes its `*.conf` files; the files of all folders are sorted by file name,
/// and a name found in an earlier folder (in argument order) masks the same name later, as does
/// a symlink to /dev/null. A folder that looks like a root file system (it has `etc/sysctl.d`,
/// `usr/lib/sysctl.d` or `etc/sysctl.conf`) is read as `sysctl --system` reads `/`. Files given
/// by name are applied after every folder, in argument order, as procps applies
/// `/etc/sysctl.conf` last.
pub fn load(paths: &[PathBuf], sources: &mut SourceMap) -> Result<SysctlSet> {
    load_within(paths, sources, None)
}

/// Like [`load`], refusing (before reading) any file whose real location, symlinks followed, is
/// outside `jail`: the files of a folder named by a topology must not lead out of its tree.
pub fn load_within(
    paths: &[PathBuf],
    sources: &mut SourceMap,
    jail: Option<&Path>,
) -> Result<SysctlSet> {
    // (folder as displayed, folder on disk, root it lives in when read as a root file system)
    let mut dirs: Vec<(PathBuf, PathBuf, Option<PathBuf>)> = Vec::new();
    let mut tail: Vec<Entry> = Vec::new();
    for path in paths {
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
    read_all(entries, sources, jail)
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
) -> Result<SysctlSet> {
    // The same file can appear twice: Debian links /etc/sysctl.d/99-sysctl.conf to
    // ../sysctl.conf, so procps applies it as a drop-in and again at the end. Applying a whole
    // file again later leaves the same end state as applying it only the last time, so procps'
    // order keeps the last occurrence; systemd reads it only where it appears as a drop-in.
    let identity: Vec<PathBuf> = entries
        .iter()
        .map(|e| fs::canonicalize(&e.real).unwrap_or_else(|_| e.real.clone()))
        .collect();
    let mut last: HashMap<&Path, usize> = HashMap::new();
    for (i, id) in identity.iter().enumerate() {
        last.insert(id.as_path(), i);
    }
    let mut files = Vec::new();
    let mut index_of_entry: HashMap<usize, usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        if last[identity[i].as_path()] != i {
            continue;
        }
        if let Some(jail) = jail {
            if let Err(crate::contain::Outside::Link(target)) =
                crate::contain::check_real(jail, &e.real)
            {
                return Err(Error::Outside {
                    path: PathBuf::from(&e.display),
                    target,
                });
            }
        }
        let text = read_source(&e.real, &e.display)?;
        let id = sources.add(e.display.clone(), text);
        let parsed = parse_text(id, &sources.get(id).text);
        index_of_entry.insert(i, files.len());
        files.push(parsed);
    }
    let mut systemd: Vec<usize> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if matches!(e.role, Role::DropIn | Role::Argument) {
            let f = index_of_entry[&last[identity[i].as_path()]];
            systemd.retain(|&x| x != f);
            systemd.push(f);
        }
    }
    let same = systemd.len() == files.len() && systemd.iter().enumerate().all(|(i, &f)| i == f);
    Ok(resolve::resolve(files, (!same).then_some(systemd)))
}

/// Reads one file as text, refusing what is not a regular file or is too large.
fn read_source(path: &Path, display: &str) -> Result<String> {
    read_sysctl_text(path, Path::new(display))
}

/// Reads a sysctl file or dump within the size and line limits, naming it `shown` in errors.
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
    crate::read::check_lines(&text, path, MAX_LINES)?;
    Ok(text)
}

pub fn read_sysctl_text(path: &Path, shown: &Path) -> Result<String> {
    let text = crate::read::read_text_as(path, shown, MAX_FILE_SIZE)?;
    crate::read::check_lines(&text, shown, MAX_LINES)?;
    Ok(text)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// (display path, key) of every assignment, in application order.
    fn applied(set: &SysctlSet, sources: &SourceMap) -> Vec<(String, String)> {
        set.files
            .iter()
            .flat_map(|f| {
                let path = sources.get(f.file).path.clone();
                f.assignments
                    .iter()
                    .map(move |a| (path.clone(), format!("{}={}", a.key.value, a.value.value)))
            })
            .collect()
    }

    fn names(set: &SysctlSet, sources: &SourceMap) -> Vec<String> {
        set.files
            .iter()
            .map(|f| {
                let p = &sources.get(f.file).path;
                Path::new(p)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }

    #[test]
    fn folders_give_conf_files_sorted_across_folders_with_masking() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        write(&a.join("20-x.conf"), "net.ipv4.tcp_fin_timeout = 22\n");
        write(&a.join("notes.txt"), "garbage\n");
        write(&a.join("30-y.conf.bak"), "garbage\n");
        write(&a.join("40-z.CONF"), "garbage\n");
        write(&b.join("10-w.conf"), "net.ipv4.tcp_fin_timeout = 11\n");
        write(&b.join("20-x.conf"), "net.ipv4.tcp_fin_timeout = 99\n");
        write(&b.join("50-v.conf"), "net.ipv4.tcp_fin_timeout = 55\n");
        symlink("/dev/null", a.join("50-v.conf")).unwrap();
        let extra = tmp.path().join("extra.conf");
        write(&extra, "net.ipv4.tcp_tw_reuse = 1\n");
        let mut sources = SourceMap::new();
        let set = load(&[extra.clone(), a.clone(), b.clone()], &mut sources).unwrap();
        assert_eq!(
            names(&set, &sources),
            ["10-w.conf", "20-x.conf", "extra.conf"]
        );
        assert!(sources.get(set.files[1].file).path.ends_with("a/20-x.conf"));
        let s = set.get("net.ipv4.tcp_fin_timeout").unwrap();
        assert_eq!(s.value.value, "22");
        assert_eq!(applied(&set, &sources).len(), 3);
        // The two drop-ins set the key twice across files.
        let d: Vec<_> = set
            .diagnostics
            .iter()
            .filter(|d| d.code == "TW006")
            .collect();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].primary.as_ref().unwrap().span.file, set.files[0].file);
        assert_eq!(d[0].secondary[0].span.file, set.files[1].file);
    }

    #[test]
    fn a_root_folder_is_read_like_sysctl_system() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(
            &root.join("usr/lib/sysctl.d/10-a.conf"),
            "net.ipv4.tcp_fin_timeout = 11\n",
        );
        write(
            &root.join("etc/sysctl.d/10-a.conf"),
            "net.ipv4.tcp_fin_timeout = 22\nnet.ipv4.tcp_tw_reuse = 0\n",
        );
        write(
            &root.join("usr/lib/sysctl.d/20-b.conf"),
            "net.ipv4.tcp_fin_timeout = 33\n",
        );
        write(
            &root.join("usr/lib/sysctl.d/30-c.conf"),
            "net.ipv4.tcp_tw_reuse = 1\n",
        );
        fs::create_dir_all(root.join("run/sysctl.d")).unwrap();
        symlink("/dev/null", root.join("run/sysctl.d/30-c.conf")).unwrap();
        write(
            &root.join("etc/sysctl.conf"),
            "net.ipv4.tcp_fin_timeout = 44\n",
        );
        // An absolute link inside the image must not lead to the host's /usr/lib/sysctl.d.
        symlink("/usr/lib", root.join("lib")).unwrap();
        let mut sources = SourceMap::new();
        let set = load(&[root.to_path_buf()], &mut sources).unwrap();
        assert_eq!(
            names(&set, &sources),
            ["10-a.conf", "20-b.conf", "sysctl.conf"]
        );
        // Same end state as `sysctl --system` on procps-ng 4.0.2 for this tree.
        assert_eq!(
            set.get("net.ipv4.tcp_fin_timeout").unwrap().value.value,
            "44"
        );
        assert_eq!(set.get("net.ipv4.tcp_tw_reuse").unwrap().value.value, "0");
        // systemd-sysctl, which does not read etc/sysctl.conf here, ends at 33.
        let d: Vec<_> = set
            .diagnostics
            .iter()
            .filter(|d| d.code == "TW010")
            .collect();
        assert_eq!(d.len(), 1, "{:?}", set.diagnostics);
        assert_eq!(d[0].key.as_deref(), Some("net.ipv4.tcp_fin_timeout"));
        assert_eq!(d[0].primary.as_ref().unwrap().span.file, set.files[2].file);
        assert_eq!(d[0].secondary[0].span.file, set.files[1].file);
        assert_eq!(
            sources.slice(d[0].secondary[0].span),
            "net.ipv4.tcp_fin_timeout = 33"
        );
    }

    #[test]
    fn debian_link_to_sysctl_conf_is_read_once_and_agrees_with_systemd() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(
            &root.join("etc/sysctl.d/10-a.conf"),
            "net.ipv4.tcp_fin_timeout = 22\n",
        );
        write(
            &root.join("etc/sysctl.conf"),
            "net.ipv4.tcp_fin_timeout = 44\nvm.swappiness = 5\n",
        );
        symlink("../sysctl.conf", root.join("etc/sysctl.d/99-sysctl.conf")).unwrap();
        let mut sources = SourceMap::new();
        let set = load(&[root.to_path_buf()], &mut sources).unwrap();
        assert_eq!(names(&set, &sources), ["10-a.conf", "sysctl.conf"]);
        assert_eq!(
            set.get("net.ipv4.tcp_fin_timeout").unwrap().value.value,
            "44"
        );
        assert!(
            set.diagnostics.iter().all(|d| d.code == "TW006"),
            "{:?}",
            set.diagnostics
        );
        assert_eq!(set.diagnostics.len(), 1);

        // A drop-in after the link: systemd ends with it, procps with sysctl.conf.
        write(
            &root.join("etc/sysctl.d/99-zz.conf"),
            "net.ipv4.tcp_fin_timeout = 66\n",
        );
        let mut sources = SourceMap::new();
        let set = load(&[root.to_path_buf()], &mut sources).unwrap();
        let d: Vec<_> = set
            .diagnostics
            .iter()
            .filter(|d| d.code == "TW010")
            .collect();
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("`44` and `66`"), "{}", d[0].message);
    }

    #[test]
    fn explicit_sysctl_conf_after_a_folder_diverges_from_systemd() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("sysctl.d");
        write(
            &dir.join("50-a.conf"),
            "net.ipv4.tcp_tw_reuse = 2\nvm.swappiness = 1\n",
        );
        let conf = tmp.path().join("sysctl.conf");
        write(&conf, "net.ipv4.tcp_tw_reuse = 1\nvm.swappiness = 1\n");
        let mut sources = SourceMap::new();
        let set = load(&[conf, dir], &mut sources).unwrap();
        assert_eq!(names(&set, &sources), ["50-a.conf", "sysctl.conf"]);
        let d: Vec<_> = set
            .diagnostics
            .iter()
            .filter(|d| d.code == "TW010")
            .collect();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].key.as_deref(), Some("net.ipv4.tcp_tw_reuse"));
    }

    #[test]
    fn special_missing_and_huge_files_are_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let mut sources = SourceMap::new();
        let missing = tmp.path().join("nope.conf");
        assert!(matches!(
            load(&[missing], &mut sources),
            Err(Error::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound
        ));
        assert!(matches!(
            load(&[PathBuf::from("/dev/zero")], &mut sources),
            Err(Error::NotReadable { .. })
        ));
        let fifo = tmp.path().join("fifo.conf");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Inside a folder too: it must be refused, not opened (which would block).
        assert!(matches!(
            load(&[tmp.path().to_path_buf()], &mut sources),
            Err(Error::NotReadable { .. })
        ));
        let big = tmp.path().join("big");
        fs::File::create(&big)
            .unwrap()
            .set_len(MAX_FILE_SIZE + 1)
            .unwrap();
        assert!(matches!(
            load(&[big], &mut sources),
            Err(Error::TooLarge { limit, .. }) if limit == MAX_FILE_SIZE
        ));
    }

    #[test]
    fn invalid_utf8_is_read_lossily() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.conf");
        fs::write(
            &path,
            b"net.ipv4.tcp_fin_timeout = 44\n\xff\xfe = 1\nnet.ipv4.tcp_tw_reuse = 0",
        )
        .unwrap();
        let mut sources = SourceMap::new();
        let set = load(&[path], &mut sources).unwrap();
        let keys: Vec<_> = set.files[0]
            .assignments
            .iter()
            .map(|a| a.key.value.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "net.ipv4.tcp_fin_timeout",
                "\u{fffd}\u{fffd}",
                "net.ipv4.tcp_tw_reuse"
            ]
        );
        assert_eq!(
            sources.location(set.files[0].assignments[2].key.span).line,
            3
        );
    }

    /// Every real-world file of the shared corpus parses without a panic, and every span points
    /// at the text it claims. Run with `cargo test -- --ignored corpus`.
    #[test]
    #[ignore = "needs ../shared/corpus/real"]
    fn corpus_parses_and_spans_hold() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/real");
        let Ok(listing) = fs::read_dir(&dir) else {
            return;
        };
        let mut files = 0;
        for entry in listing {
            let path = entry.unwrap().path();
            let mut sources = SourceMap::new();
            let set = load(std::slice::from_ref(&path), &mut sources).unwrap();
            files += 1;
            for f in &set.files {
                for a in &f.assignments {
                    let key = sources.slice(a.key.span);
                    assert_eq!(crate::sysctl::normalize_key(key), a.key.value, "{path:?}");
                    assert_eq!(sources.slice(a.value.span), a.value.value, "{path:?}");
                    assert!(a.line.start <= a.key.span.start && a.value.span.end <= a.line.end);
                }
            }
            for d in &set.diagnostics {
                let first = d.message.chars().next().unwrap();
                assert!(
                    !first.is_uppercase() && !d.message.ends_with('.'),
                    "{}",
                    d.message
                );
            }
        }
        assert!(files > 0);
    }

    /// A million lines parse and resolve in well under a second in release mode (about 0.5 s on
    /// the development machine). Run with `cargo test --release -- --ignored million`.
    #[test]
    #[ignore = "timing; meaningful in release mode only"]
    fn a_million_lines_parse_in_linear_time() {
        let mut text = String::with_capacity(40 << 20);
        for i in 0..1_000_000 {
            match i % 4 {
                0 => text.push_str("# a comment line\n"),
                1 => text.push_str(&format!("net.ipv4.conf.if{i}.rp_filter = {}\n", i % 3)),
                2 => text.push_str(&format!("net.ipv4.neigh.if{i}.gc_stale_time = 60\n")),
                _ => text.push_str(&format!("net.ipv4.conf.*.k{i} = 4096\t{i} 6291456\n")),
            }
        }
        let start = std::time::Instant::now();
        let mut sources = SourceMap::new();
        let set = crate::sysctl::load_text("big.conf", &text, &mut sources);
        let elapsed = start.elapsed();
        assert_eq!(set.files[0].assignments.len(), 750_000);
        assert_eq!(set.explicit().count(), 500_000);
        assert!(elapsed.as_millis() < 1000, "{elapsed:?}");
    }
}
