//! The text form round-trips: print -> parse -> print gives the same text and
//! an equal graph, for graphs that together use every op; parsing keeps ids as
//! written; and the parser never panics, whatever it is given.

mod common;

use kiln_ir::{Graph, NodeId, Op, parse, verify};
use proptest::prelude::*;
use std::collections::BTreeSet;

/// Prints, parses, prints again; both texts and both graphs must agree.
fn round_trip(graph: &Graph) {
    verify(graph).unwrap_or_else(|e| panic!("the test graph is invalid: {e}"));
    let text = graph.to_string();
    let parsed = parse(&text).unwrap_or_else(|e| panic!("{e}\nin:\n{text}"));
    assert_eq!(parsed.to_string(), text);
    assert!(
        parsed == *graph,
        "parsed graph differs from the original:\n{text}"
    );
    assert_eq!(verify(&parsed), Ok(()));
}

#[test]
fn elementwise_graph_round_trips() {
    round_trip(&common::elementwise());
}

#[test]
fn movement_graph_round_trips() {
    round_trip(&common::movement());
}

#[test]
fn convnet_graph_round_trips() {
    round_trip(&common::convnet());
}

#[test]
fn the_round_trip_graphs_use_every_op_and_initializer() {
    let mut ops = BTreeSet::new();
    let mut inits = BTreeSet::new();
    for g in common::all() {
        for node in g.nodes() {
            ops.insert(node.op.name());
            if let Op::Param { init, .. } | Op::State { init, .. } = &node.op {
                inits.insert(init.name());
            }
        }
    }
    let all: BTreeSet<&str> = Op::all_names().into_iter().collect();
    assert_eq!(ops, all);
    let all_inits: BTreeSet<&str> = [
        "zeros",
        "ones",
        "constant",
        "uniform",
        "normal",
        "xavier_uniform",
        "xavier_normal",
        "kaiming_uniform",
        "kaiming_normal",
    ]
    .into();
    assert_eq!(inits, all_inits);
}

#[test]
fn awkward_values_print_as_documented() {
    let text = common::elementwise().to_string() + &common::convnet().to_string();
    for line in [
        "= const -0.0",
        "= const nan",
        "= const -inf",
        "= const 1e-8",
        "i32[] = const -2147483648",
        "= const [-1, 0, 2147483647]",
        "= const [1.5, -2.0, nan, -inf]",
        "= const []",
        "init=constant(value=nan)",
        "init=uniform(low=-inf, high=inf)",
        "init=kaiming_normal(fan_in=18, gain=1.4142135)",
        "input \"a \\\"quoted\\\" \\\\ name\\twith\\ttabs\"",
        "graph \"conv net \\\"small\\\"\" {",
        "graph elementwise.v1-test {",
        "  ; act.picked",
    ] {
        assert!(text.contains(line), "no {line:?} in\n{text}");
    }
}

#[test]
fn parsing_keeps_ids_as_written() {
    let text = "graph ids {
  %0: f32[2] = input \"x\"
  %5: f32[2] = relu %0  ; hidden
  %9: f32[2] = add %0, %5
  output \"y\" = %9
}
";
    let g = parse(text).unwrap();
    assert_eq!(
        g.ids().collect::<Vec<_>>(),
        [0, 5, 9, 10].map(NodeId).to_vec()
    );
    assert_eq!(g.operands(NodeId(9)), vec![NodeId(0), NodeId(5)]);
    assert_eq!(g.node(NodeId(5)).name.as_deref(), Some("hidden"));
    assert_eq!(g.to_string(), text);
}

#[test]
fn text_order_is_free_but_printing_is_topological() {
    // Written out of id order; prints in topological order, ties by id.
    let text = "graph g {
  %7: f32[] = input \"b\"
  %3: f32[] = input \"a\"
  %1: f32[] = sub %7, %3
  update \"s\" <- %1
  %0: f32[] = state \"s\" init=zeros
  output \"d\" = %1
}
";
    let g = parse(text).unwrap();
    assert_eq!(
        g.to_string(),
        "graph g {
  %0: f32[] = state \"s\" init=zeros
  %3: f32[] = input \"a\"
  %7: f32[] = input \"b\"
  %1: f32[] = sub %7, %3
  update \"s\" <- %1
  output \"d\" = %1
}
"
    );
    assert_eq!(verify(&g), Ok(()));
}

#[test]
fn a_compacted_graph_still_round_trips() {
    let mut g = common::movement();
    g.compact();
    round_trip(&g);
}

// ----- the parser never panics ------------------------------------------------------

/// Fragments worth splicing into valid text: limits, signs, punctuation,
/// keywords and odd characters.
const FRAGMENTS: &[&str] = &[
    "99999999999999999999999",
    "4294967295",
    "2147483648",
    "2147483647",
    "16777216",
    "%16777215",
    "%4294967295",
    "-",
    "-1",
    "%",
    "\"",
    "\\",
    "[",
    "]",
    "(",
    ")",
    ",",
    "=",
    ":",
    "inf",
    "-inf",
    "nan",
    "1e99",
    "1e-99",
    "\n",
    "; x\n",
    "<-",
    "<",
    "{",
    "}",
    "f32[",
    "i32[]",
    "f32[2147483647,2147483647,2147483647]",
    "true",
    "axis=",
    "keepdims=true",
    "\\u{d800}",
    "\\u{110000}",
    "é",
    "\r",
    "\t",
    " ",
    "output \"y\" = %0",
    "update \"w\" <- %0",
];

#[derive(Clone, Debug)]
enum Mutation {
    Delete(usize),
    Insert(usize, u8),
    Replace(usize, u8),
    Splice(usize, &'static str),
    /// Copies `len` bytes from one place to another.
    Duplicate(usize, usize, usize),
    /// Moves a whole line elsewhere (mostly still valid text).
    MoveLine(usize, usize),
    /// Deletes a whole line.
    DeleteLine(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        (any::<usize>(), proptest::sample::select(FRAGMENTS))
            .prop_map(|(i, s)| Mutation::Splice(i, s)),
        (any::<usize>(), any::<usize>(), 1..80usize)
            .prop_map(|(from, to, len)| Mutation::Duplicate(from, to, len)),
        (any::<usize>(), any::<usize>()).prop_map(|(from, to)| Mutation::MoveLine(from, to)),
        any::<usize>().prop_map(Mutation::DeleteLine),
    ]
}

fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for m in mutations {
        let at = |i: usize, extra: usize| i % (bytes.len() + extra).max(1);
        match *m {
            Mutation::Delete(i) if !bytes.is_empty() => {
                bytes.remove(at(i, 0));
            }
            Mutation::Insert(i, b) => bytes.insert(at(i, 1), b),
            Mutation::Replace(i, b) if !bytes.is_empty() => {
                let i = at(i, 0);
                bytes[i] = b;
            }
            Mutation::Splice(i, s) => {
                let i = at(i, 1);
                bytes.splice(i..i, s.bytes());
            }
            Mutation::Duplicate(from, to, len) if !bytes.is_empty() => {
                let from = at(from, 0);
                let chunk = bytes[from..(from + len).min(bytes.len())].to_vec();
                let to = at(to, 1);
                bytes.splice(to..to, chunk);
            }
            Mutation::MoveLine(from, to) => {
                let mut lines: Vec<Vec<u8>> =
                    bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                let line = lines.remove(from % lines.len());
                lines.insert(to % (lines.len() + 1), line);
                bytes = lines.join(&b'\n');
            }
            Mutation::DeleteLine(i) => {
                let mut lines: Vec<Vec<u8>> =
                    bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                lines.remove(i % lines.len());
                bytes = lines.join(&b'\n');
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Whatever parses must print to text that parses back to an equal graph.
fn check(src: &str) -> Result<(), TestCaseError> {
    if let Ok(g) = parse(src) {
        let text = g.to_string();
        let again = parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert!(again == g, "reparsed graph differs:\n{}", text);
        prop_assert_eq!(again.to_string(), text);
    }
    Ok(())
}

proptest! {
    #[test]
    fn parser_survives_arbitrary_text(src in ".*") {
        check(&src)?;
    }

    #[test]
    fn parser_survives_token_soup(
        tokens in proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..40)
    ) {
        check(&format!("graph g {{\n{}\n}}\n", tokens.join(" ")))?;
    }

    #[test]
    fn parser_survives_mutated_valid_text(
        which in 0..3usize,
        mutations in proptest::collection::vec(mutation(), 1..4)
    ) {
        let text = common::all()[which].to_string();
        check(&mutate(&text, &mutations))?;
    }
}
