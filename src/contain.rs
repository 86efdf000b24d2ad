//! Containment: keeping what a topology makes twlint read inside the topology's own folder.
//!
//! twlint runs in CI on topologies from pull requests. A topology names its nodes' sysctl files,
//! and diagnostics quote the lines of the files they are about, so `files: [/etc/shadow]`,
//! `../../secrets.conf` or a link pointing out of the checkout would make twlint print a file of
//! the CI machine. This module decides whether a path stays inside a base folder: first as
//! written (an absolute path or `..` that leaves the folder), then, for paths that exist, after
//! following every symlink. Nothing outside is opened to decide it (only `canonicalize`, which
//! reads link targets and directory entries, never file contents).

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
        (Ok(real), Ok(real_base)) if !real.starts_with(&real_base) => Err(Outside::Link(real)),
        _ => Ok(()),
    }
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
}
