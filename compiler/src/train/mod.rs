//! What a training step is: the loss to minimize, the parameters to train,
//! the optimizer, gradient clipping and regularization penalties.
//!
//! The `autodiff` pass reads this to append the backward graph, and the
//! `optimizer` pass to lower the update into ordinary ops on `state` nodes
//! plus `update` sinks; see `optimizer.rs` for the formulas.

pub mod optimizer;

use std::fmt;

/// An optimizer and its hyperparameters. Every update matches PyTorch's
/// `torch.optim` formula for the same settings.
#[derive(Clone, Debug, PartialEq)]
pub enum Optimizer {
    /// `torch.optim.SGD`: plain gradient descent when `momentum == 0` (full
    /// batch: "gradient descent"; mini-batches: "SGD"), heavy-ball momentum,
    /// or Nesterov momentum. `weight_decay` adds `wd·p` to the gradient.
    Sgd {
        lr: f32,
        momentum: f32,
        dampening: f32,
        nesterov: bool,
        weight_decay: f32,
    },
    /// `torch.optim.Adagrad`.
    AdaGrad {
        lr: f32,
        lr_decay: f32,
        weight_decay: f32,
        initial_accumulator: f32,
        eps: f32,
    },
    /// `torch.optim.RMSprop`, optionally with momentum and centered.
    RmsProp {
        lr: f32,
        alpha: f32,
        eps: f32,
        weight_decay: f32,
        momentum: f32,
        centered: bool,
    },
    /// `torch.optim.Adam` (L2 `weight_decay` in the gradient) or, with
    /// `decoupled`, `torch.optim.AdamW` (`p -= lr·wd·p` before the step).
    Adam {
        lr: f32,
        beta1: f32,
        beta2: f32,
        eps: f32,
        weight_decay: f32,
        decoupled: bool,
    },
}

impl Optimizer {
    /// Plain gradient descent / SGD: `p -= lr·g`.
    pub fn sgd(lr: f32) -> Optimizer {
        Optimizer::Sgd {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }

    /// SGD with heavy-ball momentum.
    pub fn momentum(lr: f32, momentum: f32) -> Optimizer {
        Optimizer::Sgd {
            lr,
            momentum,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }

    /// SGD with Nesterov momentum.
    pub fn nesterov(lr: f32, momentum: f32) -> Optimizer {
        Optimizer::Sgd {
            lr,
            momentum,
            dampening: 0.0,
            nesterov: true,
            weight_decay: 0.0,
        }
    }

    /// AdaGrad with PyTorch's defaults (`eps = 1e-10`).
    pub fn adagrad(lr: f32) -> Optimizer {
        Optimizer::AdaGrad {
            lr,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator: 0.0,
            eps: 1e-10,
        }
    }

    /// RMSProp with PyTorch's defaults (`alpha = 0.99`, `eps = 1e-8`).
    pub fn rmsprop(lr: f32) -> Optimizer {
        Optimizer::RmsProp {
            lr,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }

    /// Adam with PyTorch's defaults (`betas = (0.9, 0.999)`, `eps = 1e-8`).
    pub fn adam(lr: f32) -> Optimizer {
        Optimizer::Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
        }
    }

    /// AdamW with PyTorch's defaults (`weight_decay = 0.01`).
    pub fn adamw(lr: f32) -> Optimizer {
        Optimizer::Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
            decoupled: true,
        }
    }

    /// The optimizer a short CLI name stands for, with its usual learning rate
    /// (`gd`/`sgd` 0.01, `momentum`/`nesterov` 0.01 with 0.9, `adagrad` 0.01,
    /// `rmsprop` 0.01, `adam`/`adamw` 0.001).
    pub fn by_name(name: &str) -> Option<Optimizer> {
        Some(match name {
            "gd" | "sgd" => Optimizer::sgd(0.01),
            "momentum" => Optimizer::momentum(0.01, 0.9),
            "nesterov" => Optimizer::nesterov(0.01, 0.9),
            "adagrad" => Optimizer::adagrad(0.01),
            "rmsprop" => Optimizer::rmsprop(0.01),
            "adam" => Optimizer::adam(0.001),
            "adamw" => Optimizer::adamw(0.001),
            _ => return None,
        })
    }

    /// The names `by_name` knows.
    pub const NAMES: [&'static str; 8] = [
        "gd", "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw",
    ];

    /// The learning rate.
    pub fn lr(&self) -> f32 {
        match self {
            Optimizer::Sgd { lr, .. }
            | Optimizer::AdaGrad { lr, .. }
            | Optimizer::RmsProp { lr, .. }
            | Optimizer::Adam { lr, .. } => *lr,
        }
    }

    /// Sets the (L2 or, for AdamW, decoupled) weight decay.
    pub fn with_weight_decay(mut self, wd: f32) -> Optimizer {
        match &mut self {
            Optimizer::Sgd { weight_decay, .. }
            | Optimizer::AdaGrad { weight_decay, .. }
            | Optimizer::RmsProp { weight_decay, .. }
            | Optimizer::Adam { weight_decay, .. } => *weight_decay = wd,
        }
        self
    }
}

impl fmt::Display for Optimizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Optimizer::Sgd {
                lr,
                momentum,
                dampening,
                nesterov,
                weight_decay,
            } => write!(
                f,
                "sgd(lr={lr}, momentum={momentum}, dampening={dampening}, nesterov={nesterov}, weight_decay={weight_decay})"
            ),
            Optimizer::AdaGrad {
                lr,
                lr_decay,
                weight_decay,
                initial_accumulator,
                eps,
            } => write!(
                f,
                "adagrad(lr={lr}, lr_decay={lr_decay}, weight_decay={weight_decay}, initial_accumulator={initial_accumulator}, eps={eps})"
            ),
            Optimizer::RmsProp {
                lr,
                alpha,
                eps,
                weight_decay,
                momentum,
                centered,
            } => write!(
                f,
                "rmsprop(lr={lr}, alpha={alpha}, eps={eps}, weight_decay={weight_decay}, momentum={momentum}, centered={centered})"
            ),
            Optimizer::Adam {
                lr,
                beta1,
                beta2,
                eps,
                weight_decay,
                decoupled,
            } => write!(
                f,
                "{}(lr={lr}, betas=({beta1}, {beta2}), eps={eps}, weight_decay={weight_decay})",
                if *decoupled { "adamw" } else { "adam" }
            ),
        }
    }
}

/// Gradient clipping, applied to the raw gradients before the optimizer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clip {
    /// Clamp every gradient element to `[-c, c]` (`clip_grad_value_`).
    Value(f32),
    /// Scale all gradients by `min(1, max_norm / (‖g‖ + 1e-6))`, where `‖g‖`
    /// is the L2 norm of all gradients together (`clip_grad_norm_`).
    GlobalNorm(f32),
}

/// Which regularization penalty to add to the loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PenaltyKind {
    /// `strength · Σ|p|`.
    L1,
    /// `strength · Σp²`.
    L2,
}

/// A penalty added to the loss before differentiation.
#[derive(Clone, Debug, PartialEq)]
pub struct Penalty {
    pub kind: PenaltyKind,
    pub strength: f32,
    /// The params it applies to; `None` for every param whose name ends in `weight`.
    pub params: Option<Vec<String>>,
}

/// A whole training step.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// The output to minimize.
    pub loss: String,
    /// The params to train; `None` for all of them.
    pub params: Option<Vec<String>>,
    pub optimizer: Optimizer,
    pub clip: Option<Clip>,
    pub penalties: Vec<Penalty>,
}

impl TrainConfig {
    /// Minimize output `loss` over every param with `optimizer`.
    pub fn new(loss: &str, optimizer: Optimizer) -> TrainConfig {
        TrainConfig {
            loss: loss.into(),
            params: None,
            optimizer,
            clip: None,
            penalties: Vec::new(),
        }
    }

    pub fn with_clip(mut self, clip: Clip) -> TrainConfig {
        self.clip = Some(clip);
        self
    }

    pub fn with_penalty(mut self, kind: PenaltyKind, strength: f32) -> TrainConfig {
        self.penalties.push(Penalty {
            kind,
            strength,
            params: None,
        });
        self
    }

    pub fn with_params(mut self, params: &[&str]) -> TrainConfig {
        self.params = Some(params.iter().map(|s| s.to_string()).collect());
        self
    }
}

/// The name of the output the `autodiff` pass gives the gradient of `param`.
pub fn grad_output(param: &str) -> String {
    format!("{param}.grad")
}
