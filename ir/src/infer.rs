//! Type inference: the one place that states every op's dtype and shape rule.
//!
//! The builder calls [`infer`] on every node it creates, the parser on every line
//! it reads, and the verifier re-runs it on every node after every pass. The
//! rules are documented on the variants of [`Op`]; this file implements them.

use crate::dtype::DType;
use crate::error::TypeError;
use crate::op::{BinaryOp, ConvParams, Op, PoolParams, ReduceOp};
use crate::shape::{Shape, TensorType};

/// The type of `op` applied to operands of types `operands`.
pub fn infer(op: &Op, operands: &[TensorType]) -> Result<TensorType, TypeError> {
    check_arity(op, operands.len())?;
    match op {
        Op::Input { ty, .. } => Ok(ty.clone()),
        Op::Param { ty, init, .. } | Op::State { ty, init, .. } => {
            if !init.supports(ty.dtype) {
                return Err(TypeError::Attribute(format!(
                    "initializer `{}` cannot fill a {} tensor (use zeros, ones or constant)",
                    init.name(),
                    ty.dtype
                )));
            }
            Ok(ty.clone())
        }
        Op::Const { value } => Ok(value.ty()),
        Op::Iota { ty, axis } => {
            axis_in(*axis, ty.shape.rank(), "axis")?;
            Ok(ty.clone())
        }
        Op::Output { .. } | Op::Update { .. } => Ok(operands[0].clone()),
        Op::Unary(u) => {
            let x = &operands[0];
            if x.dtype == DType::I32 && !u.accepts_i32() {
                return Err(dtype_err("the operand", "f32", x));
            }
            Ok(x.clone())
        }
        Op::Binary(b) => {
            let (x, y) = (&operands[0], &operands[1]);
            if x.dtype != y.dtype {
                return Err(TypeError::DType(format!(
                    "both operands must be of one dtype, found {} and {}",
                    x.dtype, y.dtype
                )));
            }
            if x.shape != y.shape {
                return Err(TypeError::Shape(format!(
                    "operands must have equal shapes (the builder broadcasts), found {} and {}",
                    x.shape, y.shape
                )));
            }
            if *b == BinaryOp::Pow && x.dtype != DType::F32 {
                return Err(dtype_err("the operands of pow", "f32", x));
            }
            Ok(if b.is_comparison() {
                TensorType::new(DType::F32, x.shape.clone())
            } else {
                x.clone()
            })
        }
        Op::Where => {
            let (c, a, b) = (&operands[0], &operands[1], &operands[2]);
            if c.dtype != DType::F32 {
                return Err(dtype_err("the condition", "f32 (0/1)", c));
            }
            if a.dtype != b.dtype {
                return Err(TypeError::DType(format!(
                    "both branches must be of one dtype, found {} and {}",
                    a.dtype, b.dtype
                )));
            }
            if c.shape != a.shape || a.shape != b.shape {
                return Err(TypeError::Shape(format!(
                    "condition and branches must have equal shapes, found {}, {} and {}",
                    c.shape, a.shape, b.shape
                )));
            }
            Ok(a.clone())
        }
        Op::Cast { to } => Ok(TensorType::new(*to, operands[0].shape.clone())),
        Op::StopGradient => Ok(operands[0].clone()),
        Op::Reduce {
            op: r,
            axes,
            keepdims,
        } => {
            let x = &operands[0];
            if *r == ReduceOp::Mean && x.dtype != DType::F32 {
                return Err(dtype_err("the operand of reduce_mean", "f32", x));
            }
            check_axes(axes, x.shape.rank())?;
            Ok(TensorType::new(
                x.dtype,
                reduced_shape(&x.shape, axes, *keepdims),
            ))
        }
        Op::ArgMax { axis, keepdims } => {
            let x = &operands[0];
            if x.dtype != DType::F32 {
                return Err(dtype_err("the operand of argmax", "f32", x));
            }
            axis_in(*axis, x.shape.rank(), "axis")?;
            Ok(TensorType::new(
                DType::I32,
                reduced_shape(&x.shape, &[*axis], *keepdims),
            ))
        }
        Op::Reshape { shape } => {
            let x = &operands[0];
            if shape.numel() != x.shape.numel() {
                return Err(TypeError::Shape(format!(
                    "cannot reshape {} ({} elements) to {} ({} elements)",
                    x.shape,
                    x.shape.numel(),
                    shape,
                    shape.numel()
                )));
            }
            Ok(TensorType::new(x.dtype, shape.clone()))
        }
        Op::Permute { perm } => {
            let x = &operands[0];
            let mut seen = vec![false; x.shape.rank()];
            let valid = perm.len() == x.shape.rank()
                && perm
                    .iter()
                    .all(|&p| p < seen.len() && !std::mem::replace(&mut seen[p], true));
            if !valid {
                return Err(TypeError::Attribute(format!(
                    "perm must be a permutation of 0..{}, found {:?}",
                    x.shape.rank(),
                    perm
                )));
            }
            let dims = perm.iter().map(|&p| x.shape.0[p]).collect::<Vec<_>>();
            Ok(TensorType::new(x.dtype, dims))
        }
        Op::Broadcast { shape } => {
            let x = &operands[0];
            if !x.shape.broadcasts_to(shape) {
                return Err(TypeError::Shape(format!(
                    "{} does not broadcast to {}",
                    x.shape, shape
                )));
            }
            Ok(TensorType::new(x.dtype, shape.clone()))
        }
        Op::Slice {
            axis,
            start,
            end,
            step,
        } => {
            let x = &operands[0];
            axis_in(*axis, x.shape.rank(), "axis")?;
            let dim = x.shape.0[*axis];
            if *step == 0 || start >= end || *end > dim {
                return Err(TypeError::Attribute(format!(
                    "slice {start}..{end} step {step} must satisfy start < end <= {dim} and step >= 1"
                )));
            }
            let mut dims = x.shape.0.clone();
            dims[*axis] = (end - start).div_ceil(*step);
            Ok(TensorType::new(x.dtype, dims))
        }
        Op::Pad {
            axis,
            low,
            high,
            interior,
            ..
        } => {
            let x = &operands[0];
            axis_in(*axis, x.shape.rank(), "axis")?;
            let mut dims = x.shape.0.clone();
            let n = dims[*axis];
            let padded = n
                .saturating_sub(1)
                .checked_mul(*interior)
                .and_then(|i| i.checked_add(n)?.checked_add(*low)?.checked_add(*high));
            dims[*axis] = padded.ok_or_else(|| {
                TypeError::Attribute(format!(
                    "padding {low}+{high} with interior {interior} overflows"
                ))
            })?;
            Ok(TensorType::new(x.dtype, dims))
        }
        Op::Concat { axis } => {
            let first = &operands[0];
            axis_in(*axis, first.shape.rank(), "axis")?;
            let mut total = 0;
            for (i, t) in operands.iter().enumerate() {
                let same_other_dims = t.shape.rank() == first.shape.rank()
                    && (0..t.shape.rank()).all(|d| d == *axis || t.shape.0[d] == first.shape.0[d]);
                if t.dtype != first.dtype || !same_other_dims {
                    return Err(TypeError::Shape(format!(
                        "operand {i} is {t}, but concat along axis {axis} needs {} with the shape of operand 0 ({first}) outside that axis",
                        first.dtype
                    )));
                }
                total += t.shape.0[*axis];
            }
            let mut dims = first.shape.0.clone();
            dims[*axis] = total;
            Ok(TensorType::new(first.dtype, dims))
        }
        Op::Gather { axis } => {
            let (data, idx) = (&operands[0], &operands[1]);
            if idx.dtype != DType::I32 {
                return Err(dtype_err("the indices", "i32", idx));
            }
            axis_in(*axis, data.shape.rank(), "axis")?;
            let d = &data.shape.0;
            let dims = [&d[..*axis], &idx.shape.0[..], &d[axis + 1..]].concat();
            Ok(TensorType::new(data.dtype, dims))
        }
        Op::ScatterAdd { axis, size } => {
            let (upd, idx) = (&operands[0], &operands[1]);
            if idx.dtype != DType::I32 {
                return Err(dtype_err("the indices", "i32", idx));
            }
            let k = idx.shape.rank();
            let u = &upd.shape.0;
            let fits = axis
                .checked_add(k)
                .is_some_and(|end| u.len() >= end && u[*axis..end] == idx.shape.0[..]);
            if !fits {
                return Err(TypeError::Shape(format!(
                    "updates {} must contain the indices' shape {} at axis {axis}",
                    upd.shape, idx.shape
                )));
            }
            let dims = [&u[..*axis], &[*size][..], &u[axis + k..]].concat();
            Ok(TensorType::new(upd.dtype, dims))
        }
        Op::OneHot { depth } => {
            let idx = &operands[0];
            if idx.dtype != DType::I32 {
                return Err(dtype_err("the indices", "i32", idx));
            }
            let mut dims = idx.shape.0.clone();
            dims.push(*depth);
            Ok(TensorType::new(DType::F32, dims))
        }
        Op::MatMul {
            transpose_lhs,
            transpose_rhs,
        } => {
            let (a, b) = (&operands[0], &operands[1]);
            for (t, side) in [(a, "lhs"), (b, "rhs")] {
                if t.dtype != DType::F32 {
                    return Err(dtype_err(&format!("the {side}"), "f32", t));
                }
            }
            let (ra, rb) = (a.shape.rank(), b.shape.rank());
            if ra < 2 || ra != rb {
                return Err(TypeError::Shape(format!(
                    "matmul needs operands of equal rank >= 2, found {} and {}",
                    a.shape, b.shape
                )));
            }
            if a.shape.0[..ra - 2] != b.shape.0[..rb - 2] {
                return Err(TypeError::Shape(format!(
                    "batch dimensions differ: {} and {}",
                    a.shape, b.shape
                )));
            }
            let (m, ka) = last_two(&a.shape, *transpose_lhs);
            let (kb, n) = last_two(&b.shape, *transpose_rhs);
            if ka != kb {
                return Err(TypeError::Shape(format!(
                    "inner dimensions differ: lhs {} gives k = {ka}, rhs {} gives k = {kb}{}",
                    a.shape,
                    b.shape,
                    transposes_note(*transpose_lhs, *transpose_rhs)
                )));
            }
            let mut dims = a.shape.0[..ra - 2].to_vec();
            dims.extend([m, n]);
            Ok(TensorType::f32(dims))
        }
        Op::Conv2d(p) => {
            let (x, w) = (&operands[0], &operands[1]);
            let [n, c, h, wd] = nchw(x, "the input")?;
            let [o, cg, kh, kw] = nchw(w, "the weight")?;
            check_conv(p, c, o, cg)?;
            let (oh, ow) = conv_out(p, [h, wd], [kh, kw])?;
            Ok(TensorType::f32([n, o, oh, ow]))
        }
        Op::Conv2dInputGrad { conv: p, input_hw } => {
            let (dy, w) = (&operands[0], &operands[1]);
            let [n, o, oh, ow] = nchw(dy, "the output gradient")?;
            let [wo, cg, kh, kw] = nchw(w, "the weight")?;
            if wo != o {
                return Err(TypeError::Shape(format!(
                    "the weight has {wo} output channels, the output gradient {o}"
                )));
            }
            let c = cg * p.groups;
            check_conv(p, c, o, cg)?;
            expect_spatial(conv_out(p, *input_hw, [kh, kw])?, (oh, ow), "conv2d")?;
            Ok(TensorType::f32([n, c, input_hw[0], input_hw[1]]))
        }
        Op::Conv2dWeightGrad { conv: p, kernel_hw } => {
            let (x, dy) = (&operands[0], &operands[1]);
            let [n, c, h, wd] = nchw(x, "the input")?;
            let [dn, o, oh, ow] = nchw(dy, "the output gradient")?;
            if dn != n {
                return Err(TypeError::Shape(format!(
                    "batch sizes differ: input {n}, output gradient {dn}"
                )));
            }
            if p.groups == 0 || !c.is_multiple_of(p.groups) {
                return Err(TypeError::Attribute(format!(
                    "groups = {} must divide the {c} input channels",
                    p.groups
                )));
            }
            let cg = c / p.groups;
            check_conv(p, c, o, cg)?;
            expect_spatial(conv_out(p, [h, wd], *kernel_hw)?, (oh, ow), "conv2d")?;
            Ok(TensorType::f32([o, cg, kernel_hw[0], kernel_hw[1]]))
        }
        Op::MaxPool2d(p) | Op::AvgPool2d(p) => {
            let x = &operands[0];
            let [n, c, h, w] = nchw(x, "the input")?;
            let (oh, ow) = pool_out(p, [h, w])?;
            Ok(TensorType::f32([n, c, oh, ow]))
        }
        Op::MaxPool2dGrad(p) => {
            let (x, dy) = (&operands[0], &operands[1]);
            let [n, c, h, w] = nchw(x, "the input")?;
            let (oh, ow) = pool_out(p, [h, w])?;
            let expected = TensorType::f32([n, c, oh, ow]);
            if *dy != expected {
                return Err(TypeError::Shape(format!(
                    "the output gradient must be {expected} (the pooled input's type), found {dy}"
                )));
            }
            Ok(x.clone())
        }
        Op::AvgPool2dGrad { pool: p, input_hw } => {
            let dy = &operands[0];
            let [n, c, oh, ow] = nchw(dy, "the output gradient")?;
            expect_spatial(pool_out(p, *input_hw)?, (oh, ow), "avg_pool2d")?;
            Ok(TensorType::f32([n, c, input_hw[0], input_hw[1]]))
        }
        Op::RandomUniform { shape, .. } | Op::RandomBernoulli { shape, .. } => {
            let ctr = &operands[0];
            if *ctr != TensorType::i32(Shape::scalar()) {
                return Err(dtype_err("the counter", "an i32 scalar (i32[])", ctr));
            }
            if let Op::RandomBernoulli { p, .. } = op
                && !(0.0..=1.0).contains(&p.get())
            {
                return Err(TypeError::Attribute(format!(
                    "p must be in [0, 1], found {p}"
                )));
            }
            Ok(TensorType::f32(shape.clone()))
        }
    }
}

fn check_arity(op: &Op, found: usize) -> Result<(), TypeError> {
    match op.arity() {
        Some(n) if n != found => Err(TypeError::Arity {
            expected: n.to_string(),
            found,
        }),
        None if found == 0 => Err(TypeError::Arity {
            expected: "at least 1".into(),
            found,
        }),
        _ => Ok(()),
    }
}

fn dtype_err(what: &str, expected: &str, found: &TensorType) -> TypeError {
    TypeError::DType(format!("{what} must be {expected}, found {found}"))
}

fn axis_in(axis: usize, rank: usize, what: &str) -> Result<(), TypeError> {
    if axis < rank {
        Ok(())
    } else {
        Err(TypeError::Attribute(format!(
            "{what} {axis} is out of range for rank {rank}"
        )))
    }
}

fn check_axes(axes: &[usize], rank: usize) -> Result<(), TypeError> {
    for &a in axes {
        axis_in(a, rank, "axis")?;
    }
    if axes.windows(2).any(|w| w[0] >= w[1]) {
        return Err(TypeError::Attribute(format!(
            "axes must be sorted and unique, found {axes:?}"
        )));
    }
    Ok(())
}

/// The shape left after reducing `axes`.
pub fn reduced_shape(shape: &Shape, axes: &[usize], keepdims: bool) -> Shape {
    let dims = shape.0.iter().enumerate().filter_map(|(i, &d)| {
        if !axes.contains(&i) {
            Some(d)
        } else if keepdims {
            Some(1)
        } else {
            None
        }
    });
    Shape(dims.collect())
}

/// `(rows, cols)` of the last two dims, swapped if `transposed`.
fn last_two(shape: &Shape, transposed: bool) -> (usize, usize) {
    let r = shape.rank();
    let (a, b) = (shape.0[r - 2], shape.0[r - 1]);
    if transposed { (b, a) } else { (a, b) }
}

fn transposes_note(tl: bool, tr: bool) -> &'static str {
    match (tl, tr) {
        (false, false) => "",
        (true, false) => " (lhs transposed)",
        (false, true) => " (rhs transposed)",
        (true, true) => " (both transposed)",
    }
}

fn nchw(t: &TensorType, what: &str) -> Result<[usize; 4], TypeError> {
    if t.dtype != DType::F32 {
        return Err(dtype_err(what, "f32", t));
    }
    <[usize; 4]>::try_from(t.shape.0.as_slice())
        .map_err(|_| TypeError::Shape(format!("{what} must be rank 4 (NCHW), found {}", t.shape)))
}

fn check_conv(p: &ConvParams, c: usize, o: usize, cg: usize) -> Result<(), TypeError> {
    if p.groups == 0 || !c.is_multiple_of(p.groups) || !o.is_multiple_of(p.groups) {
        return Err(TypeError::Attribute(format!(
            "groups = {} must divide both the {c} input and the {o} output channels",
            p.groups
        )));
    }
    if cg * p.groups != c {
        return Err(TypeError::Shape(format!(
            "the weight expects {} input channels ({cg} per group x {} groups), the input has {c}",
            cg * p.groups,
            p.groups
        )));
    }
    if p.stride.contains(&0) || p.dilation.contains(&0) {
        return Err(TypeError::Attribute(format!(
            "stride {:?} and dilation {:?} must be >= 1",
            p.stride, p.dilation
        )));
    }
    Ok(())
}

fn conv_out(p: &ConvParams, hw: [usize; 2], k: [usize; 2]) -> Result<(usize, usize), TypeError> {
    let oh = p.output_dim(0, hw[0], k[0]);
    let ow = p.output_dim(1, hw[1], k[1]);
    match (oh, ow) {
        (Some(oh), Some(ow)) => Ok((oh, ow)),
        _ => Err(TypeError::Shape(format!(
            "a {}x{} kernel (dilation {:?}, padding {:?}) does not fit a {}x{} input",
            k[0], k[1], p.dilation, p.padding, hw[0], hw[1]
        ))),
    }
}

fn pool_out(p: &PoolParams, hw: [usize; 2]) -> Result<(usize, usize), TypeError> {
    if p.stride.contains(&0) || p.kernel.contains(&0) {
        return Err(TypeError::Attribute(format!(
            "kernel {:?} and stride {:?} must be >= 1",
            p.kernel, p.stride
        )));
    }
    if (0..2).any(|i| 2 * p.padding[i] > p.kernel[i]) {
        return Err(TypeError::Attribute(format!(
            "padding {:?} must be at most half of the kernel {:?}",
            p.padding, p.kernel
        )));
    }
    match (p.output_dim(0, hw[0]), p.output_dim(1, hw[1])) {
        (Some(oh), Some(ow)) => Ok((oh, ow)),
        _ => Err(TypeError::Shape(format!(
            "a {}x{} window (padding {:?}) does not fit a {}x{} input",
            p.kernel[0], p.kernel[1], p.padding, hw[0], hw[1]
        ))),
    }
}

fn expect_spatial(got: (usize, usize), want: (usize, usize), op: &str) -> Result<(), TypeError> {
    if got == want {
        Ok(())
    } else {
        Err(TypeError::Shape(format!(
            "{op} of the stated input size gives {}x{}, but the output gradient is {}x{}",
            got.0, got.1, want.0, want.1
        )))
    }
}

#[cfg(test)]
mod tests;
