//! A session: one executable bound to one parameter store.
//!
//! This is the everyday way to run a plan: create it with fresh parameters
//! (`Session::new(plan, seed)`, identical to the evaluator's
//! `init_store(graph, seed)`) or with an existing store, then call `run` with
//! the inputs by name and read the outputs by name. Params and state persist
//! in the store between runs; update steps change them in place.

use crate::error::RuntimeError;
use crate::executable::{Executable, Outputs};
use crate::store::ParamStore;
use crate::tensor::TensorRef;
use kiln_ir::plan::Plan;

/// A plan bound to its parameters.
#[derive(Debug)]
pub struct Session {
    exe: Executable,
    store: ParamStore,
}

impl Session {
    /// Loads `plan` with a fresh store: every param and state initialized
    /// from its initializer with `seed`.
    pub fn new(plan: Plan, seed: u64) -> Result<Session, RuntimeError> {
        let store = ParamStore::for_plan(&plan, seed);
        Session::with_store(plan, store)
    }

    /// Like [`Session::new`], with large GEMMs split over `threads` threads
    /// (see [`Executable::with_threads`]).
    pub fn with_threads(plan: Plan, seed: u64, threads: usize) -> Result<Session, RuntimeError> {
        let store = ParamStore::for_plan(&plan, seed);
        let mut exe = Executable::with_threads(plan, threads)?;
        exe.bind(&store)?;
        Ok(Session { exe, store })
    }

    /// Loads `plan` on an existing store, which must hold every param and
    /// state of the plan with its type (e.g. the store of a training session,
    /// for an evaluation plan of the same model).
    pub fn with_store(plan: Plan, store: ParamStore) -> Result<Session, RuntimeError> {
        let mut exe = Executable::new(plan)?;
        exe.bind(&store)?;
        Ok(Session { exe, store })
    }

    /// Runs the plan once with `feeds` (every input of the plan, by name).
    ///
    /// Allocates nothing on success: feeds are looked up by a linear scan of
    /// the plan's inputs and read in place.
    pub fn run<'s>(
        &'s mut self,
        feeds: &[(&str, TensorRef<'_>)],
    ) -> Result<Outputs<'s>, RuntimeError> {
        self.exe.run(&mut self.store, feeds)
    }

    /// A param or state by name.
    pub fn param(&self, name: &str) -> Option<TensorRef<'_>> {
        self.store.get(name)
    }

    /// Overwrites a param or state (same type) in place.
    pub fn set_param(&mut self, name: &str, value: TensorRef<'_>) -> Result<(), RuntimeError> {
        self.store.set(name, value)
    }

    pub fn store(&self) -> &ParamStore {
        &self.store
    }

    /// The store, to read or write many tensors. Entries are only ever added,
    /// never moved or removed, so the executable's bindings stay valid and are
    /// not re-checked.
    pub fn store_mut(&mut self) -> &mut ParamStore {
        &mut self.store
    }

    /// Gives the store back (to bind it to another plan).
    pub fn into_store(self) -> ParamStore {
        self.store
    }

    pub fn executable(&self) -> &Executable {
        &self.exe
    }

    pub fn plan(&self) -> &Plan {
        self.exe.plan()
    }
}
