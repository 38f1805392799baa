//! The reference evaluator: the definition of what every op computes.
//!
//! It is deliberately naive: every op is a plain loop over row-major arrays
//! that says what the result is, with no tiling, no threads and no clever
//! index arithmetic, so it can be read as the specification. Constant folding
//! calls [`eval_op`]; every optimized kernel and every compiled program is
//! tested against [`evaluate`]. It is generic over the float precision
//! ([`Element`]): an `f32` graph evaluated in `f64` gives gradient checks
//! whose finite differences are not swamped by rounding.
//!
//! Nothing a user controls makes it panic: operand types are re-checked with
//! [`infer`] before an op runs, indices are range-checked, integer arithmetic
//! wraps and integer division by zero gives 0.
//!
//! One file per family of ops: `elementwise.rs`, `reduce.rs`, `movement.rs`,
//! `indexing.rs` (gather, scatter-add, one-hot), `linalg.rs` (matmul),
//! `conv.rs`, `pool.rs` and `generate.rs` (constants, iota, random).

mod conv;
mod elementwise;
mod generate;
mod indexing;
mod layout;
mod linalg;
mod movement;
mod pool;
mod reduce;
mod value;

pub use value::{Array, Element, Env, Value};

use crate::error::EvalError;
use crate::graph::Graph;
use crate::id::NodeId;
use crate::infer::infer;
use crate::op::Op;
use crate::shape::TensorType;
use std::collections::BTreeMap;

/// The node being evaluated, for error messages.
#[derive(Clone, Copy)]
struct Cx {
    node: NodeId,
    op: &'static str,
}

impl Cx {
    fn invalid(self, message: impl Into<String>) -> EvalError {
        EvalError::Invalid {
            node: self.node,
            op: self.op,
            message: message.into(),
        }
    }

    fn out_of_range(self, index: i32, bound: usize) -> EvalError {
        EvalError::IndexOutOfRange {
            node: self.node,
            op: self.op,
            index: i64::from(index),
            bound,
        }
    }
}

/// The value of `op` (the op of node `node`, whose type is `out`) applied to
/// operand values `args`.
///
/// `input`, `param` and `state` have no value here (they are read from the
/// run's inputs and store by [`evaluate_all`]); `output` and `update` return
/// their operand. Errors if the operands' types do not give `out`.
pub fn eval_op<T: Element>(
    node: NodeId,
    op: &Op,
    out: &TensorType,
    args: &[&Value<T>],
) -> Result<Value<T>, EvalError> {
    let cx = Cx {
        node,
        op: op.name(),
    };
    check_types(cx, op, out, args)?;
    match op {
        Op::Input { .. } | Op::Param { .. } | Op::State { .. } => Err(cx.invalid(
            "inputs, params and state are read from the run's inputs and store, not computed",
        )),
        Op::Const { value } => Ok(Value::from_literal(value)),
        Op::Iota { ty, axis } => Ok(generate::iota(ty, *axis)),
        Op::Output { .. } | Op::Update { .. } => Ok(args[0].clone()),
        Op::Unary(u) => elementwise::unary(cx, *u, args[0]),
        Op::Binary(b) => elementwise::binary(cx, *b, args[0], args[1]),
        Op::Where => elementwise::select(cx, args[0], args[1], args[2]),
        Op::Cast { to } => Ok(elementwise::cast(*to, args[0])),
        Op::Reduce {
            op: r,
            axes,
            keepdims: _,
        } => reduce::reduce(cx, *r, axes, &out.shape, args[0]),
        Op::ArgMax { axis, keepdims: _ } => reduce::argmax(cx, *axis, &out.shape, args[0]),
        Op::Reshape { shape } => Ok(movement::reshape(shape, args[0])),
        Op::StopGradient => Ok(args[0].clone()),
        Op::Permute { perm } => Ok(movement::permute(perm, &out.shape, args[0])),
        Op::Broadcast { shape } => Ok(movement::broadcast(shape, args[0])),
        Op::Slice {
            axis, start, step, ..
        } => Ok(movement::slice(*axis, *start, *step, &out.shape, args[0])),
        Op::Pad {
            axis,
            low,
            interior,
            value,
            ..
        } => Ok(movement::pad(
            *axis,
            *low,
            *interior,
            value.get(),
            &out.shape,
            args[0],
        )),
        Op::Concat { axis } => movement::concat(cx, *axis, &out.shape, args),
        Op::Gather { axis } => indexing::gather(cx, *axis, &out.shape, args[0], args[1]),
        Op::ScatterAdd { axis, size } => {
            indexing::scatter_add(cx, *axis, *size, &out.shape, args[0], args[1])
        }
        Op::OneHot { depth } => indexing::one_hot(cx, *depth, &out.shape, args[0]),
        Op::MatMul {
            transpose_lhs,
            transpose_rhs,
        } => linalg::matmul(cx, *transpose_lhs, *transpose_rhs, &out.shape, args),
        Op::Conv2d(p) => conv::conv2d(cx, p, &out.shape, args[0], args[1]),
        Op::Conv2dInputGrad { conv: p, .. } => {
            conv::input_grad(cx, p, &out.shape, args[0], args[1])
        }
        Op::Conv2dWeightGrad { conv: p, .. } => {
            conv::weight_grad(cx, p, &out.shape, args[0], args[1])
        }
        Op::MaxPool2d(p) => pool::max_pool(cx, p, &out.shape, args[0]),
        Op::MaxPool2dGrad(p) => pool::max_pool_grad(cx, p, args[0], args[1]),
        Op::AvgPool2d(p) => pool::avg_pool(cx, p, &out.shape, args[0]),
        Op::AvgPool2dGrad { pool: p, .. } => pool::avg_pool_grad(cx, p, &out.shape, args[0]),
        Op::RandomUniform { seed, .. } => generate::uniform(cx, *seed, &out.shape, args[0]),
        Op::RandomBernoulli { p, seed, .. } => {
            generate::bernoulli(cx, *seed, p.get(), &out.shape, args[0])
        }
    }
}

/// Re-runs type inference on the operand values, so that every op below can
/// rely on its operands having the shapes and dtypes its typing rules demand.
fn check_types<T: Element>(
    cx: Cx,
    op: &Op,
    out: &TensorType,
    args: &[&Value<T>],
) -> Result<(), EvalError> {
    let types: Vec<TensorType> = args.iter().map(|a| a.ty()).collect();
    let list = || {
        let names: Vec<String> = types.iter().map(|t| t.to_string()).collect();
        names.join(", ")
    };
    match infer(op, &types) {
        Ok(ty) if ty == *out => Ok(()),
        Ok(ty) => Err(cx.invalid(format!(
            "the node's type is {out}, but operands ({}) give {ty}",
            list()
        ))),
        Err(e) => Err(cx.invalid(format!("operands ({}): {e}", list()))),
    }
}

/// The value of every node of `graph`, computed in topological order, with
/// `inputs` feeding the `input` nodes and `store` the `param` and `state` nodes.
pub fn evaluate_all<T: Element>(
    graph: &Graph,
    inputs: &Env<T>,
    store: &Env<T>,
) -> Result<BTreeMap<NodeId, Value<T>>, EvalError> {
    let order = graph.topo_order().map_err(|stuck| {
        let first = stuck.first().copied().unwrap_or(NodeId(0));
        let ids: Vec<String> = stuck.iter().map(|id| id.to_string()).collect();
        EvalError::Invalid {
            node: first,
            op: if graph.contains(first) {
                graph.op(first).name()
            } else {
                "graph"
            },
            message: format!(
                "the graph has a cycle; these nodes lie on or behind it: {}",
                ids.join(", ")
            ),
        }
    })?;
    let mut values: BTreeMap<NodeId, Value<T>> = BTreeMap::new();
    for id in order {
        let node = graph.node(id);
        let value = match &node.op {
            Op::Input { name, .. } => read(inputs, "input", name, &node.ty)?,
            Op::Param { name, .. } => read(store, "param", name, &node.ty)?,
            Op::State { name, .. } => read(store, "state", name, &node.ty)?,
            op => {
                let operands = graph.operands(id);
                let mut args = Vec::with_capacity(operands.len());
                for o in &operands {
                    let v = values.get(o).ok_or_else(|| EvalError::Invalid {
                        node: id,
                        op: op.name(),
                        message: format!("operand {o} has no value"),
                    })?;
                    args.push(v);
                }
                eval_op(id, op, &node.ty, &args)?
            }
        };
        values.insert(id, value);
    }
    Ok(values)
}

/// Looks up a source's value and checks its type.
fn read<T: Element>(
    env: &Env<T>,
    kind: &'static str,
    name: &str,
    expected: &TensorType,
) -> Result<Value<T>, EvalError> {
    let Some(value) = env.get(name) else {
        return Err(if kind == "input" {
            EvalError::MissingInput {
                name: name.into(),
                expected: expected.clone(),
            }
        } else {
            EvalError::MissingValue {
                kind,
                name: name.into(),
                expected: expected.clone(),
            }
        });
    };
    let found = value.ty();
    if found != *expected {
        return Err(if kind == "input" {
            EvalError::InputType {
                name: name.into(),
                expected: expected.clone(),
                found,
            }
        } else {
            EvalError::StoredType {
                kind,
                name: name.into(),
                expected: expected.clone(),
                found,
            }
        });
    }
    Ok(value.clone())
}

/// Runs `graph` once: returns its outputs by name and then, after the whole
/// run (every read of a param or state saw its old value), writes each
/// `update`'s value into `store`. On error the store is left unchanged.
pub fn evaluate<T: Element>(
    graph: &Graph,
    inputs: &Env<T>,
    store: &mut Env<T>,
) -> Result<Env<T>, EvalError> {
    let mut values = evaluate_all(graph, inputs, store)?;
    let mut outputs = Env::new();
    for id in graph.outputs() {
        if let (Op::Output { name }, Some(v)) = (graph.op(id), values.remove(&id)) {
            outputs.insert(name.clone(), v);
        }
    }
    let mut writes = Env::new();
    for id in graph.updates() {
        let (Op::Update { target }, Some(v)) = (graph.op(id), values.remove(&id)) else {
            continue;
        };
        let cx = Cx {
            node: id,
            op: "update",
        };
        let target_ty = match graph.source(target) {
            Some(t) if matches!(graph.op(t), Op::Param { .. } | Op::State { .. }) => graph.ty(t),
            _ => return Err(cx.invalid(format!("no param or state named `{target}` to update"))),
        };
        // The verifier checks this too, but a stored value must never change type.
        if *target_ty != v.ty() {
            return Err(cx.invalid(format!(
                "the new value of `{target}` is {}, the target is {target_ty}",
                v.ty()
            )));
        }
        if writes.insert(target.clone(), v).is_some() {
            return Err(cx.invalid(format!("`{target}` is updated more than once")));
        }
    }
    store.extend(writes);
    Ok(outputs)
}
