//! Snapshots of compiled graphs and lowered plans: a change in any pass,
//! the lowering or the memory planner shows up here as a reviewed diff.

use kiln::compiler::{PassCx, PassManager, Pipeline};
use kiln::{CompileOptions, Optimizer, TrainConfig, zoo};

#[test]
fn zoo_after_the_default_pipeline_and_lowered() {
    for name in zoo::NAMES {
        let batch = zoo::workload_batch(name).expect("zoo batch");
        let graph = zoo::build(name, batch).expect("known").expect("builds");
        let compiled = kiln::compile(&graph, &CompileOptions::default()).expect("compiles");
        insta::assert_snapshot!(format!("optimized_{name}"), compiled.graph.to_string());
        insta::assert_snapshot!(format!("plan_{name}"), compiled.plan.to_string());
        assert!(
            compiled.plan.arena_bytes() <= compiled.plan.temp_bytes(),
            "{name}: the arena is never larger than all temporaries"
        );
    }
}

/// The optimizer WORKLOADS.md trains each model with.
fn workload_optimizer(name: &str) -> Optimizer {
    if name == "lenet5" {
        Optimizer::momentum(0.01, 0.9)
    } else {
        Optimizer::adam(1e-3)
    }
}

#[test]
fn zoo_training_steps_after_autodiff_and_after_simplification() {
    for name in zoo::NAMES {
        let batch = zoo::workload_batch(name).expect("zoo batch");
        let graph = zoo::build(name, batch).expect("known").expect("builds");
        let config = TrainConfig::new("loss", workload_optimizer(name));

        let mut after_autodiff = graph.clone();
        let cx = PassCx {
            training: Some(config.clone()),
            ..PassCx::default()
        };
        PassManager::new(Pipeline::from_names(&["autodiff"]).expect("known"))
            .with_verify(true)
            .with_cx(cx)
            .run(&mut after_autodiff)
            .expect("differentiable");
        insta::assert_snapshot!(format!("train_autodiff_{name}"), after_autodiff.to_string());

        let compiled = kiln::compile_train(&graph, config).expect("compiles");
        insta::assert_snapshot!(
            format!("train_optimized_{name}"),
            compiled.graph.to_string()
        );
        insta::assert_snapshot!(format!("train_plan_{name}"), compiled.plan.to_string());
    }
}
