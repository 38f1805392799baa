//! Property tests: every optimization pass, alone and in the default
//! pipeline, keeps random graphs valid and computing the same outputs (by the
//! reference evaluator) and the same parameter updates.

use kiln_compiler::{PassCx, PassManager, Pipeline, passes};
use kiln_ir::Graph;
use kiln_ir::eval::{Env, Value, evaluate};
use kiln_ir::init::init_store;
use kiln_ir::testing::{GraphCase, arb_case};
use proptest::prelude::*;

/// Outputs and the store after one evaluation of `graph` on the case's feeds.
fn run(graph: &Graph, case: &GraphCase) -> (Env<f32>, Env<f32>) {
    let inputs: Env<f32> = case
        .feeds
        .iter()
        .map(|(k, v)| (k.clone(), Value::from_literal(v)))
        .collect();
    let mut store = init_store::<f32>(graph, case.seed);
    let outputs = evaluate(graph, &inputs, &mut store)
        .unwrap_or_else(|e| panic!("evaluation failed: {e}\n{graph}"));
    (outputs, store)
}

fn close(a: &Value<f32>, b: &Value<f32>) -> bool {
    a.ty() == b.ty()
        && a.to_f64_vec().iter().zip(b.to_f64_vec()).all(|(&x, y)| {
            (x.is_nan() && y.is_nan())
                || x == y
                || (x - y).abs() <= 1e-5 * (1.0 + x.abs().max(y.abs()))
        })
}

fn same_results(before: &(Env<f32>, Env<f32>), after: &(Env<f32>, Env<f32>)) -> Result<(), String> {
    for (env_a, env_b, what) in [
        (&before.0, &after.0, "output"),
        (&before.1, &after.1, "store entry"),
    ] {
        if env_a.keys().ne(env_b.keys()) {
            return Err(format!("{what} names differ"));
        }
        for (name, a) in env_a {
            if !close(a, &env_b[name]) {
                return Err(format!("{what} `{name}` differs"));
            }
        }
    }
    Ok(())
}

fn check_pipeline(case: &GraphCase, pipeline: Pipeline) -> Result<(), TestCaseError> {
    let before = run(&case.graph, case);
    let mut graph = case.graph.clone();
    PassManager::new(pipeline)
        .with_verify(true)
        .with_cx(PassCx::default())
        .run(&mut graph)
        .map_err(|e| TestCaseError::fail(format!("{e}\ninput:\n{}", case.graph)))?;
    let after = run(&graph, case);
    same_results(&before, &after)
        .map_err(|e| TestCaseError::fail(format!("{e}\ninput:\n{}\noutput:\n{graph}", case.graph)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(200)))]

    #[test]
    fn each_pass_alone_preserves_meaning(case in arb_case()) {
        for name in passes::names() {
            if name == "autodiff" || name == "optimizer" {
                continue; // they change the meaning on purpose; tested in autodiff.rs
            }
            check_pipeline(&case, Pipeline::from_names(&[name]).expect("known pass"))?;
        }
    }

    #[test]
    fn the_default_pipeline_preserves_meaning(case in arb_case()) {
        check_pipeline(&case, Pipeline::optimize())?;
    }
}
