//! Renderers: a [`Report`](crate::engine::Report) to bytes, in one format each.
//!
//! Renderers only format; every judgement is already in the report. They write to any
//! `io::Write`, so the CLI decides where output goes and tests capture it.

pub mod fleet;
pub mod human;
pub mod json;

/// Output options shared by renderers.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}
