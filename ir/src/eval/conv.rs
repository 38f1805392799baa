//! 2-D convolution (NCHW input, OIHW weight) and its two gradients.
//!
//! All three ops are one loop nest, [`for_each_tap`], which visits every
//! (input element, weight element, output element) triple that the
//! convolution multiplies together. The forward op accumulates
//! `y += x * w` over it, the input gradient `dx += dy * w` and the weight
//! gradient `dw += x * dy`: each gradient is, by construction, the exact
//! adjoint of the forward op, which is what makes these definitions obviously right.

use super::Cx;
use super::value::{Array, Element, Value};
use crate::error::EvalError;
use crate::op::ConvParams;
use crate::shape::Shape;

/// The sizes of one convolution: input `[n, c, h, w]`, weight
/// `[o, cg, kh, kw]` (`cg = c / groups`), output `[n, o, oh, ow]`.
struct ConvDims {
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    o: usize,
    cg: usize,
    kh: usize,
    kw: usize,
    oh: usize,
    ow: usize,
}

impl ConvDims {
    fn new(cx: Cx, x: &Shape, w: &Shape, y: &Shape) -> Result<ConvDims, EvalError> {
        match (x.dims(), w.dims(), y.dims()) {
            (&[n, c, h, wd], &[o, cg, kh, kw], &[_, _, oh, ow]) => Ok(ConvDims {
                n,
                c,
                h,
                w: wd,
                o,
                cg,
                kh,
                kw,
                oh,
                ow,
            }),
            _ => Err(cx.invalid("convolution operands must be rank 4")),
        }
    }
}

/// Calls `f(xi, wi, yi)` with the flat positions of every input, weight and
/// output element multiplied together, in the order `n, o, oy, ox, c, ky, kx`
/// (so each output's terms come consecutively, in `c, ky, kx` order).
/// Output channel `o` belongs to group `o / (O/groups)` and sees input
/// channels `group*cg .. (group+1)*cg`; input row `iy = oy*stride - pad +
/// ky*dilation` (taps in the padding are skipped: padding is zeros).
fn for_each_tap(d: &ConvDims, p: &ConvParams, mut f: impl FnMut(usize, usize, usize)) {
    // Never 0 (infer checked `groups` divides `o`); `max` only keeps the division total.
    let out_per_group = (d.o / p.groups.max(1)).max(1);
    let pos = |out: usize, k: usize, axis: usize, size: usize| {
        (out * p.stride[axis] + k * p.dilation[axis])
            .checked_sub(p.padding[axis])
            .filter(|&i| i < size)
    };
    for n in 0..d.n {
        for o in 0..d.o {
            let group = o / out_per_group;
            for oy in 0..d.oh {
                for ox in 0..d.ow {
                    let yi = ((n * d.o + o) * d.oh + oy) * d.ow + ox;
                    for c in 0..d.cg {
                        let ci = group * d.cg + c;
                        for ky in 0..d.kh {
                            let Some(iy) = pos(oy, ky, 0, d.h) else {
                                continue;
                            };
                            for kx in 0..d.kw {
                                let Some(ix) = pos(ox, kx, 1, d.w) else {
                                    continue;
                                };
                                let xi = ((n * d.c + ci) * d.h + iy) * d.w + ix;
                                let wi = ((o * d.cg + c) * d.kh + ky) * d.kw + kx;
                                f(xi, wi, yi);
                            }
                        }
                    }
                }
            }
        }
    }
}

fn floats<T: Element>(cx: Cx, v: &Value<T>) -> Result<&Array<T>, EvalError> {
    v.as_float()
        .ok_or_else(|| cx.invalid("convolutions are defined on f32 only"))
}

/// `y[n, o, oy, ox] = Σ_{c, ky, kx} x[n, g*cg + c, iy, ix] * w[o, c, ky, kx]`.
pub(super) fn conv2d<T: Element>(
    cx: Cx,
    p: &ConvParams,
    out: &Shape,
    x: &Value<T>,
    w: &Value<T>,
) -> Result<Value<T>, EvalError> {
    let (x, w) = (floats(cx, x)?, floats(cx, w)?);
    let d = ConvDims::new(cx, &x.shape, &w.shape, out)?;
    let mut y = Array::filled(out.clone(), T::zero());
    for_each_tap(&d, p, |xi, wi, yi| y.data[yi] += x.data[xi] * w.data[wi]);
    Ok(Value::Float(y))
}

/// `dx` of shape `out`: `dx[xi] += dy[yi] * w[wi]` over every tap.
pub(super) fn input_grad<T: Element>(
    cx: Cx,
    p: &ConvParams,
    out: &Shape,
    dy: &Value<T>,
    w: &Value<T>,
) -> Result<Value<T>, EvalError> {
    let (dy, w) = (floats(cx, dy)?, floats(cx, w)?);
    let d = ConvDims::new(cx, out, &w.shape, &dy.shape)?;
    let mut dx = Array::filled(out.clone(), T::zero());
    for_each_tap(&d, p, |xi, wi, yi| dx.data[xi] += dy.data[yi] * w.data[wi]);
    Ok(Value::Float(dx))
}

/// `dw` of shape `out`: `dw[wi] += x[xi] * dy[yi]` over every tap.
pub(super) fn weight_grad<T: Element>(
    cx: Cx,
    p: &ConvParams,
    out: &Shape,
    x: &Value<T>,
    dy: &Value<T>,
) -> Result<Value<T>, EvalError> {
    let (x, dy) = (floats(cx, x)?, floats(cx, dy)?);
    let d = ConvDims::new(cx, &x.shape, out, &dy.shape)?;
    let mut dw = Array::filled(out.clone(), T::zero());
    for_each_tap(&d, p, |xi, wi, yi| dw.data[wi] += x.data[xi] * dy.data[yi]);
    Ok(Value::Float(dw))
}
