//! Algebraic simplification: local rewrites to a simpler equivalent.

use crate::error::PassError;
use crate::pass::{Changed, Pass, PassCx, topo_order};
use kiln_ir::{BinaryOp, Graph, Literal, NodeId, Op, UnaryOp};

/// Applies the rules in [`RULES`] to every node, in topological order. Each
/// rule replaces a node by one of its operands or by a single cheaper node;
/// none ever adds work. Nodes left without users are removed by `dead-code`.
///
/// Floating-point caveats (shared with XLA's simplifier): `x + 0 -> x` keeps a
/// `-0.0` that the addition would have made `+0.0`; `x - x -> 0` assumes `x` is
/// finite. No rule changes a finite result. Not done here: `x * 0 -> 0` (wrong
/// for infinities and NaN), reassociation.
pub struct Simplify;

/// One rewrite: returns whether it changed the graph.
type Rule = fn(&mut Graph, NodeId) -> bool;

/// Every rule, by name, in the order they are tried.
pub const RULES: &[(&str, Rule)] = &[
    ("add-zero", add_zero),
    ("sub-zero", sub_zero),
    ("mul-one", mul_one),
    ("div-one", div_one),
    ("sub-self", sub_self),
    ("neg-neg", neg_neg),
    ("identity-movement", identity_movement),
    ("permute-permute", permute_permute),
    ("reshape-reshape", reshape_reshape),
    ("broadcast-broadcast", broadcast_broadcast),
    ("reduce-unit-axes", reduce_unit_axes),
];

impl Pass for Simplify {
    fn name(&self) -> &'static str {
        "simplify"
    }

    fn run(&self, graph: &mut Graph, _cx: &mut PassCx) -> Result<Changed, PassError> {
        let order = topo_order(graph)?;
        let mut changed = false;
        for id in order {
            for (_, rule) in RULES {
                if graph.contains(id) && rule(graph, id) {
                    changed = true;
                    break;
                }
            }
        }
        Ok(Changed::from_bool(changed))
    }
}

/// The value every element of `id` has, if it is a constant splat (possibly
/// broadcast or reshaped).
fn splat(graph: &Graph, id: NodeId) -> Option<f64> {
    super::constant_fold::splat(graph, id).and_then(|l| l.splat_value())
}

fn binary(graph: &Graph, id: NodeId, op: BinaryOp) -> Option<(NodeId, NodeId)> {
    match graph.op(id) {
        Op::Binary(b) if *b == op => {
            let o = graph.operands(id);
            Some((o[0], o[1]))
        }
        _ => None,
    }
}

/// Makes every user of `id` use `by` instead.
fn forward(graph: &mut Graph, id: NodeId, by: NodeId) -> bool {
    if graph.ty(id) != graph.ty(by) || !graph.has_users(id) {
        return false;
    }
    graph.replace_all_uses(id, by);
    true
}

/// `x + 0 -> x`, `0 + x -> x`.
fn add_zero(graph: &mut Graph, id: NodeId) -> bool {
    let Some((a, b)) = binary(graph, id, BinaryOp::Add) else {
        return false;
    };
    if splat(graph, b) == Some(0.0) {
        forward(graph, id, a)
    } else if splat(graph, a) == Some(0.0) {
        forward(graph, id, b)
    } else {
        false
    }
}

/// `x - 0 -> x`.
fn sub_zero(graph: &mut Graph, id: NodeId) -> bool {
    match binary(graph, id, BinaryOp::Sub) {
        Some((a, b)) if splat(graph, b) == Some(0.0) => forward(graph, id, a),
        _ => false,
    }
}

/// `x * 1 -> x`, `1 * x -> x`.
fn mul_one(graph: &mut Graph, id: NodeId) -> bool {
    let Some((a, b)) = binary(graph, id, BinaryOp::Mul) else {
        return false;
    };
    if splat(graph, b) == Some(1.0) {
        forward(graph, id, a)
    } else if splat(graph, a) == Some(1.0) {
        forward(graph, id, b)
    } else {
        false
    }
}

/// `x / 1 -> x`.
fn div_one(graph: &mut Graph, id: NodeId) -> bool {
    match binary(graph, id, BinaryOp::Div) {
        Some((a, b)) if splat(graph, b) == Some(1.0) => forward(graph, id, a),
        _ => false,
    }
}

/// `x - x -> broadcast(0)`.
fn sub_self(graph: &mut Graph, id: NodeId) -> bool {
    match binary(graph, id, BinaryOp::Sub) {
        Some((a, b)) if a == b => {
            let ty = graph.ty(id).clone();
            let zero = match ty.dtype {
                kiln_ir::DType::F32 => Literal::scalar_f32(0.0),
                kiln_ir::DType::I32 => Literal::scalar_i32(0),
            };
            let c = graph.add_typed(
                Op::Const {
                    value: zero.clone(),
                },
                zero.ty(),
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
            true
        }
        _ => false,
    }
}

/// `-(-x) -> x`.
fn neg_neg(graph: &mut Graph, id: NodeId) -> bool {
    if graph.op(id) != &Op::Unary(UnaryOp::Neg) {
        return false;
    }
    let inner = graph.operands(id)[0];
    if graph.op(inner) != &Op::Unary(UnaryOp::Neg) {
        return false;
    }
    let x = graph.operands(inner)[0];
    forward(graph, id, x)
}

/// Movement that moves nothing: a reshape, broadcast or cast to the same type,
/// an identity permutation, a full slice with step 1, a pad of nothing, a
/// concat of one operand, a reduction over no axes.
fn identity_movement(graph: &mut Graph, id: NodeId) -> bool {
    let operands = graph.operands(id);
    let Some(&x) = operands.first() else {
        return false;
    };
    let same_type = graph.ty(x) == graph.ty(id);
    let identity = match graph.op(id) {
        Op::Reshape { .. } | Op::Broadcast { .. } | Op::Cast { .. } => same_type,
        Op::Permute { perm } => perm.iter().enumerate().all(|(i, &p)| i == p),
        Op::Slice { step, .. } => *step == 1 && same_type,
        Op::Pad {
            low,
            high,
            interior,
            ..
        } => *low == 0 && *high == 0 && (*interior == 0 || same_type),
        Op::Concat { .. } => operands.len() == 1,
        Op::Reduce { axes, .. } => axes.is_empty(),
        _ => false,
    };
    identity && forward(graph, id, x)
}

/// `permute(permute(x, p), q) -> permute(x, p∘q)` (or `x` when that is the identity).
fn permute_permute(graph: &mut Graph, id: NodeId) -> bool {
    let Op::Permute { perm: q } = graph.op(id).clone() else {
        return false;
    };
    let inner = graph.operands(id)[0];
    let Op::Permute { perm: p } = graph.op(inner).clone() else {
        return false;
    };
    let x = graph.operands(inner)[0];
    let composed: Vec<usize> = q.iter().map(|&i| p[i]).collect();
    if composed.iter().enumerate().all(|(i, &c)| i == c) {
        return forward(graph, id, x);
    }
    let ty = graph.ty(id).clone();
    graph.rewrite(id, Op::Permute { perm: composed }, ty, &[x]);
    true
}

/// `reshape(reshape(x)) -> reshape(x)`.
fn reshape_reshape(graph: &mut Graph, id: NodeId) -> bool {
    let Op::Reshape { shape } = graph.op(id).clone() else {
        return false;
    };
    let inner = graph.operands(id)[0];
    if !matches!(graph.op(inner), Op::Reshape { .. }) {
        return false;
    }
    let x = graph.operands(inner)[0];
    let ty = graph.ty(id).clone();
    graph.rewrite(id, Op::Reshape { shape }, ty, &[x]);
    true
}

/// `broadcast(broadcast(x)) -> broadcast(x)` (numpy broadcasting is transitive).
fn broadcast_broadcast(graph: &mut Graph, id: NodeId) -> bool {
    let Op::Broadcast { shape } = graph.op(id).clone() else {
        return false;
    };
    let inner = graph.operands(id)[0];
    if !matches!(graph.op(inner), Op::Broadcast { .. }) {
        return false;
    }
    let x = graph.operands(inner)[0];
    let ty = graph.ty(id).clone();
    graph.rewrite(id, Op::Broadcast { shape }, ty, &[x]);
    true
}

/// A reduction over axes of size 1 only is a reshape (or nothing).
fn reduce_unit_axes(graph: &mut Graph, id: NodeId) -> bool {
    let Op::Reduce { axes, .. } = graph.op(id).clone() else {
        return false;
    };
    let x = graph.operands(id)[0];
    let dims = graph.ty(x).shape.0.clone();
    if axes.is_empty() || !axes.iter().all(|&a| dims[a] == 1) {
        return false;
    }
    // Sum, mean, max and min of one element are all that element.
    let ty = graph.ty(id).clone();
    if ty == *graph.ty(x) {
        return forward(graph, id, x);
    }
    graph.rewrite(
        id,
        Op::Reshape {
            shape: ty.shape.clone(),
        },
        ty,
        &[x],
    );
    true
}

#[cfg(test)]
mod tests {
    use crate::testing::check_pass;

    #[test]
    fn identities_disappear() {
        check_pass!("simplify", r#"
graph g {
  %0: f32[2,3] = input "x"
  %1: f32[] = const 0.0
  %2: f32[2,3] = broadcast %1
  %3: f32[2,3] = add %0, %2
  %4: f32[] = const 1.0
  %5: f32[2,3] = broadcast %4
  %6: f32[2,3] = mul %5, %3
  %7: f32[2,3] = neg %6
  %8: f32[2,3] = neg %7
  %9: f32[2,3] = sub %8, %8
  %10: f32[3,2] = permute %0 perm=[1,0]
  %11: f32[2,3] = permute %10 perm=[1,0]
  %12: f32[6] = reshape %11
  %13: f32[3,2] = reshape %12
  %14: f32[1,3,2] = reshape %13
  %15: f32[3,2] = reduce_sum %14 axes=[0]
  output "a" = %8
  output "b" = %9
  output "c" = %15
}
"#, @r#"
        graph g {
          %0: f32[2,3] = input "x"
          %1: f32[] = const 0.0
          %4: f32[] = const 1.0
          %19: f32[] = const 0.0
          %9: f32[2,3] = broadcast %19
          %14: f32[1,3,2] = reshape %0
          %15: f32[3,2] = reshape %14
          %2: f32[2,3] = broadcast %1
          %3: f32[2,3] = add %0, %2
          %5: f32[2,3] = broadcast %4
          %6: f32[2,3] = mul %5, %0
          %7: f32[2,3] = neg %0
          %8: f32[2,3] = neg %7
          %10: f32[3,2] = permute %0 perm=[1,0]
          %11: f32[2,3] = permute %10 perm=[1,0]
          %12: f32[6] = reshape %0
          %13: f32[3,2] = reshape %0
          output "a" = %0
          output "b" = %9
          output "c" = %15
        }
        "#);
    }
}
