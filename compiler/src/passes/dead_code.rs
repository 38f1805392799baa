//! Dead-code elimination.

use crate::error::PassError;
use crate::pass::{Changed, Pass, PassCx};
use kiln_ir::{Graph, NodeId, Op};

/// Removes nodes whose values reach no `output` and no `update`.
///
/// Does not remove `input`, `param` or `state` nodes, even unused ones: they
/// are the graph's signature (a caller still feeds the input; a checkpoint
/// still holds the parameter).
pub struct DeadCode;

impl Pass for DeadCode {
    fn name(&self) -> &'static str {
        "dead-code"
    }

    fn run(&self, graph: &mut Graph, _cx: &mut PassCx) -> Result<Changed, PassError> {
        let mut live = vec![false; graph.next_id().index()];
        let mut stack: Vec<NodeId> = graph.find(|op| op.is_sink() || is_signature(op));
        while let Some(id) = stack.pop() {
            if std::mem::replace(&mut live[id.index()], true) {
                continue;
            }
            stack.extend(graph.operands(id));
        }
        let dead: Vec<NodeId> = graph.ids().filter(|id| !live[id.index()]).collect();
        // Remove users before operands is not needed: every dead node's users are dead too.
        for &id in &dead {
            graph.remove(id);
        }
        Ok(Changed::from_bool(!dead.is_empty()))
    }
}

fn is_signature(op: &Op) -> bool {
    matches!(op, Op::Input { .. } | Op::Param { .. } | Op::State { .. })
}

#[cfg(test)]
mod tests {
    use crate::testing::check_pass;

    #[test]
    fn removes_what_reaches_no_sink_and_keeps_the_signature() {
        check_pass!("dead-code", r#"
graph g {
  %0: f32[2] = input "x"
  %1: f32[2] = input "unused"
  %2: f32[2] = param "w" init=zeros
  %3: f32[2] = exp %0
  %4: f32[2] = neg %0
  %5: f32[2] = relu %4
  output "y" = %3
}
"#, @r#"
        graph g {
          %0: f32[2] = input "x"
          %1: f32[2] = input "unused"
          %2: f32[2] = param "w" init=zeros
          %3: f32[2] = exp %0
          output "y" = %3
        }
        "#);
    }
}
