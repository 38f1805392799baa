//! The verifier: checks the invariants every graph must satisfy, so that a
//! pass that breaks one is caught right after it runs, not as a wrong number
//! at run time. It runs after parsing and after every compiler pass in tests
//! and debug builds.
//!
//! Invariants checked, each reported at the node that breaks it:
//!
//! 1. **Acyclic.** Every node is reachable in a topological order. A cycle is
//!    reported at its smallest node, naming every node on it and every node
//!    that depends on a cycle.
//! 2. **Operand positions.** A node's operand edges carry positions exactly
//!    `0..n`, and `n` is the op's arity ([`Op::arity`]; `concat` takes at
//!    least one).
//! 3. **Types.** Every node's stored type equals what [`infer`] gives for its
//!    op and its operands' types (checked when the operands are well formed).
//! 4. **Sinks are last.** `output` and `update` nodes have no users.
//! 5. **Output names.** At most one `output` per name.
//! 6. **Source names.** `input`, `param` and `state` names are unique across
//!    all three kinds (they are how values are fed and stored).
//! 7. **Updates.** Every `update` targets an existing `param` or `state` (never
//!    an `input`, which is fed anew each run), writes a value of the target's
//!    type, and each target is updated at most once.
//!
//! All errors are returned at once. [`render_errors`] shows them inline in the
//! printed graph, under the lines they are about (Cranelift's `print_errors`).

use crate::error::{VerifyError, VerifyErrors};
use crate::graph::Graph;
use crate::id::NodeId;
use crate::infer::infer;
use crate::op::Op;
use crate::text::{node_line, write_graph};
use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Checks every invariant listed in the module docs; `Err` holds every
/// violation found, in a deterministic order.
pub fn verify(graph: &Graph) -> Result<(), VerifyErrors> {
    let mut errors = Vec::new();
    check_acyclic(graph, &mut errors);
    for id in graph.ids() {
        check_node(graph, id, &mut errors);
    }
    check_names(graph, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(VerifyErrors(errors))
    }
}

/// The printed graph with each error as a `;   ^ error: ...` line right under
/// the line of the node it is about. Errors about no node (or a node not in
/// the graph) come first, as `; error: ...` lines.
pub fn render_errors(graph: &Graph, errors: &[VerifyError]) -> String {
    let mut out = String::new();
    for e in errors {
        if !e.node.is_some_and(|id| graph.contains(id)) {
            let _ = writeln!(out, "; error: {}", e.message.replace('\n', "\n;        "));
        }
    }
    // Writing to a String cannot fail.
    let _ = write_graph(&mut out, graph, &mut |out, id| {
        for e in errors.iter().filter(|e| e.node == Some(id)) {
            let message = e.message.replace('\n', "\n  ;            ");
            writeln!(out, "  ;   ^ error: {message}")?;
        }
        Ok(())
    });
    out
}

fn error(graph: &Graph, id: NodeId, message: String) -> VerifyError {
    VerifyError {
        node: Some(id),
        context: node_line(graph, id),
        message,
    }
}

/// `%1, %2, %3`, cut short after a few.
fn id_list(ids: &[NodeId]) -> String {
    const SHOWN: usize = 10;
    let mut list: Vec<String> = ids.iter().take(SHOWN).map(|id| id.to_string()).collect();
    if ids.len() > SHOWN {
        list.push(format!("... ({} more)", ids.len() - SHOWN));
    }
    list.join(", ")
}

/// Invariant 1. The nodes a topological sort cannot reach are on a cycle (a
/// strongly connected component with more than one node, or a self-loop) or
/// depend on one.
fn check_acyclic(graph: &Graph, errors: &mut Vec<VerifyError>) {
    let Err(pending) = graph.topo_order() else {
        return;
    };
    let mut sub = DiGraph::<NodeId, ()>::new();
    let index: BTreeMap<NodeId, _> = pending.iter().map(|&id| (id, sub.add_node(id))).collect();
    for (&id, &to) in &index {
        for (_, operand) in graph.operand_edges(id) {
            if let Some(&from) = index.get(&operand) {
                sub.add_edge(from, to, ());
            }
        }
    }
    let mut cycles: Vec<Vec<NodeId>> = tarjan_scc(&sub)
        .into_iter()
        .filter(|scc| scc.len() > 1 || sub.contains_edge(scc[0], scc[0]))
        .map(|scc| {
            let mut ids: Vec<NodeId> = scc.into_iter().map(|ix| sub[ix]).collect();
            ids.sort_unstable();
            ids
        })
        .collect();
    cycles.sort();
    let on_cycle: BTreeSet<NodeId> = cycles.iter().flatten().copied().collect();
    let behind: Vec<NodeId> = pending
        .into_iter()
        .filter(|id| !on_cycle.contains(id))
        .collect();
    for (i, cycle) in cycles.iter().enumerate() {
        let mut message = format!("on a cycle through {}", id_list(cycle));
        if i == 0 && !behind.is_empty() {
            write!(
                message,
                "; {} node(s) depend on a cycle: {}",
                behind.len(),
                id_list(&behind)
            )
            .ok();
        }
        errors.push(error(graph, cycle[0], message));
    }
}

/// Invariants 2, 3 and 4 for one node.
fn check_node(graph: &Graph, id: NodeId, errors: &mut Vec<VerifyError>) {
    let node = graph.node(id);
    let op = &node.op;
    let edges = graph.operand_edges(id);
    let mut well_formed = true;
    let positions: Vec<u32> = edges.iter().map(|&(pos, _)| pos).collect();
    if positions.iter().enumerate().any(|(i, &p)| p as usize != i) {
        errors.push(error(
            graph,
            id,
            format!(
                "operand positions are {positions:?}, expected 0..{}",
                edges.len()
            ),
        ));
        well_formed = false;
    }
    let arity_error = match op.arity() {
        Some(n) if n != edges.len() => Some(format!(
            "`{}` takes {n} operand(s), found {}",
            op.name(),
            edges.len()
        )),
        None if edges.is_empty() => {
            Some(format!("`{}` takes at least 1 operand, found 0", op.name()))
        }
        _ => None,
    };
    if let Some(message) = arity_error {
        errors.push(error(graph, id, message));
        well_formed = false;
    }
    if well_formed {
        let types: Vec<_> = edges.iter().map(|&(_, o)| graph.ty(o).clone()).collect();
        let operands: Vec<String> = edges
            .iter()
            .zip(&types)
            .map(|((_, o), t)| format!("{o}: {t}"))
            .collect();
        let operands = operands.join(", ");
        match infer(op, &types) {
            Ok(ty) if ty != node.ty => errors.push(error(
                graph,
                id,
                format!(
                    "stored type is {}, but `{}` of ({operands}) gives {ty}",
                    node.ty,
                    op.name()
                ),
            )),
            Ok(_) => {}
            Err(e) => errors.push(error(
                graph,
                id,
                format!("`{}` cannot take ({operands}): {e}", op.name()),
            )),
        }
    }
    if op.is_sink() {
        let users: Vec<NodeId> = graph.users(id).into_iter().map(|(user, _)| user).collect();
        if !users.is_empty() {
            errors.push(error(
                graph,
                id,
                format!(
                    "`{}` is a sink, but {} use(s) it",
                    op.name(),
                    id_list(&users)
                ),
            ));
        }
    }
}

/// Invariants 5, 6 and 7.
fn check_names(graph: &Graph, errors: &mut Vec<VerifyError>) {
    let mut sources: BTreeMap<&str, NodeId> = BTreeMap::new();
    let mut outputs: BTreeMap<&str, NodeId> = BTreeMap::new();
    let mut updated: BTreeMap<&str, NodeId> = BTreeMap::new();
    let value = |sink: NodeId| graph.operands(sink).first().copied();
    let shown = |sink: NodeId| value(sink).map_or("nothing".to_string(), |v| v.to_string());
    for node in graph.nodes() {
        let id = node.id;
        match &node.op {
            Op::Input { name, .. } | Op::Param { name, .. } | Op::State { name, .. } => {
                if let Some(&first) = sources.get(name.as_str()) {
                    let kind = graph.op(first).name();
                    let message = format!("the name `{name}` is already used by {first} ({kind})");
                    errors.push(error(graph, id, message));
                } else {
                    sources.insert(name, id);
                }
            }
            Op::Output { name } => {
                if let Some(&first) = outputs.get(name.as_str()) {
                    let message = format!(
                        "a second output called `{name}` (the first one returns {})",
                        shown(first)
                    );
                    errors.push(error(graph, id, message));
                } else {
                    outputs.insert(name, id);
                }
            }
            _ => {}
        }
    }
    // Targets are looked up once every source is known: an update may come
    // before its target in id order.
    for node in graph.nodes() {
        let (id, Op::Update { target }) = (node.id, &node.op) else {
            continue;
        };
        match sources.get(target.as_str()).copied() {
            None => errors.push(error(
                graph,
                id,
                format!("updates `{target}`, but there is no param or state called `{target}`"),
            )),
            Some(source) if matches!(graph.op(source), Op::Input { .. }) => {
                errors.push(error(
                    graph,
                    id,
                    format!(
                        "updates input `{target}` ({source}), but inputs are fed on every run; only a param or state can be updated"
                    ),
                ))
            }
            Some(source) => {
                let target_ty = graph.ty(source);
                if let Some(v) = value(id).filter(|&v| graph.ty(v) != target_ty) {
                    errors.push(error(
                        graph,
                        id,
                        format!(
                            "writes {v}: {} into `{target}` ({source}), which is {target_ty}",
                            graph.ty(v)
                        ),
                    ));
                }
            }
        }
        if let Some(&first) = updated.get(target.as_str()) {
            let message = format!(
                "`{target}` is updated twice (the first update writes {})",
                shown(first)
            );
            errors.push(error(graph, id, message));
        } else {
            updated.insert(target, id);
        }
    }
}

#[cfg(test)]
mod tests;
