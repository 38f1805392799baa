//! `kiln-dump` end to end: what it prints, and how it fails.

use std::process::{Command, Output};

fn kiln_dump(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln-dump"))
        .args(args)
        .output()
        .expect("kiln-dump runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn mlp_output_parses_back_to_identical_text() {
    let out = kiln_dump(&["mlp"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let graph = kiln_ir::parse(&text).expect("kiln-dump prints valid .kir");
    kiln_ir::verify(&graph).expect("and a valid graph");
    assert_eq!(graph.to_string(), text);
}

#[test]
fn kir_files_are_read_and_unknown_models_list_the_valid_ones() {
    let dir = std::env::temp_dir().join(format!("kiln-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("mlp.kir");
    std::fs::write(&file, stdout(&kiln_dump(&["mlp", "--batch", "2"]))).expect("write");
    let again = kiln_dump(&[file.to_str().expect("utf-8 path")]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stdout(&again).starts_with("graph mlp {"));

    let unknown = kiln_dump(&["resnet"]);
    assert!(!unknown.status.success());
    insta::assert_snapshot!("unknown_model", stderr(&unknown));

    let bad = dir.join("bad.kir");
    std::fs::write(
        &bad,
        "graph g {\n  %0: f32[2] = input \"x\"\n  %1: f32[2] = relu %7\n}\n",
    )
    .expect("write");
    let parsed = kiln_dump(&[bad.to_str().expect("utf-8 path")]);
    assert!(!parsed.status.success());
    let msg = stderr(&parsed).replace(bad.to_str().expect("utf-8 path"), "bad.kir");
    insta::assert_snapshot!("malformed_kir", msg);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn stats_report_params_and_flops() {
    let out = kiln_dump(&["lenet5", "--stats"]);
    assert!(out.status.success(), "{}", stderr(&out));
    insta::assert_snapshot!("lenet5_stats", stdout(&out));
}

#[test]
fn dot_output_renders_with_graphviz() {
    let out = kiln_dump(&["lenet5", "--dot"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dot = stdout(&out);
    assert!(dot.starts_with("digraph"));
    let has_dot = Command::new("dot").arg("-V").output().is_ok();
    if !has_dot {
        assert!(
            std::env::var("KILN_REQUIRE_DOT").is_err(),
            "KILN_REQUIRE_DOT is set but graphviz `dot` is not installed"
        );
        eprintln!("graphviz `dot` not installed: skipping the render check");
        return;
    }
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("dot starts");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(dot.as_bytes())
        .expect("feed dot");
    let svg = child.wait_with_output().expect("dot finishes");
    assert!(svg.status.success());
    assert!(String::from_utf8_lossy(&svg.stdout).contains("<svg"));
}

#[test]
fn print_after_all_shows_every_pass() {
    let out = kiln_dump(&["lenet5", "--print-after-all"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for pass in [
        "dead-code",
        "constant-fold",
        "simplify",
        "cse",
        "fold-transpose",
        "compact",
    ] {
        assert!(
            text.contains(&format!(" {pass} (")),
            "no section for {pass}"
        );
    }
    // Every section is a parseable graph.
    let sections: Vec<&str> = text.split("; ---- ").skip(1).collect();
    assert!(sections.len() > 6);
    for s in sections {
        let body = &s[s.find('\n').expect("header line") + 1..];
        kiln_ir::parse(body).expect("each printed graph parses");
    }
}

#[test]
fn pass_flags_select_stop_and_dump() {
    let out = kiln_dump(&["mlp", "--passes", "cse,dead-code", "--report"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("cse") && text.contains("dead-code") && !text.contains("simplify"));

    let stopped = kiln_dump(&["mlp", "--stop-after", "simplify", "--report"]);
    assert!(stdout(&stopped).contains("(stopped after `simplify`)"));

    let unknown = kiln_dump(&["mlp", "--passes", "cse,inline"]);
    assert!(!unknown.status.success());
    insta::assert_snapshot!("unknown_pass", stderr(&unknown));

    let dir = std::env::temp_dir().join(format!("kiln-dumps-{}", std::process::id()));
    let dumped = kiln_dump(&[
        "mlp",
        "--train",
        "adam",
        "--dump-dir",
        dir.to_str().expect("utf-8 path"),
    ]);
    assert!(dumped.status.success(), "{}", stderr(&dumped));
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("dump dir exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert!(
        files.contains(&"000-autodiff.before.kir".to_string()),
        "{files:?}"
    );
    assert!(files.iter().any(|f| f.ends_with("-cse.diff")), "{files:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn plan_reports_its_arena_below_the_sum_of_buffers() {
    let out = kiln_dump(&["transformer", "--plan"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let header = text.lines().nth(1).expect("arena line");
    let numbers: Vec<usize> = header
        .split_whitespace()
        .filter_map(|w| w.trim_start_matches('(').parse().ok())
        .collect();
    assert_eq!(numbers.len(), 2, "{header}");
    assert!(
        numbers[0] < numbers[1],
        "arena {} not below the sum {}: {header}",
        numbers[0],
        numbers[1]
    );
}

#[test]
fn train_flag_compiles_a_training_step() {
    let out = kiln_dump(&["mlp", "--train", "adam", "--print-after-all"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(" autodiff (changed"));
    assert!(text.contains(" optimizer (changed"));
    assert!(
        text.contains("output \"fc1.weight.grad\""),
        "autodiff exposes gradients"
    );
    assert!(text.contains("update \"fc1.weight\" <-"));
    let bad = kiln_dump(&["mlp", "--train", "lbfgs"]);
    assert!(stderr(&bad).contains("expected one of gd, sgd, momentum"));
}
