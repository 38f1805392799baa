//! Random well-typed graphs from the shared generator pass the verifier and
//! survive print -> parse -> print unchanged.

use kiln_ir::testing::arb_case;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(300)))]

    #[test]
    fn random_graphs_verify_and_round_trip(case in arb_case()) {
        kiln_ir::verify(&case.graph).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let text = case.graph.to_string();
        let parsed = kiln_ir::parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        kiln_ir::verify(&parsed).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed.to_string(), text);
        prop_assert!(parsed == case.graph);
    }
}
