//! The builder DSL: write a model as Rust expressions, get a [`Graph`].
//!
//! ```
//! use kiln_ir::{GraphBuilder, Init};
//!
//! let b = GraphBuilder::new("perceptron");
//! let x = b.input("x", &[32, 4]);
//! let w = b.param("w", &[4, 1], Init::xavier_uniform(4, 1));
//! let bias = b.param("b", &[1], Init::Zeros);
//! let y = (x.matmul(w) + bias).sigmoid();
//! b.output("y", y);
//! let graph = b.build().unwrap();
//! assert_eq!(graph.ty(graph.output("y").unwrap()).to_string(), "f32[32,1]");
//! ```
//!
//! A [`Tensor`] is a `Copy` handle that borrows its builder, so expressions read
//! like the maths. The builder owns the graph behind a `RefCell` (no raw
//! pointers). Mistakes do not panic and need no `?` on every line: the builder
//! records the first error together with the caller's `file:line`
//! (`#[track_caller]`), every tensor computed from a failed one is *poisoned*
//! (it records nothing more), and [`GraphBuilder::build`] returns the error.
//! This is how XLA's builder behaves.

mod operators;
mod tensor;

pub use tensor::Axes;

use crate::dtype::DType;
use crate::error::{BuildError, SourceLoc, TypeError};
use crate::graph::Graph;
use crate::id::NodeId;
use crate::literal::{Float, Literal};
use crate::op::{Init, Op};
use crate::shape::{Shape, TensorType};
use std::cell::RefCell;

/// Builds one graph. See the module docs.
pub struct GraphBuilder {
    state: RefCell<State>,
}

struct State {
    graph: Graph,
    error: Option<BuildError>,
    /// Seeds handed to random ops, so that two dropout layers draw different masks.
    next_seed: u64,
}

/// A handle to a tensor being built. `Copy`; operators `+ - * /` and the
/// methods in `tensor.rs` add nodes to the builder it borrows.
#[derive(Clone, Copy)]
pub struct Tensor<'g> {
    b: &'g GraphBuilder,
    /// `None` when poisoned: an earlier mistake made this value meaningless.
    id: Option<NodeId>,
}

impl std::fmt::Debug for Tensor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.id {
            Some(id) => write!(f, "Tensor({id}: {})", self.ty()),
            None => f.write_str("Tensor(poisoned)"),
        }
    }
}

impl GraphBuilder {
    /// A builder for a graph called `name`.
    pub fn new(name: impl Into<String>) -> GraphBuilder {
        GraphBuilder {
            state: RefCell::new(State {
                graph: Graph::new(name),
                error: None,
                next_seed: 1,
            }),
        }
    }

    /// A builder that extends an existing graph (compiler passes such as
    /// autodiff write their new nodes with the DSL this way).
    pub fn from_graph(graph: Graph) -> GraphBuilder {
        let next_seed = graph
            .nodes()
            .filter_map(|n| match n.op {
                Op::RandomUniform { seed, .. } | Op::RandomBernoulli { seed, .. } => Some(seed + 1),
                _ => None,
            })
            .max()
            .unwrap_or(1);
        GraphBuilder {
            state: RefCell::new(State {
                graph,
                error: None,
                next_seed,
            }),
        }
    }

    /// A handle to an existing node of the graph; `None` if there is no such node.
    pub fn tensor(&self, id: NodeId) -> Option<Tensor<'_>> {
        self.state.borrow().graph.contains(id).then_some(Tensor {
            b: self,
            id: Some(id),
        })
    }

    /// Runs `f` on the graph being built, for edits the DSL does not offer
    /// (setting locations, removing sinks).
    pub fn edit<R>(&self, f: impl FnOnce(&mut Graph) -> R) -> R {
        f(&mut self.state.borrow_mut().graph)
    }

    /// The graph so far (for inspection while building).
    pub fn graph(&self) -> std::cell::Ref<'_, Graph> {
        std::cell::Ref::map(self.state.borrow(), |s| &s.graph)
    }

    /// The first mistake recorded so far, if any.
    pub fn error(&self) -> Option<BuildError> {
        self.state.borrow().error.clone()
    }

    /// Finishes building: the graph, or the first mistake made while building it.
    pub fn build(self) -> Result<Graph, BuildError> {
        let state = self.state.into_inner();
        match state.error {
            Some(e) => Err(e),
            None => Ok(state.graph),
        }
    }

    /// The graph and the first mistake, if any: for passes that extend a graph
    /// and report mistakes their own way.
    pub fn into_parts(self) -> (Graph, Option<BuildError>) {
        let state = self.state.into_inner();
        (state.graph, state.error)
    }

    /// A fresh seed for a random op. Deterministic: the n-th random op built gets n.
    pub fn next_seed(&self) -> u64 {
        let mut s = self.state.borrow_mut();
        let seed = s.next_seed;
        s.next_seed += 1;
        seed
    }

    /// An `f32` input fed on every run.
    #[track_caller]
    pub fn input(&self, name: &str, shape: &[usize]) -> Tensor<'_> {
        self.input_typed(name, TensorType::f32(shape))
    }

    /// An `i32` input (labels, token ids).
    #[track_caller]
    pub fn input_i32(&self, name: &str, shape: &[usize]) -> Tensor<'_> {
        self.input_typed(name, TensorType::i32(shape))
    }

    /// An input of any type.
    #[track_caller]
    pub fn input_typed(&self, name: &str, ty: TensorType) -> Tensor<'_> {
        let loc = SourceLoc::caller();
        self.source(
            Op::Input {
                name: name.into(),
                ty,
            },
            loc,
        )
    }

    /// A trainable `f32` parameter called `name` (hierarchical names such as
    /// `encoder.0.attn.q.weight` keep checkpoints readable).
    #[track_caller]
    pub fn param(&self, name: &str, shape: &[usize], init: Init) -> Tensor<'_> {
        let loc = SourceLoc::caller();
        self.source(
            Op::Param {
                name: name.into(),
                ty: TensorType::f32(shape),
                init,
            },
            loc,
        )
    }

    /// A persistent, non-trainable tensor (optimizer moments, counters).
    #[track_caller]
    pub fn state(&self, name: &str, ty: TensorType, init: Init) -> Tensor<'_> {
        let loc = SourceLoc::caller();
        self.source(
            Op::State {
                name: name.into(),
                ty,
                init,
            },
            loc,
        )
    }

    /// The existing `input`, `param` or `state` called `name`.
    pub fn lookup(&self, name: &str) -> Option<Tensor<'_>> {
        let id = self.state.borrow().graph.source(name)?;
        Some(Tensor {
            b: self,
            id: Some(id),
        })
    }

    /// A scalar `f32` constant.
    #[track_caller]
    pub fn scalar(&self, value: f32) -> Tensor<'_> {
        let loc = SourceLoc::caller();
        self.add_at(
            Op::Const {
                value: Literal::scalar_f32(value),
            },
            &[],
            loc,
        )
    }

    /// A scalar `i32` constant.
    #[track_caller]
    pub fn scalar_i32(&self, value: i32) -> Tensor<'_> {
        let loc = SourceLoc::caller();
        self.add_at(
            Op::Const {
                value: Literal::scalar_i32(value),
            },
            &[],
            loc,
        )
    }

    /// A constant tensor.
    #[track_caller]
    pub fn literal(&self, value: Literal) -> Tensor<'_> {
        let loc = SourceLoc::caller();
        self.add_at(Op::Const { value }, &[], loc)
    }

    /// An `f32` tensor of `shape` filled with `value` (a scalar constant, broadcast).
    #[track_caller]
    pub fn full(&self, value: f32, shape: &[usize]) -> Tensor<'_> {
        self.scalar(value).broadcast_to(shape)
    }

    /// `f32` tensor whose elements are their index along `axis`.
    #[track_caller]
    pub fn iota(&self, shape: &[usize], axis: usize) -> Tensor<'_> {
        let loc = SourceLoc::caller();
        self.add_at(
            Op::Iota {
                ty: TensorType::f32(shape),
                axis,
            },
            &[],
            loc,
        )
    }

    /// `i32` tensor whose elements are their index along `axis`.
    #[track_caller]
    pub fn iota_i32(&self, shape: &[usize], axis: usize) -> Tensor<'_> {
        let loc = SourceLoc::caller();
        self.add_at(
            Op::Iota {
                ty: TensorType::i32(shape),
                axis,
            },
            &[],
            loc,
        )
    }

    /// Uniform `[0, 1)` samples of `shape`; fresh each run when `counter` (an
    /// `i32[]` state) is incremented each run.
    #[track_caller]
    pub fn random_uniform(&self, counter: Tensor<'_>, shape: &[usize]) -> Tensor<'_> {
        let loc = SourceLoc::caller();
        let seed = self.next_seed();
        self.add_at(
            Op::RandomUniform {
                shape: Shape::from(shape),
                seed,
            },
            &[counter],
            loc,
        )
    }

    /// A 0/1 `f32` mask of `shape` with `P(1) = p`.
    #[track_caller]
    pub fn random_bernoulli(&self, counter: Tensor<'_>, shape: &[usize], p: f32) -> Tensor<'_> {
        let loc = SourceLoc::caller();
        let seed = self.next_seed();
        let op = Op::RandomBernoulli {
            shape: Shape::from(shape),
            p: Float(p),
            seed,
        };
        self.add_at(op, &[counter], loc)
    }

    /// `where(cond, a, b)` with numpy broadcasting of all three.
    #[track_caller]
    pub fn where_(&self, cond: Tensor<'_>, a: Tensor<'_>, b: Tensor<'_>) -> Tensor<'_> {
        let loc = SourceLoc::caller();
        let Some(shape) = self.broadcast_shape("where", &[cond, a, b], loc) else {
            return self.poisoned();
        };
        let (c, a, b) = (
            cond.broadcast_at(&shape, loc),
            a.broadcast_at(&shape, loc),
            b.broadcast_at(&shape, loc),
        );
        self.add_at(Op::Where, &[c, a, b], loc)
    }

    /// Joins tensors along `axis` (negative counts from the end).
    #[track_caller]
    pub fn concat(&self, parts: &[Tensor<'_>], axis: i32) -> Tensor<'_> {
        let loc = SourceLoc::caller();
        let Some(first) = parts.first() else {
            self.record(
                "concat",
                &[],
                loc,
                TypeError::Arity {
                    expected: "at least 1".into(),
                    found: 0,
                },
            );
            return self.poisoned();
        };
        match self.axis("concat", *first, axis, loc) {
            Some(axis) => self.add_at(Op::Concat { axis }, parts, loc),
            None => self.poisoned(),
        }
    }

    /// Makes `value` a named result of every run.
    #[track_caller]
    pub fn output(&self, name: &str, value: Tensor<'_>) {
        let loc = SourceLoc::caller();
        if self.state.borrow().graph.output(name).is_some() {
            let err = TypeError::Attribute(format!("an output named `{name}` already exists"));
            self.record("output", &[value.ty()], loc, err);
            return;
        }
        self.add_at(Op::Output { name: name.into() }, &[value], loc);
    }

    /// After each run, writes `value` into the param or state called `target`.
    #[track_caller]
    pub fn update(&self, target: &str, value: Tensor<'_>) {
        let loc = SourceLoc::caller();
        let target_ty = {
            let s = self.state.borrow();
            s.graph.source(target).and_then(|id| match s.graph.op(id) {
                Op::Param { .. } | Op::State { .. } => Some(s.graph.ty(id).clone()),
                _ => None,
            })
        };
        match target_ty {
            None => {
                let err =
                    TypeError::Attribute(format!("no param or state named `{target}` to update"));
                self.record("update", &[value.ty()], loc, err);
            }
            Some(ty) if value.id.is_some() && ty != value.ty() => {
                let err = TypeError::Shape(format!(
                    "the new value of `{target}` must have its type {ty}, found {}",
                    value.ty()
                ));
                self.record("update", &[value.ty()], loc, err);
            }
            Some(_) => {
                self.add_at(
                    Op::Update {
                        target: target.into(),
                    },
                    &[value],
                    loc,
                );
            }
        }
    }

    /// Records a mistake `what` made at the caller's line (for layers and
    /// helpers built on the DSL, e.g. an invalid hyperparameter) and returns a
    /// poisoned tensor: `build()` will return the first such mistake.
    #[track_caller]
    pub fn invalid(&self, what: &str, message: impl Into<String>) -> Tensor<'_> {
        self.record(
            what,
            &[],
            SourceLoc::caller(),
            TypeError::Attribute(message.into()),
        );
        self.poisoned()
    }

    /// Adds any op to the graph: the primitive every DSL method goes through.
    #[track_caller]
    pub fn apply(&self, op: Op, operands: &[Tensor<'_>]) -> Tensor<'_> {
        let loc = SourceLoc::caller();
        self.add_at(op, operands, loc)
    }

    /// Adds `op` applied to `operands`, recording a mistake at `loc` instead of
    /// failing. Poisoned operands give a poisoned result and no new error.
    pub(crate) fn add_at(&self, op: Op, operands: &[Tensor<'_>], loc: SourceLoc) -> Tensor<'_> {
        let mut ids = Vec::with_capacity(operands.len());
        for t in operands {
            if !std::ptr::eq(t.b, self) {
                let err =
                    TypeError::Attribute("an operand comes from a different GraphBuilder".into());
                self.record(op.name(), &[], loc, err);
                return self.poisoned();
            }
            match t.id {
                Some(id) => ids.push(id),
                None => return self.poisoned(),
            }
        }
        let mut s = self.state.borrow_mut();
        match s.graph.add(op.clone(), &ids) {
            Ok(id) => {
                s.graph.node_mut(id).loc = Some(loc);
                Tensor {
                    b: self,
                    id: Some(id),
                }
            }
            Err(err) => {
                let types: Vec<TensorType> = ids.iter().map(|&i| s.graph.ty(i).clone()).collect();
                drop(s);
                self.record(op.name(), &types, loc, err);
                self.poisoned()
            }
        }
    }

    fn source(&self, op: Op, loc: SourceLoc) -> Tensor<'_> {
        let name = op.symbol().unwrap_or_default().to_string();
        let existing = self.state.borrow().graph.source(&name);
        if let Some(id) = existing {
            let err = TypeError::Attribute(format!(
                "the name `{name}` is already used by {id} ({})",
                self.state.borrow().graph.op(id).name()
            ));
            self.record(op.name(), &[], loc, err);
            return self.poisoned();
        }
        self.add_at(op, &[], loc)
    }

    /// Keeps the first mistake; later ones are usually consequences of it.
    pub(crate) fn record(&self, op: &str, operands: &[TensorType], loc: SourceLoc, err: TypeError) {
        let mut s = self.state.borrow_mut();
        if s.error.is_none() {
            s.error = Some(BuildError {
                op: op.to_string(),
                operands: operands.to_vec(),
                location: loc,
                source: err,
            });
        }
    }

    pub(crate) fn poisoned(&self) -> Tensor<'_> {
        Tensor { b: self, id: None }
    }

    /// The numpy broadcast of the operands' shapes, or a recorded mistake.
    pub(crate) fn broadcast_shape(
        &self,
        op: &str,
        ts: &[Tensor<'_>],
        loc: SourceLoc,
    ) -> Option<Shape> {
        if ts.iter().any(|t| t.id.is_none()) {
            return None;
        }
        let mut shape = ts[0].shape();
        for t in &ts[1..] {
            match shape.broadcast_with(&t.shape()) {
                Some(s) => shape = s,
                None => {
                    let types: Vec<TensorType> = ts.iter().map(|t| t.ty()).collect();
                    let shapes: Vec<String> = types.iter().map(|t| t.shape.to_string()).collect();
                    let err = TypeError::Shape(format!(
                        "shapes {} do not broadcast together",
                        shapes.join(" and ")
                    ));
                    self.record(op, &types, loc, err);
                    return None;
                }
            }
        }
        Some(shape)
    }

    /// Normalizes a possibly negative axis of `t`, or records a mistake.
    pub(crate) fn axis(&self, op: &str, t: Tensor<'_>, axis: i32, loc: SourceLoc) -> Option<usize> {
        t.id?;
        let shape = t.shape();
        match shape.normalize_axis(axis as i64) {
            Some(a) => Some(a),
            None => {
                let err = TypeError::Attribute(format!(
                    "axis {axis} is out of range for a rank-{} tensor {}",
                    shape.rank(),
                    t.ty()
                ));
                self.record(op, &[t.ty()], loc, err);
                None
            }
        }
    }

    fn ty_of(&self, id: NodeId) -> TensorType {
        self.state.borrow().graph.ty(id).clone()
    }

    fn set_name(&self, id: NodeId, name: &str) {
        self.state.borrow_mut().graph.set_node_name(id, name);
    }

    /// A constant of `dtype` holding `value`, for scalar operators (`x * 2.0`).
    pub(crate) fn scalar_of(&self, dtype: DType, value: f32, loc: SourceLoc) -> Tensor<'_> {
        let lit = match dtype {
            DType::F32 => Literal::scalar_f32(value),
            DType::I32 => {
                if value.fract() != 0.0 || !value.is_finite() {
                    let err = TypeError::DType(format!(
                        "a scalar combined with an i32 tensor must be a whole number, found {value}"
                    ));
                    self.record("const", &[], loc, err);
                    return self.poisoned();
                }
                Literal::scalar_i32(value as i32)
            }
        };
        self.add_at(Op::Const { value: lit }, &[], loc)
    }
}
