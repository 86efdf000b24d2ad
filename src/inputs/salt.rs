//! The Salt state reader: `sysctl.present` states of an `.sls` file.
//!
//! A state is `ID: {sysctl.present: [{name: KEY}, {value: V}, {config: FILE}]}`, the key being
//! the state id when `name` is not given; the older `ID: {sysctl: [present, {value: V}]}` form
//! is read too. `sysctl.absent` and every other state set nothing. Salt renders an `.sls` with
//! Jinja before reading its YAML, so the template parts are blanked first (byte for byte, so
//! the YAML spans stay those of the file as written), and a state whose key or value is an
//! expression is reported as not judged (TW076). A state Salt would fail (no value, a list
//! where one value belongs) is TW077.

use super::container::{assignment, scalar, Located};
use super::{template, ParsedFile, Reader, SourceKind};
use crate::code::Code;
use crate::diag::Diagnostic;
use crate::source::{FileId, Span};
use crate::yaml::{self, YamlNode};

#[allow(non_upper_case_globals)] // named like the other readers' kinds
impl SourceKind {
    /// A Salt `sysctl.present` state, written and applied by the minion.
    pub const Salt: SourceKind = SourceKind::written("salt");
}

/// The registration of this reader.
pub(super) static READER: Reader = Reader {
    name: "salt",
    kind: SourceKind::Salt,
    recognises: is_salt,
    read,
    host: None,
    units: None,
};

/// Whether a text is a Salt state file with sysctl states: a `sysctl.present:` line, or a
/// `sysctl:` line followed by a `- present` item, in a text whose (Jinja-blanked) YAML has a
/// state that uses them.
pub fn is_salt(text: &str) -> bool {
    let lines = || text.lines().map(str::trim);
    // The lines looked for below hold these; a large text without them is not walked line by line.
    let has = |s: &str| memchr::memmem::find(text.as_bytes(), s.as_bytes()).is_some();
    if !(has("sysctl.present") || (has("sysctl:") && has("- present"))) {
        return false;
    }
    let hinted = lines().any(|l| l.starts_with("sysctl.present:") || l == "- sysctl.present")
        || (lines().any(|l| l == "sysctl:") && lines().any(|l| l == "- present"));
    if !hinted {
        return false;
    }
    let masked = template::mask(text);
    match yaml::parse(crate::source::FileId(0), &masked) {
        Ok(doc) => states(&doc.root).any(|(_, _, body)| body.is_some()),
        Err(_) => false,
    }
}

/// Every state of a document: its id, its node, and the arguments of its sysctl.present
/// function when it has one.
fn states(
    root: &YamlNode,
) -> impl Iterator<
    Item = (
        &crate::source::Spanned<String>,
        &YamlNode,
        Option<Vec<&YamlNode>>,
    ),
> {
    let entries: &[_] = match root {
        YamlNode::Mapping { entries, .. } => entries,
        _ => &[],
    };
    entries.iter().map(|(id, state)| {
        let body = match state {
            YamlNode::Mapping { entries, .. } => entries.iter().find_map(|(f, args)| {
                let items = match args {
                    YamlNode::Sequence { items, .. } => items.iter().collect(),
                    _ => Vec::new(),
                };
                match f.value.as_str() {
                    "sysctl.present" => Some(items),
                    // `sysctl: [present, ...]`: the function is the first plain item.
                    "sysctl"
                        if items
                            .first()
                            .and_then(|i| scalar(i))
                            .is_some_and(|s| s.value == "present") =>
                    {
                        Some(items[1..].to_vec())
                    }
                    _ => None,
                }
            }),
            _ => None,
        };
        (id, state, body)
    })
}

/// Reads every sysctl.present state.
fn read(file: FileId, text: &str) -> ParsedFile {
    let mut parsed = ParsedFile::empty(file, SourceKind::Salt);
    let masked = template::mask(text);
    let doc = match yaml::parse(file, &masked) {
        Ok(d) => d,
        Err(d) => {
            parsed.diagnostics.push(d);
            return parsed;
        }
    };
    parsed.diagnostics.extend(doc.diagnostics);
    for (id, state, args) in states(&doc.root) {
        let Some(args) = args else { continue };
        let arg = |name: &str| args.iter().find_map(|a| a.get(name));
        // The key: `name`, else the state id. Spans of the original text, so a templated part
        // is quoted as the user wrote it.
        let key_span = match arg("name") {
            Some(n @ YamlNode::Scalar { value, .. }) => inner(value, n, &masked),
            _ => id.span,
        };
        let key = text[key_span.range()].trim_matches(['"', '\'']);
        if template::is_templated(key) {
            parsed
                .diagnostics
                .push(template::not_judged(None, key, key_span));
            continue;
        }
        let value = match arg("value") {
            Some(v @ YamlNode::Scalar { .. }) => v,
            Some(other @ (YamlNode::Sequence { .. } | YamlNode::Mapping { .. })) => {
                parsed.diagnostics.push(malformed(
                    other.span(),
                    format!(
                        "the value of `{key}` is {}, not a single value",
                        other.describe()
                    ),
                ));
                continue;
            }
            _ => {
                parsed.diagnostics.push(
                    malformed(
                        state.span(),
                        format!("the sysctl.present state of `{key}` has no value"),
                    )
                    .with_help("add `- value: VALUE` to the state"),
                );
                continue;
            }
        };
        let span = scalar(value).map_or(value.span(), |s| inner(s, value, &masked));
        let written = &text[span.range()];
        let k = super::conf::normalize_key(key);
        if template::is_templated(written) {
            parsed
                .diagnostics
                .push(template::not_judged(Some(&k), written, span));
            continue;
        }
        parsed
            .assignments
            .push(assignment(file, text, key, key_span, written, span));
    }
    parsed
}

/// The span of a scalar's value inside its quotes.
fn inner(s: &crate::source::Spanned<String>, node: &YamlNode, masked: &str) -> Span {
    Located::new(node, masked).map_or(s.span, |l| l.span(0..l.value.len()))
}

/// TW077: a state Salt fails.
fn malformed(span: Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(Code::TW077, message).at(span, "Salt fails this state")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salt_states_are_recognised_by_their_sysctl_functions() {
        assert!(is_salt(
            "net.ipv4.tcp_tw_reuse:\n  sysctl.present:\n    - value: 1\n"
        ));
        assert!(is_salt(
            "x:\n  sysctl:\n    - present\n    - name: vm.swappiness\n    - value: 1\n"
        ));
        assert!(!is_salt("net.ipv4.tcp_tw_reuse = 1\n"));
        assert!(!is_salt(
            "# sysctl.present: is a Salt state\nvm.swappiness = 1\n"
        ));
    }
}
