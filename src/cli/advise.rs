//! `twlint advise --topology T [--out DIR] [--format text|markdown]`: the binary side of
//! `twlint::advise` (the library computes the drop-ins; this writes them or prints them).
//!
//! `--out DIR` writes one file per node that needs a change, refuses to replace a file twlint did
//! not write, leaves identical files untouched and removes twlint's own files for nodes that no
//! longer need one, then says what it did on stderr. Nothing is written if any file is refused.

use super::config::{catalog, Catalog, ConfigFlags};
use super::output::{with_hint, ColorChoice, Io};
use crate::advise::{self, MARKER};
use crate::judge::{self, Request};
use crate::kernel::KernelVersion;
use crate::source::SourceMap;
use clap::{Args, ValueEnum};
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct AdviseArgs {
    /// The topology whose nodes get a drop-in
    #[arg(long, value_name = "FILE")]
    pub topology: PathBuf,
    /// Write the drop-ins into this folder (created if missing) instead of printing them
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// text: the files themselves; markdown: the change explained for a pull request
    #[arg(long, value_enum, default_value = "text")]
    pub format: AdviseFormat,
    /// Kernel release to judge for (overrides the topology)
    #[arg(long, value_name = "RELEASE")]
    pub kernel: Option<String>,
    /// A folder of extra rule files
    #[arg(long = "rules", value_name = "DIR", help_heading = "Rules")]
    pub rules: Vec<PathBuf>,
    /// Colour of the topology's errors on stderr (auto: as for a check run)
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    #[command(flatten)]
    pub config: ConfigFlags,
    /// Change values even where a suppression accepted the finding
    #[arg(long = "no-inline-ignores", help_heading = "Rules")]
    pub no_inline_ignores: bool,
    /// Let the topology's sysctl.files lead outside its folder (absolute paths, `..`,
    /// symlinks); refused by default, since topologies from pull requests are untrusted
    #[arg(long, help_heading = "Input")]
    pub allow_outside_paths: bool,
    /// Advise on the declared values (what advise always reads; accepted so the flags of a
    /// check run work here too)
    #[arg(long = "no-live", help_heading = "Host")]
    pub no_live: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AdviseFormat {
    /// The drop-ins themselves (`human` is accepted as the same)
    #[value(alias = "human")]
    Text,
    Markdown,
}

fn is_ours(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.starts_with(MARKER))
}

/// Reads `.twlint.yaml` as a check run does (its `rules` folders, `off` rules, default kernel),
/// then advises.
pub fn run(io: &mut Io, mut args: AdviseArgs) -> io::Result<u8> {
    args.config.start = Some(args.topology.clone());
    let mut sources = SourceMap::new();
    let catalog = match catalog(io, &args.config, &args.rules, args.color, &mut sources) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let rules = crate::settings::without_rules(&catalog.rules, &catalog.levels);
    advise_with(io, args, &rules, &catalog, sources)
}

fn advise_with(
    io: &mut Io,
    args: AdviseArgs,
    rules: &crate::rules::RuleSet,
    catalog: &Catalog,
    mut sources: SourceMap,
) -> io::Result<u8> {
    let kernel = match &args.kernel {
        Some(k) => match KernelVersion::parse(k) {
            Some(v) => Some(v),
            None => {
                return io.fail(format!(
                    "--kernel `{k}`: expected a release such as 5.15 or 6.8"
                ))
            }
        },
        None => None,
    };
    let opts = judge::Options {
        kernel,
        default_kernel: catalog.project.as_ref().and_then(|p| p.kernel),
        inline_ignores: !args.no_inline_ignores,
        // A topology to advise on is as untrusted as one to lint: its files stay in its folder
        // unless --allow-outside-paths says otherwise, as for a check run.
        allow_outside_paths: args.allow_outside_paths,
        kubernetes: Default::default(),
    };
    let judged = judge::load_topology(&args.topology, &opts, &mut sources)
        .and_then(|loaded| judge::judge(Request::topology(loaded), &opts, rules, &mut sources));
    let mut report = match judged {
        Ok(r) => r,
        Err(e) => return io.fail(with_hint(&e)),
    };
    crate::settings::apply_levels(&mut report, &catalog.levels);
    if report.fatal {
        let style = io.err_style(args.color);
        crate::render::human::write_diagnostics(io.err, style, &sources, &report.diagnostics)?;
        return io.fail("the topology has errors; nothing was advised");
    }
    let mut advice = advise::advise(&report, &sources, &args.topology.display().to_string());
    // Judged again with the drop-ins applied: what is still dangerous is what no drop-in fixes.
    let mut overlay = judge::Overlay::default();
    for n in &advice.nodes {
        let text = advise::dropin_text(&advice, n);
        overlay.insert(
            &n.node,
            judge::Layer::file(&n.file_name, &text, &mut sources),
        );
    }
    let after = judge::load_topology(&args.topology, &opts, &mut sources).and_then(|loaded| {
        judge::judge(
            Request::topology(loaded).with_overlay(overlay),
            &opts,
            rules,
            &mut sources,
        )
    });
    match after {
        Ok(mut after) => {
            crate::settings::apply_levels(&mut after, &catalog.levels);
            advise::converge(&mut advice, &after);
        }
        Err(e) => return io.fail(with_hint(&e)),
    }
    // Whose values these are: advise judges what the topology declares, never this host (a
    // check run on a node would read its live values).
    writeln!(
        io.err,
        "twlint: advised on the values {} declares (this host's live values are not read)",
        args.topology.display()
    )?;
    let Some(dir) = &args.out else {
        let text = match args.format {
            AdviseFormat::Text => advise::text(&advice),
            AdviseFormat::Markdown => advise::markdown(&advice),
        };
        io.out.write_all(text.as_bytes())?;
        return Ok(0);
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        return io.fail(format!("cannot create {}: {e}", dir.display()));
    }
    // Decide everything first, so a refused file means nothing is written.
    let mut plan: Vec<(PathBuf, String)> = Vec::new();
    for n in &advice.nodes {
        let path = dir.join(&n.file_name);
        if path.exists() && !is_ours(&path) {
            return io.fail(format!(
                "{} exists and was not written by twlint; move it away or choose another --out",
                path.display()
            ));
        }
        plan.push((path, advise::dropin_text(&advice, n)));
    }
    let wanted: Vec<&PathBuf> = plan.iter().map(|(p, _)| p).collect();
    let mut stale = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let from_here = std::fs::read_to_string(&p).is_ok_and(|t| {
                t.starts_with(MARKER)
                    && t.contains(&format!("--topology {} --out", advice.topology_path))
            });
            if name.starts_with("99-twlint-")
                && name.ends_with(".conf")
                && from_here
                && !wanted.contains(&&p)
            {
                stale.push(p);
            }
        }
    }
    let mut changed = 0;
    for (path, text) in &plan {
        if std::fs::read_to_string(path).is_ok_and(|t| &t == text) {
            writeln!(io.err, "unchanged {}", path.display())?;
            continue;
        }
        if let Err(e) = crate::contain::write_inside(dir, path, text.as_bytes()) {
            return io.fail(format!("cannot write {}: {e}", path.display()));
        }
        changed += 1;
        writeln!(io.err, "wrote {}", path.display())?;
    }
    for p in &stale {
        if let Err(e) = std::fs::remove_file(p) {
            return io.fail(format!("cannot remove {}: {e}", p.display()));
        }
        changed += 1;
        writeln!(
            io.err,
            "removed {} (its node needs no change now)",
            p.display()
        )?;
    }
    for u in &advice.unfixable {
        writeln!(
            io.err,
            "not fixable by a drop-in: {} {} ({}): {}",
            u.node,
            u.key,
            u.rule,
            u.help.as_deref().unwrap_or(&u.reason)
        )?;
    }
    for a in &advice.accepted {
        writeln!(io.err, "left as it is: {}", advise::accepted_line(a))?;
    }
    if changed == 0 {
        writeln!(io.err, "nothing changed: {} is up to date", dir.display())?;
    }
    if args.format == AdviseFormat::Markdown {
        io.out.write_all(advise::markdown(&advice).as_bytes())?;
    }
    Ok(0)
}
