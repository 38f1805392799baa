//! The order steps run in.

use crate::error::CompileError;
use kiln_ir::{Graph, NodeId};

/// A deterministic topological order: among ready nodes the smallest id runs
/// first, so the schedule follows the order the model was written in.
pub fn order(graph: &Graph) -> Result<Vec<NodeId>, CompileError> {
    graph.topo_order().map_err(|stuck| {
        let ids: Vec<String> = stuck.iter().map(|id| id.to_string()).collect();
        CompileError::Lower(format!("the graph has a cycle through {}", ids.join(", ")))
    })
}
