//! Constant folding.

use crate::error::PassError;
use crate::pass::{Changed, Pass, PassCx, topo_order};
use kiln_ir::eval::{Value, eval_op};
use kiln_ir::{Graph, Literal, NodeId, Op};

/// Replaces a node whose operands are all constants by a constant holding its
/// value, computed by the reference evaluator (`kiln_ir::eval`), so folding
/// means exactly what running would.
///
/// Only results of at most `PassCx::fold_budget` elements are folded: folding
/// `broadcast(const 0.0)` to a `[128, 256]` literal would bloat the graph and
/// its text for no gain. `broadcast` is never folded for the same reason (it
/// costs nothing at run time: it becomes a view). Sources, sinks and random ops
/// are left alone.
///
/// Splats fold at any size: an elementwise op whose operands are all constant
/// splats (`broadcast(const 2.0)`, or constants whose elements are all equal)
/// becomes `broadcast(const result)`, computed on one element.
pub struct ConstantFold;

impl Pass for ConstantFold {
    fn name(&self) -> &'static str {
        "constant-fold"
    }

    fn run(&self, graph: &mut Graph, cx: &mut PassCx) -> Result<Changed, PassError> {
        let order = topo_order(graph)?;
        let mut changed = false;
        for id in order {
            let node = graph.node(id);
            let foldable = !node.op.is_source()
                && !node.op.is_sink()
                && !matches!(
                    node.op,
                    Op::Broadcast { .. } | Op::RandomUniform { .. } | Op::RandomBernoulli { .. }
                )
                && node.ty.shape.numel() <= cx.fold_budget;
            let operands = graph.operands(id);
            if is_elementwise(&node.op)
                && !operands
                    .iter()
                    .all(|&o| matches!(graph.op(o), Op::Const { .. }))
                && let Some(scalar) = splat_result(graph, id, &operands)?
            {
                let ty = graph.ty(id).clone();
                let c = graph.add_typed(
                    Op::Const {
                        value: scalar.clone(),
                    },
                    scalar.ty(),
                    &[],
                );
                graph.rewrite(
                    id,
                    Op::Broadcast {
                        shape: ty.shape.clone(),
                    },
                    ty,
                    &[c],
                );
                changed = true;
                continue;
            }
            if !foldable {
                continue;
            }
            let Some(values) = const_values(graph, &operands) else {
                continue;
            };
            let refs: Vec<&Value<f32>> = values.iter().collect();
            let value = eval_op(id, &node.op, &node.ty, &refs)?;
            let literal = to_literal(&value);
            let ty = literal.ty();
            graph.rewrite(id, Op::Const { value: literal }, ty, &[]);
            changed = true;
        }
        Ok(Changed::from_bool(changed))
    }
}

fn is_elementwise(op: &Op) -> bool {
    matches!(
        op,
        Op::Unary(_) | Op::Binary(_) | Op::Where | Op::Cast { .. }
    )
}

/// The one element of a constant splat: a constant whose elements are all
/// equal, or a broadcast or reshape of one (`simplify` reads it too).
pub(crate) fn splat(graph: &Graph, id: NodeId) -> Option<Literal> {
    match graph.op(id) {
        Op::Const { value } => {
            let v = value.splat_value()?;
            Some(match value.dtype() {
                kiln_ir::DType::F32 => Literal::scalar_f32(v as f32),
                kiln_ir::DType::I32 => Literal::scalar_i32(v as i32),
            })
        }
        Op::Broadcast { .. } | Op::Reshape { .. } => splat(graph, graph.operands(id)[0]),
        _ => None,
    }
}

/// The scalar result of elementwise node `id` if all its operands are splats.
fn splat_result(
    graph: &Graph,
    id: NodeId,
    operands: &[NodeId],
) -> Result<Option<Literal>, PassError> {
    let Some(scalars) = operands
        .iter()
        .map(|&o| splat(graph, o))
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(None);
    };
    let values: Vec<Value<f32>> = scalars.iter().map(Value::from_literal).collect();
    let refs: Vec<&Value<f32>> = values.iter().collect();
    let out = kiln_ir::TensorType::new(graph.ty(id).dtype, kiln_ir::Shape::scalar());
    Ok(Some(to_literal(&eval_op(id, graph.op(id), &out, &refs)?)))
}

/// The values of `operands` if every one is a constant.
fn const_values(graph: &Graph, operands: &[NodeId]) -> Option<Vec<Value<f32>>> {
    operands
        .iter()
        .map(|&o| match graph.op(o) {
            Op::Const { value } => Some(Value::from_literal(value)),
            _ => None,
        })
        .collect()
}

fn to_literal(value: &Value<f32>) -> Literal {
    let lit = match value {
        Value::Float(a) => Literal::f32(a.shape.clone(), a.data.clone()),
        Value::Int(a) => Literal::i32(a.shape.clone(), a.data.clone()),
    };
    lit.expect("the evaluator returns as many elements as the shape holds")
}

#[cfg(test)]
mod tests {
    use crate::testing::check_pass;

    #[test]
    fn folds_small_constant_expressions_only() {
        check_pass!("constant-fold", r#"
graph g {
  %0: f32[2] = input "x"
  %1: f32[] = const 2.0
  %2: f32[] = const 3.0
  %3: f32[] = mul %1, %2
  %4: f32[2] = broadcast %3
  %5: f32[2] = add %0, %4
  %6: f32[300] = broadcast %1
  %7: f32[300] = exp %6
  %8: f32[2] = const [1.0, 4.0]
  %9: f32[2] = sqrt %8
  output "y" = %5
  output "z" = %7
  output "w" = %9
}
"#, @r#"
        graph g {
          %0: f32[2] = input "x"
          %1: f32[] = const 2.0
          %2: f32[] = const 3.0
          %3: f32[] = const 6.0
          %8: f32[2] = const [1.0, 4.0]
          %9: f32[2] = const [1.0, 2.0]
          %13: f32[] = const 7.389056
          %4: f32[2] = broadcast %3
          %5: f32[2] = add %0, %4
          %7: f32[300] = broadcast %13
          %6: f32[300] = broadcast %1
          output "y" = %5
          output "z" = %7
          output "w" = %9
        }
        "#);
    }
}
