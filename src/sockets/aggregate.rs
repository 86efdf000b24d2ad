//! Aggregation of sockets as they are read: every reader (netlink, /proc text) turns a socket
//! into a [`Sock`] on the stack and hands it to [`Aggregator::add`], which only bumps counters
//! in maps keyed by fixed-size keys (addresses as 16 bytes, IPv4 mapped into IPv6 so
//! `10.0.0.1` and `::ffff:10.0.0.1` are one peer, as they are one port space for connect()).
//! Nothing is formatted or allocated per socket, except a CLOSE_WAIT socket's inode (kept to
//! find its owner) and, with `--interval`, each tuple's set of ports, capped at 8 KiB a tuple.

use super::owners::OwnerResolver;
use super::procnet::PortRange;
use super::summary::*;
use super::{Options, StateSet, TcpState, SUMMARY_VERSION, TIME_WAIT_SECS};
use rustc_hash::FxHashMap;
use std::net::{IpAddr, Ipv6Addr};

/// One socket, as read. Addresses are IPv6 bytes, IPv4 mapped (`::ffff:a.b.c.d`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sock {
    pub v6: bool,
    pub state: u8,
    pub src: [u8; 16],
    pub sport: u16,
    pub dst: [u8; 16],
    pub dport: u16,
    /// Time left on the socket's timer, in ms (for TIME_WAIT: until it ends).
    pub expires_ms: u32,
    pub inode: u64,
}

pub(crate) fn mapped_v4(octets: [u8; 4]) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[10] = 0xff;
    a[11] = 0xff;
    a[12..].copy_from_slice(&octets);
    a
}

fn ip(bytes: [u8; 16]) -> IpAddr {
    Ipv6Addr::from(bytes).to_canonical()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct PeerKey {
    addr: [u8; 16],
    port: u16,
    inbound: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct TupleKey {
    src: [u8; 16],
    dst: [u8; 16],
    dport: u16,
}

/// A 65536-bit port bitmap.
struct PortBits(Box<[u64; 1024]>);

impl PortBits {
    fn new() -> PortBits {
        PortBits(Box::new([0; 1024]))
    }
    #[inline]
    fn set(&mut self, p: u16) {
        self.0[usize::from(p >> 6)] |= 1 << (p & 63);
    }
    #[inline]
    fn get(&self, p: u16) -> bool {
        self.0[usize::from(p >> 6)] & (1 << (p & 63)) != 0
    }
}

/// The ports a tuple holds, for the two-sample rate: a list while small, a bitmap (8 KiB)
/// beyond 4096 ports, so a tuple never costs more than the bitmap whatever its socket count.
enum PortSet {
    Small(Vec<u16>),
    Bits(PortBits),
}

impl PortSet {
    fn insert(&mut self, p: u16) {
        match self {
            PortSet::Small(v) if v.len() < 4096 => v.push(p),
            PortSet::Small(v) => {
                let mut b = PortBits::new();
                for &q in v.iter() {
                    b.set(q);
                }
                b.set(p);
                *self = PortSet::Bits(b);
            }
            PortSet::Bits(b) => b.set(p),
        }
    }
    fn seal(&mut self) {
        if let PortSet::Small(v) = self {
            v.sort_unstable();
            v.dedup();
        }
    }
    /// Only after `seal`.
    fn contains(&self, p: u16) -> bool {
        match self {
            PortSet::Small(v) => v.binary_search(&p).is_ok(),
            PortSet::Bits(b) => b.get(p),
        }
    }
    fn for_each(&self, mut f: impl FnMut(u16)) {
        match self {
            PortSet::Small(v) => v.iter().copied().for_each(f),
            PortSet::Bits(b) => {
                for (w, &word) in b.0.iter().enumerate() {
                    let mut word = word;
                    while word != 0 {
                        let bit = word.trailing_zeros();
                        f((w as u16) << 6 | bit as u16);
                        word &= word - 1;
                    }
                }
            }
        }
    }
}

#[derive(Default)]
struct TupleStat {
    in_use: u64,
    time_wait: u64,
    /// With an interval: the ports held, and those whose TIME_WAIT ends within the interval
    /// (a port seen in both samples but freed in between was taken again by a new connection).
    ports: Option<PortSet>,
    expiring: Option<PortSet>,
}

pub(crate) struct Aggregator {
    counted: u32,
    listen: PortBits,
    low: u16,
    high: u16,
    reserved: PortBits,
    by_state: [u64; 12],
    v4: u64,
    v6: u64,
    tw_remote: FxHashMap<PeerKey, u64>,
    tw_local: FxHashMap<[u8; 16], u64>,
    tuples: FxHashMap<TupleKey, TupleStat>,
    close_wait_inodes: Vec<u64>,
    interval_ms: Option<u32>,
}

const TW: u8 = TcpState::TimeWait as u8;
const CW: u8 = TcpState::CloseWait as u8;
const LISTEN: u8 = TcpState::Listen as u8;
const CLOSE: u8 = TcpState::Close as u8;

impl Aggregator {
    pub fn new(states: StateSet, range: &PortRange, interval_ms: Option<u32>) -> Aggregator {
        let mut reserved = PortBits::new();
        for &(a, b) in &range.reserved {
            for p in a..=b {
                reserved.set(p);
            }
        }
        Aggregator {
            counted: states.mask(),
            listen: PortBits::new(),
            low: range.low,
            high: range.high,
            reserved,
            by_state: [0; 12],
            v4: 0,
            v6: 0,
            tw_remote: FxHashMap::default(),
            tw_local: FxHashMap::default(),
            tuples: FxHashMap::default(),
            close_wait_inodes: Vec::new(),
            interval_ms,
        }
    }

    /// A listening socket. Readers hand every listener over before any other socket, so that
    /// sockets on a listening port are known to be accepted (inbound) ones.
    pub fn add_listener(&mut self, s: &Sock) {
        self.listen.set(s.sport);
        self.count(s);
    }

    #[inline]
    fn count(&mut self, s: &Sock) -> bool {
        let st = s.state;
        if st == 0 || st > 11 || self.counted & (1 << st) == 0 {
            return false;
        }
        self.by_state[usize::from(st)] += 1;
        if s.v6 {
            self.v6 += 1;
        } else {
            self.v4 += 1;
        }
        true
    }

    /// Any socket but a listener.
    #[inline]
    pub fn add(&mut self, s: &Sock) {
        if !self.count(s) {
            return;
        }
        let st = s.state;
        let inbound = self.listen.get(s.sport);
        if st == TW {
            let key = PeerKey {
                addr: s.dst,
                port: if inbound { s.sport } else { s.dport },
                inbound,
            };
            *self.tw_remote.entry(key).or_insert(0) += 1;
            *self.tw_local.entry(s.src).or_insert(0) += 1;
        } else if st == CW {
            self.close_wait_inodes.push(s.inode);
        }
        if inbound
            || st == LISTEN
            || st == CLOSE
            || s.sport < self.low
            || s.sport > self.high
            || self.reserved.get(s.sport)
        {
            return;
        }
        let key = TupleKey {
            src: s.src,
            dst: s.dst,
            dport: s.dport,
        };
        let t = self.tuples.entry(key).or_default();
        t.in_use += 1;
        if st == TW {
            t.time_wait += 1;
        }
        if let Some(ms) = self.interval_ms {
            t.ports
                .get_or_insert_with(|| PortSet::Small(Vec::new()))
                .insert(s.sport);
            if st == TW && s.expires_ms <= ms {
                t.expiring
                    .get_or_insert_with(|| PortSet::Small(Vec::new()))
                    .insert(s.sport);
            }
        }
    }

    pub fn finish(
        self,
        source: Source,
        range: &PortRange,
        options: &Options,
        rates: Option<Rates>,
        owners: OwnerResolver,
    ) -> SocketSummary {
        let states: Vec<TcpState> = options.states.states().collect();
        let by_state = states
            .iter()
            .map(|s| (s.name().to_string(), self.by_state[*s as usize]))
            .collect();
        let time_wait_total = self.by_state[usize::from(TW)];
        let close_wait_total = self.by_state[usize::from(CW)];

        let mut by_remote: Vec<RemoteCount> = self
            .tw_remote
            .iter()
            .map(|(k, &count)| RemoteCount {
                address: ip(k.addr),
                port: k.port,
                direction: if k.inbound {
                    Direction::Inbound
                } else {
                    Direction::Outbound
                },
                count,
            })
            .collect();
        by_remote.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(a.address.cmp(&b.address))
                .then(a.port.cmp(&b.port))
                .then((a.direction as u8).cmp(&(b.direction as u8)))
        });
        let mut by_local: Vec<AddressCount> = self
            .tw_local
            .iter()
            .map(|(a, &count)| AddressCount {
                address: ip(*a),
                count,
            })
            .collect();
        by_local.sort_by(|a, b| b.count.cmp(&a.count).then(a.address.cmp(&b.address)));

        let (by_process, unattributed, owner_lookup) = owners.resolve(&self.close_wait_inodes);

        let usable = range.usable();
        let mut tuples: Vec<TuplePressure> = self
            .tuples
            .iter()
            .map(|(k, t)| {
                let (rate, growth) = match &rates {
                    Some(r) => r.get(k).copied().unwrap_or((0.0, 0.0)),
                    None => (f64::NAN, f64::NAN),
                };
                let known = rates.is_some();
                let hold = hold_secs(&range.reuse, k, t.time_wait);
                // TIME_WAIT sockets expire after 60 s: at a steady rate the tuple holds its open
                // connections plus rate x hold, whatever it grows by now.
                let steady = known.then(|| (t.in_use - t.time_wait) as f64 + rate * hold);
                let fits = steady.is_some_and(|s| s < f64::from(usable));
                let exhausted_in = if t.in_use >= u64::from(usable) {
                    Some(0.0)
                } else if known && growth > 0.0 && !fits {
                    Some(round2((u64::from(usable) - t.in_use) as f64 / growth))
                } else {
                    None
                };
                TuplePressure {
                    local: ip(k.src),
                    remote: ip(k.dst),
                    remote_port: k.dport,
                    in_use: t.in_use,
                    time_wait: t.time_wait,
                    usable,
                    rate_per_sec: known.then(|| round2(rate)),
                    growth_per_sec: known.then(|| round2(growth)),
                    exhausted_in_secs: exhausted_in,
                    hold_secs: Some(hold),
                    steady_state_in_use: steady.map(round2),
                    steady_state_percent: steady
                        .map(|s| round2(100.0 * s / f64::from(usable.max(1)))),
                }
            })
            .collect();
        tuples.sort_by(|a, b| {
            b.in_use
                .cmp(&a.in_use)
                .then(a.local.cmp(&b.local))
                .then(a.remote.cmp(&b.remote))
                .then(a.remote_port.cmp(&b.remote_port))
        });

        SocketSummary {
            version: SUMMARY_VERSION,
            source,
            states: states.iter().map(|s| s.name().to_string()).collect(),
            totals: Totals {
                sockets: self.v4 + self.v6,
                ipv4: self.v4,
                ipv6: self.v6,
                by_state,
            },
            time_wait: TimeWaitView {
                total: time_wait_total,
                by_remote,
                by_local,
            },
            close_wait: CloseWaitView {
                total: close_wait_total,
                by_process,
                unattributed,
                owner_lookup,
                advice: CLOSE_WAIT_ADVICE.to_string(),
            },
            ephemeral: EphemeralView {
                range: PortRangeView {
                    low: range.low,
                    high: range.high,
                    source: range.source,
                    reserved_in_range: range.reserved_in_range(),
                    usable,
                },
                sustainable_per_sec_without_reuse: round2(f64::from(usable) / TIME_WAIT_SECS),
                interval_secs: rates.as_ref().map(|r| r.secs),
                reuse: range.reuse.clone(),
                tuples,
            },
        }
    }
}

pub const CLOSE_WAIT_ADVICE: &str = "No sysctl fixes CLOSE_WAIT: the peer has closed, and the \
application owning the socket has not called close(). Fix the application (a leaked \
connection, a pool that never releases, an error path that forgets to close).";

/// How long a closed connection of this tuple keeps its port from connect(): nothing where the
/// peer closes first (no TIME_WAIT here), else the 60 s of TIME_WAIT, or the reuse delay where
/// tcp_tw_reuse takes the port over (1 for every destination, 2 for a loopback tuple, with
/// timestamps on; the peer's are assumed on).
fn hold_secs(reuse: &ReuseView, k: &TupleKey, time_wait: u64) -> f64 {
    if time_wait == 0 {
        return 0.0;
    }
    let loopback = ip(k.src).to_canonical().is_loopback() || ip(k.dst).to_canonical().is_loopback();
    let reuses = reuse.timestamps && (reuse.tw_reuse == 1 || reuse.tw_reuse == 2 && loopback);
    if reuses {
        f64::from(reuse.reuse_delay_ms) / 1000.0
    } else {
        TIME_WAIT_SECS
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Per tuple: (new connections per second, net growth of ports in use per second).
pub(crate) struct Rates {
    pub secs: f64,
    map: FxHashMap<TupleKey, (f64, f64)>,
}

impl Rates {
    fn get(&self, k: &TupleKey) -> Option<&(f64, f64)> {
        self.map.get(k)
    }
}

/// Compares two samples `secs` apart. A connection is new when its port was not held in the
/// first sample, or was held by a TIME_WAIT whose timer ran out before the second: ports
/// taken and freed again between the samples are not seen (an undercount, which the guide
/// states in docs/guide/observe.md). Growth is the change in ports held.
pub(crate) fn rates(first: &Aggregator, second: &Aggregator, secs: f64) -> Rates {
    let mut map = FxHashMap::default();
    let secs = secs.max(0.001);
    for (k, b) in &second.tuples {
        let a = first.tuples.get(k);
        let mut new = 0u64;
        if let Some(bp) = &b.ports {
            let mut bp_sorted = None;
            let bp = match bp {
                PortSet::Small(v) => {
                    let mut v = v.clone();
                    v.sort_unstable();
                    bp_sorted.insert(PortSet::Small(v)) as &PortSet
                }
                other => other,
            };
            let (ap, ae) = match a {
                Some(a) => (sealed(&a.ports), sealed(&a.expiring)),
                None => (None, None),
            };
            bp.for_each(|p| {
                let held_before = ap.as_ref().is_some_and(|s| s.contains(p));
                let freed_between = ae.as_ref().is_some_and(|s| s.contains(p));
                if !held_before || freed_between {
                    new += 1;
                }
            });
        }
        let before = a.map_or(0, |a| a.in_use);
        let growth = (b.in_use as f64 - before as f64) / secs;
        map.insert(*k, (new as f64 / secs, growth));
    }
    Rates {
        secs: round2(secs),
        map,
    }
}

fn sealed(s: &Option<PortSet>) -> Option<PortSet> {
    s.as_ref().map(|s| {
        let mut c = match s {
            PortSet::Small(v) => PortSet::Small(v.clone()),
            PortSet::Bits(b) => PortSet::Bits(PortBits(b.0.clone())),
        };
        c.seal();
        c
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sockets::owners;

    fn range() -> PortRange {
        PortRange {
            low: 40000,
            high: 40099,
            reserved: vec![(40090, 40099)],
            source: RangeSource::Replay,
            reuse: ReuseView::default(),
        }
    }

    fn sock(state: TcpState, sport: u16, dst: [u8; 4], dport: u16, expires_ms: u32) -> Sock {
        Sock {
            v6: false,
            state: state as u8,
            src: mapped_v4([10, 0, 0, 1]),
            sport,
            dst: mapped_v4(dst),
            dport,
            expires_ms,
            inode: 0,
        }
    }

    fn finish(agg: Aggregator, rates: Option<Rates>) -> SocketSummary {
        let opts = Options {
            skip_owners: true,
            ..Options::default()
        };
        agg.finish(
            Source {
                kind: SourceKind::Replay,
                path: None,
                fallback_reason: None,
            },
            &range(),
            &opts,
            rates,
            owners::resolver(std::path::Path::new("/nonexistent"), &opts),
        )
    }

    #[test]
    fn tuples_skip_accepted_reserved_and_out_of_range_ports() {
        let mut agg = Aggregator::new(StateSet::all(), &range(), None);
        agg.add_listener(&sock(TcpState::Listen, 40050, [0, 0, 0, 0], 0, 0));
        for p in 40000..40005 {
            agg.add(&sock(TcpState::TimeWait, p, [10, 0, 0, 5], 5432, 30_000));
        }
        agg.add(&sock(TcpState::Established, 40005, [10, 0, 0, 5], 5432, 0));
        // accepted on the listening port: inbound, not an ephemeral tuple
        agg.add(&sock(TcpState::TimeWait, 40050, [10, 0, 0, 9], 50000, 0));
        // reserved, and outside the range
        agg.add(&sock(TcpState::Established, 40095, [10, 0, 0, 5], 5432, 0));
        agg.add(&sock(TcpState::Established, 39999, [10, 0, 0, 5], 5432, 0));
        let s = finish(agg, None);
        assert_eq!(s.totals.sockets, 10);
        assert_eq!(s.time_wait.total, 6);
        assert_eq!(s.ephemeral.range.usable, 90);
        assert_eq!(s.ephemeral.tuples.len(), 1);
        let t = &s.ephemeral.tuples[0];
        assert_eq!((t.in_use, t.time_wait, t.usable), (6, 5, 90));
        assert_eq!((t.rate_per_sec, t.exhausted_in_secs), (None, None));
        let inbound = s
            .time_wait
            .by_remote
            .iter()
            .find(|r| r.direction == Direction::Inbound)
            .unwrap();
        assert_eq!((inbound.port, inbound.count), (40050, 1));
        assert_eq!(s.ephemeral.sustainable_per_sec_without_reuse, 1.5);
    }

    #[test]
    fn rates_count_new_ports_and_ports_freed_in_between() {
        let ms = Some(10_000);
        let mut a = Aggregator::new(StateSet::all(), &range(), ms);
        // 40000-40009 in TIME_WAIT; the first three end within the 10 s interval.
        for p in 40000..40010 {
            let left = if p < 40003 { 5_000 } else { 50_000 };
            a.add(&sock(TcpState::TimeWait, p, [10, 0, 0, 5], 5432, left));
        }
        let mut b = Aggregator::new(StateSet::all(), &range(), ms);
        // 40000 was taken again after its TIME_WAIT ended (new); 40001-40002 are gone;
        // 40003-40009 are the same sockets; 40010-40029 are new.
        b.add(&sock(TcpState::Established, 40000, [10, 0, 0, 5], 5432, 0));
        for p in 40003..40030 {
            b.add(&sock(TcpState::TimeWait, p, [10, 0, 0, 5], 5432, 40_000));
        }
        let r = rates(&a, &b, 10.0);
        let s = finish(b, Some(r));
        let t = &s.ephemeral.tuples[0];
        assert_eq!(t.in_use, 28);
        assert_eq!(t.rate_per_sec, Some(2.1)); // 21 new in 10 s
        assert_eq!(t.growth_per_sec, Some(1.8)); // 10 -> 28
        assert_eq!(t.exhausted_in_secs, Some(34.44)); // (90 - 28) / 1.8
        assert_eq!(s.ephemeral.interval_secs, Some(10.0));
    }

    /// Ten TIME_WAIT ports, then ten more 10 s later: 1 new connection per second, growing by
    /// 1 per second. Growth alone would run out in 70 s; TIME_WAIT ends after 60 s, so the tuple
    /// settles at 60 ports of 90.
    fn growing_by_one_per_second() -> (Aggregator, Aggregator) {
        let ms = Some(10_000);
        let mut a = Aggregator::new(StateSet::all(), &range(), ms);
        for p in 40000..40010 {
            a.add(&sock(TcpState::TimeWait, p, [10, 0, 0, 5], 5432, 50_000));
        }
        let mut b = Aggregator::new(StateSet::all(), &range(), ms);
        for p in 40000..40020 {
            b.add(&sock(TcpState::TimeWait, p, [10, 0, 0, 5], 5432, 40_000));
        }
        (a, b)
    }

    #[test]
    fn observe_steady_state_not_exhausting() {
        let (a, b) = growing_by_one_per_second();
        let r = rates(&a, &b, 10.0);
        let s = finish(b, Some(r));
        let t = &s.ephemeral.tuples[0];
        assert_eq!((t.rate_per_sec, t.growth_per_sec), (Some(1.0), Some(1.0)));
        assert_eq!(t.hold_secs, Some(60.0));
        assert_eq!(t.steady_state_in_use, Some(60.0));
        assert_eq!(t.steady_state_percent, Some(66.67));
        assert_eq!(t.exhausted_in_secs, None);
        let mut out = Vec::new();
        crate::sockets::human::write_summary(&mut out, &s, 10).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("not exhausting: steady state 66.7%"),
            "{text}"
        );
    }

    #[test]
    fn observe_steady_state_uses_the_reuse_delay() {
        let (a, b) = growing_by_one_per_second();
        let r = rates(&a, &b, 10.0);
        let mut range = range();
        range.reuse = ReuseView {
            tw_reuse: 1,
            reuse_delay_ms: 1000,
            timestamps: true,
        };
        let opts = Options::default();
        let s = b.finish(
            Source {
                kind: SourceKind::Replay,
                path: None,
                fallback_reason: None,
            },
            &range,
            &opts,
            Some(r),
            owners::resolver(std::path::Path::new("/nonexistent"), &opts),
        );
        let t = &s.ephemeral.tuples[0];
        // Each TIME_WAIT port can be taken over after 1 s: 1/s x 1 s.
        assert_eq!(t.hold_secs, Some(1.0));
        assert_eq!(t.steady_state_in_use, Some(1.0));
        assert_eq!(s.ephemeral.reuse.tw_reuse, 1);
    }

    #[test]
    fn observe_owner_hint_only_when_not_root() {
        let (_, b) = growing_by_one_per_second();
        let mut s = finish(b, None);
        s.close_wait.total = 3;
        s.close_wait.unattributed = 3;
        let text = |s: &SocketSummary| {
            let mut out = Vec::new();
            crate::sockets::human::write_summary(&mut out, s, 10).unwrap();
            String::from_utf8(out).unwrap()
        };
        s.close_wait.owner_lookup = OwnerLookup::Denied;
        assert!(text(&s).contains("run as root to see them all"));
        // Root (or a replayed folder) that could not read some processes is not told to be root.
        s.close_wait.owner_lookup = OwnerLookup::Partial;
        let t = text(&s);
        assert!(!t.contains("run as root"), "{t}");
        assert!(t.contains("3 without a known owner: some processes could not be read"));
    }

    #[test]
    fn port_sets_switch_to_a_bitmap_and_keep_every_port() {
        let mut set = PortSet::Small(Vec::new());
        for p in (0..10_000u16).map(|i| i * 6) {
            set.insert(p);
        }
        assert!(matches!(set, PortSet::Bits(_)));
        let mut n = 0;
        set.for_each(|p| {
            assert_eq!(p % 6, 0);
            n += 1
        });
        assert_eq!(n, 10_000);
    }

    #[test]
    fn exhausted_tuple_says_now_even_without_a_rate() {
        let r = PortRange {
            low: 40000,
            high: 40003,
            reserved: vec![],
            source: RangeSource::Replay,
            reuse: ReuseView::default(),
        };
        let mut agg = Aggregator::new(StateSet::all(), &r, None);
        for p in 40000..=40003 {
            agg.add(&sock(TcpState::TimeWait, p, [10, 0, 0, 5], 80, 1));
        }
        let opts = Options::default();
        let s = agg.finish(
            Source {
                kind: SourceKind::Replay,
                path: None,
                fallback_reason: None,
            },
            &r,
            &opts,
            None,
            owners::resolver(std::path::Path::new("/nonexistent"), &opts),
        );
        assert_eq!(s.ephemeral.tuples[0].exhausted_in_secs, Some(0.0));
    }
}
