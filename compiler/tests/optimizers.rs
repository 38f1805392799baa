//! Optimizer fixtures: five steps of every optimizer configuration on a small
//! fixed problem, compared with reference trajectories computed independently
//! by `fixtures/optimizers.py` (plain Python and the published torch.optim
//! formulas; see that file for how to regenerate `optimizers.txt`).
//!
//! The training step is compiled with the real pipeline (autodiff, optimizer
//! lowering, simplification) and run by the reference evaluator in f64, so the
//! comparison is at 1e-6 relative tolerance.

use kiln_compiler::{Clip, Optimizer, PassCx, PassManager, Pipeline, TrainConfig};
use kiln_ir::eval::{Array, Env, Value, evaluate};
use kiln_ir::init::init_store;
use kiln_ir::{GraphBuilder, Init, Literal, Shape};

const W0: [f64; 4] = [0.5, -1.5, 2.0, -0.25];
const A: [f32; 4] = [1.0, 2.0, 0.5, 3.0];
const B: [f32; 4] = [0.125, -0.25, 0.375, 0.0625];

fn config(name: &str) -> TrainConfig {
    let sgd = |lr, momentum, dampening, nesterov, weight_decay| Optimizer::Sgd {
        lr,
        momentum,
        dampening,
        nesterov,
        weight_decay,
    };
    let t = |o: Optimizer| TrainConfig::new("loss", o);
    let adam = |weight_decay, decoupled| Optimizer::Adam {
        lr: 0.125,
        beta1: 0.875,
        beta2: 1.0 - 1.0 / 1024.0,
        eps: 1e-8,
        weight_decay,
        decoupled,
    };
    let rms = |momentum, centered, weight_decay| Optimizer::RmsProp {
        lr: 0.015625,
        alpha: 0.9921875,
        eps: 1e-8,
        weight_decay,
        momentum,
        centered,
    };
    match name {
        "gd" => t(Optimizer::sgd(0.125)),
        "momentum" => t(Optimizer::momentum(0.125, 0.875)),
        "nesterov" => t(Optimizer::nesterov(0.125, 0.875)),
        "sgd_dampening_wd" => t(sgd(0.0625, 0.75, 0.25, false, 0.015625)),
        "sgd_clip_value" => t(Optimizer::sgd(0.125)).with_clip(Clip::Value(0.5)),
        "sgd_clip_norm" => t(Optimizer::sgd(0.125)).with_clip(Clip::GlobalNorm(1.0)),
        "adagrad" => t(Optimizer::adagrad(0.125)),
        "adagrad_decay_wd" => t(Optimizer::AdaGrad {
            lr: 0.125,
            lr_decay: 0.0625,
            weight_decay: 0.015625,
            initial_accumulator: 0.125,
            eps: 1e-10,
        }),
        "rmsprop" => t(rms(0.0, false, 0.0)),
        "rmsprop_momentum" => t(rms(0.875, false, 0.0)),
        "rmsprop_centered_wd" => t(rms(0.0, true, 0.015625)),
        "adam" => t(adam(0.0, false)),
        "adam_wd" => t(adam(0.0625, false)),
        "adamw" => t(adam(0.0625, true)),
        other => panic!("no configuration `{other}` in the test"),
    }
}

/// The parameter after each of 5 steps of `name`.
fn trajectory(name: &str) -> Vec<Vec<f64>> {
    let b = GraphBuilder::new("quadratic");
    let w = b.param("w", &[4], Init::Zeros);
    let a = b.literal(Literal::f32([4], A.to_vec()).expect("4 values"));
    let c = b.literal(Literal::f32([4], B.to_vec()).expect("4 values"));
    let loss = (w * w * a * 0.5 + c * w).sum_all();
    b.output("loss", loss);
    let mut graph = b.build().expect("valid graph");
    let cx = PassCx {
        training: Some(config(name)),
        ..PassCx::default()
    };
    PassManager::new(Pipeline::train())
        .with_verify(true)
        .with_cx(cx)
        .run(&mut graph)
        .expect("compiles");

    let mut store: Env<f64> = init_store(&graph, 0);
    store.insert(
        "w".into(),
        Value::Float(Array::new(Shape::from([4]), W0.to_vec()).expect("4 values")),
    );
    (0..5)
        .map(|_| {
            evaluate(&graph, &Env::new(), &mut store).expect("evaluates");
            store["w"].to_f64_vec()
        })
        .collect()
}

#[test]
fn every_optimizer_matches_the_reference_trajectory() {
    let fixture = include_str!("fixtures/optimizers.txt");
    let mut names: Vec<&str> = Vec::new();
    for line in fixture.lines() {
        let name = line.split_whitespace().next().expect("name");
        if !names.contains(&name) {
            names.push(name);
        }
    }
    assert_eq!(names.len(), 14);
    for name in names {
        let ours = trajectory(name);
        for line in fixture
            .lines()
            .filter(|l| l.starts_with(&format!("{name} ")))
        {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let step: usize = fields[1].parse().expect("step");
            let expected: Vec<f64> = fields[2..]
                .iter()
                .map(|v| v.parse().expect("float"))
                .collect();
            for (k, (&got, &want)) in ours[step - 1].iter().zip(&expected).enumerate() {
                let rel = (got - want).abs() / want.abs().max(1e-3);
                assert!(
                    rel <= 1e-6,
                    "{name} step {step} w[{k}]: kiln {got}, reference {want} (relative error {rel:e})"
                );
            }
        }
    }
}
