//! Optimizer lowering: gradient clipping and the `torch.optim` update formulas
//! as ordinary graph ops on `state` nodes plus `update` sinks.
//!
//! State is named like PyTorch's optimizer state (`fc1.weight.exp_avg`,
//! `fc1.weight.momentum_buffer`, ...). The learning rate is the state
//! `optimizer.lr` (initialized to the configured value; set it between steps
//! for a schedule) and the step counter is the `i32` state `optimizer.step`.

use super::{Clip, Optimizer, TrainConfig};
use kiln_ir::{DType, GraphBuilder, Init, Shape, Tensor, TensorType};

/// The state holding the learning rate.
pub const LR_STATE: &str = "optimizer.lr";
/// The state counting steps taken (0 before the first).
pub const STEP_STATE: &str = "optimizer.step";

/// Adds clipping, the optimizer's state and the parameter updates for every
/// `(param name, gradient)` pair.
#[track_caller]
pub fn lower_update<'g>(b: &'g GraphBuilder, config: &TrainConfig, grads: &[(String, Tensor<'g>)]) {
    let scalar = TensorType::new(DType::F32, Shape::scalar());
    let lr = b.state(LR_STATE, scalar, Init::constant(config.optimizer.lr()));
    let step = b.state(
        STEP_STATE,
        TensorType::new(DType::I32, Shape::scalar()),
        Init::Zeros,
    );
    let t_int = step + 1.0;
    b.update(STEP_STATE, t_int);
    // PyTorch's step counter is 1 on the first step.
    let t = t_int.cast(DType::F32).named("optimizer.t");

    let grads = clip(b, config.clip, grads);
    for (name, g) in &grads {
        let Some(p) = b.lookup(name) else { continue };
        let new_p = step_param(b, &config.optimizer, name, p, *g, lr, t);
        b.update(name, new_p.named(&format!("{name}.new")));
    }
}

fn clip<'g>(
    b: &'g GraphBuilder,
    clip: Option<Clip>,
    grads: &[(String, Tensor<'g>)],
) -> Vec<(String, Tensor<'g>)> {
    match clip {
        None => grads.to_vec(),
        Some(Clip::Value(c)) => grads
            .iter()
            .map(|(n, g)| (n.clone(), g.maximum(b.scalar(-c)).minimum(b.scalar(c))))
            .collect(),
        Some(Clip::GlobalNorm(max_norm)) => {
            let Some(total_sq) = grads
                .iter()
                .map(|(_, g)| (*g * *g).sum_all())
                .reduce(|a, b| a + b)
            else {
                return Vec::new();
            };
            let norm = total_sq.sqrt().named("grad_norm");
            // clip_grad_norm_: scale by max_norm / (norm + 1e-6), never up.
            let coef = (max_norm / (norm + 1e-6))
                .minimum(b.scalar(1.0))
                .named("grad_clip_coef");
            grads.iter().map(|(n, g)| (n.clone(), *g * coef)).collect()
        }
    }
}

/// A zero-initialized state shaped like `p`.
fn moment<'g>(
    b: &'g GraphBuilder,
    param: &str,
    what: &str,
    p: Tensor<'g>,
    init: Init,
) -> Tensor<'g> {
    b.state(&format!("{param}.{what}"), p.ty(), init)
}

/// The new value of `p` after one step of `opt` with gradient `g`; adds the
/// updates of the optimizer's own state.
fn step_param<'g>(
    b: &'g GraphBuilder,
    opt: &Optimizer,
    name: &str,
    p: Tensor<'g>,
    g: Tensor<'g>,
    lr: Tensor<'g>,
    t: Tensor<'g>,
) -> Tensor<'g> {
    let with_l2 = |g: Tensor<'g>, wd: f32| if wd != 0.0 { g + p * wd } else { g };
    match *opt {
        Optimizer::Sgd {
            momentum,
            dampening,
            nesterov,
            weight_decay,
            ..
        } => {
            let g = with_l2(g, weight_decay);
            let dir = if momentum != 0.0 {
                let buf = moment(b, name, "momentum_buffer", p, Init::Zeros);
                let accumulated = buf * momentum + g * (1.0 - dampening);
                // PyTorch starts the buffer at the first gradient itself; from a
                // zero buffer that is what the formula gives unless dampening != 0.
                let new_buf = if dampening != 0.0 {
                    t.le(b.scalar(1.0)).select(g, accumulated)
                } else {
                    accumulated
                };
                b.update(&format!("{name}.momentum_buffer"), new_buf);
                if nesterov {
                    g + new_buf * momentum
                } else {
                    new_buf
                }
            } else {
                g
            };
            p - lr * dir
        }
        Optimizer::AdaGrad {
            lr_decay,
            weight_decay,
            initial_accumulator,
            eps,
            ..
        } => {
            let g = with_l2(g, weight_decay);
            let clr = lr / ((t - 1.0) * lr_decay + 1.0);
            let sum = moment(b, name, "sum", p, Init::constant(initial_accumulator));
            let new_sum = sum + g * g;
            b.update(&format!("{name}.sum"), new_sum);
            p - clr * g / (new_sum.sqrt() + eps)
        }
        Optimizer::RmsProp {
            alpha,
            eps,
            weight_decay,
            momentum,
            centered,
            ..
        } => {
            let g = with_l2(g, weight_decay);
            let sq = moment(b, name, "square_avg", p, Init::Zeros);
            let new_sq = sq * alpha + g * g * (1.0 - alpha);
            b.update(&format!("{name}.square_avg"), new_sq);
            let avg = if centered {
                let ga = moment(b, name, "grad_avg", p, Init::Zeros);
                let new_ga = ga * alpha + g * (1.0 - alpha);
                b.update(&format!("{name}.grad_avg"), new_ga);
                (new_sq - new_ga * new_ga).sqrt() + eps
            } else {
                new_sq.sqrt() + eps
            };
            if momentum > 0.0 {
                let buf = moment(b, name, "momentum_buffer", p, Init::Zeros);
                let new_buf = buf * momentum + g / avg;
                b.update(&format!("{name}.momentum_buffer"), new_buf);
                p - lr * new_buf
            } else {
                p - lr * g / avg
            }
        }
        Optimizer::Adam {
            beta1,
            beta2,
            eps,
            weight_decay,
            decoupled,
            ..
        } => {
            let (p0, g) = if decoupled {
                (
                    if weight_decay != 0.0 {
                        p * (1.0 - lr * weight_decay)
                    } else {
                        p
                    },
                    g,
                )
            } else {
                (p, with_l2(g, weight_decay))
            };
            let m = moment(b, name, "exp_avg", p, Init::Zeros);
            let v = moment(b, name, "exp_avg_sq", p, Init::Zeros);
            let new_m = m * beta1 + g * (1.0 - beta1);
            let new_v = v * beta2 + g * g * (1.0 - beta2);
            b.update(&format!("{name}.exp_avg"), new_m);
            b.update(&format!("{name}.exp_avg_sq"), new_v);
            let bc1 = 1.0 - b.scalar(beta1).pow(t);
            let bc2 = 1.0 - b.scalar(beta2).pow(t);
            let step_size = lr / bc1;
            let denom = new_v.sqrt() / bc2.sqrt() + eps;
            p0 - step_size * new_m / denom
        }
    }
}
