//! The Ansible reader: `sysctl` tasks of task files, playbooks and roles, and the variables
//! files that list sysctls for them.
//!
//! A task uses the `ansible.posix.sysctl` module, or `sysctl` (its name before collections), or
//! `community.general.sysctl` (a redirect to it in older collections), in map form (`name:` or
//! `key:`, `value:` or `val:`, `state:`, `ignoreerrors:`, `sysctl_file:`), in `key=value`
//! free form, or through `action:`. Tasks are found at the top of a task file and under a
//! play's `tasks`, `pre_tasks`, `post_tasks` and `handlers`, and inside `block`, `rescue` and
//! `always`. `state: absent` removes the line from the file and leaves the kernel's value as
//! it is: it sets nothing. Every task's values are judged as one set whatever its
//! `sysctl_file`: the module writes each to that file and loads it with `sysctl -p`.
//!
//! Values are read as the module reads them (`_parse_value`: a YAML boolean or one of its
//! boolean words is `1` or `0`, other text is stripped). A templated name or value is resolved
//! where the link is plain: `{{ item.name }}`, `{{ item.value }}` and `{{ item.key }}` in a task
//! that loops (`loop`, `with_items`, `with_list`, `with_dict`, `loop_control.loop_var`) over a
//! list or mapping written inline or held by a variable of the task, its blocks or its play
//! (`vars:`), and `{{ var }}` naming such a variable. The finding then lands where the value is
//! written, in the list. What is left (a loop over a variable defined in another file, a
//! filter, a fact) is reported as not judged (TW076).
//!
//! A variables file (`defaults/main.yml`, `vars/*.yml`, `group_vars/*`) is a mapping of
//! variables; one whose value is a list of `{name, value}` items, or a mapping, whose names are
//! all sysctl keys, is what a role's sysctl task loops over, and its values are read where they
//! are written. So naming a role's defaults file with its tasks judges the values at their
//! lines in the defaults file, and the task's loop over the variable, whose values it cannot
//! see, says it is not judged there.
//!
//! A `shell` or `command` task (`ansible.builtin.` or `ansible.legacy.` or bare) that runs
//! `sysctl -w k=v` (or, through `shell`, writes /proc/sys) sets values too: its command, in
//! string form, as `cmd:` or as an `argv:` list, is read with the shell reader's parsing
//! (`super::cloudinit::command`, shared with cloud-init's `runcmd`), at the places of the key
//! and value inside the YAML string. A `{{ ... }}` there is rendered by Ansible before the
//! command runs: not judged (TW076).
//!
//! Detection is by content, since the seam hands readers the text only: a YAML list whose
//! tasks (or plays' tasks) use a sysctl module or run a sysctl command, or a variables file as
//! above.

use super::container::{assignment, scalar, Located};
use super::{cloudinit, conf, template, ParsedFile, Reader, SourceKind};
use crate::code::Code;
use crate::diag::Diagnostic;
use crate::source::{FileId, Span, Spanned};
use crate::yaml::{self, YamlNode};

#[allow(non_upper_case_globals)] // named like the other readers' kinds
impl SourceKind {
    /// A value set by an Ansible sysctl task (written to its sysctl file and loaded).
    pub const Ansible: SourceKind = SourceKind::written("ansible");
}

/// The registration of this reader.
pub(super) static READER: Reader = Reader {
    name: "ansible",
    kind: SourceKind::Ansible,
    recognises: is_ansible,
    read,
    host: None,
    units: None,
};

/// The names a task may call the sysctl module by.
const MODULES: [&str; 3] = ["ansible.posix.sysctl", "sysctl", "community.general.sysctl"];

/// The modules that run a command: through `/bin/sh` (`shell`) or without one (`command`).
const COMMAND_MODULES: [(&str, bool); 6] = [
    ("ansible.builtin.shell", true),
    ("ansible.legacy.shell", true),
    ("shell", true),
    ("ansible.builtin.command", false),
    ("ansible.legacy.command", false),
    ("command", false),
];

/// The keys under which a play holds tasks.
const TASK_LISTS: [&str; 4] = ["pre_tasks", "tasks", "post_tasks", "handlers"];

/// How deep blocks (and `{{ var }}` chains) are followed: real files nest a few levels.
const MAX_DEPTH: usize = 16;

/// The first directories of every sysctl key (`/proc/sys/*`).
const TOP_DIRS: [&str; 10] = [
    "abi", "crypto", "debug", "dev", "fs", "kernel", "net", "sunrpc", "user", "vm",
];

/// Whether `name` is written like a sysctl key (`net.ipv4.x` or `net/ipv4/x`).
fn is_sysctl_name(name: &str) -> bool {
    let Some(i) = name.find(['.', '/']) else {
        return false;
    };
    TOP_DIRS.contains(&&name[..i])
        && name.len() > i + 1
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/' | b'_' | b'-' | b'*'))
}

/// Whether a text is Ansible this reader reads: see the module documentation.
pub fn is_ansible(text: &str) -> bool {
    // A module line names `sysctl:` (every module of MODULES ends so), `action:`, or a command
    // module with `sysctl` or `/proc/sys` somewhere: looked for in the whole text first, which
    // is much faster on a large text that has none than trying each module on every line.
    let has = |s: &str| memchr::memmem::find(text.as_bytes(), s.as_bytes()).is_some();
    let may_name_module = has("sysctl:")
        || has("action:")
        || ((has("shell:") || has("command:")) && (has("sysctl") || has("/proc/sys")));
    let module_line = may_name_module
        && text.lines().any(|l| {
            let l = l.trim_start().trim_start_matches("- ").trim_start();
            // A command task's `sysctl` may be on a later line (`cmd:`, `argv:`).
            let command = COMMAND_MODULES
                .iter()
                .any(|(m, _)| l.strip_prefix(m).is_some_and(|r| r.starts_with(':')));
            (command && (text.contains("sysctl") || text.contains("/proc/sys")))
                || MODULES.iter().any(|m| {
                    l.strip_prefix(m).is_some_and(|r| r.starts_with(':'))
                        || l.strip_prefix("action:")
                            .is_some_and(|r| r.trim_start().starts_with(m))
                })
        });
    let vars_like = !module_line
        && text
            .lines()
            .find(|l| !l.trim().is_empty() && !l.starts_with('#') && l.trim() != "---")
            .is_some_and(|l| {
                l.split_once(':').is_some_and(|(k, _)| {
                    !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                })
            });
    if !module_line && !vars_like {
        return false;
    }
    let Ok(doc) = yaml::parse(FileId(0), text) else {
        return false;
    };
    match &doc.root {
        YamlNode::Sequence { items, .. } => {
            module_line && items.iter().any(|i| has_sysctl_task(i, text, 0))
        }
        YamlNode::Mapping { entries, .. } => entries.iter().any(|(_, v)| sysctl_data(v)),
        _ => false,
    }
}

/// Whether a play or task uses the sysctl module or runs a command that sets a sysctl, here or
/// in its blocks.
fn has_sysctl_task(node: &YamlNode, text: &str, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    let nested = |n: Option<&YamlNode>| match n {
        Some(YamlNode::Sequence { items, .. }) => {
            items.iter().any(|t| has_sysctl_task(t, text, depth + 1))
        }
        _ => false,
    };
    let sets_by_command = command_of(node).is_some_and(|(cmd, through_shell)| {
        let mut scratch = ParsedFile::empty(FileId(0), SourceKind::Ansible);
        cloudinit::command(FileId(0), text, cmd, through_shell, "", &mut scratch);
        !scratch.assignments.is_empty() || !scratch.diagnostics.is_empty()
    });
    module_args(node).is_some()
        || sets_by_command
        || ["block", "rescue", "always"]
            .into_iter()
            .chain(TASK_LISTS)
            .any(|k| nested(node.get(k)))
}

/// Whether a variable's value is sysctl data: a non-empty list of mappings whose `name` (or
/// `key`) is a sysctl key, or a non-empty mapping whose keys all are.
fn sysctl_data(v: &YamlNode) -> bool {
    match v {
        YamlNode::Sequence { items, .. } => {
            !items.is_empty()
                && items.iter().all(|i| {
                    field_of(i, &["name", "key"])
                        .and_then(scalar)
                        .is_some_and(|n| is_sysctl_name(&n.value))
                })
        }
        YamlNode::Mapping { entries, .. } => {
            !entries.is_empty() && entries.iter().all(|(k, _)| is_sysctl_name(&k.value))
        }
        _ => false,
    }
}

/// The first of `names` (a parameter and its aliases) a mapping has.
fn field_of<'a>(node: &'a YamlNode, names: &[&str]) -> Option<&'a YamlNode> {
    names.iter().find_map(|n| node.get(n))
}

/// What a task gives the module: its map form, or its free-form text.
enum Args<'a> {
    Map(&'a YamlNode),
    Free(&'a YamlNode),
}

/// The arguments of a task that calls the sysctl module, with the node that names the module.
fn module_args(task: &YamlNode) -> Option<(Args<'_>, Span)> {
    let YamlNode::Mapping { entries, .. } = task else {
        return None;
    };
    for (k, v) in entries {
        if MODULES.contains(&k.value.as_str()) {
            return Some(match v {
                YamlNode::Scalar { .. } => (Args::Free(v), k.span),
                _ => (Args::Map(v), k.span),
            });
        }
        if k.value == "action" || k.value == "local_action" {
            match v {
                YamlNode::Scalar { value, .. } => {
                    let first = value.value.split_whitespace().next().unwrap_or("");
                    if MODULES.contains(&first) {
                        return Some((Args::Free(v), k.span));
                    }
                }
                YamlNode::Mapping { .. }
                    if v.get("module")
                        .and_then(scalar)
                        .is_some_and(|m| MODULES.contains(&m.value.as_str())) =>
                {
                    return Some((Args::Map(v), k.span));
                }
                _ => {}
            }
        }
    }
    None
}

/// The command a `shell` or `command` task runs (its free form, `cmd:`, or `argv:` list, in
/// the module's map or in `args:`), and whether it runs through a shell.
fn command_of(task: &YamlNode) -> Option<(&YamlNode, bool)> {
    let YamlNode::Mapping { entries, .. } = task else {
        return None;
    };
    let (v, through_shell) = entries.iter().find_map(|(k, v)| {
        COMMAND_MODULES
            .iter()
            .find(|(m, _)| *m == k.value)
            .map(|(_, s)| (v, *s))
    })?;
    fn from_map(m: &YamlNode) -> Option<&YamlNode> {
        m.get("cmd").or_else(|| m.get("argv"))
    }
    let cmd = match v {
        YamlNode::Scalar { .. } => Some(v),
        YamlNode::Mapping { .. } => from_map(v),
        _ => None,
    }
    .or_else(|| task.get("args").and_then(from_map))?;
    Some((cmd, through_shell))
}

/// One parameter of a task as the module receives it: its text, and where it was written.
#[derive(Clone)]
struct Param {
    text: String,
    span: Span,
}

/// A parameter that is not one value (a list, a mapping): TW077 at it.
struct NotOne(Span, &'static str);

impl Param {
    fn of(node: &YamlNode, text: &str) -> Result<Option<Param>, NotOne> {
        match node {
            YamlNode::Scalar { value, .. } => {
                let span =
                    Located::new(node, text).map_or(value.span, |l| l.span(0..l.value.len()));
                Ok(Some(Param {
                    text: value.value.clone(),
                    span,
                }))
            }
            YamlNode::Null(_) => Ok(None),
            other => Err(NotOne(other.span(), other.describe())),
        }
    }

    fn key(k: &Spanned<String>) -> Param {
        Param {
            text: k.value.clone(),
            span: k.span,
        }
    }
}

/// The value as the module writes it (`_parse_value`): a boolean, or a text that is one of
/// Ansible's boolean words, is `1` or `0`; any other text is stripped.
fn module_value(p: &Param) -> String {
    match p.text.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" | "on" | "1" | "true" | "t" => "1".into(),
        "n" | "no" | "off" | "0" | "false" | "f" => "0".into(),
        _ => p.text.trim().to_string(),
    }
}

/// One item of a loop: a list item, or one entry of a mapping (`with_dict`, `dict2items`).
#[derive(Clone, Copy)]
enum Item<'a> {
    Node(&'a YamlNode),
    Pair(&'a Spanned<String>, &'a YamlNode),
}

/// What a task's templates can see: the variables of its play and blocks (innermost last),
/// and its loop item.
struct Scope<'a> {
    vars: Vec<&'a YamlNode>,
}

impl<'a> Scope<'a> {
    /// The variable `name` (a dotted path), innermost definition first.
    fn var(&self, path: &str) -> Option<&'a YamlNode> {
        let mut parts = path.split('.');
        let first = parts.next()?;
        let mut node = self.vars.iter().rev().find_map(|v| v.get(first))?;
        for p in parts {
            node = node.get(p)?;
        }
        Some(node)
    }
}

/// The expression of a text that is one `{{ ... }}` and nothing else.
fn expression(text: &str) -> Option<&str> {
    let t = text.trim();
    let inner = t.strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}")).then(|| inner.trim())
}

/// The path of an expression that is a plain variable reference (`a.b`, `a['b']`, `a["b"]`).
fn var_path(expr: &str) -> Option<String> {
    let path = expr
        .replace("['", ".")
        .replace("']", "")
        .replace("[\"", ".")
        .replace("\"]", "");
    path.split('.')
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then_some(path)
}

/// The reader's state over one file.
struct Walk<'a> {
    file: FileId,
    text: &'a str,
    out: ParsedFile,
}

/// Reads a task file, a playbook or a variables file.
fn read(file: FileId, text: &str) -> ParsedFile {
    let mut walk = Walk {
        file,
        text,
        out: ParsedFile::empty(file, SourceKind::Ansible),
    };
    let doc = match yaml::parse(file, text) {
        Ok(d) => d,
        Err(d) => {
            walk.out.diagnostics.push(d);
            return walk.out;
        }
    };
    walk.out.diagnostics.extend(doc.diagnostics);
    match &doc.root {
        YamlNode::Sequence { items, .. } => {
            for item in items {
                let is_play = item.get("hosts").is_some()
                    || item.get("import_playbook").is_some()
                    || TASK_LISTS.iter().any(|k| item.get(k).is_some());
                if is_play {
                    let scope = Scope {
                        vars: item.get("vars").into_iter().collect(),
                    };
                    for list in TASK_LISTS {
                        walk.tasks(item.get(list), &scope, 0);
                    }
                } else {
                    walk.task(item, &Scope { vars: Vec::new() }, 0);
                }
            }
        }
        YamlNode::Mapping { entries, .. } => {
            for (_, v) in entries {
                if sysctl_data(v) {
                    walk.data(v);
                }
            }
        }
        _ => {}
    }
    walk.out
        .assignments
        .sort_by_key(|a| (a.key.span.start, a.value.span.start));
    walk.out
        .diagnostics
        .sort_by_key(|d| d.primary.as_ref().map(|l| l.span.start));
    walk.out
}

impl<'a> Walk<'a> {
    fn tasks(&mut self, list: Option<&'a YamlNode>, scope: &Scope<'a>, depth: usize) {
        if let Some(YamlNode::Sequence { items, .. }) = list {
            for t in items {
                self.task(t, scope, depth);
            }
        }
    }

    fn task(&mut self, task: &'a YamlNode, outer: &Scope<'a>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let mut vars = outer.vars.clone();
        vars.extend(task.get("vars"));
        let scope = Scope { vars };
        if task.get("block").is_some() {
            for list in ["block", "rescue", "always"] {
                self.tasks(task.get(list), &scope, depth + 1);
            }
            return;
        }
        if let Some((cmd, through_shell)) = command_of(task) {
            let by = if through_shell {
                "the task's shell"
            } else {
                "the task's environment"
            };
            cloudinit::command(self.file, self.text, cmd, through_shell, by, &mut self.out);
            return;
        }
        let Some((args, module_span)) = module_args(task) else {
            return;
        };
        let params = match self.params(&args, task) {
            Ok(p) => p,
            Err(NotOne(span, what)) => {
                self.malformed(
                    span,
                    format!("a sysctl parameter is {what}, not a single value"),
                );
                return;
            }
        };
        let loop_var = task
            .get("loop_control")
            .and_then(|c| c.get("loop_var"))
            .and_then(scalar)
            .map_or("item", |s| s.value.as_str());
        let source = ["loop", "with_items", "with_list", "with_dict"]
            .into_iter()
            .find_map(|k| task.get(k).map(|v| (k, v)));
        let Some((how, over)) = source else {
            self.setting(&params, &scope, None, loop_var, module_span);
            return;
        };
        match self.items(how, over, &scope) {
            Some(items) => {
                for item in items {
                    self.setting(&params, &scope, Some(item), loop_var, module_span);
                }
            }
            None => {
                let span = Param::of(over, self.text)
                    .ok()
                    .flatten()
                    .map_or(over.span(), |p| p.span);
                let written = crate::diag::shorten(&self.text[span.start..span.end], 80);
                self.out.diagnostics.push(
                    Diagnostic::new(
                        Code::TW076,
                        crate::diag::Severity::Info,
                        format!("this loop's settings come from `{written}`, which is not defined in this file: not judged here"),
                    )
                    .at(span, "defined elsewhere")
                    .with_help("name the file that defines it too (the role's defaults/main.yml or vars/main.yml): its values are judged at their own lines")
                    .with_note("a variable from inventory, facts or another play is known only when the play runs"),
                );
            }
        }
    }

    /// The parameters `name`, `value`, `state` and `ignoreerrors` of a task.
    fn params(
        &self,
        args: &Args<'a>,
        task: &'a YamlNode,
    ) -> Result<Vec<(&'static str, Option<Param>)>, NotOne> {
        let mut got: Vec<(&'static str, Option<Param>)> = Vec::new();
        let wanted: [(&'static str, &[&str]); 4] = [
            ("name", &["name", "key"]),
            ("value", &["value", "val"]),
            ("state", &["state"]),
            ("ignoreerrors", &["ignoreerrors"]),
        ];
        // `args:` gives parameters too; the module's own (map or free form) win.
        let extra = task.get("args");
        for (param, names) in wanted {
            let from_map = |m: &'a YamlNode| field_of(m, names);
            let mut found = match args {
                Args::Map(m) => from_map(m)
                    .map(|n| Param::of(n, self.text))
                    .transpose()?
                    .flatten(),
                Args::Free(s) => free_form(s, self.text, names),
            };
            if found.is_none() {
                found = extra
                    .and_then(from_map)
                    .map(|n| Param::of(n, self.text))
                    .transpose()?
                    .flatten();
            }
            got.push((param, found));
        }
        Ok(got)
    }

    /// The items a loop runs over, or `None` when they are not in this file.
    fn items(&self, how: &str, over: &'a YamlNode, scope: &Scope<'a>) -> Option<Vec<Item<'a>>> {
        let mut dict = how == "with_dict";
        let node = match over {
            YamlNode::Scalar { value, .. } => {
                let expr = expression(&value.value)?;
                let mut parts = expr.split('|').map(str::trim);
                let path = var_path(parts.next()?)?;
                for filter in parts {
                    match filter {
                        "dict2items" => dict = true,
                        "list" => {}
                        _ => return None,
                    }
                }
                scope.var(&path)?
            }
            other => other,
        };
        match (node, dict) {
            (YamlNode::Mapping { entries, .. }, true) => {
                Some(entries.iter().map(|(k, v)| Item::Pair(k, v)).collect())
            }
            (YamlNode::Sequence { items, .. }, false) => {
                Some(items.iter().map(Item::Node).collect())
            }
            _ => None,
        }
    }

    /// The assignment one task (for one loop item) makes.
    fn setting(
        &mut self,
        params: &[(&'static str, Option<Param>)],
        scope: &Scope<'a>,
        item: Option<Item<'a>>,
        loop_var: &str,
        module_span: Span,
    ) {
        let get = |name: &str| {
            params
                .iter()
                .find(|(p, _)| *p == name)
                .and_then(|(_, v)| v.clone())
        };
        let resolve = |p: Option<Param>| -> Result<Option<Param>, NotOne> {
            match p {
                Some(p) => self.resolve(p, scope, item, loop_var, 0).map(Some),
                None => Ok(None),
            }
        };
        let (name, value, state) = match (
            resolve(get("name")),
            resolve(get("value")),
            resolve(get("state")),
        ) {
            (Ok(n), Ok(v), Ok(s)) => (n, v, s),
            (Err(NotOne(span, what)), ..)
            | (_, Err(NotOne(span, what)), _)
            | (.., Err(NotOne(span, what))) => {
                self.malformed(
                    span,
                    format!("a sysctl parameter is {what}, not a single value"),
                );
                return;
            }
        };
        if state.as_ref().is_some_and(|s| s.text.trim() == "absent") {
            // The module removes the line from its file; the running kernel keeps its value.
            return;
        }
        let Some(name) = name else {
            self.malformed(module_span, "a sysctl task without `name`".to_string());
            return;
        };
        if template::is_templated(&name.text) {
            self.out
                .diagnostics
                .push(template::not_judged(None, &name.text, name.span));
            return;
        }
        let key = conf::normalize_key(name.text.trim());
        let Some(value) = value else {
            self.out.diagnostics.push(
                Diagnostic::error(
                    Code::TW077,
                    format!("the sysctl task of `{key}` has no value"),
                )
                .with_key(&key)
                .at(name.span, "the module fails: `value cannot be None`")
                .with_help("add `value: VALUE`, or `state: absent` to remove the line"),
            );
            return;
        };
        if template::is_templated(&value.text) {
            self.out
                .diagnostics
                .push(template::not_judged(Some(&key), &value.text, value.span));
            return;
        }
        let ignore = get("ignoreerrors").is_some_and(|p| module_value(&p) == "1");
        let mut a = assignment(
            self.file,
            self.text,
            name.text.trim(),
            name.span,
            &module_value(&value),
            value.span,
        );
        a.ignore_failure = ignore;
        self.out.assignments.push(a);
    }

    /// A parameter with its plain templates resolved: a loop item's field, or a variable.
    fn resolve(
        &self,
        p: Param,
        scope: &Scope<'a>,
        item: Option<Item<'a>>,
        loop_var: &str,
        depth: usize,
    ) -> Result<Param, NotOne> {
        let Some(path) = expression(&p.text).and_then(var_path) else {
            return Ok(p);
        };
        if depth > MAX_DEPTH {
            return Ok(p);
        }
        let mut parts = path.splitn(2, '.');
        let head = parts.next().unwrap_or("");
        let rest = parts.next();
        let found = match (item, head == loop_var, rest) {
            (Some(Item::Node(n)), true, None) => Param::of(n, self.text)?,
            (Some(Item::Node(n)), true, Some(r)) => {
                let field = r.split('.').try_fold(n, |n, f| n.get(f));
                match field {
                    Some(f) => Param::of(f, self.text)?,
                    None => None,
                }
            }
            (Some(Item::Pair(k, _)), true, Some("key")) => Some(Param::key(k)),
            (Some(Item::Pair(_, v)), true, Some(r)) if r == "value" || r.starts_with("value.") => {
                let sub = r
                    .strip_prefix("value")
                    .unwrap_or("")
                    .trim_start_matches('.');
                let field = if sub.is_empty() {
                    Some(v)
                } else {
                    sub.split('.').try_fold(v, |n, f| n.get(f))
                };
                match field {
                    Some(f) => Param::of(f, self.text)?,
                    None => None,
                }
            }
            _ => match scope.var(&path) {
                Some(n) => Param::of(n, self.text)?,
                None => None,
            },
        };
        match found {
            Some(f) => self.resolve(f, scope, item, loop_var, depth + 1),
            None => Ok(p),
        }
    }

    /// The settings of a variables file: a list of `{name, value}` items or a mapping.
    fn data(&mut self, v: &'a YamlNode) {
        let scope = Scope { vars: Vec::new() };
        match v {
            YamlNode::Sequence { items, .. } => {
                for i in items {
                    let param =
                        |names: &[&str]| field_of(i, names).map(|n| Param::of(n, self.text));
                    let mut got = Vec::new();
                    for (p, names) in [
                        ("name", &["name", "key"][..]),
                        ("value", &["value", "val"]),
                        ("state", &["state"]),
                        ("ignoreerrors", &["ignoreerrors"]),
                    ] {
                        match param(names).transpose() {
                            Ok(found) => got.push((p, found.flatten())),
                            Err(NotOne(span, what)) => {
                                self.malformed(
                                    span,
                                    format!("a sysctl setting is {what}, not a single value"),
                                );
                                return;
                            }
                        }
                    }
                    self.setting(&got, &scope, None, "item", i.span());
                }
            }
            YamlNode::Mapping { entries, .. } => {
                for (k, val) in entries {
                    let value = match Param::of(val, self.text) {
                        Ok(v) => v,
                        Err(NotOne(span, what)) => {
                            self.malformed(
                                span,
                                format!("the value of `{}` is {what}, not a single value", k.value),
                            );
                            continue;
                        }
                    };
                    let got = vec![("name", Some(Param::key(k))), ("value", value)];
                    self.setting(&got, &scope, None, "item", k.span);
                }
            }
            _ => {}
        }
    }

    fn malformed(&mut self, span: Span, message: String) {
        self.out.diagnostics.push(
            Diagnostic::error(Code::TW077, message).at(span, "the sysctl module refuses this"),
        );
    }
}

/// A parameter of the free form (`name=net.core.somaxconn value="4096 8192"`), split as
/// Ansible splits it: words separated by blanks, quotes grouping (and removed), `{{ ... }}`
/// kept whole.
fn free_form(node: &YamlNode, text: &str, names: &[&str]) -> Option<Param> {
    let l = Located::new(node, text)?;
    let s = l.value;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        let mut eq = None;
        let mut quote = None;
        let (mut vs, mut ve) = (0, 0);
        while i < b.len() {
            if quote.is_none() && b[i].is_ascii_whitespace() {
                break;
            }
            if b[i] == b'=' && eq.is_none() && quote.is_none() {
                eq = Some(i);
                vs = i + 1;
            } else if s[i..].starts_with("{{") {
                i += s[i..].find("}}").map_or(b.len() - i, |e| e + 2);
                continue;
            } else if matches!(b[i], b'"' | b'\'') && eq.is_some() {
                match quote {
                    None if i == vs => {
                        quote = Some(b[i]);
                        vs = i + 1;
                    }
                    Some(q) if q == b[i] => {
                        ve = i;
                        i += 1;
                        break;
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        if ve < vs {
            ve = i;
        }
        if let Some(eq) = eq {
            if names.contains(&&s[start..eq]) {
                return Some(Param {
                    text: s[vs..ve].to_string(),
                    span: l.span(vs..ve),
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_files_playbooks_and_variables_files_are_recognised() {
        assert!(is_ansible(
            "- name: t\n  ansible.posix.sysctl:\n    name: vm.swappiness\n    value: 1\n"
        ));
        assert!(is_ansible(
            "- hosts: all\n  tasks:\n    - block:\n        - sysctl: name=vm.swappiness value=1\n"
        ));
        assert!(is_ansible(
            "sysctl_settings:\n  - {name: vm.swappiness, value: 1}\n"
        ));
        assert!(is_ansible("tuning:\n  net.core.somaxconn: 4096\n"));
        assert!(!is_ansible("users:\n  - {name: bob, value: 1}\n"));
        assert!(!is_ansible("vm.swappiness = 1\n"));
        assert!(!is_ansible("- name: t\n  command: sysctl -p\n"));
    }

    #[test]
    fn the_free_form_is_split_as_ansible_splits_it() {
        let text = "x: name=net.ipv4.tcp_rmem value=\"4096 87380 6291456\" state=present\n";
        let doc = yaml::parse(FileId(0), text).unwrap();
        let node = doc.root.get("x").unwrap();
        let v = free_form(node, text, &["value", "val"]).unwrap();
        assert_eq!(v.text, "4096 87380 6291456");
        assert_eq!(&text[v.span.start..v.span.end], "4096 87380 6291456");
        let n = free_form(node, text, &["name"]).unwrap();
        assert_eq!(n.text, "net.ipv4.tcp_rmem");
        let t = "x: name={{ item.key }} value={{ item.value }}\n";
        let doc = yaml::parse(FileId(0), t).unwrap();
        let v = free_form(doc.root.get("x").unwrap(), t, &["value"]).unwrap();
        assert_eq!(v.text, "{{ item.value }}");
    }

    #[test]
    fn module_values_follow_parse_value() {
        let p = |t: &str| Param {
            text: t.into(),
            span: Span::new(FileId(0), 0, 0),
        };
        assert_eq!(module_value(&p("yes")), "1");
        assert_eq!(module_value(&p("False")), "0");
        assert_eq!(module_value(&p(" 4096 ")), "4096");
        assert_eq!(module_value(&p("on")), "1");
    }
}
