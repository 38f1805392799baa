//! Stateless composite functions (PyTorch's `torch.nn.functional`), written only
//! against the public builder so the compiler sees primitives it can fuse.
//!
//! Every function is `#[track_caller]`: a mistake inside is reported at the
//! user's line, and every node it creates carries that line.

use kiln_ir::Tensor;

/// Softmax along `axis`, stabilized by subtracting the maximum.
#[track_caller]
pub fn softmax(x: Tensor<'_>, axis: i32) -> Tensor<'_> {
    // The shift cancels out of the result, so its exact gradient is zero.
    let shifted = x - x.max_keepdim(axis).detach();
    let e = shifted.exp();
    e / e.sum_keepdim(axis)
}

/// `log(softmax(x))` along `axis`, computed as `x - max - log(sum(exp(x - max)))`
/// so it never takes the log of an underflowed zero.
#[track_caller]
pub fn log_softmax(x: Tensor<'_>, axis: i32) -> Tensor<'_> {
    // The shift cancels out of the result, so its exact gradient is zero.
    let shifted = x - x.max_keepdim(axis).detach();
    shifted - shifted.exp().sum_keepdim(axis).log()
}

/// Mean categorical cross-entropy of `logits[N, C]` against integer class
/// labels `labels[N]` (`i32` in `0..C`), as PyTorch's `F.cross_entropy`.
#[track_caller]
pub fn cross_entropy<'g>(logits: Tensor<'g>, labels: Tensor<'g>) -> Tensor<'g> {
    let classes = logits.dims().last().copied().unwrap_or(1);
    let picked = (labels.one_hot(classes) * log_softmax(logits, -1)).sum(-1);
    -picked.mean_all()
}

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
