//! Times single kernels on the shapes of the canonical workloads (the MLP's
//! GEMMs, LeNet's convolutions and pooling, common elementwise steps), each as
//! a one-step plan run through an `Executable`, so the numbers include the
//! executor's per-step cost.
//!
//! `cargo run --release -p kiln-runtime --example bench_kernels`

use kiln_ir::plan::{Kernel, Plan, Region, Slot, Step, Temp, View};
use kiln_ir::{BinaryOp, ConvParams, PoolParams, ReduceOp, Shape, TensorType, UnaryOp};
use kiln_runtime::{Executable, ParamStore, TensorRef};
use std::time::Instant;

/// A dense input `in{i}` of `dims`, read through `strides` (None = dense).
struct In {
    dims: Vec<usize>,
    view: Option<(Vec<usize>, Vec<usize>)>,
}

fn dense(dims: &[usize]) -> In {
    In {
        dims: dims.to_vec(),
        view: None,
    }
}

/// The transpose of a dense `[r, c]` buffer: a `[c, r]` view.
fn transposed(r: usize, c: usize) -> In {
    In {
        dims: vec![r, c],
        view: Some((vec![c, r], vec![1, c])),
    }
}

fn plan(kernel: Kernel, ins: &[In], out: &[usize], scratch: usize) -> Plan {
    let inputs: Vec<Slot> = ins
        .iter()
        .enumerate()
        .map(|(i, x)| Slot {
            name: format!("in{i}"),
            ty: TensorType::f32(x.dims.clone()),
            init: None,
        })
        .collect();
    let views = ins
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let region = Region::Input(i as u32);
            match &x.view {
                None => View::dense(region, &TensorType::f32(x.dims.clone())),
                Some((shape, strides)) => View {
                    region,
                    dtype: kiln_ir::DType::F32,
                    offset: 0,
                    shape: Shape::from(shape.clone()),
                    strides: strides.clone(),
                },
            }
        })
        .collect();
    let out_ty = TensorType::f32(out.to_vec());
    let n = out_ty.shape.numel();
    let mut temps = vec![Temp {
        ty: out_ty.clone(),
        offset: 0,
        node: None,
    }];
    let off = n.div_ceil(16) * 16;
    let scratch_view = (scratch > 0).then(|| {
        temps.push(Temp {
            ty: TensorType::f32([scratch]),
            offset: off,
            node: None,
        });
        View::dense(Region::Temp(1), &TensorType::f32([scratch]))
    });
    let output = View::dense(Region::Temp(0), &out_ty);
    Plan {
        name: "bench".into(),
        inputs,
        params: vec![],
        states: vec![],
        consts: vec![],
        temps,
        arena_elems: off + scratch,
        steps: vec![Step {
            kernel,
            inputs: views,
            output: output.clone(),
            scratch: scratch_view,
            node: None,
        }],
        outputs: vec![("out".into(), output)],
    }
}

fn bench(name: &str, flops: f64, kernel: Kernel, ins: &[In], out: &[usize], scratch: usize) {
    let mut exe = Executable::new(plan(kernel, ins, out, scratch)).expect("valid plan");
    let mut store = ParamStore::new();
    let data: Vec<Vec<f32>> = ins
        .iter()
        .map(|x| {
            let n: usize = x.dims.iter().product();
            (0..n)
                .map(|i| ((i * 7919 % 1000) as f32 - 500.0) / 500.0)
                .collect()
        })
        .collect();
    let names: Vec<String> = (0..ins.len()).map(|i| format!("in{i}")).collect();
    let feeds: Vec<(&str, TensorRef<'_>)> = ins
        .iter()
        .zip(&data)
        .zip(&names)
        .map(|((x, d), n)| (n.as_str(), TensorRef::f32(&x.dims, d)))
        .collect();
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 20 || (start.elapsed().as_secs_f64() < 0.3 && times.len() < 2000) {
        let t = Instant::now();
        exe.run(&mut store, &feeds).expect("run");
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let med = times[times.len() / 2];
    let rate = if flops > 0.0 {
        format!("{:7.1} GFLOP/s", flops / med / 1e9)
    } else {
        String::new()
    };
    println!("{name:<44} {:>10.1} us  {rate}", med * 1e6);
}

fn main() {
    let mm = |m: usize, k: usize, n: usize| 2.0 * (m * k * n) as f64;
    println!("-- GEMM (mlp 784-256-256-10, batch 128) --");
    bench(
        "fwd1 x[128,784] W1[784,256]",
        mm(128, 784, 256),
        Kernel::MatMul,
        &[dense(&[128, 784]), dense(&[784, 256])],
        &[128, 256],
        0,
    );
    bench(
        "fwd3 h[128,256] W3[256,10]",
        mm(128, 256, 10),
        Kernel::MatMul,
        &[dense(&[128, 256]), dense(&[256, 10])],
        &[128, 10],
        0,
    );
    bench(
        "dW1 = X^T dH1 (784x128x256)",
        mm(784, 128, 256),
        Kernel::MatMul,
        &[transposed(128, 784), dense(&[128, 256])],
        &[784, 256],
        0,
    );
    bench(
        "dH1 = dH2 W2^T (128x256x256)",
        mm(128, 256, 256),
        Kernel::MatMul,
        &[dense(&[128, 256]), transposed(256, 256)],
        &[128, 256],
        0,
    );
    bench(
        "dH2 = dY W3^T (128x10x256)",
        mm(128, 10, 256),
        Kernel::MatMul,
        &[dense(&[128, 10]), transposed(256, 10)],
        &[128, 256],
        0,
    );
    bench(
        "gemv x[1,784] W1[784,256]",
        mm(1, 784, 256),
        Kernel::MatMul,
        &[dense(&[1, 784]), dense(&[784, 256])],
        &[1, 256],
        0,
    );
    bench(
        "gemv x[1,784] W1^T ([256,784] stored)",
        mm(1, 784, 256),
        Kernel::MatMul,
        &[dense(&[1, 784]), transposed(256, 784)],
        &[1, 256],
        0,
    );

    println!("-- elementwise and reductions on [128,256] --");
    let n = 128.0 * 256.0;
    bench(
        "relu",
        n,
        Kernel::Unary(UnaryOp::Relu),
        &[dense(&[128, 256])],
        &[128, 256],
        0,
    );
    bench(
        "exp",
        n,
        Kernel::Unary(UnaryOp::Exp),
        &[dense(&[128, 256])],
        &[128, 256],
        0,
    );
    bench(
        "tanh",
        n,
        Kernel::Unary(UnaryOp::Tanh),
        &[dense(&[128, 256])],
        &[128, 256],
        0,
    );
    bench(
        "add",
        n,
        Kernel::Binary(BinaryOp::Add),
        &[dense(&[128, 256]), dense(&[128, 256])],
        &[128, 256],
        0,
    );
    let bias = In {
        dims: vec![256],
        view: Some((vec![128, 256], vec![0, 1])),
    };
    bench(
        "add bias row (stride-0 broadcast)",
        n,
        Kernel::Binary(BinaryOp::Add),
        &[dense(&[128, 256]), bias],
        &[128, 256],
        0,
    );
    bench(
        "transpose copy [256,128] -> [128,256]",
        0.0,
        Kernel::Copy,
        &[transposed(256, 128)],
        &[128, 256],
        0,
    );
    bench(
        "reduce_sum axis 0 (bias grad)",
        n,
        Kernel::Reduce {
            op: ReduceOp::Sum,
            axes: vec![0],
        },
        &[dense(&[128, 256])],
        &[256],
        0,
    );
    bench(
        "reduce_sum axis 1 (row sums)",
        n,
        Kernel::Reduce {
            op: ReduceOp::Sum,
            axes: vec![1],
        },
        &[dense(&[128, 256])],
        &[128],
        0,
    );
    bench(
        "reduce_max axis 1 of [128,10]",
        1280.0,
        Kernel::Reduce {
            op: ReduceOp::Max,
            axes: vec![1],
        },
        &[dense(&[128, 10])],
        &[128],
        0,
    );

    println!("-- LeNet-5, batch 64 --");
    let c1 = ConvParams::default();
    let conv = |n, c, h, o, k| 2.0 * (n * o * c * k * k * (h - k + 1) * (h - k + 1)) as f64;
    bench(
        "conv1 x[64,1,32,32] w[6,1,5,5]",
        conv(64, 1, 32, 6, 5),
        Kernel::Conv2d(c1),
        &[dense(&[64, 1, 32, 32]), dense(&[6, 1, 5, 5])],
        &[64, 6, 28, 28],
        25 * 784,
    );
    bench(
        "conv2 x[64,6,14,14] w[16,6,5,5]",
        conv(64, 6, 14, 16, 5),
        Kernel::Conv2d(c1),
        &[dense(&[64, 6, 14, 14]), dense(&[16, 6, 5, 5])],
        &[64, 16, 10, 10],
        150 * 100,
    );
    bench(
        "conv2 input grad",
        conv(64, 6, 14, 16, 5),
        Kernel::Conv2dInputGrad(c1),
        &[dense(&[64, 16, 10, 10]), dense(&[16, 6, 5, 5])],
        &[64, 6, 14, 14],
        150 * 100,
    );
    bench(
        "conv2 weight grad",
        conv(64, 6, 14, 16, 5),
        Kernel::Conv2dWeightGrad(c1),
        &[dense(&[64, 6, 14, 14]), dense(&[64, 16, 10, 10])],
        &[16, 6, 5, 5],
        150 * 100,
    );
    bench(
        "conv1 weight grad",
        conv(64, 1, 32, 6, 5),
        Kernel::Conv2dWeightGrad(c1),
        &[dense(&[64, 1, 32, 32]), dense(&[64, 6, 28, 28])],
        &[6, 1, 5, 5],
        25 * 784,
    );
    let p2 = PoolParams::square(2);
    bench(
        "max_pool2d 2x2 [64,6,28,28]",
        0.0,
        Kernel::MaxPool2d(p2),
        &[dense(&[64, 6, 28, 28])],
        &[64, 6, 14, 14],
        0,
    );
    bench(
        "max_pool2d grad",
        0.0,
        Kernel::MaxPool2dGrad(p2),
        &[dense(&[64, 6, 28, 28]), dense(&[64, 6, 14, 14])],
        &[64, 6, 28, 28],
        0,
    );
}
