//! Every kernel against the reference evaluator (`kiln_ir::eval::eval_op`).
//!
//! Each property builds a one-step plan by hand: operands are dense inputs
//! with random strided views carved out of them (permuted, broadcast with
//! stride 0, sliced with offsets and steps), the output is dense or strided
//! inside a larger temporary, and values are random and non-zero. The
//! evaluator sees the same operands materialized densely.
//!
//! Tolerances, per kernel:
//! - exact (bit for bit, NaN equal to NaN): copy, unary, binary, where, cast,
//!   reduce max/min (and every i32 reduction), argmax, pad, concat, gather,
//!   scatter-add, one-hot, iota, pooling and its gradients, random: the
//!   kernels use the evaluator's formulas in the evaluator's order;
//! - reduce sum/mean: `|err| <= 1e-6 * n * sum|x|` (the contiguous path
//!   reassociates the sum with eight accumulators; n = reduced count);
//! - matmul and the convolutions: `|err| <= 1e-6 * k * sum|a||b|` per element
//!   (GEMM reassociates; k = the number of products per output), i.e. a
//!   relative error of about 8·k ulps of the absolute sum.
//!
//! Cases: proptest's default (256) per property; set `PROPTEST_CASES` for more.

mod common;

use common::*;
use kiln_ir::eval::{Value, eval_op};
use kiln_ir::plan::{Kernel, Plan, Region, Step, View};
use kiln_ir::{
    BinaryOp, ConvParams, DType, Float, NodeId, Op, PoolParams, ReduceOp, Shape, TensorType,
    UnaryOp,
};
use proptest::prelude::*;

fn eval(op: &Op, out: &TensorType, args: &[Value<f32>]) -> Value<f32> {
    let refs: Vec<&Value<f32>> = args.iter().collect();
    eval_op(NodeId(1), op, out, &refs).unwrap_or_else(|e| panic!("evaluator: {e}"))
}

fn logicals(ops: &[Operand]) -> Vec<Value<f32>> {
    ops.iter().map(Operand::logical).collect()
}

fn shape(max_rank: usize, max_dim: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1..=max_dim, 0..=max_rank)
}

/// A shape of rank at least 1.
fn shape1(max_rank: usize, max_dim: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1..=max_dim, 1..=max_rank)
}

/// Like `shape`, but dims may be 0 now and then.
fn shape_maybe_empty(max_rank: usize, max_dim: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(
        prop_oneof![9 => 1..=max_dim, 1 => Just(0usize)],
        0..=max_rank,
    )
}

/// Rank at least 1, dims may be 0.
fn shape1_maybe_empty(max_rank: usize, max_dim: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(
        prop_oneof![9 => 1..=max_dim, 1 => Just(0usize)],
        1..=max_rank,
    )
}

proptest! {
    #[test]
    fn copy_matches_the_view(dims in shape_maybe_empty(4, 4), seed: u64, int: bool) {
        let mut rng = Rng(seed);
        let dt = if int { DType::I32 } else { DType::F32 };
        let x = Operand::random(&TensorType::new(dt, dims.clone()), ANY_LAYOUT, &mut rng);
        let out = OutLayout::random(&dims, &mut rng);
        let got = run_one(Kernel::Copy, std::slice::from_ref(&x), dt, &out, None).unwrap();
        assert_exact(&got, &x.logical(), "copy");
    }

    #[test]
    fn unary_matches_eval(dims in shape_maybe_empty(4, 5), seed: u64, which in 0..UnaryOp::ALL.len(), int: bool) {
        let op = UnaryOp::ALL[which];
        let mut rng = Rng(seed);
        let dt = if int && op.accepts_i32() { DType::I32 } else { DType::F32 };
        let ty = TensorType::new(dt, dims.clone());
        let x = Operand::random(&ty, ANY_LAYOUT, &mut rng);
        let out = OutLayout::random(&dims, &mut rng);
        let got = run_one(Kernel::Unary(op), std::slice::from_ref(&x), dt, &out, None).unwrap();
        let want = eval(&Op::Unary(op), &ty, &[x.logical()]);
        assert_exact(&got, &want, op.name());
    }

    #[test]
    fn binary_matches_eval(dims in shape_maybe_empty(4, 5), seed: u64, which in 0..BinaryOp::ALL.len(), int: bool) {
        let op = BinaryOp::ALL[which];
        let mut rng = Rng(seed);
        let dt = if int && op != BinaryOp::Pow { DType::I32 } else { DType::F32 };
        let ty = TensorType::new(dt, dims.clone());
        let ops = [Operand::random(&ty, ANY_LAYOUT, &mut rng), Operand::random(&ty, ANY_LAYOUT, &mut rng)];
        let out_dt = if op.is_comparison() { DType::F32 } else { dt };
        let out = OutLayout::random(&dims, &mut rng);
        let got = run_one(Kernel::Binary(op), &ops, out_dt, &out, None).unwrap();
        let want = eval(&Op::Binary(op), &TensorType::new(out_dt, dims), &logicals(&ops));
        assert_exact(&got, &want, op.name());
    }

    #[test]
    fn where_matches_eval(dims in shape_maybe_empty(4, 5), seed: u64, int: bool) {
        let mut rng = Rng(seed);
        let dt = if int { DType::I32 } else { DType::F32 };
        let mut c = Operand::random(&TensorType::f32(dims.clone()), ANY_LAYOUT, &mut rng);
        if let Value::Float(b) = &mut c.base {
            for x in &mut b.data {
                if rng.coin(50) { *x = 0.0; }
            }
        }
        let ty = TensorType::new(dt, dims.clone());
        let ops = [c, Operand::random(&ty, ANY_LAYOUT, &mut rng), Operand::random(&ty, ANY_LAYOUT, &mut rng)];
        let out = OutLayout::random(&dims, &mut rng);
        let got = run_one(Kernel::Where, &ops, dt, &out, None).unwrap();
        let want = eval(&Op::Where, &ty, &logicals(&ops));
        assert_exact(&got, &want, "where");
    }

    #[test]
    fn cast_matches_eval(dims in shape(4, 5), seed: u64, from_int: bool, to_int: bool) {
        let mut rng = Rng(seed);
        let (from, to) = (
            if from_int { DType::I32 } else { DType::F32 },
            if to_int { DType::I32 } else { DType::F32 },
        );
        let mut x = Operand::random(&TensorType::new(from, dims.clone()), ANY_LAYOUT, &mut rng);
        if let Value::Float(b) = &mut x.base {
            // Large, fractional, non-finite: truncation and saturation.
            for v in &mut b.data {
                *v *= [1.0, 7.3, 3e9, f32::INFINITY, f32::NAN][rng.below(5)];
            }
        }
        let out = OutLayout::random(&dims, &mut rng);
        let got = run_one(Kernel::Cast, std::slice::from_ref(&x), to, &out, None).unwrap();
        let want = eval(&Op::Cast { to }, &TensorType::new(to, dims), &[x.logical()]);
        assert_exact(&got, &want, "cast");
    }

    #[test]
    fn in_place_elementwise_matches_eval(dims in shape(4, 6), seed: u64, u in 0..UnaryOp::ALL.len(), b in 0..7usize) {
        // t0 = copy(x); t0 = u(t0) in place; t0 = t0 (b) y in place.
        let (uop, bop) = (UnaryOp::ALL[u], BinaryOp::ALL[b]);
        let mut rng = Rng(seed);
        let ty = TensorType::f32(dims.clone());
        let ops = [Operand::random(&ty, ANY_LAYOUT, &mut rng), Operand::random(&ty, ANY_LAYOUT, &mut rng)];
        let t0 = View::dense(Region::Temp(0), &ty);
        let mut plan = one_step_plan(Kernel::Copy, &ops[..1], DType::F32, &OutLayout::dense(&dims), None);
        plan.inputs.push(kiln_ir::plan::Slot { name: "in1".into(), ty: ops[1].base.ty(), init: None });
        let y = ops[1].view.view(Region::Input(1), DType::F32);
        plan.steps.push(Step { kernel: Kernel::Unary(uop), inputs: vec![t0.clone()], output: t0.clone(), scratch: None, node: None });
        plan.steps.push(Step { kernel: Kernel::Binary(bop), inputs: vec![t0.clone(), y], output: t0.clone(), scratch: None, node: None });
        let got = run_plan(plan, &ops).unwrap();
        let mid = eval(&Op::Unary(uop), &ty, &[ops[0].logical()]);
        let want = eval(&Op::Binary(bop), &ty, &[mid, ops[1].logical()]);
        assert_exact(&got, &want, "in place");
    }

    #[test]
    fn reduce_matches_eval(dims in shape_maybe_empty(4, 6), seed: u64, which in 0..4usize, int: bool, keepdims: bool) {
        let mut rng = Rng(seed);
        let op = ReduceOp::ALL[which];
        let dt = if int && op != ReduceOp::Mean { DType::I32 } else { DType::F32 };
        let axes: Vec<usize> = (0..dims.len()).filter(|_| rng.coin(50)).collect();
        let ty = TensorType::new(dt, dims.clone());
        let x = Operand::random(&ty, ANY_LAYOUT, &mut rng);
        let out_dims: Vec<usize> = (0..dims.len())
            .filter_map(|d| if axes.contains(&d) { keepdims.then_some(1) } else { Some(dims[d]) })
            .collect();
        let out_ty = TensorType::new(dt, out_dims.clone());
        let out = OutLayout::random(&out_dims, &mut rng);
        let kernel = Kernel::Reduce { op, axes: axes.clone() };
        let got = run_one(kernel, std::slice::from_ref(&x), dt, &out, None).unwrap();
        let eop = Op::Reduce { op, axes: axes.clone(), keepdims };
        let want = eval(&eop, &out_ty, &[x.logical()]);
        if dt == DType::F32 && matches!(op, ReduceOp::Sum | ReduceOp::Mean) {
            let n: usize = axes.iter().map(|&a| dims[a]).product();
            let scale = eval(&eop, &out_ty, &[abs(&x.logical())]);
            assert_close(&got, &want, &scale, 1e-6 * n as f64, 1e-30, op.name());
        } else {
            assert_exact(&got, &want, op.name());
        }
    }

    #[test]
    fn argmax_matches_eval(dims in shape1(4, 6), seed: u64, axis_pick: usize, keepdims: bool) {
        let mut rng = Rng(seed);
        let axis = axis_pick % dims.len();
        let mut x = Operand::random(&TensorType::f32(dims.clone()), ANY_LAYOUT, &mut rng);
        if let Value::Float(b) = &mut x.base {
            // Few distinct values: ties, and a NaN now and then.
            for v in &mut b.data {
                let choices = if rng.coin(10) { 5 } else { 4 };
                *v = [-1.0, 0.5, 2.0, 2.0, f32::NAN][rng.below(choices)];
            }
        }
        let out_dims: Vec<usize> = (0..dims.len())
            .filter_map(|d| if d == axis { keepdims.then_some(1) } else { Some(dims[d]) })
            .collect();
        let out = OutLayout::random(&out_dims, &mut rng);
        let got = run_one(Kernel::ArgMax { axis }, std::slice::from_ref(&x), DType::I32, &out, None).unwrap();
        let want = eval(&Op::ArgMax { axis, keepdims }, &TensorType::i32(out_dims), &[x.logical()]);
        assert_exact(&got, &want, "argmax");
    }

    #[test]
    fn pad_matches_eval(dims in shape1_maybe_empty(3, 4), seed: u64, axis_pick: usize, low in 0..3usize, high in 0..3usize, interior in 0..3usize, int: bool) {
        let mut rng = Rng(seed);
        let axis = axis_pick % dims.len();
        let dt = if int { DType::I32 } else { DType::F32 };
        let x = Operand::random(&TensorType::new(dt, dims.clone()), ANY_LAYOUT, &mut rng);
        let n = dims[axis];
        let mut out_dims = dims.clone();
        out_dims[axis] = low + high + if n > 0 { n + (n - 1) * interior } else { 0 };
        let value = Float(-3.75);
        let out = OutLayout::random(&out_dims, &mut rng);
        let kernel = Kernel::Pad { axis, low, interior, value };
        let got = run_one(kernel, std::slice::from_ref(&x), dt, &out, None).unwrap();
        let op = Op::Pad { axis, low, high, interior, value };
        let want = eval(&op, &TensorType::new(dt, out_dims), &[x.logical()]);
        assert_exact(&got, &want, "pad");
    }

    #[test]
    fn concat_matches_eval(dims in shape1(3, 4), seed: u64, axis_pick: usize, parts in 1..4usize, int: bool) {
        let mut rng = Rng(seed);
        let axis = axis_pick % dims.len();
        let dt = if int { DType::I32 } else { DType::F32 };
        let ops: Vec<Operand> = (0..parts)
            .map(|_| {
                let mut d = dims.clone();
                d[axis] = rng.below(4);
                Operand::random(&TensorType::new(dt, d), ANY_LAYOUT, &mut rng)
            })
            .collect();
        let mut out_dims = dims.clone();
        out_dims[axis] = ops.iter().map(|o| o.view.shape[axis]).sum();
        let out = OutLayout::random(&out_dims, &mut rng);
        let got = run_one(Kernel::Concat { axis }, &ops, dt, &out, None).unwrap();
        let want = eval(&Op::Concat { axis }, &TensorType::new(dt, out_dims), &logicals(&ops));
        assert_exact(&got, &want, "concat");
    }

    #[test]
    fn gather_matches_eval(dims in shape1(3, 5), idx_dims in shape(2, 4), seed: u64, axis_pick: usize, int: bool) {
        let mut rng = Rng(seed);
        let axis = axis_pick % dims.len();
        let dt = if int { DType::I32 } else { DType::F32 };
        let data = Operand::random(&TensorType::new(dt, dims.clone()), ANY_LAYOUT, &mut rng);
        let idx = Operand::indices(&idx_dims, dims[axis], ANY_LAYOUT, &mut rng);
        let mut out_dims = dims[..axis].to_vec();
        out_dims.extend(&idx_dims);
        out_dims.extend(&dims[axis + 1..]);
        let out = OutLayout::random(&out_dims, &mut rng);
        let ops = [data, idx];
        let got = run_one(Kernel::Gather { axis }, &ops, dt, &out, None).unwrap();
        let want = eval(&Op::Gather { axis }, &TensorType::new(dt, out_dims), &logicals(&ops));
        assert_exact(&got, &want, "gather");
    }

    #[test]
    fn scatter_add_matches_eval(dims in shape1(3, 5), idx_dims in shape(2, 4), seed: u64, axis_pick: usize, int: bool) {
        let mut rng = Rng(seed);
        let axis = axis_pick % dims.len();
        let dt = if int { DType::I32 } else { DType::F32 };
        let mut upd_dims = dims[..axis].to_vec();
        upd_dims.extend(&idx_dims);
        upd_dims.extend(&dims[axis + 1..]);
        let upd = Operand::random(&TensorType::new(dt, upd_dims), ANY_LAYOUT, &mut rng);
        let idx = Operand::indices(&idx_dims, dims[axis], ANY_LAYOUT, &mut rng);
        let out = OutLayout::random(&dims, &mut rng);
        let ops = [upd, idx];
        let got = run_one(Kernel::ScatterAdd { axis }, &ops, dt, &out, None).unwrap();
        let op = Op::ScatterAdd { axis, size: dims[axis] };
        let want = eval(&op, &TensorType::new(dt, dims), &logicals(&ops));
        assert_exact(&got, &want, "scatter_add");
    }

    #[test]
    fn one_hot_matches_eval(idx_dims in shape(3, 4), depth in 1..6usize, seed: u64) {
        let mut rng = Rng(seed);
        let idx = Operand::indices(&idx_dims, depth, ANY_LAYOUT, &mut rng);
        let mut out_dims = idx_dims.clone();
        out_dims.push(depth);
        let out = OutLayout::random(&out_dims, &mut rng);
        let got = run_one(Kernel::OneHot, std::slice::from_ref(&idx), DType::F32, &out, None).unwrap();
        let want = eval(&Op::OneHot { depth }, &TensorType::f32(out_dims), &[idx.logical()]);
        assert_exact(&got, &want, "one_hot");
    }

    #[test]
    fn iota_matches_eval(dims in shape1(4, 5), seed: u64, axis_pick: usize, int: bool) {
        let mut rng = Rng(seed);
        let axis = axis_pick % dims.len();
        let ty = TensorType::new(if int { DType::I32 } else { DType::F32 }, dims.clone());
        let out = OutLayout::random(&dims, &mut rng);
        let got = run_one(Kernel::Iota { axis }, &[], ty.dtype, &out, None).unwrap();
        let want = eval(&Op::Iota { ty: ty.clone(), axis }, &ty, &[]);
        assert_exact(&got, &want, "iota");
    }

    #[test]
    fn matmul_matches_eval(batch in shape(2, 3), m in mnk(), k in mnk(), n in mnk(), seed: u64) {
        let mut rng = Rng(seed);
        let with = |a: usize, b: usize| {
            let mut d = batch.clone();
            d.extend([a, b]);
            d
        };
        let ops = [
            Operand::random(&TensorType::f32(with(m, k)), ANY_LAYOUT, &mut rng),
            Operand::random(&TensorType::f32(with(k, n)), ANY_LAYOUT, &mut rng),
        ];
        let out_dims = with(m, n);
        let out = OutLayout::random(&out_dims, &mut rng);
        let got = run_one(Kernel::MatMul, &ops, DType::F32, &out, None).unwrap();
        let op = Op::MatMul { transpose_lhs: false, transpose_rhs: false };
        let ty = TensorType::f32(out_dims);
        let want = eval(&op, &ty, &logicals(&ops));
        let scale = eval(&op, &ty, &[abs(&ops[0].logical()), abs(&ops[1].logical())]);
        assert_close(&got, &want, &scale, 1e-6 * k as f64, 1e-30, "matmul");
    }

    #[test]
    fn conv2d_and_grads_match_eval(seed: u64, which in 0..3usize) {
        conv_case(seed, which);
    }

    #[test]
    fn pooling_matches_eval(seed: u64, which in 0..4usize) {
        pool_case(seed, which);
    }

    #[test]
    fn random_matches_eval(dims in shape(3, 6), seed: u64, counter: i32, bernoulli: bool, p in 0.0f32..=1.0) {
        let mut rng = Rng(seed);
        let ctr = Operand::random(&TensorType::i32(Shape::scalar()), ANY_LAYOUT, &mut rng);
        let mut ctr = ctr;
        if let Value::Int(b) = &mut ctr.base { b.data.fill(counter); }
        let out = OutLayout::random(&dims, &mut rng);
        let (kernel, op) = if bernoulli {
            (Kernel::RandomBernoulli { p: Float(p), seed }, Op::RandomBernoulli { shape: Shape::from(dims.clone()), p: Float(p), seed })
        } else {
            (Kernel::RandomUniform { seed }, Op::RandomUniform { shape: Shape::from(dims.clone()), seed })
        };
        let got = run_one(kernel, std::slice::from_ref(&ctr), DType::F32, &out, None).unwrap();
        let want = eval(&op, &TensorType::f32(dims), &[ctr.logical()]);
        assert_exact(&got, &want, "random");
    }
}

/// Matrix sizes: mostly small, sometimes 1 (GEMV paths), sometimes large
/// enough for the packed GEMM.
fn mnk() -> impl Strategy<Value = usize> {
    prop_oneof![2 => Just(1usize), 5 => 1..12usize, 3 => 12..40usize]
}

fn conv_case(seed: u64, which: usize) {
    let mut rng = Rng(seed);
    // Some cases are big enough for the packed GEMM, some are 1x1 (no im2col).
    let big = rng.coin(20);
    let (chan, side) = if big { (8, 12) } else { (3, 7) };
    let groups = 1 + rng.below(2);
    let (cg, og) = (1 + rng.below(chan), 1 + rng.below(chan));
    let (c, o) = (cg * groups, og * groups);
    let n = 1 + rng.below(2);
    let mut k = [1 + rng.below(3), 1 + rng.below(3)];
    let mut p = ConvParams {
        stride: [1 + rng.below(2), 1 + rng.below(2)],
        padding: [rng.below(2), rng.below(2)],
        dilation: [1 + rng.below(2), 1 + rng.below(2)],
        groups,
    };
    if rng.coin(20) {
        k = [1, 1];
        p.stride = [1, 1];
        p.padding = [0, 0];
    }
    let hw = [1 + rng.below(side), 1 + rng.below(side)];
    let (Some(oh), Some(ow)) = (p.output_dim(0, hw[0], k[0]), p.output_dim(1, hw[1], k[1])) else {
        return;
    };
    let x_ty = TensorType::f32([n, c, hw[0], hw[1]]);
    let w_ty = TensorType::f32([o, cg, k[0], k[1]]);
    let y_ty = TensorType::f32([n, o, oh, ow]);
    let col = cg * k[0] * k[1] * oh * ow;
    let scratch = match rng.below(3) {
        0 => None,
        1 => Some(col),
        _ => Some(col / 2),
    };
    let (kernel, op, a_ty, b_ty, out_ty, terms) = match which {
        0 => (
            Kernel::Conv2d(p),
            Op::Conv2d(p),
            &x_ty,
            &w_ty,
            &y_ty,
            cg * k[0] * k[1],
        ),
        1 => (
            Kernel::Conv2dInputGrad(p),
            Op::Conv2dInputGrad {
                conv: p,
                input_hw: hw,
            },
            &y_ty,
            &w_ty,
            &x_ty,
            og * k[0] * k[1],
        ),
        _ => (
            Kernel::Conv2dWeightGrad(p),
            Op::Conv2dWeightGrad {
                conv: p,
                kernel_hw: k,
            },
            &x_ty,
            &y_ty,
            &w_ty,
            n * oh * ow,
        ),
    };
    let ops = [
        Operand::random(a_ty, ANY_LAYOUT, &mut rng),
        Operand::random(b_ty, ANY_LAYOUT, &mut rng),
    ];
    let out = OutLayout::random(out_ty.shape.dims(), &mut rng);
    let got = run_one(kernel, &ops, DType::F32, &out, scratch).unwrap();
    let want = eval(&op, out_ty, &logicals(&ops));
    let scale = eval(
        &op,
        out_ty,
        &[abs(&ops[0].logical()), abs(&ops[1].logical())],
    );
    assert_close(&got, &want, &scale, 1e-6 * terms as f64, 1e-30, op.name());
}

fn pool_case(seed: u64, which: usize) {
    let mut rng = Rng(seed);
    let kernel = [1 + rng.below(3), 1 + rng.below(3)];
    let p = PoolParams {
        kernel,
        stride: [1 + rng.below(3), 1 + rng.below(3)],
        padding: [rng.below(kernel[0] / 2 + 1), rng.below(kernel[1] / 2 + 1)],
    };
    let (n, c) = (1 + rng.below(2), 1 + rng.below(3));
    let hw = [1 + rng.below(7), 1 + rng.below(7)];
    let (Some(oh), Some(ow)) = (p.output_dim(0, hw[0]), p.output_dim(1, hw[1])) else {
        return;
    };
    let x_ty = TensorType::f32([n, c, hw[0], hw[1]]);
    let y_ty = TensorType::f32([n, c, oh, ow]);
    let mut x = Operand::random(&x_ty, ANY_LAYOUT, &mut rng);
    if let Value::Float(b) = &mut x.base {
        // Ties, so "the first maximum" matters.
        for v in &mut b.data {
            *v = [-1.0, 0.5, 2.0][rng.below(3)];
        }
    }
    let dy = Operand::random(&y_ty, ANY_LAYOUT, &mut rng);
    let (k, op, ops, out_ty): (Kernel, Op, Vec<Operand>, &TensorType) = match which {
        0 => (Kernel::MaxPool2d(p), Op::MaxPool2d(p), vec![x], &y_ty),
        1 => (
            Kernel::MaxPool2dGrad(p),
            Op::MaxPool2dGrad(p),
            vec![x, dy],
            &x_ty,
        ),
        2 => (Kernel::AvgPool2d(p), Op::AvgPool2d(p), vec![x], &y_ty),
        _ => (
            Kernel::AvgPool2dGrad(p),
            Op::AvgPool2dGrad {
                pool: p,
                input_hw: hw,
            },
            vec![dy],
            &x_ty,
        ),
    };
    let out = OutLayout::random(out_ty.shape.dims(), &mut rng);
    let got = run_one(k, &ops, DType::F32, &out, None).unwrap();
    let want = eval(&op, out_ty, &logicals(&ops));
    assert_exact(&got, &want, op.name());
}

// ----- run-time index errors ------------------------------------------------------------------

fn index_error(kernel: Kernel, ops: &[Operand], out_dims: &[usize]) -> String {
    let out = OutLayout::dense(out_dims);
    run_one(kernel, ops, DType::F32, &out, None)
        .unwrap_err()
        .to_string()
}

fn int_operand(dims: &[usize], data: Vec<i32>) -> Operand {
    Operand {
        base: Value::int(dims.to_vec(), data).unwrap(),
        view: ViewSpec::dense(dims),
    }
}

#[test]
fn bad_indices_are_errors_naming_the_step() {
    let mut rng = Rng(1);
    let data = Operand::random(&TensorType::f32([4, 3]), NO_BROADCAST, &mut rng);
    let msg = index_error(
        Kernel::Gather { axis: 0 },
        &[data, int_operand(&[2], vec![1, 4])],
        &[2, 3],
    );
    assert_eq!(msg, "%1 (gather, step 0): index 4 is out of range 0..4");
    let upd = Operand::random(&TensorType::f32([2, 3]), NO_BROADCAST, &mut rng);
    let msg = index_error(
        Kernel::ScatterAdd { axis: 0 },
        &[upd, int_operand(&[2], vec![-1, 0])],
        &[5, 3],
    );
    assert_eq!(
        msg,
        "%1 (scatter_add, step 0): index -1 is out of range 0..5"
    );
    let msg = index_error(Kernel::OneHot, &[int_operand(&[3], vec![0, 2, 3])], &[3, 3]);
    assert_eq!(msg, "%1 (one_hot, step 0): index 3 is out of range 0..3");
}

// ----- plans the loader must reject -----------------------------------------------------------

fn load_error(plan: Plan) -> String {
    kiln_runtime::Executable::new(plan).unwrap_err().to_string()
}

/// A one-step plan over dense operands.
fn simple_plan(kernel: Kernel, dims: &[usize], arity: usize) -> Plan {
    let dense = |_| Operand {
        base: Value::float(dims.to_vec(), vec![1.0; dims.iter().product()]).unwrap(),
        view: ViewSpec::dense(dims),
    };
    let ops: Vec<Operand> = (0..arity).map(dense).collect();
    one_step_plan(kernel, &ops, DType::F32, &OutLayout::dense(dims), None)
}

#[test]
fn views_outside_their_region_are_rejected() {
    let mut plan = simple_plan(Kernel::Binary(BinaryOp::Add), &[2, 3], 2);
    plan.steps[0].inputs[1].offset = 1;
    insta::assert_snapshot!(load_error(plan), @"invalid plan `one_step`: step 0 (add %1): a view [2,3]{[3, 1]}+1 reaches past the end of Input(1) (f32[2,3])");
}

#[test]
fn writes_into_inputs_are_rejected() {
    let mut plan = simple_plan(Kernel::Binary(BinaryOp::Add), &[2, 3], 2);
    plan.steps[0].output = plan.steps[0].inputs[0].clone();
    insta::assert_snapshot!(load_error(plan), @"invalid plan `one_step`: step 0 (add %1): writes into an input or a constant");
}

#[test]
fn kernels_that_cannot_work_in_place_reject_aliasing() {
    let ty = TensorType::f32([4, 4]);
    let t0 = View::dense(Region::Temp(0), &ty);
    let mut plan = simple_plan(Kernel::MatMul, &[4, 4], 2);
    plan.steps.push(Step {
        kernel: Kernel::MatMul,
        inputs: vec![t0.clone(), t0.clone()],
        output: t0,
        scratch: None,
        node: None,
    });
    insta::assert_snapshot!(load_error(plan), @"invalid plan `one_step`: step 1 (matmul): operand 0 overlaps the output (this kernel cannot work in place)");
}

#[test]
fn elementwise_partial_overlap_is_rejected() {
    let ty = TensorType::f32([4, 4]);
    let t0 = View::dense(Region::Temp(0), &ty);
    let mut transposed = t0.clone();
    transposed.strides = vec![1, 4];
    let mut plan = simple_plan(Kernel::Copy, &[4, 4], 1);
    plan.steps.push(Step {
        kernel: Kernel::Unary(UnaryOp::Neg),
        inputs: vec![transposed],
        output: t0,
        scratch: None,
        node: None,
    });
    insta::assert_snapshot!(load_error(plan), @"invalid plan `one_step`: step 1 (neg): operand 0 overlaps the output without being the identical view");
}

#[test]
fn mismatched_shapes_are_rejected() {
    let mut plan = simple_plan(Kernel::MatMul, &[3, 3], 2);
    plan.steps[0].output.shape = Shape::from([3, 2]);
    plan.steps[0].output.strides = vec![2, 1];
    insta::assert_snapshot!(load_error(plan), @"invalid plan `one_step`: step 0 (matmul %1): shapes [3,3] x [3,3] -> [3,2] do not make a (batched) matrix product");
    let mut plan = simple_plan(Kernel::Binary(BinaryOp::Add), &[2, 2], 2);
    plan.steps[0].output.strides = vec![0, 1];
    insta::assert_snapshot!(load_error(plan), @"invalid plan `one_step`: step 0 (add %1): the output view [2,2]{[0, 1]} writes some elements twice");
}
