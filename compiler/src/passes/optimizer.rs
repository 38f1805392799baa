//! Optimizer lowering: gradients in, parameter updates out.

use crate::error::PassError;
use crate::pass::{Changed, Pass, PassCx};
use crate::train::{grad_output, optimizer::lower_update};
use kiln_ir::{Graph, GraphBuilder};

/// Replaces every `<param>.grad` output left by `autodiff` with the training
/// configuration's clipping and optimizer update (formulas in
/// `train/optimizer.rs`): new `state` nodes for the optimizer's moments and
/// counters and `update` sinks for params and state, so the optimizer is fused
/// and planned like everything else.
pub struct LowerOptimizer;

impl Pass for LowerOptimizer {
    fn name(&self) -> &'static str {
        "optimizer"
    }

    fn run(&self, graph: &mut Graph, cx: &mut PassCx) -> Result<Changed, PassError> {
        let Some(config) = cx.training.clone() else {
            return Err(PassError::Precondition(
                "the optimizer pass needs a training configuration".into(),
            ));
        };
        let mut grads = Vec::new();
        for param in graph.params() {
            let name = graph.op(param).symbol().unwrap_or_default().to_string();
            let Some(sink) = graph
                .outputs()
                .into_iter()
                .find(|&o| graph.op(o).symbol() == Some(grad_output(&name).as_str()))
            else {
                continue;
            };
            let g = graph.operands(sink)[0];
            graph.remove(sink);
            grads.push((name, g));
        }
        if grads.is_empty() {
            return Ok(Changed::No);
        }
        let b = GraphBuilder::from_graph(std::mem::replace(graph, Graph::new("")));
        let handles: Vec<_> = grads
            .iter()
            .map(|(n, g)| (n.clone(), b.tensor(*g).expect("gradient exists")))
            .collect();
        lower_update(&b, &config, &handles);
        drop(handles);
        let (owned, error) = b.into_parts();
        *graph = owned;
        match error {
            Some(e) => Err(PassError::Precondition(format!(
                "lowering the optimizer: {e}"
            ))),
            None => Ok(Changed::Yes),
        }
    }
}
