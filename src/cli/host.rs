//! `twlint host [--root DIR]`: reads what host mode would read here or in a capture, without
//! judging it, and prints it (`twlint::render::host`).

use super::output::{DocFormat, Io};
use crate::host::{self, HostSource};
use crate::render;
use std::io::{self, Write};
use std::path::Path;

pub fn run(
    io: &mut Io,
    root: Option<&Path>,
    format: DocFormat,
    no_sockets: bool,
) -> io::Result<u8> {
    let source = match root {
        Some(d) => HostSource::Root(d.to_path_buf()),
        None => HostSource::Live,
    };
    // Live, the socket view is mostly the kernel walking its whole established hash: read on a
    // thread of its own from the start, it overlaps reading the values instead of following it.
    let early = (source == HostSource::Live && !no_sockets)
        .then(|| host::sockets::Pending::start(host::Origin::Live));
    let read = host::read(&source).and_then(|mut s| {
        match early {
            Some(pending) => s.attach_sockets(pending.wait()?),
            None if !no_sockets => s.read_sockets()?,
            None => {}
        }
        Ok(s)
    });
    let s = match read {
        Ok(s) => s,
        Err(e) => return io.fail(e),
    };
    // Buffered: stdout is line-buffered, one write() per line otherwise.
    let mut out = io::BufWriter::with_capacity(1 << 16, &mut *io.out);
    match format {
        DocFormat::Json => render::json::write_host_read(&mut out, &s)?,
        DocFormat::Human => render::host::write_host(&mut out, &s)?,
    }
    out.flush()?;
    drop(out);
    if io.env.ends_process {
        super::check::left_to_exit(s);
    }
    Ok(0)
}
