//! The Kubernetes manifest reader: the sysctls of every pod template in a manifest.
//!
//! A manifest (YAML or JSON, several documents as `helm template` prints them, a `kind: List`)
//! holds workloads; each pod template (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
//! ReplicationController, Job, CronJob, PodTemplate, or a patch of one) is a unit of its own,
//! named `namespace/kind/name`, because each pod gets its own network namespace. Its values come
//! two ways, applied in this order: the pod's `securityContext.sysctls`, written by the runtime
//! when it creates the pod's sandbox, then `sysctl` commands run by privileged init containers.
//!
//! This module reads; it checks only what the manifest alone decides: keys no pod can set
//! (TW071), sysctls in a pod that shares the node's namespace (TW072), sysctls under a
//! container's `securityContext`, which the API ignores (TW073), an init container that writes
//! without privileges (TW074), and entries the API refuses (TW075). Which keys the kubelet of a
//! given release admits depends on the cluster, and is decided above (`crate::kubernetes`).

use super::container::{self, assignment, is_true, scalar, Located, Scope};
use super::shell::{self, Word};
use super::{ParsedFile, Reader, SourceKind, Unit, Units};
use crate::code::Code;
use crate::diag::Diagnostic;
use crate::source::{FileId, Span};
use crate::yaml::{self, ScalarStyle, YamlNode};

#[allow(non_upper_case_globals)] // named like the other readers' kinds
impl SourceKind {
    /// A pod's `securityContext.sysctls`, written in the pod's namespaces when it starts.
    pub const Kubernetes: SourceKind = SourceKind::written("kubernetes");
    /// A `sysctl` command run by a privileged init container of a pod.
    pub const InitContainer: SourceKind = SourceKind::written("init-container");
}

/// The registration of this reader.
pub(super) static READER: Reader = Reader {
    name: "kubernetes",
    kind: SourceKind::Kubernetes,
    recognises: is_manifest,
    read: |file, text| read(file, text).flatten(file, SourceKind::Kubernetes),
    host: None,
    units: Some(read),
};

/// Whether a text is a Kubernetes manifest: YAML with top-level `apiVersion` and `kind` lines,
/// JSON with both keys, or a patch of a pod template (a top-level `spec` and containers). No
/// sysctl file has a line that starts with `apiVersion:`; a text that merely mentions the
/// words is not taken.
pub fn is_manifest(text: &str) -> bool {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        let has = |k: &str| t.contains(k);
        return (has("\"apiVersion\"") && has("\"kind\""))
            || (has("\"spec\"") && has("ontainers\""));
    }
    // The lines looked for below hold these; a large text without them is not walked line by line.
    let has = |s: &str| memchr::memmem::find(text.as_bytes(), s.as_bytes()).is_some();
    if !((has("apiVersion:") && has("kind:")) || (has("spec:") && has("ontainers:"))) {
        return false;
    }
    let (mut api, mut kind, mut spec, mut containers) = (false, false, false, false);
    for line in text.lines() {
        let l = line.trim_end();
        api |= l.starts_with("apiVersion:");
        kind |= l.starts_with("kind:");
        spec |= l == "spec:";
        let inner = l.trim_start();
        containers |= inner.starts_with("containers:") || inner.starts_with("initContainers:");
        if api && kind {
            return true;
        }
    }
    spec && containers
}

/// The kinds whose objects hold a pod template, and the path to its pod spec.
fn pod_spec<'a>(kind: Option<&str>, doc: &'a YamlNode) -> Option<&'a YamlNode> {
    let path: &[&str] = match kind {
        Some("Pod") => &["spec"],
        Some(
            "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "ReplicationController"
            | "Job",
        ) => &["spec", "template", "spec"],
        Some("CronJob") => &["spec", "jobTemplate", "spec", "template", "spec"],
        Some("PodTemplate") => &["template", "spec"],
        // A patch (`kubectl patch`, kustomize) names no kind: the pod spec is under the
        // template when it has one.
        None => {
            let spec = doc.get("spec")?;
            return Some(
                spec.get("template")
                    .and_then(|t| t.get("spec"))
                    .unwrap_or(spec),
            );
        }
        Some(_) => return None,
    };
    path.iter().try_fold(doc, |n, k| n.get(k))
}

/// Reads every pod template of a manifest.
fn read(file: FileId, text: &str) -> Units {
    let mut units = Units {
        units: Vec::new(),
        diagnostics: Vec::new(),
    };
    let stream = match yaml::parse_stream(file, text) {
        Ok(s) => s,
        Err(d) => {
            units.diagnostics.push(d);
            return units;
        }
    };
    units.diagnostics.extend(stream.diagnostics);
    let mut docs: Vec<&YamlNode> = stream.documents.iter().collect();
    // Lists (`kind: List`, `kubectl get -o yaml`) are read item by item, in place.
    let mut i = 0;
    while i < docs.len() {
        let doc = docs[i];
        let kind = doc.get("kind").and_then(scalar).map(|k| k.value.as_str());
        if kind.is_some_and(|k| k == "List" || k.ends_with("List")) {
            let items = match doc.get("items") {
                Some(YamlNode::Sequence { items, .. }) => items.iter().collect(),
                _ => Vec::new(),
            };
            docs.splice(i..=i, items);
            continue;
        }
        i += 1;
        let Some(spec) = pod_spec(kind, doc) else {
            continue;
        };
        let meta = doc.get("metadata");
        let field = |k: &str| {
            meta.and_then(|m| m.get(k))
                .and_then(scalar)
                .map(|v| v.value.clone())
        };
        let name = format!(
            "{}/{}/{}",
            field("namespace").unwrap_or_else(|| "default".into()),
            kind.unwrap_or("patch"),
            field("name").unwrap_or_else(|| "(unnamed)".into()),
        );
        units.units.push(pod(file, text, name, spec));
    }
    units
}

/// One pod template: its sysctls, then its init containers' commands.
fn pod(file: FileId, text: &str, name: String, spec: &YamlNode) -> Unit {
    let mut sysctls = ParsedFile::empty(file, SourceKind::Kubernetes);
    let mut init = ParsedFile::empty(file, SourceKind::InitContainer);
    let host_net = spec.get("hostNetwork");
    let host_ipc = spec.get("hostIPC");
    let diags = &mut sysctls.diagnostics;
    if let Some(list) = spec.get("securityContext").and_then(|s| s.get("sysctls")) {
        let items: &[YamlNode] = match list {
            YamlNode::Sequence { items, .. } => items,
            YamlNode::Null(_) => &[],
            other => {
                diags.push(
                    malformed(other.span(), "`sysctls` is not a list").with_help(
                        "write one `- name: KEY` / `  value: \"VALUE\"` item per sysctl",
                    ),
                );
                &[]
            }
        };
        for item in items {
            let Some((key, value)) = entry(item, diags) else {
                continue;
            };
            // The key without its quotes (JSON, a quoted YAML name), as the value.
            let key = crate::source::Spanned::new(
                key.value.clone(),
                item.get("name").map_or(key.span, |n| value_span(n, text)),
            );
            let key = &key;
            let k = super::conf::normalize_key(&key.value);
            let shared = match container::scope(&k) {
                Scope::Node | Scope::InitNetOnly => {
                    diags.push(not_namespaced(&k, key.span, false));
                    continue;
                }
                Scope::Net if is_true(host_net) => host_net,
                Scope::Ipc if is_true(host_ipc) => host_ipc,
                _ => None,
            };
            if let Some(flag) = shared {
                diags.push(shared_namespace(&k, key.span, flag.span(), "pod"));
                continue;
            }
            let mut a = assignment(
                file,
                text,
                &key.value,
                key.span,
                &scalar(value).map_or(String::new(), |v| v.value.clone()),
                value_span(value, text),
            );
            // An item of a block list with others beside it goes alone (an empty list would
            // still do, but says nothing a reader wants).
            a.entry = (items.len() > 1)
                .then(|| container::yaml_item(text, item.span()))
                .flatten();
            a.set_collection(Some((list.span(), items.len())));
            sysctls.assignments.push(a);
        }
    }
    for (list, is_init) in [("containers", false), ("initContainers", true)] {
        let Some(YamlNode::Sequence { items, .. }) = spec.get(list) else {
            continue;
        };
        for c in items {
            let sc = c.get("securityContext");
            if let Some((k, _)) = sc.and_then(|s| match s {
                YamlNode::Mapping { entries, .. } => {
                    entries.iter().find(|(k, _)| k.value == "sysctls")
                }
                _ => None,
            }) {
                diags.push(container_sysctls(k.span));
            }
            if is_init {
                let privileged = is_true(sc.and_then(|s| s.get("privileged")));
                commands(file, text, c, privileged, &mut init, diags);
            }
        }
    }
    let mut files = vec![sysctls];
    if !init.assignments.is_empty() {
        files.push(init);
    }
    Unit { name, files }
}

/// The `name` and `value` of one `sysctls` item; TW075 for an item the API refuses.
fn entry<'a>(
    item: &'a YamlNode,
    diags: &mut Vec<Diagnostic>,
) -> Option<(&'a crate::source::Spanned<String>, &'a YamlNode)> {
    if !matches!(item, YamlNode::Mapping { .. }) {
        diags.push(
            malformed(item.span(), "a `sysctls` item is not a mapping")
                .with_help("write `- name: KEY` with `value: \"VALUE\"` under it"),
        );
        return None;
    }
    let name = item.get("name").and_then(scalar);
    let value = item.get("value");
    let (Some(name), Some(value)) = (name, value) else {
        let missing = if name.is_none() { "name" } else { "value" };
        diags.push(
            malformed(item.span(), format!("a `sysctls` item has no `{missing}`"))
                .with_help("every item needs both `name` and `value`; the API server refuses the object otherwise"),
        );
        return None;
    };
    match value.as_scalar() {
        Some((v, ScalarStyle::Plain)) if !is_plain_string(&v.value) => {
            diags.push(
                malformed(
                    v.span,
                    format!("the value of `{}` is not a string", name.value),
                )
                .with_help(format!("quote it: `value: \"{}\"`", v.value))
                .with_note(
                    "the API's `value` is a string: kubectl and the API server refuse a number \
                         or a boolean here (`cannot unmarshal number into ... of type string`)",
                ),
            );
            Some((name, value))
        }
        Some(_) => Some((name, value)),
        None => {
            diags.push(malformed(
                value.span(),
                format!(
                    "the value of `{}` is {}, not a string",
                    name.value,
                    value.describe()
                ),
            ));
            None
        }
    }
}

/// A plain scalar that YAML reads as a string (not a number, boolean or null).
fn is_plain_string(v: &str) -> bool {
    yaml::parse_int(v).is_none()
        && yaml::parse_float(v).is_none()
        && !matches!(
            v,
            "true" | "false" | "True" | "False" | "TRUE" | "FALSE" | "null" | "~" | ""
        )
}

/// The span of a scalar's value without its quotes, where it maps exactly.
fn value_span(node: &YamlNode, text: &str) -> Span {
    match Located::new(node, text) {
        Some(l) => l.span(0..l.value.len()),
        None => node.span(),
    }
}

/// The `sysctl` commands an init container runs: its `command` and `args`, in exec form
/// (`[sysctl, -w, k=v]`) or through a shell (`[sh, -c, SCRIPT]`).
fn commands(
    file: FileId,
    text: &str,
    c: &YamlNode,
    privileged: bool,
    init: &mut ParsedFile,
    diags: &mut Vec<Diagnostic>,
) {
    let mut argv: Vec<&YamlNode> = Vec::new();
    for k in ["command", "args"] {
        if let Some(YamlNode::Sequence { items, .. }) = c.get(k) {
            argv.extend(items.iter().filter(|i| i.as_scalar().is_some()));
        }
    }
    let located: Vec<Located> = argv.iter().filter_map(|n| Located::new(n, text)).collect();
    let Some(first) = located.first() else {
        return;
    };
    let shell = matches!(
        first.value.rsplit('/').next(),
        Some("sh" | "bash" | "ash" | "dash" | "zsh")
    );
    // Each found write: its key and value as the kernel gets them, and their spans.
    let mut found: Vec<(String, Span, String, Span)> = Vec::new();
    if shell {
        let script = located
            .iter()
            .position(|l| {
                l.value.starts_with('-') && !l.value.starts_with("--") && l.value.ends_with('c')
            })
            .and_then(|i| located.get(i + 1));
        if let Some(script) = script {
            // `sysctl -w k=v` and `echo v > /proc/sys/...` alike: both write the key now.
            for e in shell::effects(script.value) {
                if let shell::Effect::Write(w) = e {
                    found.push((
                        w.key,
                        script.span(w.key_at),
                        w.value,
                        script.span(w.value_at),
                    ));
                }
            }
        }
    } else {
        let words: Vec<Word> = located.iter().map(|l| Word::literal(l.value, 0)).collect();
        for w in shell::sysctl_writes(&words).unwrap_or_default() {
            let l = &located[w.word];
            found.push((w.key, l.span(w.key_at), w.value, l.span(w.value_at)));
        }
    }
    let name = c
        .get("name")
        .and_then(scalar)
        .map_or("(unnamed)", |n| n.value.as_str());
    for (key, key_span, value, value_span) in found {
        let k = super::conf::normalize_key(&key);
        if !privileged {
            diags.push(unprivileged(&k, name, key_span));
            continue;
        }
        if matches!(container::scope(&k), Scope::Node | Scope::InitNetOnly) {
            diags.push(not_namespaced(&k, key_span, true));
            continue;
        }
        init.assignments
            .push(assignment(file, text, &key, key_span, &value, value_span));
    }
}

/// TW075: an item the API server refuses.
fn malformed(span: Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(Code::TW075, message).at(span, "refused by the API server")
}

/// TW071 for a pod: a key in no namespace a pod has.
pub(super) fn not_namespaced(key: &str, span: Span, init: bool) -> Diagnostic {
    let initial_only = container::scope(key) == Scope::InitNetOnly;
    let (message, label, note) = match (init, initial_only) {
        (false, false) => (
            format!("`{key}` is not namespaced: a pod cannot set it"),
            "not in the pod's namespaces",
            "the kubelet only admits sysctls of the network and IPC namespaces (`net.*`, \
             `kernel.shm*`, `kernel.msg*`, `kernel.sem`, `fs.mqueue.*`); the pod is rejected \
             with SysctlForbidden, and `--allowed-unsafe-sysctls` cannot allow it",
        ),
        (false, true) => (
            format!("`{key}` exists only in the node's network namespace: a pod cannot set it"),
            "no such key in the pod's namespace",
            "a new network namespace has no such file (or a read-only one): the container \
             runtime fails to write it and the pod never starts",
        ),
        (true, _) => (
            format!("`{key}` is not per pod: this init container changes it for the whole node"),
            "written to the node's kernel",
            "a privileged container writes /proc/sys of the node for every key that is not per \
             network or IPC namespace: every pod on the node, and the node itself, get the value",
        ),
    };
    Diagnostic::error(Code::TW071, message)
        .with_key(key)
        .at(span, label)
        .with_help("set it on the nodes (a sysctl.d file, the node image, a DaemonSet that owns node tuning), not in a pod")
        .with_note(note)
}

/// TW072: a namespaced key in a pod or service that shares the node's namespace.
pub(super) fn shared_namespace(key: &str, key_span: Span, flag: Span, what: &str) -> Diagnostic {
    let ns = if key.starts_with("net.") {
        "network"
    } else {
        "IPC"
    };
    Diagnostic::error(
        Code::TW072,
        format!("`{key}` is refused: this {what} uses the node's {ns} namespace"),
    )
    .with_key(key)
    .at(key_span, "not allowed with the host's namespace")
    .with_secondary(flag, format!("the {what} shares the host's {ns} namespace here"))
    .with_help("drop the sysctl and set the value on the host, or give the workload a namespace of its own")
}

/// TW073: sysctls under a container's `securityContext`.
fn container_sysctls(span: Span) -> Diagnostic {
    Diagnostic::warning(
        Code::TW073,
        "`sysctls` under a container's securityContext is ignored",
    )
    .at(span, "not a field of a container's securityContext")
    .with_help(
        "move the list to the pod's `spec.securityContext.sysctls`: sysctls apply to the whole pod",
    )
    .with_note(
        "the API server drops unknown fields (kubectl warns `unknown field`, and refuses the \
         object with --validate=strict): none of these values is ever set",
    )
}

/// TW074: an init container that writes sysctls without privileges.
fn unprivileged(key: &str, container: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        Code::TW074,
        format!("init container `{container}` writes `{key}` without privileges"),
    )
    .with_key(key)
    .at(span, "this write fails")
    .with_help("set `securityContext.privileged: true` on the init container, or use the pod's `securityContext.sysctls` for a safe sysctl")
    .with_note(
        "container runtimes mount /proc/sys read-only in an unprivileged container: `sysctl -w` \
         fails with `Read-only file system`, the init container exits with an error and the pod \
         does not start",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_are_recognised_by_their_shape_and_sysctl_files_are_not() {
        assert!(is_manifest("apiVersion: v1\nkind: Pod\n"));
        assert!(is_manifest("# c\n---\nkind: Pod\napiVersion: v1\n"));
        assert!(is_manifest("{\"kind\": \"Pod\", \"apiVersion\": \"v1\"}"));
        assert!(is_manifest(
            "{\"spec\": {\"template\": {\"spec\": {\"initContainers\": []}}}}"
        ));
        assert!(is_manifest(
            "spec:\n  template:\n    spec:\n      containers: []\n"
        ));
        assert!(!is_manifest(
            "net.ipv4.tcp_tw_reuse = 1\n# apiVersion: v1 kind: Pod\n"
        ));
        assert!(!is_manifest("services:\n  web:\n    image: x\n"));
    }
}
