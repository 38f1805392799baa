//! # kiln
//!
//! A static-graph deep-learning compiler for Rust. Describe a model once with the
//! builder DSL; kiln compiles it ahead of time and runs it on the CPU.
//!
//! ```
//! use kiln::prelude::*;
//!
//! let b = GraphBuilder::new("classifier");
//! let x = b.input("x", &[32, 64]);
//! let y = b.input_i32("y", &[32]);
//! let fc1 = nn::Linear::new(&b, "fc1", 64, 32);
//! let fc2 = nn::Linear::new(&b, "fc2", 32, 10);
//! let logits = fc2.forward(fc1.forward(x).relu());
//! b.output("loss", F::cross_entropy(logits, y));
//! let graph = b.build()?;
//! assert_eq!(graph.params().len(), 4);
//! # Ok::<(), kiln::Error>(())
//! ```
//!
//! Crates: [`ir`] (graph, DSL, text form, reference evaluator). The facade adds
//! [`nn`] layers, the [`zoo`] of canonical models and the `kiln-dump` binary.

pub mod data;
pub mod error;
pub mod nn;
pub mod stats;
pub mod zoo;

pub use error::Error;
pub use kiln_ir as ir;

/// What a model file needs: the builder, tensors, types, layers and functions.
pub mod prelude {
    pub use crate::nn;
    pub use crate::nn::functional as F;
    pub use kiln_ir::{
        ConvParams, DType, Graph, GraphBuilder, Init, PoolParams, Shape, Tensor, TensorType,
    };
}
