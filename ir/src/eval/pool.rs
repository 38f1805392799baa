//! Max and average pooling (NCHW) and their gradients.
//!
//! Like the convolutions, all four ops share one loop nest,
//! [`for_each_tap`], over every (input element, output element) pair a
//! window connects. Padding holds no element: for max pooling it counts as
//! `-inf` (never the maximum, since every window holds at least one real
//! element when padding is at most half the kernel), for average pooling as
//! zeros, with the divisor always the full kernel area.

use super::Cx;
use super::value::{Array, Element, Value};
use crate::error::EvalError;
use crate::op::PoolParams;
use crate::shape::Shape;

/// Input `[n, c, h, w]`, output `[n, c, oh, ow]`.
struct PoolDims {
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
}

impl PoolDims {
    fn new(cx: Cx, x: &Shape, y: &Shape) -> Result<PoolDims, EvalError> {
        match (x.dims(), y.dims()) {
            (&[n, c, h, w], &[_, _, oh, ow]) => Ok(PoolDims { n, c, h, w, oh, ow }),
            _ => Err(cx.invalid("pooling operands must be rank 4")),
        }
    }
}

/// Calls `f(xi, yi)` for every real (not padding) input element of every
/// window, in the order `n, c, oy, ox, ky, kx`: each window's elements come
/// consecutively, in row-major window order.
fn for_each_tap(d: &PoolDims, p: &PoolParams, mut f: impl FnMut(usize, usize)) {
    let pos = |out: usize, k: usize, axis: usize, size: usize| {
        (out * p.stride[axis] + k)
            .checked_sub(p.padding[axis])
            .filter(|&i| i < size)
    };
    for nc in 0..d.n * d.c {
        for oy in 0..d.oh {
            for ox in 0..d.ow {
                let yi = (nc * d.oh + oy) * d.ow + ox;
                for ky in 0..p.kernel[0] {
                    let Some(iy) = pos(oy, ky, 0, d.h) else {
                        continue;
                    };
                    for kx in 0..p.kernel[1] {
                        if let Some(ix) = pos(ox, kx, 1, d.w) {
                            f((nc * d.h + iy) * d.w + ix, yi);
                        }
                    }
                }
            }
        }
    }
}

fn floats<T: Element>(cx: Cx, v: &Value<T>) -> Result<&Array<T>, EvalError> {
    v.as_float()
        .ok_or_else(|| cx.invalid("pooling is defined on f32 only"))
}

/// For every window, the position of its maximum: the first in row-major
/// window order, or the first NaN if there is one (so the forward value is
/// the NaN-propagating maximum). `None` for a window with no real element.
fn window_argmax<T: Element>(d: &PoolDims, p: &PoolParams, x: &Array<T>) -> Vec<Option<usize>> {
    let mut best: Vec<Option<usize>> = vec![None; d.n * d.c * d.oh * d.ow];
    for_each_tap(d, p, |xi, yi| {
        let better = match best[yi] {
            None => true,
            Some(b) => {
                let (v, m) = (x.data[xi], x.data[b]);
                !m.is_nan() && (v.is_nan() || v > m)
            }
        };
        if better {
            best[yi] = Some(xi);
        }
    });
    best
}

/// `y[window] = max(x[window])`.
pub(super) fn max_pool<T: Element>(
    cx: Cx,
    p: &PoolParams,
    out: &Shape,
    x: &Value<T>,
) -> Result<Value<T>, EvalError> {
    let x = floats(cx, x)?;
    let d = PoolDims::new(cx, &x.shape, out)?;
    let data = window_argmax(&d, p, x)
        .into_iter()
        .map(|b| b.map_or(T::neg_infinity(), |b| x.data[b]))
        .collect();
    Ok(Value::Float(Array {
        shape: out.clone(),
        data,
    }))
}

/// `dx[argmax(window)] += dy[window]`, zero elsewhere.
pub(super) fn max_pool_grad<T: Element>(
    cx: Cx,
    p: &PoolParams,
    x: &Value<T>,
    dy: &Value<T>,
) -> Result<Value<T>, EvalError> {
    let (x, dy) = (floats(cx, x)?, floats(cx, dy)?);
    let d = PoolDims::new(cx, &x.shape, &dy.shape)?;
    let mut dx = Array::filled(x.shape.clone(), T::zero());
    for (yi, b) in window_argmax(&d, p, x).into_iter().enumerate() {
        if let Some(xi) = b {
            dx.data[xi] += dy.data[yi];
        }
    }
    Ok(Value::Float(dx))
}

/// The kernel area, the divisor of every window's sum.
fn area<T: Element>(p: &PoolParams) -> T {
    T::from_f64((p.kernel[0] * p.kernel[1]) as f64)
}

/// `y[window] = Σ x[window] / (kh * kw)`, padding counting as zeros.
pub(super) fn avg_pool<T: Element>(
    cx: Cx,
    p: &PoolParams,
    out: &Shape,
    x: &Value<T>,
) -> Result<Value<T>, EvalError> {
    let x = floats(cx, x)?;
    let d = PoolDims::new(cx, &x.shape, out)?;
    let mut y = Array::filled(out.clone(), T::zero());
    for_each_tap(&d, p, |xi, yi| y.data[yi] += x.data[xi]);
    let area = area::<T>(p);
    Ok(Value::Float(y.map(|s| s / area)))
}

/// `dx` of shape `out`: `dx[xi] += dy[window] / (kh * kw)` for every
/// element of every window.
pub(super) fn avg_pool_grad<T: Element>(
    cx: Cx,
    p: &PoolParams,
    out: &Shape,
    dy: &Value<T>,
) -> Result<Value<T>, EvalError> {
    let dy = floats(cx, dy)?;
    let d = PoolDims::new(cx, out, &dy.shape)?;
    let mut dx = Array::filled(out.clone(), T::zero());
    let area = area::<T>(p);
    for_each_tap(&d, p, |xi, yi| dx.data[xi] += dy.data[yi] / area);
    Ok(Value::Float(dx))
}
