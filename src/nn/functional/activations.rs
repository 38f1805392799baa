//! The activation functions of the lecture, each a few primitive ops.

use kiln_ir::Tensor;

/// The perceptron's step: 1 where `x > 0`, else 0 (no gradient).
#[track_caller]
pub fn step(x: Tensor<'_>) -> Tensor<'_> {
    x.step()
}

/// -1, 0 or 1 (no gradient).
#[track_caller]
pub fn sign(x: Tensor<'_>) -> Tensor<'_> {
    x.sign()
}

/// `1 / (1 + exp(-x))`.
#[track_caller]
pub fn sigmoid(x: Tensor<'_>) -> Tensor<'_> {
    x.sigmoid()
}

#[track_caller]
pub fn tanh(x: Tensor<'_>) -> Tensor<'_> {
    x.tanh()
}

/// The identity (a linear output layer): adds no node.
pub fn identity(x: Tensor<'_>) -> Tensor<'_> {
    x
}

/// `max(x, 0)`.
#[track_caller]
pub fn relu(x: Tensor<'_>) -> Tensor<'_> {
    x.relu()
}

/// `x` where `x > 0`, else `slope * x` (PyTorch's default slope is 0.01).
#[track_caller]
pub fn leaky_relu(x: Tensor<'_>, slope: f32) -> Tensor<'_> {
    x.relu() - (-x).relu() * slope
}

/// `x` where `x > 0`, else `alpha * (exp(x) - 1)`.
#[track_caller]
pub fn elu(x: Tensor<'_>, alpha: f32) -> Tensor<'_> {
    // exp of the negative part only, so large positive inputs never overflow.
    let neg = -(-x).relu();
    x.relu() + (neg.exp() - 1.0) * alpha
}

/// `x * sigmoid(x)` (also called swish).
#[track_caller]
pub fn silu(x: Tensor<'_>) -> Tensor<'_> {
    x * x.sigmoid()
}

/// GELU, exact: `x * Φ(x) = x/2 * (1 + erf(x / sqrt(2)))` (PyTorch's default).
#[track_caller]
pub fn gelu(x: Tensor<'_>) -> Tensor<'_> {
    x * 0.5 * ((x * std::f32::consts::FRAC_1_SQRT_2).erf() + 1.0)
}

/// GELU, tanh approximation: `x/2 * (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))`
/// (PyTorch's `approximate="tanh"`).
#[track_caller]
pub fn gelu_tanh(x: Tensor<'_>) -> Tensor<'_> {
    let k = (2.0 / std::f32::consts::PI).sqrt();
    x * 0.5 * (((x + x * x * x * 0.044715) * k).tanh() + 1.0)
}

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
