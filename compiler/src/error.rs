//! The compiler's errors. Every error says which pass it came from.

use kiln_ir::VerifyError;

/// A pass could not do its job.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PassError {
    /// The graph lacks something the pass needs (named in the message).
    #[error("{0}")]
    Precondition(String),
    /// Evaluating constants failed.
    #[error(transparent)]
    Eval(#[from] kiln_ir::EvalError),
    /// Gradients could not be built (lists every unreachable param and missing rule).
    #[error(transparent)]
    Autodiff(#[from] crate::autodiff::AutodiffError),
    /// Building replacement nodes failed.
    #[error(transparent)]
    Type(#[from] kiln_ir::TypeError),
}

/// Anything that can go wrong between a graph and a plan.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error("unknown pass `{name}`; valid passes are: {}", .valid.join(", "))]
    UnknownPass {
        name: String,
        valid: Vec<&'static str>,
    },
    #[error("pass `{pass}` failed: {source}")]
    Pass {
        pass: &'static str,
        #[source]
        source: PassError,
    },
    /// The graph was invalid after `after`; `rendered` shows it with the errors inline.
    #[error("the graph is invalid after pass `{after}` ({} error(s)):\n{rendered}", .errors.len())]
    Verify {
        after: String,
        errors: Vec<VerifyError>,
        rendered: String,
    },
    /// Writing dump files failed.
    #[error("{0}")]
    Io(String),
    /// The graph could not be lowered to a plan.
    #[error("lowering: {0}")]
    Lower(String),
}
