//! `twlint advise --topology T [--out DIR] [--format text|markdown]`: the binary side of
//! `twlint::advise` (the library computes the drop-ins; this writes them or prints them).
//!
//! `--out DIR` writes one file per node that needs a change, refuses to replace a file twlint did
//! not write, leaves identical files untouched and removes twlint's own files for nodes that no
//! longer need one, then says what it did on stderr. Nothing is written if any file is refused.

use super::config::{catalog, Catalog, ConfigFlags};
use super::output::{with_hint, ColorChoice, Io};
use crate::advise::{self, MARKER};
use crate::diag::did_you_mean;
use crate::host::judge::{self as host_judge, HostOptions, LiveMode};
use crate::host::HostSource;
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
    /// Advise this node only: its drop-in, and with --live or --root the node this host (or
    /// the capture) is
    #[arg(long, value_name = "NAME", help_heading = "Input")]
    pub node: Option<String>,
    /// Advise on this host's live values, for the node the topology names it as (--node,
    /// hostname, address), instead of the values its files declare
    #[arg(long, help_heading = "Host", conflicts_with_all = ["no_live", "root"])]
    pub live: bool,
    /// Advise on a capture's values instead: a `twlint snapshot` folder, an sosreport, or a
    /// folder laid out like / or /proc
    #[arg(
        long,
        value_name = "DIR",
        help_heading = "Host",
        conflicts_with = "no_live"
    )]
    pub root: Option<PathBuf>,
    /// Advise on the declared values (the default; accepted so the flags of a check run work
    /// here too)
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
    // The host's values, when asked for: the report judges them in place of the declared
    // ones for the node the host is, as a check run with --live or --root does.
    let host_run = match (&args.root, args.live) {
        (None, false) => None,
        (root, _) => {
            let hopts = HostOptions {
                source: match root {
                    Some(d) => HostSource::Root(d.clone()),
                    None => HostSource::Live,
                },
                mode: LiveMode::Force,
                node: args.node.clone(),
                interval: None,
            };
            match host_judge::judge_topology(
                &args.topology,
                &opts,
                &hopts,
                rules,
                &mut sources,
                None,
            ) {
                Ok((report, run)) => Some((report, run)),
                Err(e) => return io.fail(e.to_string()),
            }
        }
    };
    let (mut report, run) = match host_run {
        Some((report, run)) => (report, run),
        None => {
            let judged =
                judge::load_topology(&args.topology, &opts, &mut sources).and_then(|loaded| {
                    judge::judge(Request::topology(loaded), &opts, rules, &mut sources)
                });
            match judged {
                Ok(r) => (r, None),
                Err(e) => return io.fail(with_hint(&e)),
            }
        }
    };
    crate::settings::apply_levels(&mut report, &catalog.levels);
    if report.fatal {
        let style = io.err_style(args.color);
        crate::render::human::write_diagnostics(io.err, style, &sources, &report.diagnostics)?;
        return io.fail("the topology has errors; nothing was advised");
    }
    // The node advised: --node, else the node the host is.
    let matched = run
        .as_ref()
        .and_then(|r| r.matched.as_ref())
        .map(|m| m.node.clone());
    let only = matched.clone().or_else(|| args.node.clone());
    if let Some(node) = &only {
        if !report.nodes.iter().any(|n| &n.name == node) {
            let names: Vec<&str> = report.nodes.iter().map(|n| n.name.as_str()).collect();
            let hint = did_you_mean(node, names.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_else(|| format!("; its nodes are: {}", names.join(", ")));
            return io.fail(format!(
                "--node `{node}` is not a node of the topology{hint}"
            ));
        }
    }
    let mut advice = advise::advise(&report, &sources, &args.topology.display().to_string());
    if let Some(node) = &only {
        advice.nodes.retain(|n| &n.node == node);
        advice.unfixable.retain(|u| &u.node == node);
        advice.accepted.retain(|a| &a.node == node);
    }
    // Whose values these are, in the files' headers and on stderr.
    let whose = match (&run, &matched) {
        (Some(r), Some(node)) => {
            let what = match &r.snapshot.origin {
                crate::host::Origin::Live => format!(
                    "the live values of this host ({})",
                    r.snapshot.identity.hostname.as_deref().unwrap_or("?")
                ),
                _ => format!(
                    "the values of the capture {}",
                    args.root.as_deref().unwrap_or(Path::new("?")).display()
                ),
            };
            format!("{what}, node {node}")
        }
        _ => format!("the values {} declares", args.topology.display()),
    };
    if run.is_some() {
        advice.values = Some(whose.clone());
    }
    let mut flags = String::new();
    if let Some(n) = &only {
        flags.push_str(&format!(" --node {n}"));
    }
    if args.live {
        flags.push_str(" --live");
    }
    if let Some(d) = &args.root {
        flags.push_str(&format!(" --root {}", d.display()));
    }
    advice.host_flags = flags;
    // Judged again with the drop-ins applied: what is still dangerous is what no drop-in fixes.
    // The host's node keeps its read values, except those its drop-in sets: installed, the
    // drop-in is what the kernel would then have.
    let live = run
        .as_ref()
        .zip(matched.as_ref())
        .map(|(r, node)| (node.clone(), host_judge::live_layer(&r.snapshot)));
    let mut overlay = judge::Overlay::default();
    if let Some((node, layer)) = &live {
        overlay.insert(node, layer.clone());
    }
    for n in &advice.nodes {
        let text = advise::dropin_text(&advice, n);
        let mut layer = judge::Layer::file(&n.file_name, &text, &mut sources);
        if let Some((node, read)) = live.as_ref().filter(|(node, _)| *node == n.node) {
            let _ = node;
            let set: Vec<&str> = layer.written.iter().map(|w| w.key.as_str()).collect();
            layer.kernel = read.kernel;
            layer.absent = read.absent.clone();
            layer.read = read
                .read
                .iter()
                .filter(|(k, _)| !set.contains(k))
                .map(|(k, v)| (*k, v.clone()))
                .collect();
        }
        overlay.insert(&n.node, layer);
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
            if let Some(node) = &only {
                advice.unfixable.retain(|u| &u.node == node);
            }
        }
        Err(e) => return io.fail(with_hint(&e)),
    }
    match &run {
        Some(_) => writeln!(io.err, "twlint: advised on {whose}")?,
        None => writeln!(
            io.err,
            "twlint: advised on the values {} declares (this host's live values are not read)",
            args.topology.display()
        )?,
    }
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
            // With one node advised, the other nodes' files are not this run's to remove.
            let ours = only.as_ref().is_none_or(|n| name == advise::file_name(n));
            if name.starts_with("99-twlint-")
                && name.ends_with(".conf")
                && ours
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
