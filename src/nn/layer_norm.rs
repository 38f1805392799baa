//! Layer normalization.

use crate::nn::functional;
use kiln_ir::{GraphBuilder, Init, Tensor};

/// Normalizes the last axis, then scales by `{name}.weight` (ones) and shifts by
/// `{name}.bias` (zeros), as PyTorch's `nn.LayerNorm(dim)` with `eps = 1e-5`.
#[derive(Clone, Debug)]
pub struct LayerNorm<'g> {
    pub name: String,
    pub weight: Tensor<'g>,
    pub bias: Tensor<'g>,
    pub eps: f32,
}

impl<'g> LayerNorm<'g> {
    #[track_caller]
    pub fn new(b: &'g GraphBuilder, name: &str, dim: usize) -> LayerNorm<'g> {
        let weight = b.param(&format!("{name}.weight"), &[dim], Init::Ones);
        let bias = b.param(&format!("{name}.bias"), &[dim], Init::Zeros);
        LayerNorm {
            name: name.into(),
            weight,
            bias,
            eps: 1e-5,
        }
    }

    #[track_caller]
    pub fn forward(&self, x: Tensor<'g>) -> Tensor<'g> {
        functional::layer_norm(x, self.weight, self.bias, self.eps).named(&self.name)
    }
}
