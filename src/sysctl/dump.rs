//! Telling a `sysctl -a` dump from a configuration file.
//!
//! This module owns one decision, [`is_dump`]: whether a text is the output of `sysctl -a` (a
//! host's state) rather than settings someone wrote. Both share the `key = value` grammar, so the
//! decision rests on the shape only a program produces; the parser then reads the dump with the
//! ordinary line grammar.

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
    if text.starts_with('\u{feff}') {
        // procps never writes a byte-order mark; a file that has one was written by an editor.
        return false;
    }
    let mut lines = 0usize;
    let mut leading_comments = 0usize;
    let mut osrelease = false;
    let mut tops = 0u16;
    let bytes = text.as_bytes();
    let mut pos = 0;
    while pos <= bytes.len() {
        // Lines as `split('\n')` gives them, found with memchr: a dump is judged on every run.
        let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
        let raw = &text[pos..end];
        pos = end + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        // A line that starts with a visible ASCII character is not blank; only the others need
        // the (Unicode) trim.
        if !line.as_bytes().first().is_some_and(u8::is_ascii_graphic) && line.trim().is_empty() {
            continue;
        }
        if line.starts_with('#') || line.starts_with(';') {
            if lines > 0 {
                return false;
            }
            leading_comments += 1;
            if leading_comments > MAX_LEADING_COMMENTS {
                return false;
            }
            continue;
        }
        let Some((key, top)) = dump_line_key(line) else {
            return false;
        };
        lines += 1;
        if key == "kernel.osrelease" {
            osrelease = true;
        }
        // Three top levels are all rule 3 asks for; once they are seen, stop looking them up.
        if tops.count_ones() < 3 {
            if let Some(i) = TOP_LEVELS.iter().position(|t| *t == top) {
                tops |= 1 << i;
            }
        }
    }
    lines >= MIN_LINES && (osrelease || tops.count_ones() >= 3)
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

/// The key of a line printed by `sysctl -a` and its first component, or `None` when the line
/// is not in that form.
fn dump_line_key(line: &str) -> Option<(&str, &str)> {
    let b = line.as_bytes();
    // The key ends at the first " =": that is the first '=' when a blank precedes it; when the
    // first '=' has no blank before it, any later " =" would leave an '=' in the key.
    let eq = memchr::memchr(b'=', b)?;
    if eq == 0 || b[eq - 1] != b' ' {
        return None;
    }
    let key = &line[..eq - 1];
    // procps prints "key = value"; an empty value leaves "key = " (or "key =" once an editor has
    // stripped trailing blanks).
    if b.get(eq + 1).is_some_and(|&c| c != b' ') {
        return None;
    }
    // procps prints dotted keys; a '/' only stands for a dot inside a component.
    let kb = key.as_bytes();
    if !kb.iter().all(|&c| KEY_BYTE[c as usize]) {
        return None;
    }
    let sep = kb.iter().position(|&c| c == b'.' || c == b'/')?;
    let ok = !key.starts_with('-') && kb[sep] == b'.';
    ok.then_some((key, &key[..sep]))
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
}
