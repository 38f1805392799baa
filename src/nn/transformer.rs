//! Transformer encoder blocks.

use crate::nn::attention::MultiHeadAttention;
use crate::nn::layer_norm::LayerNorm;
use crate::nn::linear::Linear;
use kiln_ir::{GraphBuilder, Tensor};

/// A post-LN encoder block: `x = LN(x + MHA(x)); x = LN(x + FFN(x))`, with a
/// ReLU feed-forward network `d_model -> d_ff -> d_model` (PyTorch's
/// `nn.TransformerEncoderLayer(norm_first=False, activation="relu")`, no dropout).
#[derive(Clone, Debug)]
pub struct TransformerEncoderLayer<'g> {
    pub attn: MultiHeadAttention<'g>,
    pub ln1: LayerNorm<'g>,
    pub ff1: Linear<'g>,
    pub ff2: Linear<'g>,
    pub ln2: LayerNorm<'g>,
}

impl<'g> TransformerEncoderLayer<'g> {
    #[track_caller]
    pub fn new(
        b: &'g GraphBuilder,
        name: &str,
        d_model: usize,
        heads: usize,
        d_ff: usize,
    ) -> TransformerEncoderLayer<'g> {
        TransformerEncoderLayer {
            attn: MultiHeadAttention::new(b, &format!("{name}.attn"), d_model, heads),
            ln1: LayerNorm::new(b, &format!("{name}.ln1"), d_model),
            ff1: Linear::new(b, &format!("{name}.ff1"), d_model, d_ff),
            ff2: Linear::new(b, &format!("{name}.ff2"), d_ff, d_model),
            ln2: LayerNorm::new(b, &format!("{name}.ln2"), d_model),
        }
    }

    /// Applies the block to `x[B, T, D]` with an optional attention `mask[T, T]`.
    #[track_caller]
    pub fn forward(&self, x: Tensor<'g>, mask: Option<Tensor<'g>>) -> Tensor<'g> {
        let x = self.ln1.forward(x + self.attn.forward(x, x, mask));
        self.ln2
            .forward(x + self.ff2.forward(self.ff1.forward(x).relu()))
    }
}
