//! Matrix products: the batched `matmul` kernel and the [`gemm`] routine the
//! convolutions share.
//!
//! Large products go to `matrixmultiply::sgemm`, which takes any row and
//! column strides, so transposed operands (folded into the views by the
//! compiler) cost nothing. Two shapes take other paths, because packing a
//! panel for them costs more than the arithmetic:
//! - **GEMV** (`m == 1` or `n == 1`): matrixmultiply runs its full 16x16
//!   kernel on one row (about 5 GFLOP/s measured); here it is either an axpy
//!   loop over contiguous rows or a dot product per output, both vectorized;
//! - **tiny** products (`m*k*n <= 4096`): a plain triple loop, which also sums
//!   in the evaluator's order.
//!
//! Known cost: `matrixmultiply::sgemm` allocates its packing buffer on every
//! call (about 1 MiB at most), so a plan with a large matmul or convolution
//! does one heap allocation per sgemm call. Removing it needs a GEMM that
//! packs into arena scratch.
//!
//! Parallel note: batch entries are independent (rayon over `batch`), and
//! matrixmultiply's `threading` feature splits one large product.

use super::layout::{Loc, Walk};

/// Products at most this many multiply-adds use the plain loop.
const SMALL: usize = 4096;

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
    /// # Safety
    /// Operands inside their regions; the output disjoint from both inputs.
    pub unsafe fn run(&self, bases: &[*mut f32]) {
        let base = [self.out.ptr(bases), self.a.ptr(bases), self.b.ptr(bases)];
        // SAFETY: the batch walk and the shape stay inside the operands.
        unsafe {
            self.batch
                .for_each(base, |[c, a, b]| gemm(&self.shape, a, b, c, false))
        }
    }
}

/// `C = A·B`, or `C += A·B` when `accumulate`.
///
/// # Safety
/// `a`, `b` and `c` must be valid for the shape's strided extents, and `c`
/// must not overlap `a` or `b`.
pub unsafe fn gemm(s: &GemmShape, a: *const f32, b: *const f32, c: *mut f32, accumulate: bool) {
    let GemmShape { m, k, n, .. } = *s;
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY (all calls): forwarded from this function's contract.
    unsafe {
        if k == 0 {
            if !accumulate {
                for i in 0..m {
                    for j in 0..n {
                        *c.add(i * s.c[0] + j * s.c[1]) = 0.0;
                    }
                }
            }
        } else if m == 1 {
            gemv_row(s, a, b, c, accumulate);
        } else if n == 1 {
            gemv_col(s, a, b, c, accumulate);
        } else if m * k * n <= SMALL {
            naive(s, a, b, c, accumulate);
        } else {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                a,
                s.a[0] as isize,
                s.a[1] as isize,
                b,
                s.b[0] as isize,
                s.b[1] as isize,
                if accumulate { 1.0 } else { 0.0 },
                c,
                s.c[0] as isize,
                s.c[1] as isize,
            );
        }
    }
}

/// The plain loop: each output is a sequential sum over `k`.
unsafe fn naive(s: &GemmShape, a: *const f32, b: *const f32, c: *mut f32, acc: bool) {
    // SAFETY: in bounds by `gemm`'s contract.
    unsafe {
        for i in 0..s.m {
            for j in 0..s.n {
                let mut sum = 0.0f32;
                for p in 0..s.k {
                    sum += *a.add(i * s.a[0] + p * s.a[1]) * *b.add(p * s.b[0] + j * s.b[1]);
                }
                let o = c.add(i * s.c[0] + j * s.c[1]);
                *o = if acc { *o + sum } else { sum };
            }
        }
    }
}

/// `m == 1`: `c[j] = Σ_p a[p] · b[p, j]`.
unsafe fn gemv_row(s: &GemmShape, a: *const f32, b: *const f32, c: *mut f32, acc: bool) {
    let (k, n) = (s.k, s.n);
    // SAFETY: in bounds by `gemm`'s contract; slices cover exactly the
    // contiguous rows and outputs the strides say are contiguous.
    unsafe {
        if s.b[1] == 1 && s.c[1] == 1 {
            // Rows of B are contiguous: accumulate a[p] * row p into c.
            let out = std::slice::from_raw_parts_mut(c, n);
            let coef = |p: usize| *a.add(p * s.a[1]);
            let row = |p: usize| std::slice::from_raw_parts(b.add(p * s.b[0]), n);
            axpy_rows(out, k, acc, coef, row);
        } else if s.b[0] == 1 && s.a[1] == 1 {
            // Columns of B are contiguous (B transposed): one dot per output.
            let x = std::slice::from_raw_parts(a, k);
            for j in 0..n {
                let col = std::slice::from_raw_parts(b.add(j * s.b[1]), k);
                let o = c.add(j * s.c[1]);
                let d = dot(x, col);
                *o = if acc { *o + d } else { d };
            }
        } else {
            naive(s, a, b, c, acc);
        }
    }
}

/// `n == 1`: `c[i] = Σ_p a[i, p] · b[p]`.
unsafe fn gemv_col(s: &GemmShape, a: *const f32, b: *const f32, c: *mut f32, acc: bool) {
    let (m, k) = (s.m, s.k);
    // SAFETY: as in `gemv_row`.
    unsafe {
        if s.a[1] == 1 && s.b[0] == 1 {
            // Rows of A are contiguous: one dot per output.
            let x = std::slice::from_raw_parts(b, k);
            for i in 0..m {
                let row = std::slice::from_raw_parts(a.add(i * s.a[0]), k);
                let o = c.add(i * s.c[0]);
                let d = dot(row, x);
                *o = if acc { *o + d } else { d };
            }
        } else if s.a[0] == 1 && s.c[0] == 1 {
            // Columns of A are contiguous: accumulate b[p] * column p into c.
            let out = std::slice::from_raw_parts_mut(c, m);
            let coef = |p: usize| *b.add(p * s.b[0]);
            let col = |p: usize| std::slice::from_raw_parts(a.add(p * s.a[1]), m);
            axpy_rows(out, k, acc, coef, col);
        } else {
            naive(s, a, b, c, acc);
        }
    }
}

/// `out (+)= Σ_p coef(p) · row(p)`, four rows per pass over `out` (a quarter
/// of the loads and stores of one axpy per row).
#[inline(always)]
fn axpy_rows<'r>(
    out: &mut [f32],
    k: usize,
    acc: bool,
    coef: impl Fn(usize) -> f32,
    row: impl Fn(usize) -> &'r [f32],
) {
    if !acc {
        out.fill(0.0);
    }
    let mut p = 0;
    while p + 4 <= k {
        let (c0, c1, c2, c3) = (coef(p), coef(p + 1), coef(p + 2), coef(p + 3));
        let rows = row(p)
            .iter()
            .zip(row(p + 1))
            .zip(row(p + 2))
            .zip(row(p + 3));
        for (o, (((&x0, &x1), &x2), &x3)) in out.iter_mut().zip(rows) {
            *o += (c0 * x0 + c1 * x1) + (c2 * x2 + c3 * x3);
        }
        p += 4;
    }
    for p in p..k {
        let c0 = coef(p);
        for (o, &x) in out.iter_mut().zip(row(p)) {
            *o += c0 * x;
        }
    }
}

/// A dot product with eight accumulators (vectorizes; reassociates the sum).
#[inline]
pub fn dot(x: &[f32], y: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (xc, yc) = (x.chunks_exact(8), y.chunks_exact(8));
    let (xt, yt) = (xc.remainder(), yc.remainder());
    for (p, q) in xc.zip(yc) {
        for l in 0..8 {
            lanes[l] += p[l] * q[l];
        }
    }
    let mut total = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5]))
        + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
    for (p, q) in xt.iter().zip(yt) {
        total += p * q;
    }
    total
}
