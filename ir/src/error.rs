//! Error types of the IR crate.
//!
//! Each error reads as one sentence that says what was expected, what was found
//! and where: the op and operand types for type errors, the user's `file:line`
//! for builder errors, `line:column` for parse errors, the printed node line for
//! verifier errors, the node and input name for evaluation errors.

use crate::id::NodeId;
use crate::shape::TensorType;
use std::fmt;

/// Where in the user's source a node was built (from `#[track_caller]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SourceLoc {
    pub file: &'static str,
    pub line: u32,
    pub column: u32,
}

impl SourceLoc {
    /// The location of the caller of the `#[track_caller]` function calling this.
    #[track_caller]
    pub fn caller() -> SourceLoc {
        let loc = std::panic::Location::caller();
        SourceLoc {
            file: loc.file(),
            line: loc.line(),
            column: loc.column(),
        }
    }
}

impl fmt::Display for SourceLoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// An op applied to operands it cannot take (from [`crate::infer()`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TypeError {
    #[error("expected {expected} operand(s), found {found}")]
    Arity { expected: String, found: usize },
    /// "`what` must be `expected`, found `found`".
    #[error("{0}")]
    DType(String),
    #[error("{0}")]
    Shape(String),
    #[error("{0}")]
    Attribute(String),
}

/// A mistake made while building a graph with the DSL. The builder keeps the
/// first one and `build()` returns it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{op} at {location}: {source}{}", operands_suffix(.operands))]
pub struct BuildError {
    /// The op (or builder call) that failed.
    pub op: String,
    /// The types of its operands.
    pub operands: Vec<TensorType>,
    /// The user's line that made the call.
    pub location: SourceLoc,
    #[source]
    pub source: TypeError,
}

fn operands_suffix(operands: &[TensorType]) -> String {
    if operands.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = operands.iter().map(|t| t.to_string()).collect();
        format!(" (operands: {})", list.join(", "))
    }
}

/// A malformed `.kir` text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: expected {expected}, found {found}")]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub expected: String,
    pub found: String,
}

/// One broken invariant, found by [`crate::verify()`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}{}", node_prefix(.node), context_suffix(.context))]
pub struct VerifyError {
    /// The offending node, if the error is about one.
    pub node: Option<NodeId>,
    /// The node's printed line.
    pub context: String,
    pub message: String,
}

fn node_prefix(node: &Option<NodeId>) -> String {
    node.map(|n| format!("{n}: ")).unwrap_or_default()
}

fn context_suffix(context: &str) -> String {
    if context.is_empty() {
        String::new()
    } else {
        format!("\n    in: {context}")
    }
}

/// Every error the verifier found, one per line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyErrors(pub Vec<VerifyError>);

impl fmt::Display for VerifyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the graph is invalid ({} error(s)):", self.0.len())?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for VerifyErrors {}

/// A run of the reference evaluator that could not complete.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("no value was fed for input `{name}` (expected {expected})")]
    MissingInput { name: String, expected: TensorType },
    #[error("input `{name}`: expected {expected}, got {found}")]
    InputType {
        name: String,
        expected: TensorType,
        found: TensorType,
    },
    #[error("no value for {kind} `{name}` in the store (expected {expected})")]
    MissingValue {
        kind: &'static str,
        name: String,
        expected: TensorType,
    },
    #[error("{kind} `{name}` in the store: expected {expected}, found {found}")]
    StoredType {
        kind: &'static str,
        name: String,
        expected: TensorType,
        found: TensorType,
    },
    #[error("{node} ({op}): index {index} is out of range 0..{bound}")]
    IndexOutOfRange {
        node: NodeId,
        op: &'static str,
        index: i64,
        bound: usize,
    },
    #[error("{node} ({op}): {message}")]
    Invalid {
        node: NodeId,
        op: &'static str,
        message: String,
    },
}

/// Any error of the IR crate.
#[derive(Clone, Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Type(#[from] TypeError),
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Verify(#[from] VerifyErrors),
    #[error(transparent)]
    Eval(#[from] EvalError),
}
