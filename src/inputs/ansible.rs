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
//! see, says it is not judged there. With the task file, the variables files Ansible links to
//! it (a role's defaults and vars, group_vars and host_vars, a play's `vars_files:`, found by
//! [`linked_places`] and read by the caller) resolve its `{{ var }}` by Ansible's precedence
//! ([`VarsPlace`]).
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
use super::{cloudinit, conf, container, template, ParsedFile, Reader, SourceKind};
use crate::code::Code;
use crate::diag::Diagnostic;
use crate::source::{FileId, Span, Spanned};
use crate::yaml::{self, YamlNode};
use std::cell::RefCell;
use std::path::{Path, PathBuf};

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

/// The task keywords that only say how or whether the task runs: a task with nothing else
/// besides its sysctl module sets one key, and removing it removes nothing else.
const TASK_KEYWORDS_DROPPED_WITH_IT: [&str; 12] = [
    "name",
    "become",
    "become_user",
    "become_method",
    "tags",
    "when",
    "ignore_errors",
    "changed_when",
    "failed_when",
    "check_mode",
    "diff",
    "no_log",
];

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

/// One parameter of a task as the module receives it: its text, where it was written, and the
/// text of the file it was written in (the task file, or a variables file it links to).
#[derive(Clone)]
struct Param<'a> {
    text: String,
    span: Span,
    src: &'a str,
}

/// A parameter that is not one value (a list, a mapping): TW077 at it.
struct NotOne(Span, &'static str);

impl<'a> Param<'a> {
    fn of(node: &YamlNode, text: &'a str) -> Result<Option<Param<'a>>, NotOne> {
        match node {
            YamlNode::Scalar { value, .. } => {
                let span =
                    Located::new(node, text).map_or(value.span, |l| l.span(0..l.value.len()));
                Ok(Some(Param {
                    text: value.value.clone(),
                    span,
                    src: text,
                }))
            }
            YamlNode::Null(_) => Ok(None),
            other => Err(NotOne(other.span(), other.describe())),
        }
    }

    fn key(k: &Spanned<String>, src: &'a str) -> Param<'a> {
        Param {
            text: k.value.clone(),
            span: k.span,
            src,
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

/// One item of a loop: a list item, or one entry of a mapping (`with_dict`, `dict2items`),
/// with the text of the file it is written in.
#[derive(Clone, Copy)]
enum Item<'a> {
    Node(&'a YamlNode, &'a str),
    Pair(&'a Spanned<String>, &'a YamlNode, &'a str),
}

/// Where a variables file stands in Ansible's precedence, lowest first (Ansible's
/// "Understanding variable precedence"): a role's `defaults/main.yml`, then `group_vars/all`,
/// then the files of other groups and of hosts, then (in the task file itself) play vars, then
/// a play's `vars_files:`, then the role's `vars/main.yml`, then (in the task file again) block
/// and task vars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum VarsPlace {
    RoleDefaults,
    AllHosts,
    /// `group_vars/GROUP`, `host_vars/HOST`: which of them a host reads depends on the host.
    SomeHosts,
    /// A file of the play's `vars_files:` list, which beats the play's `vars:` (see
    /// `Scope::var`): the play is its index in the playbook.
    PlayFile(usize),
    RoleVars,
}

/// A variables file Ansible reads for a task file, registered by the caller.
pub struct LinkedVars<'t> {
    pub read: LinkedText<'t>,
    pub place: VarsPlace,
}

/// A linked variables file's text, or why twlint did not read it (a play's `vars_files:` entry
/// only: each one counts, in its order; the other files not read are `read_linked`'s `unread`).
pub enum LinkedText<'t> {
    Read(FileId, &'t str),
    /// Said in the TW076 of the values that may depend on the file.
    Unread(&'t str),
}

/// Where Ansible takes the variables of the task file at `path` (with text `text`) from,
/// besides the file itself: for a role's task file (`ROLE/tasks/*.yml`) the role's
/// `defaults/main.yml` and `vars/main.yml`; for it and for a playbook, the `group_vars/` and
/// `host_vars/` folders beside the playbook (a role under `roles/` is used by a playbook in the
/// folder above); for a playbook, each play's `vars_files:` (see [`play_vars_files`]). Each with
/// the folder it must stay inside: the role's, or the playbook's.
pub fn linked_places(path: &Path, text: &str) -> Linked {
    let mut out = Linked::default();
    let Some(dir) = path.parent() else {
        return out;
    };
    let mut playbook_dir = None;
    if dir.file_name().is_some_and(|n| n == "tasks") {
        if let Some(role) = dir.parent() {
            for (sub, place) in [
                ("defaults", VarsPlace::RoleDefaults),
                ("vars", VarsPlace::RoleVars),
            ] {
                for name in ["main.yml", "main.yaml", "main"] {
                    out.files
                        .push((role.to_path_buf(), role.join(sub).join(name), place));
                }
            }
            playbook_dir = role
                .parent()
                .filter(|p| p.file_name().is_some_and(|n| n == "roles"))
                .and_then(Path::parent);
        }
    } else if is_playbook(text) {
        playbook_dir = Some(dir);
        let pb = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        // Listed in order: a later file of the list beats an earlier one.
        for (play, entry) in play_vars_files(text) {
            out.play_files
                .push((pb.to_path_buf(), entry.map(|rel| pb.join(rel)), play));
        }
    }
    if let Some(pb) = playbook_dir {
        let pb = if pb.as_os_str().is_empty() {
            Path::new(".")
        } else {
            pb
        };
        for (sub, hosts) in [("group_vars", false), ("host_vars", true)] {
            out.folders.push((pb.to_path_buf(), pb.join(sub), hosts));
        }
    }
    out
}

/// What [`linked_places`] finds: (the folder to stay inside, the file, its place) for single
/// files, (the folder to stay inside, the folder, whether it is `host_vars`) for folders of
/// variables files.
#[derive(Debug, Default)]
pub struct Linked {
    pub files: Vec<(PathBuf, PathBuf, VarsPlace)>,
    /// A playbook's `vars_files:` entries, in order: (the folder to stay inside, the file or
    /// why it is not known, the play's index).
    pub play_files: Vec<(PathBuf, Result<PathBuf, String>, usize)>,
    pub folders: Vec<(PathBuf, PathBuf, bool)>,
}

/// The place of a file (or folder) named `name` in `group_vars/` (`host_vars/` when `hosts`):
/// `all` is every host's; the rest some hosts'. Ansible reads files named after the group with
/// no extension or `.yml`, `.yaml`, `.json`, and folders of such files; `None` for other names.
pub fn folder_entry_place(hosts: bool, name: &str, is_dir: bool) -> Option<VarsPlace> {
    if name.starts_with('.') {
        return None;
    }
    let stem = match name.rsplit_once('.') {
        Some((stem, "yml" | "yaml" | "json")) => stem,
        Some(_) if !is_dir => return None,
        _ => name,
    };
    Some(if !hosts && stem == "all" {
        VarsPlace::AllHosts
    } else {
        VarsPlace::SomeHosts
    })
}

/// The entries of each play's `vars_files:` in a playbook: (the play's index, the path as
/// written), in the order of the list. An entry with a template is not read (its path is known
/// only when the play runs), nor is a nested list (Ansible reads the first of its files that
/// exists on the host, which twlint cannot know): why, instead of the path.
pub fn play_vars_files(text: &str) -> Vec<(usize, Result<String, String>)> {
    let Ok(doc) = yaml::parse(FileId(0), text) else {
        return Vec::new();
    };
    let YamlNode::Sequence { items, .. } = &doc.root else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (play, item) in items.iter().enumerate() {
        if let Some(YamlNode::Sequence { items: files, .. }) = item.get("vars_files") {
            for f in files {
                let entry = match scalar(f) {
                    Some(s) if template::is_templated(&s.value) => Err(format!(
                        "the play's vars_files entry `{}` is templated, so twlint does not know which file it names",
                        crate::diag::shorten(s.value.trim(), 60)
                    )),
                    Some(s) if !s.value.trim().is_empty() => Ok(s.value.trim().to_string()),
                    Some(_) => continue,
                    None => Err("the play's vars_files names a list, of which Ansible reads the first file found on the host".to_string()),
                };
                out.push((play, entry));
            }
        }
    }
    out
}

/// Whether a text is a playbook: a list with a play (`hosts:`).
fn is_playbook(text: &str) -> bool {
    text.lines().any(|l| {
        l.trim_start()
            .trim_start_matches("- ")
            .trim_start()
            .starts_with("hosts:")
    })
}

/// A linked variables file, parsed: its root mapping (`None` when it is not one, an encrypted
/// vault file for instance: it may define anything).
struct OuterFile<'a> {
    place: VarsPlace,
    text: &'a str,
    root: Option<YamlNode>,
    /// Why twlint did not read it, when it did not (`root` is `None` then).
    why: Option<&'a str>,
}

/// What a variable name stands for.
enum Lookup<'a> {
    /// One value wins wherever the task runs: the node, and its file's text.
    Found(&'a YamlNode, &'a str),
    /// Several definitions, the winner depending on the host (or a file twlint cannot read
    /// that may define it): the places of those found, and why a file was not read when
    /// that is the reason.
    Several(Vec<Span>, Option<&'a str>),
    /// Defined nowhere twlint reads.
    Missing,
}

/// What a task's templates can see: the variables of its play and blocks (innermost last),
/// then those of the linked variables files.
struct Scope<'a> {
    vars: Vec<&'a YamlNode>,
    /// The play's index and how many of `vars` (the first ones) are its `vars:`: its
    /// `vars_files:` come between those and the block and task vars.
    play: Option<(usize, usize)>,
    text: &'a str,
    outer: &'a [OuterFile<'a>],
}

impl<'a> Scope<'a> {
    /// The variable `name` (a dotted path), by Ansible's precedence: its innermost block or
    /// task definition in the file, else the last of the play's `vars_files:` that defines it,
    /// else the play's `vars:`, else the one that wins in the other linked files.
    fn var(&self, path: &str) -> Lookup<'a> {
        let mut parts = path.split('.');
        let Some(first) = parts.next() else {
            return Lookup::Missing;
        };
        let (play, play_vars) = self.play.unwrap_or((0, 0));
        let (of_play, inner) = self.vars.split_at(play_vars.min(self.vars.len()));
        let in_file = |vars: &[&'a YamlNode]| vars.iter().rev().find_map(|v| v.get(first));
        let found = match in_file(inner) {
            Some(n) => Lookup::Found(n, self.text),
            None => match self
                .play
                .map_or(Lookup::Missing, |_| self.play_file_var(play, first))
            {
                Lookup::Missing => match in_file(of_play) {
                    Some(n) => Lookup::Found(n, self.text),
                    None => self.outer_var(first),
                },
                other => other,
            },
        };
        let (mut node, text) = match found {
            Lookup::Found(n, t) => (n, t),
            other => return other,
        };
        for p in parts {
            match node.get(p) {
                Some(n) => node = n,
                None => return Lookup::Missing,
            }
        }
        Lookup::Found(node, text)
    }

    /// The variable `name` in the `vars_files:` of the play `play`: the last file of the list
    /// that defines it wins; a file not read after it in the list may define it too.
    fn play_file_var(&self, play: usize, name: &str) -> Lookup<'a> {
        for f in self.outer.iter().rev() {
            if f.place != VarsPlace::PlayFile(play) {
                continue;
            }
            match &f.root {
                Some(root @ YamlNode::Mapping { .. }) => {
                    if let Some(v) = root.get(name) {
                        return Lookup::Found(v, f.text);
                    }
                }
                Some(_) => {}
                None => return Lookup::Several(Vec::new(), f.why),
            }
        }
        Lookup::Missing
    }

    fn outer_var(&self, name: &str) -> Lookup<'a> {
        let mut defs: Vec<(VarsPlace, &'a YamlNode, &'a str, Span)> = Vec::new();
        let mut opaque = false;
        for f in self.outer {
            if matches!(f.place, VarsPlace::PlayFile(_)) {
                // Read by `play_file_var`, for its own play only.
                continue;
            }
            match &f.root {
                Some(root @ YamlNode::Mapping { entries, .. }) => {
                    if let Some(v) = root.get(name) {
                        let at = entries
                            .iter()
                            .find(|(k, _)| k.value == name)
                            .map_or(v.span(), |(k, _)| k.span);
                        defs.push((f.place, v, f.text, at));
                    }
                }
                Some(_) => {}
                None => opaque = true,
            }
        }
        let Some(top) = defs.iter().map(|d| d.0).max() else {
            return if opaque {
                Lookup::Several(Vec::new(), None)
            } else {
                Lookup::Missing
            };
        };
        // The highest place wins over the lower ones wherever the task runs, unless it is
        // some hosts' only: then a host outside them takes a lower definition.
        let winners: Vec<_> = defs
            .iter()
            .filter(|d| d.0 == top && (top != VarsPlace::SomeHosts || defs.len() == 1))
            .collect();
        match winners.as_slice() {
            [(_, node, text, _)] if !opaque => Lookup::Found(node, text),
            _ => Lookup::Several(defs.iter().map(|d| d.3).collect(), None),
        }
    }
}

/// The expression of a text that is one `{{ ... }}` and nothing else.
fn expression(text: &str) -> Option<&str> {
    let t = text.trim();
    let inner = t.strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}")).then(|| inner.trim())
}

/// An expression's head and the literal of a `| default('x')` (or `| d("x")`) filter after
/// it, when it has one and nothing else.
fn with_default(expr: &str) -> (&str, Option<&str>) {
    let Some((head, filter)) = expr.split_once('|') else {
        return (expr, None);
    };
    let f = filter.trim();
    let arg = f
        .strip_prefix("default(")
        .or_else(|| f.strip_prefix("d("))
        .and_then(|r| r.strip_suffix(')'))
        .map(str::trim);
    let literal = arg.and_then(|a| {
        let q = a.chars().next()?;
        (matches!(q, '\'' | '"') && a.len() >= 2 && a.ends_with(q))
            .then(|| &a[1..a.len() - 1])
            .filter(|l| !l.contains(['\'', '"', '{', '}']))
    });
    match literal {
        Some(l) => (head.trim(), Some(l)),
        None => (expr, None),
    }
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
    outer: &'a [OuterFile<'a>],
    out: ParsedFile,
    /// The templates whose variable has several definitions (see [`Lookup::Several`]): where
    /// the template is written, and the places of the definitions.
    several: RefCell<Vec<(Span, Several<'a>)>>,
    /// The list item of the task about to be walked, when it has siblings (a list left empty
    /// would no longer be a task list): see [`Assignment::entry`].
    item: Option<Span>,
    /// The task list that item is in, and its length (see [`super::Assignment::collection`]).
    list: Option<(Span, usize)>,
}

/// Reads a task file, a playbook or a variables file.
fn read(file: FileId, text: &str) -> ParsedFile {
    read_linked(file, text, &[], false)
}

/// Reads a task file or a playbook with the variables files Ansible reads for it (see
/// [`linked_places`]): a `{{ var }}` that is a literal there is read where it is written.
/// `unread`: a file among them exists but could not be read, so none is relied on.
pub fn read_linked(
    file: FileId,
    text: &str,
    linked: &[LinkedVars<'_>],
    unread: bool,
) -> ParsedFile {
    let unread_file = unread.then_some(OuterFile {
        place: VarsPlace::RoleDefaults,
        text: "",
        root: None,
        why: None,
    });
    let outer: Vec<OuterFile<'_>> = linked
        .iter()
        .map(|l| match l.read {
            LinkedText::Read(file, text) => OuterFile {
                place: l.place,
                text,
                root: match yaml::parse(file, text) {
                    Ok(d) => match d.root {
                        m @ YamlNode::Mapping { .. } => Some(m),
                        // An empty file defines nothing.
                        YamlNode::Null(s) => Some(YamlNode::Mapping {
                            entries: Vec::new(),
                            span: s,
                        }),
                        _ => None,
                    },
                    Err(_) => None,
                },
                why: None,
            },
            LinkedText::Unread(why) => OuterFile {
                place: l.place,
                text: "",
                root: None,
                why: Some(why),
            },
        })
        .chain(unread_file)
        .collect();
    let mut walk = Walk {
        file,
        text,
        outer: &outer,
        out: ParsedFile::empty(file, SourceKind::Ansible),
        several: RefCell::new(Vec::new()),
        item: None,
        list: None,
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
            for (index, item) in items.iter().enumerate() {
                let is_play = item.get("hosts").is_some()
                    || item.get("import_playbook").is_some()
                    || TASK_LISTS.iter().any(|k| item.get(k).is_some());
                if is_play {
                    let vars: Vec<_> = item.get("vars").into_iter().collect();
                    let scope = Scope {
                        play: Some((index, vars.len())),
                        ..walk.scope(vars)
                    };
                    for list in TASK_LISTS {
                        walk.tasks(item.get(list), &scope, 0);
                    }
                } else {
                    walk.item = (items.len() > 1)
                        .then(|| container::yaml_item(text, item.span()))
                        .flatten();
                    walk.list = Some((doc.root.span(), items.len()));
                    let scope = walk.scope(Vec::new());
                    walk.task(item, &scope, 0);
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
        .sort_by_key(|a| a.via().map_or(a.key_span().start, |v| v.start));
    walk.out
        .diagnostics
        .sort_by_key(|d| d.primary.as_ref().map(|l| l.span.start));
    walk.out
}

impl<'a> Walk<'a> {
    /// A scope of these in-file variables (outermost first) over the linked files.
    fn scope(&self, vars: Vec<&'a YamlNode>) -> Scope<'a> {
        Scope {
            vars,
            play: None,
            text: self.text,
            outer: self.outer,
        }
    }

    fn tasks(&mut self, list: Option<&'a YamlNode>, scope: &Scope<'a>, depth: usize) {
        if let Some(YamlNode::Sequence { items, span }) = list {
            for t in items {
                self.item = (items.len() > 1)
                    .then(|| container::yaml_item(self.text, t.span()))
                    .flatten();
                self.list = Some((*span, items.len()));
                self.task(t, scope, depth);
            }
        }
    }

    fn task(&mut self, task: &'a YamlNode, outer: &Scope<'a>, depth: usize) {
        let item = self.item.take();
        let list = self.list.take();
        if depth > MAX_DEPTH {
            return;
        }
        let mut vars = outer.vars.clone();
        vars.extend(task.get("vars"));
        let scope = Scope {
            play: outer.play,
            ..self.scope(vars)
        };
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
            // The task goes with its key only when it does nothing else: no other module's
            // work, no variable registered or handler notified that later tasks count on.
            let alone = matches!(task, YamlNode::Mapping { entries, .. }
            if entries.iter().all(|(k, _)| {
                k.span == module_span || TASK_KEYWORDS_DROPPED_WITH_IT.contains(&k.value.as_str())
            }));
            let entry = item.filter(|_| alone).zip(list);
            self.setting(&params, &scope, None, loop_var, module_span, entry);
            return;
        };
        match self.items(how, over, &scope) {
            Some(items) => {
                for item in items {
                    self.setting(&params, &scope, Some(item), loop_var, module_span, None);
                }
            }
            None => {
                let span = Param::of(over, self.text)
                    .ok()
                    .flatten()
                    .map_or(over.span(), |p| p.span);
                let written = crate::diag::shorten(&self.text[span.range()], 80);
                let d = Diagnostic::new(
                    Code::TW076,
                    crate::diag::Severity::Info,
                    format!("this loop's settings come from `{written}`, which is not defined in this file: not judged here"),
                )
                .at(span, "defined elsewhere");
                let d = match self.several_at(span) {
                    Some(places) => several_definitions(d, &places),
                    None => d
                        .with_help("keep the task in a role (`ROLE/tasks/`) whose defaults/main.yml or vars/main.yml defines it, or define it in the play's `vars:` or `vars_files:`, group_vars/all or one group_vars or host_vars file beside the playbook: a plain list there is read at its own lines")
                        .with_note("a variable from inventory, facts or another play is known only when the play runs"),
                };
                self.out.diagnostics.push(d);
            }
        }
    }

    /// The parameters `name`, `value`, `state` and `ignoreerrors` of a task.
    fn params(
        &self,
        args: &Args<'a>,
        task: &'a YamlNode,
    ) -> Result<Vec<(&'static str, Option<Param<'a>>)>, NotOne> {
        let mut got: Vec<(&'static str, Option<Param<'a>>)> = Vec::new();
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

    /// The items a loop runs over, or `None` when they are not in this file or a linked one.
    fn items(&self, how: &str, over: &'a YamlNode, scope: &Scope<'a>) -> Option<Vec<Item<'a>>> {
        let mut dict = how == "with_dict";
        let (node, text) = match over {
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
                match scope.var(&path) {
                    Lookup::Found(n, t) => (n, t),
                    Lookup::Several(places, why) => {
                        let at = Param::of(over, self.text)
                            .ok()
                            .flatten()
                            .map_or(over.span(), |p| p.span);
                        self.several.borrow_mut().push((at, (places, why)));
                        return None;
                    }
                    Lookup::Missing => return None,
                }
            }
            other => (other, self.text),
        };
        match (node, dict) {
            (YamlNode::Mapping { entries, .. }, true) => Some(
                entries
                    .iter()
                    .map(|(k, v)| Item::Pair(k, v, text))
                    .collect(),
            ),
            (YamlNode::Sequence { items, .. }, false) => {
                Some(items.iter().map(|i| Item::Node(i, text)).collect())
            }
            _ => None,
        }
    }

    /// The places of the several definitions of the variable the template at `span` names, if
    /// that is why it was not resolved.
    fn several_at(&self, span: Span) -> Option<Several<'a>> {
        self.several
            .borrow()
            .iter()
            .find(|(at, _)| *at == span)
            .map(|(_, p)| p.clone())
    }

    /// TW076 for a templated key (`key` `None`) or value, saying why when its variable has
    /// several definitions.
    fn not_judged(&self, key: Option<&str>, p: &Param<'a>) -> Diagnostic {
        let mut d = template::not_judged(key, &p.text, p.span);
        if let Some(places) = self.several_at(p.span) {
            return several_definitions(d, &places);
        }
        let plain = expression(&p.text).and_then(var_path).is_some();
        d.help = Some(if plain {
            "define the variable as a literal in the role's defaults/main.yml or vars/main.yml, \
             the play's `vars:` or a plain `vars_files:` entry inside the playbook's folder, or \
             group_vars/ or host_vars/ beside the playbook: twlint reads it there; or lint the \
             rendered file (`ansible --check --diff`)"
        } else {
            "twlint does not evaluate filters or expressions; lint the rendered file \
             (`ansible --check --diff`, the generated sysctl.d file)"
        }
        .to_string());
        d
    }

    /// The assignment one task (for one loop item) makes.
    fn setting(
        &mut self,
        params: &[(&'static str, Option<Param<'a>>)],
        scope: &Scope<'a>,
        item: Option<Item<'a>>,
        loop_var: &str,
        module_span: Span,
        entry: Option<(Span, (Span, usize))>,
    ) {
        let get = |name: &str| {
            params
                .iter()
                .find(|(p, _)| *p == name)
                .and_then(|(_, v)| v.clone())
        };
        let resolve = |p: Option<Param<'a>>| -> Result<Option<Param<'a>>, NotOne> {
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
            let d = self.not_judged(None, &name);
            self.out.diagnostics.push(d);
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
            let d = self.not_judged(Some(&key), &value);
            self.out.diagnostics.push(d);
            return;
        }
        let ignore = get("ignoreerrors").is_some_and(|p| module_value(&p) == "1");
        let mut a = assignment(
            name.span.file,
            name.src,
            name.text.trim(),
            name.span,
            &module_value(&value),
            value.span,
        );
        a.ignore_failure = ignore;
        // A value (or key) written in a linked variables file is applied by this task: the
        // template the task writes is the related place.
        if value.span.file != self.file || name.span.file != self.file {
            a.set_via(get("value").map(|p| p.span));
        }
        a.entry = entry.map(|(e, _)| e);
        a.set_collection(entry.map(|(_, c)| c));
        self.out.assignments.push(a);
    }

    /// A parameter with its plain templates resolved: a loop item's field (or the literal of
    /// its `| default('x')` when the item has no such field), or a variable.
    fn resolve(
        &self,
        p: Param<'a>,
        scope: &Scope<'a>,
        item: Option<Item<'a>>,
        loop_var: &str,
        depth: usize,
    ) -> Result<Param<'a>, NotOne> {
        let Some((head, fallback)) = expression(&p.text).map(with_default) else {
            return Ok(p);
        };
        let Some(path) = var_path(head) else {
            return Ok(p);
        };
        if depth > MAX_DEPTH {
            return Ok(p);
        }
        let mut parts = path.splitn(2, '.');
        let head = parts.next().unwrap_or("");
        let rest = parts.next();
        // A field of a loop item written out in full: a missing one is missing for sure.
        let field =
            |n: &'a YamlNode, r: &str, text: &'a str| -> Result<Option<Param<'a>>, NotOne> {
                let found = if r.is_empty() {
                    Some(n)
                } else {
                    r.split('.').try_fold(n, |n, f| n.get(f))
                };
                match (found, fallback) {
                    (Some(f), _) => Param::of(f, text),
                    (None, Some(lit)) => Ok(Some(Param {
                        text: lit.to_string(),
                        span: p.span,
                        src: p.src,
                    })),
                    (None, None) => Ok(None),
                }
            };
        let found = match (item, head == loop_var, rest) {
            (Some(Item::Node(n, t)), true, None) => Param::of(n, t)?,
            (Some(Item::Node(n, t)), true, Some(r)) => field(n, r, t)?,
            (Some(Item::Pair(k, _, t)), true, Some("key")) => Some(Param::key(k, t)),
            (Some(Item::Pair(_, v, t)), true, Some(r))
                if r == "value" || r.starts_with("value.") =>
            {
                let sub = r
                    .strip_prefix("value")
                    .unwrap_or("")
                    .trim_start_matches('.');
                field(v, sub, t)?
            }
            // A variable with a default filter may be defined where twlint does not look.
            _ if fallback.is_some() => None,
            _ => match scope.var(&path) {
                Lookup::Found(n, t) => Param::of(n, t)?,
                Lookup::Several(places, why) => {
                    self.several.borrow_mut().push((p.span, (places, why)));
                    None
                }
                Lookup::Missing => None,
            },
        };
        match found {
            Some(f) => self.resolve(f, scope, item, loop_var, depth + 1),
            None => Ok(p),
        }
    }

    /// The settings of a variables file: a list of `{name, value}` items or a mapping.
    fn data(&mut self, v: &'a YamlNode) {
        let scope = self.scope(Vec::new());
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
                    self.setting(&got, &scope, None, "item", i.span(), None);
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
                    let got = vec![("name", Some(Param::key(k, self.text))), ("value", value)];
                    self.setting(&got, &scope, None, "item", k.span, None);
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

/// The places of a variable's several definitions, and why a variables file that may define it
/// was not read, when that is the reason (see [`Lookup::Several`]).
type Several<'a> = (Vec<Span>, Option<&'a str>);

/// A TW076 whose variable has several definitions: which one a host gets depends on the host
/// (its groups, its own host_vars), so no one value is judged. Or a variables file that may
/// define it was not read.
fn several_definitions(d: Diagnostic, (places, why): &Several<'_>) -> Diagnostic {
    let mut d = d
        .with_note(match why {
            Some(why) => format!("{why}; that file may define this variable"),
            None if places.is_empty() => "a variables file beside it cannot be read (encrypted, or not a mapping) and may define it".to_string(),
            None => "its variable is defined in several variables files, and which one wins depends on the host".to_string(),
        })
        .with_help(if why.is_some() {
            "name the variables file with a plain path inside the playbook's folder, which twlint reads, or lint the rendered file (`ansible --check --diff`)"
        } else {
            "define it in one place (the role's defaults or vars, the play's `vars:` or one file of its `vars_files:`, or group_vars/all), or lint the rendered file (`ansible --check --diff`)"
        });
    for &at in places {
        d = d.with_secondary(at, "defined here");
    }
    d
}

/// A parameter of the free form (`name=net.core.somaxconn value="4096 8192"`), split as
/// Ansible splits it: words separated by blanks, quotes grouping (and removed), `{{ ... }}`
/// kept whole.
fn free_form<'a>(node: &YamlNode, text: &'a str, names: &[&str]) -> Option<Param<'a>> {
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
                    src: text,
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
        assert_eq!(&text[v.span.range()], "4096 87380 6291456");
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
            src: "",
        };
        assert_eq!(module_value(&p("yes")), "1");
        assert_eq!(module_value(&p("False")), "0");
        assert_eq!(module_value(&p(" 4096 ")), "4096");
        assert_eq!(module_value(&p("on")), "1");
    }
}
