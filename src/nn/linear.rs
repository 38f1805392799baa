//! The fully connected layer.

use crate::nn::functional;
use kiln_ir::{GraphBuilder, Init, Tensor};

/// `y = x @ weight + bias`, with parameters `{name}.weight[in, out]` and
/// `{name}.bias[out]`, initialized as PyTorch's `nn.Linear` (uniform on
/// `±1/sqrt(in)`).
///
/// The weight is stored `[in, out]` (PyTorch stores `[out, in]`) so the forward
/// product needs no transpose: it is the faster GEMM layout on this CPU.
#[derive(Clone, Debug)]
pub struct Linear<'g> {
    pub name: String,
    pub weight: Tensor<'g>,
    pub bias: Option<Tensor<'g>>,
}

impl<'g> Linear<'g> {
    /// A layer with a bias.
    #[track_caller]
    pub fn new(b: &'g GraphBuilder, name: &str, inputs: usize, outputs: usize) -> Linear<'g> {
        let weight = b.param(
            &format!("{name}.weight"),
            &[inputs, outputs],
            Init::torch_default(inputs),
        );
        let bias = b.param(
            &format!("{name}.bias"),
            &[outputs],
            Init::torch_default(inputs),
        );
        Linear {
            name: name.into(),
            weight,
            bias: Some(bias),
        }
    }

    /// A layer without a bias.
    #[track_caller]
    pub fn without_bias(
        b: &'g GraphBuilder,
        name: &str,
        inputs: usize,
        outputs: usize,
    ) -> Linear<'g> {
        let weight = b.param(
            &format!("{name}.weight"),
            &[inputs, outputs],
            Init::torch_default(inputs),
        );
        Linear {
            name: name.into(),
            weight,
            bias: None,
        }
    }

    /// Applies the layer to the last axis of `x`; the result node is named after the layer.
    #[track_caller]
    pub fn forward(&self, x: Tensor<'g>) -> Tensor<'g> {
        functional::linear(x, self.weight, self.bias).named(&self.name)
    }
}
