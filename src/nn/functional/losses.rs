//! Loss functions, as PyTorch's `torch.nn.functional` defines them.

use super::activations::log_softmax;
use kiln_ir::Tensor;

/// How per-element (or per-sample) losses become one number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Reduction {
    /// The average (PyTorch's default).
    #[default]
    Mean,
    Sum,
}

#[track_caller]
fn reduce<'g>(losses: Tensor<'g>, reduction: Reduction) -> Tensor<'g> {
    match reduction {
        Reduction::Mean => losses.mean_all(),
        Reduction::Sum => losses.sum_all(),
    }
}

/// Mean squared error `(pred - target)²`.
#[track_caller]
pub fn mse_loss<'g>(pred: Tensor<'g>, target: Tensor<'g>, reduction: Reduction) -> Tensor<'g> {
    let d = pred - target;
    reduce(d * d, reduction)
}

/// Absolute error `|pred - target|`.
#[track_caller]
pub fn l1_loss<'g>(pred: Tensor<'g>, target: Tensor<'g>, reduction: Reduction) -> Tensor<'g> {
    reduce((pred - target).abs(), reduction)
}

/// Binary cross-entropy of probabilities `p` against targets `y` in [0, 1]:
/// `-(y log p + (1 - y) log(1 - p))`, with each log clamped at -100 as
/// PyTorch does so that a saturated probability gives a finite loss.
#[track_caller]
pub fn binary_cross_entropy<'g>(p: Tensor<'g>, y: Tensor<'g>, reduction: Reduction) -> Tensor<'g> {
    let b = p.builder();
    let floor = b.scalar(-100.0);
    let log_p = p.log().maximum(floor);
    let log_q = (1.0 - p).log().maximum(floor);
    reduce(-(y * log_p + (1.0 - y) * log_q), reduction)
}

/// Binary cross-entropy on logits `x` (numerically stable, as
/// `binary_cross_entropy_with_logits`): `max(x, 0) - x y + log(1 + exp(-|x|))`.
#[track_caller]
pub fn binary_cross_entropy_with_logits<'g>(
    x: Tensor<'g>,
    y: Tensor<'g>,
    reduction: Reduction,
) -> Tensor<'g> {
    let losses = x.relu() - x * y + ((-x.abs()).exp() + 1.0).log();
    reduce(losses, reduction)
}

/// Categorical cross-entropy of `logits[N, C]` against integer class labels
/// `labels[N]` (`i32` in `0..C`), averaged over the batch (PyTorch's `F.cross_entropy`).
#[track_caller]
pub fn cross_entropy<'g>(logits: Tensor<'g>, labels: Tensor<'g>) -> Tensor<'g> {
    cross_entropy_with(logits, labels, Reduction::Mean)
}

/// Categorical cross-entropy on integer labels with a chosen reduction.
#[track_caller]
pub fn cross_entropy_with<'g>(
    logits: Tensor<'g>,
    labels: Tensor<'g>,
    reduction: Reduction,
) -> Tensor<'g> {
    let classes = logits.dims().last().copied().unwrap_or(1);
    soft_cross_entropy(logits, labels.one_hot(classes), reduction)
}

/// Categorical cross-entropy against one-hot or soft target distributions
/// `targets[N, C]` (rows summing to 1): `-Σ_c t_c log softmax(x)_c` per row.
#[track_caller]
pub fn soft_cross_entropy<'g>(
    logits: Tensor<'g>,
    targets: Tensor<'g>,
    reduction: Reduction,
) -> Tensor<'g> {
    // Negate after reducing: one negation instead of one per sample.
    let log_likelihood = (targets * log_softmax(logits, -1)).sum(-1);
    -reduce(log_likelihood, reduction)
}
