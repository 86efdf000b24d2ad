//! The compose file reader: the `sysctls` of every service of a docker-compose (or Podman
//! compose) file.
//!
//! Each service is a unit of its own, named after the service, because each container gets its
//! own network namespace, starting from the kernel's defaults. `sysctls` is a mapping
//! (`net.core.somaxconn: 1024`) or a list of `key=value` strings; a service's values may come
//! through a YAML merge key (`<<: *defaults`). What the file alone decides is checked here: keys
//! Docker refuses because no container namespace holds them (TW071), namespaced keys in a
//! service that uses the host's namespace (`network_mode: host`, `ipc: host`; TW072), and items
//! that are not `key=value` (TW075).

use super::container::{self, assignment, scalar, Located, Scope};
use super::kubernetes::shared_namespace;
use super::{ParsedFile, Reader, SourceKind, Unit, Units};
use crate::code::Code;
use crate::diag::Diagnostic;
use crate::source::{FileId, Span};
use crate::yaml::{self, YamlNode};

#[allow(non_upper_case_globals)] // named like the other readers' kinds
impl SourceKind {
    /// A compose service's `sysctls`, written in its container's namespaces when it starts.
    pub const Compose: SourceKind = SourceKind::written("compose");
}

/// The registration of this reader.
pub(super) static READER: Reader = Reader {
    name: "compose",
    kind: SourceKind::Compose,
    recognises: is_compose,
    read: |file, text| read(file, text).flatten(file, SourceKind::Compose),
    host: None,
    units: Some(read),
};

/// Whether a text is a compose file: a top-level `services:` line in YAML, or a JSON object
/// with a `"services"` key.
pub fn is_compose(text: &str) -> bool {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('{') {
        return t.contains("\"services\"");
    }
    // A text without `services:` has no such line: not walked line by line.
    memchr::memmem::find(text.as_bytes(), b"services:").is_some()
        && text.lines().any(|l| {
            l.strip_prefix("services:").is_some_and(|rest| {
                rest.trim().is_empty() || rest.trim_start().starts_with(['#', '{'])
            })
        })
}

/// A service's field: its own, else through a merge key (`<<: *defaults` or a list of them),
/// else from the service it `extends` in the same file (`extends: web` or `extends: {service:
/// web}`; one from another file is not followed). `depth` stops a loop of `extends`.
fn field<'a>(
    services: &'a YamlNode,
    service: &'a YamlNode,
    key: &str,
    depth: usize,
) -> Option<&'a YamlNode> {
    if let Some(v) = service.get(key) {
        return Some(v);
    }
    let merged = match service.get("<<") {
        Some(m @ YamlNode::Mapping { .. }) => field(services, m, key, depth),
        Some(YamlNode::Sequence { items, .. }) => {
            items.iter().find_map(|m| field(services, m, key, depth))
        }
        _ => None,
    };
    if merged.is_some() || depth == 0 {
        return merged;
    }
    let extends = service.get("extends")?;
    if extends.get("file").is_some() {
        return None;
    }
    let base = scalar(extends).or_else(|| extends.get("service").and_then(scalar))?;
    field(services, services.get(&base.value)?, key, depth - 1)
}

/// How many `extends` are followed from one service: compose itself refuses a cycle.
const MAX_EXTENDS: usize = 8;

/// Reads every service.
fn read(file: FileId, text: &str) -> Units {
    let mut units = Units {
        units: Vec::new(),
        diagnostics: Vec::new(),
    };
    let doc = match yaml::parse(file, text) {
        Ok(d) => d,
        Err(d) => {
            units.diagnostics.push(d);
            return units;
        }
    };
    units.diagnostics.extend(doc.diagnostics);
    let Some(services @ YamlNode::Mapping { entries, .. }) = doc.root.get("services") else {
        return units;
    };
    for (name, service) in entries {
        units
            .units
            .push(service_unit(file, text, &name.value, services, service));
    }
    units
}

/// One service: its sysctls as a mapping or a list.
fn service_unit(
    file: FileId,
    text: &str,
    name: &str,
    services: &YamlNode,
    service: &YamlNode,
) -> Unit {
    let mut parsed = ParsedFile::empty(file, SourceKind::Compose);
    // (key as written, key span, value, value span, entry and its collection)
    type Entry = Option<(Span, (Span, usize))>;
    let mut found: Vec<(String, Span, String, Span, Entry)> = Vec::new();
    let diags = &mut parsed.diagnostics;
    match field(services, service, "sysctls", MAX_EXTENDS) {
        Some(map @ YamlNode::Mapping { entries, .. }) => {
            // An entry of a block mapping with others beside it goes alone; `sysctls:` left
            // with nothing would be null, which compose refuses.
            let block = !text[map.span().from()..].starts_with('{') && entries.len() > 1;
            for (k, v) in entries {
                match v {
                    YamlNode::Scalar { .. } => {
                        let l = Located::new(v, text);
                        let span = l.as_ref().map_or(v.span(), |l| l.span(0..l.value.len()));
                        let value = scalar(v).map_or("", |s| s.value.as_str());
                        let entry = block.then(|| Span::new(file, k.span.from(), v.span().to()));
                        let entry = entry.map(|e| (e, (map.span(), entries.len())));
                        found.push((k.value.clone(), k.span, value.to_string(), span, entry));
                    }
                    other => diags.push(malformed(
                        other.span(),
                        format!(
                            "the value of `{}` is {}, not a single value",
                            k.value,
                            other.describe()
                        ),
                    )),
                }
            }
        }
        Some(list @ YamlNode::Sequence { items, .. }) => {
            for item in items {
                let entry = (items.len() > 1)
                    .then(|| container::yaml_item(text, item.span()))
                    .flatten()
                    .map(|e| (e, (list.span(), items.len())));
                let Some(l) = Located::new(item, text) else {
                    diags.push(malformed(
                        item.span(),
                        "a `sysctls` item is not a `key=value` string",
                    ));
                    continue;
                };
                let Some(eq) = l.value.find('=') else {
                    diags.push(
                        malformed(l.whole(), format!("`{}` is not `key=value`", l.value))
                            .with_help("write `- KEY=VALUE`"),
                    );
                    continue;
                };
                let (ks, ke) = trim(l.value, 0, eq);
                let (vs, ve) = match trim(l.value, eq + 1, l.value.len()) {
                    (s, e) if s == e => (eq + 1, eq + 1),
                    r => r,
                };
                found.push((
                    l.value[ks..ke].to_string(),
                    l.span(ks..ke),
                    l.value[vs..ve].to_string(),
                    l.span(vs..ve),
                    entry,
                ));
            }
        }
        Some(YamlNode::Null(_)) | None => {}
        Some(other) => diags.push(malformed(
            other.span(),
            format!("`sysctls` is {}, not a mapping or a list", other.describe()),
        )),
    }
    let host = |key: &str| {
        field(services, service, key, MAX_EXTENDS)
            .filter(|v| scalar(v).is_some_and(|s| s.value == "host"))
            .map(YamlNode::span)
    };
    for (key, key_span, value, value_span, entry) in found {
        let k = super::conf::normalize_key(&key);
        let shared = match container::scope(&k) {
            Scope::Node | Scope::InitNetOnly => {
                diags.push(not_namespaced(&k, key_span));
                continue;
            }
            Scope::Net => host("network_mode"),
            Scope::Ipc => host("ipc"),
        };
        if let Some(flag) = shared {
            diags.push(shared_namespace(&k, key_span, flag, "service"));
            continue;
        }
        let mut a = assignment(file, text, &key, key_span, &value, value_span);
        a.entry = entry.map(|(e, _)| e);
        a.set_collection(entry.map(|(_, c)| c));
        parsed.assignments.push(a);
    }
    Unit {
        name: name.to_string(),
        files: vec![parsed],
    }
}

/// `s[start..end]` without blanks on either side, as a byte range.
fn trim(s: &str, mut start: usize, mut end: usize) -> (usize, usize) {
    let b = s.as_bytes();
    while start < end && b[start].is_ascii_whitespace() {
        start += 1;
    }
    while end > start && b[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    (start, end)
}

/// TW075: an item Docker refuses to read.
fn malformed(span: Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(Code::TW075, message).at(span, "compose refuses this")
}

/// TW071 for a container: a key in no namespace a container has.
fn not_namespaced(key: &str, span: Span) -> Diagnostic {
    let note = if container::scope(key) == Scope::InitNetOnly {
        "a new network namespace has no such file (or a read-only one): the runtime fails to \
         write it and the container does not start"
    } else {
        "Docker and Podman accept only sysctls of the network and IPC namespaces (`net.*`, \
         `kernel.shm*`, `kernel.msg*`, `kernel.sem`, `fs.mqueue.*`) and refuse to create the \
         container otherwise"
    };
    Diagnostic::error(
        Code::TW071,
        format!("`{key}` is not namespaced: a container cannot set it"),
    )
    .with_key(key)
    .at(span, "not in the container's namespaces")
    .with_help("set it on the host (a sysctl.d file), not in the compose file")
    .with_note(note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_files_are_recognised_by_a_top_level_services_key() {
        assert!(is_compose("version: '3'\nservices:\n  web: {}\n"));
        assert!(is_compose("services: # all of them\n  web: {}\n"));
        assert!(is_compose("{\"services\": {}}"));
        assert!(!is_compose("  services:\n"));
        assert!(!is_compose("net.ipv4.tcp_tw_reuse = 1\n"));
    }
}
