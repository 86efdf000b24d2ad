//! Helpers shared by integration tests (each test file that needs them declares `mod common;`).

use std::collections::{BTreeSet, HashMap};

/// A strict reader of the text exposition format (version 0.0.4): HELP and TYPE before a
/// family's samples, valid metric and label names, quoted and escaped label values, a float
/// value, no sample twice, no family split in two.
pub fn check_exposition(text: &str) -> Result<usize, String> {
    fn name_ok(s: &str) -> bool {
        let mut c = s.chars();
        c.next()
            .is_some_and(|f| f.is_ascii_alphabetic() || f == '_' || f == ':')
            && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == ':')
    }
    let mut helped = BTreeSet::new();
    let mut typed: HashMap<String, String> = HashMap::new();
    let mut done = BTreeSet::new();
    let mut current: Option<String> = None;
    let mut seen = BTreeSet::new();
    let mut samples = 0;
    if !text.ends_with('\n') {
        return Err("the text must end with a line feed".into());
    }
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let kw = parts.next().unwrap();
            let name = parts.next().ok_or(format!("{n}: comment without a name"))?;
            let arg = parts.next().ok_or(format!("{n}: comment without text"))?;
            if !name_ok(name) {
                return Err(format!("{n}: bad metric name {name}"));
            }
            if current.as_deref() != Some(name) {
                if let Some(c) = current.take() {
                    done.insert(c);
                }
                if done.contains(name) {
                    return Err(format!("{n}: family {name} split in two"));
                }
                current = Some(name.to_string());
            }
            match kw {
                "HELP" => {
                    if !helped.insert(name.to_string()) {
                        return Err(format!("{n}: second HELP for {name}"));
                    }
                }
                "TYPE" => {
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&arg) {
                        return Err(format!("{n}: bad type {arg}"));
                    }
                    // Prometheus' naming rule, which rate() and increase() users rely on.
                    if arg == "counter" && !name.ends_with("_total") {
                        return Err(format!("{n}: counter {name} does not end in _total"));
                    }
                    if typed.insert(name.to_string(), arg.to_string()).is_some() {
                        return Err(format!("{n}: second TYPE for {name}"));
                    }
                }
                _ => return Err(format!("{n}: unknown comment {kw}")),
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            return Err(format!("{n}: stray line {line:?}"));
        }
        let (series, value) = line.rsplit_once(' ').ok_or(format!("{n}: no value"))?;
        let ok_value = value.parse::<f64>().is_ok() || ["NaN", "+Inf", "-Inf"].contains(&value);
        if !ok_value {
            return Err(format!("{n}: bad value {value}"));
        }
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (
                name,
                rest.strip_suffix('}')
                    .ok_or(format!("{n}: unclosed labels"))?,
            ),
            None => (series, ""),
        };
        if current.as_deref() != Some(name) || !typed.contains_key(name) || !helped.contains(name) {
            return Err(format!("{n}: sample of {name} outside its HELP/TYPE block"));
        }
        if typed[name] == "counter" && !value.parse::<f64>().is_ok_and(|v| v >= 0.0) {
            return Err(format!(
                "{n}: counter {name} has a negative or non-numeric value {value}"
            ));
        }
        // Label pairs: name="value" separated by commas; values escape \ " and \n.
        let mut rest = labels;
        let mut names = BTreeSet::new();
        while !rest.is_empty() {
            let (lname, after) = rest
                .split_once("=\"")
                .ok_or(format!("{n}: bad label in {labels}"))?;
            if !name_ok(lname) || lname.starts_with("__") || !names.insert(lname) {
                return Err(format!("{n}: bad or repeated label name {lname}"));
            }
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, '\\' | '"' | 'n')) => {}
                        other => return Err(format!("{n}: bad escape {other:?}")),
                    },
                    Some((j, '"')) => break j,
                    Some((_, '\n')) => return Err(format!("{n}: raw line feed")),
                    Some(_) => {}
                    None => return Err(format!("{n}: unterminated label value")),
                }
            };
            rest = &after[end + 1..];
            if let Some(r) = rest.strip_prefix(',') {
                rest = r;
            } else if !rest.is_empty() {
                return Err(format!("{n}: junk after label value: {rest}"));
            }
        }
        if !seen.insert(series.to_string()) {
            return Err(format!("{n}: series {series} twice"));
        }
        samples += 1;
    }
    Ok(samples)
}

/// Checks that the documentation page `page` shows, for the example whose console block starts
/// with `$ twlint {prefix}`, the same block as the example's own README (which `tests/cli.rs`
/// runs against the binary), so the page's copy cannot go stale.
#[allow(dead_code)] // used by the input-format tests, not by every file that shares this module
pub fn assert_docs_show_example(page: &str, example_readme: &str, prefix: &str) {
    let readme = std::fs::read_to_string(page).unwrap();
    let example = std::fs::read_to_string(example_readme).unwrap();
    let block = |text: &str| {
        let start = text
            .find(&format!("```console\n$ twlint {prefix}"))
            .expect("console block");
        let end = start + text[start..].find("\n```\n").unwrap();
        text[start..end].to_string()
    };
    assert_eq!(block(&readme), block(&example));
}

/// A small `sysctl -a` dump: `head`, then 120 lines in procps' form (a dump is at least 100
/// lines), then `tail`.
#[allow(dead_code)] // used by the tests that need a dump, not by every file sharing this module
pub fn small_dump(head: &str, tail: &str) -> String {
    let mut text = head.to_string();
    for i in 0..120 {
        text.push_str(&format!("net.ipv4.conf.eth{i}.rp_filter = 1\n"));
    }
    text.push_str(tail);
    text
}
