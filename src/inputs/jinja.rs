//! The reader of Jinja templates of sysctl.conf (an Ansible role's `templates/sysctl.conf.j2`,
//! a Salt `file.managed` source): the sysctl.conf grammar, with the template parts set aside.
//!
//! The text is read as procps would read its rendering, line by line: `{% ... %}` statements
//! and `{# ... #}` comments are skipped (a line of nothing else is blank); a line whose key or
//! value holds a `{{ ... }}` expression is reported as not judged (TW076) instead of being read,
//! so a templated key is never an unknown key and a templated value never an invalid one. The
//! lines between `{% if %}` and `{% endif %}` are read as written: they are what the template
//! renders when the condition holds. Every other line is read exactly as a sysctl.conf line.
//!
//! The format is recognised by content: Jinja markup in a text whose every other line is a
//! sysctl.conf line (a comment, `key = value`, `-key`), so a YAML file with templates in it is
//! never taken for one.

use super::conf::{self, Line};
use super::{template, ParsedFile, Reader, SourceKind};
use crate::source::{FileId, Span};

#[allow(non_upper_case_globals)] // named like the other readers' kinds
impl SourceKind {
    /// A Jinja template of sysctl.conf, rendered to a sysctl file by the tool that applies it.
    pub const Jinja: SourceKind = SourceKind::written("jinja");
}

/// The registration of this reader.
pub(super) static READER: Reader = Reader {
    name: "jinja",
    kind: SourceKind::Jinja,
    recognises: is_template,
    read,
    host: None,
    units: None,
};

/// Whether a text is a Jinja template of sysctl.conf: it has template markup, and every line
/// left once the markup is blanked is one sysctl.conf understands.
pub fn is_template(text: &str) -> bool {
    if !template::has_markup(text) {
        return false;
    }
    let masked = template::mask(text);
    let b = masked.as_bytes();
    let plain = conf::lines(b).enumerate().all(|(i, (s, e, next))| {
        !matches!(
            conf::scan_line(b, s, e, next, i == 0 && masked.starts_with('\u{feff}')),
            Line::NoEquals { .. } | Line::EmptyKey { .. }
        )
    });
    plain
}

/// Reads a template: its plain lines as sysctl.conf, its templated settings as not judged.
fn read(file: FileId, text: &str) -> ParsedFile {
    let masked = template::mask(text);
    let mut plain = masked.clone().into_bytes();
    let mut diagnostics = Vec::new();
    let b = masked.as_bytes();
    for (s, e, next) in conf::lines(b) {
        let original = &text[s..e];
        if !template::is_templated(original) {
            continue;
        }
        // A statement (`{% ... %}`) is already blank in `masked`; what is left to decide is a
        // line with an expression in its key or value.
        if let Line::Assign { ks, ke, vs, ve, .. } = conf::scan_line(b, s, e, next, false) {
            let key = &text[ks..ke];
            let span = |a, z| Span::new(file, a, z);
            if template::is_templated(key) {
                diagnostics.push(template::not_judged(None, key, span(ks, ke)));
            } else if template::is_templated(&text[vs..ve]) {
                let k = conf::normalize_key(key);
                diagnostics.push(template::not_judged(Some(&k), &text[vs..ve], span(vs, ve)));
            } else {
                continue;
            }
            // The line is not read: blank it for the sysctl.conf grammar.
            for byte in &mut plain[s..e] {
                *byte = b' ';
            }
        }
    }
    let plain = String::from_utf8(plain).unwrap_or_default();
    let mut parsed = conf::parse(file, &plain, SourceKind::Jinja);
    parsed.diagnostics.extend(diagnostics);
    parsed
        .diagnostics
        .sort_by_key(|d| d.primary.as_ref().map(|l| l.span.start));
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;

    #[test]
    fn templates_of_sysctl_conf_are_recognised_and_yaml_with_templates_is_not() {
        assert!(is_template(
            "{% if x %}\nnet.core.somaxconn = {{ n }}\n{% endif %}\n"
        ));
        assert!(is_template("# {{ ansible_managed }}\nvm.swappiness = 10\n"));
        assert!(!is_template("vm.swappiness = 10\n"));
        assert!(!is_template("script: |\n  echo {{ .Values.x }}\n"));
    }

    #[test]
    fn templated_lines_are_not_judged_and_plain_lines_keep_their_places() {
        let text = "{% for k in keys %}\n{{ k }} = 1\n{% endfor %}\n\
                    net.ipv4.tcp_tw_reuse = 1\nnet.core.somaxconn = {{ backlog }}\n";
        let mut map = SourceMap::new();
        let id = map.add("sysctl.conf.j2", text);
        let read = read(id, text);
        let keys: Vec<&str> = read.assignments.iter().map(|a| a.key()).collect();
        assert_eq!(keys, ["net.ipv4.tcp_tw_reuse"]);
        assert_eq!(map.slice(read.assignments.to_vec()[0].value.span), "1");
        let codes: Vec<(&str, &str)> = read
            .diagnostics
            .iter()
            .map(|d| (d.code.as_str(), map.slice(d.primary.as_ref().unwrap().span)))
            .collect();
        assert_eq!(codes, [("TW076", "{{ k }}"), ("TW076", "{{ backlog }}")]);
    }
}
