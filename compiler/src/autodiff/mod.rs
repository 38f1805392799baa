//! Reverse-mode automatic differentiation as a graph-to-graph transform.
//!
//! From the loss, nodes are visited in reverse topological order; the seed is
//! `dL/dL = 1`; each node's vector-Jacobian rule (`vjp.rs`, one function per
//! op, all in one file) turns the gradient of its value into gradients of its
//! operands, and contributions to one value are accumulated with `add`.
//! Broadcasting is undone by summing (the rule of the `broadcast` node).
//!
//! Only *active* nodes are visited: those that depend on a parameter being
//! differentiated and that the loss depends on. Every node the transform adds
//! carries the source location of the forward node it differentiates, so an
//! error in the backward graph still points at the user's line.

pub mod vjp;

use kiln_ir::{Graph, GraphBuilder, NodeId, Tensor};
use std::collections::BTreeMap;
use std::fmt;

/// Why some gradients could not be built. Lists every problem at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutodiffError {
    /// `(param, reason)` for parameters the loss gets no gradient from.
    pub unreached: Vec<(String, String)>,
    /// `(node, op, location)` of ops on the path that have no backward rule.
    pub missing_rules: Vec<(NodeId, &'static str, String)>,
    /// Anything else (a bug in a rule, a bad loss).
    pub other: Vec<String>,
}

impl fmt::Display for AutodiffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot differentiate the loss:")?;
        for (param, reason) in &self.unreached {
            write!(f, "\n  - param `{param}`: {reason}")?;
        }
        for (node, op, loc) in &self.missing_rules {
            write!(f, "\n  - {node} `{op}`{loc}: no backward rule for this op")?;
        }
        for o in &self.other {
            write!(f, "\n  - {o}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AutodiffError {}

/// Appends to `graph` the gradient of `loss` (an `f32` node; a non-scalar loss
/// is seeded with ones, i.e. its sum is differentiated) with respect to each
/// node of `wrt`, and returns the gradient nodes in the same order.
pub fn differentiate(
    graph: &mut Graph,
    loss: NodeId,
    wrt: &[NodeId],
) -> Result<Vec<NodeId>, AutodiffError> {
    let owned = std::mem::replace(graph, Graph::new(""));
    let (owned, result) = differentiate_owned(owned, loss, wrt);
    *graph = owned;
    result
}

type Outcome = (Graph, Result<Vec<NodeId>, AutodiffError>);

fn differentiate_owned(graph: Graph, loss: NodeId, wrt: &[NodeId]) -> Outcome {
    let mut err = AutodiffError {
        unreached: vec![],
        missing_rules: vec![],
        other: vec![],
    };
    let order = match graph.topo_order() {
        Ok(o) => o,
        Err(_) => {
            err.other.push("the graph has a cycle".into());
            return (graph, Err(err));
        }
    };
    // depends[i]: node i depends (structurally) on some node of `wrt`.
    let depends = descendants(&graph, wrt, &order);
    // reaches[i]: the loss depends on node i.
    let reaches = ancestors(&graph, loss, &order);
    let active = |id: NodeId| depends[id.index()] && reaches[id.index()];

    let b = GraphBuilder::from_graph(graph);
    let mut adjoint: BTreeMap<NodeId, Tensor<'_>> = BTreeMap::new();
    let Some(loss_t) = b.tensor(loss) else {
        err.other
            .push(format!("the loss {loss} is not in the graph"));
        return (b.into_parts().0, Err(err));
    };
    adjoint.insert(loss, b.full(1.0, &loss_t.dims()).named("loss.grad_seed"));

    for &id in order.iter().rev() {
        if !active(id) {
            continue;
        }
        let Some(&g) = adjoint.get(&id) else { continue };
        let (op, loc) = b.edit(|graph| (graph.op(id).clone(), graph.node(id).loc));
        let operands: Vec<NodeId> = b.edit(|graph| graph.operands(id));
        if !operands.iter().any(|&o| active(o)) {
            continue;
        }
        let xs: Vec<Tensor<'_>> = operands
            .iter()
            .map(|&o| b.tensor(o).expect("operands exist"))
            .collect();
        let out = b.tensor(id).expect("node exists");
        let first_new = b.edit(|graph| graph.next_id());
        match vjp::vjp(&b, &op, &xs, out, g) {
            Ok(grads) => {
                for (&o, grad) in operands.iter().zip(grads) {
                    let Some(grad) = grad else { continue };
                    if !active(o) {
                        continue;
                    }
                    let sum = match adjoint.get(&o) {
                        Some(&prev) => prev + grad,
                        None => grad,
                    };
                    adjoint.insert(o, sum);
                }
            }
            Err(vjp::MissingRule(name)) => {
                let at = loc.map(|l| format!(" at {l}")).unwrap_or_default();
                err.missing_rules.push((id, name, at));
            }
        }
        // The new nodes belong to the user's line that built the forward node.
        b.edit(|graph| {
            let new: Vec<NodeId> = graph.ids().filter(|&i| i >= first_new).collect();
            for i in new {
                graph.node_mut(i).loc = loc;
            }
        });
    }

    let mut grads = Vec::with_capacity(wrt.len());
    for &p in wrt {
        match adjoint.get(&p).and_then(|t| t.id()) {
            Some(gid) => grads.push(gid),
            None => {
                let name = b.edit(|graph| graph.op(p).symbol().unwrap_or("?").to_string());
                let reason = b.edit(|graph| why_unreached(graph, p, loss, &order));
                err.unreached.push((name, reason));
            }
        }
    }
    drop(adjoint);
    let (graph, build_error) = b.into_parts();
    if let Some(e) = build_error {
        err.other.push(format!(
            "building the backward graph failed (a bug in a rule): {e}"
        ));
    }
    if err.unreached.is_empty() && err.missing_rules.is_empty() && err.other.is_empty() {
        (graph, Ok(grads))
    } else {
        (graph, Err(err))
    }
}

/// Why no gradient reaches `param`: the loss does not depend on it at all, or
/// every path passes through a stop-gradient op (named with its location).
fn why_unreached(graph: &Graph, param: NodeId, loss: NodeId, order: &[NodeId]) -> String {
    let from_param = descendants(graph, &[param], order);
    if !from_param[loss.index()] {
        return "the loss does not depend on it".into();
    }
    // The first stop-gradient node on a path from the param to the loss.
    let reaches = ancestors(graph, loss, order);
    let breaker = order.iter().find(|&&id| {
        from_param[id.index()]
            && reaches[id.index()]
            && id != param
            && !vjp::is_differentiable(graph, id)
    });
    match breaker {
        Some(&id) => {
            let node = graph.node(id);
            let at = node.loc.map(|l| format!(" at {l}")).unwrap_or_default();
            format!(
                "every path to the loss passes through `{}` ({id}{at}), which has no gradient",
                node.op.name()
            )
        }
        None => "no gradient reaches it".into(),
    }
}

/// `mark[i]`: node `i` is one of `roots` or depends on one (`order` is topological).
fn descendants(graph: &Graph, roots: &[NodeId], order: &[NodeId]) -> Vec<bool> {
    let mut mark = vec![false; graph.next_id().index()];
    for &id in order {
        mark[id.index()] =
            roots.contains(&id) || graph.operands(id).iter().any(|o| mark[o.index()]);
    }
    mark
}

/// `mark[i]`: `root` depends on node `i` (or is it).
fn ancestors(graph: &Graph, root: NodeId, order: &[NodeId]) -> Vec<bool> {
    let mut mark = vec![false; graph.next_id().index()];
    mark[root.index()] = true;
    for &id in order.iter().rev() {
        if mark[id.index()] {
            for o in graph.operands(id) {
                mark[o.index()] = true;
            }
        }
    }
    mark
}
