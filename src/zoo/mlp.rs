//! The `mlp` workload: Linear(784,256)-ReLU-Linear(256,256)-ReLU-Linear(256,10),
//! softmax cross-entropy on integer labels.

use crate::nn::{Linear, functional};
use kiln_ir::{BuildError, Graph, GraphBuilder};

/// Forward pass and loss on `x[batch, 784]`, `y[batch]`; outputs `logits` and `loss`.
pub fn build(batch: usize) -> Result<Graph, BuildError> {
    let b = GraphBuilder::new("mlp");
    let x = b.input("x", &[batch, 784]);
    let y = b.input_i32("y", &[batch]);
    let fc1 = Linear::new(&b, "fc1", 784, 256);
    let fc2 = Linear::new(&b, "fc2", 256, 256);
    let fc3 = Linear::new(&b, "fc3", 256, 10);
    let h = fc1.forward(x).relu();
    let h = fc2.forward(h).relu();
    let logits = fc3.forward(h);
    b.output("logits", logits);
    b.output("loss", functional::cross_entropy(logits, y));
    b.build()
}
