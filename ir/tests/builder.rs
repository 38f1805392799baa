//! The builder DSL: graphs it builds, and mistakes it reports at the user's line.

use kiln_ir::{DType, GraphBuilder, Init, Op, TensorType};

#[test]
fn lecture_graph_builds() {
    // f(x, y, z) = (x + y) * z, the lecture's computation-graph example.
    let b = GraphBuilder::new("lecture");
    let x = b.input("x", &[]);
    let y = b.input("y", &[]);
    let z = b.input("z", &[]);
    let q = (x + y).named("q");
    b.output("f", q * z);
    let g = b.build().unwrap();
    assert_eq!(g.len(), 6);
    let f = g.output("f").unwrap();
    assert!(matches!(g.op(f), Op::Binary(kiln_ir::BinaryOp::Mul)));
}

#[test]
fn broadcasting_inserts_explicit_nodes() {
    let b = GraphBuilder::new("bias");
    let x = b.input("x", &[4, 3]);
    let bias = b.param("b", &[3], Init::Zeros);
    let y = x + bias;
    assert_eq!(y.ty(), TensorType::f32([4, 3]));
    let g = b.build().unwrap();
    assert_eq!(g.find(|op| matches!(op, Op::Broadcast { .. })).len(), 1);
}

#[test]
fn scalars_become_constants_of_the_tensor_dtype() {
    let b = GraphBuilder::new("s");
    let c = b.input_i32("c", &[]);
    let next = c + 1.0;
    assert_eq!(next.dtype(), DType::I32);
    let x = b.input("x", &[2]);
    let y = 2.0 * x - 1.0;
    assert_eq!(y.ty(), TensorType::f32([2]));
    b.build().unwrap();
}

#[test]
fn matmul_with_rank2_weight_folds_batch_dims() {
    let b = GraphBuilder::new("m");
    let x = b.input("x", &[2, 5, 8]);
    let w = b.param("w", &[8, 3], Init::Zeros);
    assert_eq!(x.matmul(w).dims(), vec![2, 5, 3]);
    b.build().unwrap();
}

#[test]
fn shape_mismatch_names_op_shapes_and_line() {
    let b = GraphBuilder::new("bad");
    let x = b.input("x", &[128, 784]);
    let w = b.param("w", &[785, 256], Init::Zeros);
    let line = line!() + 1;
    let h = x.matmul(w).relu(); // the mistake is here
    let out = h + 1.0; // poisoned: no second error
    b.output("out", out);
    let err = b.build().unwrap_err();
    assert_eq!(err.op, "matmul");
    assert_eq!(err.location.line, line);
    assert!(err.location.file.ends_with("builder.rs"));
    let msg = err.to_string();
    assert!(
        msg.contains("f32[128,784]") && msg.contains("f32[785,256]"),
        "{msg}"
    );
}

#[test]
fn duplicate_names_are_mistakes() {
    let b = GraphBuilder::new("dup");
    b.input("x", &[1]);
    b.param("x", &[1], Init::Zeros);
    let err = b.build().unwrap_err();
    assert!(err.to_string().contains("already used"), "{err}");
}
