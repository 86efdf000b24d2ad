//! Bytes of a streamed report that must wait for their place: in memory up to
//! [`Spool::IN_MEMORY`] bytes, then in a temporary file that no other process can open (unlinked
//! as soon as it is made), so a fleet run's memory stays flat whatever its number of hosts.
//! The JSON stream keeps the lists that follow the fleet summary in the document here; the human
//! stream keeps the hosts' tables and findings, which follow the fleet summary on screen.
//! Where no temporary file can be made, everything stays in memory: the report is still written
//! whole, only less frugally.

use std::io::{self, Seek, SeekFrom, Write};

/// Bytes appended in order and written out once, at the end.
#[derive(Default)]
pub struct Spool {
    memory: Vec<u8>,
    file: Option<std::fs::File>,
    /// No temporary file could be made: keep everything in memory.
    no_file: bool,
}

impl Spool {
    /// Past this many bytes in memory the bytes move to the temporary file.
    pub const IN_MEMORY: usize = 1 << 20;

    /// An empty spool.
    pub fn new() -> Spool {
        Spool::default()
    }

    /// Whether nothing was appended: bytes are in memory, or in the file once moved there.
    pub fn is_empty(&self) -> bool {
        self.memory.is_empty() && self.file.is_none()
    }

    /// Appends `bytes`.
    pub fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.memory.extend_from_slice(bytes);
        if self.memory.len() >= Spool::IN_MEMORY && !self.no_file {
            if self.file.is_none() {
                self.file = temp_file().ok();
                self.no_file = self.file.is_none();
            }
            if let Some(f) = &mut self.file {
                f.write_all(&self.memory)?;
                self.memory.clear();
            }
        }
        Ok(())
    }

    /// Writes everything appended, in order, to `out`.
    pub fn write_to(self, out: &mut dyn Write) -> io::Result<()> {
        if let Some(mut f) = self.file {
            f.seek(SeekFrom::Start(0))?;
            io::copy(&mut f, out)?;
        }
        out.write_all(&self.memory)
    }
}

/// A new temporary file, open for reading and writing, already unlinked.
fn temp_file() -> io::Result<std::fs::File> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        ".twlint-{}-{}.spool",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    std::fs::remove_file(&path)?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes past the memory limit move to the temporary file and come back whole and in order.
    #[test]
    fn a_spool_past_its_memory_gives_back_every_byte_in_order() {
        let mut spool = Spool::new();
        assert!(spool.is_empty());
        let mut expected = Vec::new();
        for i in 0..3000 {
            let chunk = format!("{i}:{}\n", "x".repeat(1000));
            spool.append(chunk.as_bytes()).unwrap();
            spool.append(b"").unwrap();
            expected.extend_from_slice(chunk.as_bytes());
        }
        assert!(!spool.is_empty());
        assert!(spool.file.is_some(), "3 MB went to the temporary file");
        assert!(spool.memory.len() < Spool::IN_MEMORY);
        let mut out = Vec::new();
        spool.write_to(&mut out).unwrap();
        assert_eq!(out, expected);
    }
}
