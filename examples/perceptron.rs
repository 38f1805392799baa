//! The perceptron: Rosenblatt's learning rule, its convergence on linearly
//! separable data, its failure on XOR, and the hidden layer that fixes it.
//!
//! The perceptron predicts `ŷ = sign(w·x + b)` and, after every sample, moves
//! its weights towards the right answer:
//!
//! ```text
//! w ← w + lr·(y - ŷ)·x        b ← b + lr·(y - ŷ)        (labels y = ±1)
//! ```
//!
//! A correct prediction changes nothing; a wrong one adds `±2·lr·x`. There is
//! no loss and no gradient here, so the rule is written directly as a kiln
//! graph: the new weights are ordinary ops, and two `update` sinks write them
//! into the parameters after each run. No autodiff, no optimizer.
//!
//! 1. Iris setosa against versicolor on two standardized features (sepal
//!    length and width) is linearly separable, so by the perceptron
//!    convergence theorem the rule reaches an epoch without a mistake.
//! 2. XOR is not linearly separable: no line puts (0,0), (1,1) on one side and
//!    (0,1), (1,0) on the other, so the rule cycles forever.
//! 3. A 2-layer MLP with a sigmoid hidden layer, trained with autodiff and Adam
//!    on binary cross-entropy, draws the two lines XOR needs.
//!
//! `cargo run --release --example perceptron`

use kiln::data::{Dataset, SplitMix64, Standardizer, bundled_dir, read_csv};
use kiln::prelude::*;
use kiln::{CompileOptions, Executable};

/// What to train, and for how long.
pub struct Config {
    /// Perceptron step size (with zero initial weights it only scales `w`
    /// and `b`, so it never changes a prediction; 1.0 is the textbook value).
    pub lr: f32,
    /// Epochs allowed on the separable data before giving up.
    pub max_epochs: usize,
    /// Epochs the perceptron is given on XOR.
    pub xor_epochs: usize,
    /// Full-batch Adam steps for the MLP on XOR.
    pub mlp_steps: usize,
    pub hidden: usize,
    pub seed: u64,
}

impl Config {
    /// The demo.
    pub fn full() -> Config {
        Config {
            lr: 1.0,
            max_epochs: 100,
            xor_epochs: 1000,
            mlp_steps: 1000,
            hidden: 4,
            seed: 7,
        }
    }
}

/// What a run achieved.
pub struct Report {
    /// The first epoch without a single mistake on the separable data.
    pub separable_epochs: Option<usize>,
    /// Training errors of the final perceptron on the separable data.
    pub separable_errors: usize,
    pub separable_samples: usize,
    /// Errors of the final perceptron on the four XOR points.
    pub xor_perceptron_errors: usize,
    /// The fewest mistakes the perceptron made in any XOR epoch (never zero:
    /// no line separates XOR).
    pub xor_min_epoch_mistakes: usize,
    /// Accuracy of the MLP on the four XOR points.
    pub xor_mlp_accuracy: f64,
    pub xor_mlp_loss: f32,
}

/// One perceptron step on one sample `x[d]` with label `y[1] = ±1`: outputs
/// the prediction made with the current weights, then updates them.
fn perceptron_step(d: usize, lr: f32) -> Result<Graph, kiln::Error> {
    let b = GraphBuilder::new("perceptron_step");
    let x = b.input("x", &[d]);
    let y = b.input("y", &[1]);
    let w = b.param("w", &[d], Init::Zeros);
    let bias = b.param("b", &[1], Init::Zeros);
    let pred = F::sign((w * x).sum_keepdim(0) + bias);
    b.output("pred", pred);
    // y - ŷ is 0 when right and ±2 when wrong (±1 while the score is exactly 0).
    let err = y - pred;
    b.update("w", w + x * (err * lr));
    b.update("b", bias + err * lr);
    Ok(b.build()?)
}

/// The same perceptron applied to `n` samples at once, with no update: how
/// many training errors the current weights make.
fn perceptron_predict(n: usize, d: usize) -> Result<Graph, kiln::Error> {
    let b = GraphBuilder::new("perceptron_predict");
    let x = b.input("x", &[n, d]);
    let w = b.param("w", &[d], Init::Zeros);
    let bias = b.param("b", &[1], Init::Zeros);
    b.output("pred", F::sign((x * w).sum(1) + bias));
    Ok(b.build()?)
}

/// The outcome of training a perceptron sample by sample.
struct PerceptronRun {
    /// Mistakes made during each epoch.
    epoch_mistakes: Vec<usize>,
    /// Errors of the final weights on all the samples.
    final_errors: usize,
    w: Vec<f32>,
    b: f32,
}

/// Trains a perceptron on `x[n, d]` with labels `±1`, in a fresh seeded
/// order every epoch, until an epoch without a mistake or `max_epochs`.
fn train_perceptron(
    x: &[f32],
    y: &[f32],
    d: usize,
    lr: f32,
    max_epochs: usize,
    seed: u64,
) -> Result<PerceptronRun, kiln::Error> {
    let n = y.len();
    let step = kiln::compile(&perceptron_step(d, lr)?, &CompileOptions::default())?;
    let mut session = Session::new(step.plan, seed)?;
    let mut rng = SplitMix64::new(seed);
    let mut order: Vec<usize> = (0..n).collect();
    let mut epoch_mistakes = Vec::new();
    for _ in 0..max_epochs {
        rng.shuffle(&mut order);
        let mut mistakes = 0;
        for &i in &order {
            let out = session.run(&[
                ("x", TensorRef::f32(&[d], &x[i * d..(i + 1) * d])),
                ("y", TensorRef::f32(&[1], &y[i..i + 1])),
            ])?;
            if first(&out, "pred") != y[i] {
                mistakes += 1;
            }
        }
        epoch_mistakes.push(mistakes);
        if mistakes == 0 {
            break;
        }
    }

    // Count the final weights' errors with the batch graph on the same store.
    let mut predict = Executable::new(
        kiln::compile(&perceptron_predict(n, d)?, &CompileOptions::default())?.plan,
    )?;
    let out = predict.run(session.store_mut(), &[("x", TensorRef::f32(&[n, d], x))])?;
    let preds = out.get("pred").and_then(|t| t.as_f32()).unwrap_or_default();
    let final_errors = preds.iter().zip(y).filter(|(p, t)| p != t).count();
    let w = param(&session, "w");
    let b = param(&session, "b").first().copied().unwrap_or(f32::NAN);
    Ok(PerceptronRun {
        epoch_mistakes,
        final_errors,
        w,
        b,
    })
}

/// The 2-layer MLP for XOR: `2 -> hidden (sigmoid) -> 1 (sigmoid)`, BCE loss.
fn xor_mlp(hidden: usize) -> Result<Graph, kiln::Error> {
    let b = GraphBuilder::new("xor_mlp");
    let x = b.input("x", &[4, 2]);
    let y = b.input("y", &[4, 1]);
    let hidden_layer = nn::Linear::new(&b, "hidden", 2, hidden);
    let out_layer = nn::Linear::new(&b, "out", hidden, 1);
    let p = F::sigmoid(out_layer.forward(F::sigmoid(hidden_layer.forward(x))));
    b.output("p", p);
    b.output("loss", F::binary_cross_entropy(p, y, F::Reduction::Mean));
    Ok(b.build()?)
}

pub fn run(config: &Config) -> Result<Report, kiln::Error> {
    // 1. Setosa (class 0) against versicolor (class 1), sepal length and width.
    let iris = Dataset::classification(&read_csv(bundled_dir().join("iris.csv"))?)?;
    let labels = match &iris.targets {
        kiln::data::Targets::Classes(c) => c.clone(),
        kiln::data::Targets::Values { .. } => Vec::new(),
    };
    let mut x = Vec::new();
    let mut y = Vec::new();
    for (i, &label) in labels.iter().enumerate() {
        if label < 2 {
            x.extend_from_slice(&iris.x[i * 4..i * 4 + 2]);
            y.push(if label == 0 { -1.0 } else { 1.0 });
        }
    }
    Standardizer::fit_values(&x, 2).apply_values(&mut x);
    println!(
        "iris setosa (-1) vs versicolor (+1) on standardized sepal length and width: {} samples",
        y.len()
    );
    let sep = train_perceptron(&x, &y, 2, config.lr, config.max_epochs, config.seed)?;
    for (e, m) in sep.epoch_mistakes.iter().enumerate() {
        println!("  epoch {:>3}: {m} mistakes", e + 1);
    }
    let separable_epochs = match sep.epoch_mistakes.last() {
        Some(0) => Some(sep.epoch_mistakes.len()),
        _ => None,
    };
    match separable_epochs {
        Some(e) => println!(
            "  converged: epoch {e} made no mistake; w = {:.3?}, b = {:.3}; training errors {}",
            sep.w, sep.b, sep.final_errors
        ),
        None => println!(
            "  not converged after {} epochs ({} training errors)",
            config.max_epochs, sep.final_errors
        ),
    }

    // 2. XOR with labels ±1: the perceptron cannot separate it.
    let xor_x = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
    let xor_pm = [-1.0, 1.0, 1.0, -1.0];
    println!("XOR, perceptron, {} epochs:", config.xor_epochs);
    let xor = train_perceptron(
        &xor_x,
        &xor_pm,
        2,
        config.lr,
        config.xor_epochs,
        config.seed,
    )?;
    let xor_min_epoch_mistakes = xor.epoch_mistakes.iter().copied().min().unwrap_or(0);
    println!(
        "  after {} epochs: w = {:.3?}, b = {:.3}, still {} of 4 points wrong; \
         every epoch made at least {} mistake(s): a single line cannot separate XOR",
        xor.epoch_mistakes.len(),
        xor.w,
        xor.b,
        xor.final_errors,
        xor_min_epoch_mistakes
    );

    // 3. A hidden layer: the MLP, trained with autodiff + Adam on BCE.
    let xor_01 = [0.0, 1.0, 1.0, 0.0];
    let step = kiln::compile_train(
        &xor_mlp(config.hidden)?,
        TrainConfig::new("loss", Optimizer::adam(0.05)),
    )?;
    let mut session = Session::new(step.plan, config.seed)?;
    let feeds = [
        ("x", TensorRef::f32(&[4, 2], &xor_x)),
        ("y", TensorRef::f32(&[4, 1], &xor_01)),
    ];
    for s in 0..config.mlp_steps {
        let out = session.run(&feeds)?;
        if s % (config.mlp_steps / 5).max(1) == 0 {
            println!("  MLP step {s:>4}: BCE {:.4}", first(&out, "loss"));
        }
    }
    // A run's outputs are computed before its update, so one more run reports
    // the loss and probabilities of the final weights.
    let out = session.run(&feeds)?;
    let loss = first(&out, "loss");
    let probs = out
        .get("p")
        .and_then(|t| t.as_f32())
        .unwrap_or_default()
        .to_vec();
    let hits = probs
        .iter()
        .zip(xor_01)
        .filter(|&(&p, t)| (p > 0.5) == (t > 0.5))
        .count();
    let xor_mlp_accuracy = hits as f64 / 4.0;
    println!(
        "  MLP ({} sigmoid hidden units): BCE {loss:.4}, p(XOR=1) for 00,01,10,11 = {:.3?}, accuracy {xor_mlp_accuracy:.2}",
        config.hidden, probs
    );

    Ok(Report {
        separable_epochs,
        separable_errors: sep.final_errors,
        separable_samples: y.len(),
        xor_perceptron_errors: xor.final_errors,
        xor_min_epoch_mistakes,
        xor_mlp_accuracy,
        xor_mlp_loss: loss,
    })
}

/// The first element of a named output.
fn first(out: &kiln::Outputs<'_>, name: &str) -> f32 {
    out.get(name)
        .and_then(|t| t.as_f32())
        .and_then(|v| v.first().copied())
        .unwrap_or(f32::NAN)
}

/// A parameter's current values.
fn param(session: &Session, name: &str) -> Vec<f32> {
    session
        .param(name)
        .and_then(|t| t.as_f32())
        .unwrap_or_default()
        .to_vec()
}

fn main() {
    let config = Config::full();
    match run(&config) {
        Ok(r) => println!(
            "result: separable_epochs={} separable_errors={} xor_perceptron_errors={} xor_mlp_acc={:.2}",
            r.separable_epochs
                .map_or("none".to_string(), |e| e.to_string()),
            r.separable_errors,
            r.xor_perceptron_errors,
            r.xor_mlp_accuracy
        ),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
