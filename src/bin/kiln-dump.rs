//! `kiln-dump`: look at a model at every stage of the pipeline.
//!
//! ```text
//! kiln-dump mlp                          # the IR as built, as .kir text
//! kiln-dump model.kir --stats            # parse, verify; op histogram, params, FLOPs
//! kiln-dump lenet5 --dot | dot -Tsvg     # Graphviz
//! kiln-dump lenet5 --print-after-all     # the IR after every pass of the pipeline
//! kiln-dump mlp --passes cse,dead-code   # a chosen pass list
//! kiln-dump mlp --stop-after simplify    # bisect the pipeline
//! kiln-dump mlp --dump-dir dumps/        # NNN-pass.before/.after.kir and .diff files
//! kiln-dump transformer --plan           # the lowered program and its arena size
//! kiln-dump mlp --train adam             # the whole training step
//! ```

use clap::Parser;
use kiln::stats::GraphStats;
use kiln::zoo;
use kiln_compiler::dump::Dumper;
use kiln_compiler::{PassCx, PassManager, Pipeline, TrainConfig, train::Optimizer};
use kiln_ir::Graph;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "kiln-dump",
    version,
    about = "Print a kiln model at any stage: IR, passes, plan, Graphviz, statistics"
)]
struct Args {
    /// A zoo model name (mlp, lenet5, lstm, transformer) or a path to a `.kir` file.
    model: String,
    /// Batch size for zoo models (default: the one WORKLOADS.md uses).
    #[arg(long)]
    batch: Option<usize>,
    /// Print Graphviz DOT instead of the IR text.
    #[arg(long)]
    dot: bool,
    /// Print the op histogram, parameter count, FLOPs and bytes per op class.
    #[arg(long)]
    stats: bool,
    /// Compile a training step with this optimizer (gd, sgd, momentum,
    /// nesterov, adagrad, rmsprop, adam, adamw) minimizing the output `loss`.
    #[arg(long)]
    train: Option<String>,
    /// Run these passes, comma-separated, instead of the default pipeline.
    #[arg(long, value_delimiter = ',')]
    passes: Option<Vec<String>>,
    /// Print the IR after every pass.
    #[arg(long)]
    print_after_all: bool,
    /// Stop right after the first run of this pass.
    #[arg(long)]
    stop_after: Option<String>,
    /// Write `NNN-<pass>.before.kir`, `.after.kir` and `.diff` for every pass run into DIR.
    #[arg(long)]
    dump_dir: Option<PathBuf>,
    /// Print the lowered plan (kernels, buffers, arena size) instead of the graph.
    #[arg(long)]
    plan: bool,
    /// Print what each pass did (nodes, bytes, time).
    #[arg(long)]
    report: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("kiln-dump: {message}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &Args) -> Result<String, String> {
    let mut graph = load(&args.model, args.batch)?;
    let compiling = args.train.is_some()
        || args.passes.is_some()
        || args.print_after_all
        || args.stop_after.is_some()
        || args.dump_dir.is_some()
        || args.plan
        || args.report;
    let mut out = String::new();
    if compiling {
        compile(args, &mut graph, &mut out)?;
    }
    if args.plan {
        let plan = kiln_compiler::lower::lower(&graph).map_err(|e| e.to_string())?;
        writeln!(out, "{plan}").expect("writing to a String");
    } else if args.dot {
        out.push_str(&kiln_ir::text::to_dot(&graph));
    } else if !args.stats && !args.print_after_all {
        write!(out, "{graph}").expect("writing to a String");
    }
    if args.stats {
        writeln!(out, "{}", GraphStats::of(&graph)).expect("writing to a String");
    }
    Ok(out)
}

/// Runs the pipeline the flags ask for, printing per-pass output into `out`.
fn compile(args: &Args, graph: &mut Graph, out: &mut String) -> Result<(), String> {
    let training = match &args.train {
        None => None,
        Some(name) => {
            let optimizer = Optimizer::by_name(name).ok_or_else(|| {
                format!(
                    "unknown optimizer `{name}`: expected one of {}",
                    Optimizer::NAMES.join(", ")
                )
            })?;
            Some(TrainConfig::new("loss", optimizer))
        }
    };
    let pipeline = match &args.passes {
        Some(names) => {
            let names: Vec<&str> = names
                .iter()
                .map(|s| s.as_str())
                .filter(|s| !s.is_empty())
                .collect();
            Pipeline::from_names(&names).map_err(|e| e.to_string())?
        }
        None if training.is_some() => Pipeline::train(),
        None => Pipeline::optimize(),
    };
    let dumper = match &args.dump_dir {
        Some(dir) => {
            Some(Dumper::new(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?)
        }
        None => None,
    };
    if args.print_after_all {
        writeln!(out, "; ---- input ({} nodes) ----\n{graph}", graph.len())
            .expect("writing to a String");
    }
    let mut printed = String::new();
    let report = {
        let mut manager = PassManager::new(pipeline)
            .with_verify(true)
            .with_stop_after(args.stop_after.clone())
            .with_dumper(dumper)
            .with_cx(PassCx {
                training,
                ..PassCx::default()
            });
        if args.print_after_all {
            manager = manager.with_observer(Box::new(|index, record, g| {
                let changed = if record.changed == kiln_compiler::Changed::Yes {
                    "changed"
                } else {
                    "unchanged"
                };
                writeln!(
                    printed,
                    "; ---- after #{index} {} ({changed}, {} -> {} nodes) ----\n{g}",
                    record.pass, record.nodes_before, record.nodes_after
                )
                .expect("writing to a String");
            }));
        }
        manager.run(graph).map_err(|e| e.to_string())?
    };
    out.push_str(&printed);
    if args.report {
        writeln!(out, "{report}").expect("writing to a String");
    }
    Ok(())
}

/// A zoo model by name, or a `.kir` file parsed and verified.
fn load(model: &str, batch: Option<usize>) -> Result<Graph, String> {
    let path = Path::new(model);
    if model.ends_with(".kir") || path.exists() {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {model}: {e}"))?;
        let graph = kiln_ir::parse(&text).map_err(|e| format!("{model}:{e}"))?;
        kiln_ir::verify(&graph).map_err(|errors| {
            format!(
                "{model} is not a valid graph:\n{}",
                kiln_ir::verify::render_errors(&graph, &errors.0)
            )
        })?;
        return Ok(graph);
    }
    let Some(default_batch) = zoo::workload_batch(model) else {
        return Err(format!(
            "unknown model `{model}`: expected a .kir file or one of {}",
            zoo::NAMES.join(", ")
        ));
    };
    match zoo::build(model, batch.unwrap_or(default_batch)) {
        Some(built) => built.map_err(|e| format!("building {model}: {e}")),
        None => Err(format!("unknown model `{model}`")),
    }
}
