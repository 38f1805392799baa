//! # kiln-compiler: from a graph to a plan
//!
//! The pipeline, in order (look at each stage with `kiln-dump`):
//!
//! 1. **verify** the input graph (`kiln_ir::verify`);
//! 2. **passes**, run by the [`PassManager`] over a [`Pipeline`]
//!    (`kiln-dump MODEL --print-after-all` shows the IR after each one,
//!    `--passes a,b` runs a chosen list, `--stop-after P` bisects,
//!    `--dump-dir D` writes before/after/diff files): dead-code elimination,
//!    constant folding, algebraic simplification, CSE, transpose folding,
//!    compaction;
//! 3. **lowering** to a [`kiln_ir::plan::Plan`] (`kiln-dump MODEL --plan`):
//!    schedule, views for movement ops, kernels for the rest, and one arena
//!    offset per temporary from the memory planner.
//!
//! The compiler knows nothing about how kernels are written; the runtime
//! crate executes the plan.

pub mod autodiff;
pub mod dump;
pub mod error;
pub mod lower;
pub mod manager;
pub mod pass;
pub mod passes;
pub mod pipeline;
pub mod train;

#[cfg(test)]
mod testing;

pub use error::{CompileError, PassError};
pub use manager::{PassManager, PassRecord, Report};
pub use pass::{Changed, Pass, PassCx};
pub use pipeline::{Pipeline, Stage};
pub use train::{Clip, Optimizer, Penalty, PenaltyKind, TrainConfig};

use kiln_ir::Graph;
use kiln_ir::plan::Plan;

/// How to compile.
#[derive(Clone, Debug)]
pub struct Options {
    pub pipeline: Pipeline,
    /// Verify after every pass (always on in debug builds and tests).
    pub verify: bool,
    /// What to train, for pipelines with the `autodiff` and `optimizer` passes.
    pub training: Option<TrainConfig>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            pipeline: Pipeline::optimize(),
            verify: cfg!(debug_assertions),
            training: None,
        }
    }
}

impl Options {
    /// Compile a whole training step: forward, backward and optimizer update.
    pub fn train(config: TrainConfig) -> Options {
        Options {
            pipeline: Pipeline::train(),
            training: Some(config),
            ..Options::default()
        }
    }
}

/// The result of compiling: the optimized graph, its plan, and what each pass did.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub graph: Graph,
    pub plan: Plan,
    pub report: Report,
}

/// Optimizes a copy of `graph` with `options.pipeline` and lowers it to a plan.
pub fn compile(graph: &Graph, options: &Options) -> Result<Compiled, CompileError> {
    let mut g = graph.clone();
    manager::verify_after(&g, "input")?;
    let cx = PassCx {
        training: options.training.clone(),
        ..PassCx::default()
    };
    let report = PassManager::new(options.pipeline.clone())
        .with_verify(options.verify)
        .with_cx(cx)
        .run(&mut g)?;
    let plan = lower::lower(&g)?;
    Ok(Compiled {
        graph: g,
        plan,
        report,
    })
}
