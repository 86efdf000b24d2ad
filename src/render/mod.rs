//! Renderers: a [`Report`](crate::report::Report) to bytes, in one format each.
//!
//! Renderers only format; every judgement is already in the report. They write to any
//! `io::Write`, so the CLI decides where output goes and tests capture it. `human` and `json`
//! are the report itself; `sarif`, `github`, `gcc`, `markdown`, `prometheus`, `gitlab`, `junit`
//! and `rdjson` feed other tools (code scanning, PR annotations, editors, PR comments,
//! monitoring, GitLab's merge-request widget, CI test reports, reviewdog). `host` lays out what
//! host mode read beside the report; `diagram` draws a topology (Mermaid in the Markdown report,
//! `--format dot`); `docs` is the rule documentation (`explain`, `rules`), `rule_pages` the same
//! as the Markdown pages of `docs/rules/`.
//! Whatever a renderer writes passes `safe`: no control character from an input is printed raw.

pub mod diagram;
pub mod docs;
pub mod fleet;
pub mod gcc;
pub mod github;
pub mod gitlab;
pub mod host;
pub mod host_metrics;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod prometheus;
pub mod rdjson;
pub mod rule_pages;
pub mod safe;
pub mod sarif;
pub mod spool;

/// Output options shared by renderers.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    /// Columns the human report fits (the reasons and fixes wrap under their rows).
    pub width: usize,
    /// Lists every safe row instead of folding an endpoint's safe rows into one line.
    pub show_safe: bool,
    /// A run over many hosts shows its fleet summary and last lines only (`--summary`).
    pub summary_only: bool,
}

impl Style {
    /// The width of a terminal twlint knows nothing about.
    pub const DEFAULT_WIDTH: usize = 100;

    /// Plain text at the default width, safe rows folded.
    pub fn plain() -> Style {
        Style {
            color: false,
            width: Style::DEFAULT_WIDTH,
            show_safe: false,
            summary_only: false,
        }
    }
}
