//! Times single kernels on the shapes of the canonical workloads (the MLP's
//! GEMMs, LeNet's convolutions and pooling, a transformer's projections and
//! attention, common elementwise steps), each as a one-step plan run through
//! an `Executable`, so the numbers include the executor's per-step cost.
//!
//! The GEMM table compares, in one process and interleaved call by call (so
//! machine noise hits every column alike), `matrixmultiply::sgemm` (the old
//! path, called directly, one thread: the crate is built without its
//! `threading` feature) with kiln's packed GEMM on 1 and 2 threads. A GEMM
//! counts `2 * m * k * n` FLOP (times the batch); each cell is the median
//! over many calls with hot caches. Peaks are measured at start-up with a
//! register-only FMA loop (the widest vectors the CPU has) on 1 and 2
//! threads, and "% peak" is relative to them.
//!
//! `cargo run --release -p kiln-runtime --example bench_kernels`
//! (`-- gemm` for the GEMM table only, `-- gemm fwd1` for its matching rows).

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

/// One GEMM shape of the table: `batch` products `[m,k] x [k,n]`; a
/// transposed operand is stored the other way round and read through a
/// transposed view (as the compiler emits it).
struct GemmCase {
    name: &'static str,
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
    a_t: bool,
    b_t: bool,
}

const fn g(name: &'static str, m: usize, k: usize, n: usize, a_t: bool, b_t: bool) -> GemmCase {
    GemmCase {
        name,
        batch: 1,
        m,
        k,
        n,
        a_t,
        b_t,
    }
}

/// An operand of `batch` `[r, c]` matrices, stored `[batch, c, r]` when
/// transposed: (stored dims, view dims, view strides).
fn operand(batch: usize, r: usize, c: usize, t: bool) -> In {
    let (stored, strides) = if t {
        (vec![batch, c, r], vec![r * c, 1, r])
    } else {
        (vec![batch, r, c], vec![r * c, c, 1])
    };
    In {
        dims: stored,
        view: Some((vec![batch, r, c], strides)),
    }
}

fn filled(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (((i + seed) * 7919 % 1000) as f32 - 500.0) / 500.0)
        .collect()
}

/// Times each runner once per round, round after round, and returns each
/// one's median seconds per call.
fn interleaved(runners: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    for r in runners.iter_mut() {
        for _ in 0..3 {
            r();
        }
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); runners.len()];
    let start = Instant::now();
    while times[0].len() < 30 || (start.elapsed().as_secs_f64() < 1.0 && times[0].len() < 3000) {
        for (r, t) in runners.iter_mut().zip(&mut times) {
            let t0 = Instant::now();
            r();
            t.push(t0.elapsed().as_secs_f64());
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        })
        .collect()
}

/// FMA throughput (GFLOP/s) of `threads` threads running independent
/// register-only FMA chains.
fn fma_peak(threads: usize) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        #[target_feature(enable = "avx512f")]
        fn chains512(iters: usize) -> f32 {
            let mut acc = [_mm512_set1_ps(0.0); 16];
            let (a, b) = (_mm512_set1_ps(1.000_000_1), _mm512_set1_ps(0.999_999_9));
            for _ in 0..iters {
                for x in acc.iter_mut() {
                    *x = _mm512_fmadd_ps(*x, a, b);
                }
            }
            acc.iter().fold(0.0, |s, x| s + _mm512_reduce_add_ps(*x))
        }
        #[target_feature(enable = "avx2,fma")]
        fn chains256(iters: usize) -> f32 {
            let mut acc = [_mm256_set1_ps(0.0); 12];
            let (a, b) = (_mm256_set1_ps(1.000_000_1), _mm256_set1_ps(0.999_999_9));
            for _ in 0..iters {
                for x in acc.iter_mut() {
                    *x = _mm256_fmadd_ps(*x, a, b);
                }
            }
            let mut lanes = [0.0f32; 8];
            for x in &acc {
                let mut l = [0.0f32; 8];
                // SAFETY: `l` is 8 writable floats.
                unsafe { _mm256_storeu_ps(l.as_mut_ptr(), *x) };
                for (s, v) in lanes.iter_mut().zip(l) {
                    *s += v;
                }
            }
            lanes.iter().sum()
        }
        let iters = 20_000_000;
        let one = || -> f64 {
            let t = Instant::now();
            let flop = if is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F (checked).
                std::hint::black_box(unsafe { chains512(iters) });
                (iters * 16 * 16 * 2) as f64
            } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                // SAFETY: the CPU has AVX2 and FMA (checked).
                std::hint::black_box(unsafe { chains256(iters) });
                (iters * 12 * 8 * 2) as f64
            } else {
                return f64::NAN;
            };
            flop / t.elapsed().as_secs_f64() / 1e9
        };
        (0..3)
            .map(|_| {
                std::thread::scope(|s| {
                    let hs: Vec<_> = (0..threads).map(|_| s.spawn(one)).collect();
                    hs.into_iter().map(|h| h.join().unwrap()).sum::<f64>()
                })
            })
            .fold(0.0, f64::max)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = threads;
        f64::NAN
    }
}

/// A one-step matmul plan of `c`, loaded with `threads` threads, as a
/// runner; `mm` is `matrixmultiply` on the same data.
fn gemm_row(c: &GemmCase, peaks: (f64, f64)) {
    let (bt, m, k, n) = (c.batch, c.m, c.k, c.n);
    let ins = [operand(bt, m, k, c.a_t), operand(bt, k, n, c.b_t)];
    let (a, b) = (filled(bt * m * k, 1), filled(bt * k * n, 2));
    let kernel_plan = || plan(Kernel::MatMul, &ins, &[bt, m, n], 0);
    let mut exes: Vec<(Executable, ParamStore)> = [1, 2]
        .into_iter()
        .map(|t| {
            let exe = Executable::with_threads(kernel_plan(), t).expect("valid plan");
            (exe, ParamStore::new())
        })
        .collect();
    let feeds = [
        ("in0", TensorRef::f32(&ins[0].dims, &a)),
        ("in1", TensorRef::f32(&ins[1].dims, &b)),
    ];
    let mut out = vec![0.0f32; bt * m * n];
    let sa = |t: bool, r: usize, c: usize| if t { (1, r as isize) } else { (c as isize, 1) };
    let (a_s, b_s) = (sa(c.a_t, m, k), sa(c.b_t, k, n));
    let mut mm = || {
        for i in 0..bt {
            // SAFETY: dense buffers of `bt` matrices each, strides as stored.
            unsafe {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    1.0,
                    a.as_ptr().add(i * m * k),
                    a_s.0,
                    a_s.1,
                    b.as_ptr().add(i * k * n),
                    b_s.0,
                    b_s.1,
                    0.0,
                    out.as_mut_ptr().add(i * m * n),
                    n as isize,
                    1,
                )
            };
        }
    };
    let (e1, e2) = exes.split_at_mut(1);
    let mut k1 = || {
        e1[0].0.run(&mut e1[0].1, &feeds).expect("run");
    };
    let mut k2 = || {
        e2[0].0.run(&mut e2[0].1, &feeds).expect("run");
    };
    let t = interleaved(&mut [&mut mm, &mut k1, &mut k2]);
    let flop = 2.0 * (bt * m * k * n) as f64;
    let rate: Vec<f64> = t.iter().map(|s| flop / s / 1e9).collect();
    let dims = if bt > 1 {
        format!("{bt}x({m}x{k}x{n})")
    } else {
        format!("{m}x{k}x{n}")
    };
    println!(
        "| {:<26} | {:>15} | {:>8.1} | {:>8.1} | {:>8.1} | {:>5.2} | {:>5.2} | {:>4.0}% | {:>4.0}% | {:>7.1} |",
        c.name,
        dims,
        rate[0],
        rate[1],
        rate[2],
        rate[1] / rate[0],
        rate[2] / rate[0],
        100.0 * rate[1] / peaks.0,
        100.0 * rate[2] / peaks.1,
        t[1] * 1e6,
    );
}

fn gemm_table() {
    let isa = kiln_runtime::kernels::gemm::Isa::detected();
    let peaks = (fma_peak(1), fma_peak(2));
    println!(
        "-- GEMM: kiln packed ({isa:?} kernel) vs matrixmultiply 0.3 (1 thread); FMA peak {:.0} GFLOP/s (1 thread), {:.0} (2 threads) --",
        peaks.0, peaks.1
    );
    println!(
        "| {:<26} | {:>15} | {:>8} | {:>8} | {:>8} | {:>5} | {:>5} | {:>5} | {:>5} | {:>7} |",
        "shape",
        "m x k x n",
        "mm 1T",
        "kiln 1T",
        "kiln 2T",
        "1T/mm",
        "2T/mm",
        "%pk1",
        "%pk2",
        "us 1T"
    );
    println!("|{}|", ["---"; 10].join("|"));
    let cases = [
        g("mlp fwd1 x W1", 128, 784, 256, false, false),
        g("mlp fwd2 h1 W2", 128, 256, 256, false, false),
        g("mlp fwd3 h2 W3", 128, 256, 10, false, false),
        g("mlp dW1 = X^T dH1", 784, 128, 256, true, false),
        g("mlp dW2 = H1^T dH2", 256, 128, 256, true, false),
        g("mlp dW3 = H2^T dY", 256, 128, 10, true, false),
        g("mlp dH2 = dY W3^T", 128, 10, 256, false, true),
        g("mlp dH1 = dH2 W2^T", 128, 256, 256, false, true),
        g("mlp dX = dH1 W1^T", 128, 256, 784, false, true),
        g("gemv x W1", 1, 784, 256, false, false),
        g("gemv x W1^T", 1, 784, 256, false, true),
        g("lenet conv1 fwd (1 image)", 6, 25, 784, false, false),
        g("lenet conv2 fwd (1 image)", 16, 150, 100, false, false),
        g("lenet conv2 dcol (1 image)", 150, 16, 100, true, false),
        g("lenet conv2 dW (1 image)", 16, 100, 150, false, true),
        g("lenet conv1 dW (1 image)", 6, 784, 25, false, true),
        g("transformer qkv x Wqkv", 2048, 128, 384, false, false),
        g("transformer out proj", 2048, 128, 128, false, false),
        GemmCase {
            batch: 128,
            ..g("attention Q K^T", 64, 32, 64, false, true)
        },
        GemmCase {
            batch: 128,
            ..g("attention P V", 64, 64, 32, false, false)
        },
        g("square 512", 512, 512, 512, false, false),
    ];
    // `bench_kernels gemm NAME`: only the rows whose name contains NAME.
    let filter = std::env::args().nth(2).unwrap_or_default();
    for c in cases.iter().filter(|c| c.name.contains(&filter)) {
        gemm_row(c, peaks);
    }
}

fn main() {
    gemm_table();
    if std::env::args().any(|a| a == "gemm") {
        return;
    }

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
