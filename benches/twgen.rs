//! twgen: makes TIME_WAIT and CLOSE_WAIT sockets on loopback, for the socket-view benchmark
//! (`benches/sockets.sh`) and the lab tests (`tests/lab_observe.rs`, which include this file).
//! Standard library only, so the script can build it with a bare `rustc -O`.
//!
//! Run it only inside a throwaway network namespace (`unshare -n`, lo up): it opens and closes
//! many connections. Every loop is bounded by the count it is given.
//!
//! ```text
//! twgen tw COUNT DESTS         COUNT connections from 127.0.0.1 to 127.0.0.1..DESTS:7000, each
//!                              closed by the client first: COUNT TIME_WAIT sockets on the client
//! twgen closewait COUNT        COUNT connections to 127.0.0.1:7001 that the client closes and the
//!                              server accepts but never closes: COUNT CLOSE_WAIT sockets owned by
//!                              this process; prints `ready PID` and holds them until stdin closes
//! ```

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::Instant;

pub const TW_PORT: u16 = 7000;
pub const CW_PORT: u16 = 7001;

/// Runs the generator; returns the process exit code.
pub fn run(args: &[String]) -> i32 {
    let num = |i: usize| -> Option<usize> { args.get(i).and_then(|s| s.parse().ok()) };
    match (args.first().map(String::as_str), num(1), num(2)) {
        (Some("tw"), Some(count), Some(dests)) if (1..=254).contains(&dests) => {
            time_wait(count, dests)
        }
        (Some("closewait"), Some(count), None) => close_wait(count),
        _ => {
            eprintln!("usage: twgen tw COUNT DESTS(1..254) | twgen closewait COUNT");
            2
        }
    }
}

fn time_wait(count: usize, dests: usize) -> i32 {
    let listener = match TcpListener::bind((Ipv4Addr::UNSPECIFIED, TW_PORT)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("twgen: bind 0.0.0.0:{TW_PORT}: {e}");
            return 1;
        }
    };
    let start = Instant::now();
    // Lockstep in one thread: connect, accept, close the client, read the client's FIN on the
    // server side, close the server side. The client closed first, so the TIME_WAIT lands on
    // the client's (ephemeral) side, and the accept queue never overflows (an overflow drops
    // the SYN and costs a one-second retransmission).
    let mut buf = [0u8; 16];
    let mut made = 0;
    for i in 0..count {
        let dest = Ipv4Addr::new(127, 0, 0, (i % dests) as u8 + 1);
        let client = match TcpStream::connect(SocketAddr::from((dest, TW_PORT))) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("twgen: connect {dest}:{TW_PORT} after {made}: {e}");
                break;
            }
        };
        let mut server = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) => {
                eprintln!("twgen: accept: {e}");
                break;
            }
        };
        drop(client);
        while matches!(server.read(&mut buf), Ok(n) if n > 0) {}
        drop(server);
        made += 1;
    }
    eprintln!(
        "twgen: {made} connections closed by the client in {:.2} s",
        start.elapsed().as_secs_f64()
    );
    if made == count {
        0
    } else {
        1
    }
}

fn close_wait(count: usize) -> i32 {
    let listener = match TcpListener::bind((Ipv4Addr::LOCALHOST, CW_PORT)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("twgen: bind 127.0.0.1:{CW_PORT}: {e}");
            return 1;
        }
    };
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        let client = match TcpStream::connect((Ipv4Addr::LOCALHOST, CW_PORT)) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("twgen: connect: {e}");
                return 1;
            }
        };
        let accepted = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) => {
                eprintln!("twgen: accept: {e}");
                return 1;
            }
        };
        // The client sends its FIN; the accepted socket goes to CLOSE_WAIT and stays there
        // because this process never closes it (until it exits).
        let _ = client.shutdown(Shutdown::Both);
        drop(client);
        held.push(accepted);
    }
    // Wait until every accepted socket has seen the FIN (read returns 0), so the caller finds
    // them all in CLOSE_WAIT.
    let mut buf = [0u8; 16];
    for s in &mut held {
        while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
    }
    println!("ready {}", std::process::id());
    let _ = std::io::stdout().flush();
    // Hold the sockets until stdin closes (the caller ends the test).
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    drop(held);
    0
}

#[allow(dead_code)]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(run(&args));
}
