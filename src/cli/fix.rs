//! `--fix` and `--diff`: the fixes of [`crate::fix`] applied to the sysctl files, or shown as a
//! unified diff. Files are written atomically, only inside the folders the run was given (a
//! PATH named on the command line, or the topology's folder; with `--allow-outside-paths`, a
//! file the topology leads to outside it), through [`crate::contain::write_inside`], keeping
//! the file's permissions. After `--fix` the run starts over on the fixed files, so the report
//! and the exit code are about what is left.

use super::args::Args;
use super::output::Io;
use crate::fix::{self, Safety};
use crate::report::Report;
use crate::source::SourceMap;
use std::io;
use std::path::{Path, PathBuf};

/// A relative path as `./path`, so that a file's folder and the allowed folder compare.
pub(super) fn dotted(p: &Path) -> PathBuf {
    if p.is_absolute() || p.starts_with(".") {
        p.to_path_buf()
    } else {
        Path::new(".").join(p)
    }
}

/// The folders fixes may be written in.
pub(super) fn allowed(args: &Args) -> Vec<PathBuf> {
    let folder = |p: &Path| {
        if p.is_dir() {
            dotted(p)
        } else {
            dotted(p.parent().unwrap_or(Path::new("")))
        }
    };
    match &args.topology {
        Some(t) => vec![folder(t)],
        None => args.paths.iter().map(|p| folder(p)).collect(),
    }
}

/// The folder to write `path` in, when it may be written.
pub(super) fn base_for(args: &Args, allowed: &[PathBuf], path: &Path) -> Option<PathBuf> {
    let path = dotted(path);
    // A path that climbs out (`topo/../outside/x`) starts with the folder only in its letters.
    let climbs = path
        .components()
        .any(|c| c == std::path::Component::ParentDir);
    if let Some(b) = allowed.iter().find(|b| !climbs && path.starts_with(b)) {
        return Some(b.clone());
    }
    (args.topology.is_some() && args.allow_outside_paths)
        .then(|| path.parent().map(Path::to_path_buf))
        .flatten()
}

pub(super) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn run(io: &mut Io, mut args: Args, report: &Report, sources: &SourceMap) -> io::Result<u8> {
    let all = fix::fixes(report, sources);
    let files = fix::by_file(&all, args.unsafe_fixes);
    let held_back = if args.unsafe_fixes {
        0
    } else {
        all.iter()
            .filter(|(_, f)| f.safety == Safety::Unsafe)
            .count()
    };
    let allowed = allowed(&args);
    let mut fixed = 0;
    let mut changed_files = 0;
    for (id, fixes) in &files {
        let file = sources.get(*id);
        let (new, applied) = fix::apply(&file.text, fixes);
        if new == file.text {
            continue;
        }
        if args.diff {
            write!(
                io.out,
                "{}",
                fix::unified_diff(&file.path, &file.text, &new)
            )?;
        } else {
            let path = Path::new(&file.path);
            let Some(base) = base_for(&args, &allowed, path) else {
                writeln!(
                    io.err,
                    "twlint: warning: not fixing {}: it is outside the folders this run was given",
                    file.path
                )?;
                continue;
            };
            // The text twlint judged must still be the file's: a file changed since is not
            // overwritten with fixes computed for its old text.
            let now = std::fs::read(path);
            if now.as_deref().ok() != Some(file.text.as_bytes()) {
                writeln!(
                    io.err,
                    "twlint: warning: not fixing {}: it changed while twlint read it",
                    file.path
                )?;
                continue;
            }
            let perms = std::fs::metadata(path).map(|m| m.permissions());
            if let Err(e) = crate::contain::write_inside(&base, &dotted(path), new.as_bytes()) {
                return io.fail(format!("cannot write the fixes to {}: {e}", file.path));
            }
            if let Ok(p) = perms {
                let _ = std::fs::set_permissions(path, p);
            }
        }
        fixed += applied.len();
        changed_files += 1;
    }
    let more = if held_back > 0 {
        format!(
            " ({} with --unsafe-fixes)",
            plural(held_back, "more fix", "more fixes")
        )
    } else {
        String::new()
    };
    if args.diff {
        writeln!(
            io.err,
            "twlint: {} in {}{more}",
            plural(fixed, "fix", "fixes"),
            plural(changed_files, "file", "files")
        )?;
        return Ok(u8::from(fixed > 0));
    }
    writeln!(
        io.err,
        "twlint: fixed {} in {}{more}",
        plural(fixed, "problem", "problems"),
        plural(changed_files, "file", "files")
    )?;
    // What is left, judged again from the files as they are now.
    args.fix = false;
    args.unsafe_fixes = false;
    super::check::run(io, args)
}
