//! Snapshots of what people read when something is wrong or when they look at
//! a graph: parse errors, verifier errors shown in the printed graph, and the
//! Graphviz output.

mod common;

use kiln_ir::text::to_dot;
use kiln_ir::verify::render_errors;
use kiln_ir::{Graph, GraphBuilder, Init, Op, TensorType, UnaryOp, parse, verify};

/// The error for `src`, shown under the line it points at, with a caret at
/// its column; the snapshot then shows at a glance that line and column are right.
fn parse_error(src: &str) -> String {
    let err = parse(src).expect_err("the text should not parse");
    let line = src.lines().nth(err.line - 1).unwrap_or("");
    let caret = " ".repeat(err.column - 1);
    format!(
        "{src}\n---\nerror: {err}\n{:>4} | {line}\n     | {caret}^\n",
        err.line
    )
}

const HEADER: &str = "graph g {\n  %0: f32[2,3] = input \"x\"\n  %1: f32[2,3] = input \"y\"\n";

fn body(lines: &str) -> String {
    format!("{HEADER}{lines}}}\n")
}

#[test]
fn unknown_op() {
    insta::assert_snapshot!(parse_error(&body("  %2: f32[2,3] = relux %0\n")));
}

#[test]
fn declared_type_differs_from_inferred() {
    insta::assert_snapshot!(parse_error(&body("  %2: f32[2,4] = add %0, %1\n")));
}

#[test]
fn operands_the_op_cannot_take() {
    insta::assert_snapshot!(parse_error(&body("  %2: f32[2,2] = matmul %0, %1\n")));
}

#[test]
fn wrong_operand_count() {
    insta::assert_snapshot!(parse_error(&body("  %2: f32[2,3] = add %0\n")));
}

#[test]
fn undefined_operand() {
    insta::assert_snapshot!(parse_error(&body("  %2: f32[2,3] = relu %7\n")));
}

#[test]
fn duplicate_id() {
    insta::assert_snapshot!(parse_error(&body("  %1: f32[2,3] = relu %0\n")));
}

#[test]
fn missing_attribute() {
    insta::assert_snapshot!(parse_error(&body(
        "  %2: f32[2,1] = slice %0 axis=1 start=0 step=1  ; cut\n"
    )));
}

#[test]
fn unknown_attribute() {
    insta::assert_snapshot!(parse_error(&body(
        "  %2: f32[2] = reduce_sum %0 axes=[1] keep=true\n"
    )));
}

#[test]
fn bad_number() {
    insta::assert_snapshot!(parse_error(&body(
        "  %2: f32[2] = reduce_sum %0 axes=[1.5]\n"
    )));
}

#[test]
fn bad_initializer() {
    insta::assert_snapshot!(parse_error(&body(
        "  %2: f32[3] = param \"w\" init=kaiming_uniform(fan_in=3)\n"
    )));
}

#[test]
fn wrong_number_of_const_elements() {
    insta::assert_snapshot!(parse_error(&body("  %2: i32[2,2] = const [1, -2, 3]\n")));
}

#[test]
fn unterminated_string() {
    insta::assert_snapshot!(parse_error("graph g {\n  %0: f32[2] = input \"x\n}\n"));
}

#[test]
fn sink_written_with_an_id() {
    insta::assert_snapshot!(parse_error(&body("  %2: f32[2,3] = output \"y\" %0\n")));
}

#[test]
fn missing_closing_brace() {
    insta::assert_snapshot!(parse_error(
        "graph g {\n  %0: f32[2] = input \"x\"\n  output \"x\" = %0\n"
    ));
}

/// A graph with a node whose stored type is wrong and an update of a param
/// that does not exist, as a pass might leave it.
fn broken_graph() -> Graph {
    let b = GraphBuilder::new("broken");
    let x = b.input("x", &[4, 3]);
    let w = b.param("w", &[3, 2], Init::xavier_uniform(3, 2));
    let h = x.matmul(w).named("fc");
    b.output("h", h);
    let mut g = b.build().unwrap();
    let h = g.output("h").unwrap();
    let bad = g.add_typed(Op::Unary(UnaryOp::Relu), TensorType::f32([4, 3]), &[h]);
    g.add_typed(
        Op::Update { target: "v".into() },
        TensorType::f32([4, 3]),
        &[bad],
    );
    g
}

#[test]
fn verifier_errors_in_the_printed_graph() {
    let g = broken_graph();
    let errors = verify(&g).expect_err("the graph is broken").0;
    assert_eq!(errors.len(), 2);
    insta::assert_snapshot!(render_errors(&g, &errors));
}

fn tiny() -> Graph {
    let b = GraphBuilder::new("tiny \"dot\"");
    let x = b.input("x", &[2, 3]);
    let w = b.param("fc.weight", &[3, 4], Init::Zeros);
    let h = x.matmul(w).named("fc \"1\"").relu();
    b.output("y", h);
    b.build().unwrap()
}

#[test]
fn graphviz_output() {
    insta::assert_snapshot!(to_dot(&tiny()));
}

/// Renders the dot output with Graphviz when it is installed.
#[test]
fn graphviz_accepts_the_output() {
    for g in [tiny(), broken_graph()].into_iter().chain(common::all()) {
        let dot = to_dot(&g);
        let Some(svg) = render_svg(&dot) else {
            // CI installs Graphviz and sets KILN_REQUIRE_DOT=1, so it never skips.
            let required = std::env::var("KILN_REQUIRE_DOT").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "KILN_REQUIRE_DOT=1 but graphviz `dot` cannot be run"
            );
            eprintln!("graphviz `dot` is not installed; skipping the render check");
            return;
        };
        assert!(svg.contains("<svg"), "{svg}");
    }
}

/// `dot -Tsvg` of `dot`, or `None` when Graphviz is not installed (it is a
/// system tool, not a crate). Fails the test if Graphviz rejects the input or
/// warns about it.
fn render_svg(dot: &str) -> Option<String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(dot.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.is_empty(), "{stderr}\n{dot}");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}
