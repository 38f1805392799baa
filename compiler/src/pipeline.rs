//! The ordered pass lists. Each entry's comment says why it sits where it does.

use crate::error::CompileError;
use crate::passes;

/// One entry of a pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Run one pass once.
    Pass(&'static str),
    /// Run the passes in order, again and again, until a whole round changes
    /// nothing or `max_rounds` rounds ran.
    Fixpoint {
        passes: Vec<&'static str>,
        max_rounds: usize,
    },
}

/// An ordered list of stages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pipeline {
    pub stages: Vec<Stage>,
}

impl Pipeline {
    /// The optimizing pipeline `compile` uses by default.
    pub fn optimize() -> Pipeline {
        Pipeline {
            stages: vec![
                // Drop what reaches no sink before anything spends time on it.
                Stage::Pass("dead-code"),
                // Local rewrites feed each other (folding exposes identities,
                // identities expose duplicates), so iterate them together.
                Stage::Fixpoint {
                    passes: vec!["constant-fold", "simplify", "cse", "dead-code"],
                    max_rounds: 8,
                },
                // After simplification, so the permutes it leaves are final.
                Stage::Pass("fold-transpose"),
                // Folding can leave the permutes it looked through unused.
                Stage::Pass("dead-code"),
                // Last: dense ids, so final snapshots have no holes.
                Stage::Pass("compact"),
            ],
        }
    }

    /// A training step: the backward graph and the optimizer update, then the
    /// optimizing pipeline over the whole step.
    pub fn train() -> Pipeline {
        let mut stages = vec![
            // Needs the forward graph as written: it reads the loss output.
            Stage::Pass("autodiff"),
            // Consumes the `<param>.grad` outputs autodiff leaves.
            Stage::Pass("optimizer"),
        ];
        stages.extend(Pipeline::optimize().stages);
        Pipeline { stages }
    }

    /// No optimization: only dense renumbering (what `--passes` with an empty
    /// list gives, and the baseline differential tests compare against).
    pub fn none() -> Pipeline {
        Pipeline { stages: vec![] }
    }

    /// A pipeline of the named passes, each run once, in order.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Pipeline, CompileError> {
        let mut stages = Vec::new();
        for name in names {
            let name = name.as_ref().trim();
            let Some(&(known, _)) = passes::ALL.iter().find(|(n, _)| *n == name) else {
                return Err(CompileError::UnknownPass {
                    name: name.into(),
                    valid: passes::names(),
                });
            };
            stages.push(Stage::Pass(known));
        }
        Ok(Pipeline { stages })
    }

    /// Every pass name the pipeline mentions, in order of first appearance.
    pub fn pass_names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        for stage in &self.stages {
            let list = match stage {
                Stage::Pass(p) => vec![*p],
                Stage::Fixpoint { passes, .. } => passes.clone(),
            };
            for p in list {
                if !names.contains(&p) {
                    names.push(p);
                }
            }
        }
        names
    }
}
