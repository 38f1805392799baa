//! The canonical workloads of WORKLOADS.md on kiln: inference and training
//! steps of every zoo model, median of many in-process runs, printed as a table.
//!
//! `cargo bench --bench zoo` (add `-- mlp` to run one model). Runs one thread
//! unless `KILN_NUM_THREADS` says otherwise (read by the runtime when a plan
//! is loaded: large GEMMs are then split over that many threads). The machine
//! is noisy: compare ratios measured in one run, not numbers across runs.

use kiln::ir::DType;
use kiln::ir::cost::graph_cost;
use kiln::{CompileOptions, Optimizer, Session, TensorRef, TrainConfig, zoo};
use std::time::{Duration, Instant};

/// Median and minimum of `runs` timed calls after `warmup` untimed ones.
fn time(mut f: impl FnMut(), warmup: usize, min_runs: usize) -> (Duration, Duration) {
    for _ in 0..warmup {
        f();
    }
    let mut samples = Vec::new();
    let start = Instant::now();
    while samples.len() < min_runs
        || (start.elapsed() < Duration::from_secs(1) && samples.len() < 2000)
    {
        let t = Instant::now();
        f();
        samples.push(t.elapsed());
    }
    samples.sort();
    (samples[samples.len() / 2], samples[0])
}

struct Feeds {
    f32s: Vec<(String, Vec<usize>, Vec<f32>)>,
    i32s: Vec<(String, Vec<usize>, Vec<i32>)>,
}

fn feeds(graph: &kiln::ir::Graph) -> Feeds {
    let mut f = Feeds {
        f32s: vec![],
        i32s: vec![],
    };
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for id in graph.inputs() {
        let node = graph.node(id);
        let name = node.op.symbol().expect("named").to_string();
        let dims = node.ty.shape.0.clone();
        let n = node.ty.shape.numel();
        match node.ty.dtype {
            DType::F32 => f.f32s.push((
                name,
                dims,
                (0..n)
                    .map(|_| (next() % 2000) as f32 / 1000.0 - 1.0)
                    .collect(),
            )),
            DType::I32 => f
                .i32s
                .push((name, dims, (0..n).map(|_| (next() % 10) as i32).collect())),
        }
    }
    f
}

fn bench(label: &str, graph: &kiln::ir::Graph, options: &CompileOptions, flops: u64) {
    let compiled = kiln::compile(graph, options).expect("compiles");
    let arena = compiled.plan.arena_bytes();
    let mut session = Session::new(compiled.plan, 0).expect("loads");
    let data = feeds(graph);
    let mut refs: Vec<(&str, TensorRef<'_>)> = Vec::new();
    for (n, d, v) in &data.f32s {
        refs.push((n, TensorRef::f32(d, v)));
    }
    for (n, d, v) in &data.i32s {
        refs.push((n, TensorRef::i32(d, v)));
    }
    let (median, min) = time(
        || {
            session.run(&refs).expect("runs");
        },
        5,
        20,
    );
    let ms = median.as_secs_f64() * 1e3;
    println!(
        "| {label:<22} | {:>9.3} | {:>9.3} | {:>7.1} | {:>8.2} |",
        ms,
        min.as_secs_f64() * 1e3,
        flops as f64 / median.as_secs_f64() / 1e9,
        arena as f64 / 1e6
    );
}

fn main() {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    println!("| workload               | median ms |    min ms | GFLOP/s | arena MB |");
    println!("|---|---:|---:|---:|---:|");
    for name in zoo::NAMES {
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        let batch = zoo::workload_batch(name).expect("zoo batch");
        let infer1 = zoo::build(name, 1).expect("known").expect("builds");
        let fwd1 = matmul_conv_flops(&infer1);
        bench(
            &format!("{name} infer b1"),
            &infer1,
            &CompileOptions::default(),
            fwd1,
        );
        if name == "mlp" {
            let infer128 = zoo::build(name, 128).expect("known").expect("builds");
            bench(
                "mlp infer b128",
                &infer128,
                &CompileOptions::default(),
                matmul_conv_flops(&infer128),
            );
        }
        let graph = zoo::build(name, batch).expect("known").expect("builds");
        let optimizer = if name == "lenet5" {
            Optimizer::momentum(0.01, 0.9)
        } else {
            Optimizer::adam(1e-3)
        };
        // WORKLOADS.md convention: a training step is 3x the forward matmul/conv FLOPs.
        let step_flops = 3 * matmul_conv_flops(&graph);
        bench(
            &format!("{name} train b{batch}"),
            &graph,
            &CompileOptions::train(TrainConfig::new("loss", optimizer)),
            step_flops,
        );
    }
}

/// Forward matmul and convolution FLOPs (multiply-add = 2).
fn matmul_conv_flops(graph: &kiln::ir::Graph) -> u64 {
    graph
        .ids()
        .filter(|&id| {
            matches!(
                graph.op(id).class(),
                kiln::ir::OpClass::MatMul | kiln::ir::OpClass::Conv
            )
        })
        .map(|id| kiln::ir::cost::node_cost(graph, id).flops)
        .sum::<u64>()
        .max(graph_cost(graph).flops.min(1))
}
