//! The kernels: one file per family, and the dispatch from a prepared step to
//! its kernel.
//!
//! A plan step becomes a [`Prepared`] kernel once, when the plan is loaded
//! (`prepare.rs`): shapes checked, dims simplified, strides and offsets
//! resolved to [`Loc`]s (a slot of the run's base table plus an offset). At run
//! time [`Prepared::run`] only reads the base table and loops.
//!
//! Kernels work on raw pointers because operands may alias: an elementwise
//! step may write over its input through the identical view. Every `unsafe`
//! kernel relies on the loader's checks (views inside their regions, inputs
//! identical to or disjoint from the output as the kernel requires); each
//! file says which.

pub mod conv;
pub mod elementwise;
pub mod gather;
pub mod gemm;
pub mod layout;
pub mod movement;
pub mod pool;
mod prepare;
pub mod random;
pub mod reduce;

pub use gather::BadIndex;
pub use gemm::GemmCx;
pub use layout::{Loc, MAX_RANK};
pub(crate) use prepare::{Prep, aliasing, prepare};

/// A step ready to run.
#[derive(Clone, Debug)]
pub enum Prepared {
    Elementwise(elementwise::Elementwise),
    Reduce(reduce::Reduce),
    ArgMax(reduce::ArgMax),
    Pad(movement::Pad),
    Concat(movement::Concat),
    Iota(movement::Iota),
    Gather(gather::Gather),
    ScatterAdd(gather::ScatterAdd),
    OneHot(gather::OneHot),
    MatMul(gemm::MatMul),
    Conv(conv::Conv),
    Pool(pool::Pool),
    Random(random::Random),
}

impl Prepared {
    /// GEMM packing scratch the step needs per thread (0 for most kernels).
    pub fn pack_need(&self) -> usize {
        match self {
            Prepared::MatMul(k) => k.pack_need(),
            Prepared::Conv(k) => k.pack_need(),
            _ => 0,
        }
    }

    /// Whether the step is large enough that a call could split it over
    /// threads (a superset of the kernels' own thresholds): an executable
    /// with no such step keeps a single thread and spawns no helpers.
    pub fn may_split(&self) -> bool {
        let macs = match self {
            Prepared::MatMul(k) => k.batch.numel() * k.shape.m * k.shape.k * k.shape.n,
            Prepared::Conv(k) => k.gemm_macs(),
            _ => 0,
        };
        macs >= gemm::parallel::GEMV_PAR_MIN_MACS
    }

    /// Runs the kernel. Only the index-driven kernels can fail.
    ///
    /// # Safety
    /// `bases` must hold, for every slot the kernel's locations name, the
    /// start of a live region at least as large as the plan says, and nothing
    /// else may access those regions during the call.
    /// `cx` must hold [`Prepared::pack_need`] floats of packing scratch per
    /// thread.
    pub unsafe fn run(&self, bases: &[*mut f32], cx: &GemmCx) -> Result<(), BadIndex> {
        // SAFETY (every arm): forwarded; the loader checked the kernel's
        // views against the plan's regions and their aliasing.
        unsafe {
            match self {
                Prepared::Elementwise(k) => k.run(bases),
                Prepared::Reduce(k) => k.run(bases),
                Prepared::ArgMax(k) => k.run(bases),
                Prepared::Pad(k) => k.run(bases),
                Prepared::Concat(k) => k.run(bases),
                Prepared::Iota(k) => k.run(bases),
                Prepared::Gather(k) => return k.run(bases),
                Prepared::ScatterAdd(k) => return k.run(bases),
                Prepared::OneHot(k) => return k.run(bases),
                Prepared::MatMul(k) => k.run(bases, cx),
                Prepared::Conv(k) => k.run(bases, cx),
                Prepared::Pool(k) => k.run(bases),
                Prepared::Random(k) => k.run(bases),
            }
        }
        Ok(())
    }
}
