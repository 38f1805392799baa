//! Optimizers side by side: gradient descent (full batch), SGD (mini-batch),
//! momentum, AdaGrad, RMSProp and Adam, on a 2-D function and on a real
//! network.
//!
//! 1. The Rosenbrock function `f(x, y) = (1 - x)² + 100 (y - x²)²` from the
//!    fixed start (-1.2, 1). Its minimum (1, 1) lies at the bottom of a long,
//!    curved, flat-floored valley whose walls are 100 times steeper than its
//!    floor: the step size plain gradient descent needs to stay stable across
//!    the valley is far too small to travel along it. Momentum accumulates
//!    speed along the floor; AdaGrad, RMSProp and Adam divide each coordinate's
//!    step by its own gradient scale. The two coordinates are the model's two
//!    parameters, and each optimizer's path is written to a CSV file to plot.
//!
//!    `f` is a sum of two squared residuals, `r₁ = 1 - x` and
//!    `r₂ = 10 (y - x²)`, and that gives it a "mini-batch" version: SGD samples
//!    one of the two terms per step (weighted by 2, so the expected gradient
//!    is the true one). Both residuals vanish at the minimum, so even the
//!    noisy gradient goes to zero there.
//! 2. The digits MLP (64 -> 64 -> 10, ReLU, cross-entropy) on the 8x8 digits:
//!    gradient descent on the whole training set per step, the others on
//!    shuffled mini-batches of 32, all for the same number of steps.
//!
//! Every optimizer is compiled into the training step (its state, e.g. Adam's
//! moments, lives in `state` tensors beside the parameters), with PyTorch's
//! update formulas. The learning rate matters as much as the method:
//!
//! - On Rosenbrock each optimizer runs with every learning rate of a grid
//!   (1e-4 to 1 in half-decades) and the best is kept: the printout shows
//!   where each one diverges and how far the best one gets. Plain gradient
//!   descent diverges from 1e-2 and at 3e-3 cannot settle: near the minimum
//!   the curvature across the valley is ~1000, so any step above 2/1000
//!   overshoots it, and a step that small crawls along the floor.
//! - On digits each runs with its usual default (`Optimizer::by_name`: 0.01
//!   for GD, SGD, momentum, AdaGrad and RMSProp, 0.001 for Adam), the
//!   settings a first attempt uses.
//!
//! `cargo run --release --example optimizers`
//! (set `KILN_EXAMPLES_OUT` to choose the CSV's directory; the default is
//! `target/examples-out` in the kiln checkout).

use kiln::data::{DataLoader, Dataset, SplitMix64, Standardizer, bundled_dir, read_csv};
use kiln::prelude::*;
use kiln::{CompileOptions, Executable, metrics};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What to train, and for how long.
pub struct Config {
    /// Steps on the Rosenbrock function.
    pub rosenbrock_steps: usize,
    /// The learning rates tried on Rosenbrock.
    pub rosenbrock_lrs: Vec<f32>,
    /// Steps (updates) on the digits MLP, for every optimizer.
    pub digits_steps: usize,
    pub batch: usize,
    pub hidden: usize,
    /// Where to write the Rosenbrock trajectories (`None`: don't).
    pub trajectory_csv: Option<PathBuf>,
    pub seed: u64,
}

impl Config {
    /// The demo.
    pub fn full() -> Config {
        let dir = std::env::var_os("KILN_EXAMPLES_OUT")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/examples-out")
            });
        Config {
            rosenbrock_steps: 2000,
            rosenbrock_lrs: vec![1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0],
            digits_steps: 500,
            batch: 32,
            hidden: 64,
            trajectory_csv: Some(dir.join("rosenbrock_trajectories.csv")),
            seed: 5,
        }
    }
}

/// One optimizer's results.
pub struct Row {
    pub name: &'static str,
    /// The best learning rate of the grid on Rosenbrock.
    pub rosenbrock_lr: f32,
    /// Rosenbrock value after the last step, with that learning rate.
    pub rosenbrock: f64,
    /// Distance from the minimum (1, 1) after the last step.
    pub distance: f64,
    /// The default learning rate used on digits.
    pub digits_lr: f32,
    /// Cross-entropy over the whole digits training set after the last step.
    pub digits_loss: f64,
    pub digits_accuracy: f64,
}

/// What a run achieved.
pub struct Report {
    /// `f` at the start, (-1.2, 1).
    pub rosenbrock_start: f64,
    /// Cross-entropy of the freshly initialized digits MLP.
    pub digits_start_loss: f64,
    pub rows: Vec<Row>,
    /// Where the trajectories were written.
    pub csv: Option<PathBuf>,
}

impl Report {
    /// The row of the optimizer called `name`.
    pub fn row(&self, name: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.name == name)
    }
}

/// The optimizers compared, by their `Optimizer::by_name` names.
const NAMES: [&str; 6] = ["gd", "sgd", "momentum", "adagrad", "rmsprop", "adam"];

/// The optimizer `name` with learning rate `lr` (momentum: 0.9; the rest at
/// PyTorch's defaults). GD and SGD are the same update; they differ in what
/// they are fed.
fn with_lr(name: &str, lr: f32) -> Optimizer {
    match name {
        "momentum" => Optimizer::momentum(lr, 0.9),
        "adagrad" => Optimizer::adagrad(lr),
        "rmsprop" => Optimizer::rmsprop(lr),
        "adam" => Optimizer::adam(lr),
        _ => Optimizer::sgd(lr),
    }
}

const START: (f32, f32) = (-1.2, 1.0);

/// A point of a descent: `(x, y, f(x, y))`.
type Point = (f32, f32, f32);

/// The Rosenbrock function of the params `x` and `y`, as the weighted sum
/// `w₁ r₁² + w₂ r₂²`. Feeding `w = (1, 1)` gives `f` itself; SGD feeds
/// `(2, 0)` or `(0, 2)`.
fn rosenbrock() -> Result<Graph, kiln::Error> {
    let b = GraphBuilder::new("rosenbrock");
    let x = b.param("x", &[1], Init::constant(START.0));
    let y = b.param("y", &[1], Init::constant(START.1));
    let w1 = b.input("w1", &[1]);
    let w2 = b.input("w2", &[1]);
    let r1 = 1.0 - x;
    let r2 = (y - x * x) * 10.0;
    let (t1, t2) = (r1 * r1, r2 * r2);
    b.output("f", t1 + t2);
    b.output("loss", (w1 * t1 + w2 * t2).sum_all());
    Ok(b.build()?)
}

/// Runs `steps` steps of `optimizer` on Rosenbrock; returns the path
/// `(x, y, f)` of every point visited, the start first.
fn descend(
    optimizer: Optimizer,
    stochastic: bool,
    steps: usize,
    seed: u64,
) -> Result<Vec<Point>, kiln::Error> {
    let step = kiln::compile_train(&rosenbrock()?, TrainConfig::new("loss", optimizer))?;
    let mut session = Session::new(step.plan, seed)?;
    let mut rng = SplitMix64::new(seed);
    let mut path = Vec::with_capacity(steps + 1);
    for s in 0..=steps {
        let (x, y) = (scalar_param(&session, "x"), scalar_param(&session, "y"));
        let weights = if stochastic {
            if rng.below(2) == 0 {
                [2.0, 0.0]
            } else {
                [0.0, 2.0]
            }
        } else {
            [1.0, 1.0]
        };
        let out = session.run(&[
            ("w1", TensorRef::f32(&[1], &weights[..1])),
            ("w2", TensorRef::f32(&[1], &weights[1..])),
        ])?;
        // `f` is computed before this run's update: it is the value at (x, y).
        path.push((x, y, first(&out, "f")));
        if s == steps {
            break; // the last run only measured the final point
        }
    }
    Ok(path)
}

/// The digits MLP: 64 -> hidden (ReLU) -> 10, cross-entropy.
fn mlp(batch: usize, hidden: usize) -> Result<Graph, kiln::Error> {
    let b = GraphBuilder::new("digits_mlp");
    let x = b.input("x", &[batch, 64]);
    let y = b.input_i32("y", &[batch]);
    let fc1 = nn::Linear::new(&b, "fc1", 64, hidden);
    let fc2 = nn::Linear::new(&b, "fc2", hidden, 10);
    let logits = fc2.forward(fc1.forward(x).relu());
    b.output("logits", logits);
    b.output("loss", F::cross_entropy(logits, y));
    Ok(b.build()?)
}

/// The digits split every example uses: every 5th row is test, features
/// standardized with the training rows' statistics.
fn digits() -> Result<(Dataset, Dataset), kiln::Error> {
    let data = Dataset::classification(&read_csv(bundled_dir().join("digits8x8.csv"))?)?;
    let (mut train, mut test) = data.split_every(5, 4);
    let scaler = Standardizer::fit(&train);
    scaler.apply(&mut train);
    scaler.apply(&mut test);
    Ok((train, test))
}

/// The loss (mean cross-entropy) and accuracy of `store`'s parameters on all
/// of `data`, with `exe` compiled for exactly `data.len()` samples.
fn evaluate(
    exe: &mut Executable,
    store: &mut kiln::ParamStore,
    data: &Dataset,
) -> Result<(f64, f64), kiln::Error> {
    let labels = match &data.targets {
        kiln::data::Targets::Classes(c) => c.clone(),
        kiln::data::Targets::Values { .. } => Vec::new(),
    };
    let out = exe.run(
        store,
        &[
            ("x", TensorRef::f32(&[data.len(), 64], &data.x)),
            ("y", TensorRef::i32(&[data.len()], &labels)),
        ],
    )?;
    let logits = out
        .get("logits")
        .and_then(|t| t.as_f32())
        .unwrap_or_default();
    let accuracy = metrics::correct(logits, 10, &labels, data.len()) as f64 / data.len() as f64;
    Ok((first(&out, "loss") as f64, accuracy))
}

/// Trains the digits MLP for `steps` updates of `optimizer`, on the whole
/// training set per step (`full_batch`) or on shuffled mini-batches; returns
/// the training loss and test accuracy at the end.
fn train_digits(
    optimizer: Optimizer,
    full_batch: bool,
    train: &Dataset,
    test: &Dataset,
    config: &Config,
) -> Result<(f64, f64), kiln::Error> {
    let batch = if full_batch {
        train.len()
    } else {
        config.batch
    };
    let step = kiln::compile_train(
        &mlp(batch, config.hidden)?,
        TrainConfig::new("loss", optimizer),
    )?;
    // The same seed for every optimizer: they all start from the same weights.
    let mut session = Session::new(step.plan, config.seed)?;
    let loader = DataLoader::new(train, batch)
        .shuffle(config.seed)
        .drop_last(true);
    let mut done = 0;
    'epochs: for epoch in 0.. {
        for b in loader.epoch(epoch) {
            if done == config.digits_steps {
                break 'epochs;
            }
            session.run(&[
                ("x", TensorRef::f32(&[batch, 64], &b.x)),
                ("y", TensorRef::i32(&[batch], &b.classes)),
            ])?;
            done += 1;
        }
    }
    let compile = |n| -> Result<Executable, kiln::Error> {
        let plan = kiln::compile(&mlp(n, config.hidden)?, &CompileOptions::default())?.plan;
        Ok(Executable::new(plan)?)
    };
    let (loss, _) = evaluate(&mut compile(train.len())?, session.store_mut(), train)?;
    let (_, accuracy) = evaluate(&mut compile(test.len())?, session.store_mut(), test)?;
    Ok((loss, accuracy))
}

/// Writes every optimizer's path as `optimizer,step,x,y,f` rows.
fn write_csv(path: &Path, paths: &[(&str, Vec<Point>)]) -> Result<(), kiln::Error> {
    let mut text = String::from("optimizer,step,x,y,f\n");
    for (name, points) in paths {
        for (i, (x, y, f)) in points.iter().enumerate() {
            let _ = writeln!(text, "{name},{i},{x},{y},{f}");
        }
    }
    let io = |e: std::io::Error| kiln::Error::Io(format!("cannot write {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::write(path, text).map_err(io)
}

pub fn run(config: &Config) -> Result<Report, kiln::Error> {
    let (train, test) = digits()?;
    println!(
        "Rosenbrock from ({}, {}): {} steps per learning rate; digits MLP: {} steps, \
         GD on all {} training rows, the others on mini-batches of {}",
        START.0,
        START.1,
        config.rosenbrock_steps,
        config.digits_steps,
        train.len(),
        config.batch
    );
    // The untrained network's loss, from the same initial weights every optimizer starts from.
    let digits_start_loss = {
        let plan = kiln::compile(
            &mlp(train.len(), config.hidden)?,
            &CompileOptions::default(),
        )?
        .plan;
        let mut exe = Executable::new(plan.clone())?;
        let mut store = kiln::ParamStore::for_plan(&plan, config.seed);
        evaluate(&mut exe, &mut store, &train)?.0
    };

    let mut rows = Vec::new();
    let mut paths = Vec::new();
    let mut rosenbrock_start = f64::NAN;
    for name in NAMES {
        // Rosenbrock: every learning rate of the grid, keeping the best path.
        let mut tried = Vec::new();
        let mut best: Option<(f32, Vec<Point>)> = None;
        for &lr in &config.rosenbrock_lrs {
            let path = descend(
                with_lr(name, lr),
                name == "sgd",
                config.rosenbrock_steps,
                config.seed,
            )?;
            let end = path.last().map_or(f32::NAN, |p| p.2);
            rosenbrock_start = path.first().map_or(f64::NAN, |p| p.2 as f64);
            tried.push(if end.is_finite() {
                format!("{lr}: {end:.1e}")
            } else {
                format!("{lr}: diverged")
            });
            let better = match &best {
                None => end.is_finite(),
                Some((_, b)) => end < b.last().map_or(f32::INFINITY, |p| p.2),
            };
            if better {
                best = Some((lr, path));
            }
        }
        println!("{name:>9} on Rosenbrock, lr: {}", tried.join(", "));
        let (rosenbrock_lr, path) = best.unwrap_or((f32::NAN, Vec::new()));
        let (x, y, f) = path
            .last()
            .copied()
            .unwrap_or((f32::NAN, f32::NAN, f32::NAN));
        let distance = ((x - 1.0) as f64).hypot((y - 1.0) as f64);

        // Digits: the usual default learning rate.
        let digits_opt = Optimizer::by_name(name).unwrap_or_else(|| Optimizer::sgd(0.01));
        let digits_lr = digits_opt.lr();
        let (digits_loss, digits_accuracy) =
            train_digits(digits_opt, name == "gd", &train, &test, config)?;
        println!(
            "{:>9} best lr {rosenbrock_lr}: f = {f:.3e} at ({x:.4}, {y:.4}); \
             digits (lr {digits_lr}): train loss {digits_loss:.4}, test accuracy {digits_accuracy:.3}",
            ""
        );
        rows.push(Row {
            name,
            rosenbrock_lr,
            rosenbrock: f as f64,
            distance,
            digits_lr,
            digits_loss,
            digits_accuracy,
        });
        paths.push((name, path));
    }

    println!(
        "\nafter {} steps on Rosenbrock and {} on digits:",
        config.rosenbrock_steps, config.digits_steps
    );
    println!(
        "{:<10} {:>8} {:>13} {:>12} {:>8} {:>12} {:>11}",
        "optimizer", "lr", "Rosenbrock f", "|p - (1,1)|", "lr", "digits loss", "digits acc"
    );
    println!(
        "{:<10} {:>8} {:>13.3e} {:>12.4} {:>8} {:>12.4} {:>11}",
        "(start)",
        "-",
        rosenbrock_start,
        (1.0 - START.0 as f64).hypot(1.0 - START.1 as f64),
        "-",
        digits_start_loss,
        "-"
    );
    for r in &rows {
        println!(
            "{:<10} {:>8} {:>13.3e} {:>12.4} {:>8} {:>12.4} {:>11.3}",
            r.name,
            r.rosenbrock_lr,
            r.rosenbrock,
            r.distance,
            r.digits_lr,
            r.digits_loss,
            r.digits_accuracy
        );
    }
    if let Some(csv) = &config.trajectory_csv {
        write_csv(csv, &paths)?;
        println!("trajectories: {}", csv.display());
    }
    Ok(Report {
        rosenbrock_start,
        digits_start_loss,
        rows,
        csv: config.trajectory_csv.clone(),
    })
}

/// The first element of a named output.
fn first(out: &kiln::Outputs<'_>, name: &str) -> f32 {
    out.get(name)
        .and_then(|t| t.as_f32())
        .and_then(|v| v.first().copied())
        .unwrap_or(f32::NAN)
}

/// A one-element parameter's value.
fn scalar_param(session: &Session, name: &str) -> f32 {
    session
        .param(name)
        .and_then(|t| t.as_f32())
        .and_then(|v| v.first().copied())
        .unwrap_or(f32::NAN)
}

fn main() {
    match run(&Config::full()) {
        Ok(r) => {
            let mut line = String::from("result:");
            for row in &r.rows {
                let _ = write!(line, " rosenbrock_{}={:.3e}", row.name, row.rosenbrock);
            }
            for row in &r.rows {
                let _ = write!(line, " digits_loss_{}={:.4}", row.name, row.digits_loss);
            }
            println!("{line}");
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
