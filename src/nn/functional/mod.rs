//! Stateless composite functions (PyTorch's `torch.nn.functional`), written only
//! against the public builder so the compiler sees primitives it can fuse.
//!
//! Every function is `#[track_caller]`: a mistake inside is reported at the
//! user's line, and every node it creates carries that line.

mod activations;
mod losses;

pub use activations::*;
pub use losses::*;

use kiln_ir::Tensor;

/// Layer normalization over the last axis: `(x - mean) / sqrt(var + eps) * gamma + beta`,
/// with the biased variance, as PyTorch's `F.layer_norm`.
#[track_caller]
pub fn layer_norm<'g>(x: Tensor<'g>, gamma: Tensor<'g>, beta: Tensor<'g>, eps: f32) -> Tensor<'g> {
    let centered = x - x.mean_keepdim(-1);
    let var = (centered * centered).mean_keepdim(-1);
    centered * (var + eps).rsqrt() * gamma + beta
}

/// `x @ weight + bias` with `weight[in, out]`.
#[track_caller]
pub fn linear<'g>(x: Tensor<'g>, weight: Tensor<'g>, bias: Option<Tensor<'g>>) -> Tensor<'g> {
    let y = x.matmul(weight);
    match bias {
        Some(b) => y + b,
        None => y,
    }
}

/// Inverted dropout: in training, zeroes each element with probability `p`
/// and scales the rest by `1/(1-p)`; `counter` is an `i32[]` state that must
/// advance every step (see [`crate::nn::Dropout`], which manages it).
#[track_caller]
pub fn dropout<'g>(x: Tensor<'g>, p: f32, counter: Tensor<'g>) -> Tensor<'g> {
    let b = x.builder();
    if !(0.0..=1.0).contains(&p) {
        return b.invalid(
            "dropout",
            format!("the drop probability must be in [0, 1], found {p}"),
        );
    }
    if p == 0.0 {
        return x;
    }
    if p == 1.0 {
        // Everything dropped (the 1/(1-p) scale would turn 0 into NaN).
        return b.full(0.0, &x.dims());
    }
    let keep = x.builder().random_bernoulli(counter, &x.dims(), 1.0 - p);
    x * keep * (1.0 / (1.0 - p))
}
