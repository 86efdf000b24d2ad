//! Effective values: which assignment wins for each key, across all files of a set.
//!
//! This module owns precedence and what can only be seen across assignments. Both procps 4 and
//! systemd-sysctl give the last explicit assignment of a key the final say; a glob assignment
//! only reaches keys that no explicit assignment and no `-key` exclusion names, and among globs
//! the last match wins (checked on procps-ng 4.0.2 and systemd 252). It reports duplicates
//! (TW006) and keys on which procps and systemd end in different states (TW010).

use crate::code::Code;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::{normalize_key, ParsedFile, SourceKind};
use crate::diag::{Diagnostic, LeftOut, Severity, MAX_PER_RULE_AND_FILE};
use crate::inputs::AssignmentRef;
use crate::source::{FileId, Span, Spanned};
use std::hash::BuildHasher;

/// The effective value of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The dotted key.
    pub key: String,
    /// The effective value and where it was written.
    pub value: Spanned<String>,
    pub kind: SourceKind,
    pub ignore_failure: bool,
    /// Key spans of the earlier assignments this one overrides, in application order.
    pub overridden: Vec<Span>,
    /// The value came from a glob assignment.
    pub via_glob: bool,
}

/// An assignment by position: its index among the assignments of all of a set's files, in
/// application order (see [`SysctlSet::place`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Ref(u32);

/// Every file of one linted set, in application order, with the effective values.
#[derive(Debug, Clone)]
pub struct SysctlSet {
    /// The files in the order procps applies them.
    pub files: Vec<ParsedFile>,
    /// Every diagnostic: each file's own, then those found across assignments.
    pub diagnostics: Vec<Diagnostic>,
    /// TW006 findings counted but not built: past the first [`MAX_PER_RULE_AND_FILE`] of a
    /// file, which are all a report keeps (a file that sets every key again has one per line).
    pub left_out: Vec<LeftOut>,
    /// The explicit (non-glob) assignments of every key, grouped by key, each group in
    /// application order: key `k`'s are `explicit[groups[k]..groups[k + 1]]`. A group may be
    /// empty (a key only globs were written with). One list for all keys: a dump sets more
    /// than a thousand, and a list each was an allocation each.
    explicit: Vec<Ref>,
    groups: Vec<u32>,
    /// The keys with at least one explicit assignment, by index, in key order.
    sorted: Vec<u32>,
    /// Glob assignments in application order.
    globs: Vec<Ref>,
    /// The [`Ref`] of each file's first assignment.
    starts: Vec<u32>,
    /// Keys named by `-key` exclusions.
    excluded: HashSet<String>,
}

/// The keys of a set, each with an index of its own: every file's table keeps its distinct
/// keys once, and the set numbers the distinct keys of all its files.
struct SetKeys<'f> {
    files: &'f [ParsedFile],
    /// A file's key of each set key: (file, the key's index in that file's table).
    names: Vec<(u32, u32)>,
    index: hashbrown::HashTable<u32>,
}

impl<'f> SetKeys<'f> {
    fn text(&self, k: u32) -> &'f str {
        let (f, i) = self.names[k as usize];
        self.files[f as usize].assignments.key_text(i)
    }

    /// For each file, the set key of each of its table's keys.
    fn number(files: &'f [ParsedFile]) -> (SetKeys<'f>, Vec<Vec<u32>>) {
        let hasher = foldhash::fast::FixedState::default();
        // Room for every file's keys up front (a dump's are all different), to a point: files
        // that set the same keys again need less.
        let room = files
            .iter()
            .map(|f| f.assignments.key_count())
            .sum::<usize>();
        let mut keys = SetKeys {
            files,
            names: Vec::with_capacity(room.min(4096)),
            index: hashbrown::HashTable::with_capacity(room.min(4096)),
        };
        let mut per_file = Vec::with_capacity(files.len());
        for (f, parsed) in files.iter().enumerate() {
            let table = &parsed.assignments;
            let mut of = Vec::with_capacity(table.key_count());
            for i in 0..table.key_count() as u32 {
                let text = table.key_text(i);
                let hash = hasher.hash_one(text);
                let found = keys.index.find(hash, |&k| keys.text(k) == text).copied();
                let k = found.unwrap_or_else(|| {
                    let k = keys.names.len() as u32;
                    keys.names.push((f as u32, i));
                    let (files, names) = (keys.files, &keys.names);
                    keys.index.insert_unique(hash, k, |&j| {
                        let (f, i) = names[j as usize];
                        hasher.hash_one(files[f as usize].assignments.key_text(i))
                    });
                    k
                });
                of.push(k);
            }
            per_file.push(of);
        }
        (keys, per_file)
    }
}

/// Builds the set. `systemd_order` lists the indexes of the files systemd-sysctl reads, in its
/// order, when that differs from procps' (`None`: both read `files` in the same order).
pub(crate) fn resolve(files: Vec<ParsedFile>, systemd_order: Option<Vec<usize>>) -> SysctlSet {
    let (keys, per_file) = SetKeys::number(&files);
    let n = keys.names.len();
    // Counted, then laid out by key: each group in application order.
    let mut groups = vec![0u32; n + 1];
    let mut globs = Vec::new();
    let mut starts = Vec::with_capacity(files.len());
    let mut total = 0u32;
    for (f, parsed) in files.iter().enumerate() {
        starts.push(total);
        total += parsed.assignments.len() as u32;
        for a in &parsed.assignments {
            if a.glob() {
                globs.push(Ref(starts[f] + a.index() as u32));
            } else {
                groups[per_file[f][a.key_index() as usize] as usize + 1] += 1;
            }
        }
    }
    for k in 0..n {
        groups[k + 1] += groups[k];
    }
    let mut next = groups.clone();
    let mut explicit = vec![Ref(0); groups[n] as usize];
    for (f, parsed) in files.iter().enumerate() {
        for a in parsed.assignments.iter().filter(|a| !a.glob()) {
            let k = per_file[f][a.key_index() as usize] as usize;
            explicit[next[k] as usize] = Ref(starts[f] + a.index() as u32);
            next[k] += 1;
        }
    }
    let mut sorted: Vec<u32> = (0..n as u32)
        .filter(|&k| groups[k as usize] < groups[k as usize + 1])
        .collect();
    sorted.sort_unstable_by_key(|&k| keys.text(k));
    drop(keys);
    let excluded = files
        .iter()
        .flat_map(|f| &f.exclusions)
        .map(|e| e.pattern.value.clone())
        .collect();
    let mut set = SysctlSet {
        diagnostics: files.iter().flat_map(|f| f.diagnostics.clone()).collect(),
        left_out: Vec::new(),
        files,
        explicit,
        groups,
        sorted,
        globs,
        starts,
        excluded,
    };
    let (mut cross, left_out) = set.duplicates();
    set.left_out = left_out;
    if let Some(order) = systemd_order {
        cross.extend(set.divergences(&order));
    }
    // Report in file order so output is stable.
    cross.sort_by_key(|d| d.primary.as_ref().map(|l| (l.span.file, l.span.start)));
    set.diagnostics.extend(cross);
    set
}

/// Whitespace-insensitive value comparison: the kernel reads fields separated by any blanks.
fn same_value(a: &str, b: &str) -> bool {
    a.split_ascii_whitespace().eq(b.split_ascii_whitespace())
}

impl SysctlSet {
    /// The file (its index in `files`) and the index in its table of assignment `r`.
    fn place(&self, r: Ref) -> (usize, usize) {
        // The last file that starts at or before `r`: files without assignments start where
        // the next one does.
        let f = self.starts.partition_point(|&s| s <= r.0) - 1;
        (f, (r.0 - self.starts[f]) as usize)
    }

    fn assignment(&self, r: Ref) -> AssignmentRef<'_> {
        let (f, i) = self.place(r);
        self.files[f].assignments.get(i)
    }

    /// The explicit assignments of key `k`, in application order.
    fn refs(&self, k: u32) -> &[Ref] {
        let k = k as usize;
        &self.explicit[self.groups[k] as usize..self.groups[k + 1] as usize]
    }

    /// The text of key `k` (which has an explicit assignment).
    fn key_text(&self, k: u32) -> &str {
        self.assignment(self.refs(k)[0]).key()
    }

    /// The keys with explicit assignments, each with them.
    fn explicit_keys(&self) -> impl Iterator<Item = (&str, &[Ref])> + '_ {
        self.sorted
            .iter()
            .map(|&k| (self.key_text(k), self.refs(k)))
    }

    fn kind(&self, r: Ref) -> SourceKind {
        self.files[self.place(r).0].kind
    }

    fn setting(&self, key: &str, winner: Ref, earlier: &[Ref], via_glob: bool) -> Setting {
        let a = self.assignment(winner);
        Setting {
            key: key.to_owned(),
            value: Spanned::new(a.value().to_string(), a.value_span()),
            kind: self.kind(winner),
            ignore_failure: a.ignore_failure(),
            overridden: earlier
                .iter()
                .map(|&r| self.assignment(r).key_span())
                .collect(),
            via_glob,
        }
    }

    /// The effective value of a dotted key (a key in `/` form is accepted too).
    pub fn get(&self, key: &str) -> Option<Setting> {
        let key: Cow<str> = match key.bytes().find(|&b| b == b'.' || b == b'/') {
            Some(b'/') => Cow::Owned(normalize_key(key)),
            _ => Cow::Borrowed(key),
        };
        if let Ok(at) = self
            .sorted
            .binary_search_by(|&k| self.key_text(k).cmp(key.as_ref()))
        {
            let (winner, earlier) = self.refs(self.sorted[at]).split_last()?;
            return Some(self.setting(&key, *winner, earlier, false));
        }
        // Both tools skip keys named by an exclusion or an explicit assignment when they expand
        // a glob; the explicit case returned above.
        if self.excluded.contains(key.as_ref()) {
            return None;
        }
        let matching: Vec<Ref> = self
            .globs
            .iter()
            .copied()
            .filter(|&r| glob_match(self.assignment(r).key(), &key))
            .collect();
        let (winner, earlier) = matching.split_last()?;
        Some(self.setting(&key, *winner, earlier, true))
    }

    /// Every explicitly assigned key with its effective setting, in key order.
    pub fn explicit(&self) -> impl Iterator<Item = Setting> + '_ {
        self.explicit_keys().filter_map(|(k, refs)| {
            let (winner, earlier) = refs.split_last()?;
            Some(self.setting(k, *winner, earlier, false))
        })
    }

    /// The kernel release of the last dump that has `kernel.osrelease`.
    pub fn kernel_release(&self) -> Option<&Spanned<String>> {
        self.files
            .iter()
            .rev()
            .find_map(|f| f.kernel_release.as_ref())
    }

    /// True when at least one file was read and every file is a `sysctl -a` dump.
    pub fn is_dump(&self) -> bool {
        !self.files.is_empty() && self.files.iter().all(|f| f.kind == SourceKind::Dump)
    }

    /// TW006: one diagnostic per overridden explicit assignment. Dumps (any host state as the
    /// kernel printed it) take no part: a dump repeats a key for every line of a multi-line
    /// value, and a file applied on top of a dump is meant to change the host's state.
    ///
    /// Only the first [`MAX_PER_RULE_AND_FILE`] of each file, by the overridden line's place
    /// (the ones the judge's cap keeps), are built; the others are counted. A file that sets
    /// every key again has one per line, and building them all (messages, labels, notes) to
    /// drop them was most of the time and memory of reading it.
    fn duplicates(&self) -> (Vec<Diagnostic>, Vec<LeftOut>) {
        // Per file: the first findings by place, the largest on top, and how many there are.
        type Found<'a> = (usize, &'a str, Ref, Ref);
        let mut per_file: HashMap<FileId, (std::collections::BinaryHeap<Found<'_>>, usize)> =
            HashMap::new();
        for (key, refs) in self.explicit_keys() {
            if refs.len() < 2 {
                continue;
            }
            let Some(&winner) = refs.last() else { continue };
            if self.kind(winner).is_printed() {
                continue;
            }
            for &r in &refs[..refs.len() - 1] {
                if self.kind(r).is_printed() {
                    continue;
                }
                let line = self.assignment(r).line();
                let (first, count) = per_file.entry(line.file).or_default();
                *count += 1;
                let found = (line.from(), key, r, winner);
                if first.len() < MAX_PER_RULE_AND_FILE {
                    first.push(found);
                } else if first.peek().is_some_and(|top| found < *top) {
                    first.pop();
                    first.push(found);
                }
            }
        }
        let mut out = Vec::new();
        let mut left_out = Vec::new();
        for (file, (first, count)) in per_file {
            if count > first.len() {
                left_out.push(LeftOut {
                    code: Code::TW006.as_str(),
                    file,
                    count: count - first.len(),
                });
            }
            out.extend(
                first
                    .into_iter()
                    .map(|(_, key, r, winner)| self.duplicate(key, r, winner)),
            );
        }
        left_out.sort_unstable_by_key(|l| l.file);
        (out, left_out)
    }

    /// The TW006 of assignment `r` of `key`, which `winner` overrides.
    fn duplicate(&self, key: &str, r: Ref, winner: Ref) -> Diagnostic {
        let (lost, win) = (self.assignment(r), self.assignment(winner));
        let same_file = self.place(r).0 == self.place(winner).0;
        let message = if same_value(lost.value(), win.value()) {
            format!("`{key}` is set again later to the same value")
        } else {
            format!("`{key}` is set again later, so this value does not last")
        };
        Diagnostic::warning(Code::TW006, message)
            .with_key(key)
            .at(lost.line(), "overridden later")
            .with_secondary(win.line(), "this assignment wins")
            .with_help(if same_file {
                "Keep one assignment per key; delete the earlier line."
            } else {
                "Keep one assignment per key in the set, in the file that should own it."
            })
            .with_note(
                "procps sysctl writes every assignment in order and systemd-sysctl \
                 keeps only the last one; both end with the last value",
            )
    }

    /// TW010: keys on which procps (`files` order, `/etc/sysctl.conf` last) and systemd-sysctl
    /// (`order`, which does not read `/etc/sysctl.conf` unless a drop-in links to it) end with
    /// different values.
    fn divergences(&self, order: &[usize]) -> Vec<Diagnostic> {
        let mut rank = vec![None; self.files.len()];
        for (pos, &f) in order.iter().enumerate() {
            rank[f] = Some(pos);
        }
        let mut out = Vec::new();
        for (key, refs) in self.explicit_keys() {
            let Some(&procps) = refs.last() else { continue };
            // Within one file the later line wins, so (rank, index) orders systemd's view.
            let systemd = refs
                .iter()
                .filter_map(|&r| {
                    let (f, i) = self.place(r);
                    rank[f].map(|p| (p, i, r))
                })
                .max_by_key(|&(p, i, _)| (p, i))
                .map(|(_, _, r)| r);
            let Some(systemd) = systemd else { continue };
            let (p, s) = (self.assignment(procps), self.assignment(systemd));
            if systemd == procps || same_value(p.value(), s.value()) {
                continue;
            }
            out.push(
                Diagnostic::new(
                    Code::TW010,
                    Severity::Warning,
                    format!(
                        "procps and systemd-sysctl end with different values for `{key}`: `{}` and `{}`",
                        p.value(), s.value()
                    ),
                )
                .with_key(key)
                .at(p.line(), "`sysctl --system` applies this last")
                .with_secondary(s.line(), "systemd-sysctl ends with this value")
                .with_help(
                    "Set the key in one place only, in a drop-in under /etc/sysctl.d, so that both \
                     tools agree.",
                )
                .with_note(
                    "procps `sysctl --system` applies /etc/sysctl.conf after every drop-in; \
                     systemd-sysctl (which runs at boot) reads it only through a sysctl.d link \
                     such as Debian's 99-sysctl.conf, at that link's place in the order",
                ),
            );
        }
        out
    }
}

/// glob(3) matching of a dotted pattern against a dotted key. The tools expand globs over the
/// /proc/sys path, where `*`, `?` and brackets never match the `/` between components; in dotted
/// form the component separator is `.`, so none of them match `.` here.
pub(crate) fn glob_match(pattern: &str, key: &str) -> bool {
    let (p, k) = (pattern.as_bytes(), key.as_bytes());
    let (mut pi, mut ki) = (0, 0);
    // Backtracking point for the last '*': pattern position after it, key position it covers to.
    let mut star: Option<(usize, usize)> = None;
    while ki < k.len() {
        let step = match p.get(pi) {
            Some(b'*') => {
                star = Some((pi + 1, ki));
                pi += 1;
                continue;
            }
            Some(b'?') if k[ki] != b'.' => Some(pi + 1),
            Some(b'[') if k[ki] != b'.' => match bracket(p, pi, k[ki]) {
                Some((true, next)) => Some(next),
                Some((false, _)) => None,
                // An unclosed '[' is an ordinary character to glob(3).
                None => (k[ki] == b'[').then_some(pi + 1),
            },
            Some(b'\\') if pi + 1 < p.len() => (p[pi + 1] == k[ki]).then_some(pi + 2),
            Some(&c) if c != b'?' && c != b'[' => (c == k[ki]).then_some(pi + 1),
            _ => None,
        };
        match step {
            Some(next) => {
                pi = next;
                ki += 1;
            }
            None => match star {
                // A '*' may swallow one more character, but never a separator.
                Some((sp, sk)) if k[sk] != b'.' => {
                    star = Some((sp, sk + 1));
                    pi = sp;
                    ki = sk + 1;
                }
                _ => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Matches `c` against the bracket expression at `p[start]` (`[abc]`, `[a-z]`, `[!x]`, `[^x]`).
/// Returns whether it matched and the position after `]`, or `None` when the bracket is unclosed.
fn bracket(p: &[u8], start: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let lo = *p.get(i)?;
        if lo == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if p.get(i + 1) == Some(&b'-') && p.get(i + 2).is_some_and(|&hi| hi != b']') {
            let hi = p[i + 2];
            matched |= lo <= c && c <= hi;
            i += 3;
        } else {
            matched |= lo == c;
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;
    use crate::source::SourceMap;
    use crate::sysctl::{load_text, SysctlSet};

    fn lint(text: &str) -> (SourceMap, SysctlSet) {
        let mut sources = SourceMap::new();
        let set = load_text("t.conf", text, &mut sources);
        (sources, set)
    }

    #[test]
    fn the_last_explicit_assignment_wins_and_lists_what_it_overrides() {
        let (sources, set) = lint(
            "net.ipv4.tcp_fin_timeout = 41\nnet.ipv4.tcp_tw_reuse = 1\nnet/ipv4/tcp_fin_timeout = 42\n",
        );
        let s = set.get("net.ipv4.tcp_fin_timeout").unwrap();
        assert_eq!(s.value.value, "42");
        assert_eq!(sources.location(s.value.span).line, 3);
        assert_eq!(s.overridden.len(), 1);
        assert_eq!(sources.location(s.overridden[0]).line, 1);
        assert!(!s.via_glob);
    }

    #[test]
    fn assignments_are_found_across_files_some_of_them_empty() {
        // Files without assignments start where the next one does: every assignment is still
        // found in its own file, and precedence runs across files in order.
        let mut sources = SourceMap::new();
        let texts = [
            ("empty-1.conf", "# nothing\n"),
            (
                "a.conf",
                "vm.swappiness = 10\nnet.ipv4.tcp_fin_timeout = 30\n",
            ),
            ("empty-2.conf", ""),
            (
                "b.conf",
                "net.ipv4.tcp_fin_timeout = 20\nnet.ipv4.conf.*.rp_filter = 2\n",
            ),
            ("empty-3.conf", "\n"),
        ];
        let files = texts
            .iter()
            .map(|(path, text)| {
                let id = sources.add(*path, *text);
                crate::inputs::read_text(id, text)
            })
            .collect();
        let set = crate::sysctl::resolve_unit(files);
        let fin = set.get("net.ipv4.tcp_fin_timeout").unwrap();
        assert_eq!(fin.value.value, "20");
        assert_eq!(sources.location(fin.value.span).path, "b.conf");
        assert_eq!(fin.overridden.len(), 1);
        assert_eq!(sources.location(fin.overridden[0]).path, "a.conf");
        assert_eq!(sources.slice(fin.overridden[0]), "net.ipv4.tcp_fin_timeout");
        let swap = set.get("vm.swappiness").unwrap();
        assert_eq!(
            (swap.value.value.as_str(), swap.overridden.len()),
            ("10", 0)
        );
        let rp = set.get("net.ipv4.conf.lo.rp_filter").unwrap();
        assert!(rp.via_glob);
        assert_eq!(sources.location(rp.value.span).path, "b.conf");
        // The duplicate across files says so: its help names the file that should own the key.
        let tw006: Vec<_> = set
            .diagnostics
            .iter()
            .filter(|d| d.code == "TW006")
            .collect();
        assert_eq!(tw006.len(), 1);
        assert!(tw006[0]
            .help
            .as_deref()
            .unwrap()
            .contains("in the file that should own it"));
        let keys: Vec<String> = set.explicit().map(|s| s.key).collect();
        assert_eq!(keys, ["net.ipv4.tcp_fin_timeout", "vm.swappiness"]);
    }

    #[test]
    fn tw006_points_at_the_overridden_line_and_the_winner() {
        let (sources, set) = lint(
            "net.ipv4.tcp_fin_timeout = 10\nnet.ipv4.tcp_fin_timeout = 5\nnet.ipv4.tcp_fin_timeout = 5\n",
        );
        let found: Vec<_> = set
            .diagnostics
            .iter()
            .filter(|d| d.code == "TW006")
            .collect();
        assert_eq!(found.len(), 2);
        let first = found[0];
        assert_eq!(first.key.as_deref(), Some("net.ipv4.tcp_fin_timeout"));
        assert_eq!(first.primary.as_ref().unwrap().message, "overridden later");
        assert_eq!(
            sources.location(first.primary.as_ref().unwrap().span).line,
            1
        );
        assert_eq!(first.secondary[0].message, "this assignment wins");
        assert_eq!(sources.location(first.secondary[0].span).line, 3);
        assert!(first.message.contains("does not last"));
        // The second line has the winner's value.
        assert!(found[1].message.contains("same value"));
        assert_eq!(
            sources
                .location(found[1].primary.as_ref().unwrap().span)
                .line,
            2
        );
    }

    #[test]
    fn explicit_keys_beat_globs_in_either_order() {
        let (_, set) = lint(
            "net.ipv4.conf.lo.rp_filter = 1\n\
             net.ipv4.conf.*.rp_filter = 2\n\
             net.ipv4.conf.default.rp_filter = 0\n",
        );
        assert_eq!(
            set.get("net.ipv4.conf.lo.rp_filter").unwrap().value.value,
            "1"
        );
        assert_eq!(
            set.get("net.ipv4.conf.default.rp_filter")
                .unwrap()
                .value
                .value,
            "0"
        );
        let all = set.get("net.ipv4.conf.all.rp_filter").unwrap();
        assert_eq!(all.value.value, "2");
        assert!(all.via_glob);
        // Globs do not reach other keys or cross a separator.
        assert!(set.get("net.ipv4.conf.all.arp_filter").is_none());
        assert!(set.get("net.ipv4.conf.a.b.rp_filter").is_none());
    }

    #[test]
    fn exclusions_beat_globs_but_not_explicit_keys() {
        let (_, set) = lint(
            "net.ipv4.conf.*.rp_filter = 2\n\
             -net.ipv4.conf.all.rp_filter\n\
             -net.ipv4.conf.lo.rp_filter\n\
             net.ipv4.conf.lo.rp_filter = 1\n",
        );
        assert!(set.get("net.ipv4.conf.all.rp_filter").is_none());
        assert_eq!(
            set.get("net.ipv4.conf.lo.rp_filter").unwrap().value.value,
            "1"
        );
        assert_eq!(
            set.get("net.ipv4.conf.eth0.rp_filter").unwrap().value.value,
            "2"
        );
    }

    #[test]
    fn the_last_matching_glob_wins() {
        let (sources, set) = lint(
            "net.ipv4.conf.*.rp_filter = 2\nnet.ipv4.conf.l?.rp_filter = 1\nnet.ipv4.conf.*.rp_filter = 0\n",
        );
        let lo = set.get("net.ipv4.conf.lo.rp_filter").unwrap();
        assert_eq!(lo.value.value, "0");
        assert_eq!(lo.overridden.len(), 2);
        assert_eq!(sources.location(lo.overridden[1]).line, 2);
        let (_, set) = lint("net.ipv4.conf.*.rp_filter = 1\nnet.ipv4.conf.l?.rp_filter = 2\n");
        assert_eq!(
            set.get("net.ipv4.conf.lo.rp_filter").unwrap().value.value,
            "2"
        );
        assert_eq!(
            set.get("net.ipv4.conf.all.rp_filter").unwrap().value.value,
            "1"
        );
        // Globs are not duplicates of each other.
        assert!(set.diagnostics.is_empty());
    }

    #[test]
    fn explicit_lists_keys_in_order_without_globs() {
        let (_, set) = lint(
            "vm.swappiness = 10\nnet.ipv4.tcp_tw_reuse = 1\nnet.ipv4.conf.*.rp_filter = 2\nvm.swappiness = 5\n",
        );
        let all: Vec<_> = set.explicit().map(|s| (s.key, s.value.value)).collect();
        assert_eq!(
            all,
            [
                ("net.ipv4.tcp_tw_reuse".to_owned(), "1".to_owned()),
                ("vm.swappiness".to_owned(), "5".to_owned()),
            ]
        );
    }

    #[test]
    fn glob_matching_follows_glob3_per_component() {
        assert!(glob_match(
            "net.ipv4.conf.*.rp_filter",
            "net.ipv4.conf.eth0/100.rp_filter"
        ));
        assert!(!glob_match(
            "net.ipv4.conf.*",
            "net.ipv4.conf.all.rp_filter"
        ));
        assert!(glob_match(
            "net.ipv4.conf.[al]*.rp_filter",
            "net.ipv4.conf.lo.rp_filter"
        ));
        assert!(!glob_match(
            "net.ipv4.conf.[!al]*.rp_filter",
            "net.ipv4.conf.lo.rp_filter"
        ));
        assert!(glob_match("net.ipv4.conf.[a-f]*.x", "net.ipv4.conf.eth0.x"));
        assert!(glob_match("net.ipv4.tcp_*mem", "net.ipv4.tcp_rmem"));
        assert!(!glob_match("net.ipv4.tcp_?mem", "net.ipv4.tcp_mem"));
        assert!(glob_match("a.[b", "a.[b"));
        assert!(glob_match("*.*", "a.b") && !glob_match("*", "a.b"));
    }
}
