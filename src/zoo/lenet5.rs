//! The `lenet5` workload: Conv2d(1,6,5)-ReLU-MaxPool2-Conv2d(6,16,5)-ReLU-MaxPool2-
//! flatten(400)-Linear(400,120)-ReLU-Linear(120,84)-ReLU-Linear(84,10), cross-entropy.

use crate::nn::{Conv2d, Linear, functional};
use kiln_ir::{BuildError, Graph, GraphBuilder, PoolParams};

/// Forward pass and loss on `x[batch, 1, 32, 32]`, `y[batch]`; outputs `logits` and `loss`.
pub fn build(batch: usize) -> Result<Graph, BuildError> {
    let b = GraphBuilder::new("lenet5");
    let x = b.input("x", &[batch, 1, 32, 32]);
    let y = b.input_i32("y", &[batch]);
    let conv1 = Conv2d::new(&b, "conv1", 1, 6, 5);
    let conv2 = Conv2d::new(&b, "conv2", 6, 16, 5);
    let fc1 = Linear::new(&b, "fc1", 400, 120);
    let fc2 = Linear::new(&b, "fc2", 120, 84);
    let fc3 = Linear::new(&b, "fc3", 84, 10);
    let h = conv1.forward(x).relu().max_pool2d(PoolParams::square(2));
    let h = conv2.forward(h).relu().max_pool2d(PoolParams::square(2));
    let h = fc1.forward(h.flatten(1)).relu();
    let h = fc2.forward(h).relu();
    let logits = fc3.forward(h);
    b.output("logits", logits);
    b.output("loss", functional::cross_entropy(logits, y));
    b.build()
}
