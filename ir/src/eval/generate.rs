//! Ops that make values from their attributes: `const`, `iota` and the
//! random ops (whose only operand is the counter that selects the stream).

use super::Cx;
use super::layout::for_each_index;
use super::value::{Array, Element, Value};
use crate::dtype::DType;
use crate::error::EvalError;
use crate::random;
use crate::shape::{Shape, TensorType};

/// Every element is its own index along `axis`.
pub(super) fn iota<T: Element>(ty: &TensorType, axis: usize) -> Value<T> {
    let mut along = Vec::with_capacity(ty.shape.numel());
    for_each_index(ty.shape.dims(), |idx| along.push(idx[axis]));
    let shape = ty.shape.clone();
    match ty.dtype {
        DType::F32 => Value::Float(Array {
            shape,
            data: along.into_iter().map(|i| T::from_f64(i as f64)).collect(),
        }),
        DType::I32 => Value::Int(Array {
            shape,
            data: along.into_iter().map(|i| i as i32).collect(),
        }),
    }
}

/// The counter operand: an `i32` scalar.
fn counter<T: Element>(cx: Cx, v: &Value<T>) -> Result<i32, EvalError> {
    match v {
        Value::Int(a) if a.data.len() == 1 => Ok(a.data[0]),
        _ => Err(cx.invalid("the counter must be an i32 scalar")),
    }
}

/// Element `i` is `random::uniform(seed, counter, i)`.
pub(super) fn uniform<T: Element>(
    cx: Cx,
    seed: u64,
    out: &Shape,
    ctr: &Value<T>,
) -> Result<Value<T>, EvalError> {
    let c = counter(cx, ctr)?;
    let data = (0..out.numel() as u64)
        .map(|i| T::from_f32(random::uniform(seed, c, i)))
        .collect();
    Ok(Value::Float(Array {
        shape: out.clone(),
        data,
    }))
}

/// Element `i` is `random::bernoulli(seed, counter, i, p)`.
pub(super) fn bernoulli<T: Element>(
    cx: Cx,
    seed: u64,
    p: f32,
    out: &Shape,
    ctr: &Value<T>,
) -> Result<Value<T>, EvalError> {
    let c = counter(cx, ctr)?;
    let data = (0..out.numel() as u64)
        .map(|i| T::from_f32(random::bernoulli(seed, c, i, p)))
        .collect();
    Ok(Value::Float(Array {
        shape: out.clone(),
        data,
    }))
}
