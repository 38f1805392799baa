//! Matrix products: the batched `matmul` kernel and the [`gemm`] routine the
//! convolutions share.
//!
//! [`gemm`] computes `C = A·B` or `C += A·B` for any element strides of `A`,
//! `B` and `C`, so transposed operands (folded into the views by the
//! compiler) cost nothing. It picks one of three paths:
//! - **GEMV** (`m == 1` or `n == 1`) and **tiny** products (`m*k*n <= 256`):
//!   loops without packing ([`small`]), a large GEMV's outputs split over
//!   the threads;
//! - everything else: a BLIS-style packed GEMM ([`driver`]) around a
//!   register-blocked FMA microkernel ([`microkernel`]: AVX-512, AVX2 or
//!   portable, chosen once per process), split over the executable's threads
//!   when large enough ([`parallel`]). A batch of small products (attention
//!   heads) is dealt out whole to the threads instead ([`MatMul::run`]).
//!
//! The packed path allocates nothing: it packs into scratch the caller gives
//! it ([`GemmCx`]), sized by [`pack_scratch_len`] per thread. The executable
//! reserves one such region in its arena at load time (the largest need over
//! all steps, times the thread count), shared by all steps since they run
//! one after another.
//!
//! Orientation: the microkernels vectorize along the columns of `C`. The
//! product is computed as `C^T = B^T·A^T` (which only swaps strides) when
//! that wastes less of the register tiles or stores contiguously where the
//! other way would not: a column-major `C`, or a skinny `n` such as the 10
//! classes of a classifier (`128x256x10` runs as `10x256x128`).

pub mod blocking;
pub mod driver;
pub mod microkernel;
pub mod pack;
pub mod parallel;
pub mod small;

use super::layout::{Loc, Walk};
use crate::workers::Workers;
use blocking::pack_len;
use driver::Problem;
use microkernel::avx2::Avx2;
use microkernel::avx512::Avx512;
use microkernel::portable::Portable;
pub use microkernel::{Bias, Epilogue, Isa};
pub use small::dot;

/// One `C[m,n] (+)= A[m,k] · B[k,n]` with element strides `[row, col]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GemmShape {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub a: [usize; 2],
    pub b: [usize; 2],
    pub c: [usize; 2],
}

/// What a GEMM call may use besides its operands: packing scratch (one
/// block of `pack_len` floats per thread; 64-byte alignment is faster but
/// not required) and the helper
/// threads.
#[derive(Clone, Copy, Debug)]
pub struct GemmCx<'a> {
    pub pack: *mut f32,
    /// Floats of scratch per thread (a multiple of 16).
    pub pack_len: usize,
    pub workers: Option<&'a Workers>,
}

impl GemmCx<'_> {
    /// A context over `scratch` for one thread (tests, benchmarks).
    pub fn single(scratch: &mut [f32]) -> GemmCx<'static> {
        GemmCx {
            pack: scratch.as_mut_ptr(),
            pack_len: scratch.len(),
            workers: None,
        }
    }
}

/// Which path a call takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// GEMV, tiny or packed by shape, with the detected kernel.
    Auto,
    /// Always the packed path, with this kernel (it must be available).
    Packed(Isa),
}

/// Floats of packing scratch one thread needs for an `m x k x n` product,
/// whatever the strides, the kernel and the thread count (a thread's part
/// never needs more than the whole).
pub fn pack_scratch_len(m: usize, k: usize, n: usize) -> usize {
    [
        pack_len::<Avx512>(m, k, n),
        pack_len::<Avx512>(n, k, m),
        pack_len::<Avx2>(m, k, n),
        pack_len::<Avx2>(n, k, m),
        pack_len::<Portable>(m, k, n),
        pack_len::<Portable>(n, k, m),
    ]
    .into_iter()
    .max()
    .unwrap_or(0)
}

/// Batched products smaller than this (multiply-adds each) are dealt out
/// whole to the threads instead of being split one by one.
const BATCH_SPLIT_MAX_MACS: usize = 1 << 20;

/// A prepared batched matmul.
#[derive(Clone, Debug)]
pub struct MatMul {
    pub out: Loc,
    pub a: Loc,
    pub b: Loc,
    /// Batch dims: `[out, a, b]` strides (stride 0 broadcasts an operand).
    pub batch: Walk<3>,
    pub shape: GemmShape,
}

impl MatMul {
    /// Packing scratch this step needs per thread.
    pub fn pack_need(&self) -> usize {
        pack_scratch_len(self.shape.m, self.shape.k, self.shape.n)
    }

    /// # Safety
    /// Operands inside their regions; the output disjoint from both inputs;
    /// `cx` as [`gemm`] requires for this step's shape.
    pub unsafe fn run(&self, bases: &[*mut f32], cx: &GemmCx) {
        let base = [self.out.ptr(bases), self.a.ptr(bases), self.b.ptr(bases)];
        let GemmShape { m, k, n, .. } = self.shape;
        let count = self.batch.numel();
        if let Some(workers) = cx.workers
            && count > 1
            && m * k * n < BATCH_SPLIT_MAX_MACS
            && count * m * k * n >= parallel::PAR_MIN_MACS
        {
            // Many small products: deal whole products out to the threads
            // (entry `e` to thread `e % threads`), each packing into its own
            // scratch; the products write disjoint outputs.
            let parts = workers.threads().min(count);
            let (pack, pack_len) = (cx.pack as usize, cx.pack_len);
            let base = base.map(|p| p as usize);
            workers.run(parts, &|t| {
                let mine = GemmCx {
                    pack: (pack as *mut f32).wrapping_add(t * pack_len),
                    pack_len,
                    workers: None,
                };
                let mut e = 0;
                // SAFETY: as below; thread `t` runs only its own entries.
                unsafe {
                    self.batch
                        .for_each(base.map(|p| p as *mut f32), |[c, a, b]| {
                            if e % parts == t {
                                gemm(&self.shape, a, b, c, false, &mine);
                            }
                            e += 1;
                        })
                }
            });
            return;
        }
        // SAFETY: the batch walk and the shape stay inside the operands.
        unsafe {
            self.batch
                .for_each(base, |[c, a, b]| gemm(&self.shape, a, b, c, false, cx))
        }
    }
}

/// `C = A·B`, or `C += A·B` when `accumulate`.
///
/// # Safety
/// `a`, `b` and `c` must be valid for the shape's strided extents, `c` must
/// not overlap `a` or `b`, and `cx.pack` must hold `cx.pack_len >=
/// pack_scratch_len(m, k, n)` floats (best 64-byte aligned) for each thread of
/// `cx.workers` (one without).
pub unsafe fn gemm(
    s: &GemmShape,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    accumulate: bool,
    cx: &GemmCx,
) {
    // SAFETY: forwarded.
    unsafe { gemm_ex(s, a, b, c, accumulate, Epilogue::NONE, Route::Auto, cx) }
}

/// A GEMV (`m == 1` or `n == 1`), its outputs split over the threads when
/// it has at least [`parallel::GEMV_PAR_MIN_MACS`] multiply-adds.
///
/// # Safety
/// As [`gemm`], with `m == 1` or `n == 1`.
unsafe fn gemv(
    s: &GemmShape,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    accumulate: bool,
    cx: &GemmCx,
) {
    let run = |s: &GemmShape, a: *const f32, b: *const f32, c: *mut f32| {
        // SAFETY: forwarded (a sub-range of the outputs of a valid GEMV).
        unsafe {
            if s.m == 1 {
                small::gemv_row(s, a, b, c, accumulate)
            } else {
                small::gemv_col(s, a, b, c, accumulate)
            }
        }
    };
    let len = s.m.max(s.n);
    if let Some(w) = cx.workers
        && s.m * s.k * s.n >= parallel::GEMV_PAR_MIN_MACS
        && len >= 64
    {
        // Whole cache lines of outputs per thread.
        let parts = w.threads();
        let chunk = len.div_ceil(parts).div_ceil(16) * 16;
        let (a, b, c) = (a as usize, b as usize, c as usize);
        w.run(parts, &|t| {
            let start = t * chunk;
            if start >= len {
                return;
            }
            let size = chunk.min(len - start);
            let (a, b, c) = (a as *const f32, b as *const f32, c as *mut f32);
            if s.m == 1 {
                let part = GemmShape { n: size, ..*s };
                let b = b.wrapping_add(start * s.b[1]);
                run(&part, a, b, c.wrapping_add(start * s.c[1]));
            } else {
                let part = GemmShape { m: size, ..*s };
                let a = a.wrapping_add(start * s.a[0]);
                run(&part, a, b, c.wrapping_add(start * s.c[0]));
            }
        });
    } else {
        run(s, a, b, c);
    }
}

/// [`gemm`] with an epilogue (`C = act(A·B [+ C] + bias)`) and a choice of
/// path. A non-trivial epilogue always takes the packed path.
///
/// # Safety
/// As [`gemm`]; bias pointers hold `n` (per column) or `m` (per row) floats;
/// a forced kernel must be [available](Isa::available).
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm_ex(
    s: &GemmShape,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    accumulate: bool,
    epilogue: Epilogue,
    route: Route,
    cx: &GemmCx,
) {
    let GemmShape { m, k, n, .. } = *s;
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY (all calls): forwarded from this function's contract.
    unsafe {
        if k == 0 {
            for i in 0..m {
                for j in 0..n {
                    let o = c.add(i * s.c[0] + j * s.c[1]);
                    let old = if accumulate { *o } else { 0.0 };
                    *o = epilogue.apply(i, j, old);
                }
            }
            return;
        }
        let isa = match route {
            Route::Packed(isa) => isa,
            Route::Auto if !epilogue.is_none() => Isa::detected(),
            Route::Auto => {
                if m == 1 || n == 1 {
                    return gemv(s, a, b, c, accumulate, cx);
                } else if m * k * n <= small::SMALL {
                    return small::naive(s, a, b, c, accumulate);
                }
                Isa::detected()
            }
        };
        let p = Problem {
            m,
            k,
            n,
            a,
            a_s: s.a,
            b,
            b_s: s.b,
            c,
            c_s: s.c,
            accumulate,
            epilogue,
        };
        debug_assert!(cx.pack_len >= pack_scratch_len(m, k, n));
        match isa {
            Isa::Avx512 => parallel::run::<Avx512>(&p, cx),
            Isa::Avx2 => parallel::run::<Avx2>(&p, cx),
            Isa::Portable => parallel::run::<Portable>(&p, cx),
        }
    }
}
