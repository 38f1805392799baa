//! Reductions (sum, max, min, mean over any axes) and argmax.
//!
//! The input's dims split into kept dims (walked together with the output)
//! and reduced dims (walked per output element). Two loop shapes cover the
//! common cases fast:
//! - **rows**: when the innermost kept dim is contiguous in both the input and
//!   the output (the bias gradient: reducing axis 0 of `[batch, n]`), whole
//!   input rows are folded into the output row, a vectorizable loop, visiting
//!   reduced positions in row-major order: the evaluator's order, so sums agree
//!   bit for bit;
//! - **fold**: otherwise each output element folds its reduced positions; an
//!   innermost contiguous reduced run (softmax's row sums) is summed with eight
//!   independent accumulators, which vectorizes but reassociates the sum (the
//!   tests allow `n` ulps of the absolute sum for that).
//!
//! Max and min propagate NaN exactly as the evaluator does. Parallel note:
//! output elements (or rows) are independent, so the executable's `Workers` could split the kept walk.

use super::elementwise::{max_nan, min_nan};
use super::layout::{Bits, Loc, Walk};
use kiln_ir::{DType, ReduceOp};

/// A prepared reduction.
#[derive(Clone, Debug)]
pub struct Reduce {
    pub op: ReduceOp,
    pub dtype: DType,
    pub out: Loc,
    pub input: Loc,
    /// Kept dims: output and input strides.
    pub kept: Walk<2>,
    /// Reduced dims: input strides.
    pub reduced: Walk<1>,
    /// Whether to fold whole contiguous rows (see the module docs).
    pub rows: bool,
}

/// A prepared argmax along one axis.
#[derive(Clone, Debug)]
pub struct ArgMax {
    pub out: Loc,
    pub input: Loc,
    /// The other dims: output and input strides.
    pub walk: Walk<2>,
    /// Length and input stride of the axis.
    pub n: usize,
    pub stride: usize,
}

/// Splits an input view over `axes` into kept dims (with the output strides
/// that go with them) and reduced dims. The output's shape is the kept dims,
/// possibly with size-1 dims inserted (keepdims): size-1 dims never move.
pub fn split_dims(
    in_dims: &[usize],
    in_strides: &[usize],
    axes: &[usize],
    out_dims: &[usize],
    out_strides: &[usize],
) -> Result<Split, String> {
    let mut kept = Split::default();
    for (d, (&n, &s)) in in_dims.iter().zip(in_strides).enumerate() {
        if axes.contains(&d) {
            kept.red_dims.push(n);
            kept.red_strides.push(s);
        } else if n != 1 {
            kept.dims.push(n);
            kept.in_strides.push(s);
        }
    }
    let out_big: Vec<(usize, usize)> = out_dims
        .iter()
        .zip(out_strides)
        .filter(|(n, _)| **n != 1)
        .map(|(&n, &s)| (n, s))
        .collect();
    let out_sizes: Vec<usize> = out_big.iter().map(|p| p.0).collect();
    if out_sizes != kept.dims {
        return Err(format!(
            "the output shape {out_dims:?} is not the input's kept dims {:?} (size-1 dims aside)",
            kept.dims
        ));
    }
    kept.out_strides = out_big.iter().map(|p| p.1).collect();
    Ok(kept)
}

/// A reduction's dims: the kept ones (size 1 dropped) with their output and
/// input strides, and the reduced ones with their input strides.
#[derive(Default)]
pub struct Split {
    pub dims: Vec<usize>,
    pub out_strides: Vec<usize>,
    pub in_strides: Vec<usize>,
    pub red_dims: Vec<usize>,
    pub red_strides: Vec<usize>,
}

impl Reduce {
    /// # Safety
    /// Operands inside their regions and the output disjoint from the input
    /// (checked by the plan loader).
    pub unsafe fn run(&self, bases: &[*mut f32]) {
        let count = self.reduced.numel() as f32;
        // SAFETY (every arm): forwarded from this function's contract.
        unsafe {
            match (self.dtype, self.op) {
                (DType::F32, ReduceOp::Sum) => self.go(bases, 0.0f32, |a, b| a + b, sum_run, |s| s),
                (DType::F32, ReduceOp::Mean) => {
                    self.go(bases, 0.0f32, |a, b| a + b, sum_run, |s| s / count)
                }
                (DType::F32, ReduceOp::Max) => {
                    self.go(bases, f32::NEG_INFINITY, max_nan, fold_run(max_nan), |s| s)
                }
                (DType::F32, ReduceOp::Min) => {
                    self.go(bases, f32::INFINITY, min_nan, fold_run(min_nan), |s| s)
                }
                (DType::I32, ReduceOp::Sum) => self.go(
                    bases,
                    0i32,
                    i32::wrapping_add,
                    fold_run(i32::wrapping_add),
                    |s| s,
                ),
                (DType::I32, ReduceOp::Max) => {
                    self.go(bases, i32::MIN, i32::max, fold_run(i32::max), |s| s)
                }
                (DType::I32, ReduceOp::Min) => {
                    self.go(bases, i32::MAX, i32::min, fold_run(i32::min), |s| s)
                }
                // The loader rejects mean on i32.
                (DType::I32, ReduceOp::Mean) => debug_assert!(false, "mean on i32"),
            }
        }
    }

    /// The reduction with identity `init`, combining function `f`, a fold of
    /// one strided run `fold`, and `finish` applied to every result.
    #[inline(always)]
    unsafe fn go<T: Bits>(
        &self,
        bases: &[*mut f32],
        init: T,
        f: impl Fn(T, T) -> T,
        fold: impl Fn(T, *const T, usize, usize) -> T,
        finish: impl Fn(T) -> T,
    ) {
        let base = [self.out.ptr(bases), self.input.ptr(bases)];
        // SAFETY: the walks stay inside the operands, which do not overlap.
        unsafe {
            if self.rows {
                self.kept.for_each_run(base, |[o, i], n, _| {
                    let out = std::slice::from_raw_parts_mut(o as *mut T, n);
                    out.fill(init);
                    self.reduced.for_each_run([i], |[p], m, [s]| {
                        for r in 0..m {
                            let row = std::slice::from_raw_parts(p.add(r * s) as *const T, n);
                            for (acc, &x) in out.iter_mut().zip(row) {
                                *acc = f(*acc, x);
                            }
                        }
                    });
                    for acc in out {
                        *acc = finish(*acc);
                    }
                });
            } else {
                self.kept.for_each(base, |[o, i]| {
                    let mut acc = init;
                    self.reduced.for_each_run([i], |[p], m, [s]| {
                        acc = fold(acc, p as *const T, m, s);
                    });
                    *(o as *mut T) = finish(acc);
                });
            }
        }
    }
}

/// A sequential fold of one strided run with `f`.
#[inline(always)]
fn fold_run<T: Bits>(f: impl Fn(T, T) -> T) -> impl Fn(T, *const T, usize, usize) -> T {
    move |mut acc, p, n, s| {
        for i in 0..n {
            // SAFETY: the caller passes a run valid for `n` elements at stride `s`.
            acc = f(acc, unsafe { *p.add(i * s) });
        }
        acc
    }
}

/// `acc +` the sum of one run; a contiguous run uses eight accumulators.
#[inline(always)]
fn sum_run(acc: f32, p: *const f32, n: usize, s: usize) -> f32 {
    if s != 1 {
        return fold_run(|a: f32, b| a + b)(acc, p, n, s);
    }
    // SAFETY: the caller passes a run valid for `n` contiguous elements.
    let x = unsafe { std::slice::from_raw_parts(p, n) };
    let mut lanes = [0.0f32; 8];
    let chunks = x.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            *l += v;
        }
    }
    let mut total = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5]))
        + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
    for &v in tail {
        total += v;
    }
    acc + total
}

impl ArgMax {
    /// # Safety
    /// As for [`Reduce::run`].
    pub unsafe fn run(&self, bases: &[*mut f32]) {
        let base = [self.out.ptr(bases), self.input.ptr(bases)];
        let (n, stride) = (self.n, self.stride);
        // SAFETY: the walk and the axis stay inside the operands.
        unsafe {
            self.walk.for_each(base, |[o, x]| {
                let mut best = 0usize;
                let mut m = if n > 0 { *x } else { 0.0 };
                for k in 1..n {
                    let v = *x.add(k * stride);
                    // The first NaN wins; otherwise the first of equal maxima.
                    if !m.is_nan() && (v.is_nan() || v > m) {
                        best = k;
                        m = v;
                    }
                }
                *(o as *mut i32) = best as i32;
            });
        }
    }
}
