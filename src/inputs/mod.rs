//! The input seam: every format twlint reads becomes the same neutral assignments.
//!
//! This module owns what a reader produces and how a reader is chosen. A reader turns one text,
//! registered in the [`SourceMap`], into a [`ParsedFile`]: its assignments (key and value, each
//! with its span in the file as the user wrote it, so diagnostics land on the right line), its
//! `-key` exclusions, the kernel release when the text states one, the problems found in that
//! text alone, and its [`SourceKind`]: how its values reach (or came from) the kernel. The one
//! registration table, [`READERS`], chooses the reader by content: the first that recognises a
//! text reads it. [`system`] reads what paths stand for (files, `sysctl.d` folders, root trees)
//! with `sysctl --system` precedence and hands every file to that table.
//!
//! A file may hold several units, each judged as a node of its own: the pod templates of a
//! Kubernetes manifest, the services of a compose file. Such a reader has [`Reader::units`],
//! which reads a text into named [`Unit`]s; named on the command line, each unit is a node, as
//! each `sysctl -a` dump is a host of its own. The sysctl readers have none, and their records
//! are unchanged.
//!
//! Nothing here decides which assignment wins or judges a value: that is the layer above
//! (`crate::sysctl` resolves effective values, then facts, rules and the report). Adding a
//! format is one reader file with its [`Reader`] and [`SourceKind`], and one row in [`READERS`].

mod ansible;
mod assignments;
mod cloudinit;
mod compose;
mod conf;
pub mod container;
mod dump;
mod jinja;
mod kubernetes;
mod nix;
mod salt;
mod script;
pub mod shell;
pub mod system;
pub mod template;
mod tuned;

pub(crate) use assignments::Parts;
pub use assignments::{AssignmentRef, Assignments};
pub use conf::{has_glob, normalize_key};
pub use dump::is_dump;
pub use system::{read_sysctl_bytes, read_sysctl_text, MAX_FILE_SIZE};

use crate::diag::Diagnostic;
use crate::error::Result;
use crate::source::{FileId, SourceFile, SourceMap, Span, Spanned};
use std::path::Path;

pub use compact_str::CompactString;

/// How the values of a file reach the kernel, or came from it: `source.kind` in reports.
///
/// An open set: each reader names its own as an associated constant in its file (the sysctl
/// readers' are [`SourceKind::File`] and [`SourceKind::Dump`]). Besides its name, a kind says
/// only what the layers above must know about every format: whether the values are settings
/// someone wrote, or a host's state as the kernel printed it (every key, defaults included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SourceKind {
    name: &'static str,
    printed: bool,
}

impl SourceKind {
    /// Settings written to be applied; `name` is what reports call them.
    pub const fn written(name: &'static str) -> SourceKind {
        SourceKind {
            name,
            printed: false,
        }
    }

    /// A host's state as the kernel printed it. Such values are not checked for how they were
    /// written, cannot be unknown to that kernel, and count as set only where they differ from
    /// its default.
    pub const fn printed(name: &'static str) -> SourceKind {
        SourceKind {
            name,
            printed: true,
        }
    }

    /// The name reports give it (`source.kind` in JSON, `source` in rule conditions).
    pub fn as_str(self) -> &'static str {
        self.name
    }

    /// See [`SourceKind::printed`].
    pub fn is_printed(self) -> bool {
        self.printed
    }
}

/// One assignment, whatever the format it was read from: the neutral record every reader
/// produces, and pushes to its file's [`Assignments`], which keep it compactly and read it back
/// as an [`AssignmentRef`]. How it was applied is its file's [`ParsedFile::kind`]; a reader
/// whose text applies values in several ways gives each way a [`ParsedFile`] of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The key in dotted form (see [`normalize_key`]); the span covers the key as written,
    /// without a leading `-`.
    pub key: Spanned<String>,
    /// The value as procps writes it: everything after the first `=`, blanks stripped at both
    /// ends, inner blanks (tabs too) kept. An empty value has an empty span right after `=`.
    pub value: Spanned<CompactString>,
    /// The line starts with `-`: write failures are to be ignored.
    pub ignore_failure: bool,
    /// The key contains `*`, `?` or `[` and is expanded over /proc/sys by the tools.
    pub glob: bool,
    /// The whole line, without its end-of-line bytes.
    pub line: Span,
    /// What few assignments have ([`Assignment::via`], [`Assignment::collection`]).
    placement: Option<Box<Placement>>,
    /// The text that sets this assignment and nothing else, which removing drops it and leaves
    /// the file in its format: a sysctl file's or a tuned profile's line, a YAML list item from
    /// its `-`, a YAML mapping entry from its key, a script's `sysctl` or `echo` command, a Nix
    /// attribute, an Ansible task. `None` where no such text exists (one `key=value` word among
    /// others of a command, a task that does more, the last item of a YAML collection that
    /// must not become empty). `crate::fix` removes it with its lines when nothing else is on
    /// them.
    pub entry: Option<Span>,
}

/// The parts of an [`Assignment`] that few have (see [`Assignment::via`] and
/// [`Assignment::collection`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Placement {
    via: Option<Span>,
    collection: Option<(Span, usize)>,
}

impl Assignment {
    /// Where a value written in another file is applied, when it is: the `{{ var }}` of an
    /// Ansible task whose value a role's defaults or a group_vars file holds. Findings at the
    /// value name this place too.
    pub fn via(&self) -> Option<Span> {
        self.placement.as_ref().and_then(|p| p.via)
    }

    /// The YAML collection the entry is a member of, and how many members it has: the fixes of
    /// one run never drop them all, so that the file stays a file of its format.
    pub fn collection(&self) -> Option<(Span, usize)> {
        self.placement.as_ref().and_then(|p| p.collection)
    }

    /// Sets (or clears) [`Assignment::via`].
    pub fn set_via(&mut self, via: Option<Span>) {
        self.placed(|p| p.via = via);
    }

    /// Sets (or clears) [`Assignment::collection`].
    pub fn set_collection(&mut self, collection: Option<(Span, usize)>) {
        self.placed(|p| p.collection = collection);
    }

    /// Changes the placement, boxed only while it holds something.
    fn placed(&mut self, change: impl FnOnce(&mut Placement)) {
        let mut p = self
            .placement
            .take()
            .map_or_else(Placement::default, |b| *b);
        change(&mut p);
        if p != Placement::default() {
            self.placement = Some(Box::new(p));
        }
    }
}

/// A `-key` line without `=`: the key is excluded from glob assignments (procps 4, systemd).
/// Both tools compare it literally with the keys a glob expands to; it is not itself a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    pub pattern: Spanned<String>,
}

/// One file after reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFile {
    pub file: FileId,
    pub kind: SourceKind,
    pub assignments: Assignments,
    pub exclusions: Vec<Exclusion>,
    /// The kernel release the file states (`kernel.osrelease` in a dump).
    pub kernel_release: Option<Spanned<String>>,
    /// Problems found in this file alone.
    pub diagnostics: Vec<Diagnostic>,
}

/// One input format: how to recognise a text in it, and how to read it.
pub struct Reader {
    /// The format's name, as `--input-format` takes it.
    pub name: &'static str,
    /// What the format's values are (see [`SourceKind`]).
    pub kind: SourceKind,
    /// Whether a text is in this format.
    pub recognises: fn(&str) -> bool,
    /// Reads a text registered as `file`: every assignment, with its places.
    pub read: fn(FileId, &str) -> ParsedFile,
    /// For a format whose file, named for linting without a topology, stands for a host of its
    /// own (a `sysctl -a` dump is one host's state): recognises the text read from a path and
    /// prepares it before it is registered, possibly reduced to the parts it reads, so that a
    /// fleet of them is read on all cores in little memory. `None` when it does not recognise
    /// the text. Files of a format without it join the other named files in one set.
    pub host: Option<fn(&Path, &str) -> Option<HostFile>>,
    /// For a format whose file holds several units judged apart (pod templates, services):
    /// reads a registered text into them. `read` then reads the whole file as one set, for a
    /// caller that asks for one. `None` for a format whose file is one set.
    pub units: Option<fn(FileId, &str) -> Units>,
}

/// One unit of a file that holds several (see [`Reader::units`]): a node of its own.
#[derive(Debug, Clone)]
pub struct Unit {
    /// The node's name in reports (`namespace/kind/name` for a pod template).
    pub name: String,
    /// Its assignments, one [`ParsedFile`] per way its values are applied (all registered as
    /// the same file), in the order they are applied: a later one wins.
    pub files: Vec<ParsedFile>,
}

/// What a units reader found in one text.
#[derive(Debug, Clone)]
pub struct Units {
    pub units: Vec<Unit>,
    /// Problems of the file outside any unit (a YAML syntax error, a document of no known kind).
    pub diagnostics: Vec<Diagnostic>,
}

impl Units {
    /// The units to judge: never none, so that a file with problems but no unit (a syntax
    /// error, a manifest of ConfigMaps only) is still reported, as a node named `path` with no
    /// values of its own. The file's own problems go to the first unit.
    pub fn into_units(self, file: FileId, kind: SourceKind, path: &str) -> Vec<Unit> {
        let mut units = self.units;
        if units.is_empty() {
            units.push(Unit {
                name: path.to_string(),
                files: vec![ParsedFile::empty(file, kind)],
            });
        }
        if let Some(first) = units[0].files.first_mut() {
            let mut diags = self.diagnostics;
            diags.append(&mut first.diagnostics);
            diags.sort_by_key(|d| d.primary.as_ref().map(|l| l.span.start));
            first.diagnostics = diags;
        }
        units
    }

    /// The whole file as one set: every unit's assignments in file order, under `kind`.
    fn flatten(self, file: FileId, kind: SourceKind) -> ParsedFile {
        let mut out = ParsedFile::empty(file, kind);
        out.diagnostics = self.diagnostics;
        let mut all = Vec::new();
        for unit in self.units {
            for f in unit.files {
                all.extend(f.assignments.to_vec());
                out.diagnostics.extend(f.diagnostics);
            }
        }
        all.sort_by_key(|a| a.key.span.start);
        for a in all {
            out.assignments.push(a);
        }
        out.diagnostics
            .sort_by_key(|d| d.primary.as_ref().map(|l| l.span.start));
        out
    }
}

impl ParsedFile {
    /// A file of `kind` with nothing read yet.
    pub fn empty(file: FileId, kind: SourceKind) -> ParsedFile {
        ParsedFile {
            file,
            kind,
            assignments: Assignments::new(file),
            exclusions: Vec::new(),
            kernel_release: None,
            diagnostics: Vec::new(),
        }
    }
}

/// The registration table: every format twlint reads, tried in this order. The sysctl.conf
/// grammar comes last because procps applies any text with it; the YAML formats come before
/// it because they recognise their texts by shapes no sysctl file has (a top-level
/// `apiVersion` and `kind`, a top-level `services`).
pub static READERS: [&Reader; 11] = [
    &dump::READER,
    &kubernetes::READER,
    &compose::READER,
    &salt::READER,
    &ansible::READER,
    &nix::READER,
    &jinja::READER,
    &cloudinit::READER,
    &tuned::READER,
    &script::READER,
    &conf::READER,
];

/// The reader registered under `name` (`--input-format`).
pub fn reader_named(name: &str) -> Option<&'static Reader> {
    READERS.iter().copied().find(|r| r.name == name)
}

/// The names of the registered formats, in registration order.
pub fn format_names() -> impl Iterator<Item = &'static str> {
    READERS.iter().map(|r| r.name)
}

/// Formats a file's name says, as the tools that apply them name their files: a NixOS module
/// (`*.nix`), a tuned profile (`tuned.conf`, `*tuned.conf`), a compose file
/// (`*docker-compose*.yml`, `compose*.yaml`), a shell script (`*.sh`, `*.bash`), a Salt state (`*.sls`). Their content
/// is not always enough (a tuned profile with only `[main]`, a script without a shebang that
/// writes /proc/sys through a variable), and where content and name disagree the tool goes by
/// the name. `--input-format` still forces a reader.
pub fn reader_by_name(path: &Path) -> Option<&'static Reader> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let yaml = name.ends_with(".yml") || name.ends_with(".yaml");
    let format = if name.ends_with(".nix") {
        "nix"
    } else if name.ends_with("tuned.conf") {
        "tuned"
    } else if yaml && (name.contains("docker-compose") || name.starts_with("compose")) {
        "compose"
    } else if name.ends_with(".sh") || name.ends_with(".bash") {
        "shell"
    } else if name.ends_with(".sls") {
        "salt"
    } else {
        return None;
    };
    reader_named(format)
}

/// The reader of a text: the first in [`READERS`] that recognises it, `None` when none does
/// (a file in no format twlint reads, refused when named).
pub fn recognised(text: &str) -> Option<&'static Reader> {
    READERS.iter().copied().find(|r| (r.recognises)(text))
}

/// The reader of a text, the sysctl.conf reader when none recognises it: procps applies any
/// text in a sysctl.d folder with its grammar.
pub fn reader_for(text: &str) -> &'static Reader {
    recognised(text).unwrap_or(&conf::READER)
}

/// Reads one registered text with the reader [`READERS`] chooses for it.
pub fn read_text(file: FileId, text: &str) -> ParsedFile {
    (reader_for(text).read)(file, text)
}

/// How a prepared host file is read once registered (what its preparation kept, captured).
type ReadPrepared = Box<dyn Fn(FileId, &str) -> ParsedFile + Send + Sync>;

/// A file that stands for one host, recognised and prepared before it is registered (see
/// [`Reader::host`]).
pub struct HostFile {
    file: SourceFile,
    read: ReadPrepared,
}

impl HostFile {
    /// `file` as it is to be registered, and how to read it once it is.
    pub(crate) fn new(
        file: SourceFile,
        read: impl Fn(FileId, &str) -> ParsedFile + Send + Sync + 'static,
    ) -> HostFile {
        HostFile {
            file,
            read: Box::new(read),
        }
    }

    /// Registers the file (ids follow the order of the calls) without reading it, so that
    /// many registered files can then be read at once.
    pub fn register(self, sources: &mut SourceMap) -> RegisteredHost {
        RegisteredHost {
            file: sources.push(self.file),
            read: self.read,
        }
    }
}

/// A [`HostFile`] registered in a [`SourceMap`], not read yet.
pub struct RegisteredHost {
    pub file: FileId,
    read: ReadPrepared,
}

impl RegisteredHost {
    /// Reads the file; needs only shared access to the map it was registered in.
    pub fn read(&self, sources: &SourceMap) -> ParsedFile {
        (self.read)(self.file, &sources.get(self.file).text)
    }
}

/// What a path named for linting without a topology stands for.
pub enum Named {
    /// A host of its own (see [`Reader::host`]).
    Host(HostFile),
    /// A file of several units, each a node of its own (see [`Reader::units`]): its path as
    /// shown, its text, and its reader.
    Units(String, String, &'static Reader),
    /// A folder, or a file that joins the other named paths in one set read with
    /// `sysctl --system` precedence ([`system::read`]); for a file, the reader [`recognised`]
    /// gives its text, found here already (recognising a large text twice was a fifth of
    /// reading it; see [`system::read_known`]). The sysctl reader, which takes what no other
    /// does, is given unconfirmed: reading the file decides whether it reads as a sysctl file,
    /// and refuses it when not.
    Set(Option<&'static Reader>),
}

/// Decides what a path named for linting stands for, by the first reader in [`READERS`] that
/// recognises its text, or by `forced` (`--input-format`) when given. A file is read once here,
/// into a buffer kept per thread: a file that joins the set is read again with the others, in
/// their order, and the text of a host file need not outlive its preparation. Independent per
/// path, so callers may run it on all cores.
pub fn sort_named(path: &Path, forced: Option<&'static Reader>) -> Result<Named> {
    thread_local! {
        // One read buffer per thread: a thousand dumps need not touch fresh memory.
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    if !path.is_file() {
        return Ok(Named::Set(None));
    }
    BUF.with_borrow_mut(|buf| {
        let named = {
            let text = read_sysctl_bytes(path, buf)?;
            sort_text(path, &text, forced)
        };
        // A large file's buffer is not kept for the next: a file that joins the set is read
        // again, and this copy stayed in memory through the whole run (3.5 MiB of a
        // 100,000-line file). Dumps, far smaller, keep reusing theirs.
        if buf.capacity() > KEEP_BUF {
            crate::read::free_large(std::mem::take(buf));
        }
        named
    })
}

/// The largest read buffer [`sort_named`] keeps for the next file (1 MiB: a `sysctl -a` dump
/// of a few thousand keys fits many times over).
const KEEP_BUF: usize = 1 << 20;

/// What a file named `path` with this `text` stands for, as [`sort_named`] decides it: by
/// `forced`, else by the file name, else by the first reader that recognises the text. For a
/// text read from elsewhere than `path` (standard input, named by `--stdin-filename`).
pub fn sort_text(path: &Path, text: &str, forced: Option<&'static Reader>) -> Result<Named> {
    sort_text_on(RECOGNISE_ON_ALL_CORES_FROM, path, text, forced)
}

/// Texts from which the readers recognise a text on all cores (1 MiB): each recogniser scans
/// the whole text (3 ms for the eight of them on a 100,000-line file), and below this size
/// starting a thread costs more than the scans.
const RECOGNISE_ON_ALL_CORES_FROM: usize = 1 << 20;

/// [`sort_text`], the readers' recognisers run on all cores for texts of `parallel_from` bytes
/// or more (for the test that holds the two ways to the same answers).
fn sort_text_on(
    parallel_from: usize,
    path: &Path,
    text: &str,
    forced: Option<&'static Reader>,
) -> Result<Named> {
    let units = |reader: &'static Reader| {
        Ok(Named::Units(
            path.display().to_string(),
            text.to_string(),
            reader,
        ))
    };
    if let Some(reader) = forced.or_else(|| reader_by_name(path)) {
        return match (reader.units, reader.host) {
            (Some(_), _) => units(reader),
            (None, Some(host)) => Ok(host(path, text).map_or(Named::Set(None), Named::Host)),
            (None, None) => Ok(Named::Set(None)),
        };
    }
    // The recognisers of the readers before the catch-all sysctl grammar, which the loop below
    // may ask: pure functions of the text, so for a large one they all run at once on all
    // cores when the loop first asks one (a host format that takes the text asks none), and the
    // loop takes their answers in its own order.
    let asked = READERS
        .iter()
        .position(|r| std::ptr::eq(*r, &conf::READER))
        .unwrap_or(READERS.len());
    let known: std::cell::OnceCell<Vec<bool>> = std::cell::OnceCell::new();
    let recognises = |i: usize| {
        if text.len() < parallel_from {
            return (READERS[i].recognises)(text);
        }
        known.get_or_init(|| crate::pool::par_map(&READERS[..asked], |r| (r.recognises)(text)))[i]
    };
    // What `recognised` gives this text: a host format that declines a file as a host (a
    // dump saved as a `.conf`) may still recognise it, and then reads it in the set.
    let mut first = None;
    for (i, reader) in READERS.iter().enumerate() {
        match reader.host {
            // A host format recognises the text in the pass that prepares it.
            Some(host) => {
                if let Some(file) = host(path, text) {
                    return Ok(Named::Host(file));
                }
                if first.is_none() && recognises(i) {
                    first = Some(*reader);
                }
            }
            // The catch-all sysctl grammar, last: whether the text reads as a sysctl file is
            // decided by the pass that reads it (`conf::parse_recognised`, in
            // `system::read_all`), not in a pass of its own here.
            None if std::ptr::eq(*reader, &conf::READER) => {
                return Ok(Named::Set(first.or(Some(*reader))));
            }
            None if recognises(i) => {
                return match reader.units {
                    Some(_) => units(reader),
                    None => Ok(Named::Set(first.or(Some(*reader)))),
                };
            }
            None => {}
        }
    }
    Ok(Named::Set(first))
}

/// Reads a file registered as `file` (at `path`) into its units with `reader`, which must have
/// [`Reader::units`]; see [`Units::into_units`].
pub fn read_units(reader: &Reader, file: FileId, path: &str, text: &str) -> Vec<Unit> {
    match reader.units {
        Some(units) => units(file, text).into_units(file, reader.kind, path),
        None => vec![Unit {
            name: path.to_string(),
            files: vec![(reader.read)(file, text)],
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_and_collection_are_kept_apart_and_cleared_to_an_assignment_without_them() {
        let mut sources = SourceMap::new();
        let file = sources.add("a.conf", "net.ipv4.tcp_fin_timeout = 30\n");
        let plain = read_text(file, &sources.get(file).text.clone())
            .assignments
            .to_vec()[0]
            .clone();
        let (via, list) = (Span::new(file, 0, 3), Span::new(file, 4, 8));
        let mut a = plain.clone();
        a.set_via(Some(via));
        a.set_collection(Some((list, 2)));
        assert_eq!((a.via(), a.collection()), (Some(via), Some((list, 2))));
        a.set_via(None);
        assert_eq!((a.via(), a.collection()), (None, Some((list, 2))));
        a.set_collection(None);
        assert_eq!((a.via(), a.collection()), (None, None));
        assert_eq!(a, plain);
    }

    /// What a text was sorted as, for comparing two sortings.
    fn sorted_as(named: Result<Named>) -> String {
        match named {
            Ok(Named::Host(_)) => "a host".into(),
            Ok(Named::Units(_, _, r)) => format!("units read by {}", r.name),
            Ok(Named::Set(r)) => format!("a set read by {:?}", r.map(|r| r.name)),
            Err(e) => format!("refused: {e}"),
        }
    }

    #[test]
    fn texts_recognised_on_all_cores_are_sorted_as_recognised_in_turn() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut texts: Vec<(std::path::PathBuf, String)> = Vec::new();
        let mut folders = vec![root.join("tests/fixtures/inputs"), root.join("examples")];
        while let Some(dir) = folders.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    texts.push((path, text));
                }
            }
        }
        // A dump, a plain sysctl file and an empty text beside the shipped files.
        texts.push(("dump".into(), dump_text(3000)));
        texts.push((
            "plain.conf".into(),
            "net.ipv4.tcp_tw_reuse = 1\n".repeat(50),
        ));
        texts.push(("empty".into(), String::new()));
        let mut kinds = std::collections::BTreeSet::new();
        for (path, text) in &texts {
            // Named by a neutral file name, so that the text decides.
            let name = Path::new("input");
            let in_turn = sorted_as(sort_text_on(usize::MAX, name, text, None));
            let at_once = sorted_as(sort_text_on(0, name, text, None));
            assert_eq!(at_once, in_turn, "{}", path.display());
            kinds.insert(in_turn);
        }
        assert!(
            texts.len() > 50 && kinds.len() >= 8,
            "{} texts: {kinds:?}",
            texts.len()
        );
    }

    /// A `sysctl -a` listing of `n` keys over the usual top-level directories, with the release.
    fn dump_text(n: usize) -> String {
        let mut s = String::from("kernel.osrelease = 6.8.0-45-generic\n");
        for i in 0..n {
            let top = ["kernel", "net", "vm", "fs"][i % 4];
            s.push_str(&format!("{top}.key_{i} = {i}\n"));
        }
        s.push_str("net.ipv4.tcp_fin_timeout = 60\n");
        s
    }

    #[test]
    fn registration_picks_the_dump_reader_for_a_dump_and_sysctl_conf_for_the_rest() {
        assert_eq!(reader_for(&dump_text(150)).kind, SourceKind::Dump);
        assert_eq!(
            reader_for("net.ipv4.tcp_tw_reuse = 1\n").kind,
            SourceKind::File
        );
        // procps applies any text with the sysctl.conf grammar, so it takes what no other does
        // in a folder; a named text that is mostly not assignments is recognised by none.
        assert_eq!(reader_for("").kind, SourceKind::File);
        assert_eq!(recognised("").map(|r| r.kind), Some(SourceKind::File));
        assert_eq!(reader_for("not: yaml, really\n").kind, SourceKind::File);
        assert!(recognised("not: yaml, really\n").is_none());
        assert!(recognised("- item\n- /tmp/path\nkey: value\n").is_none());
        assert!(recognised("# c\nnet.a.b = 1\nstray words\n-net.c.d\n").is_some());
    }

    #[test]
    fn input_format_detection_by_file_name() {
        let by = |p: &str| reader_by_name(Path::new(p)).map(|r| r.name);
        assert_eq!(by("hosts/web/configuration.nix"), Some("nix"));
        assert_eq!(by("/usr/lib/tuned/latency/tuned.conf"), Some("tuned"));
        assert_eq!(by("docker-compose.prod.yml"), Some("compose"));
        assert_eq!(by("app__docker-compose.yml"), Some("compose"));
        assert_eq!(by("profiles__oracle__tuned.conf"), Some("tuned"));
        assert_eq!(by("compose.yaml"), Some("compose"));
        assert_eq!(by("bootstrap.sh"), Some("shell"));
        assert_eq!(by("Provision.BASH"), Some("shell"));
        assert_eq!(by("sysctl.sls"), Some("salt"));
        // A sysctl file is a sysctl file whatever else it is called.
        assert_eq!(by("99-tuning.conf"), None);
        assert_eq!(by("sysctl.conf"), None);
        assert_eq!(by("values.yaml"), None);
    }

    #[test]
    fn registered_kinds_have_distinct_names() {
        let names: Vec<&str> = READERS.iter().map(|r| r.kind.as_str()).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(names.len(), unique.len(), "{names:?}");
        assert_eq!(
            names,
            [
                "dump",
                "kubernetes",
                "compose",
                "salt",
                "ansible",
                "nix",
                "jinja",
                "cloud-init",
                "tuned",
                "shell",
                "file"
            ]
        );
        assert!(SourceKind::Dump.is_printed() && !SourceKind::File.is_printed());
    }

    #[test]
    fn read_text_gives_assignments_with_the_exact_spans_of_key_and_value() {
        let mut sources = SourceMap::new();
        let text = "# tuned\n -net/ipv4/tcp_tw_reuse =\t1 \nnet.ipv4.tcp_fin_timeout=30\n";
        let id = sources.add("t.conf", text);
        let read = read_text(id, text);
        assert_eq!(read.kind, SourceKind::File);
        let a = &read.assignments.to_vec();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].key.value, "net.ipv4.tcp_tw_reuse");
        // The key's span covers it as written (slashes, no `-`); the value's, without blanks.
        assert_eq!(sources.slice(a[0].key.span), "net/ipv4/tcp_tw_reuse");
        assert_eq!((a[0].key.span.start, a[0].key.span.end), (10, 31));
        assert_eq!(sources.slice(a[0].value.span), "1");
        assert_eq!((a[0].value.span.start, a[0].value.span.end), (34, 35));
        assert!(a[0].ignore_failure);
        assert_eq!(sources.slice(a[0].line), " -net/ipv4/tcp_tw_reuse =\t1 ");
        let (line, column) = sources.get(id).line_col(a[1].value.span.from());
        assert_eq!((line, column), (3, 26));
        assert_eq!(sources.slice(a[1].value.span), "30");
    }

    #[test]
    fn a_named_dump_is_a_host_whose_records_keep_their_places_and_a_conf_joins_the_set() {
        let dir = tempfile::tempdir().unwrap();
        let dump = dir.path().join("host.txt");
        let text = dump_text(150);
        std::fs::write(&dump, &text).unwrap();
        let conf = dir.path().join("a.conf");
        std::fs::write(&conf, "net.ipv4.tcp_fin_timeout = 30\n").unwrap();
        assert!(matches!(
            sort_named(&conf, None).unwrap(),
            Named::Set(Some(r)) if r.name == "sysctl"
        ));
        assert!(matches!(
            sort_named(dir.path(), None).unwrap(),
            Named::Set(None)
        ));
        let Named::Host(host) = sort_named(&dump, None).unwrap() else {
            panic!("a dump named alone is a host of its own")
        };
        let mut sources = SourceMap::new();
        let host = host.register(&mut sources);
        assert_eq!(sources.get(host.file).path, dump.display().to_string());
        let read = host.read(&sources);
        assert_eq!(read.kind, SourceKind::Dump);
        // Only the lines twlint judges are read, each at its line and column in the dump as
        // written (the registered text keeps only those lines, so byte offsets are its own).
        let keys: Vec<&str> = read.assignments.iter().map(|a| a.key()).collect();
        assert_eq!(keys, ["kernel.osrelease", "net.ipv4.tcp_fin_timeout"]);
        let fin = &read.assignments.to_vec()[1];
        assert_eq!(sources.slice(fin.key.span), "net.ipv4.tcp_fin_timeout");
        assert_eq!(sources.slice(fin.value.span), "60");
        let (key_at, value_at) = (
            sources.location(fin.key.span),
            sources.location(fin.value.span),
        );
        assert_eq!((key_at.line, key_at.column), (152, 1));
        assert_eq!((value_at.line, value_at.column), (152, 28));
        assert_eq!(text.lines().nth(151), Some("net.ipv4.tcp_fin_timeout = 60"));
        assert_eq!(read.kernel_release.unwrap().value, "6.8.0-45-generic");
    }
}
