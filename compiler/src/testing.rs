//! Test helpers: run one pass on `.kir` text and snapshot the result.

use crate::pass::PassCx;
use crate::passes;

/// Parses and verifies `input`, runs the pass `name` alone, verifies again and
/// returns the printed graph.
pub fn run_one(name: &str, input: &str) -> String {
    let mut graph =
        kiln_ir::parse(input).unwrap_or_else(|e| panic!("test input does not parse: {e}"));
    if let Err(e) = kiln_ir::verify(&graph) {
        panic!("test input is invalid: {e}");
    }
    let pass = passes::by_name(name).unwrap_or_else(|| panic!("no pass `{name}`"));
    pass.run(&mut graph, &mut PassCx::default())
        .unwrap_or_else(|e| panic!("{name} failed: {e}"));
    if let Err(e) = kiln_ir::verify(&graph) {
        panic!(
            "{name} left an invalid graph:\n{}",
            kiln_ir::verify::render_errors(&graph, &e.0)
        );
    }
    graph.to_string()
}

/// `check_pass!("pass-name", input_text, @"expected")`: runs one pass on the
/// input and compares the printed result with an inline insta snapshot.
macro_rules! check_pass {
    ($pass:expr, $input:expr, @$snapshot:literal) => {
        insta::assert_snapshot!($crate::testing::run_one($pass, $input), @$snapshot)
    };
}

pub(crate) use check_pass;
