//! The netlink side of the socket view: `SOCK_DIAG_BY_FAMILY` dumps of TCP over IPv4 and IPv6,
//! with the state filter in the request so the kernel never sends the other states.
//!
//! The socket is `netlink-sys`'s and the request is built with `netlink-packet-sock-diag`; the
//! replies are read here, straight from the receive buffer: each is a 16-byte `nlmsghdr` and a
//! fixed 72-byte `inet_diag_msg` (plus attributes we do not ask for and skip). The crate's
//! parser builds a message with a `Vec` of attributes per socket, which costs more than the
//! kernel's own dump at 300k sockets (measured: see BENCHMARKS.md); reading the fixed header
//! ourselves keeps the per-socket work to a few loads and three hash-map bumps.

use super::aggregate::{mapped_v4, Aggregator, Sock};
use super::{StateSet, TcpState};
use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NLM_F_DUMP, NLM_F_REQUEST};
use netlink_packet_sock_diag::{
    constants::{AF_INET, AF_INET6, IPPROTO_TCP},
    inet::{ExtensionFlags, InetRequest, SocketId, StateFlags},
    SockDiagMessage,
};
use netlink_sys::{protocols::NETLINK_SOCK_DIAG, Socket, SocketAddr};
use std::io;

const NLMSG_HDR: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const INET_DIAG_MSG: usize = 72;
const EIO: i32 = 5;
/// The kernel fills at most one skb (32 KiB on current kernels) per recvmsg of a dump; a
/// larger buffer costs nothing and keeps us right if that limit grows.
const RECV_BUF: usize = 256 * 1024;

/// Dumps this namespace's TCP sockets into `agg`: the listeners of both families first, then
/// every other socket in `states`.
pub(crate) fn dump(agg: &mut Aggregator, states: StateSet) -> io::Result<()> {
    let socket = Socket::new(NETLINK_SOCK_DIAG)?;
    let mut buf = vec![0u8; RECV_BUF];
    let listen = StateSet::empty().with(TcpState::Listen);
    let others = states.mask() & !TcpState::Listen.bit();
    let mut seq = 0;
    for family in [AF_INET, AF_INET6] {
        seq += 1;
        request(&socket, family, listen.mask(), seq)?;
        receive(&socket, &mut buf, seq, &mut |s| agg.add_listener(s))?;
    }
    if others != 0 {
        for family in [AF_INET, AF_INET6] {
            seq += 1;
            request(&socket, family, others, seq)?;
            receive(&socket, &mut buf, seq, &mut |s| agg.add(s))?;
        }
    }
    Ok(())
}

fn request(socket: &Socket, family: u8, states: u32, seq: u32) -> io::Result<()> {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    header.sequence_number = seq;
    let mut packet = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol: IPPROTO_TCP,
            extensions: ExtensionFlags::empty(),
            states: StateFlags::from_bits_retain(states),
            socket_id: if family == AF_INET {
                SocketId::new_v4()
            } else {
                SocketId::new_v6()
            },
        })
        .into(),
    );
    packet.finalize();
    let mut out = vec![0u8; packet.buffer_len()];
    packet.serialize(&mut out);
    socket.send_to(&out, &SocketAddr::new(0, 0), 0)?;
    Ok(())
}

#[inline]
fn u16_ne(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}
#[inline]
fn u32_ne(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
#[inline]
fn u16_be(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Reads replies until NLMSG_DONE, handing each socket to `each`.
fn receive(
    socket: &Socket,
    buf: &mut [u8],
    seq: u32,
    each: &mut dyn FnMut(&Sock),
) -> io::Result<()> {
    loop {
        let n = match socket.recv(&mut &mut buf[..], 0) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the kernel closed the dump without NLMSG_DONE",
            ));
        }
        let data = &buf[..n];
        let mut off = 0;
        while off + NLMSG_HDR <= n {
            let len = u32_ne(data, off) as usize;
            if len < NLMSG_HDR || off + len > n {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("truncated netlink message ({len} bytes at offset {off} of {n})"),
                ));
            }
            let kind = u16_ne(data, off + 4);
            let msg_seq = u32_ne(data, off + 8);
            let payload = &data[off + NLMSG_HDR..off + len];
            off += (len + 3) & !3;
            if msg_seq != seq {
                continue;
            }
            match kind {
                SOCK_DIAG_BY_FAMILY if payload.len() >= INET_DIAG_MSG => {
                    each(&parse(payload));
                }
                NLMSG_DONE => {
                    let status = if payload.len() >= 4 {
                        u32_ne(payload, 0) as i32
                    } else {
                        0
                    };
                    return if status < 0 {
                        Err(io::Error::from_raw_os_error(-status))
                    } else {
                        Ok(())
                    };
                }
                NLMSG_ERROR => {
                    let code = if payload.len() >= 4 {
                        u32_ne(payload, 0) as i32
                    } else {
                        -EIO
                    };
                    if code != 0 {
                        return Err(io::Error::from_raw_os_error(-code));
                    }
                }
                _ => {}
            }
        }
    }
}

/// `struct inet_diag_msg`: family, state, timer, retrans; the socket id (sport and dport big
/// endian, src and dst as 16 bytes, ifindex, cookie); expires (ms), rqueue, wqueue, uid, inode.
#[inline]
fn parse(p: &[u8]) -> Sock {
    let v6 = p[0] == AF_INET6;
    let addr = |at: usize| -> [u8; 16] {
        if v6 {
            let mut a = [0u8; 16];
            a.copy_from_slice(&p[at..at + 16]);
            a
        } else {
            mapped_v4([p[at], p[at + 1], p[at + 2], p[at + 3]])
        }
    };
    Sock {
        v6,
        state: p[1],
        sport: u16_be(p, 4),
        dport: u16_be(p, 6),
        src: addr(8),
        dst: addr(24),
        expires_ms: u32_ne(p, 52),
        inode: u64::from(u32_ne(p, 68)),
    }
}
