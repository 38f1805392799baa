//! A static cost model: floating-point operations and bytes moved per node.
//!
//! Used by `kiln-dump --stats` and by benchmarks to report GFLOP/s. The FLOP
//! convention is the one `WORKLOADS.md` uses: a multiply-add is 2 FLOPs;
//! elementwise ops and reductions count one FLOP per element they touch;
//! movement ops count none.

use crate::graph::Graph;
use crate::id::NodeId;
use crate::op::Op;

/// The work of one node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeCost {
    pub flops: u64,
    /// Bytes of the operands read plus bytes of the result written, assuming
    /// every tensor is materialized (an upper bound before fusion).
    pub bytes: u64,
}

/// The cost of node `id` of `graph`.
pub fn node_cost(graph: &Graph, id: NodeId) -> NodeCost {
    let node = graph.node(id);
    let operands = graph.operands(id);
    let in_ty = |i: usize| graph.ty(operands[i]);
    let out = &node.ty;
    let out_n = out.shape.numel() as u64;
    let flops = match &node.op {
        Op::Unary(_) | Op::Binary(_) | Op::Where | Op::Cast { .. } => out_n,
        Op::Reduce { .. } | Op::ArgMax { .. } => in_ty(0).shape.numel() as u64,
        Op::MatMul { transpose_lhs, .. } => {
            let a = &in_ty(0).shape.0;
            let k = if *transpose_lhs {
                a[a.len() - 2]
            } else {
                a[a.len() - 1]
            };
            2u64.saturating_mul(out_n).saturating_mul(k as u64)
        }
        Op::Conv2d(_) => {
            let w = &in_ty(1).shape.0;
            2u64.saturating_mul(out_n).saturating_mul(taps(w))
        }
        Op::Conv2dInputGrad { .. } => {
            // Same multiply-adds as the forward convolution that produced dy.
            let (dy, w) = (&in_ty(0).shape, &in_ty(1).shape.0);
            2u64.saturating_mul(dy.numel() as u64)
                .saturating_mul(taps(w))
        }
        Op::Conv2dWeightGrad { .. } => {
            let (dy, w) = (&in_ty(1).shape, &out.shape.0);
            2u64.saturating_mul(dy.numel() as u64)
                .saturating_mul(taps(w))
        }
        Op::MaxPool2d(p) | Op::AvgPool2d(p) => out_n.saturating_mul(window(p)),
        Op::MaxPool2dGrad(p) => (in_ty(1).shape.numel() as u64).saturating_mul(window(p)),
        Op::AvgPool2dGrad { pool, .. } => {
            (in_ty(0).shape.numel() as u64).saturating_mul(window(pool))
        }
        Op::RandomUniform { .. } | Op::RandomBernoulli { .. } => out_n,
        Op::ScatterAdd { .. } => in_ty(0).shape.numel() as u64,
        _ => 0,
    };
    let bytes = match &node.op {
        Op::Input { .. } | Op::Param { .. } | Op::State { .. } | Op::Const { .. } => 0,
        Op::Output { .. } | Op::Update { .. } => 0,
        _ => {
            let read = operands
                .iter()
                .fold(0usize, |n, &o| n.saturating_add(graph.ty(o).size_bytes()));
            read.saturating_add(out.size_bytes()) as u64
        }
    };
    NodeCost { flops, bytes }
}

/// Multiply-adds per output element of a convolution with weight dims `w`.
fn taps(w: &[usize]) -> u64 {
    (w[1] as u64)
        .saturating_mul(w[2] as u64)
        .saturating_mul(w[3] as u64)
}

/// Elements per pooling window.
fn window(p: &crate::op::PoolParams) -> u64 {
    (p.kernel[0] as u64).saturating_mul(p.kernel[1] as u64)
}

/// The summed cost of every node.
pub fn graph_cost(graph: &Graph) -> NodeCost {
    graph
        .ids()
        .map(|id| node_cost(graph, id))
        .fold(NodeCost::default(), |a, c| NodeCost {
            flops: a.flops + c.flops,
            bytes: a.bytes + c.bytes,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::GraphBuilder;
    use crate::op::{ConvParams, Init};

    #[test]
    fn matmul_and_conv_count_multiply_adds_twice() {
        let b = GraphBuilder::new("c");
        let x = b.input("x", &[128, 784]);
        let w = b.param("w", &[784, 256], Init::Zeros);
        let y = x.matmul(w);
        let img = b.input("img", &[64, 1, 32, 32]);
        let k = b.param("k", &[6, 1, 5, 5], Init::Zeros);
        let c = img.conv2d(k, ConvParams::default());
        let (y, c) = (y.id().unwrap(), c.id().unwrap());
        let g = b.build().unwrap();
        assert_eq!(node_cost(&g, y).flops, 2 * 128 * 784 * 256);
        assert_eq!(node_cost(&g, c).flops, 2 * 64 * 6 * 28 * 28 * 25);
        assert_eq!(
            node_cost(&g, y).bytes,
            4 * (128 * 784 + 784 * 256 + 128 * 256)
        );
    }
}
