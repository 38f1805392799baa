//! Reductions (`reduce_sum`, `reduce_max`, `reduce_min`, `reduce_mean`) and `argmax`.
//!
//! A reduction visits the input in row-major order and folds each element
//! into its output slot, accumulating in the evaluation precision: a plain
//! sequential sum, the order every optimized kernel is compared against.

use super::Cx;
use super::elementwise::{max_nan, min_nan};
use super::layout::{dot, for_each_index};
use super::value::{Array, Element, Value};
use crate::error::EvalError;
use crate::op::ReduceOp;
use crate::shape::Shape;

/// Reduces `x` over `axes` into the shape `out` (with or without kept dims:
/// the row-major layout is the same).
pub(super) fn reduce<T: Element>(
    cx: Cx,
    op: ReduceOp,
    axes: &[usize],
    out: &Shape,
    x: &Value<T>,
) -> Result<Value<T>, EvalError> {
    if axes.is_empty() {
        // The identity, exactly (folding into zero would turn -0.0 into 0.0).
        return Ok(x.clone());
    }
    match x {
        Value::Float(a) => Ok(Value::Float(match op {
            ReduceOp::Sum => fold(a, axes, out, T::zero(), |s, v| s + v),
            ReduceOp::Max => fold(a, axes, out, T::neg_infinity(), max_nan),
            ReduceOp::Min => fold(a, axes, out, T::infinity(), min_nan),
            ReduceOp::Mean => {
                let count: usize = axes.iter().map(|&d| a.shape.dims()[d]).product();
                let count = T::from_f64(count as f64);
                fold(a, axes, out, T::zero(), |s, v| s + v).map(|s| s / count)
            }
        })),
        Value::Int(a) => Ok(Value::Int(match op {
            ReduceOp::Sum => fold(a, axes, out, 0, i32::wrapping_add),
            ReduceOp::Max => fold(a, axes, out, i32::MIN, i32::max),
            ReduceOp::Min => fold(a, axes, out, i32::MAX, i32::min),
            ReduceOp::Mean => return Err(cx.invalid("reduce_mean is defined on f32 only")),
        })),
    }
}

/// `out[j] = f(...f(f(init, x[i0]), x[i1])...)` over the inputs `i0 < i1 < ...`
/// (row-major) that land in output slot `j`.
fn fold<U: Copy>(
    x: &Array<U>,
    axes: &[usize],
    out: &Shape,
    init: U,
    f: impl Fn(U, U) -> U,
) -> Array<U> {
    let dims = x.shape.dims();
    // Where each input axis moves in the output: reduced axes do not move it.
    let kept: Vec<usize> = (0..dims.len())
        .filter(|d| !axes.contains(d))
        .map(|d| dims[d])
        .collect();
    let kept_strides = Shape(kept).strides();
    let mut next = kept_strides.iter();
    let strides: Vec<usize> = (0..dims.len())
        .map(|d| {
            if axes.contains(&d) {
                0
            } else {
                next.next().copied().unwrap_or(0)
            }
        })
        .collect();
    let mut acc = vec![init; out.numel()];
    let mut flat = 0;
    for_each_index(dims, |idx| {
        let j = dot(idx, &strides);
        acc[j] = f(acc[j], x.data[flat]);
        flat += 1;
    });
    Array {
        shape: out.clone(),
        data: acc,
    }
}

/// The index of the largest element along `axis`, the first one on ties. A
/// NaN counts as larger than everything (the first NaN wins), matching
/// `reduce_max`, which returns NaN.
pub(super) fn argmax<T: Element>(
    cx: Cx,
    axis: usize,
    out: &Shape,
    x: &Value<T>,
) -> Result<Value<T>, EvalError> {
    let Value::Float(a) = x else {
        return Err(cx.invalid("argmax is defined on f32 only"));
    };
    let dims = a.shape.dims();
    let n = dims[axis];
    if n == 0 && out.numel() > 0 {
        return Err(cx.invalid(format!("axis {axis} is empty: there is no largest element")));
    }
    // x viewed as [outer, n, inner]; the result as [outer, inner].
    let outer: usize = dims[..axis].iter().product();
    let inner: usize = dims[axis + 1..].iter().product();
    let mut data = Vec::with_capacity(outer * inner);
    for o in 0..outer {
        for i in 0..inner {
            let at = |k: usize| a.data[(o * n + k) * inner + i];
            let mut best = 0;
            for k in 1..n {
                let (v, b) = (at(k), at(best));
                if !b.is_nan() && (v.is_nan() || v > b) {
                    best = k;
                }
            }
            data.push(best as i32);
        }
    }
    Ok(Value::Int(Array {
        shape: out.clone(),
        data,
    }))
}
