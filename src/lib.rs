//! # kiln
//!
//! A static-graph deep-learning compiler for Rust. Describe a model once with the
//! builder DSL; kiln compiles it (an inference pass, or a whole training step:
//! forward, backward and optimizer update) ahead of time into one plan and runs
//! it on the CPU.
//!
//! ```
//! use kiln::prelude::*;
//!
//! let b = GraphBuilder::new("classifier");
//! let x = b.input("x", &[4, 8]);
//! let y = b.input_i32("y", &[4]);
//! let fc1 = nn::Linear::new(&b, "fc1", 8, 16);
//! let fc2 = nn::Linear::new(&b, "fc2", 16, 3);
//! let logits = fc2.forward(fc1.forward(x).relu());
//! b.output("loss", F::cross_entropy(logits, y));
//! let graph = b.build()?;
//!
//! let step = kiln::compile_train(&graph, TrainConfig::new("loss", Optimizer::adam(1e-2)))?;
//! let mut session = Session::new(step.plan, 0)?;
//! let xs: Vec<f32> = (0..32).map(|i| (i % 7) as f32 / 7.0).collect();
//! let ys = [0, 1, 2, 1];
//! let feeds = [("x", TensorRef::f32(&[4, 8], &xs)), ("y", TensorRef::i32(&[4], &ys))];
//! let first = session.run(&feeds)?.get("loss").unwrap().as_f32().unwrap()[0];
//! for _ in 0..50 {
//!     session.run(&feeds)?;
//! }
//! let last = session.run(&feeds)?.get("loss").unwrap().as_f32().unwrap()[0];
//! assert!(last < first);
//! # Ok::<(), kiln::Error>(())
//! ```
//!
//! Crates: [`ir`] (graph, DSL, text form, reference evaluator), [`compiler`]
//! (passes, autodiff, optimizers, lowering), [`runtime`] (kernels, sessions).
//! The facade adds [`nn`] layers and functions, [`data`] loading, the [`zoo`]
//! of canonical models, [`stats`] and the `kiln-dump` binary.

pub mod data;
pub mod error;
pub mod metrics;
pub mod nn;
pub mod stats;
pub mod zoo;

pub use error::Error;
pub use kiln_compiler as compiler;
pub use kiln_compiler::{
    Clip, Compiled, Optimizer, Options as CompileOptions, Penalty, PenaltyKind, Pipeline,
    TrainConfig,
};
pub use kiln_ir as ir;
pub use kiln_runtime as runtime;
pub use kiln_runtime::{Executable, Outputs, ParamStore, Session, TensorRef};

use kiln_ir::Graph;

/// Optimizes `graph` and lowers it to a plan (`options` choose the pipeline).
pub fn compile(graph: &Graph, options: &CompileOptions) -> Result<Compiled, Error> {
    Ok(kiln_compiler::compile(graph, options)?)
}

/// Compiles the whole training step of `graph`: forward, backward, clipping
/// and the optimizer update, as one plan.
pub fn compile_train(graph: &Graph, config: TrainConfig) -> Result<Compiled, Error> {
    Ok(kiln_compiler::compile(
        graph,
        &CompileOptions::train(config),
    )?)
}

/// From a built graph to a runnable inference session in one call: compiled
/// with the default pipeline, parameters initialized with `seed`.
pub fn session(graph: &Graph, seed: u64) -> Result<Session, Error> {
    let compiled = compile(graph, &CompileOptions::default())?;
    Ok(Session::new(compiled.plan, seed)?)
}

/// What a model file needs: the builder, tensors, types, layers, functions,
/// training configuration and sessions.
pub mod prelude {
    pub use crate::nn;
    pub use crate::nn::Mode;
    pub use crate::nn::functional as F;
    pub use crate::{Clip, Optimizer, Session, TensorRef, TrainConfig};
    pub use kiln_ir::{
        ConvParams, DType, Graph, GraphBuilder, Init, PoolParams, Shape, Tensor, TensorType,
    };
}
