//! The zoo's canonical models: their IR is pinned by snapshots, verifies, and
//! survives the text round trip.

use kiln::zoo;

#[test]
fn zoo_ir_snapshots() {
    for name in zoo::NAMES {
        let batch = zoo::workload_batch(name).expect("zoo names have a batch");
        let graph = zoo::build(name, batch)
            .expect("known name")
            .expect("zoo models build");
        kiln_ir::verify(&graph).unwrap_or_else(|e| panic!("{name}: {e}"));
        insta::assert_snapshot!(format!("ir_{name}"), graph.to_string());
    }
}

#[test]
fn zoo_ir_round_trips_through_text() {
    for name in zoo::NAMES {
        let graph = zoo::build(name, 4)
            .expect("known name")
            .expect("zoo models build");
        let text = graph.to_string();
        let parsed = kiln_ir::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        kiln_ir::verify(&parsed).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            parsed.to_string(),
            text,
            "{name}: print -> parse -> print changed the text"
        );
        assert!(
            parsed == graph,
            "{name}: the parsed graph differs from the built one"
        );
    }
}

#[test]
fn zoo_models_have_the_workload_parameter_counts() {
    // Parameter counts of the WORKLOADS.md models, as PyTorch reports them
    // (our LSTM has one bias vector where PyTorch has two: 512 fewer).
    let expected = [
        ("mlp", 269_322),
        ("lenet5", 61_706),
        ("lstm", 82_186 - 512),
        ("transformer", 470_528),
    ];
    for (name, count) in expected {
        let graph = zoo::build(name, 2)
            .expect("known name")
            .expect("zoo models build");
        let stats = kiln::stats::GraphStats::of(&graph);
        assert_eq!(stats.param_scalars, count, "{name}");
    }
}
