//! The `transformer` workload: a byte-level language model. Embedding(256,128)
//! plus a learned positional Embedding(64,128); two post-LN encoder blocks
//! (4 heads, d_model 128, FFN 512, ReLU) with a causal mask; Linear(128,256)
//! head; cross-entropy of the next token at every position.

use crate::nn::{Embedding, Linear, TransformerEncoderLayer, causal_mask, functional};
use kiln_ir::{BuildError, Graph, GraphBuilder};

const VOCAB: usize = 256;
const CONTEXT: usize = 64;
const D_MODEL: usize = 128;

/// Forward pass and loss on `tokens[batch, 64]`, `targets[batch, 64]`.
pub fn build(batch: usize) -> Result<Graph, BuildError> {
    let b = GraphBuilder::new("transformer");
    let tokens = b.input_i32("tokens", &[batch, CONTEXT]);
    let targets = b.input_i32("targets", &[batch, CONTEXT]);
    let tok = Embedding::new(&b, "tok_emb", VOCAB, D_MODEL);
    let pos = Embedding::new(&b, "pos_emb", CONTEXT, D_MODEL);
    let blocks: Vec<_> = (0..2)
        .map(|i| TransformerEncoderLayer::new(&b, &format!("blocks.{i}"), D_MODEL, 4, 512))
        .collect();
    let head = Linear::new(&b, "head", D_MODEL, VOCAB);

    let positions = b.iota_i32(&[CONTEXT], 0);
    let mut x = tok.forward(tokens) + pos.forward(positions);
    let mask = causal_mask(&b, CONTEXT);
    for block in &blocks {
        x = block.forward(x, Some(mask));
    }
    let logits = head.forward(x);
    let flat = logits.reshape(&[batch * CONTEXT, VOCAB]);
    b.output("logits", logits);
    b.output(
        "loss",
        functional::cross_entropy(flat, targets.reshape(&[batch * CONTEXT])),
    );
    b.build()
}
