//! The packed GEMM against a naive f64 triple loop (and `matrixmultiply` as
//! a second oracle), for every microkernel this CPU can run, forced
//! explicitly: AVX-512, AVX2 and portable are each tested even on an
//! AVX-512 machine.
//!
//! Cases draw `m`, `k`, `n` from 1, sizes around the tile edges (`MR`, `NR`
//! of every kernel, plus and minus one), around the `k` block (384) and up to
//! a few hundred; each operand gets a random layout (row-major, column-major,
//! padded leading dimension, both strides non-unit); `accumulate` on or off;
//! an optional epilogue (bias per row or column, ReLU); one or two threads.
//! `C` lives inside a larger buffer of sentinels, and every element outside
//! the view must come back untouched.
//!
//! Tolerance, per element: `|got - want| <= 2^-23 * (k + 2) * scale` with
//! `scale = Σ_p |a_ip b_pj| + |c_old| + |bias|`: twice the classic bound
//! `(k + 2) u` (u = 2^-24) of a recursive f32 sum of `k + 2` terms, which any
//! summation order within a blocked FMA sum satisfies.
//!
//! Cases: proptest's default (256) per property; `PROPTEST_CASES` for more.

use kiln_runtime::Workers;
use kiln_runtime::kernels::gemm::{
    Bias, Epilogue, GemmCx, GemmShape, Isa, Route, gemm_ex, pack_scratch_len,
};
use proptest::prelude::*;
use std::sync::OnceLock;

/// How a matrix is laid out in its buffer.
#[derive(Clone, Copy, Debug)]
enum Layout {
    RowMajor,
    ColMajor,
    /// Row-major with `pad` extra elements per row.
    PaddedRows(usize),
    /// Column-major with `pad` extra elements per column.
    PaddedCols(usize),
    /// Both strides non-unit: element `(i, j)` at `i * (2 * cols + 1) * s + j * s`.
    Spread(usize),
}

impl Layout {
    /// `[row, col]` strides and the buffer length for an `r x c` matrix.
    fn strides(self, r: usize, c: usize) -> ([usize; 2], usize) {
        let (s, len) = match self {
            Layout::RowMajor => ([c, 1], r * c),
            Layout::ColMajor => ([1, r], r * c),
            Layout::PaddedRows(p) => ([c + p, 1], r * (c + p)),
            Layout::PaddedCols(p) => ([1, r + p], c * (r + p)),
            Layout::Spread(s) => ([(2 * c + 1) * s, s], r * (2 * c + 1) * s),
        };
        (s, len.max(1))
    }
}

fn layout() -> impl Strategy<Value = Layout> {
    prop_oneof![
        3 => Just(Layout::RowMajor),
        3 => Just(Layout::ColMajor),
        1 => (1..5usize).prop_map(Layout::PaddedRows),
        1 => (1..5usize).prop_map(Layout::PaddedCols),
        1 => (2..4usize).prop_map(Layout::Spread),
    ]
}

/// A dimension: 1, near a tile edge, near the `k` block, or anything up to 300.
fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![
        1 => Just(1usize),
        4 => prop::sample::select(vec![
            2usize, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 23, 24, 25, 31, 32, 33, 63, 64, 65
        ]),
        1 => prop::sample::select(vec![383usize, 384, 385]),
        3 => 1..=300usize,
    ]
}

#[derive(Clone, Copy, Debug)]
enum BiasKind {
    None,
    PerCol,
    PerRow,
}

#[derive(Debug, Clone)]
struct Case {
    m: usize,
    k: usize,
    n: usize,
    la: Layout,
    lb: Layout,
    lc: Layout,
    accumulate: bool,
    bias: BiasKind,
    relu: bool,
    two_threads: bool,
    seed: u64,
}

fn case() -> impl Strategy<Value = Case> {
    (
        (dim(), dim(), dim()),
        (layout(), layout(), layout()),
        any::<bool>(),
        prop_oneof![
            3 => Just(BiasKind::None),
            1 => Just(BiasKind::PerCol),
            1 => Just(BiasKind::PerRow),
        ],
        any::<bool>(),
        prop::bool::weighted(0.25),
        any::<u64>(),
    )
        .prop_filter("keep cases under ~4M multiply-adds", |((m, k, n), ..)| {
            m * k * n <= 4 << 20
        })
        .prop_map(
            |((m, k, n), (la, lb, lc), accumulate, bias, relu, two_threads, seed)| Case {
                m,
                k,
                n,
                la,
                lb,
                lc,
                accumulate,
                bias,
                relu,
                two_threads,
                seed,
            },
        )
}

/// Deterministic values in [-1, 1), never exactly zero.
fn values(len: usize, seed: u64) -> Vec<f32> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = ((x >> 40) as f32) / (1u64 << 24) as f32 * 2.0 - 1.0;
            if v == 0.0 { 0.5 } else { v }
        })
        .collect()
}

fn workers() -> &'static Workers {
    static W: OnceLock<Workers> = OnceLock::new();
    W.get_or_init(|| Workers::new(2))
}

/// Runs one case with `route` and checks it against the f64 loop.
fn check(c: &Case, route: Route) -> Result<(), TestCaseError> {
    let (m, k, n) = (c.m, c.k, c.n);
    let (sa, la) = c.la.strides(m, k);
    let (sb, lb) = c.lb.strides(k, n);
    let (sc, lc) = c.lc.strides(m, n);
    let a = values(la, c.seed);
    let b = values(lb, c.seed ^ 0x9e37_79b9);
    let c0 = values(lc, c.seed ^ 0x7f4a_7c15);
    let bias_len = match c.bias {
        BiasKind::PerCol => n,
        _ => m,
    };
    let bias = values(bias_len, c.seed ^ 0x1234_5678);
    let epilogue = Epilogue {
        bias: match c.bias {
            BiasKind::None => Bias::None,
            BiasKind::PerCol => Bias::PerCol(bias.as_ptr()),
            BiasKind::PerRow => Bias::PerRow(bias.as_ptr()),
        },
        relu: c.relu,
    };
    let shape = GemmShape {
        m,
        k,
        n,
        a: sa,
        b: sb,
        c: sc,
    };
    let per_thread = pack_scratch_len(m, k, n);
    let threads = if c.two_threads { 2 } else { 1 };
    let mut scratch = vec![f32::NAN; per_thread * threads];
    let cx = GemmCx {
        pack: scratch.as_mut_ptr(),
        pack_len: per_thread,
        workers: c.two_threads.then(workers),
    };
    let mut got = c0.clone();
    // SAFETY: the buffers cover every strided extent (Layout::strides), C
    // is its own buffer, scratch is sized by pack_scratch_len per thread,
    // the bias has m or n entries, and the route's kernel is available.
    unsafe {
        gemm_ex(
            &shape,
            a.as_ptr(),
            b.as_ptr(),
            got.as_mut_ptr(),
            c.accumulate,
            epilogue,
            route,
            &cx,
        )
    };
    let mut inside = vec![false; lc];
    for i in 0..m {
        for j in 0..n {
            let mut sum = 0.0f64;
            let mut scale = 0.0f64;
            for p in 0..k {
                let x = a[i * sa[0] + p * sa[1]] as f64 * b[p * sb[0] + j * sb[1]] as f64;
                sum += x;
                scale += x.abs();
            }
            let at = i * sc[0] + j * sc[1];
            inside[at] = true;
            if c.accumulate {
                sum += c0[at] as f64;
                scale += (c0[at] as f64).abs();
            }
            match c.bias {
                BiasKind::None => {}
                BiasKind::PerCol => sum += bias[j] as f64,
                BiasKind::PerRow => sum += bias[i] as f64,
            }
            scale += match c.bias {
                BiasKind::None => 0.0,
                BiasKind::PerCol => (bias[j] as f64).abs(),
                BiasKind::PerRow => (bias[i] as f64).abs(),
            };
            if c.relu {
                sum = sum.max(0.0);
            }
            let tol = (k as f64 + 2.0) * scale * f32::EPSILON as f64;
            let err = (got[at] as f64 - sum).abs();
            prop_assert!(
                err <= tol,
                "C[{i},{j}] = {} but want {sum} (err {err:e} > tol {tol:e}) with {route:?}",
                got[at]
            );
        }
    }
    for (at, (&g, &o)) in got.iter().zip(&c0).enumerate() {
        if !inside[at] {
            prop_assert_eq!(g.to_bits(), o.to_bits(), "element {} outside C changed", at);
        }
    }
    Ok(())
}

fn check_isa(isa: Isa, c: &Case) -> Result<(), TestCaseError> {
    if !isa.available() {
        eprintln!("skipping {isa:?}: not available on this CPU");
        return Ok(());
    }
    check(c, Route::Packed(isa))
}

proptest! {
    #[test]
    fn avx512_kernel_matches_f64(c in case()) {
        check_isa(Isa::Avx512, &c)?;
    }

    #[test]
    fn avx2_kernel_matches_f64(c in case()) {
        check_isa(Isa::Avx2, &c)?;
    }

    #[test]
    fn portable_kernel_matches_f64(c in case()) {
        check_isa(Isa::Portable, &c)?;
    }

    /// The automatic route (GEMV, tiny loop or packed), without epilogue.
    #[test]
    fn auto_route_matches_f64(c in case()) {
        let c = Case { bias: BiasKind::None, relu: false, ..c };
        check(&c, Route::Auto)?;
    }
}

/// The thread split does not change a single bit of the result.
#[test]
fn two_threads_give_identical_bits() {
    for (m, k, n) in [
        (128, 784, 256),
        (784, 128, 256),
        (300, 200, 17),
        (17, 300, 301),
    ] {
        let a = values(m * k, 1);
        let b = values(k * n, 2);
        let shape = GemmShape {
            m,
            k,
            n,
            a: [k, 1],
            b: [1, k],
            c: [n, 1],
        };
        let per = pack_scratch_len(m, k, n);
        let mut scratch = vec![0.0; 2 * per];
        let mut run = |w: Option<&Workers>| {
            let mut c = vec![0.0f32; m * n];
            let cx = GemmCx {
                pack: scratch.as_mut_ptr(),
                pack_len: per,
                workers: w,
            };
            // SAFETY: dense buffers of the shape's sizes; scratch for 2 threads.
            unsafe {
                gemm_ex(
                    &shape,
                    a.as_ptr(),
                    b.as_ptr(),
                    c.as_mut_ptr(),
                    false,
                    Epilogue::NONE,
                    Route::Auto,
                    &cx,
                )
            };
            c
        };
        let one = run(None);
        let two = run(Some(workers()));
        assert!(
            one.iter()
                .zip(&two)
                .all(|(x, y)| x.to_bits() == y.to_bits()),
            "{m}x{k}x{n}"
        );
    }
}

/// `matrixmultiply` as a second oracle on the mlp shapes, every kernel.
#[test]
fn agrees_with_matrixmultiply_on_mlp_shapes() {
    let shapes = [
        (128, 784, 256, [784, 1], [256, 1]),
        (784, 128, 256, [1, 784], [256, 1]),
        (128, 256, 256, [256, 1], [1, 256]),
        (128, 256, 10, [256, 1], [10, 1]),
        (128, 10, 256, [10, 1], [1, 10]),
    ];
    for (m, k, n, sa, sb) in shapes {
        let a = values(m * k, 3);
        let b = values(k * n, 4);
        let mut want = vec![0.0f32; m * n];
        // SAFETY: dense buffers of the shape's sizes.
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                a.as_ptr(),
                sa[0] as isize,
                sa[1] as isize,
                b.as_ptr(),
                sb[0] as isize,
                sb[1] as isize,
                0.0,
                want.as_mut_ptr(),
                n as isize,
                1,
            )
        };
        let shape = GemmShape {
            m,
            k,
            n,
            a: sa,
            b: sb,
            c: [n, 1],
        };
        let mut scratch = vec![0.0; pack_scratch_len(m, k, n)];
        for isa in Isa::ALL.into_iter().filter(|i| i.available()) {
            let mut got = vec![f32::NAN; m * n];
            // SAFETY: as above; scratch sized by pack_scratch_len.
            unsafe {
                gemm_ex(
                    &shape,
                    a.as_ptr(),
                    b.as_ptr(),
                    got.as_mut_ptr(),
                    false,
                    Epilogue::NONE,
                    Route::Packed(isa),
                    &GemmCx::single(&mut scratch),
                )
            };
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() <= 1e-5 * k as f32,
                    "{isa:?} {m}x{k}x{n}: {g} vs {w}"
                );
            }
        }
    }
}

/// A batched matmul plan through the executable: the batch dealt out to two
/// threads gives the same bits as one thread, and both match the f64 loop.
#[test]
fn batched_matmul_on_two_threads_matches_one() {
    use kiln_ir::TensorType;
    use kiln_ir::plan::{Kernel, Plan, Region, Slot, Step, Temp, View};
    use kiln_runtime::{Executable, ParamStore, TensorRef};
    let (bt, m, k, n) = (8, 33, 47, 29);
    let slot = |name: &str, dims: Vec<usize>| Slot {
        name: name.into(),
        ty: TensorType::f32(dims),
        init: None,
    };
    let out_ty = TensorType::f32([bt, m, n]);
    // B stored as [bt, n, k] and read transposed.
    let b_view = View {
        region: Region::Input(1),
        dtype: kiln_ir::DType::F32,
        offset: 0,
        shape: kiln_ir::Shape::from(vec![bt, k, n]),
        strides: vec![n * k, 1, k],
    };
    let plan = Plan {
        name: "batched".into(),
        inputs: vec![slot("a", vec![bt, m, k]), slot("b", vec![bt, n, k])],
        params: vec![],
        states: vec![],
        consts: vec![],
        temps: vec![Temp {
            ty: out_ty.clone(),
            offset: 0,
            node: None,
        }],
        arena_elems: bt * m * n,
        steps: vec![Step {
            kernel: Kernel::MatMul,
            inputs: vec![
                View::dense(Region::Input(0), &TensorType::f32([bt, m, k])),
                b_view,
            ],
            output: View::dense(Region::Temp(0), &out_ty),
            scratch: None,
            node: None,
        }],
        outputs: vec![("c".into(), View::dense(Region::Temp(0), &out_ty))],
    };
    let a = values(bt * m * k, 5);
    let b = values(bt * n * k, 6);
    let (da, db) = ([bt, m, k], [bt, n, k]);
    let feeds = [
        ("a", TensorRef::f32(&da, &a)),
        ("b", TensorRef::f32(&db, &b)),
    ];
    let mut results = Vec::new();
    for threads in [1, 2] {
        let mut exe = Executable::with_threads(plan.clone(), threads).unwrap();
        assert_eq!(exe.threads(), threads);
        let mut store = ParamStore::new();
        let out = exe.run(&mut store, &feeds).unwrap();
        results.push(out.get("c").unwrap().as_f32().unwrap().to_vec());
    }
    assert!(
        results[0]
            .iter()
            .zip(&results[1])
            .all(|(x, y)| x.to_bits() == y.to_bits())
    );
    for e in 0..bt {
        for i in 0..m {
            for j in 0..n {
                let (mut want, mut scale) = (0.0f64, 0.0f64);
                for p in 0..k {
                    let x = a[(e * m + i) * k + p] as f64 * b[(e * n + j) * k + p] as f64;
                    want += x;
                    scale += x.abs();
                }
                let got = results[1][(e * m + i) * n + j] as f64;
                assert!((got - want).abs() <= (k as f64 + 2.0) * scale * f32::EPSILON as f64);
            }
        }
    }
}
