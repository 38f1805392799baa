//! Hand-built graphs that together use every op, every initializer and the
//! awkward corners of the text form (quoted names, i32 literals, negative
//! zero, NaN and infinities), shared by the text-form tests.

#![allow(dead_code)]

use kiln_ir::{
    BinaryOp, ConvParams, DType, Graph, GraphBuilder, Init, Literal, Op, PoolParams, ReduceOp,
    Shape, TensorType, UnaryOp,
};

/// Every elementwise op, reductions, constants and iota.
pub fn elementwise() -> Graph {
    let b = GraphBuilder::new("elementwise.v1-test");
    let x = b.input("data.x", &[2, 3]);
    let labels = b.input_i32("data.labels", &[2, 3]);
    for u in UnaryOp::ALL {
        b.apply(Op::Unary(u), &[x]);
        if u.accepts_i32() {
            b.apply(Op::Unary(u), &[labels]);
        }
    }
    for op in BinaryOp::ALL {
        b.apply(Op::Binary(op), &[x, x]);
        if op != BinaryOp::Pow {
            b.apply(Op::Binary(op), &[labels, labels]);
        }
    }
    let mask = x.gt(x.exp()).named("mask");
    let picked = mask.select(x, x.neg()).named("act.picked");
    let as_int = picked.cast(DType::I32);
    let back = (as_int + labels).cast(DType::F32);
    for op in ReduceOp::ALL {
        for (axes, keepdims) in [(vec![1], false), (vec![0, 1], true), (vec![], false)] {
            b.apply(Op::Reduce { op, axes, keepdims }, &[back]);
        }
    }
    let best = back.argmax(1);
    b.apply(
        Op::ArgMax {
            axis: 0,
            keepdims: true,
        },
        &[back],
    );
    b.output("best", best);
    b.output("loss", back.mean_all());

    for v in [
        -0.0,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        1e-8,
        -2.5,
        3.4028235e38,
    ] {
        b.scalar(v);
    }
    b.scalar_i32(-7);
    b.scalar_i32(i32::MIN);
    b.literal(Literal::i32([3], vec![-1, 0, i32::MAX]).unwrap());
    b.literal(Literal::f32([2, 2], vec![1.5, -2.0, f32::NAN, f32::NEG_INFINITY]).unwrap());
    b.literal(Literal::f32([1], vec![0.1]).unwrap());
    b.literal(Literal::f32([0], vec![]).unwrap());
    b.iota(&[2, 3], 1);
    b.iota_i32(&[4], 0).named("positions");
    b.build().unwrap()
}

/// Movement, gather/scatter, one-hot and every matmul variant.
pub fn movement() -> Graph {
    let b = GraphBuilder::new("movement");
    let x = b.input("x", &[2, 3, 4]);
    x.reshape(&[6, 4]);
    x.detach();
    x.permute(&[2, 0, 1]);
    let bias = b.param("bias", &[4], Init::Zeros);
    bias.broadcast_to(&[2, 3, 4]);
    x.slice_step(2, 1, 4, 2);
    x.pad_interior(2, 1, 2, 1, f32::NEG_INFINITY);
    x.pad(0, 0, 1, f32::NAN);
    x.pad(1, 3, 0, -0.0);
    b.concat(&[x, x, x], 1);
    b.concat(&[x], 0);

    let table = b.param("embedding.weight", &[10, 4], Init::normal(0.0, 0.02));
    let ids = b.input_i32("token_ids", &[2, 3]);
    let rows = table.index_select(0, ids).named("embedding");
    rows.scatter_add(0, ids, 10).named("embedding.grad");
    ids.one_hot(5);

    let a = b.input("a", &[2, 3, 4]);
    let c = b.input("c", &[2, 4, 5]);
    let ct = b.input("c_t", &[2, 5, 4]);
    let at = b.input("a_t", &[2, 4, 3]);
    a.matmul(c);
    a.matmul_t(ct, false, true);
    at.matmul_t(c, true, false);
    b.output("both", at.matmul_t(ct, true, true));
    b.build().unwrap()
}

/// Convolutions, pooling and their gradients, random ops, every
/// initializer, state, updates and names that need quoting.
pub fn convnet() -> Graph {
    let b = GraphBuilder::new("conv net \"small\"");
    let x = b.input("images", &[2, 4, 8, 8]);
    let w = b.param("conv1.weight", &[6, 2, 3, 3], Init::kaiming_normal(18));
    let p = ConvParams {
        stride: [2, 2],
        padding: [1, 1],
        dilation: [1, 1],
        groups: 2,
    };
    let y = x.conv2d(w, p).named("conv1");
    let dx = b.apply(
        Op::Conv2dInputGrad {
            conv: p,
            input_hw: [8, 8],
        },
        &[y, w],
    );
    let dw = b.apply(
        Op::Conv2dWeightGrad {
            conv: p,
            kernel_hw: [3, 3],
        },
        &[x, y],
    );
    let x2 = b.input("dilated.in", &[1, 2, 7, 7]);
    let w2 = b.param("dilated.weight", &[3, 2, 3, 3], Init::xavier_normal(18, 27));
    let dilated = ConvParams {
        dilation: [2, 2],
        ..ConvParams::default()
    };
    b.output("dilated", x2.conv2d(w2, dilated));

    let mp = x.max_pool2d(PoolParams::square(2));
    b.apply(Op::MaxPool2dGrad(PoolParams::square(2)), &[x, mp]);
    let pool = PoolParams {
        kernel: [3, 3],
        stride: [2, 2],
        padding: [1, 1],
    };
    let ap = x.avg_pool2d(pool);
    b.apply(
        Op::AvgPool2dGrad {
            pool,
            input_hw: [8, 8],
        },
        &[ap],
    );

    let counter = b.state("rng.counter", TensorType::i32(Shape::scalar()), Init::Zeros);
    let noise = b.random_uniform(counter, &[2, 3]);
    let keep = b.random_bernoulli(counter, &[4], 0.9);
    b.output("noise", noise);
    b.output("keep", keep);
    b.update("rng.counter", counter + 1.0);

    let step = b.state("opt.step", TensorType::i32(Shape::scalar()), Init::Ones);
    b.update("opt.step", step + 1.0);
    let inits = [
        Init::constant(-0.5),
        Init::constant(f32::NAN),
        Init::uniform(-0.1, 0.1),
        Init::uniform(f32::NEG_INFINITY, f32::INFINITY),
        Init::normal(0.0, 1.0),
        Init::xavier_uniform(4, 2),
        Init::kaiming_uniform(784),
        Init::torch_default(3),
    ];
    for (i, init) in inits.into_iter().enumerate() {
        b.param(&format!("init.{i}"), &[2], init);
    }
    b.state("bn.running_mean", TensorType::f32([4]), Init::constant(0.5));
    b.input("a \"quoted\" \\ name\twith\ttabs", &[1]);

    b.output("dx", dx);
    b.update("conv1.weight", w - dw * 0.1);
    b.build().unwrap()
}

/// The zoo.
pub fn all() -> Vec<Graph> {
    vec![elementwise(), movement(), convnet()]
}
