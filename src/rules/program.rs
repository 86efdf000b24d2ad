//! A rule's CEL program, compiled when it is first run. A run on one dump needs only the
//! programs of the rules whose keys it judges and the messages of the rules that fire; so the
//! shipped catalog keeps the source and compiles it on first use, once, shared by every thread.
//!
//! Two parsers: a user's rule files are compiled when they load with cel's standard (ANTLR)
//! parser, whose errors carry the line and column the rule file diagnostic points at. The
//! shipped catalog's programs, known to be valid, are parsed on first use with cel's Pratt parser
//! (the `parser_pratt` feature), which gives the same tree for a hundredth of the work: the ANTLR
//! parser's first runs in a process were a third of judging one dump. The `rules::load` tests
//! compile every shipped program with both parsers and check the trees are equal (and the
//! variables each scope has), so the shipped verdicts cannot depend on which parser ran.

use cel::parser::Expression;
use cel::{Context, ResolveResult, Value};
use std::sync::OnceLock;

#[derive(Debug)]
pub struct Program {
    source: String,
    compiled: OnceLock<Result<Expression, String>>,
}

impl Program {
    /// A program already compiled (and checked) at load.
    pub fn compiled(source: String, program: cel::Program) -> Self {
        Program {
            source,
            compiled: OnceLock::from(Ok(program.expression().clone())),
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
            .get_or_init(|| parse_shipped(&self.source).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| format!("`{}` does not compile: {e}", self.source))
    }

    /// Runs the program in `ctx`: `Err` when it does not compile, else what CEL gives.
    pub fn execute(&self, ctx: &Context) -> Result<ResolveResult, String> {
        Ok(Value::resolve(self.get()?, ctx))
    }
}

/// Parses a shipped program with the Pratt parser, with the standard macros and options that
/// [`cel::Program::compile`] uses.
pub fn parse_shipped(source: &str) -> Result<Expression, cel::ParseErrors> {
    cel::parser::PrattParser::default().parse(source)
}
