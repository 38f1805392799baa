//! Regression with a multilayer perceptron and the mean squared error, on real
//! tabular data, next to two baselines: predicting the training mean, and
//! ordinary least squares (a linear model, solved in closed form).
//!
//! The recipe every tabular problem needs:
//!
//! - a held-out test set: every 5th row (`split_every(5, 4)`: row `i` is test
//!   when `i % 5 == 4`), the split behind the reference numbers in
//!   `data/README.md`;
//! - standardized features, with the mean and standard deviation fitted on the
//!   training rows only (the test set must not leak into the model);
//! - a standardized target as well, so the network's output layer works near
//!   zero with unit scale; predictions are mapped back to the original units
//!   (miles per gallon) before the errors are reported;
//! - a validation set for early stopping: a network this size can memorize a
//!   few hundred rows, so a seeded 20% of the training rows
//!   (`random_split(&[0.8, 0.2], seed)`) is held back, the parameters of the
//!   epoch with the best validation error are kept (a copy of the parameter
//!   store), and the test set is used once, at the end.
//!
//! Datasets: UCI Auto MPG (fuel consumption from 7 car features; reference
//! linear test RMSE 2.80 mpg) and the Efron et al. diabetes data (disease
//! progression from 10 measurements; reference 57.3), a case where the linear
//! model is hard to beat with 350 training rows. The least-squares baseline
//! uses all the training rows; the MLP trains on 80% of them.
//!
//! `cargo run --release --example regression`

use kiln::data::{DataLoader, Dataset, Standardizer, Targets, bundled_dir, read_csv};
use kiln::prelude::*;
use kiln::{CompileOptions, Executable, ParamStore};

/// What to train, and for how long.
pub struct Config {
    /// Epochs to train; early stopping keeps the best one's parameters.
    pub epochs: usize,
    pub batch: usize,
    pub hidden: usize,
    pub lr: f32,
    /// AdamW's decoupled weight decay: a little shrinkage for 300 rows.
    pub weight_decay: f32,
    /// Also fit the diabetes data.
    pub diabetes: bool,
    pub seed: u64,
}

impl Config {
    /// The demo.
    pub fn full() -> Config {
        Config {
            epochs: 200,
            batch: 32,
            hidden: 32,
            lr: 1e-3,
            weight_decay: 1e-2,
            diabetes: true,
            seed: 1,
        }
    }
}

/// Test errors on one dataset, in the target's original units.
pub struct Scores {
    /// Rows the MLP trained on; the other training rows validate.
    pub train_rows: usize,
    pub val_rows: usize,
    pub test_rows: usize,
    /// The epoch whose parameters were kept (best validation RMSE).
    pub best_epoch: usize,
    /// MLP.
    pub test_mse: f64,
    pub test_rmse: f64,
    pub val_rmse: f64,
    /// Ordinary least squares on the same standardized features.
    pub linear_test_rmse: f64,
    /// Always predicting the training mean.
    pub mean_test_rmse: f64,
}

/// What a run achieved.
pub struct Report {
    pub auto_mpg: Scores,
    pub diabetes: Option<Scores>,
}

/// `d -> hidden -> hidden -> 1` with ReLU, MSE loss. Built once with the
/// training batch size and once with the evaluation batch size; the two graphs
/// share parameters by name.
fn mlp(batch: usize, d: usize, hidden: usize) -> Result<Graph, kiln::Error> {
    let b = GraphBuilder::new("regression_mlp");
    let x = b.input("x", &[batch, d]);
    let y = b.input("y", &[batch, 1]);
    let fc1 = nn::Linear::new(&b, "fc1", d, hidden);
    let fc2 = nn::Linear::new(&b, "fc2", hidden, hidden);
    let out = nn::Linear::new(&b, "out", hidden, 1);
    let pred = out.forward(fc2.forward(fc1.forward(x).relu()).relu());
    b.output("pred", pred);
    b.output("loss", F::mse_loss(pred, y, F::Reduction::Mean));
    Ok(b.build()?)
}

/// The value targets of a dataset.
fn values(d: &Dataset) -> Vec<f32> {
    match &d.targets {
        Targets::Values { data, .. } => data.clone(),
        Targets::Classes(c) => c.iter().map(|&c| c as f32).collect(),
    }
}

/// Root mean squared error.
fn rmse(pred: &[f32], target: &[f32]) -> f64 {
    let n = target.len().max(1) as f64;
    (kiln::metrics::squared_error(pred, target, 1, target.len()) / n).sqrt()
}

/// Ordinary least squares with an intercept, by the normal equations
/// `(XᵀX) β = Xᵀy` and Gaussian elimination (in f64: the system is tiny).
fn least_squares(x: &[f32], y: &[f32], d: usize) -> Vec<f64> {
    let k = d + 1; // the features and a constant 1
    let row = |i: usize| (0..k).map(move |j| if j < d { x[i * d + j] as f64 } else { 1.0 });
    let mut a = vec![0.0f64; k * (k + 1)]; // [XᵀX | Xᵀy]
    for (i, &t) in y.iter().enumerate() {
        let r: Vec<f64> = row(i).collect();
        for p in 0..k {
            for q in 0..k {
                a[p * (k + 1) + q] += r[p] * r[q];
            }
            a[p * (k + 1) + k] += r[p] * t as f64;
        }
    }
    for col in 0..k {
        // Partial pivoting keeps the elimination stable.
        let pivot = (col..k)
            .max_by(|&i, &j| {
                a[i * (k + 1) + col]
                    .abs()
                    .total_cmp(&a[j * (k + 1) + col].abs())
            })
            .unwrap_or(col);
        for j in 0..=k {
            a.swap(col * (k + 1) + j, pivot * (k + 1) + j);
        }
        let p = a[col * (k + 1) + col];
        if p.abs() < 1e-12 {
            continue; // a redundant feature: leave its coefficient at 0
        }
        for i in 0..k {
            if i != col {
                let factor = a[i * (k + 1) + col] / p;
                for j in col..=k {
                    a[i * (k + 1) + j] -= factor * a[col * (k + 1) + j];
                }
            }
        }
    }
    (0..k)
        .map(|i| {
            let p = a[i * (k + 1) + i];
            if p.abs() < 1e-12 {
                0.0
            } else {
                a[i * (k + 1) + k] / p
            }
        })
        .collect()
}

/// The linear model's predictions for `x[n, d]`.
fn predict_linear(beta: &[f64], x: &[f32], d: usize) -> Vec<f32> {
    x.chunks(d)
        .map(|r| {
            let dot: f64 = r.iter().zip(beta).map(|(&v, b)| v as f64 * b).sum();
            (dot + beta[d]) as f32
        })
        .collect()
}

/// The predictions of `exe` for the samples `x[n, d]`, in original units.
fn predict(
    exe: &mut Executable,
    store: &mut ParamStore,
    x: &[f32],
    d: usize,
    target: &Standardizer,
) -> Result<Vec<f32>, kiln::Error> {
    let n = x.len() / d;
    // The graph also computes the loss, so it takes targets; they are unused.
    let zeros = vec![0.0; n];
    let out = exe.run(
        store,
        &[
            ("x", TensorRef::f32(&[n, d], x)),
            ("y", TensorRef::f32(&[n, 1], &zeros)),
        ],
    )?;
    let mut pred = out
        .get("pred")
        .and_then(|t| t.as_f32())
        .unwrap_or_default()
        .to_vec();
    target.invert_values(&mut pred);
    Ok(pred)
}

/// An evaluation executable for exactly `n` samples.
fn evaluator(n: usize, d: usize, hidden: usize) -> Result<Executable, kiln::Error> {
    let compiled = kiln::compile(&mlp(n, d, hidden)?, &CompileOptions::default())?;
    Ok(Executable::new(compiled.plan)?)
}

/// Trains and evaluates everything on the CSV file `name`.
fn fit(name: &str, unit: &str, config: &Config) -> Result<Scores, kiln::Error> {
    let data = Dataset::regression(&read_csv(bundled_dir().join(name))?)?;
    let d = data.sample_len();
    let (mut train_all, mut test) = data.split_every(5, 4);
    let features = Standardizer::fit(&train_all);
    features.apply(&mut train_all);
    features.apply(&mut test);
    let train_all_y = values(&train_all);
    let test_y = values(&test);
    // The network learns the standardized target; `target.invert_values`
    // turns its predictions back into the original units.
    let target = Standardizer::fit_values(&train_all_y, 1);
    println!(
        "{name}: {} training rows, {} test rows (every 5th row), {d} features; \
         target mean {:.2}, std {:.2}{unit}",
        train_all.len(),
        test.len(),
        target.mean[0],
        target.std[0]
    );

    // Baselines, fitted on all the training rows.
    let mean_test_rmse = rmse(&vec![target.mean[0]; test.len()], &test_y);
    let beta = least_squares(&train_all.x, &train_all_y, d);
    let linear_test_rmse = rmse(&predict_linear(&beta, &test.x, d), &test_y);
    println!("  predict the training mean: test RMSE {mean_test_rmse:.3}{unit}");
    println!("  least squares (closed form): test RMSE {linear_test_rmse:.3}{unit}");

    // A network this size can memorize 300 rows, so 20% of the training rows
    // (a seeded random split) are held back to decide when to stop; the test
    // set is looked at once, at the end.
    let mut parts = train_all.random_split(&[0.8, 0.2], config.seed).into_iter();
    let (Some(mut train), Some(val)) = (parts.next(), parts.next()) else {
        let missing = "random_split returns one part per fraction".to_string();
        return Err(kiln::data::DataError::Invalid(missing).into());
    };
    let val_y = values(&val);
    if let Targets::Values { data, .. } = &mut train.targets {
        target.apply_values(data);
    }

    // The MLP, trained on mini-batches with AdamW.
    let optimizer = Optimizer::adamw(config.lr).with_weight_decay(config.weight_decay);
    let step = kiln::compile_train(
        &mlp(config.batch, d, config.hidden)?,
        TrainConfig::new("loss", optimizer),
    )?;
    let mut session = Session::new(step.plan, config.seed)?;
    // One evaluation graph per split, each exactly that split's size.
    let mut eval_val = evaluator(val.len(), d, config.hidden)?;
    let mut eval_test = evaluator(test.len(), d, config.hidden)?;
    let loader = DataLoader::new(&train, config.batch)
        .shuffle(config.seed)
        .drop_last(true);
    let mut best = (f64::INFINITY, 0, session.store().clone());
    let report_every = (config.epochs / 6).max(1);
    for epoch in 1..=config.epochs {
        let mut loss_sum = 0.0;
        for batch in loader.epoch(epoch as u64) {
            let out = session.run(&[
                ("x", TensorRef::f32(&[config.batch, d], &batch.x)),
                ("y", TensorRef::f32(&[config.batch, 1], &batch.values)),
            ])?;
            loss_sum += out
                .get("loss")
                .and_then(|t| t.as_f32())
                .and_then(|v| v.first().copied())
                .unwrap_or(f32::NAN) as f64;
        }
        let pred = predict(&mut eval_val, session.store_mut(), &val.x, d, &target)?;
        let val_rmse = rmse(&pred, &val_y);
        // Early stopping: remember the parameters of the best validation epoch.
        if val_rmse < best.0 {
            best = (val_rmse, epoch, session.store().clone());
        }
        if epoch % report_every == 0 {
            // The training loss is on the standardized target: times std², it
            // is in squared original units.
            let train_rmse = (loss_sum / loader.len() as f64).sqrt() * target.std[0] as f64;
            println!(
                "  MLP epoch {epoch:>4}: train RMSE {train_rmse:.3} (epoch average), validation RMSE {val_rmse:.3}{unit}"
            );
        }
    }
    let (val_rmse, best_epoch, mut store) = best;
    let pred = predict(&mut eval_test, &mut store, &test.x, d, &target)?;
    let test_rmse = rmse(&pred, &test_y);
    println!(
        "  MLP, parameters of epoch {best_epoch} (best validation RMSE {val_rmse:.3}): \
         test MSE {:.3}, test RMSE {test_rmse:.3}{unit} (least squares {linear_test_rmse:.3}, mean {mean_test_rmse:.3})",
        test_rmse * test_rmse
    );
    Ok(Scores {
        train_rows: train.len(),
        val_rows: val.len(),
        test_rows: test.len(),
        best_epoch,
        test_mse: test_rmse * test_rmse,
        test_rmse,
        val_rmse,
        linear_test_rmse,
        mean_test_rmse,
    })
}

pub fn run(config: &Config) -> Result<Report, kiln::Error> {
    let auto_mpg = fit("auto_mpg.csv", " mpg", config)?;
    let diabetes = if config.diabetes {
        Some(fit("diabetes.csv", "", config)?)
    } else {
        None
    };
    Ok(Report { auto_mpg, diabetes })
}

fn main() {
    match run(&Config::full()) {
        Ok(r) => {
            let mut line = format!(
                "result: auto_mpg_test_rmse={:.3} linear_test_rmse={:.3} auto_mpg_test_mse={:.3}",
                r.auto_mpg.test_rmse, r.auto_mpg.linear_test_rmse, r.auto_mpg.test_mse
            );
            if let Some(d) = &r.diabetes {
                line += &format!(
                    " diabetes_test_rmse={:.2} diabetes_linear_test_rmse={:.2}",
                    d.test_rmse, d.linear_test_rmse
                );
            }
            println!("{line}");
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
