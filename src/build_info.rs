//! What this binary was built from: the package version and, when it was built from a git
//! checkout (or a published crate that records its commit), the commit (`build.rs`). `--version`,
//! the JSON reports' `tool` and the SARIF `driver` carry it, so a finding can be traced to the
//! exact twlint that made it.

/// The package version (`Cargo.toml`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The full commit hash, when known.
pub const COMMIT: Option<&str> = non_empty(env!("TWLINT_COMMIT"));

/// The commit's date (YYYY-MM-DD), when known.
pub const COMMIT_DATE: Option<&str> = non_empty(env!("TWLINT_COMMIT_DATE"));

const fn non_empty(s: &'static str) -> Option<&'static str> {
    if s.is_empty() {
        None
    } else {
        Some(s)
    }
}

/// `0.1.0 (9d9a7bb3c2e1 2026-11-01)`, `0.1.0 (9d9a7bb3c2e1)` or `0.1.0`: what `--version`
/// prints after the name, as rustc and cargo do.
pub fn long_version() -> &'static str {
    static LONG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LONG.get_or_init(|| match (COMMIT, COMMIT_DATE) {
        (Some(c), Some(d)) => format!("{VERSION} ({} {d})", short(c)),
        (Some(c), None) => format!("{VERSION} ({})", short(c)),
        _ => VERSION.to_string(),
    })
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

/// The `tool` object of twlint's JSON documents (the report, `twlint host`, a snapshot's
/// manifest): `name`, `version` and, when known, `commit`. Fields in name order, the order
/// twlint's JSON keeps its keys in.
#[derive(Debug, Clone, Copy, serde::Serialize, schemars::JsonSchema)]
pub struct Tool {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<&'static str>,
    pub name: &'static str,
    pub version: &'static str,
}

/// This binary as a [`Tool`].
pub const TOOL: Tool = Tool {
    commit: COMMIT,
    name: "twlint",
    version: VERSION,
};

/// Removes what [`TOOL`] and the SARIF driver add for the commit from a JSON document of
/// twlint's, so a test's snapshot holds the same bytes whichever commit built it (or none).
pub fn without_commit(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(tool) = v.get_mut("tool").and_then(|t| t.as_object_mut()) {
        tool.remove("commit");
    }
    if let Some(runs) = v.get_mut("runs").and_then(|r| r.as_array_mut()) {
        for run in runs {
            if let Some(driver) = run
                .pointer_mut("/tool/driver")
                .and_then(|d| d.as_object_mut())
            {
                driver.remove("properties");
            }
        }
    }
    v
}

/// [`without_commit`] on a pretty-printed document, printed back the way twlint prints it.
pub fn without_commit_text(text: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(text).expect("a JSON document");
    serde_json::to_string_pretty(&without_commit(v)).unwrap() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_long_version_starts_with_the_package_version_and_names_the_commit() {
        let long = long_version();
        assert!(long.starts_with(VERSION), "{long}");
        match COMMIT {
            Some(c) => {
                assert!(c.len() >= 7, "a hash: {c}");
                assert!(long.contains(&c[..12]), "{long}");
                assert_eq!(serde_json::to_value(TOOL).unwrap()["commit"], c);
            }
            None => {
                assert_eq!(long, VERSION);
                assert!(serde_json::to_value(TOOL).unwrap().get("commit").is_none());
            }
        }
    }
}
