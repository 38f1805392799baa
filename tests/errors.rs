//! Error messages a user sees, pinned by snapshots: each says what was
//! expected, what was found, and where.

use kiln::prelude::*;
use kiln_compiler::{Changed, Pass, PassCx, PassError, PassManager, Pipeline, Report};

#[test]
fn dsl_shape_mismatch_names_the_op_both_shapes_and_the_users_line() {
    let b = GraphBuilder::new("mlp");
    let x = b.input("x", &[128, 784]);
    let fc1 = nn::Linear::new(&b, "fc1", 785, 256);
    let h = fc1.forward(x).relu();
    b.output("h", h);
    let err = b.build().expect_err("the shapes do not fit");
    insta::assert_snapshot!(err.to_string(), @"matmul at tests/errors.rs:12:17: inner dimensions differ: lhs [128,784] gives k = 784, rhs [785,256] gives k = 785 (operands: f32[128,784], f32[785,256])");
}

#[test]
fn broadcast_mismatch_in_an_operator() {
    let b = GraphBuilder::new("g");
    let x = b.input("x", &[4, 3]);
    let y = b.input("y", &[4]);
    b.output("z", x + y);
    let err = b.build().expect_err("[4,3] + [4] does not broadcast");
    insta::assert_snapshot!(err.to_string(), @"add at tests/errors.rs:23:19: shapes [4,3] and [4] do not broadcast together (operands: f32[4,3], f32[4])");
}

/// A pass that breaks the graph on purpose: it changes a node's type.
struct Breaker;

impl Pass for Breaker {
    fn name(&self) -> &'static str {
        "breaker"
    }

    fn run(&self, graph: &mut Graph, _cx: &mut PassCx) -> Result<Changed, PassError> {
        let relu = graph.find(|op| op.name() == "relu")[0];
        graph.node_mut(relu).ty = TensorType::f32([2, 2]);
        Ok(Changed::Yes)
    }
}

#[test]
fn a_pass_that_breaks_the_graph_is_named_and_the_error_shown_inline() {
    let mut graph = kiln_ir::parse(
        "graph g {\n  %0: f32[3] = input \"x\"\n  %1: f32[3] = relu %0\n  %2: f32[3] = exp %1\n  output \"y\" = %2\n}\n",
    )
    .expect("valid text");
    let mut manager = PassManager::new(Pipeline::none()).with_verify(true);
    let err = manager
        .run_pass(&Breaker, &mut graph, &mut Report::default())
        .expect_err("the verifier catches it");
    insta::assert_snapshot!(err.to_string());
}

#[test]
fn autodiff_names_every_param_without_a_gradient_and_where_the_path_breaks() {
    let b = GraphBuilder::new("g");
    let x = b.input("x", &[4, 3]);
    let w = b.param("w", &[3, 2], Init::Zeros);
    let unused = b.param("unused", &[2], Init::Zeros);
    let gate = b.param("gate", &[4, 2], Init::Zeros);
    let picked = gate.argmax(1).cast(DType::F32).reshape(&[4, 1]);
    let loss = (x.matmul(w) * picked).sum_all();
    b.output("loss", loss);
    b.output("other", unused * 2.0);
    let graph = b.build().expect("valid graph");
    let options = kiln_compiler::Options::train(kiln_compiler::TrainConfig::new(
        "loss",
        kiln_compiler::Optimizer::sgd(0.1),
    ));
    let err = kiln_compiler::compile(&graph, &options).expect_err("two params get no gradient");
    insta::assert_snapshot!(err.to_string());
}

#[test]
fn layers_report_a_wrong_input_rank_instead_of_panicking() {
    let b = GraphBuilder::new("g");
    let x = b.input("x", &[8, 16]);
    let attn = nn::MultiHeadAttention::new(&b, "attn", 16, 4);
    b.output("y", attn.forward(x, x, None));
    let err = b.build().expect_err("attention needs [B, T, D]");
    assert!(
        err.to_string()
            .contains("expects a rank-3 input, found f32[8,16]"),
        "{err}"
    );
}

#[test]
fn bad_hyperparameters_are_build_errors() {
    let b = GraphBuilder::new("g");
    let x = b.input("x", &[2, 3, 8]);
    let attn = nn::MultiHeadAttention::new(&b, "attn", 8, 3);
    b.output("y", attn.forward(x, x, None));
    let err = b.build().expect_err("3 heads do not divide 8");
    assert!(
        err.to_string().contains("3 heads must divide d_model = 8"),
        "{err}"
    );

    let b = GraphBuilder::new("g");
    let x = b.input("x", &[4]);
    let drop = nn::Dropout::new(&b, "drop", 1.5, Mode::Train);
    b.output("y", drop.forward(x));
    let err = b.build().expect_err("p = 1.5 is no probability");
    assert!(
        err.to_string().contains("must be in [0, 1], found 1.5"),
        "{err}"
    );
}

#[test]
fn dropout_of_everything_gives_zeros() {
    let b = GraphBuilder::new("g");
    let x = b.input("x", &[4]);
    let drop = nn::Dropout::new(&b, "drop", 1.0, Mode::Train);
    b.output("y", drop.forward(x));
    let graph = b.build().expect("valid");
    let mut session = kiln::session(&graph, 0).expect("compiles");
    let xs = [1.0, -2.0, 3.0, 4.0];
    let out = session
        .run(&[("x", TensorRef::f32(&[4], &xs))])
        .expect("runs");
    assert_eq!(out.get("y").and_then(|t| t.as_f32()).expect("y"), &[0.0; 4]);
}
