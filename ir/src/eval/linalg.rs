//! Batched matrix product with optional transposed operands.

use super::Cx;
use super::value::{Array, Element, Value};
use crate::error::EvalError;
use crate::shape::Shape;

/// `out[b, i, j] = Σ_p A[b, i, p] * B[b, p, j]`, summed in order `p = 0, 1, ..`,
/// where `A` is the lhs with its last two dims swapped if `transpose_lhs`,
/// and likewise `B` for the rhs.
pub(super) fn matmul<T: Element>(
    cx: Cx,
    transpose_lhs: bool,
    transpose_rhs: bool,
    out: &Shape,
    args: &[&Value<T>],
) -> Result<Value<T>, EvalError> {
    let (Some(a), Some(b)) = (args[0].as_float(), args[1].as_float()) else {
        return Err(cx.invalid("matmul is defined on f32 only"));
    };
    let (ad, bd) = (a.shape.dims(), b.shape.dims());
    let r = ad.len();
    // As stored: a is [batch, a0, a1], b is [batch, b0, b1].
    let (a0, a1, b0, b1) = (ad[r - 2], ad[r - 1], bd[r - 2], bd[r - 1]);
    let batch: usize = ad[..r - 2].iter().product();
    let (m, k) = if transpose_lhs { (a1, a0) } else { (a0, a1) };
    let n = if transpose_rhs { b0 } else { b1 };
    // A[bi, i, p] and B[bi, p, j], reading through the transposes.
    let lhs = |bi: usize, i: usize, p: usize| {
        let within = if transpose_lhs {
            p * a1 + i
        } else {
            i * a1 + p
        };
        a.data[bi * a0 * a1 + within]
    };
    let rhs = |bi: usize, p: usize, j: usize| {
        let within = if transpose_rhs {
            j * b1 + p
        } else {
            p * b1 + j
        };
        b.data[bi * b0 * b1 + within]
    };
    let mut data = Vec::with_capacity(batch * m * n);
    for bi in 0..batch {
        for i in 0..m {
            for j in 0..n {
                let mut acc = T::zero();
                for p in 0..k {
                    acc += lhs(bi, i, p) * rhs(bi, p, j);
                }
                data.push(acc);
            }
        }
    }
    Ok(Value::Float(Array {
        shape: out.clone(),
        data,
    }))
}
