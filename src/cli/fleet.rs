//! A run over many paths in the human or JSON format, streamed: each `sysctl -a` dump is read,
//! judged and drawn in argument order, handed to the format's stream, then dropped, so memory
//! stays flat whatever the number of hosts. The JSON stream writes each host's diagnostics at
//! once; the human one keeps the hosts' parts in a spool (memory, then an unlinked temporary
//! file) to write them after the fleet summary, which comes first. The fleet summary's rows and
//! the counts of the last lines are all that is kept in memory per host.
//!
//! Dumps are taken a window at a time ([`WINDOW`]): the window's paths are read, judged and
//! drawn on all cores ([`crate::pool::par_map`]), each in a source map of its own, then written
//! in order; at most one window of judged hosts waits to be written. The paths that are not
//! dumps (sysctl files and folders read together as one set, manifests of several units,
//! standard input) are read and judged after the dumps, as `judge::read_sysctl_inputs` reads
//! them: only after the last path does the run know them all.

use super::check::Run;
use super::output::{with_hint, Io};
use crate::diag::Verdict;
use crate::judge::{self, Input, Request};
use crate::render::{self, Style};
use crate::report::{Report, Unread};
use crate::source::SourceMap;
use std::io::{self, Write};

/// Paths taken at once: enough to keep every core busy between two writes, few enough that
/// the judged hosts waiting to be written stay a few MiB.
const WINDOW: usize = 256;

/// The format written, and what it keeps between hosts.
enum Writer {
    Human(render::fleet::HumanStream),
    Json(render::json::Stream),
}

/// One host's part of the report, made on the thread that judged it.
enum Part {
    Human(render::fleet::HumanPart),
    Json(render::json::Part),
}

/// What a path of a window turned out to be.
enum Item {
    /// A dump, judged and drawn.
    Host(Part),
    /// Not a dump: read with the others after the last dump.
    Later,
    /// A path that could not be read.
    Unread(judge::Unread),
    /// Judging failed: the run stops with this message.
    Failed(String),
}

/// What the run learns besides the report: the paths not read (argument index first), whether
/// a finding fails the run, and a judging error that stopped it.
#[derive(Default)]
struct Outcome {
    unread: Vec<(usize, judge::Unread)>,
    fails: bool,
    failed: Option<String>,
}

/// Writes the report of `inputs` (two or more) to `io.out` and returns the exit code.
#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    io: &mut Io,
    inputs: &[Input],
    forced: Option<&'static crate::inputs::Reader>,
    run: &Run,
    sources: &mut SourceMap,
    json: bool,
    style: Style,
    threshold: Option<Verdict>,
) -> io::Result<u8> {
    // Buffered: stdout is line-buffered, and a report of many hosts has many lines. A reader
    // that stops early (`| head`) stops the writing, not the judging: the exit code still
    // weighs every host, as when the report was written after the last host was judged.
    let mut out = io::BufWriter::with_capacity(
        1 << 16,
        Pipe {
            inner: &mut *io.out,
            closed: false,
        },
    );
    let mut outcome = Outcome::default();
    let mut body = |out: &mut dyn Write| {
        stream(
            out,
            inputs,
            forced,
            run,
            sources,
            json,
            style,
            threshold,
            &mut outcome,
        )
    };
    match json {
        true => render::json::escaped(&mut out, &mut body),
        false => render::human::behind_safe(&mut out, style, &mut body),
    }?;
    out.flush()?;
    drop(out);
    // Every broken path named, in argument order, with what to do about it.
    for (_, u) in &outcome.unread {
        let _ = writeln!(io.err, "twlint: error: {}", with_hint(&u.error));
    }
    if let Some(e) = outcome.failed {
        return io.fail(e);
    }
    Ok(if !outcome.unread.is_empty() {
        2
    } else if outcome.fails {
        1
    } else {
        0
    })
}

#[allow(clippy::too_many_arguments)]
fn stream(
    out: &mut dyn Write,
    inputs: &[Input],
    forced: Option<&'static crate::inputs::Reader>,
    run: &Run,
    sources: &mut SourceMap,
    json: bool,
    style: Style,
    threshold: Option<Verdict>,
    outcome: &mut Outcome,
) -> io::Result<()> {
    let mut writer = match json {
        true => Writer::Json(render::json::Stream::start(out, run.config.clone())?),
        false => Writer::Human(render::fleet::HumanStream::start(
            out,
            style,
            run.config.as_deref(),
        )?),
    };
    let indexed: Vec<(usize, &Input)> = inputs.iter().enumerate().collect();
    let mut later: Vec<usize> = Vec::new();
    let windows: Vec<&[(usize, &Input)]> = indexed.chunks(WINDOW).collect();
    let judge_window = |w: usize| {
        // Under `--summary` only the first window is drawn: the one host of a run that turns
        // out to be no fleet is in it.
        let draw = !style.summary_only || w == 0;
        let items = crate::pool::par_map(windows[w], |&(_, input)| {
            host(input, forced, run, json, style, threshold, draw)
        });
        (w, items)
    };
    // Each window is written while the next is judged: writing (every byte through the
    // control-character boundary, the spools) is the calling thread's alone, and the cores
    // would otherwise wait for it. At most two windows of judged hosts are held. A host that
    // stops the run is an `Err(None)`; a write that fails, `Err(Some(_))`.
    let written = crate::pool::pipelined(0..windows.len(), judge_window, |(w, items)| {
        for (&(i, _), item) in windows[w].iter().zip(items) {
            match item {
                Item::Host(part) => push(&mut writer, out, part).map_err(Some)?,
                Item::Later => later.push(i),
                Item::Unread(u) => outcome.unread.push((i, u)),
                Item::Failed(e) => {
                    outcome.failed = Some(e);
                    return Err(None);
                }
            }
        }
        Ok(())
    });
    match written {
        Ok(()) => {}
        Err(None) => return Ok(()),
        Err(Some(e)) => return Err(e),
    }
    // The paths that are not dumps, read together as a run of those paths alone reads them.
    if !later.is_empty() {
        let rest: Vec<Input> = later.iter().map(|&i| inputs[i].clone()).collect();
        match judge::read_sysctl_inputs(&rest, forced, sources) {
            Ok(read) => {
                for u in read.unread {
                    // Back to its argument's index, for the order of the report.
                    let i = later
                        .iter()
                        .copied()
                        .find(|&i| input_path(&inputs[i]) == u.path)
                        .unwrap_or(usize::MAX);
                    outcome.unread.push((i, u));
                }
                if !read.sets.is_empty() {
                    let judged =
                        judge::judge(Request::sets(read.sets), &run.opts, &run.rules, sources);
                    match judged {
                        Ok(mut r) => {
                            run.finish(&mut r);
                            let part = make_part(sources, &r, json, style, threshold, true)?;
                            push(&mut writer, out, part)?;
                        }
                        Err(e) => {
                            outcome.failed = Some(with_hint(&e));
                            return Ok(());
                        }
                    }
                }
            }
            // One path alone stops at its error: in a fleet it is a path not read.
            Err(error) => outcome.unread.push((
                later[0],
                judge::Unread {
                    path: input_path(&inputs[later[0]]),
                    error,
                },
            )),
        }
    }
    outcome.unread.sort_by_key(|(i, _)| *i);
    let unread: Vec<Unread> = outcome.unread.iter().map(|(_, u)| u.to_report()).collect();
    match writer {
        Writer::Human(h) => {
            outcome.fails = h.totals().fails;
            h.finish(out, &unread, threshold)
        }
        Writer::Json(j) => {
            outcome.fails = j.totals().fails;
            j.finish(out, &unread)
        }
    }
}

/// Reads, judges and draws one path of a window when it is a dump, in a source map of its own
/// (dropped with the host); says what else it is otherwise.
fn host(
    input: &Input,
    forced: Option<&'static crate::inputs::Reader>,
    run: &Run,
    json: bool,
    style: Style,
    threshold: Option<Verdict>,
    draw: bool,
) -> Item {
    let Input::Path(path) = input else {
        return Item::Later;
    };
    let file = match crate::inputs::sort_named(path, forced) {
        Ok(crate::inputs::Named::Host(file)) => file,
        Ok(_) => return Item::Later,
        Err(error) => {
            return Item::Unread(judge::Unread {
                path: path.clone(),
                error,
            })
        }
    };
    let mut sources = SourceMap::new();
    let registered = file.register(&mut sources);
    let name = sources.get(registered.file).path.clone();
    let set = crate::sysctl::resolve_file(registered.read(&sources));
    let judged = judge::judge(
        Request::sets(vec![(name, set)]),
        &run.opts,
        &run.rules,
        &mut sources,
    );
    let mut r = match judged {
        Ok(r) => r,
        Err(e) => return Item::Failed(with_hint(&e)),
    };
    run.finish(&mut r);
    match make_part(&sources, &r, json, style, threshold, draw) {
        Ok(part) => Item::Host(part),
        Err(e) => Item::Failed(e.to_string()),
    }
}

fn make_part(
    sources: &SourceMap,
    r: &Report,
    json: bool,
    style: Style,
    threshold: Option<Verdict>,
    draw: bool,
) -> io::Result<Part> {
    Ok(match json {
        true => Part::Json(render::json::Part::new(sources, r, threshold)),
        false => Part::Human(render::fleet::HumanPart::new(
            style, sources, r, threshold, draw,
        )?),
    })
}

fn push(writer: &mut Writer, out: &mut dyn Write, part: Part) -> io::Result<()> {
    match (writer, part) {
        (Writer::Human(w), Part::Human(p)) => w.push(p),
        (Writer::Json(w), Part::Json(p)) => w.push(out, p),
        _ => unreachable!("a part is made in the writer's format"),
    }
}

/// The path an input is named by in the report.
fn input_path(input: &Input) -> std::path::PathBuf {
    match input {
        Input::Path(p) => p.clone(),
        Input::Text { name, .. } => std::path::PathBuf::from(name),
    }
}

/// Standard output that a reader may close early: past a broken pipe, writes are dropped, so
/// the run goes on judging for its exit code.
struct Pipe<'a> {
    inner: &'a mut dyn Write,
    closed: bool,
}

impl Write for Pipe<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        match self.inner.write(buf) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(buf.len())
            }
            r => r,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.inner.flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            r => r,
        }
    }
}
