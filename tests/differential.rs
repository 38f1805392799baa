//! Differential tests: plans compiled with the default pipelines and run by the
//! runtime compute what the reference evaluator computes on the original
//! graph, for every zoo model (inference and training steps) and for random
//! graphs from the shared generator.
//!
//! Tolerances: the runtime reorders sums (GEMM blocking, reductions), so
//! values are compared with `|a - b| <= 1e-4·(|a| + |b|) + 1e-5·scale + 1e-7`, where
//! `scale` is the largest magnitude in the expected tensor, plus an absolute
//! 1e-7 for tensors that are pure rounding noise (the gradient of an attention
//! key bias is exactly zero in exact arithmetic); NaN equals NaN.

use kiln::ir::eval::{Env, Value, evaluate};
use kiln::ir::init::init_store;
use kiln::ir::testing::{GraphCase, arb_case};
use kiln::ir::{DType, Graph};
use kiln::{CompileOptions, Optimizer, Session, TensorRef, TrainConfig, zoo};
use proptest::prelude::*;

fn close(name: &str, want: &Value<f32>, got: &Value<f32>) -> Result<(), String> {
    if want.ty() != got.ty() {
        return Err(format!("{name}: type {} vs {}", want.ty(), got.ty()));
    }
    let (w, g) = (want.to_f64_vec(), got.to_f64_vec());
    let scale = w.iter().fold(
        0.0f64,
        |m, x| if x.is_finite() { m.max(x.abs()) } else { m },
    );
    for (i, (&a, &b)) in w.iter().zip(&g).enumerate() {
        let ok = (a.is_nan() && b.is_nan())
            || a == b
            || (a - b).abs() <= 1e-4 * (a.abs() + b.abs()) + 1e-5 * scale + 1e-7;
        if !ok {
            return Err(format!("{name}[{i}]: evaluator {a}, runtime {b}"));
        }
    }
    Ok(())
}

/// Deterministic, never-zero feeds for every input of `graph`.
fn feeds_for(graph: &Graph, seed: u64) -> Env<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut env = Env::new();
    for id in graph.inputs() {
        let node = graph.node(id);
        let name = node.op.symbol().expect("inputs are named").to_string();
        let n = node.ty.shape.numel();
        let value = match node.ty.dtype {
            DType::F32 => Value::float(
                node.ty.shape.clone(),
                (0..n)
                    .map(|_| ((next() % 2000) as f32 / 1000.0 - 1.0) + 0.0005)
                    .collect(),
            ),
            // Labels and token ids: the zoo's class counts and vocabularies are at least 10.
            DType::I32 => Value::int(
                node.ty.shape.clone(),
                (0..n).map(|_| (next() % 10) as i32).collect(),
            ),
        };
        env.insert(name, value.expect("sizes match"));
    }
    env
}

fn run_session(session: &mut Session, feeds: &Env<f32>) -> Env<f32> {
    let refs: Vec<(&str, TensorRef<'_>)> = feeds
        .iter()
        .map(|(k, v)| (k.as_str(), TensorRef::from(v)))
        .collect();
    session
        .run(&refs)
        .unwrap_or_else(|e| panic!("run failed: {e}"))
        .to_env()
}

/// Compiles `graph` with `options`, runs it `steps` times on the same feeds,
/// and compares every output and every param and state with the evaluator
/// running the graph the compiler was given.
fn check_against_evaluator(
    name: &str,
    graph: &Graph,
    options: &CompileOptions,
    steps: usize,
) -> Result<(), String> {
    let compiled = kiln::compile(graph, options).map_err(|e| format!("{name}: {e}"))?;
    // The evaluator runs the training-step graph before optimization, so the
    // optimizer passes are checked too.
    let reference_graph = match &options.training {
        Some(config) => {
            let mut g = graph.clone();
            let cx = kiln::compiler::PassCx {
                training: Some(config.clone()),
                ..Default::default()
            };
            kiln::compiler::PassManager::new(
                kiln::Pipeline::from_names(&["autodiff", "optimizer"]).expect("known"),
            )
            .with_cx(cx)
            .run(&mut g)
            .map_err(|e| e.to_string())?;
            g
        }
        None => graph.clone(),
    };
    let mut session = Session::new(compiled.plan, 7).map_err(|e| format!("{name}: {e}"))?;
    let mut store = init_store::<f32>(&reference_graph, 7);
    let feeds = feeds_for(graph, 11);
    for step in 0..steps {
        let want =
            evaluate(&reference_graph, &feeds, &mut store).map_err(|e| format!("{name}: {e}"))?;
        let got = run_session(&mut session, &feeds);
        for (out, w) in &want {
            let g = got
                .get(out)
                .ok_or_else(|| format!("{name}: output {out} missing"))?;
            close(&format!("{name} step {step} output {out}"), w, g)?;
        }
    }
    for (param, w) in &store {
        let g = session
            .param(param)
            .ok_or_else(|| format!("{name}: {param} missing"))?
            .to_value()
            .map_err(|e| e.to_string())?;
        close(&format!("{name} {param} after {steps} steps"), w, &g)?;
    }
    Ok(())
}

#[test]
fn zoo_inference_matches_the_evaluator() {
    for name in zoo::NAMES {
        let graph = zoo::build(name, 2).expect("known").expect("builds");
        check_against_evaluator(name, &graph, &CompileOptions::default(), 1)
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn zoo_training_steps_match_the_evaluator() {
    // SGD with momentum: the update is linear in the gradients, so runtime
    // and evaluator stay within the tolerance over several steps. (Adam's
    // first steps amplify rounding in near-zero gradients to ±lr.)
    for name in zoo::NAMES {
        let batch = if name == "transformer" { 1 } else { 2 };
        let graph = zoo::build(name, batch).expect("known").expect("builds");
        let options =
            CompileOptions::train(TrainConfig::new("loss", Optimizer::momentum(0.05, 0.9)));
        check_against_evaluator(name, &graph, &options, 3).unwrap_or_else(|e| panic!("{e}"));
    }
}

fn check_case(case: &GraphCase) -> Result<(), TestCaseError> {
    let compiled = kiln::compile(&case.graph, &CompileOptions::default())
        .map_err(|e| TestCaseError::fail(format!("{e}\n{}", case.graph)))?;
    let mut session = Session::new(compiled.plan.clone(), case.seed)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let feeds: Env<f32> = case
        .feeds
        .iter()
        .map(|(k, v)| (k.clone(), Value::from_literal(v)))
        .collect();
    let mut store = init_store::<f32>(&case.graph, case.seed);
    for step in 0..2 {
        let want = evaluate(&case.graph, &feeds, &mut store)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let got = run_session(&mut session, &feeds);
        for (out, w) in &want {
            let g = &got[out];
            close(&format!("step {step} output {out}"), w, g).map_err(|e| {
                TestCaseError::fail(format!("{e}\n{}\n{}", case.graph, compiled.plan))
            })?;
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(300)))]

    #[test]
    fn random_graphs_compile_and_run_like_the_evaluator(case in arb_case()) {
        check_case(&case)?;
    }
}
