//! A compiled training step allocates nothing from its second run on, on any
//! thread, and writes parameters and optimizer state in place.
//!
//! A counting global allocator counts heap allocations of all threads (the
//! helper threads of a 2-thread session included) during `Session::run` of the
//! zoo's MLP (Adam) and LeNet-5 (SGD with momentum) training steps; this file
//! holds one test, so no other test allocates meanwhile.

use kiln::ir::plan::{Kernel, Region};
use kiln::{Optimizer, Session, TensorRef, TrainConfig, zoo};
use kiln_runtime::testing::{CountingAllocator, global_allocations};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn check(name: &str, batch: usize, optimizer: Optimizer, x_dims: &[usize], threads: usize) {
    let graph = zoo::build(name, batch).expect("known").expect("builds");
    let step = kiln::compile_train(&graph, TrainConfig::new("loss", optimizer)).expect("compiles");
    // In place: no step copies a finished value into a param or state; the
    // steps computing the new values write there directly.
    let copies = step
        .plan
        .steps
        .iter()
        .filter(|s| {
            s.kernel == Kernel::Copy
                && matches!(s.output.region, Region::Param(_) | Region::State(_))
        })
        .count();
    assert_eq!(copies, 0, "{name}: {copies} update copies");
    let writers = step
        .plan
        .steps
        .iter()
        .filter(|s| matches!(s.output.region, Region::Param(_)))
        .count();
    assert_eq!(
        writers,
        step.plan.params.len(),
        "{name}: every param is written once, in place"
    );
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
    let start = global_allocations();
    let mut last = first;
    for _ in 0..4 {
        let out = session.run(&feeds).expect("runs");
        last = out.get("loss").and_then(|t| t.as_f32()).expect("loss")[0];
    }
    let allocated = global_allocations() - start;
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
