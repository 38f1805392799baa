//! The pass manager: runs a pipeline, verifies between passes, records what
//! each pass did, and offers the hooks for looking inside (print after every
//! pass, dump files, stop after a pass).

use crate::dump::Dumper;
use crate::error::CompileError;
use crate::pass::{Changed, PassCx};
use crate::passes;
use crate::pipeline::{Pipeline, Stage};
use kiln_ir::Graph;
use std::fmt;
use std::time::{Duration, Instant};

/// What one pass run did.
#[derive(Clone, Debug)]
pub struct PassRecord {
    pub pass: &'static str,
    pub changed: Changed,
    pub nodes_before: usize,
    pub nodes_after: usize,
    /// Bytes of all tensors in the graph after the pass (every node materialized).
    pub bytes_after: usize,
    pub time: Duration,
}

/// Every pass run of one pipeline, in order.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub records: Vec<PassRecord>,
    /// Set when `stop_after` ended the pipeline early.
    pub stopped_after: Option<&'static str>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<4} {:<16} {:>8} {:>8} {:>12} {:>10}",
            "#", "pass", "nodes", "changed", "bytes", "time"
        )?;
        for (i, r) in self.records.iter().enumerate() {
            writeln!(
                f,
                "{:<4} {:<16} {:>8} {:>8} {:>12} {:>8.3}ms",
                i,
                r.pass,
                format!("{}→{}", r.nodes_before, r.nodes_after),
                if r.changed == Changed::Yes {
                    "yes"
                } else {
                    "no"
                },
                r.bytes_after,
                r.time.as_secs_f64() * 1e3
            )?;
        }
        if let Some(p) = self.stopped_after {
            writeln!(f, "(stopped after `{p}`)")?;
        }
        Ok(())
    }
}

/// Called after every pass run with the run's index, the pass and the graph.
pub type Observer<'a> = Box<dyn FnMut(usize, &PassRecord, &Graph) + 'a>;

/// Runs pipelines. Build one with [`PassManager::new`] and the `with_*` options.
pub struct PassManager<'a> {
    pipeline: Pipeline,
    verify: bool,
    stop_after: Option<String>,
    dumper: Option<Dumper>,
    observer: Option<Observer<'a>>,
    cx: PassCx,
}

impl<'a> PassManager<'a> {
    /// A manager for `pipeline`. Verification between passes is on in debug
    /// builds and tests, off in release builds unless asked for.
    pub fn new(pipeline: Pipeline) -> PassManager<'a> {
        PassManager {
            pipeline,
            verify: cfg!(debug_assertions),
            stop_after: None,
            dumper: None,
            observer: None,
            cx: PassCx::default(),
        }
    }

    /// Verify the graph after every pass (an invalid graph names the pass).
    pub fn with_verify(mut self, verify: bool) -> Self {
        self.verify = verify;
        self
    }

    /// Stop right after the first run of pass `name` (for bisecting).
    pub fn with_stop_after(mut self, name: Option<String>) -> Self {
        self.stop_after = name;
        self
    }

    /// Write numbered before/after/diff files for every pass run into a directory.
    pub fn with_dumper(mut self, dumper: Option<Dumper>) -> Self {
        self.dumper = dumper;
        self
    }

    /// Call `observer` after every pass run (`--print-after-all` uses it).
    pub fn with_observer(mut self, observer: Observer<'a>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Options the passes read.
    pub fn with_cx(mut self, cx: PassCx) -> Self {
        self.cx = cx;
        self
    }

    /// Runs the pipeline on `graph`.
    pub fn run(&mut self, graph: &mut Graph) -> Result<Report, CompileError> {
        if let Some(stop) = &self.stop_after
            && !passes::names().contains(&stop.as_str())
        {
            return Err(CompileError::UnknownPass {
                name: stop.clone(),
                valid: passes::names(),
            });
        }
        let mut report = Report::default();
        let stages = self.pipeline.stages.clone();
        for stage in &stages {
            let (names, rounds) = match stage {
                Stage::Pass(p) => (vec![*p], 1),
                Stage::Fixpoint { passes, max_rounds } => (passes.clone(), *max_rounds),
            };
            for _ in 0..rounds {
                let mut any = Changed::No;
                for name in &names {
                    any = any.any(self.run_one(name, graph, &mut report)?);
                    if report.stopped_after.is_some() {
                        return Ok(report);
                    }
                }
                if any == Changed::No {
                    break;
                }
            }
        }
        Ok(report)
    }

    fn run_one(
        &mut self,
        name: &'static str,
        graph: &mut Graph,
        report: &mut Report,
    ) -> Result<Changed, CompileError> {
        let Some(pass) = passes::by_name(name) else {
            return Err(CompileError::UnknownPass {
                name: name.into(),
                valid: passes::names(),
            });
        };
        self.run_pass(pass.as_ref(), graph, report)
    }

    /// Runs one pass that need not be in the pass table (tests use this to
    /// check how the manager reports a pass that breaks the graph), with the
    /// same verification, recording, dumping and observing as a pipeline pass.
    pub fn run_pass(
        &mut self,
        pass: &dyn crate::pass::Pass,
        graph: &mut Graph,
        report: &mut Report,
    ) -> Result<Changed, CompileError> {
        let before_text = self.dumper.as_ref().map(|_| graph.to_string());
        let nodes_before = graph.len();
        let start = Instant::now();
        let changed = pass
            .run(graph, &mut self.cx)
            .map_err(|source| CompileError::Pass {
                pass: pass.name(),
                source,
            })?;
        let time = start.elapsed();
        if self.verify {
            verify_after(graph, pass.name())?;
        }
        let record = PassRecord {
            pass: pass.name(),
            changed,
            nodes_before,
            nodes_after: graph.len(),
            bytes_after: graph.nodes().map(|n| n.ty.size_bytes()).sum(),
            time,
        };
        let index = report.records.len();
        if let (Some(dumper), Some(before)) = (&self.dumper, before_text) {
            dumper
                .write(index, pass.name(), &before, &graph.to_string())
                .map_err(|e| {
                    CompileError::Io(format!(
                        "writing dump files to {}: {e}",
                        dumper.dir().display()
                    ))
                })?;
        }
        if let Some(observer) = &mut self.observer {
            observer(index, &record, graph);
        }
        report.records.push(record);
        if self.stop_after.as_deref() == Some(pass.name()) {
            report.stopped_after = Some(pass.name());
        }
        Ok(changed)
    }
}

/// Verifies `graph`, naming the pass that ran last if it is invalid.
pub fn verify_after(graph: &Graph, pass: &str) -> Result<(), CompileError> {
    kiln_ir::verify(graph).map_err(|errors| CompileError::Verify {
        after: pass.to_string(),
        rendered: kiln_ir::verify::render_errors(graph, &errors.0),
        errors: errors.0,
    })
}
