//! The Prometheus families only a host run has: the sockets of the host (by state, CLOSE_WAIT
//! by command, the busiest tuple's ports) and its TcpExt counters, labelled with the node it
//! was judged as. They are written after the families of the report
//! (`crate::render::prometheus`), so a fleet's alert can set the live figures beside the
//! verdicts they back.
//!
//! Process ids are left out of the labels: they change with every restart and would make a new
//! series each time; the command is what an operator acts on.

use super::prometheus::Family;
use crate::counters::TCPEXT;
use crate::host::judge::HostRun;
use crate::sockets::TcpState;
use std::collections::BTreeMap;

/// The label a CLOSE_WAIT socket gets when its owner was not found.
pub const UNKNOWN_OWNER: &str = "(unknown)";

/// The host families of a run; none when the host is not a node of the topology (the report
/// then holds the declared values only, and nothing of this host). `role` gives a node's role
/// in the topology.
pub fn families(run: &HostRun, role: &dyn Fn(&str) -> String) -> Vec<Family> {
    let Some(m) = &run.matched else {
        return Vec::new();
    };
    let node = || ("node", m.node.clone());
    let s = &run.snapshot;
    let mut info = Family::gauge(
        "twlint_host_info",
        "Always 1; the labels say which node this host was judged as, its role in the topology and where its values were read.",
    );
    info.set(
        vec![
            node(),
            ("hostname", s.identity.hostname.clone().unwrap_or_default()),
            (
                "kernel",
                s.release.as_ref().map(|r| r.0.clone()).unwrap_or_default(),
            ),
            ("read_from", s.origin.kind().to_string()),
            ("role", role(&m.node)),
        ],
        1.0,
    );
    // Totals, so counters: rate() and increase() turn them into what happened between two runs
    // of the textfile timer, and take a reboot (or a new namespace) for the reset it is.
    let mut tcpext = Family::counter(
        "twlint_host_tcpext_total",
        "TcpExt counters of /proc/net/netstat that bear on closing (TW, TCPTimeWaitOverflow, PAWS...): totals since boot or since the network namespace was created.",
    );
    for name in TCPEXT {
        if let Some(v) = s.counters.tcpext.get(*name) {
            tcpext.set(vec![node(), ("counter", name.to_string())], *v as f64);
        }
    }
    let mut by_state = Family::gauge(
        "twlint_host_tcp_sockets",
        "TCP sockets of the host by state (TIME_WAIT, CLOSE_WAIT, ...), when its socket table was read.",
    );
    let mut close_wait = Family::gauge(
        "twlint_host_close_wait_sockets",
        "CLOSE_WAIT sockets by owning command ((unknown) when no visible process holds them); no sysctl fixes them.",
    );
    let mut in_use = Family::gauge(
        "twlint_host_tuple_ports_in_use",
        "Local ports of the range held on the busiest (local, remote, remote port) tuple.",
    );
    let mut usable = Family::gauge(
        "twlint_host_tuple_ports_usable",
        "Ports connect() may pick per tuple: the range minus the reserved ports.",
    );
    if let Some(sum) = s.sockets.as_ref().and_then(|c| c.summary.as_ref()) {
        for st in TcpState::ALL {
            if let Some(n) = sum.totals.by_state.get(st.name()) {
                by_state.set(vec![node(), ("state", st.name().to_string())], *n as f64);
            }
        }
        let mut by_command: BTreeMap<String, u64> = BTreeMap::new();
        for p in &sum.close_wait.by_process {
            *by_command.entry(p.command.clone()).or_default() += p.count;
        }
        if sum.close_wait.unattributed > 0 {
            *by_command.entry(UNKNOWN_OWNER.to_string()).or_default() +=
                sum.close_wait.unattributed;
        }
        for (command, n) in by_command {
            close_wait.set(vec![node(), ("command", command)], n as f64);
        }
        // The busiest tuple; with none in use, 0 on the node alone, so an alert has a series.
        match sum.ephemeral.tuples.iter().max_by_key(|t| t.in_use) {
            Some(t) => in_use.set(
                vec![
                    node(),
                    ("local", t.local.to_string()),
                    ("remote", t.remote.to_string()),
                    ("remote_port", t.remote_port.to_string()),
                ],
                t.in_use as f64,
            ),
            None => in_use.set(vec![node()], 0.0),
        }
        usable.set(vec![node()], f64::from(sum.ephemeral.range.usable));
    }
    // A family without samples would be a HELP and TYPE with nothing under them.
    [info, tcpext, by_state, close_wait, in_use, usable]
        .into_iter()
        .filter(|f| !f.samples.is_empty())
        .collect()
}
