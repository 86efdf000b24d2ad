//! The cloud-init reader: what a `#cloud-config` file does to sysctls.
//!
//! cloud-init sets values two ways read here: `write_files` entries whose `path` is a sysctl.d
//! or sysctl.conf file (the `content` is a sysctl file, read with that grammar where each line
//! was written in the YAML scalar, and applied at boot or by a later `sysctl -p`), and
//! `runcmd`/`bootcmd` entries that run `sysctl -w` or write /proc/sys (a string is a shell
//! script, a list is one command's words). Content encoded with `encoding: b64` or gzip is not
//! decoded (TW085); a template's placeholders (`${name}` in a Terraform `.tpl`, `{{ name }}` in
//! a `## template: jinja` file) name no value to judge (TW076, as every template's), and a value
//! cloud-init's shell computes (`$VAR` in `runcmd`) neither (TW083).

use super::container::{assignment, scalar, Located};
use super::script::{not_judged, take_judged, ComputedBy};
use super::shell::{self, Effect, Word};
use super::{conf, template, ParsedFile, Reader, SourceKind};
use crate::code::Code;
use crate::diag::{Diagnostic, Severity};
use crate::source::{FileId, Span};
use crate::yaml::{self, YamlNode};

#[allow(non_upper_case_globals)] // named like the other readers' kinds
impl SourceKind {
    /// Values a cloud-init file writes (a sysctl file, or a `sysctl -w` command at boot).
    pub const CloudInit: SourceKind = SourceKind::written("cloud-init");
}

/// The registration of this reader.
pub(super) static READER: Reader = Reader {
    name: "cloud-init",
    kind: SourceKind::CloudInit,
    recognises: is_cloud_config,
    read,
    host: None,
    units: None,
};

/// Whether a text is cloud-config: its first line is `#cloud-config` (after a Jinja
/// `## template: jinja` line), the header cloud-init itself requires.
pub fn is_cloud_config(text: &str) -> bool {
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    let mut first = lines.next().unwrap_or("").trim_end();
    if first.starts_with("## template:") {
        first = lines.next().unwrap_or("").trim_end();
    }
    first == "#cloud-config"
}

/// Whether cloud-init renders the file with Jinja before reading it (`## template: jinja`).
fn is_jinja(text: &str) -> bool {
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or("");
    first
        .strip_prefix("## template:")
        .is_some_and(|t| t.trim() == "jinja")
}

/// Reads a cloud-config file; one that cloud-init renders with Jinja first is read with its
/// template parts blanked byte for byte ([`template::mask`]: `{% ... %}` lines are not YAML),
/// and a setting whose key or value was written with a `{{ ... }}` is not judged (TW076), as
/// is what a reader found inside one.
fn read(file: FileId, text: &str) -> ParsedFile {
    if !is_jinja(text) {
        return read_rendered(file, text);
    }
    let mut out = read_rendered(file, &template::mask(text));
    let written = |s: Span| text.get(s.range()).unwrap_or("");
    let templated = |s: Span| template::is_templated(written(s));
    out.diagnostics
        .retain(|d| !d.primary.as_ref().is_some_and(|l| templated(l.span)));
    out.assignments.retain(|a| {
        let (key, value) = (a.key_span(), a.value_span());
        let d = if templated(key) {
            template::not_judged(None, written(key), key)
        } else if templated(value) {
            template::not_judged(Some(a.key()), written(value), value)
        } else {
            return true;
        };
        out.diagnostics.push(d.with_help(
            "cloud-init renders it from the instance's data at boot: lint the rendered file \
             (`cloud-init devel render FILE` on the instance)",
        ));
        false
    });
    out.diagnostics
        .sort_by_key(|d| d.primary.as_ref().map(|l| l.span.start));
    out
}

/// Reads `write_files`, `bootcmd` and `runcmd`, in the order cloud-init runs them at first boot
/// (bootcmd, then the files, then runcmd).
fn read_rendered(file: FileId, text: &str) -> ParsedFile {
    let mut out = ParsedFile::empty(file, SourceKind::CloudInit);
    let stream = match yaml::parse_stream(file, text) {
        Ok(s) => s,
        Err(d) => {
            out.diagnostics.push(d);
            return out;
        }
    };
    out.diagnostics.extend(stream.diagnostics);
    let Some(doc) = stream.documents.first() else {
        return out;
    };
    if let Some(cmds) = doc.get("bootcmd") {
        commands(file, text, cmds, &mut out);
    }
    if let Some(YamlNode::Sequence { items, .. }) = doc.get("write_files") {
        for item in items {
            write_file(file, text, item, &mut out);
        }
    }
    if let Some(cmds) = doc.get("runcmd") {
        commands(file, text, cmds, &mut out);
    }
    out
}

/// One `write_files` entry: read when its path is a sysctl file.
fn write_file(file: FileId, text: &str, item: &YamlNode, out: &mut ParsedFile) {
    let Some(path) = item.get("path").and_then(scalar) else {
        return;
    };
    if !shell::is_sysctl_path(&path.value) {
        return;
    }
    let Some(content) = item.get("content") else {
        return;
    };
    if let Some(enc) = item.get("encoding").and_then(scalar) {
        if !matches!(enc.value.as_str(), "text/plain" | "") {
            out.diagnostics
                .push(encoded(&path.value, &enc.value, enc.span));
            return;
        }
    }
    let Some(located) = Located::new(content, text) else {
        return;
    };
    // Each line of the content where it was written in the YAML file.
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut exact = true;
    for line in located.value.split('\n') {
        let r = start..start + line.len();
        start += line.len() + 1;
        if line.trim().is_empty() {
            continue;
        }
        let span = located.span(r);
        if span.to() - span.from() != line.len() {
            exact = false;
            break;
        }
        pieces.push((span.from(), line));
    }
    let templated = located.value.contains("${") || located.value.contains("{{");
    if exact {
        let inner = conf::parse_placed(file, text, &pieces, SourceKind::CloudInit);
        take_judged(out, inner, templated, ComputedBy::Template);
    } else {
        // Escapes or folded lines: the content is read on its own, every place on the scalar.
        let whole = located.whole();
        let mut map = crate::source::SourceMap::new();
        let id = map.add("content", located.value);
        let inner = conf::parse(id, located.value, SourceKind::CloudInit);
        for mut a in inner.assignments.to_vec() {
            a.key.span = whole;
            a.value.span = whole;
            a.line = whole;
            if templated && (a.value.value.contains("${") || a.value.value.contains("{{")) {
                out.diagnostics.push(ComputedBy::Template.not_judged(
                    &a.key.value,
                    &a.value.value,
                    whole,
                ));
                continue;
            }
            out.assignments.push(a);
        }
    }
}

/// `bootcmd` or `runcmd`: each entry a shell script (a string) or one command (a list).
fn commands(file: FileId, text: &str, cmds: &YamlNode, out: &mut ParsedFile) {
    let YamlNode::Sequence { items, .. } = cmds else {
        return;
    };
    for item in items {
        command(file, text, item, true, "cloud-init's shell", out);
    }
}

/// One command a YAML tool runs (a cloud-init `runcmd` entry, an Ansible `shell` or `command`
/// task): a string is a shell script, a list one command's words. Every `sysctl -w` and
/// /proc/sys write in it is read with `super::shell`'s parsing, at the places of its key and
/// value in the YAML scalar. A `{{ ... }}` value is rendered by the tool's Jinja before the
/// shell runs: a template's value (TW076); a `$VAR` value is computed by `by` when it runs
/// (TW083). Without a shell (Ansible's `command` module splits the string into words and runs
/// them itself, expanding only `$VAR`) only the first command's `sysctl` arguments count: a
/// redirection to /proc/sys is one more argument there.
pub(super) fn command(
    file: FileId,
    text: &str,
    item: &YamlNode,
    through_shell: bool,
    by: &str,
    out: &mut ParsedFile,
) {
    // (key, key span, value, value span, computed)
    let mut found: Vec<(String, Span, String, Span, bool)> = Vec::new();
    // The value as written, template expressions whole (they were glued for the shell).
    let written = |l: &Located, r: std::ops::Range<usize>, parsed: String| {
        if parsed.contains("{{") {
            l.value.get(r).map_or(parsed, str::to_string)
        } else {
            parsed
        }
    };
    match item {
        YamlNode::Sequence { items: argv, .. } => {
            let located: Vec<Located> = argv.iter().filter_map(|n| Located::new(n, text)).collect();
            let words: Vec<Word> = located.iter().map(|l| Word::literal(l.value, 0)).collect();
            for w in shell::sysctl_writes(&words).unwrap_or_default() {
                let l = &located[w.word];
                let computed = w.dynamic || w.value.contains("${");
                found.push((
                    w.key,
                    l.span(w.key_at),
                    w.value,
                    l.span(w.value_at),
                    computed,
                ));
            }
        }
        other => {
            let Some(script) = Located::new(other, text) else {
                return;
            };
            let glued = template::glue_expressions(script.value);
            let effects = if through_shell {
                shell::effects(&glued)
            } else {
                shell::commands(&glued)
                    .first()
                    .and_then(|words| shell::sysctl_writes(words))
                    .unwrap_or_default()
                    .into_iter()
                    .map(Effect::Write)
                    .collect()
            };
            for e in effects {
                match e {
                    Effect::Write(w) => {
                        let computed = w.dynamic || w.value.contains("${");
                        let value = written(&script, w.value_at.clone(), w.value);
                        let key = written(&script, w.key_at.clone(), w.key);
                        found.push((
                            key,
                            script.span(w.key_at),
                            value,
                            script.span(w.value_at),
                            computed,
                        ));
                    }
                    // A sysctl file the command writes (`echo 'k = v' >> /etc/sysctl.conf`,
                    // a heredoc): its lines, where they were written in the YAML scalar.
                    Effect::File { body, expands, .. } => {
                        written_file(file, text, &script, &body, expands, by, out);
                    }
                    // Files applied by `sysctl -p` are those written above or the system's:
                    // named, they are judged with this file.
                    Effect::Load { .. } => {}
                }
            }
        }
    }
    for (key, ks, value, vs, computed) in found {
        let k = conf::normalize_key(&key);
        if template::is_templated(&key) {
            out.diagnostics.push(template::not_judged(None, &key, ks));
            continue;
        }
        if value.contains("{{") {
            out.diagnostics
                .push(ComputedBy::Template.not_judged(&k, &value, vs));
            continue;
        }
        if computed {
            out.diagnostics.push(not_judged(&k, &value, vs, by));
            continue;
        }
        out.assignments
            .push(assignment(file, text, &key, ks, &value, vs));
    }
}

/// The lines a command writes to a sysctl file (`body`: the pieces of the file's text in the
/// script), read as a sysctl file at the places they were written in the YAML scalar `script`;
/// nothing when a line cannot be placed exactly (escapes, folded lines). A `{{ ... }}` value is
/// the tool's template's (TW076), a `$VAR` one the shell's (TW083, when `expands`).
fn written_file(
    file: FileId,
    text: &str,
    script: &Located,
    body: &[std::ops::Range<usize>],
    expands: bool,
    by: &str,
    out: &mut ParsedFile,
) {
    // One piece of the file's text at a time: `printf 'a = 1\nb = 2\n'` puts two on one line.
    for r in body {
        let mut pieces = Vec::new();
        let Some(piece) = script.value.get(r.clone()) else {
            return;
        };
        let mut start = r.start;
        for line in piece.split('\n') {
            let lr = start..start + line.len();
            start += line.len() + 1;
            if line.trim().is_empty() {
                continue;
            }
            let span = script.span(lr);
            if span.to() - span.from() != line.len() {
                return;
            }
            pieces.push((span.from(), line));
        }
        let mut inner = conf::parse_placed(file, text, &pieces, out.kind);
        inner.assignments.retain(|a| {
            let templated = template::is_templated(a.value());
            if templated {
                out.diagnostics.push(ComputedBy::Template.not_judged(
                    a.key(),
                    a.value(),
                    a.value_span(),
                ));
            }
            !templated
        });
        take_judged(out, inner, expands, ComputedBy::Runtime(by));
    }
}

/// TW085: content cloud-init decodes before writing.
fn encoded(path: &str, encoding: &str, at: Span) -> Diagnostic {
    Diagnostic::new(
        Code::TW085,
        Severity::Info,
        format!("the content written to `{path}` is encoded ({encoding}): not read"),
    )
    .at(at, "cloud-init decodes it before writing")
    .with_help("write the content as a literal block (`content: |`) to have its values judged")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_config_is_recognised_by_its_header() {
        assert!(is_cloud_config("#cloud-config\nruncmd: []\n"));
        assert!(is_cloud_config("## template: jinja\n#cloud-config\n"));
        assert!(!is_cloud_config("write_files: []\n"));
        assert!(!is_cloud_config("net.core.somaxconn = 1\n"));
    }

    /// TW076 and TW083 no longer overlap: a value a template renders is TW076, a value the
    /// shell computes when cloud-init runs it is TW083, and no value gets both.
    #[test]
    fn template_and_runtime_values_are_set_aside_once_each() {
        let text = "## template: jinja\n#cloud-config\nruncmd:\n  - sysctl -w net.ipv4.tcp_fin_timeout=$FIN\n  - [sysctl, -w, \"net.core.somaxconn={{ backlog }}\"]\nwrite_files:\n  - path: /etc/sysctl.d/90-x.conf\n    content: |\n      net.ipv4.tcp_tw_reuse = ${REUSE}\n      net.core.netdev_max_backlog = {{ n }}\n      net.ipv4.tcp_timestamps = 1\n";
        let mut sources = crate::source::SourceMap::new();
        let file = sources.add("ci.yaml", text);
        let parsed = read(file, text);
        let mut codes: Vec<(&str, String)> = parsed
            .diagnostics
            .iter()
            .map(|d| (d.code.as_str(), d.key.clone().unwrap_or_default()))
            .collect();
        codes.sort();
        assert_eq!(
            codes,
            [
                ("TW076", "net.core.netdev_max_backlog".to_string()),
                ("TW076", "net.core.somaxconn".to_string()),
                ("TW076", "net.ipv4.tcp_tw_reuse".to_string()),
                ("TW083", "net.ipv4.tcp_fin_timeout".to_string()),
            ]
        );
        let keys: Vec<&str> = parsed.assignments.iter().map(|a| a.key()).collect();
        assert_eq!(keys, ["net.ipv4.tcp_timestamps"]);
    }
}
