//! The `sysctl` command lines of a shell script, read as `sh` reads them.
//!
//! Settings often reach the kernel through a command in a script rather than a file: an init
//! container's `sh -c "sysctl -w k=v; ..."`, a provisioning script, a cloud-init `runcmd`. This
//! module owns the two steps every such reader shares: splitting a script into commands and
//! words the way the shell does (quotes removed, each byte of a word remembering where it was
//! written, so a finding lands on the key or value as the user typed it), and reading one
//! command's words as procps `sysctl` reads its arguments. It knows no file format: a reader
//! hands it a script or a command's words and maps the places back into its file.
//!
//! What is not a plain word is kept as written (`$VAR`, `$(...)`): a value built at run time is
//! then read as its text, which names no number, and the value checks say so.

use std::ops::Range;

/// One word of a command after quote removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word as the command receives it.
    pub text: String,
    /// For each byte of `text`, its offset in the script.
    at: Vec<usize>,
    /// Where the word was written, quotes included.
    pub range: Range<usize>,
}

impl Word {
    /// A word given as is (an item of an exec-form command list), at `base` in its source.
    pub fn literal(text: &str, base: usize) -> Word {
        Word {
            text: text.to_string(),
            at: (base..base + text.len()).collect(),
            range: base..base + text.len(),
        }
    }

    /// Where bytes `r` of the word's text were written.
    fn written(&self, r: Range<usize>) -> Range<usize> {
        if r.start >= r.end {
            // An empty part: where it would have been, right after what precedes it.
            let at = if r.start == 0 {
                self.range.start
            } else {
                self.at[r.start - 1] + 1
            };
            return at..at;
        }
        self.at[r.start]..self.at[r.end - 1] + 1
    }
}

/// Splits a script into commands (at `;`, `&`, `|`, newlines and parentheses) and each command
/// into words, as `sh` does: blanks separate words, single quotes keep everything, double quotes
/// keep everything but `\\`, `\"`, `\$` and `` \` `` escapes, a backslash outside quotes keeps the
/// next byte (and joins lines before a newline), and `#` at the start of a word comments out
/// the rest of the line.
pub fn commands(script: &str) -> Vec<Vec<Word>> {
    /// A word being built: its bytes after quote removal, where each was written, its start.
    struct Raw {
        bytes: Vec<u8>,
        at: Vec<usize>,
        start: usize,
    }
    fn push(cur: &mut Option<Raw>, start: usize, byte_at: usize, byte: u8) {
        let w = cur.get_or_insert_with(|| Raw {
            bytes: Vec::new(),
            at: Vec::new(),
            start,
        });
        w.bytes.push(byte);
        w.at.push(byte_at);
    }
    fn finish(cur: &mut Option<Raw>, words: &mut Vec<Word>, end: usize) {
        if let Some(w) = cur.take() {
            // Quote removal drops only ASCII bytes, so whole characters remain.
            let text = String::from_utf8(w.bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            words.push(Word {
                text,
                at: w.at,
                range: w.start..end,
            });
        }
    }
    let b = script.as_bytes();
    let mut commands = Vec::new();
    let mut words: Vec<Word> = Vec::new();
    let mut cur: Option<Raw> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\r' => {
                finish(&mut cur, &mut words, i);
                i += 1;
            }
            b'\n' | b';' | b'&' | b'|' | b'(' | b')' => {
                finish(&mut cur, &mut words, i);
                if !words.is_empty() {
                    commands.push(std::mem::take(&mut words));
                }
                i += 1;
            }
            b'#' if cur.is_none() => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'\\' => {
                match b.get(i + 1) {
                    Some(b'\n') => {}
                    Some(&n) => push(&mut cur, i, i + 1, n),
                    None => push(&mut cur, i, i, c),
                }
                i += 2;
            }
            b'\'' | b'"' => {
                // An empty '' or "" still makes a word.
                cur.get_or_insert_with(|| Raw {
                    bytes: Vec::new(),
                    at: Vec::new(),
                    start: i,
                });
                i += 1;
                while i < b.len() && b[i] != c {
                    if c == b'"' && b[i] == b'\\' {
                        match b.get(i + 1) {
                            Some(b'\\' | b'"' | b'$' | b'`') => i += 1,
                            Some(b'\n') => {
                                i += 2;
                                continue;
                            }
                            _ => {}
                        }
                    }
                    if i < b.len() {
                        push(&mut cur, i, i, b[i]);
                    }
                    i += 1;
                }
                i += 1;
            }
            _ => {
                push(&mut cur, i, i, c);
                i += 1;
            }
        }
    }
    finish(&mut cur, &mut words, b.len());
    if !words.is_empty() {
        commands.push(words);
    }
    commands
}

/// One `key=value` argument of a `sysctl` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// The index of the word it was read from, in the words given to [`sysctl_writes`].
    pub word: usize,
    /// The key as written (dotted or with slashes).
    pub key: String,
    pub key_at: Range<usize>,
    /// The value after quote removal, blanks around it stripped as procps strips them.
    pub value: String,
    pub value_at: Range<usize>,
}

/// Commands that run the command after them, as far as finding `sysctl` goes.
const PREFIXES: [&str; 9] = [
    "sudo", "exec", "command", "busybox", "if", "then", "do", "!", "nsenter",
];

/// Reads one command's words as procps `sysctl` reads its arguments: `None` when the command is
/// not `sysctl`, or loads files (`-p`, `--system`) rather than setting values; else every
/// `key=value` argument with the places of its key and value. Options (`-w`, `-q`, `-e`,
/// combined as `-qw`) are skipped; an argument without `=` reads a key and sets nothing.
pub fn sysctl_writes(words: &[Word]) -> Option<Vec<Write>> {
    let mut rest = words;
    // `sudo -E sysctl ...`, `if sysctl -w ...; then`: skip what only runs the command after it,
    // with its own options.
    while let Some((first, tail)) = rest.split_first() {
        if !PREFIXES.contains(&first.text.as_str()) {
            break;
        }
        rest = tail;
        while rest.first().is_some_and(|w| w.text.starts_with('-')) {
            rest = &rest[1..];
        }
    }
    let skipped = words.len() - rest.len();
    let (cmd, args) = rest.split_first()?;
    if cmd.text.rsplit('/').next() != Some("sysctl") {
        return None;
    }
    let mut out = Vec::new();
    for (n, a) in args.iter().enumerate() {
        let t = a.text.as_str();
        if t == "--system" || t == "--load" || t.starts_with("--load=") {
            return None;
        }
        if let Some(flags) = t.strip_prefix('-').filter(|f| !f.starts_with('-')) {
            if flags.contains('p') || flags.contains('f') {
                return None;
            }
            continue;
        }
        if t.starts_with("--") {
            continue;
        }
        let Some(eq) = t.find('=') else { continue };
        let (ks, ke) = trim(t, 0, eq);
        let (vs, ve) = trim(t, eq + 1, t.len());
        let (vs, ve) = if vs == ve { (eq + 1, eq + 1) } else { (vs, ve) };
        out.push(Write {
            word: skipped + 1 + n,
            key: t[ks..ke].to_string(),
            key_at: a.written(ks..ke),
            value: t[vs..ve].to_string(),
            value_at: a.written(vs..ve),
        });
    }
    Some(out)
}

/// `s[start..end]` without blanks on either side, as a byte range.
fn trim(s: &str, mut start: usize, mut end: usize) -> (usize, usize) {
    let b = s.as_bytes();
    while start < end && b[start].is_ascii_whitespace() {
        start += 1;
    }
    while end > start && b[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writes(script: &str) -> Vec<(String, &str, String, &str)> {
        commands(script)
            .iter()
            .filter_map(|c| sysctl_writes(c))
            .flatten()
            .map(|w| {
                (
                    w.key.clone(),
                    &script[w.key_at.clone()],
                    w.value.clone(),
                    &script[w.value_at.clone()],
                )
            })
            .collect()
    }

    #[test]
    fn quotes_are_removed_as_the_shell_removes_them_and_places_stay_on_the_text() {
        let script = "set -e; sysctl -w net.core.somaxconn=4096 && /sbin/sysctl -qw \
                      net.ipv4.ip_local_port_range='1024 65000'\nsysctl \"net.ipv4.tcp_tw_reuse\"=1";
        let got = writes(script);
        assert_eq!(
            got,
            [
                (
                    "net.core.somaxconn".into(),
                    "net.core.somaxconn",
                    "4096".into(),
                    "4096"
                ),
                (
                    "net.ipv4.ip_local_port_range".into(),
                    "net.ipv4.ip_local_port_range",
                    "1024 65000".into(),
                    "1024 65000"
                ),
                (
                    "net.ipv4.tcp_tw_reuse".into(),
                    "net.ipv4.tcp_tw_reuse",
                    "1".into(),
                    "1"
                ),
            ]
        );
    }

    #[test]
    fn loading_files_reading_keys_comments_and_other_commands_set_nothing() {
        assert!(writes("sysctl -p /etc/sysctl.d/x.conf; sysctl --system").is_empty());
        assert!(writes("sysctl net.core.somaxconn; echo net.a.b=1").is_empty());
        assert!(writes("# sysctl -w net.core.somaxconn=1\ntrue").is_empty());
        assert_eq!(writes("sudo sysctl -w vm.swappiness=10").len(), 1);
    }

    #[test]
    fn an_empty_value_points_right_after_the_equals_sign() {
        let script = "sysctl -w net.ipv4.ip_local_reserved_ports=";
        let w = &writes(script)[0];
        assert_eq!(w.2, "");
        assert_eq!(w.3, "");
        let c = commands(script);
        let got = sysctl_writes(&c[0]).unwrap();
        assert_eq!(got[0].value_at, script.len()..script.len());
    }

    #[test]
    fn non_ascii_text_survives_quote_removal() {
        let c = commands("echo 'héllo' wörld");
        assert_eq!(c[0][1].text, "héllo");
        assert_eq!(c[0][2].text, "wörld");
    }
}
