//! # kiln-ir: the graph, its meaning and its text
//!
//! A kiln model is a static dataflow [`Graph`]: every [`Node`] applies one
//! [`Op`] to the tensors produced by its operand nodes and produces exactly one
//! tensor, whose [`TensorType`] (dtype and fully static shape) is computed by
//! [`infer()`] when the node is created. Nothing about shapes is left for run
//! time, which is what lets the compiler plan every byte ahead of time.
//!
//! ## Values and sources
//! Tensors enter a graph through *sources*: `input` (fed by the caller on every
//! run), `param` (trainable, persistent, created from an [`Init`]), `state`
//! (persistent, not trainable: optimizer moments, counters) and `const`.
//!
//! ## Sinks and updates
//! A graph's effects are its *sinks*: named `output`s, and `update target <-
//! value`, which writes a new value into a param or state **after** the run.
//! Every read of a param during a run sees the value from before the run, so a
//! whole training step (forward, backward, optimizer) is one pure graph whose
//! updates are applied at the end.
//!
//! ## Broadcasting
//! Binary ops take operands of equal shape. numpy-style broadcasting is
//! explicit in the IR: the [`GraphBuilder`] inserts `broadcast` nodes.
//!
//! ## Invariants
//! [`verify()`] checks that the graph is acyclic, that every node has the right
//! number of operands in positions `0..n`, that every stored type equals what
//! [`infer()`] computes, that sinks have no users, that names are unique and that
//! every update targets a param or state of the same type. It runs after
//! parsing and after every compiler pass in tests and debug builds.
//!
//! ## Text
//! Graphs print as `.kir` text and parse back to an equal graph (see [`text`]):
//!
//! ```text
//! graph perceptron {
//!   %0: f32[32,4] = input "x"
//!   %1: f32[4,1] = param "w" init=xavier_uniform(fan_in=4, fan_out=1, gain=1.0)
//!   %2: f32[32,1] = matmul %0, %1
//!   %3: f32[32,1] = sigmoid %2
//!   output "y" = %3
//! }
//! ```
//!
//! ## Meaning
//! The reference evaluator ([`eval`]) is the definition of every op: naive,
//! obviously correct, generic over `f32` and `f64`. Constant folding uses it and
//! every optimized result is checked against it.

pub mod builder;
pub mod cost;
pub mod dtype;
pub mod error;
pub mod eval;
pub mod graph;
pub mod id;
pub mod infer;
pub mod init;
pub mod literal;
pub mod op;
pub mod plan;
pub mod random;
pub mod shape;
pub mod text;
pub mod verify;

pub use text::parse;
pub use verify::verify;

pub use builder::{Axes, GraphBuilder, Tensor};
pub use dtype::DType;
pub use error::{
    BuildError, Error, EvalError, ParseError, SourceLoc, TypeError, VerifyError, VerifyErrors,
};
pub use eval::{Array, Element, Env, Value, eval_op, evaluate, evaluate_all};
pub use graph::{Graph, Node};
pub use id::NodeId;
pub use infer::infer;
pub use literal::{Float, Literal, LiteralData};
pub use op::{BinaryOp, ConvParams, Init, Op, OpClass, PoolParams, ReduceOp, UnaryOp};
pub use shape::{Shape, TensorType};

#[cfg(feature = "testing")]
pub mod testing;
