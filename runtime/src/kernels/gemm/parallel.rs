//! Splitting one product over the executable's threads.
//!
//! Large products are cut into one contiguous block of whole slivers per
//! thread, along `n` when `m <= n` (each thread then repacks all of `A`, the
//! smaller operand) and along `m` otherwise (each repacks all of `B`). Every
//! thread runs the single-threaded loop nest on its block with its own
//! packing scratch. The `k` blocking does not depend on the split, so every
//! element of `C` is summed in the same order whatever the thread count:
//! results are bit-identical with 1 or 2 threads.
//!
//! Products below [`PAR_MIN_MACS`] multiply-adds stay on the calling thread:
//! waking a helper and packing the shared operand twice costs more than it
//! saves there (measured with `bench_kernels`).

use super::GemmCx;
use super::driver::{self, Problem};
use super::microkernel::Microkernel;

/// The smallest product (in multiply-adds) split over threads.
pub const PAR_MIN_MACS: usize = 1 << 20;

/// Runs `p` with kernel `K`, on several threads when it pays.
///
/// # Safety
/// As [`driver::run`], with `cx.pack` holding `cx.pack_len` floats per
/// thread of `cx.workers` (one thread without workers).
pub(crate) unsafe fn run<K: Microkernel>(p: &Problem, cx: &GemmCx) {
    let p = &driver::orient::<K>(p);
    let threads = cx.workers.map_or(1, |w| w.threads());
    let macs = p.m.saturating_mul(p.k).saturating_mul(p.n);
    if threads > 1 && macs >= PAR_MIN_MACS {
        let by_cols = p.m <= p.n;
        let (len, unit) = if by_cols { (p.n, K::NR) } else { (p.m, K::MR) };
        let units = len.div_ceil(unit);
        let parts = threads.min(units);
        if parts > 1
            && let Some(workers) = cx.workers
        {
            let chunk = units.div_ceil(parts) * unit;
            let (base, stride) = (cx.pack as usize, cx.pack_len);
            workers.run(parts, &|t| {
                let start = t * chunk;
                if start >= len {
                    return;
                }
                let size = chunk.min(len - start);
                let part = if by_cols {
                    p.cols(start, size)
                } else {
                    p.rows(start, size)
                };
                let pack = (base as *mut f32).wrapping_add(t * stride);
                // SAFETY: the parts write disjoint blocks of C; thread `t`
                // packs into its own `pack_len` floats (caller's contract),
                // which bound any part of the product.
                unsafe { driver::run::<K>(&part, pack) };
            });
            return;
        }
    }
    // SAFETY: forwarded.
    unsafe { driver::run::<K>(p, cx.pack) };
}
