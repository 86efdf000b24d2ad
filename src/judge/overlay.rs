//! Overlays: values laid over what the input declares for a node, by node name.
//!
//! One idea serves every "what if this node had these values" question: a host's values, read
//! live or from a capture, judged in place of the declared ones (`twlint check --live`), and
//! `twlint advise`'s drop-ins, judged as if installed after the node's own files. The judge
//! does not know where a layer came from; it knows two ways a value can lie over a node:
//!
//! - written, as a sysctl file would write it: validated like any assignment, shown at its
//!   place, applied after the node's files and inline `set:` values;
//! - read, as a running kernel reports it: it replaces the effective value key by key (source
//!   `live`), and a key the kernel does not have drops the default that stood for it.

use crate::config::{looks_like_default, InlineValue, NodeConfig, SourceKindOut, Value};
use crate::kernel::{self, KernelVersion};
use crate::source::SourceMap;
use crate::sysctl;
use std::collections::BTreeMap;

/// Values laid over the nodes of a run, by node name. The default lays nothing.
#[derive(Debug, Clone, Default)]
pub struct Overlay {
    layers: BTreeMap<String, Layer>,
}

impl Overlay {
    /// Lays `layer` over the node `node` (replacing what was laid over it before).
    pub fn insert(&mut self, node: &str, layer: Layer) {
        self.layers.insert(node.to_string(), layer);
    }

    /// [`Overlay::insert`], by value.
    pub fn with(mut self, node: &str, layer: Layer) -> Overlay {
        self.insert(node, layer);
        self
    }

    /// What lies over `node`, if anything.
    pub fn get(&self, node: &str) -> Option<&Layer> {
        self.layers.get(node)
    }
}

/// What lies over one node.
#[derive(Debug, Clone, Default)]
pub struct Layer {
    /// The release the read values come from: the node's kernel unless `--kernel` says
    /// otherwise.
    pub kernel: Option<KernelVersion>,
    /// Assignments applied after the node's own (a drop-in), with their places.
    pub written: Vec<InlineValue>,
    /// Values as a running kernel reports them, replacing the effective ones.
    pub read: BTreeMap<&'static str, String>,
    /// Keys the kernel the values were read from does not have (no file under /proc/sys).
    pub absent: Vec<&'static str>,
}

impl Layer {
    /// A sysctl file applied after everything the node declares, as `twlint advise`'s drop-in
    /// would be: registered in `sources` under `name` so diagnostics can point into it.
    pub fn file(name: &str, text: &str, sources: &mut SourceMap) -> Layer {
        let set = sysctl::load_text(name, text, sources);
        let written = set
            .files
            .iter()
            .flat_map(|f| &f.assignments)
            .map(|a| InlineValue {
                key: a.key().to_string(),
                key_span: a.key_span(),
                value: a.value().to_string(),
                value_span: a.value_span(),
            })
            .collect();
        Layer {
            written,
            ..Layer::default()
        }
    }

    /// Puts the read values into a node's resolved configuration.
    pub(super) fn apply_read(&self, cfg: &mut NodeConfig) {
        for (key, value) in &self.read {
            let Some(spec) = kernel::spec(key) else {
                continue;
            };
            cfg.values.insert(
                spec.key,
                Value {
                    printed: Some(value.clone()),
                    written: Some(value.clone()),
                    kind: SourceKindOut::Live,
                    span: None,
                    present: true,
                    // As for dumps: "set" means configured, not equal to the kernel's default.
                    set: !looks_like_default(spec, cfg.kernel, value),
                    default_note: None,
                    refused: None,
                },
            );
        }
        // A default the kernel does not have is not a value of this node; a declared value
        // stays, since the file still tries to set it.
        for key in &self.absent {
            if cfg
                .values
                .get(key)
                .is_some_and(|v| v.kind == SourceKindOut::Default)
            {
                cfg.values.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{self, KernelOrigin};

    #[test]
    fn live_values_replace_declared_ones_and_defaults_count_as_unset() {
        let k = KernelVersion::new(6, 8);
        let mut cfg = config::resolve("lb", k, KernelOrigin::Live, None, &[], &mut Vec::new());
        assert!(
            cfg.value("net.ipv4.tcp_tw_reuse_delay").is_none(),
            "6.8 has no reuse delay"
        );
        let live = Layer {
            kernel: Some(k),
            read: [
                ("net.ipv4.tcp_tw_reuse", "1".to_string()),
                ("net.ipv4.tcp_timestamps", "1".to_string()),
                ("net.ipv4.tcp_max_tw_buckets", "262144".to_string()),
            ]
            .into_iter()
            .collect(),
            absent: vec!["net.ipv4.ip_local_reserved_ports"],
            written: Vec::new(),
        };
        live.apply_read(&mut cfg);
        let reuse = cfg.value("net.ipv4.tcp_tw_reuse").unwrap();
        assert_eq!((reuse.kind, reuse.set), (SourceKindOut::Live, true));
        let ts = cfg.value("net.ipv4.tcp_timestamps").unwrap();
        assert_eq!(
            (ts.kind, ts.set),
            (SourceKindOut::Live, false),
            "the default is not set"
        );
        // A power of two is the memory-dependent default, not a choice.
        assert!(!cfg.value("net.ipv4.tcp_max_tw_buckets").unwrap().set);
        // A default the host does not have is dropped.
        assert!(cfg.value("net.ipv4.ip_local_reserved_ports").is_none());
    }
}
