//! The JSON report, version 1 (docs/reference/json-report.md): fixed field names, extra fields added.
//!
//! This module owns the report's JSON form: [`Json`] is the typed model (serde structs borrowing
//! from the engine's report and, in host mode, the host's run), and [`write`] is the one writer
//! of it; the snapshots serialise the same model. Every object's fields are declared in sorted
//! order, the order every report has been written in (it came from `serde_json::Map`), so the
//! text does not change with the model. `twlint host`'s own document ([`write_host_read`]) shares
//! the host object's types.
//!
//! A fleet run writes its report host by host ([`Stream`]): each host's diagnostics go out as
//! soon as it is judged, and its nodes and verdicts, which the report lists after the fleet
//! summary, wait in a [`Spill`] (memory, then an unlinked temporary file past 1 MiB), so
//! memory stays flat whatever the number of hosts; the text is what [`write`] writes for the
//! same report (`tests/fleet.rs` holds the two to the same bytes).

use crate::diag::{Diagnostic, Severity, Verdict};
use crate::host::evidence::Evidence;
use crate::host::judge::{Drift, HostRun};
use crate::host::{HostSnapshot, MatchedBy};
use crate::number::format_number;
use crate::report::{
    Fleet, FleetHost, HopSummary, Mode, NodeSummary, Report, Totals, Unread, VerdictEntry,
};
use crate::source::{Location, SourceMap, Span};
use crate::suppress::Suppression;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The report as JSON: build it with [`Json::new`] (and [`Json::with_host`] in host mode), write
/// it with [`write`], or hand it to any serde serializer.
#[derive(Serialize, JsonSchema)]
pub struct Json<'a> {
    /// The `.twlint.yaml` the run used.
    #[serde(skip_serializing_if = "Option::is_none")]
    config: Option<&'a str>,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    /// Only with several hosts, so single-host and topology reports keep their shape.
    #[serde(skip_serializing_if = "Option::is_none")]
    fleet: Option<FleetSection>,
    hops: Vec<JsonHop<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<JsonHost<'a>>,
    mode: &'static str,
    nodes: Vec<JsonNode<'a>>,
    summary: JsonSummary,
    /// Present only when something was suppressed, so reports without suppressions keep the
    /// exact shape they always had.
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<Vec<JsonDiagnostic<'a>>>,
    tool: crate::build_info::Tool,
    topology: Option<&'a str>,
    /// Paths named for linting that could not be read; present only when there are some, so
    /// complete reports keep their shape.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unread: Vec<JsonUnread<'a>>,
    verdicts: JsonVerdicts<'a>,
    version: u32,
}

/// The report's verdicts, each put in its JSON form ([`JsonVerdict`]) only when it is written:
/// a large topology has a million, and their forms made all at once, beside the report's own
/// entries, were a third of the run's peak memory. Written and described exactly as the list of
/// forms would be.
#[derive(Default)]
struct JsonVerdicts<'a> {
    sources: Option<&'a SourceMap>,
    entries: &'a [VerdictEntry],
    /// Host mode: the counters that bear on a verdict, by its index, in the run's order.
    evidence: BTreeMap<usize, Vec<&'a Evidence>>,
}

impl<'a> JsonVerdicts<'a> {
    /// The JSON form of the `i`th verdict.
    fn get(&self, i: usize) -> JsonVerdict<'a> {
        let sources = self.sources.expect("verdicts come with their source map");
        let mut v = JsonVerdict::new(sources, &self.entries[i]);
        v.evidence = self
            .evidence
            .get(&i)
            .map(|es| es.iter().map(|e| JsonEvidence::new(e)).collect());
        v
    }
}

impl Serialize for JsonVerdicts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.entries.len()))?;
        for i in 0..self.entries.len() {
            seq.serialize_element(&self.get(i))?;
        }
        seq.end()
    }
}

impl JsonSchema for JsonVerdicts<'_> {
    fn schema_name() -> Cow<'static, str> {
        <Vec<JsonVerdict<'static>>>::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        <Vec<JsonVerdict<'static>>>::schema_id()
    }
    fn inline_schema() -> bool {
        <Vec<JsonVerdict<'static>>>::inline_schema()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        <Vec<JsonVerdict<'static>>>::json_schema(generator)
    }
}

/// A path that could not be read: where, and why.
#[derive(Serialize, JsonSchema)]
struct JsonUnread<'a> {
    error: &'a str,
    path: &'a str,
}

impl<'a> Json<'a> {
    /// The report `r`, its places resolved in `sources`.
    pub fn new(sources: &'a SourceMap, r: &'a Report) -> Json<'a> {
        let hidden = r.suppressed_verdicts();
        let any_suppressed = hidden > 0 || !r.suppressed.is_empty();
        Json {
            config: r.config.as_deref(),
            diagnostics: r
                .diagnostics
                .iter()
                .map(|d| JsonDiagnostic::new(sources, d, None))
                .collect(),
            fleet: Fleet::of(r).map(FleetSection),
            hops: r.hops.iter().map(JsonHop::new).collect(),
            host: None,
            mode: match r.mode {
                Mode::Files => "files",
                Mode::Topology => "topology",
            },
            nodes: r.nodes.iter().map(JsonNode::new).collect(),
            summary: JsonSummary {
                dangerous: r.count(Verdict::Dangerous),
                errors: r.diagnostics_of(Severity::Error),
                not_judged: r.not_judged(),
                pointless: r.count(Verdict::Pointless),
                safe: r.count(Verdict::Safe),
                suppressed: any_suppressed.then_some(JsonSuppressedCount {
                    diagnostics: r.suppressed.len(),
                    verdicts: hidden,
                }),
                unread: r.unread.len(),
                warnings: r.diagnostics_of(Severity::Warning),
            },
            suppressed: any_suppressed.then(|| {
                r.suppressed
                    .iter()
                    .map(|(d, s)| JsonDiagnostic::new(sources, d, Some(s)))
                    .collect()
            }),
            tool: crate::build_info::TOOL,
            topology: r.topology.as_deref(),
            unread: r
                .unread
                .iter()
                .map(|u| JsonUnread {
                    error: &u.error,
                    path: &u.path,
                })
                .collect(),
            verdicts: JsonVerdicts {
                sources: Some(sources),
                entries: &r.verdicts,
                evidence: BTreeMap::new(),
            },
            version: 1,
        }
    }

    /// What a host run adds: the top-level `host` object and each verdict's `evidence` list
    /// (the run's evidence names verdicts by index into the report's verdicts).
    pub fn with_host(mut self, run: &'a HostRun) -> Json<'a> {
        self.host = Some(JsonHost::of_run(run));
        for (i, e) in &run.evidence {
            if *i < self.verdicts.entries.len() {
                self.verdicts.evidence.entry(*i).or_default().push(e);
            }
        }
        self
    }
}

/// Writes the report as pretty JSON and a final newline: what `serde_json::to_writer_pretty`
/// writes for the model, with no control character raw (`safe::Form::Json`). The verdicts,
/// diagnostics, hops and nodes, most of a large report, are written and escaped on all cores
/// and put where the rest, written first with those lists empty, has `[]`: a fleet report has
/// thousands of verdicts, and writing them was the longest part of a run left on one core (the
/// test `parallel_writer_writes_what_serde_writes` in `tests/json_writer.rs` holds the two to
/// the same bytes). Each part is a whole text, split from the next at an ASCII byte, so escaped
/// on its own it is what escaping the whole report gives.
pub fn write(out: &mut dyn Write, mut json: Json<'_>) -> io::Result<()> {
    let verdicts = std::mem::take(&mut json.verdicts);
    let diagnostics = std::mem::take(&mut json.diagnostics);
    let hops = std::mem::take(&mut json.hops);
    let nodes = std::mem::take(&mut json.nodes);
    let mut rest = Vec::new();
    serde_json::to_writer_pretty(&mut rest, &json)?;
    let rest = escape_json(rest);
    type List<'l> = Box<dyn Fn(&mut dyn Write) -> io::Result<()> + 'l>;
    // The keys are at the top level, written two blanks in, in sorted order; a string holds no
    // raw newline, and nested keys are further in, so each pattern occurs once.
    let lists: [(&[u8], List<'_>); 4] = [
        (
            b"\n  \"diagnostics\": []",
            Box::new(|out| write_pretty_array(out, &diagnostics, element)),
        ),
        (
            b"\n  \"hops\": []",
            Box::new(|out| write_pretty_array(out, &hops, element)),
        ),
        (
            b"\n  \"nodes\": []",
            Box::new(|out| write_pretty_array(out, &nodes, element)),
        ),
        (
            b"\n  \"verdicts\": []",
            Box::new(|out| {
                write_pretty_array(out, verdicts.entries, |out, i, _| {
                    verdicts.get(i).write_element(out)
                })
            }),
        ),
    ];
    let mut from = 0;
    for (pattern, list) in &lists {
        let (at, len) = find_empty(&rest[from..], pattern);
        out.write_all(&rest[from..from + at + len - 2])?;
        list(out)?;
        from += at + len;
    }
    out.write_all(&rest[from..])?;
    out.write_all(b"\n")?;
    out.flush()
}

/// [`super::safe::escape_whole`] for JSON text: a text with no byte below `0x20` but line
/// breaks and tabs, and none from `0x7F`, is passed as it is after one look at each byte (a
/// fold the compiler vectorises, 64 bytes at a time), as `escape_whole` passes it (it escapes
/// only bytes of those ranges); any other text goes through `escape_whole`. A pretty JSON
/// text has a line break every few dozen bytes, and each stopped `escape_whole`'s search for
/// the bytes it escapes: that search was a fifteenth of writing a large topology's report.
/// Test `escape_json_is_escape_whole`.
fn escape_json(text: Vec<u8>) -> Vec<u8> {
    let plain = text.chunks(64).all(|chunk| {
        !chunk.iter().fold(false, |any, &b| {
            any | ((b < 0x20) & (b != b'\n') & (b != b'\t')) | (b >= 0x7F)
        })
    });
    if plain {
        return text;
    }
    super::safe::escape_whole(super::safe::Form::Json, text)
}

/// Where `pattern` (a top-level key with an empty list) is in `text`, and its length.
fn find_empty(text: &[u8], pattern: &[u8]) -> (usize, usize) {
    let at = memchr::memmem::find(text, pattern).expect("the report has every top-level list");
    (at, pattern.len())
}

/// `twlint host --format json`: what host mode reads, as its own document.
pub fn write_host_read(out: &mut dyn Write, s: &HostSnapshot) -> io::Result<()> {
    super::safe::escaped(out, super::safe::Form::Json, |out| {
        write_host_read_unescaped(out, s)
    })
}

fn write_host_read_unescaped(out: &mut dyn Write, s: &HostSnapshot) -> io::Result<()> {
    #[derive(Serialize, JsonSchema)]
    struct Document<'a> {
        host: JsonHost<'a>,
        tool: crate::build_info::Tool,
        version: u32,
    }
    let doc = Document {
        host: JsonHost::Read(Box::new(HostRead::new(s))),
        tool: crate::build_info::TOOL,
        version: 1,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}

/// Writes `value` as `to_writer_pretty` writes it `levels` levels in (two blanks a level):
/// an element of one of the report's lists (two levels), or the fleet section (one), written
/// on its own, straight to `out`.
fn write_nested<W: Write, V: Serialize + ?Sized>(
    out: W,
    levels: usize,
    value: &V,
) -> io::Result<()> {
    let nested = Nested {
        level: levels,
        has_value: false,
    };
    value.serialize(&mut serde_json::Serializer::with_formatter(out, nested))?;
    Ok(())
}

/// One element of a top-level list, written as the whole report would write it there.
fn element<V: Serialize>(out: &mut Vec<u8>, _: usize, value: &V) {
    write_nested(out, 2, value).expect("a report element serialises");
}

/// `s` as a JSON string, as serde writes it: copied between quotes when it has nothing to escape
/// (a quote, a backslash, a control character), else written by serde.
fn json_str(out: &mut Vec<u8>, s: &str) {
    // Every byte looked at (a fold without an early exit, which the compiler vectorises): the
    // strings are short, and nearly all have nothing to escape.
    let plain = !s.bytes().fold(false, |any, b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if plain {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("a string serialises");
    }
}

/// `s` or `null`, as serde writes an `Option<&str>`.
fn json_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => json_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// `serde_json`'s `PrettyFormatter` with two blanks a level, starting at a level other than
/// the first: a value written on its own, where a whole report would have written it. It puts
/// the line breaks itself (strings escape theirs), so nothing is copied again to move the
/// lines in.
struct Nested {
    level: usize,
    has_value: bool,
}

impl Nested {
    fn newline<W: ?Sized + Write>(&self, w: &mut W, comma: bool) -> io::Result<()> {
        const BLANKS: &[u8; 34] = b",\n                                ";
        let n = 2 * self.level;
        let from = usize::from(!comma);
        if n <= BLANKS.len() - 2 {
            return w.write_all(&BLANKS[from..2 + n]);
        }
        w.write_all(&BLANKS[from..2])?;
        for _ in 0..self.level {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    /// Opens an array or an object a level further in.
    fn open<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    /// Closes it, on a line of its own when it held anything.
    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.newline(w, false)?;
        }
        w.write_all(bracket)
    }
}

impl serde_json::ser::Formatter for Nested {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.newline(w, !first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.newline(w, !first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Writes a list of the report's top level as `to_writer_pretty` writes it there (escaped as
/// [`write`] escapes), by batches on all cores: each element written pretty on its own two
/// levels in, a window of batches at a time, written out in order (while the next window is
/// made) and dropped. A large topology's
/// verdicts are hundreds of megabytes of JSON; held whole (and once more joined) they were most
/// of the run's peak memory. Each element is written by `write_one(out, index, &items[index])`
/// on the thread that writes its batch ([`element`] for a model's element).
fn write_pretty_array<T: Sync>(
    out: &mut dyn Write,
    items: &[T],
    write_one: impl Fn(&mut Vec<u8>, usize, &T) + Sync,
) -> io::Result<()> {
    const BATCH: usize = 256;
    // Enough batches per window to keep every core busy between writes.
    const WINDOW: usize = 64;
    if items.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[\n    ")?;
    let batches: Vec<(usize, &[T])> = items
        .chunks(BATCH)
        .enumerate()
        .map(|(b, batch)| (b * BATCH, batch))
        .collect();
    let write_window = |window: &[(usize, &[T])]| {
        crate::pool::par_map(window, |&(start, batch)| {
            let mut out = Vec::new();
            for (i, item) in batch.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b",\n    ");
                }
                write_one(&mut out, start + i, item);
                if i == 0 {
                    // Room for the rest at the first element's size and a quarter more: grown
                    // by doubling, a batch of verdicts was copied a dozen times as it grew.
                    out.reserve((out.len() + 6) * (batch.len() - 1) * 5 / 4);
                }
            }
            escape_json(out)
        })
    };
    // Each window is written out while the next is made, so the cores are not left idle
    // while one thread writes.
    let mut first = true;
    crate::pool::pipelined(batches.chunks(WINDOW), write_window, |written| {
        for text in &written {
            if !first {
                out.write_all(b",\n    ")?;
            }
            first = false;
            out.write_all(text)?;
        }
        io::Result::Ok(())
    })?;
    out.write_all(b"\n  ]")
}

/// A place in an input, resolved when written (on the writer's threads, for the verdicts).
struct JsonPlace<'a> {
    sources: &'a SourceMap,
    span: Option<Span>,
}

impl Serialize for JsonPlace<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.span {
            Some(span) => JsonLocation::from(self.sources.location(span)).serialize(s),
            None => s.serialize_none(),
        }
    }
}

impl JsonSchema for JsonPlace<'_> {
    fn schema_name() -> Cow<'static, str> {
        "Place".into()
    }
    fn inline_schema() -> bool {
        true
    }
    /// A location, or null where the finding has no place.
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        <Option<JsonLocation>>::json_schema(generator)
    }
}

/// A [`Location`] with its fields in sorted order.
#[derive(Serialize, JsonSchema)]
struct JsonLocation {
    column: usize,
    line: usize,
    path: String,
}

impl From<Location> for JsonLocation {
    fn from(l: Location) -> Self {
        JsonLocation {
            column: l.column,
            line: l.line,
            path: l.path,
        }
    }
}

#[derive(Serialize, JsonSchema)]
struct JsonNode<'a> {
    /// Hosts it stands for, when more than one.
    #[serde(skip_serializing_if = "Option::is_none")]
    hosts: Option<u32>,
    kernel: String,
    kernel_source: &'static str,
    name: &'a str,
    /// `own`, or the node whose namespace it shares; absent for the host's namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    network_namespace: Option<&'a str>,
    role: &'a str,
    sources: &'a [String],
}

impl<'a> JsonNode<'a> {
    fn new(n: &'a NodeSummary) -> Self {
        JsonNode {
            hosts: (n.hosts > 1).then_some(n.hosts),
            kernel: n.kernel.to_string(),
            kernel_source: n.kernel_origin.as_str(),
            name: &n.name,
            network_namespace: n
                .namespace
                .as_deref()
                .map(|o| if o.is_empty() { "own" } else { o }),
            role: &n.role,
            sources: &n.sources,
        }
    }
}

/// A figure of the capacity model: whole numbers are integers in JSON, others keep one decimal,
/// as in the human output.
struct Num(f64);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = format_number(self.0);
        match text.parse::<i64>() {
            Ok(i) => s.serialize_i64(i),
            Err(_) => s.serialize_f64(text.parse::<f64>().unwrap_or(self.0)),
        }
    }
}

impl JsonSchema for Num {
    fn schema_name() -> Cow<'static, str> {
        "Figure".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "number"})
    }
}

#[derive(Serialize, JsonSchema)]
struct JsonHop<'a> {
    capacity: JsonCapacity,
    closes_first: &'a str,
    /// Each middlebox with conntrack on the way, with its figures for this link.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    conntrack: Vec<JsonConntrack<'a>>,
    /// The destination addresses the sources reach.
    destinations: &'a [String],
    from: &'a str,
    /// The smallest idle timeout on the way, when connections are held open.
    #[serde(skip_serializing_if = "Option::is_none")]
    idle: Option<JsonIdle<'a>>,
    link: &'a str,
    /// Connections held open at once, when the link declares them.
    #[serde(skip_serializing_if = "Option::is_none")]
    open: Option<i64>,
    port: u16,
    rate: Option<Num>,
    rate_per_tuple: Option<Num>,
    /// What twlint assumed to choose the addresses, when it assumed anything.
    #[serde(skip_serializing_if = "str::is_empty")]
    source_assumption: &'a str,
    /// The source addresses connect() takes, one per connecting host.
    sources: &'a [String],
    time_wait_on: &'a str,
    time_wait_per_host: Option<Num>,
    time_wait_sockets: Option<Num>,
    to: &'a str,
    tuples: i64,
    via: Option<&'a str>,
}

#[derive(Serialize, JsonSchema)]
struct JsonConntrack<'a> {
    entries: Num,
    entries_known: bool,
    limit: i64,
    link_entries: Num,
    /// `nf_conntrack_max`, null for the memory-dependent default.
    max: Option<i64>,
    node: &'a str,
    overflows: bool,
    rate_capacity: Num,
    #[serde(skip_serializing_if = "Option::is_none")]
    snat: Option<JsonSnat>,
    time_wait_timeout: i64,
}

#[derive(Serialize, JsonSchema)]
struct JsonSnat {
    capacity: Num,
    exhausts: bool,
    held: Num,
    ports: i64,
    rate_per_tuple: Num,
    tuples: i64,
}

#[derive(Serialize, JsonSchema)]
struct JsonIdle<'a> {
    by: &'a str,
    keepalive: &'a str,
    keepalive_counts: bool,
    open: Num,
    seconds: Num,
    source: &'a str,
}

#[derive(Serialize, JsonSchema)]
struct JsonCapacity {
    effective: Num,
    ports: i64,
    reuse_works: bool,
    with_reuse: Num,
    without_reuse: Num,
}

impl<'a> JsonHop<'a> {
    fn new(h: &'a HopSummary) -> Self {
        let c = &h.client;
        JsonHop {
            capacity: JsonCapacity {
                effective: Num(c.capacity.effective),
                ports: c.capacity.ports,
                reuse_works: c.capacity.reuse_works,
                with_reuse: Num(c.capacity.with_reuse),
                without_reuse: Num(c.capacity.without_reuse),
            },
            closes_first: &h.closes_first,
            conntrack: h
                .via_conntrack
                .iter()
                .map(|(node, ct)| JsonConntrack {
                    entries: Num(ct.entries),
                    entries_known: ct.entries_known,
                    limit: ct.limit,
                    link_entries: Num(ct.link_entries),
                    max: (ct.max >= 0).then_some(ct.max),
                    node,
                    overflows: ct.overflows,
                    rate_capacity: Num(ct.rate_capacity),
                    snat: ct.snat.then_some(JsonSnat {
                        capacity: Num(ct.snat_capacity),
                        exhausts: ct.snat_exhausts,
                        held: Num(ct.snat_held),
                        ports: ct.snat_ports,
                        rate_per_tuple: Num(ct.snat_rate_per_tuple),
                        tuples: ct.snat_tuples,
                    }),
                    time_wait_timeout: ct.tw_timeout,
                })
                .collect(),
            destinations: &c.destinations,
            from: &h.from,
            idle: (c.path.open > 0.0 && c.path.idle_timeout > 0.0).then(|| JsonIdle {
                by: &c.path.idle_by,
                keepalive: &c.path.keepalive,
                keepalive_counts: c.path.keepalive_counts,
                open: Num(c.path.open),
                seconds: Num(c.path.idle_timeout),
                source: &c.path.idle_source,
            }),
            link: &h.link,
            open: (c.open > 0 || h.open_declared).then_some(c.open),
            port: h.port,
            rate: h.rate.map(Num),
            rate_per_tuple: c.rate_known.then_some(Num(c.rate_per_tuple)),
            source_assumption: &c.source_assumption,
            sources: &c.sources,
            time_wait_on: &h.closes_first,
            time_wait_per_host: c.rate_known.then_some(Num(h.time_wait_per_host)),
            time_wait_sockets: c.rate_known.then_some(Num(h.time_wait_sockets)),
            to: &h.to,
            tuples: c.tuples,
            via: h.via.as_deref(),
        }
    }
}

#[derive(Serialize, JsonSchema)]
struct JsonSummary {
    dangerous: usize,
    errors: usize,
    /// Rows of hosts twlint cannot see (clients without files), counted as neither safe nor a
    /// problem; left out when none.
    #[serde(skip_serializing_if = "is_zero")]
    not_judged: usize,
    pointless: usize,
    safe: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<JsonSuppressedCount>,
    /// Paths not read; left out when none, as in every report before there could be some.
    #[serde(skip_serializing_if = "is_zero")]
    unread: usize,
    warnings: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Serialize, JsonSchema)]
struct JsonSuppressedCount {
    diagnostics: usize,
    verdicts: usize,
}

/// What hid a verdict or a diagnostic: `kind` (line, file, topology), `reason`, `location`.
#[derive(Serialize, JsonSchema)]
struct JsonSuppression<'a> {
    kind: &'static str,
    location: JsonPlace<'a>,
    reason: &'a str,
}

impl<'a> JsonSuppression<'a> {
    fn new(sources: &'a SourceMap, s: &'a Suppression) -> Self {
        JsonSuppression {
            kind: s.kind.as_str(),
            location: JsonPlace {
                sources,
                span: Some(s.span),
            },
            reason: &s.reason,
        }
    }
}

/// One diagnostic; in the `suppressed` list, with what hid it.
#[derive(Serialize, JsonSchema)]
struct JsonDiagnostic<'a> {
    help: Option<&'a str>,
    key: Option<&'a str>,
    labels: Vec<JsonLabel<'a>>,
    location: JsonPlace<'a>,
    message: &'a str,
    node: Option<&'a str>,
    notes: &'a [String],
    rule: &'a str,
    severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<JsonSuppression<'a>>,
    verdict: Option<Verdict>,
}

#[derive(Serialize, JsonSchema)]
struct JsonLabel<'a> {
    location: JsonPlace<'a>,
    message: &'a str,
}

impl<'a> JsonDiagnostic<'a> {
    fn new(sources: &'a SourceMap, d: &'a Diagnostic, hidden_by: Option<&'a Suppression>) -> Self {
        JsonDiagnostic {
            help: d.help.as_deref(),
            key: d.key.as_deref(),
            labels: d
                .secondary
                .iter()
                .map(|l| JsonLabel {
                    location: JsonPlace {
                        sources,
                        span: Some(l.span),
                    },
                    message: &l.message,
                })
                .collect(),
            location: JsonPlace {
                sources,
                span: d.primary.as_ref().map(|l| l.span),
            },
            message: &d.message,
            node: d.node.as_deref(),
            notes: &d.notes,
            rule: &d.code,
            severity: d.severity,
            suppressed: hidden_by.map(|s| JsonSuppression::new(sources, s)),
            verdict: d.verdict,
        }
    }
}

#[derive(Serialize, JsonSchema)]
struct JsonVerdict<'a> {
    /// Host mode: the counters that bear on this verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<Vec<JsonEvidence<'a>>>,
    /// The rule's machine-readable fix (what `twlint advise` writes), only where it has one; a
    /// key given twice keeps its last value.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    fix: BTreeMap<&'a str, &'a str>,
    help: Option<&'a str>,
    key: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    level: Option<Severity>,
    link: Option<&'a str>,
    node: &'a str,
    reason: &'a str,
    rule: Option<&'a str>,
    rule_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    side: Option<&'static str>,
    source: JsonValueSource<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<JsonSuppression<'a>>,
    value: Option<&'a str>,
    verdict: &'static str,
}

impl<'a> JsonVerdict<'a> {
    fn new(sources: &'a SourceMap, v: &'a VerdictEntry) -> Self {
        JsonVerdict {
            evidence: None,
            fix: v
                .fix
                .iter()
                .map(|(k, x)| (k.as_str(), x.as_str()))
                .collect(),
            help: v.help.as_deref(),
            key: v.key,
            level: v.level,
            link: v.link.as_deref(),
            node: &v.node,
            reason: &v.reason,
            rule: v.rule.as_deref(),
            rule_name: v.rule_name.as_deref(),
            side: v.side,
            source: JsonValueSource {
                sources,
                kind: v.source.as_str(),
                span: v.span,
            },
            suppressed: v
                .suppressed
                .as_ref()
                .map(|s| JsonSuppression::new(sources, s)),
            value: v.value.as_deref(),
            verdict: v.verdict.as_str(),
        }
    }
}

impl JsonVerdict<'_> {
    /// Writes this verdict as an element of the report's `verdicts` ([`element`] writes the
    /// same bytes). A large topology has a million verdicts, and serde's writer, a call per
    /// string with its escaping checked byte by byte, took a fifth of the run to write them:
    /// the fields every verdict has are written here, the names between them as fixed text.
    /// A verdict with evidence, a fix, a level or a suppression, which a large report has few
    /// of, is written by serde. `tests/json_writer.rs` holds whole reports to serde's bytes.
    fn write_element(&self, out: &mut Vec<u8>) {
        if self.evidence.is_some()
            || !self.fix.is_empty()
            || self.level.is_some()
            || self.suppressed.is_some()
        {
            return element(out, 0, self);
        }
        // Fields two levels in: an element of a top-level list is itself two levels in. `field`
        // starts every field after the first: its comma, its line and its name.
        let field = |out: &mut Vec<u8>, name: &str| {
            out.extend_from_slice(b",\n      \"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\": ");
        };
        out.extend_from_slice(b"{\n      \"help\": ");
        json_opt_str(out, self.help);
        field(out, "key");
        json_str(out, self.key);
        field(out, "link");
        json_opt_str(out, self.link);
        field(out, "node");
        json_str(out, self.node);
        field(out, "reason");
        json_str(out, self.reason);
        field(out, "rule");
        json_opt_str(out, self.rule);
        field(out, "rule_name");
        json_opt_str(out, self.rule_name);
        if let Some(side) = self.side {
            field(out, "side");
            json_str(out, side);
        }
        field(out, "source");
        out.extend_from_slice(b"{\n        \"");
        match self.source.span {
            Some(span) => {
                let loc = self.source.sources.location(span);
                let _ = write!(out, "column\": {},\n        \"kind\": ", loc.column);
                json_str(out, self.source.kind);
                let _ = write!(
                    out,
                    ",\n        \"line\": {},\n        \"path\": ",
                    loc.line
                );
                json_str(out, &loc.path);
            }
            None => {
                out.extend_from_slice(b"kind\": ");
                json_str(out, self.source.kind);
            }
        }
        out.extend_from_slice(b"\n      }");
        field(out, "value");
        json_opt_str(out, self.value);
        field(out, "verdict");
        json_str(out, self.verdict);
        out.extend_from_slice(b"\n    }");
    }
}

/// Where a judged value came from: `kind`, and where it has a place, `path`, `line`, `column`.
struct JsonValueSource<'a> {
    sources: &'a SourceMap,
    kind: &'static str,
    span: Option<Span>,
}

impl Serialize for JsonValueSource<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Placed<'a> {
            column: usize,
            kind: &'a str,
            line: usize,
            path: String,
        }
        #[derive(Serialize)]
        struct Unplaced<'a> {
            kind: &'a str,
        }
        match self.span {
            Some(span) => {
                let loc = self.sources.location(span);
                Placed {
                    column: loc.column,
                    kind: self.kind,
                    line: loc.line,
                    path: loc.path,
                }
                .serialize(s)
            }
            None => Unplaced { kind: self.kind }.serialize(s),
        }
    }
}

impl JsonSchema for JsonValueSource<'_> {
    fn schema_name() -> Cow<'static, str> {
        "ValueSource".into()
    }
    /// `kind` always; `path`, `line` and `column` together, where the value has a place.
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "properties": {
                "column": {"type": "integer", "minimum": 1},
                "kind": {"type": "string"},
                "line": {"type": "integer", "minimum": 1},
                "path": {"type": "string"}
            },
            "required": ["kind"],
            "dependentRequired": {
                "path": ["line", "column"],
                "line": ["path", "column"],
                "column": ["path", "line"]
            },
            "additionalProperties": false
        })
    }
}

/// One counter attached to a verdict; `delta` and `interval_seconds` only over an interval.
#[derive(Serialize, JsonSchema)]
struct JsonEvidence<'a> {
    counter: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    delta: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    interval_seconds: Option<f64>,
    meaning: &'static str,
    note: &'a str,
    since: &'static str,
    value: u64,
}

impl<'a> JsonEvidence<'a> {
    fn new(e: &'a Evidence) -> Self {
        JsonEvidence {
            counter: &e.counter,
            delta: e.delta.map(|d| d.0),
            interval_seconds: e.delta.map(|d| d.1),
            meaning: e.meaning.as_str(),
            note: &e.note,
            since: e.since,
            value: e.value,
        }
    }
}

/// The `fleet` section: which hosts have which dangerous settings.
/// The `fleet` section of a whole report, made from it.
struct FleetSection(Fleet);

impl Serialize for FleetSection {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        JsonFleet::new(&self.0).serialize(s)
    }
}

/// The section's schema is the one of what it serialises as.
impl JsonSchema for FleetSection {
    fn schema_name() -> Cow<'static, str> {
        JsonFleet::schema_name()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        JsonFleet::json_schema(generator)
    }
}

#[derive(Serialize, JsonSchema)]
struct JsonFleet<'a> {
    dangerous: BTreeMap<&'static str, Vec<&'a str>>,
    hosts: Vec<JsonFleetHost<'a>>,
    with_dangerous: usize,
}

#[derive(Serialize, JsonSchema)]
struct JsonFleetHost<'a> {
    dangerous: &'a [&'static str],
    /// Why the host's path could not be read; only on such hosts.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    errors: usize,
    kernel: &'a str,
    name: &'a str,
    pointless: &'a [&'static str],
}

impl<'a> JsonFleet<'a> {
    fn new(f: &'a Fleet) -> Self {
        JsonFleet {
            dangerous: f
                .dangerous
                .iter()
                .map(|(k, hosts)| {
                    let names = hosts.iter().map(|&i| f.hosts[i as usize].name.as_str());
                    (*k, names.collect())
                })
                .collect(),
            hosts: f
                .hosts
                .iter()
                .map(|h| JsonFleetHost {
                    dangerous: &h.dangerous,
                    error: h.error.as_deref(),
                    errors: h.errors,
                    kernel: &h.kernel,
                    name: &h.name,
                    pointless: &h.pointless,
                })
                .collect(),
            with_dangerous: f.hosts.iter().filter(|h| !h.dangerous.is_empty()).count(),
        }
    }
}

/// The `host` object: what was read and, when the host is a node of the topology, which node
/// and how its values differ from the declared ones; when no node matched, why.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
enum JsonHost<'a> {
    // Boxed: what was read is several times larger than the unmatched note (clippy).
    Read(Box<HostRead<'a>>),
    Unmatched(HostUnmatched<'a>),
}

impl<'a> JsonHost<'a> {
    fn of_run(run: &'a HostRun) -> Self {
        let s = &run.snapshot;
        let Some(m) = &run.matched else {
            // The declared values were judged; what this host has is not part of the report.
            return JsonHost::Unmatched(HostUnmatched {
                addresses: addresses(s),
                hostname: s.identity.hostname.as_deref(),
                node: None,
                note: run.unmatched.as_deref(),
                read_from: JsonReadFrom::new(s),
            });
        };
        let mut read = HostRead::new(s);
        read.drift = Some(run.drift.iter().map(JsonDrift::new).collect());
        read.kernel.declared = Some(run.declared_kernel.map(|k| k.to_string()));
        read.matched_by = Some(JsonMatchedBy {
            kind: m.by.kind(),
            value: match &m.by {
                MatchedBy::Flag => None,
                MatchedBy::Hostname(h) => Some(h.clone()),
                MatchedBy::Address(a) => Some(a.to_string()),
            },
        });
        read.node = Some(&m.node);
        JsonHost::Read(Box::new(read))
    }
}

fn addresses(s: &HostSnapshot) -> Vec<String> {
    s.identity.addresses.iter().map(|a| a.to_string()).collect()
}

#[derive(Serialize, JsonSchema)]
struct JsonReadFrom {
    kind: &'static str,
    path: Option<String>,
}

impl JsonReadFrom {
    fn new(s: &HostSnapshot) -> Self {
        JsonReadFrom {
            kind: s.origin.kind(),
            path: s.origin.dir().map(|d| d.display().to_string()),
        }
    }
}

#[derive(Serialize, JsonSchema)]
struct HostUnmatched<'a> {
    addresses: Vec<String>,
    hostname: Option<&'a str>,
    node: Option<&'a str>,
    note: Option<&'a str>,
    read_from: JsonReadFrom,
}

/// What was read; in a report of a matched host, with the node, how it matched and the drift.
#[derive(Serialize, JsonSchema)]
struct HostRead<'a> {
    addresses: Vec<String>,
    counters: JsonCounters<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    drift: Option<Vec<JsonDrift<'a>>>,
    hostname: Option<&'a str>,
    kernel: JsonKernel<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    matched_by: Option<JsonMatchedBy>,
    netns: JsonNetns<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<&'a str>,
    read_from: JsonReadFrom,
    /// The socket summary as a JSON value, whose maps sort their keys: the order this object
    /// has always been written in, not the summary's declaration order.
    sockets: Option<serde_json::Value>,
    sockets_caveat: Option<&'a str>,
    sockets_missing: Option<&'a str>,
    taken_at: Option<&'a str>,
    unreadable: Vec<JsonUnreadable>,
    values: BTreeMap<&'static str, JsonHostValue<'a>>,
}

impl<'a> HostRead<'a> {
    fn new(s: &'a HostSnapshot) -> Self {
        let c = &s.counters;
        let sockets = s.sockets.as_ref();
        HostRead {
            addresses: addresses(s),
            counters: JsonCounters {
                delta: c.rates.as_ref().map(|r| &r.delta),
                interval_seconds: c.rates.as_ref().map(|r| r.interval_seconds),
                missing: (!c.missing.is_empty()).then(|| {
                    c.missing
                        .iter()
                        .map(|(file, reason)| JsonMissing { file, reason })
                        .collect()
                }),
                rate_per_second: c.rates.as_ref().map(|r| {
                    r.delta
                        .iter()
                        .map(|(k, d)| (k.as_str(), *d as f64 / r.interval_seconds))
                        .collect()
                }),
                since: crate::host::counters::since(s.identity.netns.initial),
                time_wait: c.time_wait,
                values: &c.tcpext,
            },
            drift: None,
            hostname: s.identity.hostname.as_deref(),
            kernel: JsonKernel {
                declared: None,
                path: s.release.as_ref().map(|r| r.1.as_str()),
                release: s.release.as_ref().map(|r| r.0.as_str()),
            },
            matched_by: None,
            netns: JsonNetns {
                how: &s.identity.netns.how,
                initial: s.identity.netns.initial,
                inode: s.identity.netns.inode,
            },
            node: None,
            read_from: JsonReadFrom::new(s),
            sockets: sockets
                .and_then(|c| c.summary.as_ref())
                .map(|summary| serde_json::to_value(summary).expect("a socket summary serialises")),
            sockets_caveat: sockets.and_then(|c| c.caveat.as_deref()),
            sockets_missing: sockets.and_then(|c| c.missing.as_deref()),
            taken_at: s.taken_at.as_deref(),
            unreadable: s
                .unreadable
                .iter()
                .map(|(k, why)| JsonUnreadable {
                    key: k,
                    kind: why.kind(),
                    reason: why.reason(),
                })
                .collect(),
            values: s
                .values
                .iter()
                .map(|(k, v)| {
                    (
                        *k,
                        JsonHostValue {
                            path: s.value_sources.get(k).map(String::as_str),
                            value: v,
                        },
                    )
                })
                .collect(),
        }
    }
}

/// The counters read: totals, and over `--interval` the increase and the rate per second.
#[derive(Serialize, JsonSchema)]
struct JsonCounters<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    delta: Option<&'a BTreeMap<String, u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    interval_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    missing: Option<Vec<JsonMissing<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_per_second: Option<BTreeMap<&'a str, f64>>,
    since: &'static str,
    time_wait: Option<u64>,
    values: &'a BTreeMap<String, u64>,
}

#[derive(Serialize, JsonSchema)]
struct JsonMissing<'a> {
    file: &'a str,
    reason: &'a str,
}

#[derive(Serialize, JsonSchema)]
struct JsonKernel<'a> {
    /// In a report of a matched host: the kernel the topology declares for the node.
    #[serde(skip_serializing_if = "Option::is_none")]
    declared: Option<Option<String>>,
    path: Option<&'a str>,
    release: Option<&'a str>,
}

#[derive(Serialize, JsonSchema)]
struct JsonMatchedBy {
    kind: &'static str,
    value: Option<String>,
}

#[derive(Serialize, JsonSchema)]
struct JsonNetns<'a> {
    how: &'a str,
    initial: Option<bool>,
    inode: Option<u64>,
}

#[derive(Serialize, JsonSchema)]
struct JsonUnreadable {
    key: &'static str,
    kind: &'static str,
    reason: String,
}

#[derive(Serialize, JsonSchema)]
struct JsonHostValue<'a> {
    path: Option<&'a str>,
    value: &'a str,
}

/// A key whose live value is not the declared one.
#[derive(Serialize, JsonSchema)]
struct JsonDrift<'a> {
    declared: Option<&'a str>,
    declared_source: &'static str,
    key: &'static str,
    live: &'a str,
    location: Option<JsonLocation>,
}

impl<'a> JsonDrift<'a> {
    fn new(d: &'a Drift) -> Self {
        JsonDrift {
            declared: d.declared.as_deref(),
            declared_source: d.declared_kind.as_str(),
            key: d.key,
            live: &d.live,
            location: d.declared_at.clone().map(JsonLocation::from),
        }
    }
}

/// One host's part of a streamed fleet report ([`Stream`]), written on the thread that judged
/// it: each list's elements as [`write`] writes them in the report's top-level list, joined.
pub struct Part {
    diagnostics: Vec<u8>,
    nodes: Vec<u8>,
    suppressed: Vec<u8>,
    verdicts: Vec<u8>,
    hosts: Vec<FleetHost>,
    totals: Totals,
}

impl Part {
    /// The part of the report `r` (one host, or the files judged together), its places resolved
    /// in `sources`, its findings weighed against `threshold`.
    pub fn new(sources: &SourceMap, r: &Report, threshold: Option<Verdict>) -> Part {
        fn joined_with<V>(
            items: impl Iterator<Item = V>,
            write: impl Fn(&mut Vec<u8>, &V),
        ) -> Vec<u8> {
            // Sized for the usual element (a verdict writes 500 to 700 bytes): grown from
            // empty, each host's lists were copied a dozen times on their way to a few KiB.
            let mut out = Vec::with_capacity(items.size_hint().0 * 512);
            for (i, item) in items.enumerate() {
                if i > 0 {
                    out.extend_from_slice(b",\n    ");
                }
                write(&mut out, &item);
            }
            out
        }
        fn joined<V: Serialize>(items: impl Iterator<Item = V>) -> Vec<u8> {
            joined_with(items, |out, item| element(out, 0, item))
        }
        Part {
            diagnostics: joined(
                r.diagnostics
                    .iter()
                    .map(|d| JsonDiagnostic::new(sources, d, None)),
            ),
            nodes: joined(r.nodes.iter().map(JsonNode::new)),
            suppressed: joined(
                r.suppressed
                    .iter()
                    .map(|(d, s)| JsonDiagnostic::new(sources, d, Some(s))),
            ),
            verdicts: joined_with(
                r.verdicts.iter().map(|v| JsonVerdict::new(sources, v)),
                |out, v| v.write_element(out),
            ),
            hosts: Fleet::hosts_of(r),
            totals: Totals::of(r, threshold),
        }
    }
}

/// A report over many hosts written host by host: [`Stream::start`] writes the report up to its
/// `diagnostics`, [`Stream::push`] each host's part in argument order, [`Stream::finish`] the
/// rest. Only the fleet summary's rows (a few dozen bytes per host) stay in memory; the nodes,
/// suppressed diagnostics and verdicts, which come after the summary, wait in [`Spill`]s.
/// Everything goes to `out` unescaped: write through [`escaped`].
pub struct Stream {
    config: Option<String>,
    diagnostics: usize,
    nodes: Spill,
    suppressed: Spill,
    verdicts: Spill,
    hosts: Vec<FleetHost>,
    totals: Totals,
}

/// Runs `render` with an output through which no control character passes raw, as [`write`]
/// writes (for a [`Stream`]).
pub fn escaped<T>(
    out: &mut dyn Write,
    render: impl FnOnce(&mut dyn Write) -> io::Result<T>,
) -> io::Result<T> {
    super::safe::escaped(out, super::safe::Form::Json, render)
}

impl Stream {
    /// Writes the report's beginning (through `"diagnostics": `); `config` is the
    /// `.twlint.yaml` the run used.
    pub fn start(out: &mut dyn Write, config: Option<String>) -> io::Result<Stream> {
        let stream = Stream {
            config,
            diagnostics: 0,
            nodes: Spill::default(),
            suppressed: Spill::default(),
            verdicts: Spill::default(),
            hosts: Vec::new(),
            totals: Totals::default(),
        };
        let head = stream.rest(&[]);
        let (at, len) = find_empty(&head, b"\n  \"diagnostics\": []");
        out.write_all(&head[..at + len - 2])?;
        Ok(stream)
    }

    /// Writes one host's diagnostics and keeps the rest of its part for [`Stream::finish`].
    pub fn push(&mut self, out: &mut dyn Write, part: Part) -> io::Result<()> {
        if !part.diagnostics.is_empty() {
            out.write_all(if self.diagnostics == 0 {
                b"[\n    "
            } else {
                b",\n    "
            })?;
            out.write_all(&part.diagnostics)?;
            self.diagnostics += 1;
        }
        self.nodes.push(&part.nodes)?;
        self.suppressed.push(&part.suppressed)?;
        self.verdicts.push(&part.verdicts)?;
        self.hosts.extend(part.hosts);
        self.totals.add(&part.totals);
        Ok(())
    }

    /// Writes the rest of the report: the fleet summary (with two hosts or more, `unread`
    /// counted), the nodes, the summary, the paths not read and the verdicts.
    pub fn finish(mut self, out: &mut dyn Write, unread: &[Unread]) -> io::Result<()> {
        out.write_all(if self.diagnostics == 0 {
            b"[]"
        } else {
            b"\n  ]"
        })?;
        self.totals.unread = unread.len();
        let rest = self.rest(unread);
        let (d_at, d_len) = find_empty(&rest, b"\n  \"diagnostics\": []");
        let (n_at, n_len) = find_empty(&rest, b"\n  \"nodes\": []");
        let (v_at, v_len) = find_empty(&rest, b"\n  \"verdicts\": []");
        // The fleet section, which follows the diagnostics, is written straight out: its rows
        // are moved, not copied, and never held as text (they are most of what the run kept).
        let hosts = std::mem::take(&mut self.hosts);
        if hosts.len() + unread.len() >= 2 {
            let fleet = Fleet::from_hosts(hosts, unread);
            out.write_all(b",\n  \"fleet\": ")?;
            write_nested(&mut *out, 1, &JsonFleet::new(&fleet))?;
        }
        let mut from = d_at + d_len;
        out.write_all(&rest[from..n_at + n_len - 2])?;
        self.nodes.write_array(out)?;
        from = n_at + n_len;
        if self.totals.suppressed_verdicts > 0 || self.totals.suppressed_diagnostics > 0 {
            let (s_at, s_len) = find_empty(&rest, b"\n  \"suppressed\": []");
            out.write_all(&rest[from..s_at + s_len - 2])?;
            self.suppressed.write_array(out)?;
            from = s_at + s_len;
        }
        out.write_all(&rest[from..v_at + v_len - 2])?;
        self.verdicts.write_array(out)?;
        out.write_all(&rest[v_at + v_len..])?;
        out.write_all(b"\n")
    }

    /// The report with every list empty (those of `Json::new`'s that a stream fills in) and
    /// no fleet section.
    fn rest(&self, unread: &[Unread]) -> Vec<u8> {
        let t = &self.totals;
        let any_suppressed = t.suppressed_verdicts > 0 || t.suppressed_diagnostics > 0;
        let json = Json {
            config: self.config.as_deref(),
            diagnostics: Vec::new(),
            fleet: None,
            hops: Vec::new(),
            host: None,
            mode: "files",
            nodes: Vec::new(),
            summary: JsonSummary {
                dangerous: t.dangerous,
                errors: t.errors,
                not_judged: t.not_judged,
                pointless: t.pointless,
                safe: t.safe,
                suppressed: any_suppressed.then_some(JsonSuppressedCount {
                    diagnostics: t.suppressed_diagnostics,
                    verdicts: t.suppressed_verdicts,
                }),
                unread: t.unread,
                warnings: t.warnings,
            },
            suppressed: any_suppressed.then(Vec::new),
            tool: crate::build_info::TOOL,
            topology: None,
            unread: unread
                .iter()
                .map(|u| JsonUnread {
                    error: &u.error,
                    path: &u.path,
                })
                .collect(),
            verdicts: JsonVerdicts::default(),
            version: 1,
        };
        let mut text = Vec::new();
        serde_json::to_writer_pretty(&mut text, &json).expect("the report serialises");
        text
    }

    /// Whether anything written so far fails the run, and the counts of the last lines.
    pub fn totals(&self) -> &Totals {
        &self.totals
    }
}

/// The elements of one top-level list of a streamed report, waiting for their place in a
/// [`Spool`](super::spool::Spool).
#[derive(Default)]
struct Spill {
    spool: super::spool::Spool,
}

impl Spill {
    /// Appends a host's elements (already joined; nothing for none).
    fn push(&mut self, elements: &[u8]) -> io::Result<()> {
        if elements.is_empty() {
            return Ok(());
        }
        if !self.spool.is_empty() {
            self.spool.append(b",\n    ")?;
        }
        self.spool.append(elements)
    }

    /// Writes the list as `to_writer_pretty` writes it at the report's top level.
    fn write_array(self, out: &mut dyn Write) -> io::Result<()> {
        if self.spool.is_empty() {
            return out.write_all(b"[]");
        }
        out.write_all(b"[\n    ")?;
        self.spool.write_to(out)?;
        out.write_all(b"\n  ]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`escape_json`] gives what `escape_whole` gives: every byte value, alone and in runs
    /// longer than its 64-byte chunks, at every place of a JSON text.
    #[test]
    fn escape_json_is_escape_whole() {
        let base = br#"{
    "help": "a\tb",
    "reason": "no rule objects to this value here"
  },
"#
        .repeat(3);
        let mut texts = vec![Vec::new(), base.clone()];
        for b in 0..=255u8 {
            for at in [0, 1, 63, 64, 65, base.len() / 2, base.len()] {
                let mut t = base.clone();
                t.insert(at, b);
                texts.push(t.clone());
                // A character of two or three bytes from this lead, and the lead alone at the end.
                t.insert(at + 1, 0x80);
                t.insert(at + 2, 0xAE);
                texts.push(t);
            }
        }
        for t in texts {
            assert_eq!(
                escape_json(t.clone()),
                super::super::safe::escape_whole(super::super::safe::Form::Json, t.clone()),
                "{t:?}"
            );
        }
    }

    /// A verdict written field by field is what serde writes for it, whatever its strings hold
    /// (quotes, backslashes, control characters, non-ASCII), with a place or without, with a
    /// side or without, and with the fields serde writes for it (a fix, a level).
    #[test]
    fn a_verdict_written_in_place_is_what_serde_writes() {
        let mut sources = SourceMap::new();
        let file = sources.add(
            "dir/\"quoted\"\\\tname.conf",
            "net.ipv4.x = 1\nnet.ipv4.y = 2\n",
        );
        let strings = [
            "plain",
            "",
            "a \"quote\" and a \\ backslash",
            "line\nbreak\ttab\r\u{1b}[2J\u{7f}",
            "é — ─ \u{9b} \u{202e}",
        ];
        for (i, text) in strings.iter().enumerate() {
            for (placed, sided, extra) in [
                (false, true, 0),
                (true, false, 0),
                (true, true, 1),
                (false, false, 2),
            ] {
                let v = VerdictEntry {
                    link: (i % 2 == 0).then(|| format!("a->{text}").into()),
                    node: (*text).into(),
                    side: sided.then_some("client"),
                    key: "net.ipv4.tcp_tw_reuse",
                    value: (i % 3 != 1).then(|| text.to_string()),
                    source: crate::config::SourceKindOut::Default,
                    span: placed.then(|| Span::new(file, 15, 16)),
                    verdict: Verdict::Dangerous,
                    rule: (i % 2 == 1).then(|| (*text).into()),
                    rule_name: (i % 2 == 1).then(|| format!("{text}-name").into()),
                    reason: format!("because {text}").into(),
                    help: (i % 3 == 0).then(|| (*text).into()),
                    suppressed: None,
                    level: (extra == 2).then_some(Severity::Warning),
                    fix: match extra {
                        1 => vec![("net.ipv4.x".to_string(), text.to_string())],
                        _ => Vec::new(),
                    },
                    unseen: false,
                };
                let j = JsonVerdict::new(&sources, &v);
                let mut fast = Vec::new();
                j.write_element(&mut fast);
                let mut serde = Vec::new();
                element(&mut serde, 0, &j);
                assert_eq!(
                    String::from_utf8(fast).unwrap(),
                    String::from_utf8(serde).unwrap(),
                    "{text:?} placed {placed} sided {sided} extra {extra}"
                );
            }
        }
    }

    /// A value written some levels in is what `to_writer_pretty` writes with every line moved
    /// in by those levels, deep nesting (past the formatter's ready blanks), empty lists and
    /// maps, and strings holding line breaks included.
    #[test]
    fn a_nested_value_is_pretty_json_moved_in() {
        let mut deep = serde_json::json!("end\nline");
        for i in 0..24 {
            deep = if i % 2 == 0 {
                serde_json::json!({ "k": deep, "e": [], "m": {}, "n": i })
            } else {
                serde_json::json!([deep, 1, "x"])
            };
        }
        for value in [
            deep,
            serde_json::json!(1),
            serde_json::json!([]),
            serde_json::json!({}),
        ] {
            let pretty = serde_json::to_string_pretty(&value).unwrap();
            for levels in [0, 1, 2, 5] {
                let mut out = Vec::new();
                write_nested(&mut out, levels, &value).unwrap();
                let moved = pretty.replace('\n', &format!("\n{}", "  ".repeat(levels)));
                assert_eq!(String::from_utf8(out).unwrap(), moved, "{levels} levels");
            }
        }
    }

    /// A list past the memory limit moves to the temporary file and comes back whole, in order,
    /// joined as one list.
    #[test]
    fn a_spilled_list_is_written_as_one_list_in_order() {
        let mut spill = Spill::default();
        let mut expected = b"[\n    ".to_vec();
        for i in 0..3000 {
            let element = format!("{{\"n\": {i}, \"pad\": \"{}\"}}", "x".repeat(2000));
            spill.push(element.as_bytes()).unwrap();
            spill.push(b"").unwrap();
            if i > 0 {
                expected.extend_from_slice(b",\n    ");
            }
            expected.extend_from_slice(element.as_bytes());
        }
        expected.extend_from_slice(b"\n  ]");
        assert!(!spill.spool.is_empty(), "the elements were kept");
        let mut out = Vec::new();
        spill.write_array(&mut out).unwrap();
        assert!(out == expected, "the list differs");
        let mut out = Vec::new();
        Spill::default().write_array(&mut out).unwrap();
        assert_eq!(out, b"[]");
    }
}
