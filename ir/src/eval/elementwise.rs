//! Elementwise ops: unary and binary functions, `where` and `cast`.
//!
//! Operands have equal shapes (the builder inserts explicit broadcasts), so
//! every op here is "element `i` of the result is `f` of element `i` of the
//! operands". The NaN conventions are chosen once here: `max`/`min` and
//! `relu` propagate NaN, `step` maps NaN to 0, `sign` keeps NaN.

use super::Cx;
use super::value::{Array, Element, Value};
use crate::dtype::DType;
use crate::error::EvalError;
use crate::op::{BinaryOp, UnaryOp};

/// `f(x)` elementwise.
pub(super) fn unary<T: Element>(cx: Cx, op: UnaryOp, x: &Value<T>) -> Result<Value<T>, EvalError> {
    match x {
        Value::Float(a) => Ok(Value::Float(a.map(|v| float_unary(op, v)))),
        Value::Int(a) => {
            let f: fn(i32) -> i32 = match op {
                UnaryOp::Neg => i32::wrapping_neg,
                UnaryOp::Abs => i32::wrapping_abs,
                UnaryOp::Sign => i32::signum,
                _ => return Err(cx.invalid("this function is defined on f32 only")),
            };
            Ok(Value::Int(a.map(f)))
        }
    }
}

fn float_unary<T: Element>(op: UnaryOp, x: T) -> T {
    let (zero, one) = (T::zero(), T::one());
    match op {
        UnaryOp::Neg => -x,
        UnaryOp::Exp => x.exp(),
        UnaryOp::Log => x.ln(),
        UnaryOp::Sqrt => x.sqrt(),
        UnaryOp::Rsqrt => one / x.sqrt(),
        UnaryOp::Recip => one / x,
        UnaryOp::Abs => x.abs(),
        UnaryOp::Sign => {
            if x > zero {
                one
            } else if x < zero {
                -one
            } else if x.is_nan() {
                x
            } else {
                zero
            }
        }
        UnaryOp::Tanh => x.tanh(),
        UnaryOp::Sigmoid => one / (one + (-x).exp()),
        UnaryOp::Relu => {
            if x.is_nan() || x > zero {
                x
            } else {
                zero
            }
        }
        UnaryOp::Erf => x.erf(),
        UnaryOp::Sin => x.sin(),
        UnaryOp::Cos => x.cos(),
        UnaryOp::Step => indicator(x > zero),
    }
}

/// `f(x, y)` elementwise. Comparisons give `f32` 0/1 for either dtype.
pub(super) fn binary<T: Element>(
    cx: Cx,
    op: BinaryOp,
    x: &Value<T>,
    y: &Value<T>,
) -> Result<Value<T>, EvalError> {
    match (x, y) {
        (Value::Float(a), Value::Float(b)) => {
            if let Some(cmp) = comparison::<T>(op) {
                Ok(Value::Float(zip(a, b, |p, q| indicator(cmp(&p, &q)))))
            } else if let Some(f) = float_arithmetic::<T>(op) {
                Ok(Value::Float(zip(a, b, f)))
            } else {
                Err(cx.invalid("not a binary function"))
            }
        }
        (Value::Int(a), Value::Int(b)) => {
            if let Some(cmp) = comparison::<i32>(op) {
                Ok(Value::Float(zip(a, b, |p, q| indicator(cmp(&p, &q)))))
            } else if let Some(f) = int_arithmetic(op) {
                Ok(Value::Int(zip(a, b, f)))
            } else {
                Err(cx.invalid("this function is defined on f32 only"))
            }
        }
        _ => Err(cx.invalid("the operands have different dtypes")),
    }
}

fn comparison<U: PartialOrd>(op: BinaryOp) -> Option<fn(&U, &U) -> bool> {
    Some(match op {
        BinaryOp::Lt => U::lt,
        BinaryOp::Le => U::le,
        BinaryOp::Gt => U::gt,
        BinaryOp::Ge => U::ge,
        BinaryOp::Eq => U::eq,
        BinaryOp::Ne => U::ne,
        _ => return None,
    })
}

fn float_arithmetic<T: Element>(op: BinaryOp) -> Option<fn(T, T) -> T> {
    Some(match op {
        BinaryOp::Add => |p, q| p + q,
        BinaryOp::Sub => |p, q| p - q,
        BinaryOp::Mul => |p, q| p * q,
        BinaryOp::Div => |p, q| p / q,
        BinaryOp::Pow => T::powf,
        BinaryOp::Max => max_nan,
        BinaryOp::Min => min_nan,
        _ => return None,
    })
}

/// Wrapping arithmetic; division truncates toward zero and `x / 0 = 0`.
fn int_arithmetic(op: BinaryOp) -> Option<fn(i32, i32) -> i32> {
    Some(match op {
        BinaryOp::Add => i32::wrapping_add,
        BinaryOp::Sub => i32::wrapping_sub,
        BinaryOp::Mul => i32::wrapping_mul,
        BinaryOp::Div => |p, q| if q == 0 { 0 } else { p.wrapping_div(q) },
        BinaryOp::Max => i32::max,
        BinaryOp::Min => i32::min,
        _ => return None,
    })
}

/// The larger of two floats; NaN if either is NaN; the first on ties.
pub(super) fn max_nan<T: Element>(p: T, q: T) -> T {
    if p.is_nan() || q.is_nan() {
        if p.is_nan() { p } else { q }
    } else if q > p {
        q
    } else {
        p
    }
}

/// The smaller of two floats; NaN if either is NaN; the first on ties.
pub(super) fn min_nan<T: Element>(p: T, q: T) -> T {
    if p.is_nan() || q.is_nan() {
        if p.is_nan() { p } else { q }
    } else if q < p {
        q
    } else {
        p
    }
}

/// 1 for true, 0 for false: how kiln spells booleans.
fn indicator<T: Element>(b: bool) -> T {
    if b { T::one() } else { T::zero() }
}

fn zip<A: Copy, B: Copy, C>(a: &Array<A>, b: &Array<B>, f: impl Fn(A, B) -> C) -> Array<C> {
    Array {
        shape: a.shape.clone(),
        data: a.data.iter().zip(&b.data).map(|(&p, &q)| f(p, q)).collect(),
    }
}

/// `where(c, a, b)`: `a` where `c != 0` (NaN counts as non-zero), else `b`.
pub(super) fn select<T: Element>(
    cx: Cx,
    c: &Value<T>,
    a: &Value<T>,
    b: &Value<T>,
) -> Result<Value<T>, EvalError> {
    let Value::Float(c) = c else {
        return Err(cx.invalid("the condition must be f32"));
    };
    fn pick<T: Element, U: Copy>(c: &Array<T>, a: &Array<U>, b: &Array<U>) -> Array<U> {
        let data = c.data.iter().zip(a.data.iter().zip(&b.data));
        Array {
            shape: a.shape.clone(),
            data: data
                .map(|(&c, (&a, &b))| if c != T::zero() { a } else { b })
                .collect(),
        }
    }
    match (a, b) {
        (Value::Float(a), Value::Float(b)) => Ok(Value::Float(pick(c, a, b))),
        (Value::Int(a), Value::Int(b)) => Ok(Value::Int(pick(c, a, b))),
        _ => Err(cx.invalid("the branches have different dtypes")),
    }
}

/// Converts to `to`. `f32 -> i32` truncates toward zero, saturates at the
/// `i32` range and maps NaN to 0 (exactly Rust's `as`); `i32 -> f32` rounds
/// to nearest.
pub(super) fn cast<T: Element>(to: DType, x: &Value<T>) -> Value<T> {
    match (x, to) {
        (Value::Float(a), DType::I32) => Value::Int(a.map(|v| v.to_f64() as i32)),
        (Value::Int(a), DType::F32) => Value::Float(a.map(|v| T::from_f64(f64::from(v)))),
        (Value::Float(_), DType::F32) | (Value::Int(_), DType::I32) => x.clone(),
    }
}
