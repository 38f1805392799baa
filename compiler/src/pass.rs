//! The `Pass` trait: one graph-to-graph transformation with a name.

use crate::error::PassError;
use crate::train::TrainConfig;
use kiln_ir::{Graph, NodeId};

/// Whether a pass changed the graph (fixpoint groups stop when none did).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Changed {
    Yes,
    No,
}

impl Changed {
    pub fn from_bool(changed: bool) -> Changed {
        if changed { Changed::Yes } else { Changed::No }
    }

    pub fn any(self, other: Changed) -> Changed {
        Changed::from_bool(self == Changed::Yes || other == Changed::Yes)
    }
}

/// Options passes read.
#[derive(Clone, Debug)]
pub struct PassCx {
    /// Largest constant (in elements) constant folding may create, so folding
    /// never bloats the graph with big literals.
    pub fold_budget: usize,
    /// What to train, for the `autodiff` and `optimizer` passes.
    pub training: Option<TrainConfig>,
}

impl Default for PassCx {
    fn default() -> PassCx {
        PassCx {
            fold_budget: 256,
            training: None,
        }
    }
}

/// One transformation. The name is spelled the same in the CLI, dump files,
/// test folders and errors (`dead-code` for `DeadCode` in `dead_code.rs`).
pub trait Pass {
    fn name(&self) -> &'static str;
    fn run(&self, graph: &mut Graph, cx: &mut PassCx) -> Result<Changed, PassError>;
}

/// The graph's topological order, or the error a pass reports on a cycle (the
/// verifier rejects cycles, so passes only see one in a broken pipeline).
pub fn topo_order(graph: &Graph) -> Result<Vec<NodeId>, PassError> {
    graph.topo_order().map_err(|stuck| {
        let ids: Vec<String> = stuck.iter().map(|id| id.to_string()).collect();
        PassError::Precondition(format!("the graph has a cycle through {}", ids.join(", ")))
    })
}
