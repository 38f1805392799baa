//! Graph statistics for `kiln-dump --stats`: op histogram, parameter count, and
//! FLOPs and bytes per op class, from the IR's static cost model.

use kiln_ir::cost::node_cost;
use kiln_ir::{Graph, Op, OpClass};
use std::collections::BTreeMap;
use std::fmt;

/// Counts and costs of one graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphStats {
    pub name: String,
    pub nodes: usize,
    /// Nodes per op spelling.
    pub ops: BTreeMap<&'static str, usize>,
    /// Number of parameter tensors and of scalars in them.
    pub param_tensors: usize,
    pub param_scalars: usize,
    /// Scalars held in `state` tensors.
    pub state_scalars: usize,
    /// FLOPs and bytes per op class.
    pub by_class: BTreeMap<OpClass, (u64, u64)>,
}

impl GraphStats {
    pub fn of(graph: &Graph) -> GraphStats {
        let mut ops = BTreeMap::new();
        let mut by_class: BTreeMap<OpClass, (u64, u64)> = BTreeMap::new();
        let (mut param_tensors, mut param_scalars, mut state_scalars) = (0, 0, 0);
        for node in graph.nodes() {
            *ops.entry(node.op.name()).or_insert(0) += 1;
            let cost = node_cost(graph, node.id);
            let entry = by_class.entry(node.op.class()).or_default();
            entry.0 += cost.flops;
            entry.1 += cost.bytes;
            match node.op {
                Op::Param { .. } => {
                    param_tensors += 1;
                    param_scalars += node.ty.shape.numel();
                }
                Op::State { .. } => state_scalars += node.ty.shape.numel(),
                _ => {}
            }
        }
        GraphStats {
            name: graph.name().to_string(),
            nodes: graph.len(),
            ops,
            param_tensors,
            param_scalars,
            state_scalars,
            by_class,
        }
    }

    /// Total FLOPs of one run.
    pub fn flops(&self) -> u64 {
        self.by_class.values().map(|v| v.0).sum()
    }
}

impl fmt::Display for GraphStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "graph {}: {} nodes", self.name, self.nodes)?;
        writeln!(
            f,
            "parameters: {} tensors, {} scalars ({:.2} MB); state: {} scalars",
            self.param_tensors,
            self.param_scalars,
            self.param_scalars as f64 * 4.0 / 1e6,
            self.state_scalars
        )?;
        writeln!(f, "\nop histogram:")?;
        let mut ops: Vec<_> = self.ops.iter().collect();
        ops.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (op, n) in ops {
            writeln!(f, "  {op:<20} {n:>6}")?;
        }
        writeln!(
            f,
            "\ncost per op class (every tensor materialized, before fusion):"
        )?;
        writeln!(f, "  {:<12} {:>14} {:>14}", "class", "MFLOP", "MB moved")?;
        for (class, (flops, bytes)) in &self.by_class {
            if *flops > 0 || *bytes > 0 {
                writeln!(
                    f,
                    "  {:<12} {:>14.3} {:>14.3}",
                    class.name(),
                    *flops as f64 / 1e6,
                    *bytes as f64 / 1e6
                )?;
            }
        }
        let bytes: u64 = self.by_class.values().map(|v| v.1).sum();
        write!(
            f,
            "  {:<12} {:>14.3} {:>14.3}",
            "total",
            self.flops() as f64 / 1e6,
            bytes as f64 / 1e6
        )
    }
}
