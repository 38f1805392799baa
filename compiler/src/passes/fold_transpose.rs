//! Transpose folding into matrix products.

use crate::error::PassError;
use crate::pass::{Changed, Pass, PassCx};
use kiln_ir::{Graph, NodeId, Op};

/// Rewrites `matmul(permute(a, [.., n-1, n-2]), b)` to `matmul(a, b)` with
/// `transpose_lhs` flipped (and likewise for the right operand), so a
/// transposed operand costs a stride in the GEMM call, never a copy.
///
/// Only permutations that swap the last two dims and leave batch dims in place
/// fold; others stay (the permute itself is a view at run time anyway).
pub struct FoldTranspose;

impl Pass for FoldTranspose {
    fn name(&self) -> &'static str {
        "fold-transpose"
    }

    fn run(&self, graph: &mut Graph, _cx: &mut PassCx) -> Result<Changed, PassError> {
        let mut changed = false;
        for id in graph.find(|op| matches!(op, Op::MatMul { .. })) {
            let Op::MatMul {
                mut transpose_lhs,
                mut transpose_rhs,
            } = graph.op(id).clone()
            else {
                continue;
            };
            let mut operands = graph.operands(id);
            let mut folded = false;
            for (slot, flag) in [(0, &mut transpose_lhs), (1, &mut transpose_rhs)] {
                if let Some(inner) = swapped_last_two(graph, operands[slot]) {
                    operands[slot] = inner;
                    *flag = !*flag;
                    folded = true;
                }
            }
            if folded {
                let ty = graph.ty(id).clone();
                graph.rewrite(
                    id,
                    Op::MatMul {
                        transpose_lhs,
                        transpose_rhs,
                    },
                    ty,
                    &operands,
                );
                changed = true;
            }
        }
        Ok(Changed::from_bool(changed))
    }
}

/// If `id` is a permute that swaps only the last two dims, its operand.
fn swapped_last_two(graph: &Graph, id: NodeId) -> Option<NodeId> {
    let Op::Permute { perm } = graph.op(id) else {
        return None;
    };
    let r = perm.len();
    let is_swap = r >= 2
        && perm[..r - 2].iter().enumerate().all(|(i, &p)| i == p)
        && perm[r - 2] == r - 1
        && perm[r - 1] == r - 2;
    is_swap.then(|| graph.operands(id)[0])
}

#[cfg(test)]
mod tests {
    use crate::testing::check_pass;

    #[test]
    fn swapped_operands_become_flags() {
        check_pass!("fold-transpose", r#"
graph g {
  %0: f32[4,8] = input "a"
  %1: f32[16,8] = input "w"
  %2: f32[8,16] = permute %1 perm=[1,0]
  %3: f32[4,16] = matmul %0, %2
  %4: f32[8,4] = permute %0 perm=[1,0]
  %5: f32[8,16] = matmul %4, %3
  output "y" = %5
}
"#, @r#"
        graph g {
          %0: f32[4,8] = input "a"
          %1: f32[16,8] = input "w"
          %3: f32[4,16] = matmul %0, %1 transpose_rhs=true
          %5: f32[8,16] = matmul %0, %3 transpose_lhs=true
          %2: f32[8,16] = permute %1 perm=[1,0]
          %4: f32[8,4] = permute %0 perm=[1,0]
          output "y" = %5
        }
        "#);
    }
}
