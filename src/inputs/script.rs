//! The shell script reader: what a provisioning script does to sysctls, read as `sh` runs it.
//!
//! Scripts set values three ways, each read here with the place of its key and value in the
//! script: `sysctl -w k=v` (and `sysctl k=v`, several per command), `echo v > /proc/sys/...`
//! (`>>`, `printf`, `| tee`), and a heredoc written to a sysctl.d or sysctl.conf path, whose body
//! is a sysctl file and is read with that grammar where it was written. Splitting and quoting
//! are `super::shell`'s. What the script only points at is said, not guessed: `sysctl -p FILE`
//! and `--system` apply files twlint reads only when they are named (TW084), and a value the
//! shell computes (`$VAR`, `$(...)`) names no value to judge (TW083).

use super::container::assignment;
use super::shell::{self, Effect};
use super::{conf, ParsedFile, Reader, SourceKind};
use crate::code::Code;
use crate::diag::{Diagnostic, Severity};
use crate::source::{FileId, Span};

#[allow(non_upper_case_globals)] // named like the other readers' kinds
impl SourceKind {
    /// Values a shell script writes (`sysctl -w`, `/proc/sys`, a heredoc to a sysctl file).
    pub const Shell: SourceKind = SourceKind::written("shell");
}

/// The registration of this reader.
pub(super) static READER: Reader = Reader {
    name: "shell",
    kind: SourceKind::Shell,
    recognises: is_script,
    read,
    host: None,
    units: None,
};

/// Whether a text is a shell script: a `#!` line naming a shell, or a command that sets sysctls
/// (`sysctl -w`, `echo > /proc/sys/...`, a heredoc to a sysctl file), which no sysctl file has.
pub fn is_script(text: &str) -> bool {
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or("");
    if let Some(interp) = first.strip_prefix("#!") {
        let prog = interp.split_whitespace().collect::<Vec<_>>();
        let named = |p: &str| {
            matches!(
                p.rsplit('/').next(),
                Some("sh" | "bash" | "dash" | "ash" | "ksh" | "zsh" | "busybox")
            )
        };
        return prog.iter().take(2).any(|p| named(p));
    }
    !shell::effects(text).is_empty()
}

/// Reads every effect of a script, in the order the script has them.
fn read(file: FileId, text: &str) -> ParsedFile {
    let mut out = ParsedFile::empty(file, SourceKind::Shell);
    let span = |r: std::ops::Range<usize>| Span::new(file, r.start, r.end);
    // A shell script template (`*.sh.j2`): an expression is one word, rendered before the
    // shell runs (TW076); its key is still read.
    let glued = super::template::glue_expressions(text);
    for effect in shell::effects(&glued) {
        match effect {
            Effect::Write(mut w) => {
                if w.value.contains("{{") || w.key.contains("{{") {
                    w.key = text[w.key_at.clone()].to_string();
                    let value = &text[w.value_at.clone()];
                    let at = span(w.value_at);
                    if super::template::is_templated(&w.key) {
                        out.diagnostics.push(super::template::not_judged(
                            None,
                            &w.key,
                            span(w.key_at),
                        ));
                    } else {
                        let key = conf::normalize_key(&w.key);
                        out.diagnostics
                            .push(ComputedBy::Template.not_judged(&key, value, at));
                    }
                    continue;
                }
                let key = conf::normalize_key(&w.key);
                if w.dynamic {
                    out.diagnostics
                        .push(not_judged(&key, &w.value, span(w.value_at), "the shell"));
                    continue;
                }
                let mut a = assignment(
                    file,
                    text,
                    &w.key,
                    span(w.key_at),
                    &w.value,
                    span(w.value_at),
                );
                // procps 4 expands a glob in `sysctl -w` as in a file.
                a.glob = conf::has_glob(&key);
                a.entry = w.command.map(span);
                out.assignments.push(a);
            }
            Effect::Load { at, files } => out.diagnostics.push(applies(span(at), &files)),
            Effect::File {
                body,
                expands,
                path: _,
            } => {
                // One piece at a time: `printf 'a = 1\nb = 2\n'` puts two on one line.
                for r in body {
                    let inner =
                        conf::parse_placed(file, text, &[(r.start, &text[r])], SourceKind::Shell);
                    take_judged(&mut out, inner, expands, ComputedBy::Runtime("the shell"));
                }
            }
        }
    }
    out
}

/// Who decides a value that is not written out: a program when the file is applied (the
/// shell, tuned: TW083), or a template engine when the file is rendered (TW076). One value is
/// set aside under one of the two, never both.
#[derive(Debug, Clone, Copy)]
pub(super) enum ComputedBy<'a> {
    Runtime(&'a str),
    Template,
}

impl ComputedBy<'_> {
    /// Whether `value` holds something this computer fills in.
    fn computes(self, value: &str) -> bool {
        match self {
            ComputedBy::Runtime(_) => shell::is_dynamic(value) || value.contains("${"),
            ComputedBy::Template => value.contains("${") || value.contains("{{"),
        }
    }

    /// The diagnostic for a value it sets aside.
    pub(super) fn not_judged(self, key: &str, value: &str, at: Span) -> Diagnostic {
        match self {
            ComputedBy::Runtime(by) => not_judged(key, value, at, by),
            ComputedBy::Template => super::template::not_judged(Some(key), value, at),
        }
    }
}

/// Moves the records of a sysctl file read inside another into `out`, setting aside values a
/// template or the shell computes (TW076, TW083) and the findings about them.
pub(super) fn take_judged(
    out: &mut ParsedFile,
    inner: ParsedFile,
    expands: bool,
    by: ComputedBy<'_>,
) {
    let mut skipped: Vec<Span> = Vec::new();
    for a in inner.assignments.to_vec() {
        if expands && by.computes(&a.key.value) {
            // `echo "$k = $v" >> /etc/sysctl.conf`: no key to judge either.
            out.diagnostics
                .push(by.not_judged(&a.key.value, &a.key.value, a.key.span));
            skipped.push(a.line);
            continue;
        }
        if expands && by.computes(&a.value.value) {
            out.diagnostics
                .push(by.not_judged(&a.key.value, &a.value.value, a.value.span));
            skipped.push(a.line);
            continue;
        }
        out.assignments.push(a);
    }
    out.exclusions.extend(inner.exclusions);
    out.diagnostics
        .extend(inner.diagnostics.into_iter().filter(|d| {
            // A quote or `#` inside a computed value is the template's, not the kernel's.
            d.primary.as_ref().is_none_or(|l| {
                !skipped
                    .iter()
                    .any(|s| s.start <= l.span.start && l.span.end <= s.end)
            })
        }));
}

/// TW083: a value computed when the file is applied.
pub(super) fn not_judged(key: &str, value: &str, at: Span, by: &str) -> Diagnostic {
    let d = if shell::is_dynamic(key) || key.contains("${") {
        // `sysctl -w $k=$v`: which key it sets is known only when it runs.
        Diagnostic::new(
            Code::TW083,
            Severity::Info,
            format!("the key `{key}` is computed by {by}: not judged"),
        )
    } else {
        Diagnostic::new(
            Code::TW083,
            Severity::Info,
            format!("the value of `{key}` is computed by {by}: not judged"),
        )
        .with_key(key)
    };
    d.at(at, format!("`{value}` is known only when it runs"))
        .with_help("judge the rendered values: run twlint on the file or dump the run produces")
}

/// TW084: files applied that the script does not show.
fn applies(at: Span, files: &[String]) -> Diagnostic {
    let what = if files.is_empty() {
        "the system's sysctl files".to_string()
    } else {
        files
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Diagnostic::new(
        Code::TW084,
        Severity::Info,
        format!("this command applies {what}, which twlint judges only when named"),
    )
    .at(at, "applies other files here")
    .with_help("name those files (or the sysctl.d folder, or a root tree) on the command line with this script")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_recognised_by_their_interpreter_or_their_commands() {
        assert!(is_script("#!/bin/bash\necho hi\n"));
        assert!(is_script("#!/usr/bin/env sh\n"));
        assert!(is_script("set -e\nsysctl -w vm.swappiness=10\n"));
        assert!(is_script("echo 1 > /proc/sys/net/ipv4/ip_forward\n"));
        assert!(!is_script("#!/usr/bin/python3\n"));
        assert!(!is_script("net.ipv4.tcp_tw_reuse = 1\n# sysctl -w x=1\n"));
    }
}
