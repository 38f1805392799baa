//! A loaded plan: validated once, its arena allocated, every step prepared.
//!
//! [`Executable::new`] does all the work a run must not do: it checks every
//! view against its region (bounds, dtype, rank), checks each step's operands
//! against its kernel (shapes, dtypes, allowed aliasing), materializes the
//! constants, sizes one 64-byte aligned arena (the plan's temporaries, scratch
//! for kernels whose plan gave none, and a dense copy of every output that is
//! not already a contiguous view the caller can borrow), and precomputes each
//! kernel's loops. [`Executable::run`] then only checks the feeds, fills the
//! table of region base pointers and calls the kernels in order: no
//! allocation, no shape logic, no hashing.
//!
//! The base table has one slot per input, param and state, one for the
//! constant pool and one for the arena; a kernel operand is a slot plus an
//! element offset ([`Loc`]).
//!
//! GEMM packing: matmul and convolution steps pack panels of their operands
//! into scratch. At load the executable asks every step for its need per
//! thread ([`Prepared::pack_need`]), takes the largest, and reserves that
//! times the thread count once in the arena: steps run one after another,
//! so they share the region (thread `t` packs into block `t`).
//!
//! Threads: [`Executable::with_threads`] sets how many threads split large
//! GEMMs (helpers are spawned at load, see [`Workers`]);
//! [`Executable::new`] reads the `KILN_NUM_THREADS` environment variable
//! once, at load, and defaults to 1. With one thread no helper exists and
//! nothing is shared between threads.

use crate::arena::{AlignedBuf, BaseTable, round_up};
use crate::error::{RuntimeError, StepInfo};
use crate::kernels::elementwise::{Elementwise, Ew};
use crate::kernels::layout::Walk;
use crate::kernels::{BadIndex, GemmCx, Loc, MAX_RANK, Prep, Prepared, aliasing, prepare};
use crate::store::ParamStore;
use crate::tensor::TensorRef;
use crate::workers::Workers;
use kiln_ir::eval::{Env, Value};
use kiln_ir::plan::{Plan, Region, View};
use kiln_ir::{DType, LiteralData, TensorType};
use std::marker::PhantomData;

/// A named result: where to read it after a run (always a dense view).
#[derive(Clone, Debug)]
struct OutputSlot {
    name: String,
    dtype: DType,
    shape: Vec<usize>,
    loc: Loc,
}

/// Which store entry each param and state slot is bound to.
#[derive(Clone, Debug, Default)]
struct Binding {
    /// The bound store's identity; 0 when unbound.
    store: u64,
    entries: Vec<usize>,
}

/// A plan ready to run on any parameter store holding its params and state.
pub struct Executable {
    plan: Plan,
    steps: Vec<Prepared>,
    /// Copies that make outputs dense, run after the steps.
    finish: Vec<Prepared>,
    outputs: Vec<OutputSlot>,
    arena: AlignedBuf,
    consts: AlignedBuf,
    bases: BaseTable,
    binding: Binding,
    /// Arena elements beyond the plan's, for kernel scratch.
    scratch_elems: usize,
    /// Arena offset of the GEMM packing region and its floats per thread.
    pack_offset: usize,
    pack_per_thread: usize,
    /// Helper threads for large GEMMs (`None` with one thread).
    workers: Option<Workers>,
}

impl std::fmt::Debug for Executable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executable")
            .field("plan", &self.plan.name)
            .field("steps", &self.steps.len())
            .field("arena_bytes", &self.arena_bytes())
            .finish()
    }
}

/// The thread count [`Executable::new`] uses: `KILN_NUM_THREADS`, or 1.
fn threads_from_env() -> usize {
    std::env::var("KILN_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n >= 1)
        .unwrap_or(1)
}

impl Executable {
    /// Validates and loads `plan`, with the thread count of the
    /// `KILN_NUM_THREADS` environment variable (default 1). See the module docs.
    pub fn new(plan: Plan) -> Result<Executable, RuntimeError> {
        Executable::with_threads(plan, threads_from_env())
    }

    /// Validates and loads `plan`; large GEMMs are split over `threads`
    /// threads (the caller's plus `threads - 1` helpers spawned now; 0 counts
    /// as 1).
    pub fn with_threads(plan: Plan, threads: usize) -> Result<Executable, RuntimeError> {
        let threads = threads.max(1);
        let invalid = |at: String, message: String| RuntimeError::InvalidPlan {
            plan: plan.name.clone(),
            at,
            message,
        };
        // The constant pool: each constant at an aligned offset.
        let mut const_offsets = Vec::with_capacity(plan.consts.len());
        let mut bits: Vec<u32> = Vec::new();
        for c in &plan.consts {
            bits.resize(round_up(bits.len()), 0);
            const_offsets.push(bits.len());
            match c.data() {
                LiteralData::F32(v) => bits.extend(v.iter().map(|x| x.to_bits())),
                LiteralData::I32(v) => bits.extend(v.iter().map(|&x| x as u32)),
            }
        }
        let consts = AlignedBuf::from_bits(&bits);
        for (i, t) in plan.temps.iter().enumerate() {
            let end = t.offset.checked_add(t.ty.shape.numel());
            if end.is_none_or(|end| end > plan.arena_elems) {
                return Err(invalid(
                    String::new(),
                    format!(
                        "temporary t{i} ({} at element {}) does not fit in the arena of {} elements",
                        t.ty, t.offset, plan.arena_elems
                    ),
                ));
            }
        }
        let private_offset = round_up(plan.arena_elems);
        let mut prep = Prep {
            plan: &plan,
            const_offsets: &const_offsets,
            private_offset,
            private_need: 0,
        };
        let mut steps = Vec::with_capacity(plan.steps.len());
        for (i, step) in plan.steps.iter().enumerate() {
            let at = || {
                let node = step.node.map(|n| format!(" {n}")).unwrap_or_default();
                format!("step {i} ({}{node}): ", step.kernel.name())
            };
            let views = step
                .inputs
                .iter()
                .chain([&step.output])
                .chain(&step.scratch);
            for v in views {
                check_view(&plan, v).map_err(|m| invalid(at(), m))?;
            }
            if matches!(step.output.region, Region::Input(_) | Region::Const(_)) {
                return Err(invalid(at(), "writes into an input or a constant".into()));
            }
            if step
                .scratch
                .as_ref()
                .is_some_and(|s| !matches!(s.region, Region::Temp(_)))
            {
                return Err(invalid(at(), "its scratch view is not a temporary".into()));
            }
            aliasing(step, |v| span(&prep, v)).map_err(|m| invalid(at(), m))?;
            steps.push(prepare(step, &mut prep).map_err(|m| invalid(at(), m))?);
        }
        let scratch_elems = round_up(prep.private_need);
        let pack_offset = private_offset + scratch_elems;
        let pack_per_thread = round_up(steps.iter().map(Prepared::pack_need).max().unwrap_or(0));
        // Helpers only when some step is big enough to be split.
        let threads = if pack_per_thread == 0 || !steps.iter().any(Prepared::may_split) {
            1
        } else {
            threads
        };
        let mut next = pack_offset + pack_per_thread * threads;
        let mut outputs = Vec::with_capacity(plan.outputs.len());
        let mut finish = Vec::new();
        for (name, v) in &plan.outputs {
            let at = || format!("output `{name}`: ");
            check_view(&plan, v).map_err(|m| invalid(at(), m))?;
            if outputs.iter().any(|o: &OutputSlot| o.name == *name) {
                return Err(invalid(at(), "the name is used twice".into()));
            }
            let shape = v.shape.dims().to_vec();
            let loc = if matches!(v.region, Region::Input(_)) || !v.is_contiguous() {
                // Copy into a dense arena buffer after the run: the caller can
                // only borrow dense data, and feeds do not outlive the run.
                let dst = Loc {
                    slot: prep.arena_slot(),
                    offset: next,
                };
                next += round_up(v.numel());
                let dense = v.shape.strides();
                finish.push(Prepared::Elementwise(Elementwise::Copy(Ew {
                    walk: Walk::new(&shape, [&dense, &v.strides]),
                    locs: [dst, prep.loc(v)],
                })));
                dst
            } else {
                prep.loc(v)
            };
            outputs.push(OutputSlot {
                name: name.clone(),
                dtype: v.dtype,
                shape,
                loc,
            });
        }
        let slots = prep.arena_slot() + 1;
        let n_bound = plan.params.len() + plan.states.len();
        Ok(Executable {
            steps,
            finish,
            outputs,
            arena: AlignedBuf::zeroed(next),
            consts,
            bases: BaseTable(vec![std::ptr::null_mut(); slots]),
            binding: Binding {
                store: 0,
                entries: Vec::with_capacity(n_bound),
            },
            scratch_elems,
            pack_offset,
            pack_per_thread,
            workers: (threads > 1).then(|| Workers::new(threads)),
            plan,
        })
    }

    /// The plan this executable runs.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Bytes of the arena actually allocated: the plan's temporaries, kernel
    /// scratch and dense copies of strided outputs.
    pub fn arena_bytes(&self) -> usize {
        self.arena.len() * 4
    }

    /// Bytes of scratch the executable added for kernels: im2col buffers the
    /// plan did not provide and the GEMM packing region.
    pub fn scratch_bytes(&self) -> usize {
        (self.scratch_elems + self.pack_per_thread * self.threads()) * 4
    }

    /// Threads that share large GEMMs (1 when the plan has none).
    pub fn threads(&self) -> usize {
        self.workers.as_ref().map_or(1, Workers::threads)
    }

    /// Checks that `store` holds every param and state of the plan with the
    /// right type, and remembers where.
    pub fn bind(&mut self, store: &ParamStore) -> Result<(), RuntimeError> {
        if self.binding.store == store.id() {
            return Ok(());
        }
        self.binding.store = 0;
        self.binding.entries.clear();
        let slots = (self.plan.params.iter().map(|s| ("param", s)))
            .chain(self.plan.states.iter().map(|s| ("state", s)));
        for (kind, slot) in slots {
            let Some(i) = store.find(&slot.name) else {
                return Err(RuntimeError::MissingValue {
                    kind,
                    name: slot.name.clone(),
                    expected: slot.ty.clone(),
                });
            };
            if *store.entry_ty(i) != slot.ty {
                return Err(RuntimeError::ParamType {
                    kind,
                    name: slot.name.clone(),
                    expected: slot.ty.clone(),
                    found: store.entry_ty(i).clone(),
                });
            }
            self.binding.entries.push(i);
        }
        self.binding.store = store.id();
        Ok(())
    }

    /// Runs the plan once on `store` with `feeds` (every input, by name).
    ///
    /// Update steps write the store in place. If a step fails (an index out
    /// of range), the run stops there: updates made by earlier steps stay.
    pub fn run<'s>(
        &'s mut self,
        store: &'s mut ParamStore,
        feeds: &[(&str, TensorRef<'_>)],
    ) -> Result<Outputs<'s>, RuntimeError> {
        self.bind(store)?;
        self.feed(feeds)?;
        if let Some(w) = &self.workers {
            // Have the helpers spinning by the first large GEMM.
            w.wake();
        }
        let n_in = self.plan.inputs.len();
        for (j, &e) in self.binding.entries.iter().enumerate() {
            self.bases.0[n_in + j] = store.entry_ptr(e);
        }
        let slots = self.bases.0.len();
        self.bases.0[slots - 2] = self.consts.base_ptr();
        self.bases.0[slots - 1] = self.arena.as_mut_ptr();
        let cx = GemmCx {
            pack: self.arena.as_mut_ptr().wrapping_add(self.pack_offset),
            pack_len: self.pack_per_thread,
            workers: self.workers.as_ref(),
        };
        let mut failed = None;
        for (i, step) in self.steps.iter().enumerate() {
            // SAFETY: every slot of the table now points at a live region at
            // least as large as the plan says (inputs were checked against
            // their types, store entries against theirs, the arena and the
            // constant pool were sized from the plan), the loader checked each
            // step against those sizes, and we hold `&mut` to the arena and
            // the store while kernels write; feeds are only read. The packing
            // region holds `pack_per_thread` floats per thread, at least
            // every step's need, and is used by nothing else.
            if let Err(bad) = unsafe { step.run(&self.bases.0, &cx) } {
                failed = Some((i, bad));
                break;
            }
        }
        if failed.is_none() {
            for copy in &self.finish {
                // SAFETY: as above; these copies only read validated views
                // and write the arena's output area.
                let _ = unsafe { copy.run(&self.bases.0, &cx) };
            }
        }
        // The feeds do not outlive this call: forget their addresses.
        for base in &mut self.bases.0[..n_in] {
            *base = std::ptr::null_mut();
        }
        if let Some((i, bad)) = failed {
            return Err(self.index_error(i, bad));
        }
        Ok(Outputs {
            exe: self,
            _store: PhantomData,
        })
    }

    /// Checks the feeds and writes their addresses into the base table.
    fn feed(&mut self, feeds: &[(&str, TensorRef<'_>)]) -> Result<(), RuntimeError> {
        let inputs = &self.plan.inputs;
        for (k, (name, t)) in feeds.iter().enumerate() {
            let Some(i) = inputs.iter().position(|s| s.name == *name) else {
                return Err(RuntimeError::UnknownInput {
                    name: (*name).into(),
                    valid: inputs.iter().map(|s| s.name.clone()).collect(),
                });
            };
            if feeds[..k].iter().any(|(n, _)| n == name) {
                return Err(RuntimeError::DuplicateInput {
                    name: (*name).into(),
                });
            }
            let ty = &inputs[i].ty;
            if t.dtype() != ty.dtype || t.shape() != ty.shape.dims() {
                return Err(RuntimeError::InputType {
                    name: (*name).into(),
                    expected: ty.clone(),
                    found: t.ty(),
                });
            }
            t.check_len("input", name)?;
            // Kernels never write input regions (the loader checked), so
            // handing out a `*mut` to read-only data is sound.
            self.bases.0[i] = t.as_ptr() as *mut f32;
        }
        if let Some(slot) = inputs
            .iter()
            .find(|s| !feeds.iter().any(|(n, _)| *n == s.name))
        {
            return Err(RuntimeError::MissingInput {
                name: slot.name.clone(),
                expected: slot.ty.clone(),
            });
        }
        Ok(())
    }

    fn index_error(&self, i: usize, bad: BadIndex) -> RuntimeError {
        let step = &self.plan.steps[i];
        RuntimeError::IndexOutOfRange {
            step: StepInfo {
                index: i,
                kernel: step.kernel.name(),
                node: step.node,
            },
            index: bad.index,
            bound: bad.bound,
        }
    }
}

/// A view's memory as `(slot, first element, one past the last)`, absolute.
fn span(prep: &Prep, v: &View) -> (usize, usize, usize) {
    let loc = prep.loc(v);
    (loc.slot, loc.offset, loc.offset + (v.extent() - v.offset))
}

/// The region's type (constants have no slot type: their literal's).
fn region_ty(plan: &Plan, r: Region) -> Option<TensorType> {
    let idx = |i: u32| i as usize;
    match r {
        Region::Input(i) => plan.inputs.get(idx(i)).map(|s| s.ty.clone()),
        Region::Param(i) => plan.params.get(idx(i)).map(|s| s.ty.clone()),
        Region::State(i) => plan.states.get(idx(i)).map(|s| s.ty.clone()),
        Region::Const(i) => plan.consts.get(idx(i)).map(|c| c.ty()),
        Region::Temp(i) => plan.temps.get(idx(i)).map(|t| t.ty.clone()),
    }
}

/// Checks that a view names an existing region of its dtype and stays inside it.
fn check_view(plan: &Plan, v: &View) -> Result<(), String> {
    let Some(ty) = region_ty(plan, v.region) else {
        return Err(format!("a view names a missing region {:?}", v.region));
    };
    if v.dtype != ty.dtype {
        return Err(format!(
            "a {} view of {:?}, which holds {}",
            v.dtype, v.region, ty
        ));
    }
    if v.strides.len() != v.shape.rank() {
        return Err(format!(
            "a view of shape {} has {} strides",
            v.shape,
            v.strides.len()
        ));
    }
    if v.shape.rank() > MAX_RANK {
        return Err(format!(
            "a view has rank {}; the runtime supports up to {MAX_RANK}",
            v.shape.rank()
        ));
    }
    // The extent, with overflow checks (`View::extent` assumes sane numbers).
    let mut last = Some(v.offset);
    if v.shape.dims().iter().all(|&d| d > 0) {
        for (&d, &s) in v.shape.dims().iter().zip(&v.strides) {
            last = last.and_then(|l| (d - 1).checked_mul(s).and_then(|x| x.checked_add(l)));
        }
        if last.is_none_or(|l| l >= ty.shape.numel()) {
            return Err(format!(
                "a view {}{{{:?}}}+{} reaches past the end of {:?} ({})",
                v.shape, v.strides, v.offset, v.region, ty
            ));
        }
    }
    Ok(())
}

/// The results of one run, borrowed from the executable (and the store).
pub struct Outputs<'s> {
    exe: &'s Executable,
    _store: PhantomData<&'s ParamStore>,
}

impl<'s> Outputs<'s> {
    /// A result by name.
    pub fn get(&self, name: &str) -> Option<TensorRef<'s>> {
        let exe: &'s Executable = self.exe;
        let o = exe.outputs.iter().find(|o| o.name == name)?;
        Some(exe.output_ref(o))
    }

    /// An owned copy of a result.
    pub fn to_value(&self, name: &str) -> Option<Value<f32>> {
        self.get(name).and_then(|t| t.to_value().ok())
    }

    /// The results' names, in the plan's order.
    pub fn names(&self) -> impl Iterator<Item = &'s str> {
        let exe: &'s Executable = self.exe;
        exe.outputs.iter().map(|o| o.name.as_str())
    }

    /// Every result, in the plan's order.
    pub fn iter(&self) -> impl Iterator<Item = (&'s str, TensorRef<'s>)> {
        let exe: &'s Executable = self.exe;
        exe.outputs
            .iter()
            .map(move |o| (o.name.as_str(), exe.output_ref(o)))
    }

    /// Owned copies of every result, by name.
    pub fn to_env(&self) -> Env<f32> {
        self.iter()
            .filter_map(|(n, t)| Some((n.to_string(), t.to_value().ok()?)))
            .collect()
    }
}

impl Executable {
    fn output_ref<'s>(&'s self, o: &'s OutputSlot) -> TensorRef<'s> {
        let numel = o.shape.iter().product();
        let p = o.loc.ptr(&self.bases.0);
        // SAFETY: `o.loc` is a dense view of `numel` elements inside a region
        // that is alive and not written while `self` (and, for params, the
        // store) stays borrowed: `Outputs<'s>` holds both borrows. Outputs
        // never live in input regions (those are copied into the arena).
        unsafe {
            match o.dtype {
                DType::F32 => TensorRef::f32(&o.shape, std::slice::from_raw_parts(p, numel)),
                DType::I32 => {
                    TensorRef::i32(&o.shape, std::slice::from_raw_parts(p as *const i32, numel))
                }
            }
        }
    }
}
