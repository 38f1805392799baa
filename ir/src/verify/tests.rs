//! One broken graph per invariant, each asserting the specific error.

use super::*;
use crate::op::{BinaryOp, Init, UnaryOp};
use crate::shape::TensorType;
use crate::{GraphBuilder, parse};

const RELU: Op = Op::Unary(UnaryOp::Relu);

/// `x: f32[2]`, `y = relu x`, `output "y" = y`.
fn small() -> (Graph, NodeId, NodeId) {
    let mut g = Graph::new("g");
    let x = g
        .add(
            Op::Input {
                name: "x".into(),
                ty: TensorType::f32([2]),
            },
            &[],
        )
        .unwrap();
    let y = g.add(RELU, &[x]).unwrap();
    g.add(Op::Output { name: "y".into() }, &[y]).unwrap();
    (g, x, y)
}

fn param(g: &mut Graph, name: &str, shape: &[usize]) -> NodeId {
    let op = Op::Param {
        name: name.into(),
        ty: TensorType::f32(shape),
        init: Init::Zeros,
    };
    g.add(op, &[]).unwrap()
}

/// The errors as `(node, message)`.
fn errors(g: &Graph) -> Vec<(NodeId, String)> {
    match verify(g) {
        Ok(()) => Vec::new(),
        Err(VerifyErrors(es)) => {
            for e in &es {
                let id = e.node.expect("every error names a node");
                assert_eq!(e.context, node_line(g, id));
            }
            es.into_iter()
                .map(|e| (e.node.unwrap(), e.message))
                .collect()
        }
    }
}

fn assert_one_error(g: &Graph, node: NodeId, contains: &str) {
    let es = errors(g);
    assert_eq!(es.len(), 1, "{es:?}");
    assert_eq!(es[0].0, node, "{es:?}");
    assert!(
        es[0].1.contains(contains),
        "{:?} lacks {contains:?}",
        es[0].1
    );
}

#[test]
fn a_built_graph_is_valid() {
    let b = GraphBuilder::new("ok");
    let x = b.input("x", &[3, 2]);
    let w = b.param("w", &[2, 2], Init::xavier_uniform(2, 2));
    let y = x.matmul(w).tanh();
    b.output("y", y);
    b.update("w", w * 0.5);
    let g = b.build().unwrap();
    assert_eq!(verify(&g), Ok(()));
    assert_eq!(verify(&parse(&g.to_string()).unwrap()), Ok(()));
}

#[test]
fn cycles_name_the_nodes_on_and_behind_them() {
    let (mut g, x, y) = small();
    let z = g.add(RELU, &[y]).unwrap();
    let behind = g.add(RELU, &[z]).unwrap();
    g.set_operand(y, 0, z);
    assert_one_error(&g, y, "on a cycle through %1, %3");
    assert!(
        errors(&g)[0]
            .1
            .contains(&format!("2 node(s) depend on a cycle: %2, {behind}"))
    );
    // A self-loop is a cycle too.
    let (mut g, _, y) = small();
    g.set_operand(y, 0, y);
    assert_one_error(&g, y, "on a cycle through %1");
    let _ = x;
}

#[test]
fn operand_positions_must_be_dense() {
    let (mut g, x, y) = small();
    g.set_operand(y, 2, x);
    g.rewrite(y, RELU, TensorType::f32([2]), &[]);
    g.set_operand(y, 1, x);
    assert_eq!(g.operand_edges(y), vec![(1, x)]);
    assert_one_error(&g, y, "operand positions are [1], expected 0..1");
}

#[test]
fn operand_count_must_match_the_arity() {
    let (mut g, x, _) = small();
    let bad = g.add_typed(RELU, TensorType::f32([2]), &[x, x]);
    assert_one_error(&g, bad, "`relu` takes 1 operand(s), found 2");
    let (mut g, _, _) = small();
    let empty = g.add_typed(Op::Concat { axis: 0 }, TensorType::f32([2]), &[]);
    assert_one_error(&g, empty, "`concat` takes at least 1 operand, found 0");
}

#[test]
fn stored_types_must_be_what_infer_gives() {
    let (mut g, x, _) = small();
    let bad = g.add_typed(RELU, TensorType::f32([3]), &[x]);
    assert_one_error(
        &g,
        bad,
        "stored type is f32[3], but `relu` of (%0: f32[2]) gives f32[2]",
    );
    let (mut g, x, _) = small();
    let other = g
        .add(
            Op::Input {
                name: "z".into(),
                ty: TensorType::f32([3]),
            },
            &[],
        )
        .unwrap();
    let bad = g.add_typed(Op::Binary(BinaryOp::Add), TensorType::f32([2]), &[x, other]);
    assert_one_error(
        &g,
        bad,
        "`add` cannot take (%0: f32[2], %3: f32[3]): operands must have equal shapes",
    );
}

#[test]
fn sinks_have_no_users() {
    let (mut g, _, _) = small();
    let out = g.outputs()[0];
    let user = g.add_typed(RELU, TensorType::f32([2]), &[out]);
    assert_one_error(
        &g,
        out,
        &format!("`output` is a sink, but {user} use(s) it"),
    );
}

#[test]
fn outputs_have_unique_names() {
    let (mut g, x, _) = small();
    let second = g.add(Op::Output { name: "y".into() }, &[x]).unwrap();
    assert_one_error(
        &g,
        second,
        "a second output called `y` (the first one returns %1)",
    );
}

#[test]
fn source_names_are_unique_across_kinds() {
    let (mut g, x, _) = small();
    let p = param(&mut g, "x", &[2]);
    assert_one_error(
        &g,
        p,
        &format!("the name `x` is already used by {x} (input)"),
    );
}

#[test]
fn updates_target_an_existing_param_or_state() {
    let (mut g, x, _) = small();
    let u = g.add(Op::Update { target: "w".into() }, &[x]).unwrap();
    assert_one_error(
        &g,
        u,
        "updates `w`, but there is no param or state called `w`",
    );
}

#[test]
fn updates_may_not_target_inputs() {
    let (mut g, _, y) = small();
    let u = g.add(Op::Update { target: "x".into() }, &[y]).unwrap();
    assert_one_error(
        &g,
        u,
        "updates input `x` (%0), but inputs are fed on every run",
    );
}

#[test]
fn updates_write_the_target_type() {
    let (mut g, x, _) = small();
    let w = param(&mut g, "w", &[3]);
    let u = g.add(Op::Update { target: "w".into() }, &[x]).unwrap();
    assert_one_error(
        &g,
        u,
        &format!("writes %0: f32[2] into `w` ({w}), which is f32[3]"),
    );
}

#[test]
fn each_target_is_updated_once() {
    let (mut g, x, y) = small();
    param(&mut g, "w", &[2]);
    g.add(Op::Update { target: "w".into() }, &[x]).unwrap();
    let second = g.add(Op::Update { target: "w".into() }, &[y]).unwrap();
    assert_one_error(
        &g,
        second,
        "`w` is updated twice (the first update writes %0)",
    );
}

#[test]
fn every_error_is_reported_at_once() {
    let (mut g, x, _) = small();
    g.add_typed(RELU, TensorType::f32([3]), &[x]);
    g.add(
        Op::Update {
            target: "nope".into(),
        },
        &[x],
    )
    .unwrap();
    param(&mut g, "x", &[2]);
    assert_eq!(errors(&g).len(), 3);
}
