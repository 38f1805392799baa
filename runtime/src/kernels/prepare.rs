//! Turning a plan step into a [`Prepared`] kernel: all the shape logic, once.
//!
//! Every check a kernel's raw-pointer loops rely on is made here (or, for the
//! bounds of each view, by the executable before calling [`prepare`]): the
//! number and dtypes of operands, shapes that agree with the kernel's typing
//! rules, and the aliasing the kernel tolerates ([`aliasing`]). A plan that
//! fails is rejected with a message naming the problem; nothing here panics.

use super::Prepared;
use super::conv::{Conv, ConvDims, ConvKind, ConvPath, Operand4, is_pointwise};
use super::elementwise::{Elementwise, Ew};
use super::gather::{Gather, Indices, OneHot, ScatterAdd};
use super::gemm::{GemmShape, MatMul};
use super::layout::{Loc, Walk, collapse};
use super::movement::{Concat, CopyView, Fill, Iota, Pad};
use super::pool::{Pool, PoolKind};
use super::random::Random;
use super::reduce::{ArgMax, Reduce, split_dims};
use kiln_ir::plan::{Kernel, Plan, Region, Step, View};
use kiln_ir::{ConvParams, DType, PoolParams, ReduceOp};

/// What preparing needs to know about the plan's memory.
pub(crate) struct Prep<'a> {
    pub plan: &'a Plan,
    /// Element offset of each constant in the constant pool.
    pub const_offsets: &'a [usize],
    /// Element offset in the arena of the executable's own scratch space.
    pub private_offset: usize,
    /// The largest scratch any step needed beyond what the plan gave it.
    pub private_need: usize,
}

impl Prep<'_> {
    pub fn const_slot(&self) -> usize {
        self.plan.inputs.len() + self.plan.params.len() + self.plan.states.len()
    }

    pub fn arena_slot(&self) -> usize {
        self.const_slot() + 1
    }

    /// Where a (validated) view starts.
    pub fn loc(&self, v: &View) -> Loc {
        let (n_in, n_par) = (self.plan.inputs.len(), self.plan.params.len());
        let (slot, base) = match v.region {
            Region::Input(i) => (i as usize, 0),
            Region::Param(i) => (n_in + i as usize, 0),
            Region::State(i) => (n_in + n_par + i as usize, 0),
            Region::Const(i) => (self.const_slot(), self.const_offsets[i as usize]),
            Region::Temp(i) => (self.arena_slot(), self.plan.temps[i as usize].offset),
        };
        Loc {
            slot,
            offset: base + v.offset,
        }
    }

    /// `need` elements of f32 scratch: the step's own scratch view if it is
    /// a large enough contiguous temporary, else the executable's.
    fn scratch(&mut self, need: usize, given: Option<&View>) -> Loc {
        if let Some(v) = given
            && matches!(v.region, Region::Temp(_))
            && v.is_contiguous()
            && v.numel() >= need
        {
            return self.loc(v);
        }
        self.private_need = self.private_need.max(need);
        Loc {
            slot: self.arena_slot(),
            offset: self.private_offset,
        }
    }
}

type R<T> = Result<T, String>;

fn arity(step: &Step, n: usize) -> R<()> {
    if step.inputs.len() == n {
        Ok(())
    } else {
        Err(format!(
            "takes {n} operand(s), the step has {}",
            step.inputs.len()
        ))
    }
}

fn dtype(v: &View, want: DType, what: &str) -> R<()> {
    if v.dtype == want {
        Ok(())
    } else {
        Err(format!("{what} must be {want}, it is {}", v.ty()))
    }
}

fn same_shape(a: &View, b: &View, what: &str) -> R<()> {
    if a.shape == b.shape {
        Ok(())
    } else {
        Err(format!("{what}: shapes {} and {} differ", a.shape, b.shape))
    }
}

fn dims(v: &View) -> &[usize] {
    v.shape.dims()
}

/// `K` views of one shape walked together (the output first).
fn ew<const K: usize>(cx: &Prep, views: [&View; K]) -> Ew<K> {
    let strides: [&[usize]; K] = std::array::from_fn(|k| views[k].strides.as_slice());
    Ew {
        walk: Walk::new(dims(views[0]), strides),
        locs: std::array::from_fn(|k| cx.loc(views[k])),
    }
}

/// Whether a kernel may write its output over an identical input view.
pub(crate) fn allows_in_place(k: &Kernel) -> bool {
    match k {
        Kernel::Reduce { axes, .. } => axes.is_empty(),
        k => k.is_elementwise(),
    }
}

/// The step's output and scratch may not overlap themselves, and each input
/// must be disjoint from them (or, for in-place kernels, identical to the
/// output). `span` gives a view's `(slot, start, end)` in absolute elements.
pub(crate) fn aliasing(step: &Step, span: impl Fn(&View) -> (usize, usize, usize)) -> R<()> {
    let out = &step.output;
    if !injective(out) {
        return Err(format!(
            "the output view {}{{{:?}}} writes some elements twice",
            out.shape, out.strides
        ));
    }
    let overlap = |a: &View, b: &View| {
        let (sa, a0, a1) = span(a);
        let (sb, b0, b1) = span(b);
        a.numel() > 0 && b.numel() > 0 && sa == sb && a0 < b1 && b0 < a1
    };
    let identical = |a: &View, b: &View| {
        span(a).0 == span(b).0
            && span(a).1 == span(b).1
            && a.shape == b.shape
            && a.shape
                .dims()
                .iter()
                .zip(a.strides.iter().zip(&b.strides))
                .all(|(&d, (sa, sb))| d <= 1 || sa == sb)
    };
    let in_place = allows_in_place(&step.kernel);
    for (i, v) in step.inputs.iter().enumerate() {
        if overlap(v, out) && !(in_place && identical(v, out)) {
            return Err(format!(
                "operand {i} overlaps the output{}",
                if in_place {
                    " without being the identical view"
                } else {
                    " (this kernel cannot work in place)"
                }
            ));
        }
    }
    if let Some(s) = &step.scratch
        && (overlap(s, out) || step.inputs.iter().any(|v| overlap(s, v)))
    {
        return Err("the scratch view overlaps an operand or the output".into());
    }
    Ok(())
}

/// A sufficient condition for a view to visit every address once: sorted by
/// stride, each stride clears the whole extent of the smaller ones.
fn injective(v: &View) -> bool {
    if v.numel() == 0 {
        return true;
    }
    let mut dims: Vec<(usize, usize)> = v
        .shape
        .dims()
        .iter()
        .zip(&v.strides)
        .filter(|(d, _)| **d > 1)
        .map(|(&d, &s)| (s, d))
        .collect();
    dims.sort_unstable();
    let mut reach = 1usize;
    for (s, d) in dims {
        if s < reach {
            return false;
        }
        reach = s.saturating_mul(d - 1).saturating_add(reach);
    }
    true
}

/// Validates `step` and precomputes its kernel.
pub(crate) fn prepare(step: &Step, cx: &mut Prep) -> R<Prepared> {
    let out = &step.output;
    let ins = &step.inputs;
    Ok(match &step.kernel {
        Kernel::Copy => {
            arity(step, 1)?;
            same_shape(&ins[0], out, "copy")?;
            dtype(out, ins[0].dtype, "the output")?;
            Prepared::Elementwise(Elementwise::Copy(ew(cx, [out, &ins[0]])))
        }
        Kernel::Unary(op) => {
            arity(step, 1)?;
            same_shape(&ins[0], out, "operand and output")?;
            let dt = ins[0].dtype;
            if dt == DType::I32 && !op.accepts_i32() {
                return Err(format!("{} is defined on f32 only", op.name()));
            }
            dtype(out, dt, "the output")?;
            Prepared::Elementwise(Elementwise::Unary(*op, dt, ew(cx, [out, &ins[0]])))
        }
        Kernel::Binary(op) => {
            arity(step, 2)?;
            same_shape(&ins[0], &ins[1], "operands")?;
            same_shape(&ins[0], out, "operands and output")?;
            let dt = ins[0].dtype;
            dtype(&ins[1], dt, "the second operand")?;
            if dt == DType::I32 && *op == kiln_ir::BinaryOp::Pow {
                return Err("pow is defined on f32 only".into());
            }
            dtype(
                out,
                if op.is_comparison() { DType::F32 } else { dt },
                "the output",
            )?;
            Prepared::Elementwise(Elementwise::Binary(
                *op,
                dt,
                ew(cx, [out, &ins[0], &ins[1]]),
            ))
        }
        Kernel::Where => {
            arity(step, 3)?;
            for v in ins {
                same_shape(v, out, "operands and output")?;
            }
            dtype(&ins[0], DType::F32, "the condition")?;
            dtype(&ins[1], out.dtype, "the first branch")?;
            dtype(&ins[2], out.dtype, "the second branch")?;
            Prepared::Elementwise(Elementwise::Where(ew(cx, [out, &ins[0], &ins[1], &ins[2]])))
        }
        Kernel::Cast => {
            arity(step, 1)?;
            same_shape(&ins[0], out, "operand and output")?;
            Prepared::Elementwise(Elementwise::Cast(
                ins[0].dtype,
                out.dtype,
                ew(cx, [out, &ins[0]]),
            ))
        }
        Kernel::Reduce { op, axes } => reduce(cx, *op, axes, &ins[..], out, step)?,
        Kernel::ArgMax { axis } => argmax(cx, *axis, step)?,
        Kernel::Pad {
            axis,
            low,
            interior,
            value,
        } => pad(cx, *axis, *low, *interior, value.get(), step)?,
        Kernel::Concat { axis } => concat(cx, *axis, step)?,
        Kernel::Gather { axis } => gather(cx, *axis, step)?,
        Kernel::ScatterAdd { axis } => scatter_add(cx, *axis, step)?,
        Kernel::OneHot => one_hot(cx, step)?,
        Kernel::Iota { axis } => {
            arity(step, 0)?;
            if *axis >= out.shape.rank() && out.shape.rank() > 0 {
                return Err(format!("axis {axis} is out of range for {}", out.shape));
            }
            if out.shape.rank() == 0 {
                return Err("iota needs a rank >= 1 output".into());
            }
            Prepared::Iota(Iota {
                out: cx.loc(out),
                dims: dims(out).to_vec(),
                strides: out.strides.clone(),
                axis: *axis,
                int: out.dtype == DType::I32,
            })
        }
        Kernel::MatMul => matmul(cx, step)?,
        Kernel::Conv2d(p) => conv(cx, ConvKind::Forward, p, step)?,
        Kernel::Conv2dInputGrad(p) => conv(cx, ConvKind::InputGrad, p, step)?,
        Kernel::Conv2dWeightGrad(p) => conv(cx, ConvKind::WeightGrad, p, step)?,
        Kernel::MaxPool2d(p) => pool(cx, PoolKind::Max, p, step)?,
        Kernel::MaxPool2dGrad(p) => pool(cx, PoolKind::MaxGrad, p, step)?,
        Kernel::AvgPool2d(p) => pool(cx, PoolKind::Avg, p, step)?,
        Kernel::AvgPool2dGrad(p) => pool(cx, PoolKind::AvgGrad, p, step)?,
        Kernel::RandomUniform { seed } => random(cx, *seed, None, step)?,
        Kernel::RandomBernoulli { p, seed } => random(cx, *seed, Some(p.get()), step)?,
    })
}

fn reduce(
    cx: &Prep,
    op: ReduceOp,
    axes: &[usize],
    ins: &[View],
    out: &View,
    step: &Step,
) -> R<Prepared> {
    arity(step, 1)?;
    let x = &ins[0];
    dtype(out, x.dtype, "the output")?;
    if op == ReduceOp::Mean && x.dtype == DType::I32 {
        return Err("reduce_mean is defined on f32 only".into());
    }
    if !axes.windows(2).all(|w| w[0] < w[1]) || axes.iter().any(|&a| a >= x.shape.rank()) {
        return Err(format!(
            "axes {axes:?} must be increasing and below the rank {}",
            x.shape.rank()
        ));
    }
    if axes.is_empty() {
        // The identity (exactly: folding into 0 would turn -0.0 into +0.0).
        same_shape(x, out, "an empty reduction's operand and output")?;
        return Ok(Prepared::Elementwise(Elementwise::Copy(ew(cx, [out, x]))));
    }
    let split = split_dims(dims(x), &x.strides, axes, dims(out), &out.strides)?;
    let kept = Walk::new(&split.dims, [&split.out_strides, &split.in_strides]);
    let rows = kept.rank() >= 1 && kept.inner().1 == [1, 1];
    Ok(Prepared::Reduce(Reduce {
        op,
        dtype: x.dtype,
        out: cx.loc(out),
        input: cx.loc(x),
        kept,
        reduced: Walk::new(&split.red_dims, [&split.red_strides]),
        rows,
    }))
}

fn argmax(cx: &Prep, axis: usize, step: &Step) -> R<Prepared> {
    arity(step, 1)?;
    let (x, out) = (&step.inputs[0], &step.output);
    dtype(x, DType::F32, "the operand")?;
    dtype(out, DType::I32, "the output")?;
    if axis >= x.shape.rank() {
        return Err(format!("axis {axis} is out of range for {}", x.shape));
    }
    let n = dims(x)[axis];
    if n == 0 && out.numel() > 0 {
        return Err(format!("axis {axis} is empty: there is no largest element"));
    }
    let kept = split_dims(dims(x), &x.strides, &[axis], dims(out), &out.strides)?;
    Ok(Prepared::ArgMax(ArgMax {
        out: cx.loc(out),
        input: cx.loc(x),
        walk: Walk::new(&kept.dims, [&kept.out_strides, &kept.in_strides]),
        n,
        stride: x.strides[axis],
    }))
}

/// The same rank and dims except along `axis`.
fn same_but(a: &View, b: &View, axis: usize, what: &str) -> R<()> {
    let ok = a.shape.rank() == b.shape.rank()
        && axis < a.shape.rank()
        && (0..a.shape.rank()).all(|d| d == axis || dims(a)[d] == dims(b)[d]);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what}: {} and {} must agree except along axis {axis}",
            a.shape, b.shape
        ))
    }
}

fn pad(
    cx: &Prep,
    axis: usize,
    low: usize,
    interior: usize,
    value: f32,
    step: &Step,
) -> R<Prepared> {
    arity(step, 1)?;
    let (x, out) = (&step.inputs[0], &step.output);
    dtype(out, x.dtype, "the output")?;
    same_but(x, out, axis, "operand and output")?;
    let n = dims(x)[axis];
    let need = if n == 0 {
        Some(low)
    } else {
        (n - 1)
            .checked_mul(interior)
            .and_then(|i| i.checked_add(n))
            .and_then(|i| i.checked_add(low))
    };
    if need.is_none_or(|need| dims(out)[axis] < need) {
        return Err(format!(
            "the output's axis {axis} ({}) is too short for low {low}, {n} elements and interior {interior}",
            dims(out)[axis]
        ));
    }
    let bits = match out.dtype {
        DType::F32 => value.to_bits(),
        // As the evaluator: `as` truncates toward zero and saturates.
        DType::I32 => (value as i32) as u32,
    };
    let mut sub = out.clone();
    sub.shape = x.shape.clone();
    sub.offset += low * out.strides[axis];
    sub.strides[axis] *= interior + 1;
    Ok(Prepared::Pad(Pad {
        fill: Fill {
            out: cx.loc(out),
            walk: Walk::new(dims(out), [&out.strides]),
            bits,
        },
        copy: CopyView(ew(cx, [&sub, x])),
    }))
}

fn concat(cx: &Prep, axis: usize, step: &Step) -> R<Prepared> {
    let out = &step.output;
    if step.inputs.is_empty() {
        return Err("concat needs at least one operand".into());
    }
    let mut at = 0usize;
    let mut parts = Vec::with_capacity(step.inputs.len());
    for (i, x) in step.inputs.iter().enumerate() {
        dtype(x, out.dtype, &format!("operand {i}"))?;
        same_but(x, out, axis, &format!("operand {i} and the output"))?;
        let mut sub = out.clone();
        sub.shape = x.shape.clone();
        sub.offset += at * out.strides[axis];
        parts.push(CopyView(ew(cx, [&sub, x])));
        at += dims(x)[axis];
    }
    if at != dims(out)[axis] {
        return Err(format!(
            "the operands add up to {at} along axis {axis}, the output has {}",
            dims(out)[axis]
        ));
    }
    Ok(Prepared::Concat(Concat { parts }))
}

/// Checks `full == pre ++ mid ++ post` where `pre`/`post` come from `outer`
/// around `axis`.
fn spliced(full: &View, outer: &View, axis: usize, mid: &View, what: &str) -> R<()> {
    let o = dims(outer);
    let mut want: Vec<usize> = o[..axis].to_vec();
    want.extend_from_slice(dims(mid));
    want.extend_from_slice(&o[axis + 1..]);
    if dims(full) == want.as_slice() {
        Ok(())
    } else {
        Err(format!(
            "{what} must have shape {want:?}, it has {}",
            full.shape
        ))
    }
}

fn gather(cx: &Prep, axis: usize, step: &Step) -> R<Prepared> {
    arity(step, 2)?;
    let (data, idx, out) = (&step.inputs[0], &step.inputs[1], &step.output);
    dtype(idx, DType::I32, "the indices")?;
    dtype(out, data.dtype, "the output")?;
    if axis >= data.shape.rank() {
        return Err(format!("axis {axis} is out of range for {}", data.shape));
    }
    spliced(out, data, axis, idx, "the output")?;
    let ri = idx.shape.rank();
    Ok(Prepared::Gather(Gather {
        out: cx.loc(out),
        data: cx.loc(data),
        outer: Walk::new(
            &dims(data)[..axis],
            [&out.strides[..axis], &data.strides[..axis]],
        ),
        idx: Indices {
            loc: cx.loc(idx),
            walk: Walk::new(dims(idx), [&idx.strides, &out.strides[axis..axis + ri]]),
            bound: dims(data)[axis],
        },
        axis_stride: data.strides[axis],
        inner: Walk::new(
            &dims(data)[axis + 1..],
            [&out.strides[axis + ri..], &data.strides[axis + 1..]],
        ),
    }))
}

fn scatter_add(cx: &Prep, axis: usize, step: &Step) -> R<Prepared> {
    arity(step, 2)?;
    let (upd, idx, out) = (&step.inputs[0], &step.inputs[1], &step.output);
    dtype(idx, DType::I32, "the indices")?;
    dtype(out, upd.dtype, "the output")?;
    if axis >= out.shape.rank() {
        return Err(format!("axis {axis} is out of range for {}", out.shape));
    }
    spliced(upd, out, axis, idx, "the updates")?;
    let ri = idx.shape.rank();
    Ok(Prepared::ScatterAdd(ScatterAdd {
        dtype: out.dtype,
        out: cx.loc(out),
        updates: cx.loc(upd),
        zero: Walk::new(dims(out), [&out.strides]),
        outer: Walk::new(
            &dims(out)[..axis],
            [&out.strides[..axis], &upd.strides[..axis]],
        ),
        idx: Indices {
            loc: cx.loc(idx),
            walk: Walk::new(dims(idx), [&idx.strides, &upd.strides[axis..axis + ri]]),
            bound: dims(out)[axis],
        },
        axis_stride: out.strides[axis],
        inner: Walk::new(
            &dims(out)[axis + 1..],
            [&out.strides[axis + 1..], &upd.strides[axis + ri..]],
        ),
    }))
}

fn one_hot(cx: &Prep, step: &Step) -> R<Prepared> {
    arity(step, 1)?;
    let (idx, out) = (&step.inputs[0], &step.output);
    dtype(idx, DType::I32, "the indices")?;
    dtype(out, DType::F32, "the output")?;
    let r = idx.shape.rank();
    if out.shape.rank() != r + 1 || dims(out)[..r] != *dims(idx) {
        return Err(format!(
            "the output {} must be the indices' shape {} plus the depth",
            out.shape, idx.shape
        ));
    }
    Ok(Prepared::OneHot(OneHot {
        out: cx.loc(out),
        zero: Walk::new(dims(out), [&out.strides]),
        idx: Indices {
            loc: cx.loc(idx),
            walk: Walk::new(dims(idx), [&idx.strides, &out.strides[..r]]),
            bound: dims(out)[r],
        },
        depth_stride: out.strides[r],
    }))
}

fn matmul(cx: &Prep, step: &Step) -> R<Prepared> {
    arity(step, 2)?;
    let (a, b, out) = (&step.inputs[0], &step.inputs[1], &step.output);
    for (v, what) in [(a, "the lhs"), (b, "the rhs"), (out, "the output")] {
        dtype(v, DType::F32, what)?;
    }
    let r = a.shape.rank();
    if r < 2 || b.shape.rank() != r || out.shape.rank() != r {
        return Err(format!(
            "operands {}, {} and output {} must have one rank >= 2",
            a.shape, b.shape, out.shape
        ));
    }
    let (da, db, dout) = (dims(a), dims(b), dims(out));
    let (m, k, n) = (da[r - 2], da[r - 1], db[r - 1]);
    if da[..r - 2] != db[..r - 2]
        || da[..r - 2] != dout[..r - 2]
        || db[r - 2] != k
        || dout[r - 2..] != [m, n]
    {
        return Err(format!(
            "shapes {} x {} -> {} do not make a (batched) matrix product",
            a.shape, b.shape, out.shape
        ));
    }
    let two = |v: &View| [v.strides[r - 2], v.strides[r - 1]];
    Ok(Prepared::MatMul(MatMul {
        out: cx.loc(out),
        a: cx.loc(a),
        b: cx.loc(b),
        batch: Walk::new(
            &dout[..r - 2],
            [
                &out.strides[..r - 2],
                &a.strides[..r - 2],
                &b.strides[..r - 2],
            ],
        ),
        shape: GemmShape {
            m,
            k,
            n,
            a: two(a),
            b: two(b),
            c: two(out),
        },
    }))
}

fn rank4(v: &View, what: &str) -> R<[usize; 4]> {
    dtype(v, DType::F32, what)?;
    match dims(v) {
        &[a, b, c, d] => Ok([a, b, c, d]),
        _ => Err(format!("{what} must be rank 4, it is {}", v.shape)),
    }
}

fn op4(cx: &Prep, v: &View) -> Operand4 {
    Operand4 {
        loc: cx.loc(v),
        strides: [v.strides[0], v.strides[1], v.strides[2], v.strides[3]],
    }
}

fn conv(cx: &mut Prep, kind: ConvKind, p: &ConvParams, step: &Step) -> R<Prepared> {
    arity(step, 2)?;
    // Roles: x is the image (or dx), w the weight (or dw), y the output (or dy).
    let (x, w, y) = match kind {
        ConvKind::Forward => (&step.inputs[0], &step.inputs[1], &step.output),
        ConvKind::InputGrad => (&step.output, &step.inputs[1], &step.inputs[0]),
        ConvKind::WeightGrad => (&step.inputs[0], &step.output, &step.inputs[1]),
    };
    let [n, c, h, wd] = rank4(x, "the image")?;
    let [o, cg, kh, kw] = rank4(w, "the weight")?;
    let [yn, yo, oh, ow] = rank4(y, "the convolution output")?;
    if p.groups == 0 || p.stride.contains(&0) || p.dilation.contains(&0) {
        return Err("groups, strides and dilations must be >= 1".into());
    }
    if c % p.groups != 0 || o % p.groups != 0 || cg != c / p.groups {
        return Err(format!(
            "groups {} must divide the {c} channels and {o} filters, with {} channels per filter (the weight has {cg})",
            p.groups,
            c / p.groups
        ));
    }
    let want = (p.output_dim(0, h, kh), p.output_dim(1, wd, kw));
    if yn != n || yo != o || want != (Some(oh), Some(ow)) {
        return Err(format!(
            "image {} with weight {} gives output {:?}, not {}",
            x.shape,
            w.shape,
            (n, o, want.0, want.1),
            y.shape
        ));
    }
    let d = ConvDims {
        n,
        c,
        h,
        w: wd,
        o,
        groups: p.groups,
        kh,
        kw,
        oh,
        ow,
    };
    let w_k = collapse(&dims(w)[1..], &w.strides[1..]);
    let y_s = collapse(&dims(y)[2..], &y.strides[2..]);
    let x_s = collapse(&dims(x)[2..], &x.strides[2..]);
    let path = match (w_k, y_s) {
        (Some(w_k), Some(y_s)) => match x_s {
            Some(x_s) if is_pointwise(&d, p) => ConvPath::Gemm {
                col: None,
                w_k,
                y_s,
                x_s,
            },
            _ => ConvPath::Gemm {
                col: Some(cx.scratch(d.col_elems(), step.scratch.as_ref())),
                w_k,
                y_s,
                x_s: 0,
            },
        },
        _ => ConvPath::Direct,
    };
    Ok(Prepared::Conv(Conv {
        kind,
        d,
        p: *p,
        x: op4(cx, x),
        w: op4(cx, w),
        y: op4(cx, y),
        path,
    }))
}

fn pool(cx: &Prep, kind: PoolKind, p: &PoolParams, step: &Step) -> R<Prepared> {
    // Roles: x is the image (or dx for avg grad), y the pooled tensor (or dy).
    let (x, y, dx) = match kind {
        PoolKind::Max | PoolKind::Avg => {
            arity(step, 1)?;
            (&step.inputs[0], &step.output, None)
        }
        PoolKind::MaxGrad => {
            arity(step, 2)?;
            (&step.inputs[0], &step.inputs[1], Some(&step.output))
        }
        PoolKind::AvgGrad => {
            arity(step, 1)?;
            (&step.output, &step.inputs[0], None)
        }
    };
    let [n, c, h, w] = rank4(x, "the image")?;
    let [yn, yc, oh, ow] = rank4(y, "the pooled tensor")?;
    if p.kernel.contains(&0) || p.stride.contains(&0) {
        return Err("kernel and stride must be >= 1".into());
    }
    let want = (p.output_dim(0, h), p.output_dim(1, w));
    if yn != n || yc != c || want != (Some(oh), Some(ow)) {
        return Err(format!(
            "pooling {} gives {:?}, not {}",
            x.shape,
            (n, c, want.0, want.1),
            y.shape
        ));
    }
    if let Some(dx) = dx {
        same_shape(dx, x, "the gradient and the image")?;
    }
    let s4 = |v: &View| [v.strides[0], v.strides[1], v.strides[2], v.strides[3]];
    Ok(Prepared::Pool(Pool {
        kind,
        p: *p,
        dims: [n, c, h, w],
        out_hw: [oh, ow],
        x: (cx.loc(x), s4(x)),
        y: (cx.loc(y), s4(y)),
        dx: dx.map(|v| (cx.loc(v), s4(v))),
    }))
}

fn random(cx: &Prep, seed: u64, p: Option<f32>, step: &Step) -> R<Prepared> {
    arity(step, 1)?;
    let (ctr, out) = (&step.inputs[0], &step.output);
    dtype(ctr, DType::I32, "the counter")?;
    if ctr.numel() != 1 {
        return Err(format!("the counter must be a scalar, it is {}", ctr.ty()));
    }
    dtype(out, DType::F32, "the output")?;
    Ok(Prepared::Random(Random {
        seed,
        p,
        counter: cx.loc(ctr),
        out: cx.loc(out),
        walk: Walk::new(dims(out), [&out.strides]),
    }))
}
