//! The canonical models of `WORKLOADS.md`, built with the DSL: forward pass and
//! loss. `kiln-dump` prints them by name, and the snapshot tests pin their IR.
//!
//! Examples do not import the zoo; each example is self-contained so it reads
//! as documentation. The zoo is the tested copy.

pub mod lenet5;
pub mod lstm;
pub mod mlp;
pub mod transformer;

use kiln_ir::{BuildError, Graph};

/// The zoo's model names, in the order `WORKLOADS.md` lists them.
pub const NAMES: [&str; 4] = ["mlp", "lenet5", "lstm", "transformer"];

/// The batch size `WORKLOADS.md` trains each model with.
pub fn workload_batch(name: &str) -> Option<usize> {
    match name {
        "mlp" => Some(128),
        "lenet5" | "lstm" => Some(64),
        "transformer" => Some(32),
        _ => None,
    }
}

/// Builds the model `name` for `batch` samples; `None` for an unknown name.
pub fn build(name: &str, batch: usize) -> Option<Result<Graph, BuildError>> {
    Some(match name {
        "mlp" => mlp::build(batch),
        "lenet5" => lenet5::build(batch),
        "lstm" => lstm::build(batch),
        "transformer" => transformer::build(batch),
        _ => return None,
    })
}
