//! Movement ops: `reshape`, `permute`, `broadcast`, `slice`, `pad`, `concat`.
//!
//! Each one builds its result element by element in row-major order, taking
//! each element from the operand position its index formula names (or the
//! pad value). They move elements and never compute with them, so they work
//! alike on both dtypes.

use super::Cx;
use super::layout::{dot, for_each_index};
use super::value::{Array, Element, Value};
use crate::error::EvalError;
use crate::shape::Shape;

/// The value of shape `out` whose element at index `o` is `x[src(o)]`, or
/// the fill value (`f32`, truncated for `i32` tensors) where `src` gives `None`.
fn remap<T: Element>(
    x: &Value<T>,
    out: &Shape,
    fill: f32,
    src: impl FnMut(&[usize]) -> Option<usize>,
) -> Value<T> {
    fn take<U: Copy>(
        a: &Array<U>,
        out: &Shape,
        fill: U,
        mut src: impl FnMut(&[usize]) -> Option<usize>,
    ) -> Array<U> {
        let mut data = Vec::with_capacity(out.numel());
        for_each_index(out.dims(), |o| {
            data.push(src(o).map_or(fill, |i| a.data[i]))
        });
        Array {
            shape: out.clone(),
            data,
        }
    }
    match x {
        Value::Float(a) => Value::Float(take(a, out, T::from_f32(fill), src)),
        // `as` truncates toward zero and saturates, like `cast`.
        Value::Int(a) => Value::Int(take(a, out, fill as i32, src)),
    }
}

/// Same elements in the same row-major order, new shape.
pub(super) fn reshape<T: Element>(shape: &Shape, x: &Value<T>) -> Value<T> {
    match x {
        Value::Float(a) => Value::Float(Array {
            shape: shape.clone(),
            data: a.data.clone(),
        }),
        Value::Int(a) => Value::Int(Array {
            shape: shape.clone(),
            data: a.data.clone(),
        }),
    }
}

/// `out[o] = x[p]` where `p[perm[i]] = o[i]`.
pub(super) fn permute<T: Element>(perm: &[usize], out: &Shape, x: &Value<T>) -> Value<T> {
    let strides = x.shape().strides();
    // Moving one step along output dim `i` moves one step along input dim `perm[i]`.
    let moved: Vec<usize> = perm.iter().map(|&p| strides[p]).collect();
    remap(x, out, 0.0, |o| Some(dot(o, &moved)))
}

/// numpy broadcasting: align dims on the right; an input dim of 1 is read at
/// index 0 whatever the output index; new leading dims are ignored.
pub(super) fn broadcast<T: Element>(shape: &Shape, x: &Value<T>) -> Value<T> {
    let dims = x.shape().dims();
    let lead = shape.rank() - dims.len();
    let strides = x.shape().strides();
    let moved: Vec<usize> = (0..shape.rank())
        .map(|d| match d.checked_sub(lead) {
            Some(j) if dims[j] != 1 => strides[j],
            _ => 0,
        })
        .collect();
    remap(x, shape, 0.0, |o| Some(dot(o, &moved)))
}

/// `out[.., i, ..] = x[.., start + i*step, ..]` along `axis`.
pub(super) fn slice<T: Element>(
    axis: usize,
    start: usize,
    step: usize,
    out: &Shape,
    x: &Value<T>,
) -> Value<T> {
    let strides = x.shape().strides();
    let mut p = Vec::with_capacity(out.rank());
    remap(x, out, 0.0, |o| {
        p.clear();
        p.extend_from_slice(o);
        p[axis] = start + o[axis] * step;
        Some(dot(&p, &strides))
    })
}

/// XLA's pad along `axis`: output position `low + i*(interior+1)` holds input
/// element `i`; every other position holds `value`.
pub(super) fn pad<T: Element>(
    axis: usize,
    low: usize,
    interior: usize,
    value: f32,
    out: &Shape,
    x: &Value<T>,
) -> Value<T> {
    let n = x.shape().dims()[axis];
    let strides = x.shape().strides();
    let mut p = Vec::with_capacity(out.rank());
    remap(x, out, value, |o| {
        let q = o[axis].checked_sub(low)?;
        if q % (interior + 1) != 0 || q / (interior + 1) >= n {
            return None;
        }
        p.clear();
        p.extend_from_slice(o);
        p[axis] = q / (interior + 1);
        Some(dot(&p, &strides))
    })
}

/// The operands one after another along `axis`: viewing each operand as
/// `[outer, d_k * inner]`, row `r` of the result is the operands' rows `r` joined.
pub(super) fn concat<T: Element>(
    cx: Cx,
    axis: usize,
    out: &Shape,
    parts: &[&Value<T>],
) -> Result<Value<T>, EvalError> {
    fn join<U: Copy>(parts: &[&Array<U>], axis: usize, out: &Shape) -> Array<U> {
        let outer: usize = out.dims()[..axis].iter().product();
        let inner: usize = out.dims()[axis + 1..].iter().product();
        let mut data = Vec::with_capacity(out.numel());
        for r in 0..outer {
            for part in parts {
                let row = part.shape.dims()[axis] * inner;
                data.extend_from_slice(&part.data[r * row..(r + 1) * row]);
            }
        }
        Array {
            shape: out.clone(),
            data,
        }
    }
    let floats: Option<Vec<&Array<T>>> = parts.iter().map(|v| v.as_float()).collect();
    let ints: Option<Vec<&Array<i32>>> = parts.iter().map(|v| v.as_int()).collect();
    match (floats, ints) {
        (Some(f), _) => Ok(Value::Float(join(&f, axis, out))),
        (_, Some(i)) => Ok(Value::Int(join(&i, axis, out))),
        _ => Err(cx.invalid("the operands have different dtypes")),
    }
}
