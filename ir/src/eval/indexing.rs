//! Ops driven by `i32` index tensors: `gather`, its adjoint `scatter_add`, and `one_hot`.
//!
//! With the indexed axis in the middle, data is viewed as `[outer, n, inner]`
//! and the indices flattened to `m` entries, so gather is "row `idx[j]` of
//! each outer block" and scatter-add is its transpose. Every index is checked
//! before anything is computed: one outside `0..n` (negative ones included;
//! there is no wrap-around) is an [`EvalError::IndexOutOfRange`], even when
//! the result would have no elements to read it.

use super::Cx;
use super::value::{Array, Element, Value};
use crate::error::EvalError;
use crate::shape::Shape;

/// The indices as positions in `0..bound`, or the first one out of range.
fn positions(cx: Cx, idx: &Value<impl Element>, bound: usize) -> Result<Vec<usize>, EvalError> {
    let Value::Int(idx) = idx else {
        return Err(cx.invalid("the indices must be i32"));
    };
    idx.data
        .iter()
        .map(|&i| match usize::try_from(i) {
            Ok(p) if p < bound => Ok(p),
            _ => Err(cx.out_of_range(i, bound)),
        })
        .collect()
}

/// `out[a, j, b] = data[a, idx[j], b]` (numpy `take`, PyTorch `index_select`).
pub(super) fn gather<T: Element>(
    cx: Cx,
    axis: usize,
    out: &Shape,
    data: &Value<T>,
    idx: &Value<T>,
) -> Result<Value<T>, EvalError> {
    let dims = data.shape().dims();
    let n = dims[axis];
    let rows = positions(cx, idx, n)?;
    fn take<U: Copy>(a: &Array<U>, axis: usize, rows: &[usize], out: &Shape) -> Array<U> {
        let dims = a.shape.dims();
        let outer: usize = dims[..axis].iter().product();
        let inner: usize = dims[axis + 1..].iter().product();
        let mut data = Vec::with_capacity(out.numel());
        for o in 0..outer {
            for &r in rows {
                let start = (o * dims[axis] + r) * inner;
                data.extend_from_slice(&a.data[start..start + inner]);
            }
        }
        Array {
            shape: out.clone(),
            data,
        }
    }
    Ok(match data {
        Value::Float(a) => Value::Float(take(a, axis, &rows, out)),
        Value::Int(a) => Value::Int(take(a, axis, &rows, out)),
    })
}

/// Zeros of shape `out` (with `size` along `axis`), then
/// `out[a, idx[j], b] += updates[a, j, b]` in row-major order of `updates`.
/// `i32` sums wrap.
pub(super) fn scatter_add<T: Element>(
    cx: Cx,
    axis: usize,
    size: usize,
    out: &Shape,
    updates: &Value<T>,
    idx: &Value<T>,
) -> Result<Value<T>, EvalError> {
    let rows = positions(cx, idx, size)?;
    fn add<U: Copy + Default>(
        u: &Array<U>,
        axis: usize,
        rows: &[usize],
        out: &Shape,
        plus: impl Fn(U, U) -> U,
    ) -> Array<U> {
        let dims = out.dims();
        let size = dims[axis];
        let outer: usize = dims[..axis].iter().product();
        let inner: usize = dims[axis + 1..].iter().product();
        let mut acc = vec![U::default(); out.numel()];
        let mut src = u.data.iter();
        for o in 0..outer {
            for &r in rows {
                for b in 0..inner {
                    let slot = &mut acc[(o * size + r) * inner + b];
                    if let Some(&v) = src.next() {
                        *slot = plus(*slot, v);
                    }
                }
            }
        }
        Array {
            shape: out.clone(),
            data: acc,
        }
    }
    Ok(match updates {
        Value::Float(a) => Value::Float(add(a, axis, &rows, out, |s, v| s + v)),
        Value::Int(a) => Value::Int(add(a, axis, &rows, out, i32::wrapping_add)),
    })
}

/// `out[j, k] = 1.0 if idx[j] == k else 0.0`, for `k` in `0..depth`.
pub(super) fn one_hot<T: Element>(
    cx: Cx,
    depth: usize,
    out: &Shape,
    idx: &Value<T>,
) -> Result<Value<T>, EvalError> {
    let hot = positions(cx, idx, depth)?;
    let mut data = vec![T::zero(); out.numel()];
    for (j, &k) in hot.iter().enumerate() {
        data[j * depth + k] = T::one();
    }
    Ok(Value::Float(Array {
        shape: out.clone(),
        data,
    }))
}
