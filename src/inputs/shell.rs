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

/// A redirection of a command: `>`, `>>`, `<`, `<<` (a heredoc) and the others, with the word
/// after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The operator as written, without its file descriptor (`>`, `>>`, `>|`, `<<`, `<<-`, ...).
    pub op: String,
    /// The file descriptor written before the operator (`2>`), if any.
    pub fd: Option<u32>,
    /// The target (a path, or a heredoc's delimiter).
    pub target: Word,
    /// For `<<` and `<<-`: the heredoc's body as written (the lines between the command's line
    /// and the delimiter's), and whether the shell expands `$` in it (an unquoted delimiter).
    pub heredoc: Option<(Range<usize>, bool)>,
}

impl Redirect {
    /// Whether the command's standard output goes to the target (`>`, `>>`, `>|`, `1>`).
    pub fn writes_stdout(&self) -> bool {
        matches!(self.op.as_str(), ">" | ">>" | ">|") && self.fd.is_none_or(|f| f == 1)
    }
}

/// One simple command: its words, its redirections, and whether its standard input is the
/// output of the command before it (`a | b`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Command {
    pub words: Vec<Word>,
    pub redirects: Vec<Redirect>,
    pub piped: bool,
}

/// Splits a script into commands (at `;`, `&`, `|`, newlines and parentheses) and each command
/// into words, as `sh` does; see [`script`], which also keeps the redirections.
pub fn commands(script: &str) -> Vec<Vec<Word>> {
    self::script(script).into_iter().map(|c| c.words).collect()
}

/// Splits a script into commands as `sh` does: blanks separate words, single quotes keep
/// everything, double quotes keep everything but `\\`, `\"`, `\$` and `` \` `` escapes, a
/// backslash outside quotes keeps the next byte (and joins lines before a newline), `#` at the
/// start of a word comments out the rest of the line, `$(...)`, `${...}` and backquotes stay
/// inside their word, and `<`/`>` operators take the next word as their target. A heredoc's
/// body (the lines after the command's line, up to its delimiter) belongs to its redirection
/// and is no command of the script.
pub fn script(script: &str) -> Vec<Command> {
    /// A word being built: its bytes after quote removal, where each was written, its start.
    struct Raw {
        bytes: Vec<u8>,
        at: Vec<usize>,
        start: usize,
        quoted: bool,
    }
    fn push(cur: &mut Option<Raw>, start: usize, byte_at: usize, byte: u8) {
        let w = cur.get_or_insert_with(|| Raw {
            bytes: Vec::new(),
            at: Vec::new(),
            start,
            quoted: false,
        });
        w.bytes.push(byte);
        w.at.push(byte_at);
    }
    /// Ends the word being built: a redirection's target when one waits for it, else a word.
    fn finish(
        cur: &mut Option<Raw>,
        cmd: &mut Command,
        pending: &mut Option<(String, Option<u32>)>,
        heredocs: &mut Vec<(usize, String, bool, bool)>,
        end: usize,
    ) {
        if let Some(w) = cur.take() {
            // Quote removal drops only ASCII bytes, so whole characters remain.
            let text = String::from_utf8(w.bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            let word = Word {
                text,
                at: w.at,
                range: w.start..end,
            };
            match pending.take() {
                Some((op, fd)) => {
                    if op == "<<" || op == "<<-" {
                        // The body is read at the end of the line: remember which redirection
                        // it belongs to, its delimiter, whether it expands, and `<<-`.
                        heredocs.push((
                            cmd.redirects.len(),
                            word.text.clone(),
                            !w.quoted,
                            op == "<<-",
                        ));
                    }
                    cmd.redirects.push(Redirect {
                        op,
                        fd,
                        target: word,
                        heredoc: None,
                    });
                }
                None => cmd.words.push(word),
            }
        }
    }
    let b = script.as_bytes();
    let mut commands: Vec<Command> = Vec::new();
    let mut cmd = Command::default();
    let mut cur: Option<Raw> = None;
    let mut pending: Option<(String, Option<u32>)> = None;
    // Heredocs of the current line: (index of the command, index of its redirection, delimiter,
    // expands, strip tabs); the command index is filled when the command ends.
    let mut line_heredocs: Vec<(usize, usize, String, bool, bool)> = Vec::new();
    let mut cmd_heredocs: Vec<(usize, String, bool, bool)> = Vec::new();
    let mut i = 0;
    macro_rules! end_command {
        ($piped_next:expr) => {{
            let c = std::mem::take(&mut cmd);
            if !c.words.is_empty() || !c.redirects.is_empty() {
                let n = commands.len();
                line_heredocs.extend(cmd_heredocs.drain(..).map(|(r, d, e, t)| (n, r, d, e, t)));
                commands.push(c);
            } else {
                cmd_heredocs.clear();
            }
            cmd.piped = $piped_next;
        }};
    }
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\r' => {
                finish(&mut cur, &mut cmd, &mut pending, &mut cmd_heredocs, i);
                i += 1;
            }
            b'\n' | b';' | b'&' | b'|' | b'(' | b')' => {
                finish(&mut cur, &mut cmd, &mut pending, &mut cmd_heredocs, i);
                pending = None;
                // A single `|` pipes into the next command; `||`, `&&` and the rest do not.
                let pipe = c == b'|' && b.get(i + 1) != Some(&b'|') && (i == 0 || b[i - 1] != b'|');
                end_command!(pipe);
                i += 1;
                if c == b'\n' && !line_heredocs.is_empty() {
                    // The bodies of this line's heredocs follow it, one after the other.
                    for (n, r, delim, expands, tabs) in std::mem::take(&mut line_heredocs) {
                        let body_start = i;
                        let mut end = b.len();
                        let mut next = b.len();
                        let mut pos = i;
                        while pos < b.len() {
                            let eol = b[pos..]
                                .iter()
                                .position(|&x| x == b'\n')
                                .map_or(b.len(), |k| pos + k);
                            let mut line = &script[pos..eol];
                            line = line.strip_suffix('\r').unwrap_or(line);
                            if tabs {
                                line = line.trim_start_matches('\t');
                            }
                            if line == delim {
                                end = pos;
                                next = (eol + 1).min(b.len());
                                break;
                            }
                            pos = eol + 1;
                        }
                        if let Some(red) = commands.get_mut(n).and_then(|c| c.redirects.get_mut(r))
                        {
                            red.heredoc = Some((body_start..end, expands));
                        }
                        i = next;
                    }
                }
            }
            b'#' if cur.is_none() => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'>' | b'<' => {
                // `2>`: a word of digits right before the operator is its file descriptor.
                let fd = match &cur {
                    Some(w)
                        if !w.quoted
                            && !w.bytes.is_empty()
                            && w.bytes.iter().all(u8::is_ascii_digit) =>
                    {
                        let fd = std::str::from_utf8(&w.bytes)
                            .ok()
                            .and_then(|s| s.parse().ok());
                        cur = None;
                        fd
                    }
                    _ => {
                        finish(&mut cur, &mut cmd, &mut pending, &mut cmd_heredocs, i);
                        None
                    }
                };
                let rest = &script[i..];
                let op = ["<<<", "<<-", ">>", ">|", ">&", "<<", "<&", "<>", ">", "<"]
                    .into_iter()
                    .find(|op| rest.starts_with(op))
                    .unwrap_or(">");
                i += op.len();
                pending = Some((op.to_string(), fd));
            }
            b'$' if matches!(b.get(i + 1), Some(b'(' | b'{')) => {
                // A substitution stays in its word, nested parentheses and all.
                let (open, close) = if b[i + 1] == b'(' {
                    (b'(', b')')
                } else {
                    (b'{', b'}')
                };
                push(&mut cur, i, i, c);
                let mut depth = 0usize;
                i += 1;
                while i < b.len() {
                    push(&mut cur, i, i, b[i]);
                    if b[i] == open {
                        depth += 1;
                    } else if b[i] == close {
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    i += 1;
                }
            }
            b'`' => {
                push(&mut cur, i, i, c);
                i += 1;
                while i < b.len() {
                    push(&mut cur, i, i, b[i]);
                    i += 1;
                    if b[i - 1] == b'`' {
                        break;
                    }
                }
            }
            b'\\' => {
                match b.get(i + 1) {
                    Some(b'\n') => {}
                    Some(&n) => {
                        push(&mut cur, i, i + 1, n);
                        if let Some(w) = cur.as_mut() {
                            w.quoted = true;
                        }
                    }
                    None => push(&mut cur, i, i, c),
                }
                i += 2;
            }
            b'\'' | b'"' => {
                // An empty '' or "" still makes a word.
                let w = cur.get_or_insert_with(|| Raw {
                    bytes: Vec::new(),
                    at: Vec::new(),
                    start: i,
                    quoted: true,
                });
                w.quoted = true;
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
    finish(&mut cur, &mut cmd, &mut pending, &mut cmd_heredocs, b.len());
    end_command!(false);
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
    /// The value is computed when the script runs (`$VAR`, `$(...)`, backquotes): its text
    /// names no value twlint can judge.
    pub dynamic: bool,
    /// The whole command, when it does nothing but this write (a `sysctl` with one `key=value`,
    /// an `echo` or `printf` redirected to one `/proc/sys` file, in no pipeline): removing it
    /// removes this write and nothing else. Set by [`effects`].
    pub command: Option<Range<usize>>,
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
    // `sudo -E sysctl ...`, `if sysctl -w ...; then`: skip what only runs the command after it,
    // with its own options.
    let rest = program(words);
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
            dynamic: is_dynamic(&t[vs..ve]),
            command: None,
        });
    }
    Some(out)
}

/// Whether a value is built when the script runs: it holds a parameter or a command
/// substitution.
pub fn is_dynamic(v: &str) -> bool {
    v.contains('`')
        || v.as_bytes()
            .windows(2)
            .any(|w| w[0] == b'$' && (w[1].is_ascii_alphanumeric() || b"_({@*#?!-".contains(&w[1])))
}

/// What a script does to sysctls, in the order it does it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// A value written now: a `key=value` argument of `sysctl`, or `echo VALUE >
    /// /proc/sys/KEY` (`>>`, `printf`, `| tee`). The key's place is the path after
    /// `/proc/sys/` for the latter.
    Write(Write),
    /// `sysctl -p [FILE...]` or `sysctl --system`: files applied now, which the script does not
    /// show (`files` is empty for `--system` and `-p` alone, which reads /etc/sysctl.conf).
    Load {
        at: Range<usize>,
        files: Vec<String>,
    },
    /// Lines written to a sysctl.conf or sysctl.d path: a heredoc (`cat > PATH <<EOF`, `tee
    /// PATH <<EOF`, `cat <<EOF | tee PATH`), or what `echo` or `printf` prints (`echo 'k = v'
    /// >> PATH`, `printf 'k = v\n' | tee -a PATH`). `body` is where each piece of the file's
    /// text was written in the script (a heredoc's body is one piece); the pieces are a sysctl
    /// file, applied at boot or by a later `sysctl -p`/`--system`. `expands` when the shell
    /// substitutes `$` in them.
    File {
        path: String,
        body: Vec<Range<usize>>,
        expands: bool,
    },
}

impl Effect {
    /// The effect of a script found inside another (a heredoc's body, the word after `sh
    /// -c`), with its places in that other script: `sh` maps a place in the inner script.
    fn mapped(self, sh: impl Fn(Range<usize>) -> Range<usize>) -> Effect {
        match self {
            Effect::Write(w) => Effect::Write(Write {
                key_at: sh(w.key_at),
                value_at: sh(w.value_at),
                // A command inside another's script is not removed on its own: what is left
                // around it (`sh -c ''`, a heredoc) is the outer command's.
                command: None,
                ..w
            }),
            Effect::Load { at, files } => Effect::Load { at: sh(at), files },
            Effect::File {
                path,
                body,
                expands,
            } => Effect::File {
                path,
                body: body.into_iter().map(&sh).collect(),
                expands,
            },
        }
    }
}

/// Whether a path is one that procps or systemd-sysctl reads as a sysctl file.
pub fn is_sysctl_path(p: &str) -> bool {
    p.ends_with("sysctl.conf") || (p.contains("sysctl.d/") && p.ends_with(".conf"))
}

/// The command's words after what only runs the command after it (`sudo -E`, `exec`, ...).
fn program(words: &[Word]) -> &[Word] {
    let mut rest = words;
    while let Some((first, tail)) = rest.split_first() {
        if !PREFIXES.contains(&first.text.as_str()) {
            break;
        }
        rest = tail;
        while rest.first().is_some_and(|w| w.text.starts_with('-')) {
            rest = &rest[1..];
        }
    }
    rest
}

/// The name of a command's program, without its folder.
fn name_of(words: &[Word]) -> &str {
    program(words)
        .first()
        .map_or("", |w| w.text.rsplit('/').next().unwrap_or(""))
}

/// What `echo` or `printf` prints (without the final newline), and where it was written.
fn printed(words: &[Word]) -> Option<(String, Range<usize>, bool)> {
    let words = program(words);
    let (cmd, args) = words.split_first()?;
    let name = cmd.text.rsplit('/').next().unwrap_or("");
    let join = |ws: &[Word]| -> Option<(String, Range<usize>, bool)> {
        let (first, last) = (ws.first()?, ws.last()?);
        let text = ws
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let at = if ws.len() == 1 {
            let (s, e) = trim(&first.text, 0, first.text.len());
            first.written(s..e.max(s))
        } else {
            first.range.start..last.range.end
        };
        let dynamic = is_dynamic(&text);
        Some((text.trim().to_string(), at, dynamic))
    };
    match name {
        "echo" => {
            let skip = args
                .iter()
                .take_while(|w| {
                    w.text.len() > 1
                        && w.text.starts_with('-')
                        && w.text[1..].bytes().all(|b| b"neE".contains(&b))
                })
                .count();
            join(&args[skip..])
        }
        "printf" => {
            let (format, rest) = args.split_first()?;
            if format.text.contains('%') {
                return join(rest);
            }
            // A format without conversions prints itself; `\n` ends the line.
            let f = &format.text;
            let end = f.strip_suffix("\\n").map_or(f.len(), str::len);
            let (s, e) = trim(f, 0, end);
            let text = f[s..e].to_string();
            let dynamic = is_dynamic(&text);
            Some((text, format.written(s..e.max(s)), dynamic))
        }
        _ => None,
    }
}

/// The key of a `/proc/sys` path as written, and where it was written.
fn proc_key(target: &Word) -> Option<(String, Range<usize>)> {
    let t = &target.text;
    let at = t.find("/proc/sys/")?;
    if at != 0 {
        return None;
    }
    let start = "/proc/sys/".len();
    let key = t[start..].trim_end_matches('/');
    if key.is_empty() {
        return None;
    }
    Some((key.to_string(), target.written(start..start + key.len())))
}

/// Every [`Effect`] of a script, in order. Commands that touch no sysctl are skipped; a
/// redirection of `echo`, `printf` or `tee` to `/proc/sys` is a write, as the kernel receives
/// the printed text.
pub fn effects(script: &str) -> Vec<Effect> {
    if !could_have_effects(script) {
        return Vec::new();
    }
    split_effects(script)
}

/// Shells that run the script they read on standard input when given no script file
/// (`bash -s <<EOF`, `sudo sh <<EOF`): a heredoc fed to one is a script run here.
const SHELLS: [&str; 6] = ["sh", "bash", "dash", "ash", "zsh", "ksh"];

/// How deep heredocs run by a shell inside one another are read.
const MAX_NESTED: usize = 4;

/// Where each line `echo` or `printf` prints was written, when each is written out as the
/// command prints it (no escape other than `printf`'s `\n` between lines), and whether the
/// text is computed at run time; `None` otherwise.
fn printed_lines(script: &str, words: &[Word]) -> Option<(Vec<Range<usize>>, bool)> {
    let words = program(words);
    let name = words.first()?.text.rsplit('/').next().unwrap_or("");
    let exact = |r: &Range<usize>, line: &str| script.get(r.clone()) == Some(line);
    if name == "printf" {
        let format = words.get(1)?;
        if !format.text.contains('%') {
            // Each line of a format without conversions, split at its `\n`s.
            let f = &format.text;
            let mut out = Vec::new();
            let mut start = 0;
            for piece in f.split("\\n") {
                let (s, e) = trim(f, start, start + piece.len());
                start += piece.len() + 2;
                if s == e {
                    continue;
                }
                let r = format.written(s..e);
                if f[s..e].contains('\\') || !exact(&r, &f[s..e]) {
                    return None;
                }
                out.push(r);
            }
            return Some((out, is_dynamic(f)));
        }
    }
    let (text, at, dynamic) = printed(words)?;
    (!text.contains('\\') && exact(&at, &text)).then(|| (vec![at], dynamic))
}

/// [`effects`], always splitting the script into commands.
fn split_effects(script: &str) -> Vec<Effect> {
    nested_effects(script, 0)
}

/// [`split_effects`] of a script that is itself run by a shell inside another, `nesting`
/// levels deep (a heredoc's body, the word after `sh -c`).
fn nested_effects(script: &str, nesting: usize) -> Vec<Effect> {
    let cmds = self::script(script);
    let mut out = Vec::new();
    // How deep in compound commands (`if`, loops, `case`, braces, subshells) the next command
    // is, counted over the words before it: a command inside one is not removed alone, since
    // `then`, `do` or `{` left with an empty body is a syntax error. A keyword used as an
    // argument (`echo done`) only makes a command look nested.
    let mut depth = 0i64;
    for (n, c) in cmds.iter().enumerate() {
        let top_level = depth == 0;
        for w in &c.words {
            match w.text.as_str() {
                "if" | "while" | "until" | "for" | "case" | "select" | "{" | "(" => depth += 1,
                "fi" | "done" | "esac" | "}" | ")" => depth -= 1,
                _ => {}
            }
        }
        let name = name_of(&c.words);
        // `bash -s <<EOF ... EOF`: the body is a script this shell runs (`ssh host <<EOF`
        // runs it on another host, and is not read).
        if SHELLS.contains(&name) && nesting < MAX_NESTED {
            let args = &program(&c.words)[1..];
            // `sudo sh -c 'echo 1 > /proc/sys/...'`: the word after `-c` (or `-ec`, `-xc`) is
            // the script, each of its bytes where the word wrote it.
            let dash_c = args.iter().position(|a| {
                a.text.len() > 1
                    && a.text.starts_with('-')
                    && !a.text.starts_with("--")
                    && a.text.ends_with('c')
            });
            if let Some(inner) = dash_c.and_then(|i| args.get(i + 1)) {
                for e in nested_effects(&inner.text, nesting + 1) {
                    out.push(e.mapped(|r| inner.written(r)));
                }
                continue;
            }
            let reads_stdin = args
                .iter()
                .all(|a| a.text.starts_with('-') && a.text != "-c");
            if let (true, Some((body, _))) = (
                reads_stdin,
                c.redirects.iter().find_map(|r| r.heredoc.clone()),
            ) {
                let inner = &script[body.clone()];
                for e in nested_effects(inner, nesting + 1) {
                    out.push(e.mapped(|r| r.start + body.start..r.end + body.start));
                }
                continue;
            }
        }
        // Where the command starts and ends, its redirections included, when it is in no
        // pipeline.
        let piped = c.piped || cmds.get(n + 1).is_some_and(|next| next.piped);
        let whole = (!piped && top_level)
            .then(|| {
                let start = c.words.first()?.range.start;
                let end = c
                    .words
                    .iter()
                    .map(|w| w.range.end)
                    .chain(c.redirects.iter().map(|r| r.target.range.end))
                    .max()?;
                Some(start..end)
            })
            .flatten();
        if name == "sysctl" {
            match sysctl_writes(&c.words) {
                Some(mut ws) => {
                    if let [w] = &mut ws[..] {
                        w.command = whole;
                    }
                    out.extend(ws.into_iter().map(Effect::Write))
                }
                None => {
                    let args = &program(&c.words)[1..];
                    let system = args.iter().any(|a| a.text == "--system");
                    let files: Vec<String> = if system {
                        Vec::new()
                    } else {
                        args.iter()
                            .filter(|a| !a.text.starts_with('-'))
                            .map(|a| a.text.clone())
                            .collect()
                    };
                    let first = c.words.first().map_or(0, |w| w.range.start);
                    let last = c.words.last().map_or(first, |w| w.range.end);
                    out.push(Effect::Load {
                        at: first..last,
                        files,
                    });
                }
            }
            continue;
        }
        // The text this command prints: its own (`echo`), or its input's (`... | tee`).
        let source = if name == "tee" && c.piped && n > 0 {
            printed(&cmds[n - 1].words)
        } else {
            printed(&c.words)
        };
        let heredoc = c
            .redirects
            .iter()
            .find_map(|r| r.heredoc.clone())
            .or_else(|| {
                // `cat <<EOF | tee PATH`: the body comes from the command before.
                (name == "tee" && c.piped && n > 0 && name_of(&cmds[n - 1].words) == "cat")
                    .then(|| cmds[n - 1].redirects.iter().find_map(|r| r.heredoc.clone()))
                    .flatten()
            });
        // Where the output goes: `> PATH` and `>> PATH`, or `tee [-a] PATH...`.
        let mut targets: Vec<&Word> = c
            .redirects
            .iter()
            .filter(|r| r.writes_stdout())
            .map(|r| &r.target)
            .collect();
        if name == "tee" {
            targets.extend(
                program(&c.words)[1..]
                    .iter()
                    .filter(|w| !w.text.starts_with('-')),
            );
        }
        // The lines printed into a sysctl file: `echo`'s or `printf`'s own, or its input's.
        let lines = if name == "tee" && c.piped && n > 0 {
            printed_lines(script, &cmds[n - 1].words)
        } else {
            printed_lines(script, &c.words)
        };
        let alone = targets.len() == 1 && matches!(name, "echo" | "printf");
        for target in targets {
            if let (Some((value, value_at, dynamic)), Some((key, key_at))) =
                (source.clone(), proc_key(target))
            {
                out.push(Effect::Write(Write {
                    word: 0,
                    key,
                    key_at,
                    value,
                    value_at,
                    dynamic,
                    command: whole.clone().filter(|_| alone),
                }));
            } else if let Some((body, expands)) = heredoc.clone() {
                if is_sysctl_path(&target.text) && matches!(name, "cat" | "tee") {
                    out.push(Effect::File {
                        path: target.text.clone(),
                        body: vec![body],
                        expands,
                    });
                }
            } else if let Some((body, expands)) = lines.clone() {
                if is_sysctl_path(&target.text) {
                    out.push(Effect::File {
                        path: target.text.clone(),
                        body,
                        expands,
                    });
                }
            }
        }
    }
    out
}

/// False only for a text that has no [`Effect`], found without splitting it into commands:
/// every sysctl file is asked whether it is a script (`script::is_script`), and splitting a
/// 100,000-line file into commands was a third of reading it.
///
/// Without a quote or a backslash, quote removal changes nothing, so every word is written as
/// the command sees it: a command named `sysctl` leaves `sysctl` followed by a byte that ends
/// a word (not a letter, digit, `_`, `.` or `-`), a write to `/proc/sys` leaves `/proc/sys/`,
/// and a heredoc to a sysctl file leaves `sysctl.conf` or `sysctl.d/`. A text with a quote or
/// a backslash is split as before.
fn could_have_effects(script: &str) -> bool {
    let b = script.as_bytes();
    if memchr::memchr3(b'\'', b'"', b'\\', b).is_some()
        || memchr::memmem::find(b, b"/proc/sys/").is_some()
        || memchr::memmem::find(b, b"sysctl.conf").is_some()
        || memchr::memmem::find(b, b"sysctl.d/").is_some()
    {
        return true;
    }
    memchr::memmem::find_iter(b, b"sysctl").any(|at| {
        b.get(at + "sysctl".len())
            .is_none_or(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')))
    })
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
    /// The shortcut of [`effects`] never loses an effect: every text of the repository's
    /// tests and examples, and each of their lines, has the same effects with and without it.
    #[test]
    fn texts_without_the_words_of_an_effect_have_none() {
        fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if let Ok(t) = std::fs::read_to_string(&p) {
                    out.push(t);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut texts = Vec::new();
        for d in ["tests", "examples", "topologies"] {
            walk(&root.join(d), &mut texts);
        }
        let lines: Vec<String> = texts
            .iter()
            .flat_map(|t| t.lines().map(str::to_string))
            .collect();
        texts.extend(lines);
        texts.extend(
            [
                "sysctl -w a.b=1",
                "/sbin/sysctl;x",
                "sysctl",
                "echo 1 >/proc/sys/net/x",
                "cat > /etc/sysctl.d/x.conf <<EOF\na=1\nEOF\n",
                "kernel.sysctl_writes_strict = 1\nsysctl.x=1 sysctl-y sysctl_z\n",
            ]
            .map(str::to_string),
        );
        let mut with_effects = 0;
        for t in &texts {
            let full = split_effects(t);
            with_effects += usize::from(!full.is_empty());
            assert_eq!(effects(t), full, "{t}");
        }
        assert!(with_effects > 10, "{with_effects}");
        assert!(!could_have_effects(
            "kernel.sysctl_writes_strict = 1\nvm.x = 2\n"
        ));
    }

    fn effects_of(script: &str) -> Vec<String> {
        effects(script)
            .into_iter()
            .map(|e| match e {
                Effect::Write(w) => format!(
                    "write {}={} at {}/{}",
                    w.key, w.value, &script[w.key_at], &script[w.value_at]
                ),
                Effect::Load { files, .. } => format!("load {files:?}"),
                Effect::File {
                    path,
                    body,
                    expands,
                } => {
                    let text: Vec<&str> = body.iter().map(|r| &script[r.clone()]).collect();
                    format!("file {path} {:?} {expands}", text.join("|"))
                }
            })
            .collect()
    }

    #[test]
    fn redirections_to_proc_sys_and_heredocs_to_sysctl_files_are_effects() {
        let got = effects_of(
            "echo -n 1 >/proc/sys/net/ipv4/ip_forward\n\
             printf 'x' 2>/proc/sys/vm/swappiness\n\
             echo \"10 20\" | sudo tee -a /proc/sys/net/ipv4/ip_local_port_range\n\
             tee /etc/sysctl.d/a.conf <<'E' >/dev/null\nvm.a = $x\nE\n\
             cat <<-E | tee /etc/sysctl.conf\n\tvm.b = 1\n\tE\n\
             cat > /etc/other.conf <<E\nvm.c = 1\nE\n\
             sysctl --system; sysctl -p; sysctl -p a.conf b.conf\n",
        );
        assert_eq!(
            got,
            [
                "write net/ipv4/ip_forward=1 at net/ipv4/ip_forward/1",
                "write net/ipv4/ip_local_port_range=10 20 at net/ipv4/ip_local_port_range/10 20",
                "file /etc/sysctl.d/a.conf \"vm.a = $x\\n\" false",
                "file /etc/sysctl.conf \"\\tvm.b = 1\\n\" true",
                "load []",
                "load []",
                "load [\"a.conf\", \"b.conf\"]",
            ]
        );
    }

    #[test]
    fn substitutions_stay_in_their_word_and_mark_the_value_computed() {
        let c = script("sysctl -w vm.x=$(nproc) k=`id -u` && echo ${A:-1} > /proc/sys/vm/y");
        assert_eq!(c[0].words[2].text, "vm.x=$(nproc)");
        assert_eq!(c[0].words[3].text, "k=`id -u`");
        let w = sysctl_writes(&c[0].words).unwrap();
        assert!(w.iter().all(|w| w.dynamic));
        let e = effects("echo ${A:-1} > /proc/sys/vm/y");
        assert!(matches!(&e[0], Effect::Write(w) if w.dynamic && w.key == "vm/y"));
    }
}
