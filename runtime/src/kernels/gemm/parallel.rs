//! Splitting one product over the executable's threads.
//!
//! Large products are cut into one contiguous block of whole slivers per
//! thread, along `n` or `m`, whichever gives the cheaper largest part (its
//! padded tiles plus the packing every part repeats: all of `A` when cut
//! along `n`, all of `B` when cut along `m` unless `B` is read in place,
//! see `split`). Every thread runs the single-threaded loop nest on its
//! block with its own packing scratch. The `k` blocking does not depend on the split, so every
//! element of `C` is summed in the same order whatever the thread count:
//! results are bit-identical with 1 or 2 threads.
//!
//! Products below [`PAR_MIN_MACS`] multiply-adds stay on the calling thread.
//! The hand-off itself is cheap (well under a microsecond to a spinning
//! helper: in `bench_kernels`, with operands that stay put, even a 6x25x784
//! product ran 1.5x faster on two threads), but in a real step the operands
//! were just written by the other core, and the helper pays for moving them
//! across: with a 64K threshold LeNet-5's per-image convolution GEMMs made
//! its training step 1.5x *slower* on two threads (4.8 -> 7.5 ms, `cargo
//! bench --bench zoo`). With 1M, LeNet-5 runs as fast as on one thread, and
//! the MLP (1.03 -> 0.75 ms) and transformer (42 -> 29 ms) training steps
//! gain 1.4x.
//!
//! GEMVs (see [`GEMV_PAR_MIN_MACS`]) split from a lower size: their large
//! operand is a weight matrix that stays in both cores' caches between
//! inference calls (MLP inference at batch 1: 15 -> 13 µs).

use super::GemmCx;
use super::driver::{self, Problem};
use super::microkernel::Microkernel;

/// The smallest product (in multiply-adds) split over threads.
pub const PAR_MIN_MACS: usize = 1 << 20;

/// The smallest GEMV (in multiply-adds) split over threads.
pub const GEMV_PAR_MIN_MACS: usize = 1 << 16;

/// Packing one element costs about as much as this many multiply-adds
/// (measured: the packs took 4% and 9% of a 128x784x256 product).
const PACK_COST: usize = 12;

/// How to cut `p` over `threads`: `(by columns, part length, parts)`, or
/// `None` when there are not two slivers to share. Each way is costed as
/// its largest part's padded multiply-adds plus the packing it repeats (the
/// whole of `A` in every column part; the whole of `B` in every row part,
/// unless `B` is read in place), and the cheaper one wins.
fn split<K: Microkernel>(p: &Problem, threads: usize) -> Option<(bool, usize, usize)> {
    let padded = |len: usize, unit: usize| len.div_ceil(unit) * unit;
    let b_packed = !driver::reads_b_in_place(p);
    let way = |by_cols: bool| {
        let (len, unit) = if by_cols { (p.n, K::NR) } else { (p.m, K::MR) };
        let units = len.div_ceil(unit);
        let parts = threads.min(units);
        let chunk = units.div_ceil(parts) * unit;
        let cost = if by_cols {
            let cols = chunk.min(p.n);
            padded(p.m, K::MR) * padded(cols, K::NR) * p.k
                + PACK_COST * p.k * (p.m + if b_packed { cols } else { 0 })
        } else {
            let rows = chunk.min(p.m);
            padded(rows, K::MR) * padded(p.n, K::NR) * p.k
                + PACK_COST * p.k * (rows + if b_packed { p.n } else { 0 })
        };
        (parts > 1).then_some((cost, (by_cols, chunk, parts)))
    };
    match (way(true), way(false)) {
        (Some(c), Some(r)) => Some(if c.0 <= r.0 { c.1 } else { r.1 }),
        (c, r) => c.or(r).map(|w| w.1),
    }
}

/// Runs `p` with kernel `K`, on several threads when it pays.
///
/// # Safety
/// As [`driver::run`], with `cx.pack` holding `cx.pack_len` floats per
/// thread of `cx.workers` (one thread without workers).
pub(crate) unsafe fn run<K: Microkernel>(p: &Problem, cx: &GemmCx) {
    let p = &driver::orient::<K>(p);
    let threads = cx.workers.map_or(1, |w| w.threads());
    let macs = p.m.saturating_mul(p.k).saturating_mul(p.n);
    if threads > 1
        && macs >= PAR_MIN_MACS
        && let Some(workers) = cx.workers
        && let Some((by_cols, chunk, parts)) = split::<K>(p, threads)
    {
        let len = if by_cols { p.n } else { p.m };
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
    // SAFETY: forwarded.
    unsafe { driver::run::<K>(p, cx.pack) };
}
