//! The `sysctl -a` dump reader: telling a dump from a configuration file, and reading it.
//!
//! This module owns one decision, [`is_dump`]: whether a text is the output of `sysctl -a` (a
//! host's state) rather than settings someone wrote. Both share the `key = value` grammar, so the
//! decision rests on the shape only a program produces. The same pass ([`scan`]) finds the few
//! lines twlint judges in a dump and can reduce the dump to them; the sysctl.conf grammar
//! (`super::conf`) then reads those lines. A dump named for linting is a host of its own.

use super::{conf, HostFile, Reader, SourceKind};
use crate::bytes::{find_byte, word, HIGH, ONES};
use crate::source::SourceFile;
use std::path::Path;

#[allow(non_upper_case_globals)] // named like the `{File, Dump}` variants it replaced
impl SourceKind {
    /// A host's state as `sysctl -a` prints it.
    pub const Dump: SourceKind = SourceKind::printed("dump");
}

/// The registration of this reader. Within a set (a folder, a topology's files) a dump is read
/// whole, as the other files; named alone it is a host, read from the lines twlint judges.
pub(super) static READER: Reader = Reader {
    name: "dump",
    kind: SourceKind::Dump,
    recognises: is_dump,
    read: |file, text| conf::parse(file, text, SourceKind::Dump),
    host: Some(host),
    units: None,
};

/// Whether twlint reads a key of a dump. Asked of every line of every dump (1,300 a dump, of
/// which about 20 are judged): [`JUDGED_BY_LENGTH`] turns nearly every other key away before
/// the lookup in the table of keys (as [`crate::kernel::spec`] looks, on bytes: the scanner
/// hands the key over before making it a `str`, which checks both ends are character
/// boundaries, on every line).
fn judged_in_dump(b: &[u8]) -> bool {
    let last = b.last().map_or(0, |&c| 1u64 << (c & 63));
    JUDGED_BY_LENGTH[b.len().min(63)] & last != 0
        && (b == b"kernel.osrelease" || crate::kernel::KEYS.iter().any(|s| s.key.as_bytes() == b))
}

/// The keys a dump is read for, as a prefilter: by length (the longest sharing one slot), a
/// bit for the last byte (its low six bits) of each such key. A key whose bit is clear is not
/// one of them; one whose bit is set may be.
static JUDGED_BY_LENGTH: [u64; 64] = {
    const fn add(t: &mut [u64; 64], k: &str) {
        let b = k.as_bytes();
        let slot = if b.len() < 63 { b.len() } else { 63 };
        if !b.is_empty() {
            t[slot] |= 1 << (b[b.len() - 1] & 63);
        }
    }
    let mut t = [0u64; 64];
    add(&mut t, "kernel.osrelease");
    let mut i = 0;
    while i < crate::kernel::KEYS.len() {
        add(&mut t, crate::kernel::KEYS[i].key);
        i += 1;
    }
    t
};

/// A dump named alone, registered under its path reduced to the lines twlint reads (the others
/// emptied, every line keeping its number and every kept line its columns), with the line index
/// found in the same pass. A thousand dumps then take a few megabytes instead of their whole
/// text; nothing twlint reports points elsewhere in them (tests/dump_lines.rs compares reports
/// both ways). Only those lines are parsed: the others are the kernel's output for keys no rule
/// or check reads. `None` when `text` is not a dump.
fn host(path: &Path, text: &str) -> Option<HostFile> {
    // A listing saved as a `.conf` is a file procps applies, not a capture of a host: it joins
    // the set, where `sysctl -p` failing on its read-only keys is said (TW086).
    if path.extension().is_some_and(|e| e == "conf") {
        return None;
    }
    let s = scan::<true, _>(text, judged_in_dump)?;
    let file = SourceFile::with_line_starts(path.display().to_string(), s.compact, s.line_starts);
    let lines = s.kept;
    Some(HostFile::new(file, move |id, text| {
        conf::parse_dump_lines(id, text, &lines)
    }))
}

/// Keys `sysctl -a` prints that no one can write (mode 0444 in the kernel's tables: `utsname`
/// and `random` sysctls, the file and inode counters, the lists of what is available):
/// applying a listing as settings fails on each with `permission denied`.
pub(super) const READ_ONLY: [&str; 20] = [
    "kernel.osrelease",
    "kernel.ostype",
    "kernel.version",
    "kernel.arch",
    "kernel.cap_last_cap",
    "kernel.random.boot_id",
    "kernel.random.entropy_avail",
    "kernel.random.uuid",
    "kernel.pty.nr",
    "kernel.seccomp.actions_avail",
    "fs.file-nr",
    "fs.inode-nr",
    "fs.inode-state",
    "fs.dentry-state",
    "fs.aio-nr",
    "dev.cdrom.info",
    "net.core.netdev_rss_key",
    "net.netfilter.nf_conntrack_count",
    "net.ipv4.tcp_available_congestion_control",
    "net.ipv4.tcp_available_ulp",
];

/// TW086: read-only keys in a file procps applies; a `sysctl -a` listing kept as such a file
/// is named as one.
pub(super) fn read_only_written(parsed: &super::ParsedFile) -> Option<crate::diag::Diagnostic> {
    let ro: Vec<super::AssignmentRef> = parsed
        .assignments
        .iter()
        .filter(|a| READ_ONLY.contains(&a.key()))
        .collect();
    let first = ro.first()?;
    let names: Vec<String> = ro
        .iter()
        .take(6)
        .map(|a| format!("`{}`", a.key()))
        .collect();
    let more = if ro.len() > names.len() {
        format!(" and {} more", ro.len() - names.len())
    } else {
        String::new()
    };
    let keys = if ro.len() == 1 { "key" } else { "keys" };
    let listing = parsed.kind.is_printed();
    let message = if listing {
        format!(
            "this sysctl file is a `sysctl -a` listing: `sysctl -p` fails on its read-only {keys} {}{more}",
            names.join(", ")
        )
    } else {
        format!(
            "`sysctl -p` fails on the read-only {keys} {}{more}",
            names.join(", ")
        )
    };
    let note = if listing {
        format!(
            "procps writes all {} lines, prints an error for each read-only key and exits 1; every other line rewrites the value the host had when the listing was taken, defaults included",
            parsed.assignments.len()
        )
    } else {
        "procps prints `permission denied` for each and exits 1; systemd-sysctl logs a failure"
            .to_string()
    };
    let mut d = crate::diag::Diagnostic::warning(crate::code::Code::TW086, message)
        .with_key(first.key())
        .at(first.line(), "read-only: writing it fails with `permission denied`")
        .with_help("keep only the keys you mean to set; save a host's state as a capture (`.txt`), not as a sysctl file")
        .with_note(note);
    for a in ro.iter().skip(1).take(5) {
        d = d.with_secondary(a.line(), "read-only");
    }
    Some(d)
}

/// Top-level directories of /proc/sys that every `sysctl -a` output lists a good share of.
const TOP_LEVELS: [&str; 10] = [
    "abi", "crypto", "debug", "dev", "fs", "kernel", "net", "sunrpc", "user", "vm",
];

/// The fewest assignment lines a dump has. A namespace-restricted `sysctl -a` still prints
/// several hundred keys (about 800 inside a fresh network namespace on 6.18), while hand-written
/// files rarely reach 200; a short excerpt of a dump is treated as a configuration file, which
/// only costs the dump-specific leniency.
const MIN_LINES: usize = 100;

/// Comment lines tolerated before the first assignment: people paste a dump under a line or two
/// saying where it came from (one corpus dump starts with a URL and a title).
const MAX_LEADING_COMMENTS: usize = 10;

/// Whether `text` is a `sysctl -a` dump.
///
/// The heuristic, in order:
/// 1. every line after the first assignment is blank or in the exact form procps prints,
///    `key = value` (no leading blank, a key without blanks, globs or a leading `-`, and one
///    blank each side of the first `=`; a value may be empty and may hold tabs); comment lines
///    are allowed only before the first assignment, and at most [`MAX_LEADING_COMMENTS`] of them;
/// 2. there are at least [`MIN_LINES`] such lines;
/// 3. the file contains `kernel.osrelease`, or its keys span at least three of the usual
///    top-level directories (`kernel.`, `vm.`, `fs.`, `net.`, ...).
///
/// A drop-in generated from a dump and then edited (commented-out lines among the settings)
/// fails rule 1 and is read as configuration, which is what it has become. A `net.*`-only
/// excerpt fails rule 3 and is read as configuration too. No configuration file that is written
/// by hand passes rule 1 with a hundred lines and no comment in between.
pub fn is_dump(text: &str) -> bool {
    scan::<false, _>(text, |_| false).is_some()
}

/// One line of a text as [`super::conf`] reads it: where it starts, where its content ends
/// (before a `\r`), and where the next line starts.
pub(crate) type LineAt = (usize, usize, usize);

/// What [`scan`] found in a dump.
#[derive(Debug, PartialEq)]
pub(crate) struct Scanned {
    /// The lines whose key `keep` accepted: in the text, or with `COMPACT` in `compact`.
    pub kept: Vec<LineAt>,
    /// With `COMPACT`: the dump with every line `keep` did not accept emptied, newlines kept,
    /// so every line keeps its number and every kept line its columns. Blank and comment lines
    /// stay whole (a `# twlint:` directive may be among the comments before the first
    /// setting). Else empty.
    pub compact: String,
    /// With `COMPACT`, where every line of `compact` starts, as
    /// [`crate::source::SourceFile`] indexes a text (0, and after every newline); else empty.
    pub line_starts: Vec<u32>,
}

/// Decides [`is_dump`] and, in the same pass, collects the lines whose key `keep` accepts (and,
/// with `COMPACT`, the dump reduced to them): a dump is read once, and only the few lines
/// twlint judges are parsed, and kept, in full (about 20 of the 1,300 a `sysctl -a` prints).
/// `None` when the text is not a dump.
pub(crate) fn scan<const COMPACT: bool, F: Fn(&[u8]) -> bool + 'static>(
    text: &str,
    keep: F,
) -> Option<Scanned> {
    // The keys this thread's last scans checked, lent to this one and given back.
    thread_local! {
        static SEEN: std::cell::Cell<Seen> = const {
            std::cell::Cell::new(Seen {
                slots: Vec::new(),
                shift: 0,
                keep: None,
            })
        };
    }
    let mut seen = SEEN.take();
    seen.shift = 0;
    let scanned = scan_in::<COMPACT, F>(text, keep, &mut seen);
    SEEN.set(seen);
    scanned
}

/// [`scan`] with the keys checked before. `keep` is a function of the key alone (a function,
/// or a closure that captures nothing: checked when compiled), so what it said of a slot's key
/// holds for as long as the slots are asked with the same `keep`; with another, they are
/// emptied.
fn scan_in<const COMPACT: bool, F: Fn(&[u8]) -> bool + 'static>(
    text: &str,
    keep: F,
    seen: &mut Seen,
) -> Option<Scanned> {
    const { assert!(std::mem::size_of::<F>() == 0, "keep captures nothing") };
    let keep_id = std::any::TypeId::of::<F>();
    if seen.keep != Some(keep_id) {
        seen.slots.clear();
        seen.keep = Some(keep_id);
    }
    if text.starts_with('\u{feff}') {
        // procps never writes a byte-order mark; a file that has one was written by an editor.
        return None;
    }
    let mut kept = Vec::new();
    let mut line_starts = Vec::with_capacity(if COMPACT { text.len() / 32 } else { 0 });
    // Sized for the usual dump (a newline per line, some twenty lines whole): no growing.
    let mut compact = String::with_capacity(if COMPACT { text.len() / 16 } else { 0 });
    // Appends line `start..next` to `compact`: whole, or as its newline only.
    let copy = |compact: &mut String, start: usize, next: usize, whole: bool| {
        if whole {
            compact.push_str(&text[start..next.min(text.len())]);
        } else if next <= text.len() {
            compact.push('\n');
        }
    };
    let mut lines = 0usize;
    let mut leading_comments = 0usize;
    let mut osrelease = false;
    let mut tops = 0u16;
    // How many bits `tops` has: counted as they are set, not asked of `tops` on every line.
    let mut top_count = 0u32;
    let bytes = text.as_bytes();
    let mut pos = 0;
    while pos <= bytes.len() {
        let start = pos;
        if COMPACT {
            line_starts.push(u32::try_from(compact.len()).unwrap_or(u32::MAX));
        }
        // The common line, `key = value` with a key byte first, is checked in one pass over its
        // bytes: the key up to " =", then the value up to the newline. Every other line (blank,
        // comment, anything odd) takes the general path below.
        if bytes.get(pos).is_some_and(|&c| KEY_BYTE[c as usize]) {
            let (key, top, line_end, next, take) = fast_line(bytes, pos, seen, lines, &keep)?;
            let key = &bytes[start..key];
            pos = next;
            lines += 1;
            if key == b"kernel.osrelease" {
                osrelease = true;
            }
            if COMPACT {
                let at = compact.len();
                if take {
                    kept.push((at, at + line_end - start, at + pos.min(bytes.len()) - start));
                }
                copy(&mut compact, start, pos, take);
            } else if take {
                kept.push((start, line_end, pos.min(bytes.len())));
            }
            // Three top levels are all rule 3 asks for; once they are seen, stop looking them up.
            if top_count < 3 {
                let top = &bytes[start..top];
                if let Some(i) = TOP_LEVELS.iter().position(|t| t.as_bytes() == top) {
                    if tops & 1 << i == 0 {
                        tops |= 1 << i;
                        top_count += 1;
                    }
                }
            }
            continue;
        }
        // Lines as `split('\n')` gives them, found with memchr.
        let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
        let raw = &text[pos..end];
        pos = end + 1;
        if COMPACT {
            copy(&mut compact, start, pos, true);
        }
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        // A line that starts with a visible ASCII character is not blank; only the others need
        // the (Unicode) trim.
        if !line.as_bytes().first().is_some_and(u8::is_ascii_graphic) && line.trim().is_empty() {
            continue;
        }
        if line.starts_with('#') || line.starts_with(';') {
            if lines > 0 {
                return None;
            }
            leading_comments += 1;
            if leading_comments > MAX_LEADING_COMMENTS {
                return None;
            }
            continue;
        }
        // Any other line is not in the form procps prints (a key byte first was handled above).
        debug_assert!(dump_line_key(line).is_none());
        return None;
    }
    (lines >= MIN_LINES && (osrelease || top_count >= 3)).then_some(Scanned {
        kept,
        compact,
        line_starts,
    })
}

/// The bytes a slot of [`Seen`] holds: its length, the offset of the key's first `.` (with
/// [`KEPT`] set when `keep` accepted the key), then the key and its " =".
const SLOT: usize = 64;

/// The bit of a slot's second byte that says `keep` accepted its key (a first `.` is at most 61
/// bytes in).
const KEPT: u8 = 0x80;

/// The lines of a dump checked last on this thread, by their number among its settings: each
/// line's key and the " =" after it, once [`fast_line`] found them in the form procps prints. The
/// dumps of a fleet print the same keys in the same order (`sysctl -a` sorts them), so the line
/// of the same number in the next dump is most often the same key: when its bytes are those of
/// the slot, they pass as they passed before (the key ends where it ended, at the blank, its
/// first `.` where it was) and only the value is looked at; else the line is checked and takes
/// the slot. A slot only ever holds bytes that passed, so the decision is the one the check
/// gives (`the_one_pass_scanner_decides_as_the_reference_does` scans thousands of texts on one
/// thread, one after the other). Only the first [`SEEN_LINES`] lines, of keys of at most 60
/// bytes, are kept: 256 KiB a thread at most. A dump of another kernel has a key more or less
/// (`tcp_tw_recycle` before 4.12): the lines after it are looked for one slot further or back,
/// and found there the lines after follow that shift.
#[derive(Default)]
struct Seen {
    slots: Vec<[u8; SLOT]>,
    /// The slot of line `n` of the text scanned is `n + shift`.
    shift: isize,
    /// The `keep` (its type) that the slots' [`KEPT`] bits are answers of.
    keep: Option<std::any::TypeId>,
}

/// The lines of a dump [`Seen`] keeps (a `sysctl -a` prints 1,300 to 2,000).
const SEEN_LINES: usize = 4096;

impl Seen {
    /// Where the key of line `line`, starting at `start`, ends and has its first `.`, and
    /// whether `keep` accepted it, when its bytes (and the " =" after them) are those of the
    /// line's slot.
    #[inline(always)]
    fn get(&mut self, line: usize, b: &[u8], start: usize) -> Option<(usize, usize, bool)> {
        let at = line as isize + self.shift;
        if let Some(found) = self.probe(at, b, start) {
            return Some(found);
        }
        for d in [1, -1] {
            if let Some(found) = self.probe(at + d, b, start) {
                self.shift += d;
                return Some(found);
            }
        }
        None
    }

    /// [`Seen::get`] in slot `at`.
    #[inline(always)]
    fn probe(&self, at: isize, b: &[u8], start: usize) -> Option<(usize, usize, bool)> {
        let s = self.slots.get(usize::try_from(at).ok()?)?;
        let n = s[0] as usize;
        let sep = (s[1] & !KEPT) as usize;
        (n > 0
            && b.get(start..start + n)
                .is_some_and(|b| same_bytes(b, &s[2..2 + n])))
        .then(|| (start + n - 2, start + sep, s[1] & KEPT != 0))
    }

    /// Keeps `key_eq` (a key that passed and its " ="), whose first `.` is at `sep` and which
    /// `keep` accepted or not (`kept`), as line `line`'s.
    fn put(&mut self, line: usize, key_eq: &[u8], sep: usize, kept: bool) {
        let Ok(at) = usize::try_from(line as isize + self.shift) else {
            return;
        };
        if key_eq.len() > SLOT - 2 || at >= SEEN_LINES {
            return;
        }
        if self.slots.len() <= at {
            self.slots.resize(at + 1, [0; SLOT]);
        }
        let s = &mut self.slots[at];
        s[0] = key_eq.len() as u8;
        s[1] = sep as u8 | if kept { KEPT } else { 0 };
        s[2..2 + key_eq.len()].copy_from_slice(key_eq);
    }
}

/// Whether `a` and `b`, of the same length, hold the same bytes: eight at a time, inline (a
/// slot's key is compared on nearly every line of a fleet's dumps, and the call to `bcmp` cost
/// more than the comparison). The last word overlaps the one before when the length is not a
/// multiple of eight.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n < 8 || b.len() != n {
        return a == b;
    }
    let w = |c: &[u8]| u64::from_le_bytes(c.try_into().expect("eight bytes"));
    let mut diff = w(&a[n - 8..]) ^ w(&b[n - 8..]);
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        diff |= w(x) ^ w(y);
    }
    diff == 0
}

/// Bytes a key printed by procps can hold: visible ASCII but none of `= * ? [ # ;`. A table,
/// because every byte of every key of every dump is checked.
static KEY_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0x21;
    while c < 0x7f {
        t[c] = !matches!(c as u8, b'=' | b'*' | b'?' | b'[' | b'#' | b';');
        c += 1;
    }
    t
};

/// Checks the line starting at `start` (whose first byte is a key byte) in the form procps
/// prints, as [`dump_line_key`] does, without finding the line's end first: returns where the
/// key and its first component end, where the line's content ends (before a `\r`), where the
/// next line starts and whether `keep` accepts the key (asked once per slot: a line found in
/// its slot has the slot's answer), or `None` when the line is not in that form. Inlined: it
/// runs for every line of every dump, and a call costs a good part of it.
#[inline(always)]
fn fast_line(
    b: &[u8],
    start: usize,
    seen: &mut Seen,
    line: usize,
    keep: &impl Fn(&[u8]) -> bool,
) -> Option<(usize, usize, usize, usize, bool)> {
    let (key_end, sep, kept) = match seen.get(line, b, start) {
        Some(found) => found,
        None => {
            let (key_end, sep) = key_end(b, start);
            // procps prints dotted keys; a '/' only stands for a dot inside a component, and
            // no key starts with '-'.
            if sep >= key_end || b[sep] != b'.' || b[start] == b'-' {
                return None;
            }
            if b.get(key_end) != Some(&b' ') || b.get(key_end + 1) != Some(&b'=') {
                return None;
            }
            let kept = keep(&b[start..key_end]);
            seen.put(line, &b[start..key_end + 2], sep - start, kept);
            (key_end, sep, kept)
        }
    };
    let i = key_end + 2;
    // After "=": the end of the line (an empty value, its blank stripped), or a blank.
    let (line_end, next) = match b.get(i) {
        None => (i, i + 1),
        Some(b'\n') => (i, i + 1),
        Some(b'\r') if matches!(b.get(i + 1), None | Some(b'\n')) => (i, i + 2),
        Some(b' ') => {
            let nl = find_byte(b, i, b'\n');
            let end = if nl > i && b[nl - 1] == b'\r' {
                nl - 1
            } else {
                nl
            };
            (end, nl + 1)
        }
        Some(_) => return None,
    };
    Some((key_end, sep, line_end, next, kept))
}

/// Where the key starting at `at` ends, the first byte from `at` that is not a [`KEY_BYTE`]
/// (or `b.len()`), and the first `.` or `/` from `at` (or a position past the key's end when
/// the key has none). Eight bytes at a time as one word: the bytes of the usual keys (`-./`,
/// digits, `_`, `` ` ``, lower-case letters) pass in a few operations per word, and only the
/// others (the blank that ends the key, upper case, other punctuation) are looked up one by
/// one.
#[inline(always)]
fn key_end(b: &[u8], mut at: usize) -> (usize, usize) {
    let mut sep = usize::MAX;
    while let Some(x) = word(b, at) {
        // `(c | 0x80) - n` never borrows from the next byte (n < 0x80), and its high bit is
        // whether `c & 0x7f >= n`: exact for every byte; those with the high bit set are none
        // of the usual ones.
        let h = x | HIGH;
        let ge = |n: u8| h.wrapping_sub(ONES * u64::from(n));
        if sep == usize::MAX {
            let dots = ge(b'.') & !ge(b'/' + 1) & !x & HIGH;
            if dots != 0 {
                sep = at + (dots.trailing_zeros() / 8) as usize;
            }
        }
        // The usual bytes are `-` to `9` and `_` to `z`: two ranges, tested as what is below,
        // above or between them (`:` to `^`, which holds `=`, `?`, `[`, `;` and upper case), or
        // not ASCII.
        let other = (!ge(b'-') | ge(b'z' + 1) | (ge(b':') & !ge(b'^' + 1)) | x) & HIGH;
        if other == 0 {
            at += 8;
            continue;
        }
        let i = at + (other.trailing_zeros() / 8) as usize;
        if !KEY_BYTE[b[i] as usize] {
            return (i, sep);
        }
        at = i + 1;
    }
    let end = b[at..]
        .iter()
        .position(|&c| !KEY_BYTE[c as usize])
        .map_or(b.len(), |i| at + i);
    if sep == usize::MAX {
        sep = b[at..end]
            .iter()
            .position(|&c| c == b'.' || c == b'/')
            .map_or(usize::MAX, |i| at + i);
    }
    (end, sep)
}

/// The key of a line printed by `sysctl -a` and its first component, or `None` when the line
/// is not in that form.
fn dump_line_key(line: &str) -> Option<(&str, &str)> {
    let b = line.as_bytes();
    // One pass over the key: it ends at the first byte a key cannot hold, which must be the
    // blank of " =". (A key holds no blank and no '=', so that '=' is the line's first.)
    let mut end = 0;
    let mut sep = usize::MAX;
    while end < b.len() && KEY_BYTE[b[end] as usize] {
        if sep == usize::MAX && (b[end] == b'.' || b[end] == b'/') {
            sep = end;
        }
        end += 1;
    }
    if b.get(end) != Some(&b' ') || b.get(end + 1) != Some(&b'=') {
        return None;
    }
    // procps prints "key = value"; an empty value leaves "key = " (or "key =" once an editor has
    // stripped trailing blanks).
    if b.get(end + 2).is_some_and(|&c| c != b' ') {
        return None;
    }
    // procps prints dotted keys; a '/' only stands for a dot inside a component.
    if sep == usize::MAX || b[sep] != b'.' || b[0] == b'-' {
        return None;
    }
    Some((&line[..end], &line[..sep]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump_like(n: usize) -> String {
        let mut s = String::new();
        for i in 0..n {
            let top = ["kernel", "net", "vm", "fs"][i % 4];
            s.push_str(&format!("{top}.key_{i} = {i}\t{i}\n"));
        }
        s
    }

    #[test]
    fn key_end_stops_where_key_byte_does_and_finds_the_first_dot() {
        // Every byte value after keys of every length, at every alignment.
        let mut text: Vec<u8> = Vec::new();
        for c in 0..=255u8 {
            text.extend_from_slice(&b"net.ipv4.Tcp-x_9/a.b.c.d.e.f"[..(c % 29) as usize]);
            text.push(c);
        }
        for at in 0..=text.len() {
            let end = text[at..]
                .iter()
                .position(|&c| !KEY_BYTE[c as usize])
                .map_or(text.len(), |i| at + i);
            let sep = text[at..end].iter().position(|&c| c == b'.' || c == b'/');
            let (found_end, found_sep) = key_end(&text, at);
            assert_eq!(found_end, end, "from {at}");
            // The separator as far as it matters: the first in the key, or none in it.
            assert_eq!(
                Some(found_sep).filter(|&s| s < end),
                sep.map(|i| at + i),
                "from {at}"
            );
        }
    }

    #[test]
    fn same_bytes_is_slice_equality() {
        let text: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for n in 0..=text.len() {
            let a = &text[..n];
            // The same bytes elsewhere in memory.
            let copy = a.to_vec();
            assert!(same_bytes(a, &copy), "{n}");
            for i in 0..n {
                let mut b = a.to_vec();
                b[i] ^= 0x20;
                assert!(!same_bytes(a, &b), "{n} at {i}");
            }
        }
    }

    #[test]
    fn the_key_prefilter_lets_every_judged_key_through() {
        for spec in crate::kernel::KEYS {
            assert!(judged_in_dump(spec.key.as_bytes()), "{}", spec.key);
        }
        assert!(judged_in_dump(b"kernel.osrelease"));
        // Keys of any length, the longest and the empty included, are judged as the table
        // says.
        let long = format!("net.{}", "x".repeat(100));
        for k in [
            "",
            "a",
            "net.ipv4.tcp_tw_reusf",
            "net.ipv4.tcp_tw_reuse ",
            &long,
        ] {
            assert_eq!(
                judged_in_dump(k.as_bytes()),
                crate::kernel::spec(k).is_some(),
                "{k}"
            );
        }
    }

    /// The compact text is the dump with every `key = value` line whose key `keep` turns away
    /// emptied to its newline (blank and comment lines whole), and its line index is the one
    /// a newline search gives: with or without a final newline, CRLF, empty values, leading
    /// comments and blank lines, runs of emptied lines of every length between kept ones.
    #[test]
    fn compacting_empties_the_lines_keep_turns_away_and_indexes_the_rest() {
        let base = dump_like(300);
        let texts = [
            base.clone(),
            base.trim_end().to_string(),
            base.replace('\n', "\r\n"),
            base.replace("vm.key_2 = 2\t2\n", "vm.key_2 =\n")
                .replace("vm.key_6 = 6\t6", "vm.key_6 = "),
            format!("# from host a\n\n{base}"),
            format!("{base}\n\n"),
            format!("{base}fs.last = 9"),
            format!("{base}net.last = 9"),
        ];
        /// Keeps the `fs.` keys and those whose number is a multiple of `every`.
        fn kept(k: &[u8], every: usize) -> bool {
            let n: usize = k
                .iter()
                .filter(|c| c.is_ascii_digit())
                .fold(0, |n, c| n * 10 + usize::from(c - b'0'));
            k.starts_with(b"fs.") || n % every == 0
        }
        fn check<F: Fn(&[u8]) -> bool + Copy + 'static>(texts: &[String], keep: F, what: &str) {
            for text in texts {
                let scanned = scan_in::<true, _>(text, keep, &mut Seen::default())
                    .unwrap_or_else(|| panic!("not a dump: {:?}", &text[..60]));
                let expected: Vec<&str> = text
                    .split('\n')
                    .map(|line| {
                        let bare = line.strip_suffix('\r').unwrap_or(line);
                        match dump_line_key(bare) {
                            Some((key, _)) if !keep(key.as_bytes()) => "",
                            _ => line,
                        }
                    })
                    .collect();
                let expected = expected.join("\n");
                assert_eq!(scanned.compact, expected, "{what}");
                let mut starts = vec![0];
                starts
                    .extend(memchr::memchr_iter(b'\n', expected.as_bytes()).map(|i| i as u32 + 1));
                assert_eq!(scanned.line_starts, starts, "{what}");
            }
        }
        check(&texts, |k| kept(k, 1), "every key");
        check(&texts, |k| kept(k, 2), "every 2nd");
        check(&texts, |k| kept(k, 3), "every 3rd");
        check(&texts, |k| kept(k, 7), "every 7th");
        check(&texts, |k| kept(k, 40), "every 40th");
        check(&texts, |k| kept(k, 1000), "every 1000th");
        check(&texts, |_| false, "none");
    }

    #[test]
    fn a_text_scans_the_same_whatever_lines_were_seen_before() {
        // Dumps that share most keys line for line and differ here and there: a key changed,
        // longer, shorter, a value's form, lines added or dropped, a key too long to keep.
        let base = dump_like(300);
        let long = format!("net.{} = 1\n", "k".repeat(70));
        let texts = [
            base.clone(),
            base.replace("net.key_5 ", "net.key_5x "),
            base.replace("fs.key_7 ", "fs.key_ "),
            base.replace("kernel.key_8 = 8", "kernel.key_8 =8"),
            base.replace("vm.key_2 = 2", "vm.key_2 =\r"),
            base.replace("vm.key_6 ", "vm/key_6 "),
            base.replace("net.key_9 ", "-net.key_9 "),
            base.replace("net.key_13 ", "net.Key_13 "),
            format!("fs.extra = 1\n{base}"),
            format!("# a comment\n\n{long}{base}"),
            base[base.find("\n").unwrap() + 1..].to_string(),
            base.replace(" = ", " =  "),
        ];
        let keep = |k: &[u8]| k.ends_with(b"3") || k.starts_with(b"fs.");
        // Another `keep`: the slots' answers are not its answers.
        let other = |k: &[u8]| k.ends_with(b"5");
        for text in &texts {
            let fresh = scan_in::<true, _>(text, keep, &mut Seen::default());
            let fresh_other = scan_in::<true, _>(text, other, &mut Seen::default());
            assert_eq!(fresh.is_some(), is_dump(text));
            for before in &texts {
                let mut seen = Seen::default();
                let _ = scan_in::<true, _>(before, keep, &mut seen);
                assert_eq!(scan_in::<true, _>(text, keep, &mut seen), fresh);
                assert_eq!(scan_in::<true, _>(text, other, &mut seen), fresh_other);
                assert_eq!(scan_in::<true, _>(text, keep, &mut seen), fresh);
                assert_eq!(
                    scan_in::<false, _>(text, keep, &mut seen),
                    scan_in::<false, _>(text, keep, &mut Seen::default())
                );
            }
        }
    }

    #[test]
    fn a_long_program_made_listing_is_a_dump() {
        assert!(is_dump(&dump_like(120)));
    }

    #[test]
    fn osrelease_alone_is_enough_for_the_namespace_rule() {
        let mut s = String::from("kernel.osrelease = 6.8.0-45-generic\n");
        for i in 0..150 {
            s.push_str(&format!("net.ipv4.k{i} = 1\n"));
        }
        assert!(is_dump(&s));
        // The same listing without kernel.osrelease spans one top-level directory only.
        assert!(!is_dump(&s[s.find('\n').unwrap() + 1..]));
    }

    #[test]
    fn short_listings_are_configuration() {
        assert!(!is_dump(&dump_like(MIN_LINES - 1)));
        assert!(is_dump(&dump_like(MIN_LINES)));
    }

    #[test]
    fn a_comment_between_settings_means_someone_edited_it() {
        let mut s = dump_like(120);
        s.insert_str(s.find("net.key_1").unwrap(), "# tuned by hand\n");
        assert!(!is_dump(&s));
    }

    #[test]
    fn a_few_leading_comments_are_tolerated() {
        let s = format!("# from host a\n# 2015\n\n{}", dump_like(120));
        assert!(is_dump(&s));
        let s = format!(
            "{}{}",
            "# x\n".repeat(MAX_LEADING_COMMENTS + 1),
            dump_like(120)
        );
        assert!(!is_dump(&s));
    }

    #[test]
    fn hand_written_spacing_globs_and_dashes_are_configuration() {
        for bad in [
            "net.ipv4.tcp_tw_reuse=1\n",
            "  net.ipv4.tcp_tw_reuse = 1\n",
            "net.ipv4.conf.*.rp_filter = 2\n",
            "-net.ipv4.tcp_tw_reuse = 1\n",
            "net/ipv4/tcp_tw_reuse = 1\n",
        ] {
            let s = format!("{}{bad}", dump_like(120));
            assert!(!is_dump(&s), "{bad:?}");
        }
    }

    #[test]
    fn empty_values_and_crlf_still_count() {
        let s = format!("kernel.domainname = \r\nkernel.x =\r\n{}", dump_like(120));
        assert!(is_dump(&s));
    }

    /// The recognition as first written (a memchr per line, then the key checked byte by byte):
    /// the one-pass scanner must decide exactly as it did.
    fn reference_is_dump(text: &str) -> bool {
        if text.starts_with('\u{feff}') {
            return false;
        }
        let (mut lines, mut leading, mut osrelease, mut tops) = (0usize, 0usize, false, 0u16);
        for raw in text.split('\n') {
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if line.trim().is_empty() {
                continue;
            }
            if line.starts_with('#') || line.starts_with(';') {
                if lines > 0 {
                    return false;
                }
                leading += 1;
                if leading > MAX_LEADING_COMMENTS {
                    return false;
                }
                continue;
            }
            let Some((key, top)) = dump_line_key(line) else {
                return false;
            };
            lines += 1;
            osrelease |= key == "kernel.osrelease";
            if let Some(i) = TOP_LEVELS.iter().position(|t| *t == top) {
                tops |= 1 << i;
            }
        }
        lines >= MIN_LINES && (osrelease || tops.count_ones() >= 3)
    }

    #[test]
    fn the_one_pass_scanner_decides_as_the_reference_does() {
        // Lines that are dump lines, nearly dump lines, and everything in between, mixed into
        // a long listing at random places (a fixed-seed xorshift: the same cases every run).
        let pieces = [
            "net.ipv4.tcp_tw_reuse = 2",
            "kernel.osrelease = 6.8.0",
            "vm.swappiness = 60",
            "fs.file-max = 9",
            "kernel.domainname = ",
            "kernel.x =",
            "net.a/b.c = 1",
            "net/ipv4/x = 1",
            "-net.x = 1",
            "net.x= 1",
            "net.x =1",
            "net.x  = 1",
            " net.x = 1",
            "net.*.x = 1",
            "net.x = 1 = 2",
            "net.x = a\tb",
            "# c",
            "; c",
            "",
            "   ",
            "\t",
            "nodot = 1",
            "net.x =\r",
            "net.x = 1\r",
            "net.x =\r\r",
            "net.x",
            "=",
            " = 1",
            "net.é = 1",
            "net.x = é",
            "net.x\u{a0}= 1",
            "\u{a0}",
            "net.x =  ",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for case in 0..3000 {
            let mut text = if case % 3 == 0 {
                String::new()
            } else {
                dump_like(120)
            };
            let extra = (next() % 4) as usize;
            for _ in 0..extra {
                let piece = pieces[(next() % pieces.len() as u64) as usize];
                let mut at = (next() % (text.len() as u64 + 1)) as usize;
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let at = text[..at].rfind('\n').map_or(0, |i| i + 1);
                let nl = if next() % 5 == 0 { "\r\n" } else { "\n" };
                text.insert_str(at, &format!("{piece}{nl}"));
            }
            if next() % 4 == 0 {
                text.push_str(pieces[(next() % pieces.len() as u64) as usize]);
            }
            assert_eq!(is_dump(&text), reference_is_dump(&text), "{text:?}");
        }
    }
}
