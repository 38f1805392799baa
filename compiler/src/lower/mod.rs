//! Lowering: turns an optimized graph into a [`Plan`] the runtime executes.
//!
//! Nodes are visited in the schedule's order. Sources become regions, movement
//! ops that only re-index become views (see `views.rs`), every other node
//! becomes a step writing a fresh temporary. Outputs that would alias memory
//! the caller owns (inputs), memory the run overwrites (updated parameters) or
//! strided memory are copied into a temporary. Updates become copy steps into
//! their parameter's region, placed after every other step so all reads see the
//! old values; `updates.rs` then turns every such copy it safely can into the
//! value's own step writing in place. Finally `memory.rs` gives every
//! temporary its arena offset.

pub mod memory;
pub mod schedule;
pub mod updates;
pub mod views;

use crate::error::CompileError;
use kiln_ir::plan::{Kernel, Plan, Region, Slot, Step, Temp, View};
use kiln_ir::{Graph, NodeId, Op, TensorType};
use memory::Lifetime;

/// Lowers `graph` (which must verify) to a plan.
pub fn lower(graph: &Graph) -> Result<Plan, CompileError> {
    let order = schedule::order(graph)?;
    let mut l = Lowering::new(graph);
    for id in order {
        l.node(id)?;
    }
    l.finish()
}

struct Lowering<'g> {
    graph: &'g Graph,
    plan: Plan,
    /// The view holding each node's value, by node id.
    values: Vec<Option<View>>,
    /// `(name, view)` of every output sink, in id order.
    outputs: Vec<(String, View)>,
    /// `(target region, value view)` of every update sink.
    updates: Vec<(Region, View)>,
}

impl<'g> Lowering<'g> {
    fn new(graph: &'g Graph) -> Lowering<'g> {
        let slot = |id: NodeId| {
            let node = graph.node(id);
            let init = match &node.op {
                Op::Param { init, .. } | Op::State { init, .. } => Some(init.clone()),
                _ => None,
            };
            Slot {
                name: node.op.symbol().unwrap_or_default().to_string(),
                ty: node.ty.clone(),
                init,
            }
        };
        let plan = Plan {
            name: graph.name().to_string(),
            inputs: graph.inputs().into_iter().map(slot).collect(),
            params: graph.params().into_iter().map(slot).collect(),
            states: graph.states().into_iter().map(slot).collect(),
            consts: Vec::new(),
            temps: Vec::new(),
            arena_elems: 0,
            steps: Vec::new(),
            outputs: Vec::new(),
        };
        Lowering {
            graph,
            plan,
            values: vec![None; graph.next_id().index()],
            outputs: Vec::new(),
            updates: Vec::new(),
        }
    }

    fn value(&self, id: NodeId) -> Result<View, CompileError> {
        self.values[id.index()]
            .clone()
            .ok_or_else(|| CompileError::Lower(format!("{id} is used before it is computed")))
    }

    fn slot_index(slots: &[Slot], name: &str) -> u32 {
        slots.iter().position(|s| s.name == name).unwrap_or(0) as u32
    }

    fn temp(&mut self, ty: &TensorType, node: Option<NodeId>) -> View {
        self.plan.temps.push(Temp {
            ty: ty.clone(),
            offset: 0,
            node,
        });
        View::dense(Region::Temp(self.plan.temps.len() as u32 - 1), ty)
    }

    fn step(
        &mut self,
        kernel: Kernel,
        inputs: Vec<View>,
        ty: &TensorType,
        node: Option<NodeId>,
    ) -> View {
        let output = self.temp(ty, node);
        self.plan.steps.push(Step {
            kernel,
            inputs,
            output: output.clone(),
            scratch: None,
            node,
        });
        output
    }

    /// Copies `view` into a fresh dense temporary.
    fn materialize(&mut self, view: &View, node: Option<NodeId>) -> View {
        self.step(Kernel::Copy, vec![view.clone()], &view.ty(), node)
    }

    fn node(&mut self, id: NodeId) -> Result<(), CompileError> {
        let node = self.graph.node(id);
        let operands = self.graph.operands(id);
        let args: Vec<View> = operands
            .iter()
            .map(|&o| self.value(o))
            .collect::<Result<_, _>>()?;
        let ty = &node.ty;
        let value = match &node.op {
            Op::Input { name, .. } => {
                View::dense(Region::Input(Self::slot_index(&self.plan.inputs, name)), ty)
            }
            Op::Param { name, .. } => {
                View::dense(Region::Param(Self::slot_index(&self.plan.params, name)), ty)
            }
            Op::State { name, .. } => {
                View::dense(Region::State(Self::slot_index(&self.plan.states, name)), ty)
            }
            Op::Const { value } => {
                self.plan.consts.push(value.clone());
                View::dense(Region::Const(self.plan.consts.len() as u32 - 1), ty)
            }
            Op::Output { name } => {
                self.outputs.push((name.clone(), args[0].clone()));
                return Ok(());
            }
            Op::Update { target } => {
                let region = match self.graph.op(self.graph.source(target).unwrap_or(id)) {
                    Op::Param { .. } => Region::Param(Self::slot_index(&self.plan.params, target)),
                    Op::State { .. } => Region::State(Self::slot_index(&self.plan.states, target)),
                    _ => {
                        return Err(CompileError::Lower(format!(
                            "update of `{target}`, which is no param or state"
                        )));
                    }
                };
                self.updates.push((region, args[0].clone()));
                return Ok(());
            }
            Op::Reshape { shape } => match views::reshape(&args[0], shape) {
                Some(v) => v,
                None => {
                    let dense = self.materialize(&args[0], Some(id));
                    views::reshape(&dense, shape).expect("a dense temporary is contiguous")
                }
            },
            Op::Permute { perm } => views::permute(&args[0], perm),
            Op::StopGradient => args[0].clone(),
            Op::Broadcast { shape } => views::broadcast(&args[0], shape),
            Op::Slice {
                axis, start, step, ..
            } => views::slice(&args[0], *axis, *start, *step, ty.shape.0[*axis]),
            Op::MatMul {
                transpose_lhs,
                transpose_rhs,
            } => {
                let a = if *transpose_lhs {
                    views::transpose_last_two(&args[0])
                } else {
                    args[0].clone()
                };
                let b = if *transpose_rhs {
                    views::transpose_last_two(&args[1])
                } else {
                    args[1].clone()
                };
                self.step(Kernel::MatMul, vec![a, b], ty, Some(id))
            }
            op => {
                let kernel = kernel_for(op).ok_or_else(|| {
                    CompileError::Lower(format!("no kernel for `{}` ({id})", op.name()))
                })?;
                let scratch = scratch_elems(self.graph, id);
                let out = self.step(kernel, args, ty, Some(id));
                if let Some(n) = scratch {
                    let s = self.temp(&TensorType::f32([n]), None);
                    self.plan.steps.last_mut().expect("just pushed").scratch = Some(s);
                }
                out
            }
        };
        self.values[id.index()] = Some(value);
        Ok(())
    }

    fn finish(mut self) -> Result<Plan, CompileError> {
        let updated: Vec<Region> = self.updates.iter().map(|(r, _)| *r).collect();
        // Updates read their values after earlier updates may have written:
        // a value living in an updated region is copied out first.
        for i in 0..self.updates.len() {
            let src = self.updates[i].1.clone();
            if updated.contains(&src.region) {
                self.updates[i].1 = self.materialize(&src, None);
            }
        }
        // Outputs are read after the run, from memory the session owns.
        for i in 0..self.outputs.len() {
            let v = self.outputs[i].1.clone();
            let safe = v.is_contiguous() && matches!(v.region, Region::Temp(_) | Region::Const(_))
                || (matches!(v.region, Region::Param(_) | Region::State(_))
                    && !updated.contains(&v.region)
                    && v.is_contiguous());
            if !safe {
                self.outputs[i].1 = self.materialize(&v, None);
            }
        }
        for (region, src) in std::mem::take(&mut self.updates) {
            let target_ty = src.ty();
            let output = View::dense(region, &target_ty);
            self.plan.steps.push(Step {
                kernel: Kernel::Copy,
                inputs: vec![src],
                output,
                scratch: None,
                node: None,
            });
        }
        self.plan.outputs = std::mem::take(&mut self.outputs);
        updates::write_in_place(&mut self.plan);
        self.place_temps();
        Ok(self.plan)
    }

    /// Lifetimes, in-place aliases and arena offsets of every temporary.
    fn place_temps(&mut self) {
        let n = self.plan.temps.len();
        let end_of_run = self.plan.steps.len();
        let mut life: Vec<Lifetime> = self
            .plan
            .temps
            .iter()
            .map(|t| Lifetime {
                size: t.ty.shape.numel(),
                start: usize::MAX,
                end: 0,
            })
            .collect();
        let temp_of = |v: &View| match v.region {
            Region::Temp(t) => Some(t as usize),
            _ => None,
        };
        for (s, step) in self.plan.steps.iter().enumerate() {
            for v in step.inputs.iter().chain(step.scratch.iter()) {
                if let Some(t) = temp_of(v) {
                    life[t].end = life[t].end.max(s);
                    life[t].start = life[t].start.min(s);
                }
            }
            if let Some(t) = temp_of(&step.output) {
                life[t].start = life[t].start.min(s);
                life[t].end = life[t].end.max(s);
            }
        }
        for (_, v) in &self.plan.outputs {
            if let Some(t) = temp_of(v) {
                life[t].end = end_of_run;
            }
        }
        for l in &mut life {
            if l.start == usize::MAX {
                l.start = 0;
            }
        }
        // In place: an elementwise step may overwrite an input that dies there,
        // if every read of that input in the step is through the identical dense view.
        let mut aliases = Vec::new();
        for (s, step) in self.plan.steps.iter().enumerate() {
            let elementwise = step.kernel.is_elementwise();
            let Some(out) = temp_of(&step.output) else {
                continue;
            };
            if !elementwise {
                continue;
            }
            let candidate = step.inputs.iter().find_map(|v| {
                let t = temp_of(v)?;
                let whole = v.offset == 0 && v.is_contiguous() && v.shape == step.output.shape;
                let only_view = step
                    .inputs
                    .iter()
                    .filter(|w| w.region == v.region)
                    .all(|w| w == v);
                (whole && only_view && life[t].end == s && life[t].size == life[out].size)
                    .then_some(t)
            });
            if let Some(t) = candidate {
                aliases.push((t, out));
            }
        }
        let (offsets, arena) = memory::assign_offsets(&life, &aliases);
        for (t, off) in self.plan.temps.iter_mut().zip(offsets) {
            t.offset = off;
        }
        self.plan.arena_elems = arena;
        debug_assert_eq!(n, self.plan.temps.len());
    }
}

/// The kernel computing `op`, for ops that are not sources, sinks or views.
fn kernel_for(op: &Op) -> Option<Kernel> {
    Some(match op {
        Op::Unary(u) => Kernel::Unary(*u),
        Op::Binary(b) => Kernel::Binary(*b),
        Op::Where => Kernel::Where,
        Op::Cast { .. } => Kernel::Cast,
        Op::Reduce { op, axes, .. } => Kernel::Reduce {
            op: *op,
            axes: axes.clone(),
        },
        Op::ArgMax { axis, .. } => Kernel::ArgMax { axis: *axis },
        Op::Pad {
            axis,
            low,
            interior,
            value,
            ..
        } => Kernel::Pad {
            axis: *axis,
            low: *low,
            interior: *interior,
            value: *value,
        },
        Op::Concat { axis } => Kernel::Concat { axis: *axis },
        Op::Gather { axis } => Kernel::Gather { axis: *axis },
        Op::ScatterAdd { axis, .. } => Kernel::ScatterAdd { axis: *axis },
        Op::OneHot { .. } => Kernel::OneHot,
        Op::Iota { axis, .. } => Kernel::Iota { axis: *axis },
        Op::Conv2d(p) => Kernel::Conv2d(*p),
        Op::Conv2dInputGrad { conv, .. } => Kernel::Conv2dInputGrad(*conv),
        Op::Conv2dWeightGrad { conv, .. } => Kernel::Conv2dWeightGrad(*conv),
        Op::MaxPool2d(p) => Kernel::MaxPool2d(*p),
        Op::MaxPool2dGrad(p) => Kernel::MaxPool2dGrad(*p),
        Op::AvgPool2d(p) => Kernel::AvgPool2d(*p),
        Op::AvgPool2dGrad { pool, .. } => Kernel::AvgPool2dGrad(*pool),
        Op::RandomUniform { seed, .. } => Kernel::RandomUniform { seed: *seed },
        Op::RandomBernoulli { p, seed, .. } => Kernel::RandomBernoulli { p: *p, seed: *seed },
        _ => return None,
    })
}

/// Elements of im2col scratch a convolution step needs: one image and one
/// group of columns, `(C/groups)·KH·KW × OH·OW`.
fn scratch_elems(graph: &Graph, id: NodeId) -> Option<usize> {
    let operands = graph.operands(id);
    let dims = |i: usize| graph.ty(operands[i]).shape.0.clone();
    let out = graph.ty(id).shape.0.clone();
    match graph.op(id) {
        Op::Conv2d(_) => {
            let w = dims(1);
            Some(w[1] * w[2] * w[3] * out[2] * out[3])
        }
        Op::Conv2dInputGrad { .. } => {
            let (dy, w) = (dims(0), dims(1));
            Some(w[1] * w[2] * w[3] * dy[2] * dy[3])
        }
        Op::Conv2dWeightGrad { .. } => {
            let dy = dims(1);
            Some(out[1] * out[2] * out[3] * dy[2] * dy[3])
        }
        _ => None,
    }
}
