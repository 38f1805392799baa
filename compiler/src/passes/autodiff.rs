//! The backward pass, appended to the graph.

use crate::autodiff::{AutodiffError, differentiate};
use crate::error::PassError;
use crate::pass::{Changed, Pass, PassCx};
use crate::train::{PenaltyKind, TrainConfig, grad_output};
use kiln_ir::{Graph, GraphBuilder, NodeId};

/// Differentiates the training configuration's loss (plus its L1/L2
/// penalties) with respect to the params it trains, and exposes each gradient
/// as an output `<param>.grad` (what PyTorch calls `param.grad`). The
/// `optimizer` pass turns those outputs into updates.
///
/// Does nothing to a graph that already has gradient outputs; fails, naming
/// every problem at once, when a param gets no gradient or an op on the way
/// has no rule.
pub struct Autodiff;

impl Pass for Autodiff {
    fn name(&self) -> &'static str {
        "autodiff"
    }

    fn run(&self, graph: &mut Graph, cx: &mut PassCx) -> Result<Changed, PassError> {
        let Some(config) = cx.training.clone() else {
            return Err(PassError::Precondition(
                "autodiff needs a training configuration (which output is the loss, which params to train)".into(),
            ));
        };
        let (loss, params) = resolve(graph, &config)?;
        if params
            .iter()
            .any(|(name, _)| graph.output(&grad_output(name)).is_some())
        {
            return Ok(Changed::No);
        }
        let owned = std::mem::replace(graph, Graph::new(""));
        let (owned, objective) = add_penalties(owned, loss, &config, &params);
        *graph = owned;
        let wrt: Vec<NodeId> = params.iter().map(|(_, id)| *id).collect();
        let grads = differentiate(graph, objective, &wrt)?;
        let b = GraphBuilder::from_graph(std::mem::replace(graph, Graph::new("")));
        for ((name, _), g) in params.iter().zip(grads) {
            if let Some(t) = b.tensor(g) {
                b.output(&grad_output(name), t);
            }
        }
        let (owned, error) = b.into_parts();
        *graph = owned;
        match error {
            Some(e) => Err(PassError::Precondition(format!(
                "adding gradient outputs: {e}"
            ))),
            None => Ok(Changed::Yes),
        }
    }
}

/// The loss node and the `(name, node)` of every param to train.
fn resolve(
    graph: &Graph,
    config: &TrainConfig,
) -> Result<(NodeId, Vec<(String, NodeId)>), PassError> {
    let other = |msg: String| {
        PassError::Autodiff(AutodiffError {
            unreached: vec![],
            missing_rules: vec![],
            other: vec![msg],
        })
    };
    let Some(loss) = graph.output(&config.loss) else {
        let names: Vec<&str> = graph
            .outputs()
            .iter()
            .filter_map(|&o| graph.op(o).symbol())
            .collect();
        return Err(other(format!(
            "no output named `{}` to minimize (outputs: {})",
            config.loss,
            names.join(", ")
        )));
    };
    if graph.ty(loss).dtype != kiln_ir::DType::F32 {
        return Err(other(format!(
            "the loss `{}` must be f32, found {}",
            config.loss,
            graph.ty(loss)
        )));
    }
    let all: Vec<(String, NodeId)> = graph
        .params()
        .into_iter()
        .map(|id| (graph.op(id).symbol().unwrap_or_default().to_string(), id))
        .collect();
    let Some(wanted) = &config.params else {
        return Ok((loss, all));
    };
    let unknown: Vec<&str> = wanted
        .iter()
        .filter(|w| !all.iter().any(|(n, _)| n == *w))
        .map(|s| s.as_str())
        .collect();
    if !unknown.is_empty() {
        return Err(other(format!("no params named {}", unknown.join(", "))));
    }
    Ok((
        loss,
        all.into_iter()
            .filter(|(n, _)| wanted.contains(n))
            .collect(),
    ))
}

/// `loss + Σ penalties`, as a new node (the `loss` output itself is unchanged).
fn add_penalties(
    graph: Graph,
    loss: NodeId,
    config: &TrainConfig,
    params: &[(String, NodeId)],
) -> (Graph, NodeId) {
    if config.penalties.is_empty() {
        return (graph, loss);
    }
    let b = GraphBuilder::from_graph(graph);
    let mut total = b.tensor(loss).expect("the loss exists");
    for penalty in &config.penalties {
        for (name, id) in params {
            let applies = match &penalty.params {
                Some(list) => list.contains(name),
                None => name.ends_with("weight"),
            };
            if !applies {
                continue;
            }
            let p = b.tensor(*id).expect("the param exists");
            let term = match penalty.kind {
                PenaltyKind::L1 => p.abs().sum_all(),
                PenaltyKind::L2 => (p * p).sum_all(),
            };
            total = total + term * penalty.strength;
        }
    }
    let total = total.named("objective");
    let id = total.id().unwrap_or(loss);
    (b.into_parts().0, id)
}
