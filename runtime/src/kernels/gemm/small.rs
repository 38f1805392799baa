//! The paths that skip packing: GEMV (`m == 1` or `n == 1`) and tiny
//! products, where copying a panel would cost more than the arithmetic.
//!
//! - **GEMV** is an axpy loop over contiguous rows (four rows per pass) or a
//!   dot product per output, both vectorized by the compiler; other strides
//!   fall back to the plain loop.
//! - **Tiny** products (`m*k*n <= SMALL`) run the plain triple loop, which
//!   also sums in the evaluator's order. Measured: the packed path is as
//!   fast from about 512 multiply-adds (150 ns at 8x8x8) and 4x faster at
//!   4096 (16x16x16: 290 ns against 1.1 µs), so only products of at most 256
//!   stay here.

use super::GemmShape;

/// Products of at most this many multiply-adds use the plain loop.
pub(crate) const SMALL: usize = 256;

/// The plain loop: each output is a sequential sum over `k`.
pub(crate) unsafe fn naive(s: &GemmShape, a: *const f32, b: *const f32, c: *mut f32, acc: bool) {
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
pub(crate) unsafe fn gemv_row(s: &GemmShape, a: *const f32, b: *const f32, c: *mut f32, acc: bool) {
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
pub(crate) unsafe fn gemv_col(s: &GemmShape, a: *const f32, b: *const f32, c: *mut f32, acc: bool) {
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
