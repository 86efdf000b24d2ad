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
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // `take` guards against a file that grows between the size check and the read.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    // The tools work on bytes; invalid UTF-8 becomes U+FFFD so spans stay on character bounds.
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
