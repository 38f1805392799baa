//! A compiled training step allocates nothing from its second run on, and
//! updates parameters in place: their buffers never move.
//!
//! A counting global allocator (per thread, so other tests in the process do
//! not disturb the count) counts heap allocations during `Session::run` of the
//! zoo's MLP (Adam) and LeNet-5 (SGD with momentum) training steps.

use kiln::{Optimizer, Session, TensorRef, TrainConfig, zoo};
use kiln_runtime::testing::{CountingAllocator, allocations};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn check(name: &str, batch: usize, optimizer: Optimizer, x_dims: &[usize], threads: usize) {
    let graph = zoo::build(name, batch).expect("known").expect("builds");
    let step = kiln::compile_train(&graph, TrainConfig::new("loss", optimizer)).expect("compiles");
    let params: Vec<String> = step.plan.params.iter().map(|s| s.name.clone()).collect();
    let mut session = Session::with_threads(step.plan, 0, threads).expect("loads");
    let n: usize = x_dims.iter().product();
    let xs: Vec<f32> = (0..n)
        .map(|i| ((i * 37) % 101) as f32 / 101.0 - 0.5)
        .collect();
    let ys: Vec<i32> = (0..batch as i32).map(|i| i % 10).collect();
    let y_dims = [batch];
    let feeds = [
        ("x", TensorRef::f32(x_dims, &xs)),
        ("y", TensorRef::i32(&y_dims, &ys)),
    ];
    let address = |s: &Session, p: &str| s.param(p).expect("param exists").as_ptr() as usize;

    let first = session
        .run(&feeds)
        .expect("runs")
        .get("loss")
        .and_then(|t| t.as_f32())
        .expect("loss")[0];
    let before: Vec<usize> = params.iter().map(|p| address(&session, p)).collect();
    let start = allocations();
    let mut last = first;
    for _ in 0..4 {
        let out = session.run(&feeds).expect("runs");
        last = out.get("loss").and_then(|t| t.as_f32()).expect("loss")[0];
    }
    let allocated = allocations() - start;
    assert_eq!(
        allocated, 0,
        "{name} ({threads} threads): {allocated} heap allocations in 4 training steps"
    );
    let after: Vec<usize> = params.iter().map(|p| address(&session, p)).collect();
    assert_eq!(before, after, "{name}: parameter buffers moved");
    assert!(
        last < first,
        "{name}: the steps trained nothing ({first} -> {last})"
    );
}

#[test]
fn training_steps_allocate_nothing_after_the_first() {
    for threads in [1, 2] {
        check("mlp", 32, Optimizer::adam(1e-3), &[32, 784], threads);
        check(
            "lenet5",
            8,
            Optimizer::momentum(0.01, 0.9),
            &[8, 1, 32, 32],
            threads,
        );
    }
}
