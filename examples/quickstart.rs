//! Quickstart: train a multilayer perceptron on 8,000 bundled MNIST digits and
//! test it on 2,000 others, with the whole training step (forward, backward,
//! Adam update) compiled ahead of time into one plan.
//!
//! `cargo run --release --example quickstart`

use kiln::data::{DataLoader, bundled_dir, mnist};
use kiln::prelude::*;
use kiln::{CompileOptions, Executable, metrics};
use std::time::Instant;

/// What to train, and for how long.
pub struct Config {
    pub epochs: usize,
    pub batch: usize,
    pub train_samples: usize,
    pub lr: f32,
}

impl Config {
    /// The demo: 10 epochs over 8,000 digits.
    pub fn full() -> Config {
        Config {
            epochs: 10,
            batch: 128,
            train_samples: 8000,
            lr: 1e-3,
        }
    }
}

/// What a run achieved.
pub struct Report {
    pub test_accuracy: f64,
    pub first_epoch_loss: f64,
    pub last_epoch_loss: f64,
    pub arena_bytes: usize,
}

/// The network: 784 -> 256 -> 256 -> 10 with ReLU, cross-entropy loss. The same
/// code builds the training graph and the evaluation graph; they share
/// parameters by name.
fn mlp(batch: usize) -> Result<Graph, kiln::Error> {
    let b = GraphBuilder::new("mnist_mlp");
    let x = b.input("x", &[batch, 784]);
    let y = b.input_i32("y", &[batch]);
    let fc1 = nn::Linear::new(&b, "fc1", 784, 256);
    let fc2 = nn::Linear::new(&b, "fc2", 256, 256);
    let fc3 = nn::Linear::new(&b, "fc3", 256, 10);
    let logits = fc3.forward(fc2.forward(fc1.forward(x).relu()).relu());
    b.output("logits", logits);
    b.output("loss", F::cross_entropy(logits, y));
    Ok(b.build()?)
}

pub fn run(config: &Config) -> Result<Report, kiln::Error> {
    let digits = mnist(bundled_dir())?;
    let train = digits.take(config.train_samples);
    let test = digits.subset(&(8000..10000).collect::<Vec<_>>());
    println!(
        "MNIST: {} training digits, {} test digits",
        train.len(),
        test.len()
    );

    let step = kiln::compile_train(
        &mlp(config.batch)?,
        TrainConfig::new("loss", Optimizer::adam(config.lr)),
    )?;
    let arena_bytes = step.plan.arena_bytes();
    println!(
        "compiled training step: {} kernels, arena {:.2} MB (temporaries {:.2} MB without reuse)",
        step.plan.steps.len(),
        arena_bytes as f64 / 1e6,
        step.plan.temp_bytes() as f64 / 1e6
    );
    let mut session = Session::new(step.plan, 0)?;
    let eval_batch = 500;
    let mut eval =
        Executable::new(kiln::compile(&mlp(eval_batch)?, &CompileOptions::default())?.plan)?;

    let loader = DataLoader::new(&train, config.batch)
        .shuffle(42)
        .drop_last(true);
    let mut epoch_losses = Vec::new();
    let mut test_accuracy = 0.0;
    for epoch in 0..config.epochs {
        let start = Instant::now();
        let mut loss_sum = 0.0;
        for batch in loader.epoch(epoch as u64) {
            let out = session.run(&[
                ("x", TensorRef::f32(&[config.batch, 784], &batch.x)),
                ("y", TensorRef::i32(&[config.batch], &batch.classes)),
            ])?;
            loss_sum += scalar(&out, "loss") as f64;
        }
        let train_loss = loss_sum / loader.len() as f64;
        epoch_losses.push(train_loss);

        // Evaluate with the training session's current parameters.
        let mut hits = 0;
        for batch in DataLoader::new(&test, eval_batch).epoch(0) {
            let out = eval.run(
                session.store_mut(),
                &[
                    ("x", TensorRef::f32(&[eval_batch, 784], &batch.x)),
                    ("y", TensorRef::i32(&[eval_batch], &batch.classes)),
                ],
            )?;
            let logits = out
                .get("logits")
                .and_then(|t| t.as_f32())
                .unwrap_or_default();
            hits += metrics::correct(logits, 10, &batch.classes, batch.real);
        }
        test_accuracy = hits as f64 / test.len() as f64;
        println!(
            "epoch {:>2}: train loss {train_loss:.4}, test accuracy {test_accuracy:.4} ({:.2}s)",
            epoch + 1,
            start.elapsed().as_secs_f64()
        );
    }
    Ok(Report {
        test_accuracy,
        first_epoch_loss: epoch_losses.first().copied().unwrap_or(f64::NAN),
        last_epoch_loss: epoch_losses.last().copied().unwrap_or(f64::NAN),
        arena_bytes,
    })
}

/// The first element of a named output.
fn scalar(out: &kiln::Outputs<'_>, name: &str) -> f32 {
    out.get(name)
        .and_then(|t| t.as_f32())
        .and_then(|v| v.first().copied())
        .unwrap_or(f32::NAN)
}

fn main() {
    let config = Config::full();
    match run(&config) {
        Ok(r) => println!(
            "result: mnist_test_acc={:.4} epochs={} final_train_loss={:.4} arena_bytes={}",
            r.test_accuracy, config.epochs, r.last_epoch_loss, r.arena_bytes
        ),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
