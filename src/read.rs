//! Reading input files safely: regular files only, bounded size, any bytes.
//!
//! twlint reads files named in pull requests, so a path may be a FIFO, `/dev/zero` or a huge
//! file. Checking the file type before opening keeps a FIFO from blocking and a device from
//! streaming forever; the size limit keeps memory bounded. Invalid UTF-8 is replaced, not
//! refused, because the kernel and procps treat config files as bytes.

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// Reads a regular file of at most `limit` bytes as text.
pub fn read_text(path: &Path, limit: u64) -> Result<String> {
    read_text_as(path, path, limit)
}

/// Like [`read_text`], naming the file `shown` in errors (the path as the user wrote it when
/// `path` is where it was resolved to).
pub fn read_text_as(path: &Path, shown: &Path, limit: u64) -> Result<String> {
    let mut bytes = Vec::new();
    let n = read_bytes_into(path, shown, limit, &mut bytes)?;
    bytes.truncate(n);
    // The tools work on bytes; invalid UTF-8 becomes U+FFFD so spans stay on character bounds.
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// The checks and the read of [`read_text_as`], into `bytes`: the file is `bytes[..n]` for the
/// `n` returned (what lies beyond is left from earlier reads). A caller that reads many files
/// reuses one buffer instead of touching, and zeroing, fresh memory for each. The bytes hold no
/// NUL; they may not be UTF-8 (see [`String::from_utf8_lossy`]).
pub fn read_bytes_into(
    path: &Path,
    shown: &Path,
    limit: u64,
    bytes: &mut Vec<u8>,
) -> Result<usize> {
    let read_err = |source| Error::Read {
        path: shown.to_path_buf(),
        source,
    };
    let not_readable = || Error::NotReadable {
        path: shown.to_path_buf(),
    };
    let too_large = || Error::TooLarge {
        path: shown.to_path_buf(),
        limit,
    };
    // Checked before opening: opening a FIFO blocks until a writer comes, and a device such as
    // /dev/zero never ends.
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if !meta.is_file() {
        return Err(not_readable());
    }
    if meta.len() > limit {
        return Err(too_large());
    }
    let file = std::fs::File::open(path).map_err(read_err)?;
    // The path may have been swapped since the check; look at what was actually opened.
    if !file.metadata().map_err(read_err)?.is_file() {
        return Err(not_readable());
    }
    // The size is known: read it in one call where the kernel allows (read_to_end alone starts
    // small and grows, four calls for a 60 KB dump), then on to the end, in case it grew.
    // `take` guards against a file that grows between the size check and the read.
    let mut file = file.take(limit + 1);
    let size = meta.len() as usize;
    if size == 0 {
        // A file that does not know its size (/proc/sys reports 0): read it as it comes, in
        // calls as large as the buffer allows. An integer under /proc/sys must be read in one
        // call: a second read at a non-zero offset gets end-of-file, so a small probe read
        // first would cut "20000 30001" to "2" (found by tests/host_netns.rs).
        bytes.clear();
        file.read_to_end(bytes).map_err(read_err)?;
        return finish(bytes, bytes.len(), limit, shown);
    }
    if bytes.len() < size {
        bytes.resize(size, 0);
    }
    let mut filled = 0;
    while filled < size {
        match file.read(&mut bytes[filled..size]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_err(e)),
        }
    }
    if filled == size {
        // Grown since the check? Read on to the end (or the limit).
        let mut probe = [0u8; 1];
        let more = loop {
            match file.read(&mut probe) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(read_err(e)),
            }
        };
        if more > 0 {
            bytes.truncate(filled);
            bytes.push(probe[0]);
            file.read_to_end(bytes).map_err(read_err)?;
            filled = bytes.len();
        }
    }
    finish(bytes, filled, limit, shown)
}

/// Reads a file of the running kernel's own `/proc` as text, with the size limit and NUL check
/// of [`read_text`] but without its checks of the file's type: the kernel's files there are
/// never a FIFO or a device, so the `stat` before opening and the `fstat` after, two of the six
/// calls per file, buy nothing on the live host's ~35 files. Never for a capture or a user's
/// path, which go through [`read_text`].
pub fn read_live_proc(path: &Path, limit: u64) -> Result<String> {
    let read_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    // One read call takes a sysctl value whole; /proc/sys answers a second read at a non-zero
    // offset with end-of-file, so the first must not be a small probe (see read_bytes_into).
    let mut bytes = Vec::with_capacity(4096);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    text_from_bytes(bytes, path, limit)
}

/// Frees the buffer a large file was read into, and keeps glibc's malloc from holding on to
/// what the run frees after it. glibc gives a block of 128 KiB or more a mapping of its own,
/// returned to the system when it is freed, until the first such block is freed: it then raises
/// that threshold to the block's size, so the blocks of up to that size allocated next (a large
/// file's table, its values, the frames drawn on other threads) come from its heaps, which keep
/// what is freed in them. After a 3.5 MiB buffer, a 100,000-line file's run peaked 0.6 MiB
/// higher in JSON and 1.9 MiB higher in human form. The threshold, and the one for returning
/// the top of a heap that it raised with it, are set back where glibc starts them; only a run
/// that read such a file gets here (a topology's or a fleet's allocations, which reuse their
/// heaps well, keep glibc's own thresholds).
pub fn free_large(buf: Vec<u8>) {
    drop(buf);
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: sets two of malloc's parameters, which glibc guards with its own lock.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
    }
}

/// The checks of [`read_text_as`] (the size limit, NUL bytes) on bytes read by the caller from
/// elsewhere (standard input, which the library never reads itself), as text named `shown`.
/// The caller reads at most `limit + 1` bytes so that a larger input is told from one at the
/// limit without being read whole.
pub fn text_from_bytes(bytes: Vec<u8>, shown: &Path, limit: u64) -> Result<String> {
    finish(&bytes, bytes.len(), limit, shown)?;
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// The checks on the `filled` bytes read: the size limit and NUL bytes.
fn finish(bytes: &[u8], filled: usize, limit: u64, shown: &Path) -> Result<usize> {
    if filled as u64 > limit {
        return Err(Error::TooLarge {
            path: shown.to_path_buf(),
            limit,
        });
    }
    let bytes = &bytes[..filled];
    // C tools stop a line at a NUL byte (procps reads lines with fgets and strlen), so a file
    // with one does not mean to them what it would mean here: refuse it, at the byte.
    if let Some(at) = memchr::memchr(0, bytes) {
        let (line, column) = line_column(bytes, at);
        return Err(Error::Binary {
            path: shown.to_path_buf(),
            line,
            column,
        });
    }
    Ok(filled)
}

/// 1-based line and column (in bytes) of byte `at`.
fn line_column(bytes: &[u8], at: usize) -> (usize, usize) {
    let before = &bytes[..at];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    (line, at - start + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_a_size_is_read_whole() {
        // /proc/sys reports a size of 0, and an integer there must be read in one call.
        let p = Path::new("/proc/sys/net/ipv4/ip_local_port_range");
        if let Ok(expected) = std::fs::read_to_string(p) {
            assert_eq!(read_text(p, 1024).unwrap(), expected);
            let mut buf = b"left over from a longer file".to_vec();
            let n = read_bytes_into(p, p, 1024, &mut buf).unwrap();
            assert_eq!(&buf[..n], expected.as_bytes());
        }
    }

    #[test]
    fn a_reused_buffer_holds_exactly_the_file_read_last() {
        let dir = tempfile::tempdir().unwrap();
        let (big, small, empty) = (
            dir.path().join("big"),
            dir.path().join("small"),
            dir.path().join("empty"),
        );
        std::fs::write(&big, "x = 1\n".repeat(1000)).unwrap();
        std::fs::write(&small, "y = 2\n").unwrap();
        std::fs::write(&empty, "").unwrap();
        let mut buf = Vec::new();
        let n = read_bytes_into(&big, &big, 1 << 20, &mut buf).unwrap();
        assert_eq!(&buf[..n], "x = 1\n".repeat(1000).as_bytes());
        let n = read_bytes_into(&small, &small, 1 << 20, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"y = 2\n");
        assert_eq!(
            read_bytes_into(&empty, &empty, 1 << 20, &mut buf).unwrap(),
            0
        );
        // A NUL left from an earlier, longer file is not this file's.
        std::fs::write(&big, b"a\0b\0c\0d\0e\0").unwrap();
        assert!(read_bytes_into(&big, &big, 1 << 20, &mut buf).is_err());
        assert_eq!(
            read_bytes_into(&small, &small, 1 << 20, &mut buf).unwrap(),
            6
        );
    }

    #[test]
    fn refuses_devices_and_directories_and_large_files() {
        assert!(matches!(
            read_text(Path::new("/dev/zero"), 10),
            Err(Error::NotReadable { .. })
        ));
        assert!(matches!(
            read_text(Path::new("/"), 10),
            Err(Error::NotReadable { .. })
        ));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big");
        std::fs::write(&p, vec![b'a'; 100]).unwrap();
        assert!(matches!(read_text(&p, 10), Err(Error::TooLarge { .. })));
        std::fs::write(&p, b"a\xffb").unwrap();
        assert_eq!(read_text(&p, 10).unwrap(), "a\u{fffd}b");
        std::fs::write(&p, b"ab\ncd\0").unwrap();
        assert!(matches!(
            read_text(&p, 10),
            Err(Error::Binary {
                line: 2,
                column: 3,
                ..
            })
        ));
    }
}
