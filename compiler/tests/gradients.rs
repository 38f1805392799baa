//! Gradient checks: for every differentiable op and the composite functions
//! built from them, the gradient autodiff builds equals central finite
//! differences of the reference evaluator, in f64.
//!
//! Each check builds `loss = sum(f(params) * R)` for a fixed random projection
//! `R` (so every output element matters with a different weight), takes the
//! autodiff gradient of every param, and compares it with
//! `(loss(p + h) - loss(p - h)) / 2h` element by element.

use kiln_compiler::autodiff::differentiate;
use kiln_compiler::gradcheck::{self, Domain};
use kiln_ir::eval::{Array, Env, Value, evaluate_all};
use kiln_ir::{
    BinaryOp, ConvParams, DType, Graph, GraphBuilder, Init, Literal, Op, PoolParams, Shape, Tensor,
    UnaryOp,
};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(24)
}

/// The gradient check as a proptest failure.
fn check(
    seed: u64,
    shapes: &[&[usize]],
    domain: Domain,
    f: impl for<'g> Fn(&'g GraphBuilder, &[Tensor<'g>]) -> Tensor<'g>,
) -> Result<(), TestCaseError> {
    gradcheck::check(seed, shapes, domain, f).map_err(TestCaseError::fail)
}

/// A small shape of rank 1-3.
fn small_shape() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(1usize..4, 1..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn unary_ops(seed in any::<u64>(), shape in small_shape()) {
        for op in UnaryOp::ALL {
            if matches!(op, UnaryOp::Sign | UnaryOp::Step) {
                continue; // no gradient: see stop_gradient_ops_are_reported
            }
            let domain = match op {
                UnaryOp::Log | UnaryOp::Sqrt | UnaryOp::Rsqrt | UnaryOp::Recip => Domain::Positive,
                _ => Domain::Any,
            };
            check(seed, &[&shape], domain, |b, p| b.apply(Op::Unary(op), &[p[0]]))?;
        }
    }

    #[test]
    fn binary_ops(seed in any::<u64>(), shape in small_shape()) {
        for op in BinaryOp::ALL {
            if op.is_comparison() {
                continue; // no gradient: see stop_gradient_ops_are_reported
            }
            let domain = if matches!(op, BinaryOp::Pow | BinaryOp::Div) { Domain::Positive } else { Domain::Any };
            check(seed, &[&shape, &shape], domain, |b, p| b.apply(Op::Binary(op), &[p[0], p[1]]))?;
        }
        // An operand used twice, and broadcasting undone by summing.
        check(seed, &[&shape], Domain::Any, |_, p| p[0] * p[0])?;
        let last = *shape.last().expect("rank >= 1");
        check(seed, &[&shape, &[last]], Domain::Any, |_, p| p[0] * p[1] + p[1])?;
    }

    #[test]
    fn where_and_cast(seed in any::<u64>(), shape in small_shape()) {
        check(seed, &[&shape, &shape], Domain::Any, |_, p| p[0].gt(p[1]).select(p[0] * 3.0, p[1].exp()))?;
        check(seed, &[&shape], Domain::Any, |_, p| p[0].cast(DType::F32) * p[0])?;
        check(seed, &[&shape], Domain::Any, |_, p| p[0].cast(DType::I32).cast(DType::F32) + p[0])?;
    }

    #[test]
    fn reductions(seed in any::<u64>(), shape in small_shape(), keep in any::<bool>(), pick in any::<u8>()) {
        let rank = shape.len();
        let axes: Vec<usize> = (0..rank).filter(|i| (pick >> i) & 1 == 1).collect();
        let axes = if axes.is_empty() { vec![rank - 1] } else { axes };
        for op in kiln_ir::ReduceOp::ALL {
            let axes = axes.clone();
            check(seed, &[&shape], Domain::Any, move |b, p| b.apply(Op::Reduce { op, axes: axes.clone(), keepdims: keep }, &[p[0]]))?;
        }
    }

    #[test]
    fn movement(seed in any::<u64>(), shape in small_shape()) {
        let rank = shape.len();
        let n: usize = shape.iter().product();
        check(seed, &[&shape], Domain::Any, |_, p| p[0].reshape(&[n]))?;
        let perm: Vec<usize> = (0..rank).rev().collect();
        check(seed, &[&shape], Domain::Any, |_, p| p[0].permute(&perm))?;
        let mut target = vec![2];
        target.extend(shape.iter().map(|&d| if d == 1 { 3 } else { d }));
        check(seed, &[&shape], Domain::Any, |_, p| p[0].broadcast_to(&target))?;
        let d0 = shape[0];
        check(seed, &[&shape], Domain::Any, |_, p| p[0].slice_step(0, 0, d0, 2))?;
        check(seed, &[&shape], Domain::Any, |_, p| p[0].pad_interior(-1, 1, 2, 1, 0.5))?;
        check(seed, &[&shape, &shape], Domain::Any, |b, p| b.concat(&[p[0], p[1], p[0]], 0))?;
    }

    #[test]
    fn gather_and_scatter(seed in any::<u64>(), rows in 2usize..5, cols in 1usize..4) {
        let ids = [1i32, 0, 1, rows as i32 - 1];
        check(seed, &[&[rows, cols]], Domain::Any, |b, p| {
            let idx = b.literal(Literal::i32([2, 2], ids.to_vec()).expect("4 ids"));
            p[0].index_select(0, idx)
        })?;
        check(seed, &[&[4, cols]], Domain::Any, |b, p| {
            let idx = b.literal(Literal::i32([4], ids.to_vec()).expect("4 ids"));
            p[0].scatter_add(0, idx, rows)
        })?;
    }

    #[test]
    fn matmul(seed in any::<u64>(), m in 1usize..4, k in 1usize..4, n in 1usize..4, batch in 1usize..3) {
        for (tl, tr) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = if tl { [batch, k, m] } else { [batch, m, k] };
            let bt = if tr { [batch, n, k] } else { [batch, k, n] };
            check(seed, &[&a, &bt], Domain::Any, |_, p| p[0].matmul_t(p[1], tl, tr))?;
            check(seed, &[&a[1..], &bt[1..]], Domain::Any, |_, p| p[0].matmul_t(p[1], tl, tr))?;
        }
    }

    #[test]
    fn convolution(seed in any::<u64>(), stride in 1usize..3, pad in 0usize..2, dil in 1usize..3, grouped in any::<bool>()) {
        let groups = if grouped { 2 } else { 1 };
        let p = ConvParams { stride: [stride, 1], padding: [pad, 1], dilation: [dil, 1], groups };
        let (c, o) = (2, 4);
        let x = [2, c, 5, 4];
        let w = [o, c / groups, 2, 3];
        check(seed, &[&x, &w], Domain::Any, |_, t| t[0].conv2d(t[1], p))?;
        // Second order: the gradient ops are differentiable too.
        let y = kiln_ir::infer(&Op::Conv2d(p), &[kiln_ir::TensorType::f32(x), kiln_ir::TensorType::f32(w)]).expect("valid").shape.0;
        check(seed, &[&y, &w], Domain::Any, |b, t| b.apply(Op::Conv2dInputGrad { conv: p, input_hw: [5, 4] }, &[t[0], t[1]]))?;
        check(seed, &[&x, &y], Domain::Any, |b, t| b.apply(Op::Conv2dWeightGrad { conv: p, kernel_hw: [2, 3] }, &[t[0], t[1]]))?;
    }

    #[test]
    fn pooling(seed in any::<u64>(), k in 1usize..4, stride in 1usize..3, pad in 0usize..2) {
        let p = PoolParams { kernel: [k, 2], stride: [stride, 2], padding: [pad.min(k / 2), 1] };
        let x = [2, 2, 5, 4];
        check(seed, &[&x], Domain::Any, |_, t| t[0].max_pool2d(p))?;
        check(seed, &[&x], Domain::Any, |_, t| t[0].avg_pool2d(p))?;
        let y = kiln_ir::infer(&Op::AvgPool2d(p), &[kiln_ir::TensorType::f32(x)]).expect("valid").shape.0;
        check(seed, &[&y], Domain::Any, |b, t| b.apply(Op::AvgPool2dGrad { pool: p, input_hw: [5, 4] }, &[t[0]]))?;
    }
}

#[test]
fn stop_gradient_ops_are_reported_and_detach_blocks_gradient() {
    for op in [Op::Unary(UnaryOp::Sign), Op::Unary(UnaryOp::Step)] {
        let b = GraphBuilder::new("g");
        let x = b.param("x", &[3], Init::Zeros);
        let loss = b.apply(op.clone(), &[x]).sum_all();
        b.output("loss", loss);
        let (l, p) = (loss.id().expect("valid"), x.id().expect("valid"));
        let mut graph = b.build().expect("valid");
        let err = differentiate(&mut graph, l, &[p]).expect_err("no gradient through it");
        assert!(
            err.to_string()
                .contains(&format!("passes through `{}`", op.name())),
            "{err}"
        );
    }
    // d/dx sum(detach(x) * x) = detach(x) = x, not 2x.
    let b = GraphBuilder::new("g");
    let x = b.param("x", &[3], Init::Zeros);
    let loss = (x.detach() * x).sum_all();
    b.output("loss", loss);
    let (l, p) = (loss.id().expect("valid"), x.id().expect("valid"));
    let mut graph = b.build().expect("valid");
    let g = differentiate(&mut graph, l, &[p]).expect("differentiable")[0];
    let mut store: Env<f64> = Env::new();
    store.insert(
        "x".into(),
        Value::Float(Array::new(Shape::from([3]), vec![1.0, -2.0, 3.0]).expect("3")),
    );
    let values = evaluate_all(&graph, &Env::new(), &store).expect("evaluates");
    assert_eq!(values[&g].to_f64_vec(), vec![1.0, -2.0, 3.0]);
}

#[test]
fn a_graph_and_its_gradient_graph_verify() {
    // The backward graph of a whole zoo-like model is valid IR.
    let b = GraphBuilder::new("g");
    let x = b.input("x", &[4, 3]);
    let w = b.param("w", &[3, 2], Init::Zeros);
    let loss = x.matmul(w).relu().sum_all();
    b.output("loss", loss);
    let (l, p) = (loss.id().expect("valid"), w.id().expect("valid"));
    let mut graph: Graph = b.build().expect("valid");
    let grads = differentiate(&mut graph, l, &[p]).expect("differentiable");
    assert_eq!(graph.ty(grads[0]), graph.ty(p));
    kiln_ir::verify(&graph).expect("valid backward graph");
}

#[test]
fn pow_gradients_at_zero_follow_pytorch() {
    // d/dx 0^0 and d/dy 0^y are 0 in PyTorch, not NaN.
    let b = GraphBuilder::new("g");
    let x = b.param("x", &[2], Init::Zeros);
    let y = b.param("y", &[2], Init::Zeros);
    let loss = x.pow(y).sum_all();
    b.output("loss", loss);
    let (l, px, py) = (
        loss.id().expect("valid"),
        x.id().expect("valid"),
        y.id().expect("valid"),
    );
    let mut graph = b.build().expect("valid");
    let g = differentiate(&mut graph, l, &[px, py]).expect("differentiable");
    let mut store: Env<f64> = Env::new();
    store.insert(
        "x".into(),
        Value::Float(Array::new(Shape::from([2]), vec![0.0, 2.0]).expect("2")),
    );
    store.insert(
        "y".into(),
        Value::Float(Array::new(Shape::from([2]), vec![0.0, 3.0]).expect("2")),
    );
    let v = evaluate_all(&graph, &Env::new(), &store).expect("evaluates");
    assert_eq!(v[&g[0]].to_f64_vec(), vec![0.0, 12.0]);
    let dy = v[&g[1]].to_f64_vec();
    assert_eq!(dy[0], 0.0);
    assert!((dy[1] - 8.0 * 2f64.ln()).abs() < 1e-5, "{dy:?}");
}
