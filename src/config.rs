//! A node's effective configuration: what the kernel of that node would end up with.
//!
//! Input is what the sysctl reader parsed (files, folders or a dump, in application order) plus a
//! topology's inline `set:` values; output is one [`Value`] per in-scope key, with where it came
//! from, and the diagnostics that need kernel knowledge: unknown keys, keys the node's kernel
//! lacks, values the kernel would reject, same-parity port ranges. The grammar-level checks
//! (syntax, duplicates, quotes) belong to the reader, not here.

use crate::code::Code;
use crate::diag::{did_you_mean, Diagnostic, Severity, Verdict};
use crate::kernel::{self, CheckContext, Default, KernelVersion, KeySpec};
use crate::source::Span;
use crate::sysctl::{SourceKind, SysctlSet};
use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

/// Where an effective value came from (`source.kind` in the JSON report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKindOut {
    /// A file an input reader read: a sysctl file (`file`), a dump (`dump`), or any format a
    /// reader registers (see [`crate::inputs`]).
    Read(SourceKind),
    Inline,
    Live,
    Default,
}

impl SourceKindOut {
    /// A host's state as the kernel printed it, read from a file (see
    /// [`SourceKind::printed`]); the live host's values are laid over a node's elsewhere.
    pub fn is_printed(self) -> bool {
        matches!(self, SourceKindOut::Read(kind) if kind.is_printed())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKindOut::Read(kind) => kind.as_str(),
            SourceKindOut::Inline => "inline",
            SourceKindOut::Live => "live",
            SourceKindOut::Default => "default",
        }
    }
}

/// The effective value of one in-scope key on one node.
#[derive(Debug, Clone)]
pub struct Value {
    /// As the kernel would print it (fields joined by one space); `None` when the key does not
    /// exist on the node's kernel, or when its default cannot be known statically.
    pub printed: Option<String>,
    /// The text as written, for keys set but absent or rejected.
    pub written: Option<String>,
    pub kind: SourceKindOut,
    /// Where the winning value was written.
    pub span: Option<Span>,
    /// The key exists on the node's kernel.
    pub present: bool,
    /// Explicitly set (by a file, an inline value, a dump or the live host).
    pub set: bool,
    /// Why the default is unknown, for memory-dependent defaults.
    pub default_note: Option<&'static str>,
    /// The last value written for this key, when the kernel refused it: the value above is the
    /// one that stayed in force (an earlier one, or the default).
    pub refused: Option<Refused>,
}

impl Value {
    /// The value a report shows: as the kernel prints it, else as written.
    pub fn shown(&self) -> Option<String> {
        self.printed.clone().or_else(|| self.written.clone())
    }

    /// Where a report points for it: the refused line when the kernel refused the last one
    /// written, else where the value in force was written.
    pub fn shown_span(&self) -> Option<Span> {
        self.refused.as_ref().map(|r| r.span).or(self.span)
    }
}

/// A value the kernel refused (EINVAL), where it was written and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub written: String,
    pub span: Span,
    pub reason: String,
}

/// The tool that applies a node's sysctl files, whose end state twlint judges. They differ
/// where a file's last value for a key is refused: procps `sysctl -p`/`--system` writes every
/// assignment in order, so an earlier accepted value stays in force; systemd-sysctl keeps only
/// the last assignment of each key and writes that, so the key keeps the value it had before
/// (the kernel default at boot). Checked on procps-ng 4.0.2 and systemd 252 in a fresh network
/// namespace (`tcp_tw_reuse = 1` then `= 3`: procps ends with 1, systemd-sysctl with 2; both
/// exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(
    description = "The tool that applies the nodes' sysctl files: procps (`sysctl -p`, `sysctl --system`) or systemd (systemd-sysctl at boot)."
)]
pub enum Applier {
    #[default]
    Procps,
    Systemd,
}

impl Applier {
    pub fn as_str(self) -> &'static str {
        match self {
            Applier::Procps => "procps",
            Applier::Systemd => "systemd",
        }
    }

    pub fn parse(s: &str) -> Option<Applier> {
        match s {
            "procps" => Some(Applier::Procps),
            "systemd" => Some(Applier::Systemd),
            _ => None,
        }
    }
}

/// Where the kernel version of a node came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelOrigin {
    /// The node's own `kernel:` in the topology.
    Node,
    /// The topology's `defaults.kernel`.
    Defaults,
    /// `--kernel` on the command line.
    Flag,
    /// `kernel.osrelease` in a dump.
    Dump,
    /// Nothing said: twlint assumed its newest known kernel.
    Assumed,
    /// Nothing said in the input; `kernel:` of `.twlint.yaml` was used.
    Config,
    /// The release of the host whose live values are judged (host mode).
    Live,
}

impl KernelOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            KernelOrigin::Node => "node",
            KernelOrigin::Defaults => "defaults",
            KernelOrigin::Flag => "flag",
            KernelOrigin::Dump => "dump",
            KernelOrigin::Assumed => "assumed",
            KernelOrigin::Config => "config",
            KernelOrigin::Live => "live",
        }
    }
}

/// The kernel twlint assumes when nothing names one: the newest it has knowledge of.
pub const ASSUMED_KERNEL: KernelVersion = KernelVersion::new(6, 18);

/// One node's effective configuration.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub name: String,
    pub kernel: KernelVersion,
    pub kernel_origin: KernelOrigin,
    pub values: BTreeMap<&'static str, Value>,
    /// The tool whose end state `values` is.
    pub applier: Applier,
}

impl NodeConfig {
    pub fn value(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    /// The first integer of a value, when it has one.
    pub fn int(&self, key: &str) -> Option<i64> {
        self.value(key)?
            .printed
            .as_deref()?
            .split_ascii_whitespace()
            .next()?
            .parse()
            .ok()
    }
}

/// An inline value from a topology (`sysctl.set`).
#[derive(Debug, Clone)]
pub struct InlineValue {
    pub key: String,
    pub key_span: Span,
    pub value: String,
    pub value_span: Span,
}

/// Keys looked at for TW002, borrowed from the assignments: a set of owned keys hashed with
/// SipHash allocated and hashed a copy of every key of a large file.
type KeySet<'a> = HashSet<&'a str, foldhash::fast::RandomState>;

/// Keys of the kernel twlint knows (sysctl -a -N of 6.18), interface names folded to `*`.
fn known_keys() -> &'static HashSet<&'static str> {
    static KNOWN: OnceLock<HashSet<&'static str>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        include_str!("data/known-keys.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect()
    })
}

/// Folds the interface component of per-interface keys to `*`, as in the known-key list.
fn fold_interface(key: &str) -> String {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.len() >= 5
        && parts[0] == "net"
        && (parts[1] == "ipv4" || parts[1] == "ipv6")
        && (parts[2] == "conf" || parts[2] == "neigh")
    {
        let mut p = parts.clone();
        p[3] = "*";
        return p.join(".");
    }
    key.to_string()
}

/// Whether twlint's key list is complete enough below this key's prefix to call it unknown.
/// Module-provided trees (netfilter, bridge) and non-network keys vary by build, so they are
/// only checked for near-misses of in-scope keys.
fn namespace_is_checked(key: &str) -> bool {
    // Trees the kernel builds in whole: a key missing there is missing on every machine of
    // that release. Trees registered by modules (conntrack, bridge, NFS, XFS, FUSE, ...) are
    // left out, since the list holds only the modules loaded where it was taken.
    const CHECKED: [&str; 5] = ["net.ipv4.", "net.ipv6.", "net.core.", "net.unix.", "vm."];
    const MODULES: [&str; 2] = ["net.ipv4.vs.", "net.ipv6.vs."];
    CHECKED.iter().any(|p| key.starts_with(p)) && !MODULES.iter().any(|p| key.starts_with(p))
}

/// Builds a node's effective configuration from its sysctl set and inline values as procps
/// applies them (see [`resolve_with`]).
pub fn resolve(
    name: &str,
    kernel: KernelVersion,
    kernel_origin: KernelOrigin,
    set: Option<&SysctlSet>,
    inline: &[InlineValue],
    diags: &mut Vec<Diagnostic>,
) -> NodeConfig {
    resolve_with(
        name,
        kernel,
        kernel_origin,
        set,
        inline,
        Applier::Procps,
        diags,
    )
}

/// Builds a node's effective configuration from its sysctl set and inline values, as `applier`
/// leaves it, pushing the kernel-aware diagnostics into `diags`.
pub fn resolve_with<'a>(
    name: &str,
    kernel: KernelVersion,
    kernel_origin: KernelOrigin,
    set: Option<&'a SysctlSet>,
    inline: &'a [InlineValue],
    applier: Applier,
    diags: &mut Vec<Diagnostic>,
) -> NodeConfig {
    // Every assignment, in the order the kernel would see them.
    struct Write<'a> {
        key: &'a str,
        value: &'a str,
        key_span: Span,
        value_span: Span,
        kind: SourceKindOut,
        ignore_failure: bool,
    }
    // Companion values the checks depend on, tracked as the writes are applied.
    let mut unpriv: i64 = 1024;
    let mut high: i64 =
        match kernel::spec("net.ipv4.ip_local_port_range").map(|s| s.era(kernel).default) {
            Some(Default::Value(v)) => v
                .split(' ')
                .nth(1)
                .and_then(|h| h.parse().ok())
                .unwrap_or(60999),
            _ => 60999,
        };
    let mut low: i64 = 32768;
    let mut values: BTreeMap<&'static str, Value> = BTreeMap::new();
    // Keys whose last write so far was refused.
    let mut refused: BTreeMap<&'static str, Refused> = BTreeMap::new();
    // Keys looked at for TW002, and how many of them were unknown.
    let mut reported_unknown: (KeySet, usize) = (KeySet::default(), 0);

    // Walked, not collected: a list of every write was a hundred bytes per assignment, held at
    // the peak of a large file's run.
    let mut apply = |w: Write<'a>| {
        let Some(spec) = kernel::spec(w.key) else {
            check_unknown(
                name,
                kernel,
                w.key,
                w.key_span,
                w.kind,
                w.ignore_failure,
                &mut reported_unknown,
                diags,
            );
            return;
        };
        if !spec.exists_on(kernel) {
            // The verdict rules judge a set-but-absent key; keep what was written.
            values.insert(
                spec.key,
                Value {
                    printed: None,
                    written: Some(w.value.to_string()),
                    kind: w.kind,
                    span: Some(w.value_span),
                    present: false,
                    set: true,
                    default_note: None,
                    refused: None,
                },
            );
            return;
        }
        let ctx = CheckContext {
            kernel,
            unprivileged_port_start: unpriv,
            current_high: high,
            current_low: low,
        };
        match kernel::check_value(spec, w.value, &ctx) {
            Ok(printed) => {
                if spec.key == "net.ipv4.ip_unprivileged_port_start" {
                    unpriv = printed.parse().unwrap_or(unpriv);
                }
                if spec.key == "net.ipv4.ip_local_port_range" {
                    low = printed
                        .split(' ')
                        .next()
                        .and_then(|l| l.parse().ok())
                        .unwrap_or(low);
                    high = printed
                        .split(' ')
                        .nth(1)
                        .and_then(|h| h.parse().ok())
                        .unwrap_or(high);
                    parity_check(name, kernel, &printed, w.value_span, w.kind, diags);
                }
                // A dump lists every key, defaults included; `set` means "configured", so a
                // dump value only counts as set when it differs from the kernel's default.
                let set = !w.kind.is_printed() || !looks_like_default(spec, kernel, &printed);
                refused.remove(spec.key);
                values.insert(
                    spec.key,
                    Value {
                        printed: Some(printed),
                        written: Some(w.value.to_string()),
                        kind: w.kind,
                        span: Some(w.value_span),
                        present: true,
                        set,
                        default_note: None,
                        refused: None,
                    },
                );
            }
            Err(rej) => {
                refused.insert(
                    spec.key,
                    Refused {
                        written: w.value.trim().to_string(),
                        span: w.value_span,
                        reason: rej.reason.clone(),
                    },
                );
                let mut d = Diagnostic::new(Code::TW004, Severity::Error, format!("the kernel rejects `{}` for `{}`: {}", w.value.trim(), spec.key, rej.reason))
                    .with_verdict(Verdict::Dangerous)
                    .with_node(name)
                    .with_key(spec.key)
                    .at(w.value_span, "the kernel answers EINVAL to this value")
                    .with_help("write a value the kernel accepts; until then the key keeps its previous value and `sysctl -p` exits 1")
                    .with_note(format!("judged for kernel {kernel}"));
                if spec.era(kernel).unverified {
                    d = d.with_note("the version boundary behind this check is not confirmed by a primary source; see `twlint explain TW004`");
                }
                diags.push(d);
            }
        }
    };
    if let Some(set) = set {
        for file in &set.files {
            let kind = SourceKindOut::Read(file.kind);
            for a in &file.assignments {
                let write = |key| Write {
                    key,
                    value: a.value(),
                    key_span: a.key_span(),
                    value_span: a.value_span(),
                    kind,
                    ignore_failure: a.ignore_failure(),
                };
                if !a.glob() {
                    apply(write(a.key()));
                    continue;
                }
                // A glob writes every in-scope key it matches that no explicit assignment or
                // exclusion keeps from it (`net.ipv4.tcp_*_timeout = 5` sets tcp_fin_timeout;
                // found by tests/differential.rs).
                for spec in kernel::KEYS {
                    if crate::sysctl::glob_matches(a.key(), spec.key)
                        && set.get(spec.key).is_some_and(|s| s.via_glob)
                    {
                        apply(write(spec.key));
                    }
                }
            }
        }
    }
    for v in inline {
        apply(Write {
            key: &v.key,
            value: &v.value,
            key_span: v.key_span,
            value_span: v.value_span,
            kind: SourceKindOut::Inline,
            ignore_failure: false,
        });
    }

    // A refused last value: procps kept the value written before it, systemd-sysctl wrote only
    // the refused one and the key kept its default. Say where the two end states differ.
    for (key, r) in &refused {
        let Some(earlier) = values.get(key) else {
            continue;
        };
        let default = kernel::spec(key).and_then(|s| match s.era(kernel).default {
            Default::Value(v) => Some(v),
            Default::MemoryDependent(_) => None,
        });
        let kept = earlier.printed.clone().unwrap_or_default();
        if default.is_some_and(|d| d == kept) {
            continue;
        }
        let shown_default = default.map_or("its default".to_string(), |d| format!("`{d}`"));
        diags.push(
            Diagnostic::new(
                Code::TW010,
                Severity::Warning,
                format!(
                    "procps and systemd-sysctl end with different values for `{key}`: `{kept}` and {shown_default}"
                ),
            )
            .with_node(name)
            .with_key(*key)
            .at(r.span, "the kernel refuses this last value")
            .with_secondary(
                earlier.span.unwrap_or(r.span),
                "procps wrote this value before it and keeps it",
            )
            .with_help("write a value the kernel accepts, once, so that both tools agree")
            .with_note(format!(
                "procps `sysctl -p` writes every line in order, so the earlier value stays in force; systemd-sysctl writes only the last assignment of each key, which the kernel refuses, so the key keeps {shown_default}; twlint judges {}'s end state",
                applier.as_str()
            )),
        );
        if applier == Applier::Systemd {
            values.remove(key);
        }
    }

    // Fill in defaults for keys the kernel has and nobody set.
    for spec in kernel::KEYS {
        if values.contains_key(spec.key) || !spec.exists_on(kernel) {
            continue;
        }
        let (printed, note) = match spec.era(kernel).default {
            Default::Value(v) => (Some(v.to_string()), None),
            Default::MemoryDependent(n) => (None, Some(n)),
        };
        values.insert(
            spec.key,
            Value {
                printed,
                written: None,
                kind: SourceKindOut::Default,
                span: None,
                present: true,
                set: false,
                default_note: note,
                refused: None,
            },
        );
    }
    for (key, r) in refused {
        if let Some(v) = values.get_mut(key) {
            v.refused = Some(r);
        }
    }

    NodeConfig {
        name: name.to_string(),
        kernel,
        kernel_origin,
        values,
        applier,
    }
}

/// TW006 tells an earlier assignment that a later one overrides it. When the kernel refuses the
/// later value that is true only under systemd-sysctl (which writes the last assignment alone);
/// procps writes the earlier value first and it stays in force. Rewrites those diagnostics for
/// the tool `cfg` was resolved for.
pub fn correct_overrides(diags: &mut [Diagnostic], cfg: &NodeConfig) {
    for d in diags.iter_mut().filter(|d| d.code == Code::TW006.as_str()) {
        let Some(key) = d.key.as_deref() else {
            continue;
        };
        let Some(r) = cfg.value(key).and_then(|v| v.refused.as_ref()) else {
            continue;
        };
        let wins_refused = d.secondary.iter().any(|l| l.span.contains(r.span));
        if !wins_refused || d.notes.iter().any(|n| n.contains("refuses")) {
            continue;
        }
        d.message = match cfg.applier {
            Applier::Procps => format!(
                "`{key}` is set again later, but the kernel refuses that value (`{}`), so under procps this one stays in force",
                r.written
            ),
            Applier::Systemd => format!(
                "`{key}` is set again later to a value the kernel refuses (`{}`): systemd-sysctl writes only that one, so this value is never applied",
                r.written
            ),
        };
        d.help = Some("Keep one assignment per key, with a value the kernel accepts.".into());
        for l in d.secondary.iter_mut().filter(|l| l.span.contains(r.span)) {
            l.message = "the kernel refuses this later value".into();
        }
        d.notes = vec![format!(
            "procps `sysctl -p` writes every assignment in order and keeps this value when the later one is refused; systemd-sysctl writes only the last assignment, which the kernel refuses ({}), and the key keeps its previous value",
            r.reason
        )];
    }
}

/// Whether a value read from a dump is (most likely) the kernel's own default. The
/// memory-dependent `tcp_max_tw_buckets` is half the established-hash size, a power of two, so a
/// power of two is taken as the default; a lowered value (5000, 10000) is not one.
pub fn looks_like_default(spec: &KeySpec, kernel: KernelVersion, printed: &str) -> bool {
    match spec.era(kernel).default {
        Default::Value(v) => v == printed,
        Default::MemoryDependent(_) => printed
            .parse::<u64>()
            .is_ok_and(|n| n >= 128 && n.is_power_of_two()),
    }
}

fn parity_check(
    name: &str,
    kernel: KernelVersion,
    printed: &str,
    span: Span,
    _kind: SourceKindOut,
    diags: &mut Vec<Diagnostic>,
) {
    // Before 07f4c90062f8 (believed 4.2, KERNEL-FACTS 5.3; the era of `kernel::KEYS` where
    // the default became 32768 60999) connect() scanned the range in order: parity did not
    // matter, and the kernel's own default was same-parity. A dump's range is reported as a
    // file's: the host runs with it either way.
    if kernel < KernelVersion::new(4, 2) {
        return;
    }
    let mut it = printed.split(' ').filter_map(|p| p.parse::<i64>().ok());
    let (Some(low), Some(high)) = (it.next(), it.next()) else {
        return;
    };
    if (low ^ high) & 1 == 0 && low != high {
        diags.push(
            Diagnostic::warning(Code::TW007, format!("port range {low}-{high} starts and ends on the same parity"))
                .with_node(name)
                .with_key("net.ipv4.ip_local_port_range")
                .at(span, "both ends are ".to_string() + if low % 2 == 0 { "even" } else { "odd" })
                .with_help(format!("end the range on a port of the other parity, for example `{low} {}`", high - 1))
                .with_note("the kernel logs `ip_local_port_range: prefer different parity for start/end values.`, since connect() scans the ports of the low bound's parity first and bind(0) the others"),
        );
    }
}

/// How many distinct unknown keys of one node are searched for a near miss (TW002).
const MAX_UNKNOWN_CHECKED: usize = 500;

#[allow(clippy::too_many_arguments)]
fn check_unknown<'a>(
    name: &str,
    kernel: KernelVersion,
    key: &'a str,
    span: Span,
    kind: SourceKindOut,
    ignore_failure: bool,
    (reported, unknown_seen): &mut (KeySet<'a>, usize),
    diags: &mut Vec<Diagnostic>,
) {
    // A dump lists what the kernel has; nothing in it can be unknown to that kernel.
    // `reported` holds every key looked at and, past the limit, an empty marker key.
    if kind.is_printed() || !reported.insert(key) {
        return;
    }
    let folded = fold_interface(key);
    if known_keys().contains(folded.as_str()) {
        return;
    }
    // Each check compares the key with every known key; hundreds of distinct unknown keys mean
    // a generated or hostile file, so the rest are skipped with one note instead of minutes of
    // work.
    *unknown_seen += 1;
    if *unknown_seen > MAX_UNKNOWN_CHECKED {
        if reported.insert("") {
            diags.push(
                Diagnostic::warning(
                    Code::TW002,
                    format!("more than {MAX_UNKNOWN_CHECKED} distinct unknown keys; the rest are not checked"),
                )
                .with_node(name)
                .at(span, "keys from here on are not checked"),
            );
        }
        return;
    }
    let in_scope = kernel::KEYS.iter().map(|s| s.key);
    let suggestion = did_you_mean(key, in_scope).or_else(|| {
        did_you_mean(
            key,
            known_keys().iter().copied().filter(|k| !k.contains('*')),
        )
    });
    if suggestion.is_none() && !namespace_is_checked(key) {
        return;
    }
    // A near-miss of a real key is almost certainly a typo: the intended setting never applies.
    let mut d = match suggestion {
        Some(s) => Diagnostic::error(Code::TW002, format!("unknown key `{key}`"))
            .with_verdict(Verdict::Dangerous)
            .with_help(format!("did you mean `{s}`?")),
        None => Diagnostic::warning(Code::TW002, format!("unknown key `{key}`"))
            .with_help("check the name against `sysctl -a` on the target kernel; remove the line if the key no longer exists"),
    };
    d = d
        .with_node(name)
        .with_key(key)
        .at(span, "no such file under /proc/sys")
        .with_note("`sysctl -p` prints `cannot stat /proc/sys/...` and exits 1; `sysctl --system` and systemd-sysctl skip the line, so the setting silently never applies")
        .with_note(format!("checked against the keys of Linux {ASSUMED_KERNEL} (the node runs {kernel}); keys of modules that are not loaded are not checked"));
    if ignore_failure {
        d = d.with_note("the leading `-` does not help here: procps 4 ignores only open and permission errors, so `sysctl -p` still fails (systemd-sysctl ignores it)");
    }
    diags.push(d);
}

/// Every in-scope key judged on an endpoint, in a stable order (the middlebox keys of
/// `crate::middlebox::KEYS` are judged on middleboxes instead).
pub fn judged_keys() -> impl Iterator<Item = &'static KeySpec> {
    kernel::KEYS
        .iter()
        .filter(|s| s.judged && !crate::middlebox::KEYS.contains(&s.key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;

    fn cfg_of(text: &str) -> (NodeConfig, Vec<Diagnostic>) {
        let mut sources = SourceMap::new();
        let set = crate::sysctl::load_text("t.conf", text, &mut sources);
        let mut diags = Vec::new();
        let cfg = resolve(
            "t",
            KernelVersion::new(6, 18),
            KernelOrigin::Flag,
            Some(&set),
            &[],
            &mut diags,
        );
        (cfg, diags)
    }

    /// Found by tests/differential.rs: globs were not applied to in-scope keys.
    #[test]
    fn a_glob_sets_the_in_scope_keys_it_matches() {
        let (cfg, _) = cfg_of(
            "net.ipv4.tcp_*_timeout = 5\nnet.ipv4.tcp_time*s = 0\nnet.ipv4.tcp_timestamps = 1\n",
        );
        let printed = |k: &str| cfg.value(k).unwrap().printed.clone();
        assert_eq!(printed("net.ipv4.tcp_fin_timeout").as_deref(), Some("5"));
        // An explicit assignment wins over any glob, wherever it stands.
        assert_eq!(printed("net.ipv4.tcp_timestamps").as_deref(), Some("1"));
    }

    /// Found by tests/differential.rs: the unprivileged start is checked against the range
    /// as it stands when the line is applied.
    #[test]
    fn unprivileged_start_above_the_range_start_is_refused() {
        let (cfg, diags) = cfg_of(
            "net.ipv4.ip_local_port_range = 1500 3000\nnet.ipv4.ip_unprivileged_port_start = 2000\n",
        );
        assert!(diags.iter().any(|d| d.code == "TW004"));
        let v = cfg.value("net.ipv4.ip_unprivileged_port_start").unwrap();
        assert_eq!(v.printed.as_deref(), Some("1024"));
    }
}
