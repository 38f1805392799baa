//! Classification with a multilayer perceptron: binary (one logit and the
//! binary cross-entropy) and multi-class (one logit per class and the
//! categorical cross-entropy), on real data, with held-out accuracy next to
//! the reference accuracies of `data/README.md`.
//!
//! - Binary: Breast Cancer Wisconsin, 30 features, malignant (0) or benign
//!   (1). The network outputs a logit `z`; `binary_cross_entropy_with_logits`
//!   computes `-(y log σ(z) + (1 - y) log(1 - σ(z)))` without ever forming
//!   `σ(z)`, so it stays finite for any `z`. Predict benign when `z > 0`.
//! - Multi-class: the 8x8 handwritten digits (64 pixels, 10 classes), iris
//!   (4 features, 3 species) and wine (13 features, 3 cultivars). The network
//!   outputs 10 (or 3) logits; `cross_entropy` is `-log softmax(z)[label]`,
//!   and the prediction is the largest logit.
//!
//! Every dataset uses the same recipe: every 5th row is the test set
//! (`split_every(5, 4)`), features standardized with statistics of the
//! training rows, one hidden ReLU layer, Adam on shuffled mini-batches for a
//! fixed number of epochs, and the test set evaluated once at the end with a
//! second graph of the test set's size that shares the trained parameters.
//!
//! The references are logistic regression (no hidden layer) on the same
//! split; a hidden layer is not needed on data this small and clean, so
//! expect the MLP to match them within a sample or two rather than beat them.
//!
//! `cargo run --release --example classification`

use kiln::data::{DataLoader, Dataset, Standardizer, bundled_dir, read_csv};
use kiln::prelude::*;
use kiln::{CompileOptions, Executable, metrics};

/// What to train, and for how long.
pub struct Config {
    pub epochs: usize,
    pub batch: usize,
    pub hidden: usize,
    pub lr: f32,
    /// Also train iris and wine (the two small three-class sets).
    pub small_sets: bool,
    pub seed: u64,
}

impl Config {
    /// The demo.
    pub fn full() -> Config {
        Config {
            epochs: 60,
            batch: 32,
            hidden: 64,
            lr: 1e-3,
            small_sets: true,
            seed: 3,
        }
    }
}

/// Held-out accuracy on one dataset.
pub struct Score {
    pub name: &'static str,
    pub classes: usize,
    pub test_rows: usize,
    pub accuracy: f64,
    /// Logistic regression on the same split (data/README.md).
    pub reference: f64,
    pub first_epoch_loss: f64,
    pub last_epoch_loss: f64,
}

/// What a run achieved.
pub struct Report {
    pub scores: Vec<Score>,
}

impl Report {
    /// The test accuracy on the dataset called `name`.
    pub fn accuracy(&self, name: &str) -> Option<f64> {
        self.scores
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.accuracy)
    }
}

/// `d -> hidden (ReLU) -> logits`. With two classes there is one logit and
/// the binary cross-entropy; with more, one logit per class and the
/// categorical cross-entropy.
fn mlp(batch: usize, d: usize, hidden: usize, classes: usize) -> Result<Graph, kiln::Error> {
    let b = GraphBuilder::new("classifier");
    let x = b.input("x", &[batch, d]);
    let fc1 = nn::Linear::new(&b, "fc1", d, hidden);
    if classes == 2 {
        let y = b.input("y", &[batch, 1]);
        let out = nn::Linear::new(&b, "out", hidden, 1);
        let logits = out.forward(fc1.forward(x).relu());
        b.output("logits", logits);
        b.output(
            "loss",
            F::binary_cross_entropy_with_logits(logits, y, F::Reduction::Mean),
        );
    } else {
        let y = b.input_i32("y", &[batch]);
        let out = nn::Linear::new(&b, "out", hidden, classes);
        let logits = out.forward(fc1.forward(x).relu());
        b.output("logits", logits);
        b.output("loss", F::cross_entropy(logits, y));
    }
    Ok(b.build()?)
}

/// The `y` feed of `n` samples: class indices as `i32[n]`, or for a binary
/// task the same labels as `f32[n, 1]` 0/1 targets (`as_f32`). `dims` is `[n, 1]`.
fn label_feed<'a>(
    labels: &'a [i32],
    as_f32: &'a [f32],
    dims: &'a [usize; 2],
    classes: usize,
) -> TensorRef<'a> {
    if classes == 2 {
        TensorRef::f32(dims, as_f32)
    } else {
        TensorRef::i32(&dims[..1], labels)
    }
}

/// Labels as floats, for the binary cross-entropy.
fn to_f32(labels: &[i32]) -> Vec<f32> {
    labels.iter().map(|&c| c as f32).collect()
}

/// Trains on the every-5th-row split of the CSV file `file` and returns the
/// held-out accuracy.
fn fit(
    name: &'static str,
    file: &str,
    reference: f64,
    config: &Config,
) -> Result<Score, kiln::Error> {
    let data = Dataset::classification(&read_csv(bundled_dir().join(file))?)?;
    let (d, classes) = (data.sample_len(), data.classes());
    let (mut train, mut test) = data.split_every(5, 4);
    let scaler = Standardizer::fit(&train);
    scaler.apply(&mut train);
    scaler.apply(&mut test);
    println!(
        "{name}: {} training rows, {} test rows, {d} features, {classes} classes",
        train.len(),
        test.len()
    );

    let step = kiln::compile_train(
        &mlp(config.batch, d, config.hidden, classes)?,
        TrainConfig::new("loss", Optimizer::adam(config.lr)),
    )?;
    let mut session = Session::new(step.plan, config.seed)?;
    let mut eval = Executable::new(
        kiln::compile(
            &mlp(test.len(), d, config.hidden, classes)?,
            &CompileOptions::default(),
        )?
        .plan,
    )?;

    let loader = DataLoader::new(&train, config.batch)
        .shuffle(config.seed)
        .drop_last(true);
    let (dims_x, dims_y) = ([config.batch, d], [config.batch, 1]);
    let mut losses = Vec::new();
    for epoch in 0..config.epochs {
        let mut sum = 0.0;
        for batch in loader.epoch(epoch as u64) {
            let y = to_f32(&batch.classes);
            let out = session.run(&[
                ("x", TensorRef::f32(&dims_x, &batch.x)),
                ("y", label_feed(&batch.classes, &y, &dims_y, classes)),
            ])?;
            sum += first(&out, "loss") as f64;
        }
        losses.push(sum / loader.len() as f64);
    }

    // The whole test set in one run of the evaluation graph, on the trained
    // parameters (shared by name through the training session's store).
    let test_labels = labels(&test);
    let test_y = to_f32(&test_labels);
    let (dims_x, dims_y) = ([test.len(), d], [test.len(), 1]);
    let out = eval.run(
        session.store_mut(),
        &[
            ("x", TensorRef::f32(&dims_x, &test.x)),
            ("y", label_feed(&test_labels, &test_y, &dims_y, classes)),
        ],
    )?;
    let logits = out
        .get("logits")
        .and_then(|t| t.as_f32())
        .unwrap_or_default();
    let hits = if classes == 2 {
        // One logit: benign (1) when it is positive.
        logits
            .iter()
            .zip(&test_labels)
            .filter(|&(&z, &y)| (z > 0.0) == (y == 1))
            .count()
    } else {
        metrics::correct(logits, classes, &test_labels, test.len())
    };
    let accuracy = hits as f64 / test.len() as f64;
    let (first_epoch_loss, last_epoch_loss) = (
        losses.first().copied().unwrap_or(f64::NAN),
        losses.last().copied().unwrap_or(f64::NAN),
    );
    println!(
        "  {} epochs: train loss {first_epoch_loss:.4} -> {last_epoch_loss:.4}; \
         test accuracy {accuracy:.3} ({hits}/{}), reference {reference:.3}",
        config.epochs,
        test.len()
    );
    Ok(Score {
        name,
        classes,
        test_rows: test.len(),
        accuracy,
        reference,
        first_epoch_loss,
        last_epoch_loss,
    })
}

/// The class label of every sample.
fn labels(d: &Dataset) -> Vec<i32> {
    match &d.targets {
        kiln::data::Targets::Classes(c) => c.clone(),
        kiln::data::Targets::Values { data, .. } => data.iter().map(|&v| v as i32).collect(),
    }
}

/// The first element of a named output.
fn first(out: &kiln::Outputs<'_>, name: &str) -> f32 {
    out.get(name)
        .and_then(|t| t.as_f32())
        .and_then(|v| v.first().copied())
        .unwrap_or(f32::NAN)
}

pub fn run(config: &Config) -> Result<Report, kiln::Error> {
    let mut scores = vec![
        fit("breast_cancer", "breast_cancer.csv", 1.000, config)?,
        fit("digits", "digits8x8.csv", 0.964, config)?,
    ];
    if config.small_sets {
        scores.push(fit("iris", "iris.csv", 0.933, config)?);
        scores.push(fit("wine", "wine.csv", 0.971, config)?);
    }
    println!(
        "{:<14} {:>7} {:>10} {:>9} {:>10}",
        "dataset", "classes", "test rows", "MLP", "reference"
    );
    for s in &scores {
        println!(
            "{:<14} {:>7} {:>10} {:>9.3} {:>10.3}",
            s.name, s.classes, s.test_rows, s.accuracy, s.reference
        );
    }
    Ok(Report { scores })
}

fn main() {
    match run(&Config::full()) {
        Ok(r) => {
            let line: Vec<String> = ["digits", "breast_cancer", "iris", "wine"]
                .iter()
                .filter_map(|&n| r.accuracy(n).map(|a| format!("{n}_acc={a:.3}")))
                .collect();
            println!("result: {}", line.join(" "));
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
