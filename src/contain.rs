//! Containment: keeping what an input makes twlint read inside the input's own folder, and what
//! twlint writes inside the folder it was told to write.
//!
//! twlint runs in CI on topologies and captures from pull requests and tickets. A topology names
//! its nodes' sysctl files, a capture (`--root`) holds files twlint reads by name, and
//! diagnostics quote the lines of the files they are about, so `files: [/etc/shadow]`,
//! `../../secrets.conf` or a link pointing out of the checkout would make twlint print a file of
//! the CI machine. This module decides whether a path stays inside a base folder: first as
//! written (an absolute path or `..` that leaves the folder), then, for paths that exist, after
//! following every symlink. Nothing outside is opened to decide it (only `canonicalize`, which
//! reads link targets and directory entries, never file contents).
//!
//! Writes (`advise --out`, `snapshot --out`) go through [`write_inside`]: a folder that was
//! prepared with a link in it must not make twlint overwrite a file elsewhere.

use std::path::{Component, Path, PathBuf};

/// Why a path is outside the base folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outside {
    /// As written, the path leaves the folder (absolute elsewhere, or `..` above it).
    Written,
    /// The path is inside as written, but symlinks lead to this real location outside.
    Link(PathBuf),
}

/// The lexical form of `path`: `.` dropped and `..` applied without looking at the disk.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Checks that `path` (relative paths are taken from `base`) stays inside `base`.
pub fn check(base: &Path, path: &Path) -> Result<(), Outside> {
    let joined = base.join(path);
    // Compare absolute forms so a relative base (`.`) works too.
    let abs = |p: &Path| match std::env::current_dir() {
        Ok(cwd) if p.is_relative() => lexical(&cwd.join(p)),
        _ => lexical(p),
    };
    if !abs(&joined).starts_with(abs(base)) {
        return Err(Outside::Written);
    }
    match (joined.canonicalize(), base.canonicalize()) {
        (Ok(real), Ok(real_base)) if !real.starts_with(&real_base) => Err(Outside::Link(real)),
        // A path that does not exist is reported elsewhere (TW060); one that cannot be resolved
        // (a link loop) fails when it is read, with its own error.
        _ => Ok(()),
    }
}

/// Checks that an existing `path` (as the process sees it) really lies inside `base` once every
/// symlink is followed. Paths that cannot be resolved pass here and fail when they are read.
pub fn check_real(base: &Path, path: &Path) -> Result<(), Outside> {
    match (path.canonicalize(), base.canonicalize()) {
        (Ok(real), Ok(real_base)) => inside_real(&real_base, &real),
        _ => Ok(()),
    }
}

/// [`check_real`] for a path and base already resolved (both `canonicalize`d), for a caller
/// that resolves many paths against one base or needs the real path anyway.
pub fn inside_real(real_base: &Path, real: &Path) -> Result<(), Outside> {
    if real.starts_with(real_base) {
        Ok(())
    } else {
        Err(Outside::Link(real.to_path_buf()))
    }
}

/// Writes `bytes` to `path`, a file in the folder `dir`, without ever writing outside `dir`.
///
/// Refused (an error of kind `PermissionDenied` that names the link) when a symlink on the way,
/// the file itself included, leads out of `dir`. Missing folders between `dir` and the file are
/// created one at a time, each checked first, so a link among them cannot make twlint create
/// folders elsewhere. Then the bytes go to a new temporary file
/// next to `path`, created exclusively (so it cannot be a link planted in advance), which is
/// then renamed over `path`: a link inside the folder is replaced, not followed, and a reader
/// never sees half a file.
pub fn write_inside(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let outside = |link: &Path, target: &Path| {
        std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "{} leads to {}, outside {}; twlint does not write through it",
                link.display(),
                target.display(),
                dir.display()
            ),
        )
    };
    let parent = path.parent().unwrap_or(dir);
    let rel = parent
        .strip_prefix(dir)
        .ok()
        .filter(|r| r.components().all(|c| matches!(c, Component::Normal(_))))
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} is not a file of {}", path.display(), dir.display()),
            )
        })?;
    let mut at = dir.to_path_buf();
    for c in rel.components() {
        at.push(c);
        if let Err(Outside::Link(target)) = check_real(dir, &at) {
            return Err(outside(&at, &target));
        }
        match std::fs::create_dir(&at) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
    }
    if let Err(Outside::Link(target)) = check_real(dir, parent) {
        return Err(outside(parent, &target));
    }
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        // A link that resolves (or dangles) out of the folder: its target is not ours to
        // replace, and following it would create a file there.
        let target = std::fs::read_link(path)?;
        let resolved = parent.join(&target);
        if check(dir, &resolved).is_err() {
            return Err(outside(path, &target));
        }
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = parent.join(format!(".{name}.twlint-{}.tmp", std::process::id()));
    let result = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn written_paths_that_leave_are_outside() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        assert_eq!(check(base, Path::new("/etc/shadow")), Err(Outside::Written));
        assert_eq!(check(base, Path::new("../x.conf")), Err(Outside::Written));
        assert_eq!(
            check(base, Path::new("a/../../x.conf")),
            Err(Outside::Written)
        );
        assert_eq!(check(base, Path::new("a/../x.conf")), Ok(()));
        assert_eq!(check(base, Path::new("./hosts/a.conf")), Ok(()));
        // An absolute path into the folder is fine.
        assert_eq!(check(base, &base.join("a.conf")), Ok(()));
    }

    #[test]
    fn links_that_lead_out_are_outside() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("topo");
        std::fs::create_dir(&base).unwrap();
        std::fs::write(dir.path().join("secret.conf"), "x").unwrap();
        symlink("../secret.conf", base.join("link.conf")).unwrap();
        symlink("..", base.join("up")).unwrap();
        std::fs::write(base.join("in.conf"), "x").unwrap();
        symlink("in.conf", base.join("ok.conf")).unwrap();
        let real = dir.path().canonicalize().unwrap();
        assert_eq!(
            check(&base, Path::new("link.conf")),
            Err(Outside::Link(real.join("secret.conf")))
        );
        assert_eq!(
            check(&base, Path::new("up/secret.conf")),
            Err(Outside::Link(real.join("secret.conf")))
        );
        assert_eq!(check(&base, Path::new("ok.conf")), Ok(()));
    }

    #[test]
    fn writes_replace_links_inside_and_refuse_links_out() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("out");
        std::fs::create_dir(&base).unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        symlink(&victim, base.join("a.conf")).unwrap();
        let e = write_inside(&base, &base.join("a.conf"), b"new").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied);
        assert!(e.to_string().contains("outside"), "{e}");
        // A dangling link out of the folder would create the file there.
        symlink(dir.path().join("new"), base.join("b.conf")).unwrap();
        assert!(write_inside(&base, &base.join("b.conf"), b"new").is_err());
        assert!(!dir.path().join("new").exists());
        // A folder on the way that leads out.
        symlink(dir.path(), base.join("up")).unwrap();
        assert!(write_inside(&base, &base.join("up/c.conf"), b"new").is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        // Folders on the way are created, never through a link out.
        write_inside(&base, &base.join("x/y/e.conf"), b"deep").unwrap();
        assert_eq!(
            std::fs::read_to_string(base.join("x/y/e.conf")).unwrap(),
            "deep"
        );
        assert!(write_inside(&base, &base.join("up/made/f.conf"), b"new").is_err());
        assert!(!dir.path().join("made").exists());
        // A link inside is replaced by the file, its target left alone.
        std::fs::write(base.join("in.conf"), "old").unwrap();
        symlink("in.conf", base.join("d.conf")).unwrap();
        write_inside(&base, &base.join("d.conf"), b"new").unwrap();
        assert_eq!(
            std::fs::read_to_string(base.join("in.conf")).unwrap(),
            "old"
        );
        assert_eq!(std::fs::read_to_string(base.join("d.conf")).unwrap(), "new");
        assert!(!std::fs::symlink_metadata(base.join("d.conf"))
            .unwrap()
            .file_type()
            .is_symlink());
        // No temporary file is left.
        let names: Vec<_> = std::fs::read_dir(&base)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    }
}
