//! # kiln-runtime: runs a compiled [`Plan`](kiln_ir::plan::Plan) fast on the CPU
//!
//! ## Execution model
//! The compiler has already decided everything: the order of the steps, the
//! kernel of each, and where every tensor lives. A plan's tensors live in
//! *regions*: the caller's inputs, the parameters and state of a
//! [`ParamStore`], constants, and temporaries at fixed offsets in one arena.
//! Every operand is a strided *view* into a region, so transposes, broadcasts
//! and slices cost nothing.
//!
//! Loading a plan ([`Executable::new`]) validates it once (every view inside
//! its region, dtypes and shapes consistent with each kernel, aliasing the
//! kernels can handle), allocates the arena once (64-byte aligned), copies the
//! constants, and prepares each step: dims simplified, strides resolved,
//! scratch placed. A run then only
//! 1. checks the feeds against the plan's inputs (a linear scan by name),
//! 2. fills a small table of region base pointers (inputs and the store can
//!    differ between runs),
//! 3. calls each step's kernel in order.
//!
//! There is no allocation, no shape logic and no hashing per run: even the
//! GEMMs pack into a region of the arena reserved at load, and the threads
//! that split large GEMMs are spawned at load ([`Workers`]). Outputs are
//! borrowed from the arena or the store ([`Outputs`]), not copied.
//!
//! ## Pieces
//! - [`Session`]: an executable bound to its own store; the usual entry point.
//! - [`Executable`]: a loaded plan, runnable on any store that holds its
//!   params and state (two plans of one model can share a store).
//! - [`ParamStore`]: params and state by name, each in a buffer that never moves.
//! - [`TensorRef`]: borrowed tensors for feeding and reading without copies.
//! - [`kernels`]: one module per kernel family.
//!
//! Errors ([`RuntimeError`]) say what was expected and what was found:
//! unknown or missing inputs, wrong types, indices out of range, bad plans.

mod arena;
pub mod error;
mod executable;
pub mod kernels;
mod session;
mod store;
mod tensor;
#[cfg(feature = "testing")]
pub mod testing;
mod workers;

pub use error::{RuntimeError, StepInfo};
pub use executable::{Executable, Outputs};
pub use session::Session;
pub use store::ParamStore;
pub use tensor::{TensorData, TensorRef};
pub use workers::Workers;
