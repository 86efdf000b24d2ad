//! A rule's CEL program, compiled when it is first run. Parsing CEL (an ANTLR grammar) is most
//! of twlint's start-up, and a run on one dump needs only the programs of the rules whose keys
//! it judges and the messages of the rules that fire; so the shipped catalog keeps the source
//! and compiles it on first use, once, shared by every thread. The shipped rules' programs are
//! checked when the crate's tests run (`rules::load` tests compile them all, with the variable
//! check); a user's rule files are compiled when they load, so their errors point at the file.

use std::sync::OnceLock;

#[derive(Debug)]
pub struct Program {
    source: String,
    compiled: OnceLock<Result<cel::Program, String>>,
}

impl Program {
    /// A program already compiled (and checked) at load.
    pub fn compiled(source: String, program: cel::Program) -> Self {
        Program {
            source,
            compiled: OnceLock::from(Ok(program)),
        }
    }

    /// A program compiled on first use.
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
    pub fn get(&self) -> Result<&cel::Program, String> {
        self.compiled
            .get_or_init(|| cel::Program::compile(&self.source).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| format!("`{}` does not compile: {e}", self.source))
    }
}
