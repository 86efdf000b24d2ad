//! Kubernetes admission: which sysctls of a pod the kubelet of a given release lets the pod
//! start with.
//!
//! The kubelet admits a pod's `securityContext.sysctls` when each key is in its safe set (which
//! grew release by release, some entries only on kernels new enough to have the key per
//! namespace) or matches its `--allowed-unsafe-sysctls` patterns; otherwise the pod is
//! scheduled, then rejected with reason `SysctlForbidden`. [`admit`] reports every key that
//! would be rejected (TW070) for the cluster described in `.twlint.yaml` ([`Cluster`]). What
//! the manifest alone decides (keys no pod can set, host namespaces) is the reader's
//! (`crate::inputs`).

use crate::code::Code;
use crate::diag::Diagnostic;
use crate::kernel::KernelVersion;
use crate::sysctl::{SourceKind, SysctlSet};
use crate::yaml::de::Field;
use schemars::JsonSchema;
use serde::Deserialize;

/// A Kubernetes release, `1.MINOR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Release {
    pub major: u32,
    pub minor: u32,
}

impl Release {
    pub const fn new(major: u32, minor: u32) -> Release {
        Release { major, minor }
    }

    /// `1.29`, `v1.29` or `1.29.3` (the patch release does not change the safe set).
    pub fn parse(s: &str) -> Option<Release> {
        let s = s.trim().trim_start_matches('v');
        let mut parts = s.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        if parts.next().is_some_and(|p| p.parse::<u32>().is_err()) || parts.next().is_some() {
            return None;
        }
        Some(Release { major, minor })
    }
}

impl std::fmt::Display for Release {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The release assumed when `.twlint.yaml` names none: the newest whose safe set was read in
/// the kubelet's source (see [`SAFE`]).
pub const DEFAULT_RELEASE: Release = Release::new(1, 32);

/// The cluster pods are judged for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// `kubernetes.version` in the topology or `.twlint.yaml`, else [`DEFAULT_RELEASE`].
    pub release: Release,
    /// Where `release` was written (`the topology`, `.twlint.yaml`), if it was: messages say
    /// where it came from.
    pub configured_in: Option<&'static str>,
    /// The kubelet's `--allowed-unsafe-sysctls` (`kubernetes.allowed-unsafe-sysctls`): names,
    /// or prefixes ending in `*`.
    pub allowed_unsafe: Vec<String>,
}

impl Default for Cluster {
    fn default() -> Cluster {
        Cluster {
            release: DEFAULT_RELEASE,
            configured_in: None,
            allowed_unsafe: Vec::new(),
        }
    }
}

/// `kubernetes:` as written, the same block in `.twlint.yaml` and in a topology (where it wins
/// over the configuration's for that topology's pods).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(rename = "KubernetesCluster")]
pub struct ClusterRaw {
    /// The kubelets' Kubernetes release, e.g. "1.29" (default 1.32): which sysctls are safe.
    pub version: Option<Field<String>>,
    /// The kubelets' `--allowed-unsafe-sysctls`: names, or prefixes ending in `*`.
    pub allowed_unsafe_sysctls: Option<Field<Vec<Field<String>>>>,
}

impl ClusterRaw {
    /// Second phase: what the block says, over `cluster` (written in `place`); a release that
    /// is not one, or a value of the wrong shape, is pushed to `diags`.
    pub fn apply(&self, cluster: &mut Cluster, place: &'static str, diags: &mut Vec<Diagnostic>) {
        if let Some(t) = self
            .version
            .as_ref()
            .and_then(|v| v.scalar("a Kubernetes release such as \"1.29\"", diags))
        {
            match Release::parse(&t.value) {
                Some(r) => {
                    cluster.release = r;
                    cluster.configured_in = Some(place);
                }
                None => diags.push(
                    Diagnostic::error(
                        Code::TW053,
                        format!("`{}` is not a Kubernetes release", t.value),
                    )
                    .at(t.span, "not a release")
                    .with_help(
                        "write the release as `kubectl version` prints it, quoted: \"1.29\"",
                    ),
                ),
            }
        }
        if let Some(list) = self
            .allowed_unsafe_sysctls
            .as_ref()
            .and_then(|v| v.list("a list of sysctl names or patterns", diags))
        {
            cluster.allowed_unsafe.clear();
            for item in list.value {
                if let Some(t) = item.scalar("a sysctl name or a prefix ending in `*`", diags) {
                    cluster
                        .allowed_unsafe
                        .push(crate::inputs::normalize_key(&t.value));
                }
            }
        }
    }
}

/// One entry of the kubelet's safe set.
struct Safe {
    key: &'static str,
    /// The first release whose kubelet lists it.
    since: Release,
    /// The oldest kernel on which the kubelet keeps it in the set (it drops the entry, with
    /// "kernel version is too small", on an older node).
    kernel: Option<KernelVersion>,
}

/// The kubelet's safe sysctls by release: `pkg/kubelet/sysctl/safe_sysctls.go`
/// (`SafeSysctlAllowlist`; read in kubernetes/kubernetes at commit 0167a9f8, between 1.28 and
/// 1.29, which lists the first seven with their kernel gates; commit b0cb9cc1 lists all twelve),
/// with the release of each addition from the Kubernetes documentation ("Using sysctls in a
/// Kubernetes Cluster") as summarised in KERNEL-FACTS-2 §3.2:
/// - 1.4 (the original set, sysctl support in the kubelet): `kernel.shm_rmid_forced`,
///   `net.ipv4.ip_local_port_range`, `net.ipv4.tcp_syncookies`;
/// - 1.18: `net.ipv4.ping_group_range`; 1.22: `net.ipv4.ip_unprivileged_port_start`;
/// - 1.27: `net.ipv4.ip_local_reserved_ports` (kernel 3.16, torvalds/linux 122ff243f5f1);
/// - 1.29: `net.ipv4.tcp_keepalive_time` (kernel 4.5, 13b287e8d1ca), `tcp_fin_timeout` (4.6),
///   `tcp_keepalive_intvl` and `tcp_keepalive_probes` (4.5);
/// - 1.32: `net.ipv4.tcp_rmem`, `net.ipv4.tcp_wmem` (the code has no kernel gate for them).
///
/// Newer additions (`tcp_slow_start_after_idle`, `tcp_notsent_lowat`) are not confirmed in the
/// source and are left out: for them twlint errs on the side of "unsafe".
const SAFE: [Safe; 12] = [
    safe("kernel.shm_rmid_forced", 4, None),
    safe("net.ipv4.ip_local_port_range", 4, None),
    safe("net.ipv4.tcp_syncookies", 4, None),
    safe("net.ipv4.ping_group_range", 18, None),
    safe("net.ipv4.ip_unprivileged_port_start", 22, None),
    safe("net.ipv4.ip_local_reserved_ports", 27, Some((3, 16))),
    safe("net.ipv4.tcp_keepalive_time", 29, Some((4, 5))),
    safe("net.ipv4.tcp_fin_timeout", 29, Some((4, 6))),
    safe("net.ipv4.tcp_keepalive_intvl", 29, Some((4, 5))),
    safe("net.ipv4.tcp_keepalive_probes", 29, Some((4, 5))),
    safe("net.ipv4.tcp_rmem", 32, None),
    safe("net.ipv4.tcp_wmem", 32, None),
];

const fn safe(key: &'static str, minor: u32, kernel: Option<(u32, u32)>) -> Safe {
    Safe {
        key,
        since: Release::new(1, minor),
        kernel: match kernel {
            Some((a, b)) => Some(KernelVersion::new(a, b)),
            None => None,
        },
    }
}

/// Whether a kubelet pattern (`--allowed-unsafe-sysctls`) allows `key`: the name itself, or a
/// prefix followed by `*`.
fn allows(pattern: &str, key: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => key.starts_with(prefix),
        None => pattern == key,
    }
}

/// TW070 for every pod sysctl in `set` that the kubelet of `cluster` rejects on a node running
/// `kernel`.
pub fn admit(set: &SysctlSet, cluster: &Cluster, kernel: KernelVersion) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let origin = match cluster.configured_in {
        Some(place) => format!("`kubernetes.version` in {place}"),
        None => "assumed; set `kubernetes.version` in the topology or .twlint.yaml".to_string(),
    };
    for file in set
        .files
        .iter()
        .filter(|f| f.kind == SourceKind::Kubernetes)
    {
        for a in &file.assignments {
            let key = a.key();
            if cluster.allowed_unsafe.iter().any(|p| allows(p, key)) {
                continue;
            }
            let entry = SAFE.iter().find(|s| s.key == key);
            let why = match entry {
                Some(s) if s.since > cluster.release => format!(
                    "safe only from Kubernetes {}; the cluster is {} ({origin})",
                    s.since, cluster.release
                ),
                Some(Safe {
                    kernel: Some(k), ..
                }) if kernel < *k => format!(
                    "the kubelet keeps it safe only on kernels from {k}; this node's kernel is {kernel}"
                ),
                Some(_) => continue,
                None => format!(
                    "not in the kubelet's safe set of Kubernetes {} ({origin})",
                    cluster.release
                ),
            };
            out.push(
                Diagnostic::error(
                    Code::TW070,
                    format!("`{key}` is an unsafe sysctl: the kubelet rejects this pod"),
                )
                .with_key(key)
                .at(a.key_span(), why)
                .with_help(format!(
                    "allow it on the nodes that run this pod (kubelet --allowed-unsafe-sysctls={key}, \
                     or allowedUnsafeSysctls in the KubeletConfiguration) and list it under \
                     `kubernetes.allowed-unsafe-sysctls` in the topology or .twlint.yaml; or set it on the nodes"
                ))
                .with_note(
                    "the pod is scheduled, then fails to start with reason SysctlForbidden",
                ),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_parse_as_kubectl_prints_them() {
        assert_eq!(Release::parse("1.29"), Some(Release::new(1, 29)));
        assert_eq!(Release::parse("v1.27.3"), Some(Release::new(1, 27)));
        assert_eq!(Release::parse("1"), None);
        assert_eq!(Release::parse("1.x"), None);
        assert!(Release::new(1, 9) < Release::new(1, 29));
    }

    #[test]
    fn patterns_match_as_the_kubelet_matches_them() {
        assert!(allows("net.core.somaxconn", "net.core.somaxconn"));
        assert!(allows("kernel.msg*", "kernel.msgmax"));
        assert!(!allows("net.core.somaxconn", "net.core.somaxconn2"));
    }

    #[test]
    fn the_safe_set_grows_by_release() {
        let at = |minor| {
            SAFE.iter()
                .filter(|s| s.since <= Release::new(1, minor))
                .count()
        };
        assert_eq!(
            (at(17), at(18), at(22), at(27), at(29), at(32)),
            (3, 4, 5, 6, 10, 12)
        );
    }
}
