//! A rule's CEL program, compiled when it is first run. A run on one dump needs only the
//! programs of the rules whose keys it judges and the messages of the rules that fire; so the
//! shipped catalog keeps the source and compiles it on first use, once, shared by every thread.
//!
//! One parser, [`parse`], for every program: a user's rule files are parsed when they load, the
//! shipped catalog's on first use. It is cel's Pratt parser (the `parser_pratt` feature), which
//! cel runs through the same table of parser tests as its standard (ANTLR) parser and which
//! gave the standard parser's tree, ids included, for every shipped program, for a hundredth of
//! the work (the ANTLR parser's first runs in a process were a third of judging one dump). Its
//! errors carry the line and column a rule file diagnostic points at.
//!
//! Neither parser bounds a chain of binary operators: `num + 1 + 1 ...` with 4,000 terms parses
//! into a tree 4,000 deep, and evaluating a tree a few thousand deep overflows a thread's stack.
//! A bound on a program's depth belongs after [`parse`], where every program passes.

use cel::parser::Expression;
use cel::{Context, ResolveResult, Value};
use std::sync::OnceLock;

#[derive(Debug)]
pub struct Program {
    source: String,
    compiled: OnceLock<Result<Expression, String>>,
}

impl Program {
    /// A program already parsed (and checked) at load.
    pub fn compiled(source: String, expression: Expression) -> Self {
        Program {
            source,
            compiled: OnceLock::from(Ok(expression)),
        }
    }

    /// A program of the shipped catalog, compiled on first use.
    pub fn deferred(source: String) -> Self {
        Program {
            source,
            compiled: OnceLock::new(),
        }
    }

    /// The CEL source as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The compiled program; a parse error is an error in the rule.
    pub fn get(&self) -> Result<&Expression, String> {
        self.compiled
            .get_or_init(|| parse(&self.source).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| format!("`{}` does not compile: {e}", self.source))
    }

    /// Runs the program in `ctx`: `Err` when it does not compile, else what CEL gives.
    pub fn execute(&self, ctx: &Context) -> Result<ResolveResult, String> {
        Ok(Value::resolve(self.get()?, ctx))
    }
}

/// Parses a CEL program with the Pratt parser, with the standard macros and the options that
/// [`cel::Program::compile`] uses.
pub fn parse(source: &str) -> Result<Expression, cel::ParseErrors> {
    cel::parser::PrattParser::default().parse(source)
}
