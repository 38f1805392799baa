//! One test per op family: the type `infer` gives on valid operands, and the
//! error (with expected and found) on invalid ones.

use super::*;
use crate::literal::{Float, Literal};
use crate::op::{Init, UnaryOp};

fn f(dims: &[usize]) -> TensorType {
    TensorType::f32(dims)
}

fn i(dims: &[usize]) -> TensorType {
    TensorType::i32(dims)
}

fn err(op: &Op, operands: &[TensorType]) -> String {
    infer(op, operands)
        .expect_err("expected a type error")
        .to_string()
}

#[test]
fn sources_have_their_declared_types() {
    let ty = f(&[2, 3]);
    assert_eq!(
        infer(
            &Op::Input {
                name: "x".into(),
                ty: ty.clone()
            },
            &[]
        ),
        Ok(ty.clone())
    );
    let p = Op::Param {
        name: "w".into(),
        ty: ty.clone(),
        init: Init::kaiming_uniform(3),
    };
    assert_eq!(infer(&p, &[]), Ok(ty.clone()));
    let bad = Op::State {
        name: "t".into(),
        ty: i(&[]),
        init: Init::normal(0.0, 1.0),
    };
    assert!(err(&bad, &[]).contains("cannot fill a i32"));
    let c = Op::Const {
        value: Literal::i32([2], vec![1, 2]).unwrap(),
    };
    assert_eq!(infer(&c, &[]), Ok(i(&[2])));
    assert!(
        err(
            &Op::Iota {
                ty: f(&[2]),
                axis: 1
            },
            &[]
        )
        .contains("out of range")
    );
    assert!(err(&p, &[f(&[1])]).contains("expected 0 operand(s), found 1"));
}

#[test]
fn sinks_pass_their_operand_type_through() {
    assert_eq!(
        infer(&Op::Output { name: "y".into() }, &[i(&[4])]),
        Ok(i(&[4]))
    );
    assert!(err(&Op::Update { target: "w".into() }, &[]).contains("expected 1"));
}

#[test]
fn unary_ops_keep_the_type_and_mostly_need_f32() {
    assert_eq!(infer(&Op::Unary(UnaryOp::Exp), &[f(&[3])]), Ok(f(&[3])));
    assert_eq!(infer(&Op::Unary(UnaryOp::Neg), &[i(&[3])]), Ok(i(&[3])));
    assert_eq!(
        err(&Op::Unary(UnaryOp::Log), &[i(&[3])]),
        "the operand must be f32, found i32[3]"
    );
}

#[test]
fn binary_ops_need_equal_types_and_comparisons_give_f32() {
    let add = Op::Binary(BinaryOp::Add);
    assert_eq!(infer(&add, &[i(&[2]), i(&[2])]), Ok(i(&[2])));
    assert_eq!(
        infer(&Op::Binary(BinaryOp::Lt), &[i(&[2]), i(&[2])]),
        Ok(f(&[2]))
    );
    assert!(err(&add, &[f(&[2]), f(&[3])]).contains("found [2] and [3]"));
    assert!(err(&add, &[f(&[2]), i(&[2])]).contains("found f32 and i32"));
    assert!(err(&Op::Binary(BinaryOp::Pow), &[i(&[2]), i(&[2])]).contains("must be f32"));
}

#[test]
fn where_and_cast() {
    assert_eq!(infer(&Op::Where, &[f(&[2]), i(&[2]), i(&[2])]), Ok(i(&[2])));
    assert!(err(&Op::Where, &[i(&[2]), f(&[2]), f(&[2])]).contains("condition must be f32"));
    assert!(err(&Op::Where, &[f(&[2]), f(&[2]), f(&[3])]).contains("equal shapes"));
    assert_eq!(
        infer(&Op::Cast { to: DType::I32 }, &[f(&[2, 2])]),
        Ok(i(&[2, 2]))
    );
}

#[test]
fn reductions_drop_or_keep_axes() {
    let sum = |axes: Vec<usize>, keepdims| Op::Reduce {
        op: ReduceOp::Sum,
        axes,
        keepdims,
    };
    assert_eq!(
        infer(&sum(vec![1], false), &[f(&[2, 3, 4])]),
        Ok(f(&[2, 4]))
    );
    assert_eq!(
        infer(&sum(vec![0, 2], true), &[f(&[2, 3, 4])]),
        Ok(f(&[1, 3, 1]))
    );
    assert_eq!(infer(&sum(vec![], false), &[f(&[2])]), Ok(f(&[2])));
    assert!(err(&sum(vec![3], false), &[f(&[2, 3, 4])]).contains("axis 3 is out of range"));
    assert!(err(&sum(vec![1, 0], false), &[f(&[2, 3])]).contains("sorted and unique"));
    let mean = Op::Reduce {
        op: ReduceOp::Mean,
        axes: vec![0],
        keepdims: false,
    };
    assert!(err(&mean, &[i(&[2])]).contains("must be f32"));
    let am = Op::ArgMax {
        axis: 1,
        keepdims: false,
    };
    assert_eq!(infer(&am, &[f(&[4, 10])]), Ok(i(&[4])));
}

#[test]
fn movement_ops() {
    let reshape = Op::Reshape {
        shape: Shape::from([6]),
    };
    assert_eq!(infer(&reshape, &[f(&[2, 3])]), Ok(f(&[6])));
    assert!(err(&reshape, &[f(&[2, 4])]).contains("(8 elements) to [6] (6 elements)"));
    assert_eq!(
        infer(
            &Op::Permute {
                perm: vec![2, 0, 1]
            },
            &[f(&[2, 3, 4])]
        ),
        Ok(f(&[4, 2, 3]))
    );
    assert!(err(&Op::Permute { perm: vec![0, 0] }, &[f(&[2, 3])]).contains("permutation"));
    let bc = Op::Broadcast {
        shape: Shape::from([4, 2, 3]),
    };
    assert_eq!(infer(&bc, &[f(&[1, 3])]), Ok(f(&[4, 2, 3])));
    assert!(err(&bc, &[f(&[3, 3])]).contains("does not broadcast"));
    let slice = Op::Slice {
        axis: 1,
        start: 1,
        end: 6,
        step: 2,
    };
    assert_eq!(infer(&slice, &[f(&[2, 6])]), Ok(f(&[2, 3])));
    assert!(err(&slice, &[f(&[2, 5])]).contains("end <= 5"));
    let pad = Op::Pad {
        axis: 0,
        low: 1,
        high: 2,
        interior: 1,
        value: Float(0.0),
    };
    assert_eq!(infer(&pad, &[f(&[3])]), Ok(f(&[1 + 3 + 2 + 2])));
    let cat = Op::Concat { axis: 1 };
    assert_eq!(infer(&cat, &[f(&[2, 3]), f(&[2, 5])]), Ok(f(&[2, 8])));
    assert!(err(&cat, &[f(&[2, 3]), f(&[3, 5])]).contains("operand 1 is f32[3,5]"));
    assert!(err(&cat, &[]).contains("at least 1"));
}

#[test]
fn gather_scatter_one_hot() {
    let g = Op::Gather { axis: 0 };
    assert_eq!(
        infer(&g, &[f(&[256, 128]), i(&[32, 64])]),
        Ok(f(&[32, 64, 128]))
    );
    assert!(err(&g, &[f(&[256, 128]), f(&[32])]).contains("indices must be i32"));
    let s = Op::ScatterAdd { axis: 0, size: 256 };
    assert_eq!(
        infer(&s, &[f(&[32, 64, 128]), i(&[32, 64])]),
        Ok(f(&[256, 128]))
    );
    assert!(err(&s, &[f(&[32, 128]), i(&[32, 64])]).contains("must contain"));
    assert_eq!(
        infer(&Op::OneHot { depth: 10 }, &[i(&[128])]),
        Ok(f(&[128, 10]))
    );
}

#[test]
fn matmul_checks_ranks_batches_and_inner_dims() {
    let mm = |tl, tr| Op::MatMul {
        transpose_lhs: tl,
        transpose_rhs: tr,
    };
    assert_eq!(
        infer(&mm(false, false), &[f(&[128, 784]), f(&[784, 256])]),
        Ok(f(&[128, 256]))
    );
    assert_eq!(
        infer(&mm(true, false), &[f(&[784, 128]), f(&[784, 256])]),
        Ok(f(&[128, 256]))
    );
    assert_eq!(
        infer(&mm(false, true), &[f(&[4, 2, 3]), f(&[4, 5, 3])]),
        Ok(f(&[4, 2, 5]))
    );
    assert_eq!(
        err(&mm(false, false), &[f(&[128, 784]), f(&[785, 256])]),
        "inner dimensions differ: lhs [128,784] gives k = 784, rhs [785,256] gives k = 785"
    );
    assert!(err(&mm(false, false), &[f(&[2, 2, 2]), f(&[2, 2])]).contains("equal rank"));
    assert!(err(&mm(false, false), &[f(&[2, 2, 2]), f(&[3, 2, 2])]).contains("batch"));
}

#[test]
fn conv_and_its_gradients() {
    let p = ConvParams {
        stride: [2, 2],
        padding: [1, 1],
        dilation: [1, 1],
        groups: 1,
    };
    let conv = Op::Conv2d(p);
    let (x, w) = (f(&[8, 3, 32, 32]), f(&[16, 3, 5, 5]));
    let y = f(&[8, 16, 15, 15]);
    assert_eq!(infer(&conv, &[x.clone(), w.clone()]), Ok(y.clone()));
    let ig = Op::Conv2dInputGrad {
        conv: p,
        input_hw: [32, 32],
    };
    assert_eq!(infer(&ig, &[y.clone(), w.clone()]), Ok(x.clone()));
    let wg = Op::Conv2dWeightGrad {
        conv: p,
        kernel_hw: [5, 5],
    };
    assert_eq!(infer(&wg, &[x.clone(), y.clone()]), Ok(w.clone()));
    let bad_ig = Op::Conv2dInputGrad {
        conv: p,
        input_hw: [20, 20],
    };
    assert!(err(&bad_ig, &[y, w]).contains("gives 9x9"));
    assert!(err(&conv, &[f(&[8, 4, 32, 32]), f(&[16, 3, 5, 5])]).contains("input has 4"));
    let grouped = Op::Conv2d(ConvParams {
        groups: 2,
        ..ConvParams::default()
    });
    assert_eq!(
        infer(&grouped, &[f(&[1, 4, 5, 5]), f(&[6, 2, 3, 3])]),
        Ok(f(&[1, 6, 3, 3]))
    );
    assert!(err(&conv, &[f(&[1, 3, 2, 2]), f(&[1, 3, 5, 5])]).contains("does not fit"));
}

#[test]
fn pooling_and_its_gradients() {
    let p = PoolParams::square(2);
    assert_eq!(
        infer(&Op::MaxPool2d(p), &[f(&[1, 6, 28, 28])]),
        Ok(f(&[1, 6, 14, 14]))
    );
    assert_eq!(
        infer(
            &Op::MaxPool2dGrad(p),
            &[f(&[1, 6, 28, 28]), f(&[1, 6, 14, 14])]
        ),
        Ok(f(&[1, 6, 28, 28]))
    );
    assert!(
        err(
            &Op::MaxPool2dGrad(p),
            &[f(&[1, 6, 28, 28]), f(&[1, 6, 13, 14])]
        )
        .contains("must be")
    );
    let ag = Op::AvgPool2dGrad {
        pool: p,
        input_hw: [28, 28],
    };
    assert_eq!(infer(&ag, &[f(&[1, 6, 14, 14])]), Ok(f(&[1, 6, 28, 28])));
    let padded = PoolParams {
        kernel: [2, 2],
        stride: [2, 2],
        padding: [2, 2],
    };
    assert!(err(&Op::AvgPool2d(padded), &[f(&[1, 1, 4, 4])]).contains("at most half"));
}

#[test]
fn random_ops_take_a_scalar_counter() {
    let u = Op::RandomUniform {
        shape: Shape::from([4, 4]),
        seed: 1,
    };
    assert_eq!(infer(&u, &[i(&[])]), Ok(f(&[4, 4])));
    assert!(err(&u, &[f(&[])]).contains("i32 scalar"));
    let b = Op::RandomBernoulli {
        shape: Shape::from([4]),
        p: Float(1.5),
        seed: 1,
    };
    assert!(err(&b, &[i(&[])]).contains("p must be in [0, 1]"));
}
