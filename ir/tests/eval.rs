//! The reference evaluator against values computed by hand.
//!
//! Every expected number below was worked out on paper (or is a well-known
//! constant such as `e` or `erf(0.5)`), never produced by the code under
//! test. Where a hand computation would be too long (convolution gradients,
//! scatter-add), the test checks an identity instead: the adjoint identity
//! `<A x, y> == <x, Aᵀ y>` in `f64`.

use kiln_ir::random;
use kiln_ir::{
    BinaryOp, ConvParams, DType, Element, Env, EvalError, Graph, GraphBuilder, Init, Literal,
    NodeId, Op, PoolParams, ReduceOp, Shape, TensorType, UnaryOp, Value, eval_op, evaluate,
    evaluate_all, infer,
};

// ----- helpers -----------------------------------------------------------------------

fn fl<T: Element>(shape: &[usize], data: &[f64]) -> Value<T> {
    Value::float(shape, data.iter().map(|&x| T::from_f64(x)).collect()).unwrap()
}

fn int<T: Element>(shape: &[usize], data: &[i32]) -> Value<T> {
    Value::int(shape, data.to_vec()).unwrap()
}

/// `0, 1, 2, ...` as floats.
fn range<T: Element>(shape: &[usize]) -> Value<T> {
    let n: usize = shape.iter().product();
    fl(shape, &(0..n).map(|i| i as f64).collect::<Vec<_>>())
}

/// Deterministic, irregular test data.
fn wave(n: usize, k: f64) -> Vec<f64> {
    (0..n).map(|i| ((i as f64 + 1.0) * k).sin()).collect()
}

fn try_apply<T: Element>(op: &Op, args: &[&Value<T>]) -> Result<Value<T>, EvalError> {
    let types: Vec<TensorType> = args.iter().map(|a| a.ty()).collect();
    let out = infer(op, &types).expect("the test's op is well-typed");
    eval_op(NodeId(0), op, &out, args)
}

fn apply<T: Element>(op: &Op, args: &[&Value<T>]) -> Value<T> {
    try_apply(op, args).unwrap()
}

#[track_caller]
fn close<T: Element>(v: &Value<T>, shape: &[usize], expected: &[f64], tol: f64) {
    assert_eq!(v.dtype(), DType::F32, "{v:?}");
    assert_eq!(v.shape().dims(), shape);
    let got = v.to_f64_vec();
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        let ok = if e.is_nan() {
            g.is_nan()
        } else {
            (g - e).abs() <= tol * (1.0 + e.abs())
        };
        assert!(ok, "element {i}: got {g}, expected {e}\n  all: {got:?}");
    }
}

#[track_caller]
fn ints<T: Element>(v: &Value<T>, shape: &[usize], expected: &[i32]) {
    let a = v.as_int().expect("an i32 result");
    assert_eq!(a.shape.dims(), shape);
    assert_eq!(a.data, expected);
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn env<T: Element>(pairs: &[(&str, Value<T>)]) -> Env<T> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

const TOL32: f64 = 1e-6;
const TOL64: f64 = 1e-13;

// ----- the lecture's computation graph -----------------------------------------------

#[test]
fn lecture_graph_gives_minus_twelve() {
    // f(x, y, z) = (x + y) * z at x = -2, y = 5, z = -4: q = 3, f = -12.
    let b = GraphBuilder::new("lecture");
    let (x, y, z) = (b.input("x", &[]), b.input("y", &[]), b.input("z", &[]));
    let q = (x + y).named("q");
    b.output("f", q * z);
    let g = b.build().unwrap();
    let inputs = env(&[
        ("x", fl::<f32>(&[], &[-2.0])),
        ("y", fl(&[], &[5.0])),
        ("z", fl(&[], &[-4.0])),
    ]);
    let out = evaluate(&g, &inputs, &mut Env::new()).unwrap();
    close(&out["f"], &[], &[-12.0], 0.0);
    let all = evaluate_all(&g, &inputs, &Env::new()).unwrap();
    let q = g.nodes().find(|n| n.name.as_deref() == Some("q")).unwrap();
    close(&all[&q.id], &[], &[3.0], 0.0);
}

// ----- elementwise -------------------------------------------------------------------

fn unary_cases() -> Vec<(UnaryOp, Vec<f64>, Vec<f64>)> {
    use UnaryOp::*;
    use std::f64::consts::{E, FRAC_PI_3, FRAC_PI_6, LN_2};
    vec![
        (Neg, vec![1.5, -2.0, 0.0], vec![-1.5, 2.0, 0.0]),
        (
            Exp,
            vec![0.0, 1.0, -1.0],
            vec![1.0, E, 0.367_879_441_171_442_33],
        ),
        (
            Log,
            vec![1.0, 4.0, 0.5],
            vec![0.0, 1.386_294_361_119_890_6, -LN_2],
        ),
        (Sqrt, vec![4.0, 2.25, 0.0], vec![2.0, 1.5, 0.0]),
        (Rsqrt, vec![4.0, 0.25], vec![0.5, 2.0]),
        (Recip, vec![-0.5, 4.0], vec![-2.0, 0.25]),
        (Abs, vec![-3.0, 2.0, 0.0], vec![3.0, 2.0, 0.0]),
        (Sign, vec![-3.0, 0.0, 2.5], vec![-1.0, 0.0, 1.0]),
        (
            Tanh,
            vec![0.0, 0.5, -1.0],
            vec![0.0, 0.462_117_157_260_009_74, -0.761_594_155_955_764_9],
        ),
        (
            Sigmoid,
            vec![0.0, 2.0, -2.0],
            vec![0.5, 0.880_797_077_977_882_3, 0.119_202_922_022_117_55],
        ),
        (Relu, vec![-1.0, 0.0, 2.0], vec![0.0, 0.0, 2.0]),
        (
            Erf,
            vec![0.0, 0.5, -1.0],
            vec![0.0, 0.520_499_877_813_046_5, -0.842_700_792_949_714_9],
        ),
        (
            Sin,
            vec![0.0, FRAC_PI_6, 1.0],
            vec![0.0, 0.5, 0.841_470_984_807_896_5],
        ),
        (
            Cos,
            vec![0.0, FRAC_PI_3, 1.0],
            vec![1.0, 0.5, 0.540_302_305_868_139_8],
        ),
        (Step, vec![-1.0, 0.0, 0.5], vec![0.0, 0.0, 1.0]),
    ]
}

fn check_unary<T: Element>(tol: f64) {
    let cases = unary_cases();
    // Every unary op has a case.
    assert_eq!(cases.len(), UnaryOp::ALL.len());
    for (op, x, expected) in cases {
        let x = fl::<T>(&[x.len()], &x);
        let y = apply(&Op::Unary(op), &[&x]);
        close(&y, &[expected.len()], &expected, tol);
    }
}

#[test]
fn unary_float_ops() {
    check_unary::<f32>(TOL32);
    check_unary::<f64>(TOL64);
}

#[test]
fn unary_nan_conventions() {
    let x = fl::<f32>(&[1], &[f64::NAN]);
    let on = |op| apply(&Op::Unary(op), &[&x]).to_f64_vec()[0];
    assert!(on(UnaryOp::Relu).is_nan(), "relu propagates NaN");
    assert!(on(UnaryOp::Sign).is_nan(), "sign keeps NaN");
    assert_eq!(on(UnaryOp::Step), 0.0, "step is 1 only where x > 0");
    let big = fl::<f32>(&[2], &[-200.0, 200.0]);
    close(
        &apply(&Op::Unary(UnaryOp::Sigmoid), &[&big]),
        &[2],
        &[0.0, 1.0],
        0.0,
    );
}

#[test]
fn unary_int_ops_wrap() {
    let x = int::<f32>(&[4], &[3, -4, 0, i32::MIN]);
    let on = |op| apply(&Op::Unary(op), &[&x]);
    ints(&on(UnaryOp::Neg), &[4], &[-3, 4, 0, i32::MIN]);
    ints(&on(UnaryOp::Abs), &[4], &[3, 4, 0, i32::MIN]);
    ints(&on(UnaryOp::Sign), &[4], &[1, -1, 0, -1]);
}

fn check_binary<T: Element>(tol: f64) {
    use BinaryOp::*;
    let a = fl::<T>(&[4], &[1.0, -2.0, 3.0, 0.5]);
    let b = fl::<T>(&[4], &[4.0, 2.0, -1.5, 0.5]);
    let cases: [(BinaryOp, [f64; 4]); 12] = [
        (Add, [5.0, 0.0, 1.5, 1.0]),
        (Sub, [-3.0, -4.0, 4.5, 0.0]),
        (Mul, [4.0, -4.0, -4.5, 0.25]),
        (Div, [0.25, -1.0, -2.0, 1.0]),
        (Max, [4.0, 2.0, 3.0, 0.5]),
        (Min, [1.0, -2.0, -1.5, 0.5]),
        (Lt, [1.0, 1.0, 0.0, 0.0]),
        (Le, [1.0, 1.0, 0.0, 1.0]),
        (Gt, [0.0, 0.0, 1.0, 0.0]),
        (Ge, [0.0, 0.0, 1.0, 1.0]),
        (Eq, [0.0, 0.0, 0.0, 1.0]),
        (Ne, [1.0, 1.0, 1.0, 0.0]),
    ];
    for (op, expected) in cases {
        close(&apply(&Op::Binary(op), &[&a, &b]), &[4], &expected, tol);
    }
    let base = fl::<T>(&[4], &[2.0, 9.0, 4.0, 2.0]);
    let exp = fl::<T>(&[4], &[3.0, 0.5, -1.0, 0.0]);
    close(
        &apply(&Op::Binary(Pow), &[&base, &exp]),
        &[4],
        &[8.0, 3.0, 0.25, 1.0],
        tol,
    );
}

#[test]
fn binary_float_ops() {
    check_binary::<f32>(TOL32);
    check_binary::<f64>(TOL64);
}

#[test]
fn max_and_min_propagate_nan() {
    let nan = f64::NAN;
    let a = fl::<f32>(&[3], &[nan, 1.0, nan]);
    let b = fl::<f32>(&[3], &[1.0, nan, nan]);
    for op in [BinaryOp::Max, BinaryOp::Min] {
        close(&apply(&Op::Binary(op), &[&a, &b]), &[3], &[nan; 3], 0.0);
    }
    let eq = apply(&Op::Binary(BinaryOp::Eq), &[&a, &a]);
    close(&eq, &[3], &[0.0, 1.0, 0.0], 0.0);
    let ne = apply(&Op::Binary(BinaryOp::Ne), &[&a, &a]);
    close(&ne, &[3], &[1.0, 0.0, 1.0], 0.0);
}

#[test]
fn binary_int_ops_wrap_and_truncate() {
    use BinaryOp::*;
    let a = int::<f32>(&[5], &[7, -7, 5, i32::MAX, i32::MIN]);
    let b = int::<f32>(&[5], &[2, 2, 0, 2, -1]);
    let on = |op| apply(&Op::Binary(op), &[&a, &b]);
    ints(&on(Add), &[5], &[9, -5, 5, i32::MIN + 1, i32::MAX]);
    ints(&on(Sub), &[5], &[5, -9, 5, i32::MAX - 2, i32::MIN + 1]);
    ints(&on(Mul), &[5], &[14, -14, 0, -2, i32::MIN]);
    // Truncation toward zero; x / 0 = 0; MIN / -1 wraps to MIN.
    ints(&on(Div), &[5], &[3, -3, 0, i32::MAX / 2, i32::MIN]);
    ints(&on(Max), &[5], &[7, 2, 5, i32::MAX, -1]);
    ints(&on(Min), &[5], &[2, -7, 0, 2, i32::MIN]);
    // Comparisons of i32 give f32 0/1.
    close(&on(Lt), &[5], &[0.0, 1.0, 0.0, 0.0, 1.0], 0.0);
    close(&on(Ge), &[5], &[1.0, 0.0, 1.0, 1.0, 0.0], 0.0);
    close(&on(Eq), &[5], &[0.0, 0.0, 0.0, 0.0, 0.0], 0.0);
}

#[test]
fn where_picks_a_where_the_condition_is_nonzero() {
    let c = fl::<f64>(&[4], &[1.0, 0.0, -2.0, f64::NAN]);
    let a = fl::<f64>(&[4], &[10.0, 20.0, 30.0, 40.0]);
    let b = fl::<f64>(&[4], &[-1.0, -2.0, -3.0, -4.0]);
    close(
        &apply(&Op::Where, &[&c, &a, &b]),
        &[4],
        &[10.0, -2.0, 30.0, 40.0],
        0.0,
    );
    let (ia, ib) = (int::<f64>(&[4], &[1, 2, 3, 4]), int(&[4], &[5, 6, 7, 8]));
    ints(&apply(&Op::Where, &[&c, &ia, &ib]), &[4], &[1, 6, 3, 4]);
}

#[test]
fn cast_truncates_saturates_and_zeroes_nan() {
    let x = fl::<f32>(&[7], &[2.7, -2.7, 3e9, -3e9, f64::NAN, 0.5, f64::INFINITY]);
    let to_int = Op::Cast { to: DType::I32 };
    ints(
        &apply(&to_int, &[&x]),
        &[7],
        &[2, -2, i32::MAX, i32::MIN, 0, 0, i32::MAX],
    );
    let big = int::<f32>(&[2], &[16_777_217, -3]);
    let to_float = Op::Cast { to: DType::F32 };
    // f32 cannot hold 2^24 + 1: it rounds to nearest; f64 holds it.
    close(&apply(&to_float, &[&big]), &[2], &[16_777_216.0, -3.0], 0.0);
    let big = int::<f64>(&[2], &[16_777_217, -3]);
    close(&apply(&to_float, &[&big]), &[2], &[16_777_217.0, -3.0], 0.0);
    // Same-dtype casts are the identity.
    ints(&apply(&to_int, &[&big]), &[2], &[16_777_217, -3]);
}

// ----- reductions ----------------------------------------------------------------------

fn reduce(op: ReduceOp, axes: &[usize], keepdims: bool) -> Op {
    Op::Reduce {
        op,
        axes: axes.to_vec(),
        keepdims,
    }
}

fn check_reduce<T: Element>(tol: f64) {
    use ReduceOp::*;
    // [[1, 2, 3], [4, 5, 6]]
    let x = fl::<T>(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let on = |op, axes: &[usize], keep| apply(&reduce(op, axes, keep), &[&x]);
    close(&on(Sum, &[0], false), &[3], &[5.0, 7.0, 9.0], tol);
    close(&on(Sum, &[1], false), &[2], &[6.0, 15.0], tol);
    close(&on(Sum, &[1], true), &[2, 1], &[6.0, 15.0], tol);
    close(&on(Sum, &[0, 1], false), &[], &[21.0], tol);
    close(&on(Sum, &[0, 1], true), &[1, 1], &[21.0], tol);
    close(&on(Max, &[1], false), &[2], &[3.0, 6.0], tol);
    close(&on(Min, &[0], false), &[3], &[1.0, 2.0, 3.0], tol);
    close(&on(Mean, &[1], false), &[2], &[2.0, 5.0], tol);
    close(&on(Mean, &[0, 1], false), &[], &[3.5], tol);
    close(
        &on(Max, &[], false),
        &[2, 3],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        0.0,
    );
    // x[a, j, b] = 6a + 2j + b over [2, 3, 2]
    let y = range::<T>(&[2, 3, 2]);
    let on = |axes: &[usize]| apply(&reduce(Sum, axes, false), &[&y]);
    close(&on(&[1]), &[2, 2], &[6.0, 9.0, 24.0, 27.0], tol);
    close(&on(&[0, 2]), &[3], &[14.0, 22.0, 30.0], tol);
}

#[test]
fn reductions_over_axes() {
    check_reduce::<f32>(TOL32);
    check_reduce::<f64>(TOL64);
}

#[test]
fn reductions_of_nan_and_int() {
    let x = fl::<f32>(&[3], &[1.0, f64::NAN, 3.0]);
    for op in [ReduceOp::Max, ReduceOp::Min, ReduceOp::Sum] {
        assert!(apply(&reduce(op, &[0], false), &[&x]).to_f64_vec()[0].is_nan());
    }
    let i = int::<f32>(&[2, 2], &[i32::MAX, 1, -5, 3]);
    ints(
        &apply(&reduce(ReduceOp::Sum, &[1], false), &[&i]),
        &[2],
        &[i32::MIN, -2],
    );
    ints(
        &apply(&reduce(ReduceOp::Max, &[0], false), &[&i]),
        &[2],
        &[i32::MAX, 3],
    );
    ints(
        &apply(&reduce(ReduceOp::Min, &[0, 1], true), &[&i]),
        &[1, 1],
        &[-5],
    );
}

#[test]
fn argmax_takes_the_first_of_ties() {
    let x = fl::<f32>(&[2, 4], &[1.0, 3.0, 3.0, 2.0, -1.0, -5.0, -1.0, -2.0]);
    let arg = |axis, keepdims| Op::ArgMax { axis, keepdims };
    ints(&apply(&arg(1, false), &[&x]), &[2], &[1, 0]);
    ints(&apply(&arg(1, true), &[&x]), &[2, 1], &[1, 0]);
    ints(&apply(&arg(0, false), &[&x]), &[4], &[0, 0, 0, 0]);
    let y = fl::<f64>(&[2, 2], &[1.0, 5.0, 2.0, 5.0]);
    ints(&apply(&arg(0, false), &[&y]), &[2], &[1, 0]);
    let z = fl::<f32>(&[4], &[1.0, f64::NAN, 3.0, f64::NAN]);
    ints(&apply(&arg(0, false), &[&z]), &[], &[1]);
}

// ----- movement ---------------------------------------------------------------------------

#[test]
fn reshape_keeps_row_major_order() {
    let x = range::<f32>(&[2, 3]);
    let y = apply(
        &Op::Reshape {
            shape: Shape::from([3, 1, 2]),
        },
        &[&x],
    );
    close(&y, &[3, 1, 2], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], 0.0);
    let i = int::<f32>(&[4], &[1, 2, 3, 4]);
    let j = apply(
        &Op::Reshape {
            shape: Shape::from([2, 2]),
        },
        &[&i],
    );
    ints(&j, &[2, 2], &[1, 2, 3, 4]);
}

#[test]
fn permute_moves_dims() {
    let x = range::<f32>(&[2, 3]);
    let t = apply(&Op::Permute { perm: vec![1, 0] }, &[&x]);
    close(&t, &[3, 2], &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0], 0.0);
    // x[i, j, k] = 12i + 4j + k; out[k, i, j] = x[i, j, k].
    let x = range::<f64>(&[2, 3, 4]);
    let y = apply(
        &Op::Permute {
            perm: vec![2, 0, 1],
        },
        &[&x],
    );
    #[rustfmt::skip]
    let expected = [
        0.0, 4.0, 8.0, 12.0, 16.0, 20.0,
        1.0, 5.0, 9.0, 13.0, 17.0, 21.0,
        2.0, 6.0, 10.0, 14.0, 18.0, 22.0,
        3.0, 7.0, 11.0, 15.0, 19.0, 23.0,
    ];
    close(&y, &[4, 2, 3], &expected, 0.0);
}

#[test]
fn broadcast_stretches_ones_and_adds_leading_dims() {
    let bc = |dims: &[usize]| Op::Broadcast {
        shape: Shape::from(dims),
    };
    let row = fl::<f32>(&[3], &[1.0, 2.0, 3.0]);
    close(
        &apply(&bc(&[2, 3]), &[&row]),
        &[2, 3],
        &[1.0, 2.0, 3.0, 1.0, 2.0, 3.0],
        0.0,
    );
    let col = fl::<f32>(&[2, 1], &[1.0, 2.0]);
    close(
        &apply(&bc(&[2, 3]), &[&col]),
        &[2, 3],
        &[1.0, 1.0, 1.0, 2.0, 2.0, 2.0],
        0.0,
    );
    close(
        &apply(&bc(&[3, 2, 2]), &[&col]),
        &[3, 2, 2],
        &[1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0],
        0.0,
    );
    let s = int::<f32>(&[], &[7]);
    ints(&apply(&bc(&[2]), &[&s]), &[2], &[7, 7]);
}

#[test]
fn slice_with_step() {
    let slice = |axis, start, end, step| Op::Slice {
        axis,
        start,
        end,
        step,
    };
    // x[i, j] = 7i + j over [2, 7]
    let x = range::<f32>(&[2, 7]);
    close(
        &apply(&slice(1, 1, 7, 3), &[&x]),
        &[2, 2],
        &[1.0, 4.0, 8.0, 11.0],
        0.0,
    );
    close(
        &apply(&slice(1, 0, 7, 2), &[&x]),
        &[2, 4],
        &[0.0, 2.0, 4.0, 6.0, 7.0, 9.0, 11.0, 13.0],
        0.0,
    );
    close(
        &apply(&slice(0, 1, 2, 1), &[&x]),
        &[1, 7],
        &[7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0],
        0.0,
    );
    let i = int::<f32>(&[5], &[10, 11, 12, 13, 14]);
    ints(&apply(&slice(0, 2, 5, 2), &[&i]), &[2], &[12, 14]);
}

fn pad(axis: usize, low: usize, high: usize, interior: usize, value: f32) -> Op {
    Op::Pad {
        axis,
        low,
        high,
        interior,
        value: value.into(),
    }
}

#[test]
fn pad_with_interior() {
    let x = fl::<f32>(&[3], &[1.0, 2.0, 3.0]);
    let y = apply(&pad(0, 2, 1, 2, -1.0), &[&x]);
    #[rustfmt::skip]
    let expected = [-1.0, -1.0, 1.0, -1.0, -1.0, 2.0, -1.0, -1.0, 3.0, -1.0];
    close(&y, &[10], &expected, 0.0);
    // Interior padding is the inverse of a strided slice.
    let back = apply(
        &Op::Slice {
            axis: 0,
            start: 2,
            end: 10,
            step: 3,
        },
        &[&y],
    );
    assert_eq!(back, x);
    let m = fl::<f64>(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    close(
        &apply(&pad(1, 0, 1, 1, 0.0), &[&m]),
        &[2, 4],
        &[1.0, 0.0, 2.0, 0.0, 3.0, 0.0, 4.0, 0.0],
        0.0,
    );
    close(
        &apply(&pad(0, 1, 0, 0, 9.0), &[&m]),
        &[3, 2],
        &[9.0, 9.0, 1.0, 2.0, 3.0, 4.0],
        0.0,
    );
    let empty = fl::<f32>(&[0], &[]);
    close(
        &apply(&pad(0, 1, 2, 5, 0.5), &[&empty]),
        &[3],
        &[0.5; 3],
        0.0,
    );
    // An i32 tensor is padded with the value truncated toward zero.
    let i = int::<f32>(&[2], &[5, 6]);
    ints(&apply(&pad(0, 1, 1, 0, -7.9), &[&i]), &[4], &[-7, 5, 6, -7]);
}

#[test]
fn concat_joins_along_an_axis() {
    let a = fl::<f32>(&[2, 1], &[1.0, 2.0]);
    let b = fl::<f32>(&[2, 2], &[3.0, 4.0, 5.0, 6.0]);
    close(
        &apply(&Op::Concat { axis: 1 }, &[&a, &b]),
        &[2, 3],
        &[1.0, 3.0, 4.0, 2.0, 5.0, 6.0],
        0.0,
    );
    let c = fl::<f32>(&[1, 2], &[1.0, 2.0]);
    close(
        &apply(&Op::Concat { axis: 0 }, &[&c, &b, &c]),
        &[4, 2],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 1.0, 2.0],
        0.0,
    );
    let (i, j) = (int::<f64>(&[1], &[4]), int::<f64>(&[2], &[5, 6]));
    ints(&apply(&Op::Concat { axis: 0 }, &[&i, &j]), &[3], &[4, 5, 6]);
}

// ----- gather, scatter-add, one-hot ---------------------------------------------------------

#[test]
fn gather_selects_rows() {
    let data = fl::<f32>(&[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let idx = int::<f32>(&[3], &[2, 0, 2]);
    close(
        &apply(&Op::Gather { axis: 0 }, &[&data, &idx]),
        &[3, 2],
        &[5.0, 6.0, 1.0, 2.0, 5.0, 6.0],
        0.0,
    );
    // out[a, i, j] = data[a, idx[i, j]]
    let data = fl::<f64>(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let idx = int::<f64>(&[2, 2], &[2, 0, 1, 1]);
    close(
        &apply(&Op::Gather { axis: 1 }, &[&data, &idx]),
        &[2, 2, 2],
        &[3.0, 1.0, 2.0, 2.0, 6.0, 4.0, 5.0, 5.0],
        0.0,
    );
    let table = int::<f32>(&[3], &[30, 10, 20]);
    let ids = int::<f32>(&[2], &[1, 1]);
    ints(
        &apply(&Op::Gather { axis: 0 }, &[&table, &ids]),
        &[2],
        &[10, 10],
    );
}

#[test]
fn scatter_add_accumulates_repeated_indices() {
    let upd = fl::<f32>(&[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let idx = int::<f32>(&[3], &[2, 0, 2]);
    let op = Op::ScatterAdd { axis: 0, size: 4 };
    close(
        &apply(&op, &[&upd, &idx]),
        &[4, 2],
        &[3.0, 4.0, 0.0, 0.0, 6.0, 8.0, 0.0, 0.0],
        0.0,
    );
    let upd = int::<f32>(&[2], &[i32::MAX, 1]);
    let idx = int::<f32>(&[2], &[0, 0]);
    ints(
        &apply(&Op::ScatterAdd { axis: 0, size: 1 }, &[&upd, &idx]),
        &[1],
        &[i32::MIN],
    );
}

#[test]
fn scatter_add_is_the_adjoint_of_gather() {
    // <gather(d, idx), u> == <d, scatter_add(u, idx)> for axis 1, 2-D indices.
    let data = fl::<f64>(&[2, 5, 3], &wave(30, 0.7));
    let idx = int::<f64>(&[2, 2], &[4, 0, 4, 2]);
    let g = apply(&Op::Gather { axis: 1 }, &[&data, &idx]);
    assert_eq!(g.shape().dims(), &[2, 2, 2, 3]);
    let u = fl::<f64>(&[2, 2, 2, 3], &wave(24, 1.3));
    let s = apply(&Op::ScatterAdd { axis: 1, size: 5 }, &[&u, &idx]);
    assert_eq!(s.shape().dims(), &[2, 5, 3]);
    let lhs = dot(&g.to_f64_vec(), &u.to_f64_vec());
    let rhs = dot(&data.to_f64_vec(), &s.to_f64_vec());
    assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
}

#[test]
fn one_hot_marks_the_index() {
    let idx = int::<f32>(&[2, 2], &[0, 2, 1, 0]);
    #[rustfmt::skip]
    let expected = [
        1.0, 0.0, 0.0,  0.0, 0.0, 1.0,
        0.0, 1.0, 0.0,  1.0, 0.0, 0.0,
    ];
    close(
        &apply(&Op::OneHot { depth: 3 }, &[&idx]),
        &[2, 2, 3],
        &expected,
        0.0,
    );
}

#[test]
fn indices_out_of_range_are_errors() {
    let expect = |r: Result<Value, EvalError>, index: i64, bound: usize, op: &str| match r {
        Err(EvalError::IndexOutOfRange {
            index: i,
            bound: b,
            op: o,
            ..
        }) => assert_eq!((i, b, o), (index, bound, op)),
        other => panic!("expected an index error, got {other:?}"),
    };
    let data = fl::<f32>(&[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let gather = Op::Gather { axis: 0 };
    expect(
        try_apply(&gather, &[&data, &int(&[2], &[0, 3])]),
        3,
        3,
        "gather",
    );
    expect(
        try_apply(&gather, &[&data, &int(&[1], &[-1])]),
        -1,
        3,
        "gather",
    );
    let scatter = Op::ScatterAdd { axis: 0, size: 4 };
    expect(
        try_apply(&scatter, &[&data, &int(&[3], &[0, 4, 1])]),
        4,
        4,
        "scatter_add",
    );
    let hot = Op::OneHot { depth: 3 };
    expect(try_apply(&hot, &[&int(&[1], &[3])]), 3, 3, "one_hot");
    expect(try_apply(&hot, &[&int(&[1], &[-2])]), -2, 3, "one_hot");
    // Checked even when the result has no elements to read the index.
    let empty = fl::<f32>(&[0, 3], &[]);
    let gather1 = Op::Gather { axis: 1 };
    expect(
        try_apply(&gather1, &[&empty, &int(&[1], &[5])]),
        5,
        3,
        "gather",
    );
    let msg = try_apply(&hot, &[&int::<f32>(&[1], &[3])])
        .unwrap_err()
        .to_string();
    assert_eq!(msg, "%0 (one_hot): index 3 is out of range 0..3");
}

// ----- matmul ------------------------------------------------------------------------------------

fn matmul(transpose_lhs: bool, transpose_rhs: bool) -> Op {
    Op::MatMul {
        transpose_lhs,
        transpose_rhs,
    }
}

fn check_matmul<T: Element>(tol: f64) {
    // [[1,2,3],[4,5,6]] x [[7,8],[9,10],[11,12]] = [[58,64],[139,154]]
    let a = fl::<T>(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let b = fl::<T>(&[3, 2], &[7.0, 8.0, 9.0, 10.0, 11.0, 12.0]);
    let at = fl::<T>(&[3, 2], &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    let bt = fl::<T>(&[2, 3], &[7.0, 9.0, 11.0, 8.0, 10.0, 12.0]);
    let expected = [58.0, 64.0, 139.0, 154.0];
    for (tl, tr, l, r) in [
        (false, false, &a, &b),
        (true, false, &at, &b),
        (false, true, &a, &bt),
        (true, true, &at, &bt),
    ] {
        close(&apply(&matmul(tl, tr), &[l, r]), &[2, 2], &expected, tol);
    }
    // A batch of two: the second product picks rows 0 and 1 of [[1,2],[3,4],[5,6]].
    #[rustfmt::skip]
    let a = fl::<T>(&[2, 2, 3], &[
        1.0, 2.0, 3.0, 4.0, 5.0, 6.0,
        1.0, 0.0, 0.0, 0.0, 1.0, 0.0,
    ]);
    #[rustfmt::skip]
    let b = fl::<T>(&[2, 3, 2], &[
        7.0, 8.0, 9.0, 10.0, 11.0, 12.0,
        1.0, 2.0, 3.0, 4.0, 5.0, 6.0,
    ]);
    close(
        &apply(&matmul(false, false), &[&a, &b]),
        &[2, 2, 2],
        &[58.0, 64.0, 139.0, 154.0, 1.0, 2.0, 3.0, 4.0],
        tol,
    );
    // Batched with both flags: [2, 3, 2]ᵀ x [2, 2, 3]ᵀ.
    let c = fl::<T>(&[2, 3, 2], &wave(12, 0.3));
    let d = fl::<T>(&[2, 2, 3], &wave(12, 0.9));
    let both = apply(&matmul(true, true), &[&c, &d]);
    assert_eq!(both.shape().dims(), &[2, 2, 2]);
    // out[1, 0, 1] = Σ_p c[1, p, 0] * d[1, 1, p]
    let (cv, dv) = (c.to_f64_vec(), d.to_f64_vec());
    let hand = cv[6] * dv[9] + cv[8] * dv[10] + cv[10] * dv[11];
    assert!((both.to_f64_vec()[5] - hand).abs() < tol * 10.0);
}

#[test]
fn matmul_with_transposes_and_batches() {
    check_matmul::<f32>(TOL32);
    check_matmul::<f64>(TOL64);
}

#[test]
fn builder_matmul_folds_leading_dims() {
    let b = GraphBuilder::new("fold");
    let x = b.input("x", &[2, 1, 2]);
    let w = b.param("w", &[2, 3], Init::Zeros);
    b.output("y", x.matmul(w));
    let g = b.build().unwrap();
    let inputs = env(&[("x", fl::<f32>(&[2, 1, 2], &[1.0, 2.0, 3.0, 4.0]))]);
    let mut store = env(&[("w", fl::<f32>(&[2, 3], &[1.0, 0.0, -1.0, 0.5, 2.0, 1.0]))]);
    let out = evaluate(&g, &inputs, &mut store).unwrap();
    // [1,2] -> [2, 4, 1]; [3,4] -> [5, 8, 1]
    close(
        &out["y"],
        &[2, 1, 3],
        &[2.0, 4.0, 1.0, 5.0, 8.0, 1.0],
        TOL32,
    );
}

// ----- convolution --------------------------------------------------------------------------------

#[test]
fn conv2d_sums_over_channels() {
    let x = fl::<f32>(&[1, 2, 2, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    let w = fl::<f32>(&[1, 2, 2, 2], &[1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0]);
    // 1*1 + 1*4 + 1*6 + 1*7
    let y = apply(&Op::Conv2d(ConvParams::default()), &[&x, &w]);
    close(&y, &[1, 1, 1, 1], &[18.0], 0.0);
}

#[test]
fn conv2d_groups_map_output_channels_to_input_groups() {
    // Outputs 0, 1 read channel 0 = [1, 2]; outputs 2, 3 read channel 1 = [3, 4].
    let x = fl::<f32>(&[1, 2, 1, 2], &[1.0, 2.0, 3.0, 4.0]);
    let w = fl::<f32>(&[4, 1, 1, 1], &[2.0, 3.0, 5.0, 7.0]);
    let p = ConvParams {
        groups: 2,
        ..ConvParams::default()
    };
    close(
        &apply(&Op::Conv2d(p), &[&x, &w]),
        &[1, 4, 1, 2],
        &[2.0, 4.0, 3.0, 6.0, 15.0, 20.0, 21.0, 28.0],
        0.0,
    );
}

fn strided_params() -> ConvParams {
    ConvParams {
        stride: [2, 2],
        padding: [1, 1],
        dilation: [2, 2],
        groups: 2,
    }
}

fn check_conv_strided<T: Element>(tol: f64) {
    // Channel 0 holds 5i + j, channel 1 holds 24 - (5i + j), on a 5x5 grid.
    let ch0: Vec<f64> = (0..25).map(f64::from).collect();
    let ch1: Vec<f64> = (0..25).map(|v| 24.0 - f64::from(v)).collect();
    let x = fl::<T>(&[1, 2, 5, 5], &[ch0, ch1].concat());
    // One output channel per group: w0 = [[1, 2], [3, 4]], w1 = [[-1, 0.5], [2, 1]].
    let w = fl::<T>(&[2, 1, 2, 2], &[1.0, 2.0, 3.0, 4.0, -1.0, 0.5, 2.0, 1.0]);
    // Output 3x3: input row iy = 2*oy - 1 + 2*ky, so oy = 0 sees rows {-1, 1},
    // oy = 1 rows {1, 3}, oy = 2 rows {3, 5}; -1 and 5 are padding (zeros).
    // E.g. y0[1,1] = 1*x[1,1] + 2*x[1,3] + 3*x[3,1] + 4*x[3,3] = 6 + 16 + 48 + 72.
    #[rustfmt::skip]
    let expected = [
        24.0, 50.0, 24.0,   76.0, 142.0, 62.0,   32.0, 52.0, 18.0,
        18.0, 52.0, 32.0,   17.0, 12.0, -4.0,    4.0, -5.0, -6.0,
    ];
    let y = apply(&Op::Conv2d(strided_params()), &[&x, &w]);
    close(&y, &[1, 2, 3, 3], &expected, tol);
}

#[test]
fn conv2d_with_stride_padding_dilation_and_groups() {
    check_conv_strided::<f32>(TOL32);
    check_conv_strided::<f64>(TOL64);
}

#[test]
fn conv2d_gradients_are_adjoints() {
    // x[2, 4, 7, 6], w[6, 2, 3, 2], groups 2: three outputs per group.
    let p = strided_params();
    let x = fl::<f64>(&[2, 4, 7, 6], &wave(2 * 4 * 7 * 6, 0.37));
    let w = fl::<f64>(&[6, 2, 3, 2], &wave(6 * 2 * 3 * 2, 1.91));
    let y = apply(&Op::Conv2d(p), &[&x, &w]);
    // OH = (7 + 2 - 2*2 - 1)/2 + 1 = 3, OW = (6 + 2 - 2*1 - 1)/2 + 1 = 3
    assert_eq!(y.shape().dims(), &[2, 6, 3, 3]);
    let dy = fl::<f64>(&[2, 6, 3, 3], &wave(2 * 6 * 9, 2.53));
    let dx = apply(
        &Op::Conv2dInputGrad {
            conv: p,
            input_hw: [7, 6],
        },
        &[&dy, &w],
    );
    let dw = apply(
        &Op::Conv2dWeightGrad {
            conv: p,
            kernel_hw: [3, 2],
        },
        &[&x, &dy],
    );
    let forward = dot(&y.to_f64_vec(), &dy.to_f64_vec());
    let via_x = dot(&x.to_f64_vec(), &dx.to_f64_vec());
    let via_w = dot(&w.to_f64_vec(), &dw.to_f64_vec());
    assert!(
        forward.abs() > 1.0,
        "a trivial check proves nothing: {forward}"
    );
    assert!((forward - via_x).abs() < 1e-10, "{forward} vs {via_x}");
    assert!((forward - via_w).abs() < 1e-10, "{forward} vs {via_w}");
}

#[test]
fn conv2d_input_grad_by_hand() {
    // 1 channel, 3x3 input, 2x2 kernel, stride 1: dx[i, j] = Σ dy[i-ky, j-kx] w[ky, kx].
    let w = fl::<f32>(&[1, 1, 2, 2], &[1.0, 2.0, 3.0, 4.0]);
    let dy = fl::<f32>(&[1, 1, 2, 2], &[1.0, 0.0, 0.0, 1.0]);
    let op = Op::Conv2dInputGrad {
        conv: ConvParams::default(),
        input_hw: [3, 3],
    };
    // dy[0,0] spreads w over the top left; dy[1,1] over the bottom right.
    let expected = [1.0, 2.0, 0.0, 3.0, 5.0, 2.0, 0.0, 3.0, 4.0];
    close(&apply(&op, &[&dy, &w]), &[1, 1, 3, 3], &expected, 0.0);
    // dw[ky, kx] = Σ x[oy+ky, ox+kx] dy[oy, ox] = x[ky, kx] + x[ky+1, kx+1]
    let x = range::<f32>(&[1, 1, 3, 3]);
    let op = Op::Conv2dWeightGrad {
        conv: ConvParams::default(),
        kernel_hw: [2, 2],
    };
    close(
        &apply(&op, &[&x, &dy]),
        &[1, 1, 2, 2],
        &[4.0, 6.0, 10.0, 12.0],
        0.0,
    );
}

// ----- pooling --------------------------------------------------------------------------------------

#[test]
fn max_pool_and_its_gradient_break_ties_by_first_position() {
    #[rustfmt::skip]
    let x = fl::<f32>(&[1, 1, 4, 4], &[
        1.0,  3.0,  2.0,  0.0,
        3.0,  2.0,  5.0,  5.0,
        0.0, -1.0, -2.0, -3.0,
        4.0, -1.0, -3.0, -2.0,
    ]);
    let p = PoolParams::square(2);
    close(
        &apply(&Op::MaxPool2d(p), &[&x]),
        &[1, 1, 2, 2],
        &[3.0, 5.0, 4.0, -2.0],
        0.0,
    );
    let dy = fl::<f32>(&[1, 1, 2, 2], &[10.0, 20.0, 30.0, 40.0]);
    // Ties: 3 at (0,1) and (1,0) -> (0,1); 5 at (1,2), (1,3) -> (1,2); -2 at (2,2), (3,3) -> (2,2).
    #[rustfmt::skip]
    let expected = [
        0.0, 10.0, 0.0, 0.0,
        0.0, 0.0, 20.0, 0.0,
        0.0, 0.0, 40.0, 0.0,
        30.0, 0.0, 0.0, 0.0,
    ];
    close(
        &apply(&Op::MaxPool2dGrad(p), &[&x, &dy]),
        &[1, 1, 4, 4],
        &expected,
        0.0,
    );
}

#[test]
fn max_pool_padding_is_minus_infinity() {
    // All inputs negative: a zero padding would win every border window.
    let x = fl::<f64>(&[1, 1, 2, 2], &[-5.0, -7.0, -6.0, -8.0]);
    let p = PoolParams {
        kernel: [2, 2],
        stride: [1, 1],
        padding: [1, 1],
    };
    close(
        &apply(&Op::MaxPool2d(p), &[&x]),
        &[1, 1, 3, 3],
        &[-5.0, -5.0, -7.0, -5.0, -5.0, -7.0, -6.0, -6.0, -8.0],
        0.0,
    );
    // Overlapping windows add up: x[0,0] is the max of four windows.
    let dy = fl::<f64>(&[1, 1, 3, 3], &[1.0; 9]);
    close(
        &apply(&Op::MaxPool2dGrad(p), &[&x, &dy]),
        &[1, 1, 2, 2],
        &[4.0, 2.0, 2.0, 1.0],
        0.0,
    );
}

#[test]
fn avg_pool_divides_by_the_kernel_area_with_padding() {
    let x = fl::<f32>(&[1, 1, 2, 2], &[1.0, 2.0, 3.0, 4.0]);
    let p = PoolParams {
        kernel: [2, 2],
        stride: [1, 1],
        padding: [1, 1],
    };
    // Corner windows hold one element, still divided by 4.
    close(
        &apply(&Op::AvgPool2d(p), &[&x]),
        &[1, 1, 3, 3],
        &[0.25, 0.75, 0.5, 1.0, 2.5, 1.5, 0.75, 1.75, 1.0],
        TOL32,
    );
    let dy = fl::<f32>(
        &[1, 1, 3, 3],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    );
    let grad = Op::AvgPool2dGrad {
        pool: p,
        input_hw: [2, 2],
    };
    // dx[0,0] = (1 + 2 + 4 + 5) / 4, the windows that contain it.
    close(
        &apply(&grad, &[&dy]),
        &[1, 1, 2, 2],
        &[3.0, 4.0, 6.0, 7.0],
        TOL32,
    );
}

#[test]
fn avg_pool_gradient_is_the_adjoint() {
    let p = PoolParams {
        kernel: [3, 2],
        stride: [2, 1],
        padding: [1, 1],
    };
    let x = fl::<f64>(&[2, 3, 5, 4], &wave(120, 0.61));
    let y = apply(&Op::AvgPool2d(p), &[&x]);
    let dims = y.shape().dims().to_vec();
    let dy = fl::<f64>(&dims, &wave(dims.iter().product(), 1.7));
    let grad = Op::AvgPool2dGrad {
        pool: p,
        input_hw: [5, 4],
    };
    let dx = apply(&grad, &[&dy]);
    let lhs = dot(&y.to_f64_vec(), &dy.to_f64_vec());
    let rhs = dot(&x.to_f64_vec(), &dx.to_f64_vec());
    assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
}

// ----- sources and random ops -------------------------------------------------------------------

#[test]
fn iota_counts_along_its_axis() {
    let f = Op::Iota {
        ty: TensorType::f32([2, 3]),
        axis: 1,
    };
    close(
        &apply::<f32>(&f, &[]),
        &[2, 3],
        &[0.0, 1.0, 2.0, 0.0, 1.0, 2.0],
        0.0,
    );
    let i = Op::Iota {
        ty: TensorType::i32([2, 3]),
        axis: 0,
    };
    ints(&apply::<f64>(&i, &[]), &[2, 3], &[0, 0, 0, 1, 1, 1]);
}

#[test]
fn const_is_its_literal() {
    let lit = Literal::f32([2], vec![0.1, -3.0]).unwrap();
    let v = apply::<f64>(&Op::Const { value: lit }, &[]);
    // The f32 literal, widened exactly.
    close(&v, &[2], &[f64::from(0.1f32), -3.0], 0.0);
    let v = apply::<f32>(
        &Op::Const {
            value: Literal::scalar_i32(-4),
        },
        &[],
    );
    ints(&v, &[], &[-4]);
}

#[test]
fn random_ops_read_the_counter_based_stream() {
    let op = Op::RandomUniform {
        shape: Shape::from([2, 3]),
        seed: 9,
    };
    let c5 = int::<f32>(&[], &[5]);
    let u = apply(&op, &[&c5]).to_f64_vec();
    let defined: Vec<f64> = (0..6)
        .map(|i| f64::from(random::uniform(9, 5, i)))
        .collect();
    assert_eq!(u, defined);
    assert!(u.iter().all(|x| (0.0..1.0).contains(x)));
    // Another counter, another sample; f64 evaluation widens the same f32 draws.
    assert_ne!(apply(&op, &[&int::<f32>(&[], &[6])]).to_f64_vec(), u);
    assert_eq!(apply(&op, &[&int::<f64>(&[], &[5])]).to_f64_vec(), u);
    let mask = Op::RandomBernoulli {
        shape: Shape::from([2, 3]),
        p: 0.5.into(),
        seed: 9,
    };
    let m = apply(&mask, &[&c5]).to_f64_vec();
    let expected: Vec<f64> = u.iter().map(|&x| if x < 0.5 { 1.0 } else { 0.0 }).collect();
    assert_eq!(m, expected);
}

#[test]
fn sinks_pass_their_operand_and_sources_are_not_computed_here() {
    let x = fl::<f32>(&[2], &[1.0, 2.0]);
    let out = Op::Output { name: "y".into() };
    assert_eq!(apply(&out, &[&x]), x);
    let upd = Op::Update { target: "w".into() };
    assert_eq!(apply(&upd, &[&x]), x);
    let input = Op::Input {
        name: "x".into(),
        ty: TensorType::f32([2]),
    };
    assert!(matches!(
        try_apply::<f32>(&input, &[]),
        Err(EvalError::Invalid { op: "input", .. })
    ));
}

#[test]
fn mistyped_operands_are_errors_not_panics() {
    // exp of an i32 tensor, and a node whose stated type disagrees with its operands.
    let i = int::<f32>(&[2], &[1, 2]);
    let r = eval_op(
        NodeId(3),
        &Op::Unary(UnaryOp::Exp),
        &TensorType::i32([2]),
        &[&i],
    );
    assert!(
        matches!(r, Err(EvalError::Invalid { op: "exp", .. })),
        "{r:?}"
    );
    let x = fl::<f32>(&[2], &[1.0, 2.0]);
    let r = eval_op(
        NodeId(3),
        &Op::Unary(UnaryOp::Exp),
        &TensorType::f32([3]),
        &[&x],
    );
    let msg = r.unwrap_err().to_string();
    assert!(msg.contains("f32[3]") && msg.contains("f32[2]"), "{msg}");
    let r = eval_op(
        NodeId(3),
        &Op::Binary(BinaryOp::Add),
        &TensorType::f32([2]),
        &[&x],
    );
    assert!(r.is_err());
}

// ----- whole graphs ------------------------------------------------------------------------------------

#[test]
fn updates_are_applied_after_the_run() {
    let b = GraphBuilder::new("step");
    let p = b.param("p", &[2], Init::Zeros);
    let step = b.state("step", TensorType::i32(Shape::scalar()), Init::Zeros);
    b.output("old", p);
    b.output("doubled", p * 2.0);
    b.update("p", p + 1.0);
    b.update("step", step + 1.0);
    // Two params swapped: each update reads the other's old value.
    let a = b.param("a", &[], Init::Zeros);
    let c = b.param("c", &[], Init::Zeros);
    b.update("a", c);
    b.update("c", a);
    let g = b.build().unwrap();
    let mut store = env(&[
        ("p", fl::<f32>(&[2], &[1.0, 2.0])),
        ("step", int(&[], &[41])),
        ("a", fl(&[], &[1.0])),
        ("c", fl(&[], &[2.0])),
    ]);
    let out = evaluate(&g, &Env::new(), &mut store).unwrap();
    close(&out["old"], &[2], &[1.0, 2.0], 0.0);
    close(&out["doubled"], &[2], &[2.0, 4.0], 0.0);
    assert_eq!(out.len(), 2);
    close(&store["p"], &[2], &[2.0, 3.0], 0.0);
    ints(&store["step"], &[], &[42]);
    close(&store["a"], &[], &[2.0], 0.0);
    close(&store["c"], &[], &[1.0], 0.0);
    let out = evaluate(&g, &Env::new(), &mut store).unwrap();
    close(&out["old"], &[2], &[2.0, 3.0], 0.0);
    ints(&store["step"], &[], &[43]);
}

#[test]
fn f64_evaluation_of_an_f32_graph() {
    // (x + 1) - x at x = 1e8: f32 loses the 1, f64 keeps it.
    let b = GraphBuilder::new("cancel");
    let x = b.input("x", &[2]);
    b.output("y", (x + 1.0) - x);
    b.output("s", x.sigmoid() * 0.5);
    let g = b.build().unwrap();
    let x32 = fl::<f32>(&[2], &[1e8, 0.0]);
    let out32 = evaluate(&g, &env(&[("x", x32.clone())]), &mut Env::new()).unwrap();
    let out64 = evaluate(&g, &env(&[("x", x32.convert::<f64>())]), &mut Env::new()).unwrap();
    close(&out32["y"], &[2], &[0.0, 1.0], 0.0);
    close(&out64["y"], &[2], &[1.0, 1.0], 0.0);
    close(&out64["s"], &[2], &[0.5, 0.25], TOL64);
    close(&out32["s"], &[2], &[0.5, 0.25], TOL32);
}

#[test]
fn missing_and_mistyped_inputs_name_the_input_and_types() {
    let b = GraphBuilder::new("io");
    let x = b.input("x", &[2, 3]);
    let w = b.param("w", &[3], Init::Zeros);
    b.output("y", x + w);
    let g = b.build().unwrap();
    let store = env(&[("w", fl::<f32>(&[3], &[0.0; 3]))]);
    let err = evaluate_all(&g, &Env::new(), &store).unwrap_err();
    assert_eq!(
        err,
        EvalError::MissingInput {
            name: "x".into(),
            expected: TensorType::f32([2, 3]),
        }
    );
    assert_eq!(
        err.to_string(),
        "no value was fed for input `x` (expected f32[2,3])"
    );
    let wrong = env(&[("x", fl::<f32>(&[3, 2], &[0.0; 6]))]);
    let err = evaluate_all(&g, &wrong, &store).unwrap_err();
    assert_eq!(
        err.to_string(),
        "input `x`: expected f32[2,3], got f32[3,2]"
    );
    let ints_in = env(&[("x", int::<f32>(&[2, 3], &[0; 6]))]);
    let err = evaluate_all(&g, &ints_in, &store).unwrap_err();
    assert_eq!(
        err.to_string(),
        "input `x`: expected f32[2,3], got i32[2,3]"
    );
    let good = env(&[("x", fl::<f32>(&[2, 3], &[0.0; 6]))]);
    let err = evaluate_all(&g, &good, &Env::new()).unwrap_err();
    assert!(
        matches!(err, EvalError::MissingValue { kind: "param", .. }),
        "{err}"
    );
    let bad_store = env(&[("w", fl::<f32>(&[4], &[0.0; 4]))]);
    let err = evaluate_all(&g, &good, &bad_store).unwrap_err();
    assert_eq!(
        err.to_string(),
        "param `w` in the store: expected f32[3], found f32[4]"
    );
}

#[test]
fn a_failed_run_leaves_the_store_unchanged() {
    let b = GraphBuilder::new("fail");
    let ids = b.input_i32("ids", &[1]);
    let table = b.param("table", &[2, 1], Init::Zeros);
    b.update("table", table + 1.0);
    b.output("row", table.index_select(0, ids));
    let g = b.build().unwrap();
    let mut store = env(&[("table", fl::<f32>(&[2, 1], &[5.0, 6.0]))]);
    let before = store.clone();
    let bad = env(&[("ids", int::<f32>(&[1], &[2]))]);
    let err = evaluate(&g, &bad, &mut store).unwrap_err();
    assert!(matches!(
        err,
        EvalError::IndexOutOfRange {
            index: 2,
            bound: 2,
            ..
        }
    ));
    assert_eq!(store, before);
}

#[test]
fn cycles_are_reported() {
    let mut g = Graph::new("cycle");
    let x = g
        .add(
            Op::Input {
                name: "x".into(),
                ty: TensorType::f32([2]),
            },
            &[],
        )
        .unwrap();
    let a = g.add(Op::Unary(UnaryOp::Neg), &[x]).unwrap();
    let b = g.add(Op::Unary(UnaryOp::Exp), &[a]).unwrap();
    g.set_operand(a, 0, b);
    let inputs = env(&[("x", fl::<f32>(&[2], &[1.0, 2.0]))]);
    let err = evaluate_all(&g, &inputs, &Env::new()).unwrap_err();
    assert!(err.to_string().contains("cycle"), "{err}");
}
