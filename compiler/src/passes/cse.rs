//! Common-subexpression elimination.

use crate::error::PassError;
use crate::pass::{Changed, Pass, PassCx, topo_order};
use kiln_ir::{Graph, NodeId, Op};
use std::collections::HashMap;

/// Merges nodes that apply an equal op to equal operands, keeping the one with
/// the smallest id. Exact: ops are compared with `Op: Eq + Hash`, never by
/// their printed text. Operands of commutative ops (`add`, `mul`, `max`, `min`,
/// `eq`, `ne`) are compared as sets.
///
/// Sources with a name (`input`, `param`, `state`) and sinks are never merged;
/// constants, iotas and random ops (pure functions of seed and counter) are.
pub struct Cse;

impl Pass for Cse {
    fn name(&self) -> &'static str {
        "cse"
    }

    fn run(&self, graph: &mut Graph, _cx: &mut PassCx) -> Result<Changed, PassError> {
        let order = topo_order(graph)?;
        let mut seen: HashMap<(Op, Vec<NodeId>), NodeId> = HashMap::new();
        let mut changed = false;
        for id in order {
            let op = graph.op(id);
            if op.is_sink() || op.symbol().is_some() {
                continue;
            }
            let mut operands = graph.operands(id);
            if let Op::Binary(b) = op
                && b.is_commutative()
            {
                operands.sort_unstable();
            }
            // Nodes are visited in topological order, so an earlier equal node
            // exists by now and the replacement never creates a cycle.
            match seen.entry((op.clone(), operands)) {
                std::collections::hash_map::Entry::Occupied(first) => {
                    let keep = *first.get();
                    if graph.ty(keep) == graph.ty(id) {
                        graph.replace_all_uses(id, keep);
                        graph.remove(id);
                        changed = true;
                    }
                }
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(id);
                }
            }
        }
        Ok(Changed::from_bool(changed))
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::check_pass;

    #[test]
    fn merges_equal_ops_including_commuted_operands() {
        check_pass!("cse", r#"
graph g {
  %0: f32[2] = input "x"
  %1: f32[2] = input "y"
  %2: f32[2] = add %0, %1
  %3: f32[2] = add %1, %0
  %4: f32[2] = sub %0, %1
  %5: f32[2] = sub %1, %0
  %6: f32[] = const 2.0
  %7: f32[] = const 2.0
  %8: f32[2] = mul %2, %3
  %9: f32[2] = mul %4, %5
  output "a" = %8
  output "b" = %9
  output "c" = %6
  output "d" = %7
}
"#, @r#"
        graph g {
          %0: f32[2] = input "x"
          %1: f32[2] = input "y"
          %6: f32[] = const 2.0
          %2: f32[2] = add %0, %1
          %8: f32[2] = mul %2, %2
          %4: f32[2] = sub %0, %1
          %5: f32[2] = sub %1, %0
          %9: f32[2] = mul %4, %5
          output "a" = %8
          output "b" = %9
          output "c" = %6
          output "d" = %6
        }
        "#);
    }
}
