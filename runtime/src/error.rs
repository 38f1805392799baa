//! The one error type of the runtime.
//!
//! Two kinds of mistakes reach it: a plan the runtime cannot execute safely
//! (caught once, when an [`crate::Executable`] is built), and bad data from the
//! user at run time (unknown or missing feeds, wrong types, indices out of
//! range, values of the wrong shape for the parameter store). Every message
//! says what was expected, what was found and where.

use kiln_ir::{NodeId, TensorType};
use std::fmt;

/// Which step of a plan an error comes from: its position, its kernel and the
/// graph node it computes (when the plan records it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepInfo {
    pub index: usize,
    pub kernel: String,
    pub node: Option<NodeId>,
}

impl fmt::Display for StepInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.node {
            Some(node) => write!(f, "{node} ({}, step {})", self.kernel, self.index),
            None => write!(f, "step {} ({})", self.index, self.kernel),
        }
    }
}

/// Everything that can go wrong when loading or running a plan.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    /// A feed names no input of the plan.
    #[error("unknown input `{name}`; the plan's inputs are: {}", list(valid))]
    UnknownInput { name: String, valid: Vec<String> },

    /// An input of the plan was not fed.
    #[error("no value was fed for input `{name}` (expected {expected})")]
    MissingInput { name: String, expected: TensorType },

    /// The same input was fed twice in one run.
    #[error("input `{name}` was fed more than once")]
    DuplicateInput { name: String },

    /// A feed has the wrong dtype or shape.
    #[error("input `{name}`: expected {expected}, got {found}")]
    InputType {
        name: String,
        expected: TensorType,
        found: TensorType,
    },

    /// A tensor's data does not hold as many elements as its shape says.
    #[error("{kind} `{name}`: shape {shape:?} has {expected} elements, but {found} were given")]
    DataLength {
        kind: &'static str,
        name: String,
        shape: Vec<usize>,
        expected: usize,
        found: usize,
    },

    /// An index read at run time (gather, scatter-add, one-hot) is out of range.
    #[error("{step}: index {index} is out of range 0..{bound}")]
    IndexOutOfRange {
        step: StepInfo,
        index: i64,
        bound: usize,
    },

    /// No param or state of that name in the store.
    #[error("no param or state named `{name}`; known names: {}", list(valid))]
    UnknownParam { name: String, valid: Vec<String> },

    /// The store lacks a tensor the plan reads or writes.
    #[error("the store has no value for {kind} `{name}` (expected {expected})")]
    MissingValue {
        kind: &'static str,
        name: String,
        expected: TensorType,
    },

    /// A value for a param or state has the wrong type.
    #[error("{kind} `{name}`: expected {expected}, got {found}")]
    ParamType {
        kind: &'static str,
        name: String,
        expected: TensorType,
        found: TensorType,
    },

    /// The plan breaks an invariant the kernels rely on.
    #[error("invalid plan `{plan}`: {at}{message}")]
    InvalidPlan {
        plan: String,
        /// `"<step>: "` or empty when the problem is not in one step.
        at: String,
        message: String,
    },
}

/// `a`, `b`, `c` (or `(none)`), for messages that list the valid names.
fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "(none)".into();
    }
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    quoted.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_was_expected_and_found() {
        let e = RuntimeError::InputType {
            name: "x".into(),
            expected: TensorType::f32([128, 784]),
            found: TensorType::f32([128, 785]),
        };
        assert_eq!(
            e.to_string(),
            "input `x`: expected f32[128,784], got f32[128,785]"
        );
        let e = RuntimeError::UnknownInput {
            name: "z".into(),
            valid: vec!["x".into(), "y".into()],
        };
        assert_eq!(
            e.to_string(),
            "unknown input `z`; the plan's inputs are: `x`, `y`"
        );
        let step = StepInfo {
            index: 3,
            kernel: "gather".into(),
            node: Some(NodeId(12)),
        };
        let e = RuntimeError::IndexOutOfRange {
            step,
            index: -1,
            bound: 10,
        };
        assert_eq!(
            e.to_string(),
            "%12 (gather, step 3): index -1 is out of range 0..10"
        );
    }
}
