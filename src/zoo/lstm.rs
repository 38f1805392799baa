//! The `lstm` workload: LSTM(input 28, hidden 128) over 28 steps, the last hidden
//! state into Linear(128,10), cross-entropy.

use crate::nn::{Linear, Lstm, functional};
use kiln_ir::{BuildError, Graph, GraphBuilder};

/// Forward pass and loss on `x[batch, 28, 28]` (batch, time, feature), `y[batch]`.
pub fn build(batch: usize) -> Result<Graph, BuildError> {
    let b = GraphBuilder::new("lstm");
    let x = b.input("x", &[batch, 28, 28]);
    let y = b.input_i32("y", &[batch]);
    let lstm = Lstm::new(&b, "lstm", 28, 128);
    let fc = Linear::new(&b, "fc", 128, 10);
    let logits = fc.forward(lstm.forward(x).h);
    b.output("logits", logits);
    b.output("loss", functional::cross_entropy(logits, y));
    b.build()
}
