//! The single-threaded loop nest around a microkernel (BLIS order, with the
//! roles of `A` and `B` mirrored because our vectors run along `n`).
//!
//! ```text
//! for i0 in m by mc:                 A block rows
//!   for p0 in k by kc:
//!     pack A[i0.., p0..]  (mc x kc, slivers of MR rows)
//!     for j0 in n by nc:
//!       pack B[p0.., j0..] (kc x nc, slivers of NR columns)  -> stays in L2
//!         (unless B's rows are contiguous: then whole slivers are read in
//!         place and only a partial last sliver is packed)
//!       for ir in mc by MR:          one A sliver (MR x kc)  -> stays in L1
//!         for jr in nc by NR:        B slivers stream from L2
//!           microkernel(C[i0+ir.., j0+jr..])
//! ```
//!
//! The first `k` block overwrites `C` unless the caller accumulates; later
//! blocks add. The epilogue runs with the last `k` block only.

use super::blocking::{a_len, blocks};
use super::microkernel::{Epilogue, Microkernel, Tile};
use super::pack::pack_w;

/// One `C (+)= A·B` with element strides `[row, col]`, oriented so that the
/// microkernel's vectors run along `n`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Problem {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub a: *const f32,
    pub a_s: [usize; 2],
    pub b: *const f32,
    pub b_s: [usize; 2],
    pub c: *mut f32,
    pub c_s: [usize; 2],
    pub accumulate: bool,
    pub epilogue: Epilogue,
}

// SAFETY: a problem is plain addresses and sizes; threads that share one
// write disjoint parts of `C` (see `parallel`) and only read `A` and `B`.
unsafe impl Send for Problem {}
// SAFETY: as above.
unsafe impl Sync for Problem {}

impl Problem {
    /// The transposed problem `C^T = B^T · A^T`.
    pub fn transposed(&self) -> Problem {
        let t = |s: [usize; 2]| [s[1], s[0]];
        Problem {
            m: self.n,
            n: self.m,
            a: self.b,
            a_s: t(self.b_s),
            b: self.a,
            b_s: t(self.a_s),
            c_s: t(self.c_s),
            epilogue: self.epilogue.transposed(),
            ..*self
        }
    }

    /// Rows `r0..r0 + rows` of the product.
    pub fn rows(&self, r0: usize, rows: usize) -> Problem {
        Problem {
            m: rows,
            a: self.a.wrapping_add(r0 * self.a_s[0]),
            c: self.c.wrapping_add(r0 * self.c_s[0]),
            epilogue: self.epilogue.at(r0, 0),
            ..*self
        }
    }

    /// Columns `c0..c0 + cols` of the product.
    pub fn cols(&self, c0: usize, cols: usize) -> Problem {
        Problem {
            n: cols,
            b: self.b.wrapping_add(c0 * self.b_s[1]),
            c: self.c.wrapping_add(c0 * self.c_s[1]),
            epilogue: self.epilogue.at(0, c0),
            ..*self
        }
    }
}

/// `p` or its transpose, whichever computes fewer padded tile elements
/// with kernel `K`, counting a strided store of `C` as 25% dearer.
pub(crate) fn orient<K: Microkernel>(p: &Problem) -> Problem {
    let area = |rows: usize, cols: usize, cs: usize| {
        let padded = (rows.div_ceil(K::MR) * K::MR * cols.div_ceil(K::NR) * K::NR) as f64;
        if cs == 1 { padded } else { padded * 1.25 }
    };
    if area(p.n, p.m, p.c_s[0]) < area(p.m, p.n, p.c_s[1]) {
        p.transposed()
    } else {
        *p
    }
}

/// Whether whole `B` slivers are read where they are instead of packed:
/// when `B`'s rows are contiguous (a sliver step is then `NR` contiguous
/// floats) and their stride is not a multiple of 4 KiB (such strides put
/// every step of a sliver in the same L1 sets).
pub(crate) fn reads_b_in_place(p: &Problem) -> bool {
    p.b_s[1] == 1 && !p.b_s[0].is_multiple_of(1024)
}

/// Runs `p` on this thread with kernel `K`, packing into `pack`.
///
/// # Safety
/// The operands are valid for their strided extents, `C` does not overlap
/// `A` or `B`, `pack` is writable for
/// [`pack_len::<K>(m, k, n)`](super::blocking::pack_len) floats (64-byte
/// alignment is faster, not required), the CPU runs `K`, and `k > 0`.
pub(crate) unsafe fn run<K: Microkernel>(p: &Problem, pack_buf: *mut f32) {
    let Problem { m, k, n, .. } = *p;
    let bl = blocks::<K>(m, k, n);
    let a_pack = pack_buf;
    let b_pack = pack_buf.wrapping_add(a_len(&bl));
    let b_direct = reads_b_in_place(p);
    for i0 in (0..m).step_by(bl.mc) {
        let mc = bl.mc.min(m - i0);
        for p0 in (0..k).step_by(bl.kc) {
            let kc = bl.kc.min(k - p0);
            let load = p.accumulate || p0 > 0;
            let last = p0 + kc == k;
            // SAFETY: the block is inside A; the packed block fits the
            // scratch by `pack_len`'s bound.
            unsafe {
                pack_w(
                    K::MR,
                    p.a.add(i0 * p.a_s[0] + p0 * p.a_s[1]),
                    p.a_s[0],
                    p.a_s[1],
                    mc,
                    kc,
                    a_pack,
                )
            };
            for j0 in (0..n).step_by(bl.nc) {
                let nc = bl.nc.min(n - j0);
                // Whole slivers read in place; the rest is packed.
                let direct = if b_direct { nc / K::NR * K::NR } else { 0 };
                if direct < nc {
                    // SAFETY: as for A.
                    unsafe {
                        pack_w(
                            K::NR,
                            p.b.add(p0 * p.b_s[0] + (j0 + direct) * p.b_s[1]),
                            p.b_s[1],
                            p.b_s[0],
                            nc - direct,
                            kc,
                            b_pack,
                        )
                    };
                }
                for ir in (0..mc).step_by(K::MR) {
                    let a_sliver = a_pack.wrapping_add(ir * kc);
                    for jr in (0..nc).step_by(K::NR) {
                        let (i, j) = (i0 + ir, j0 + jr);
                        let tile = Tile {
                            c: p.c.wrapping_add(i * p.c_s[0] + j * p.c_s[1]),
                            rs: p.c_s[0],
                            cs: p.c_s[1],
                            rows: K::MR.min(mc - ir),
                            cols: K::NR.min(nc - jr),
                            load,
                            epilogue: if last {
                                p.epilogue.at(i, j)
                            } else {
                                Epilogue::NONE
                            },
                        };
                        let (b_sliver, b_stride) = if jr < direct {
                            (p.b.wrapping_add(p0 * p.b_s[0] + j * p.b_s[1]), p.b_s[0])
                        } else {
                            (b_pack.wrapping_add((jr - direct) * kc).cast_const(), K::NR)
                        };
                        // SAFETY: the A sliver was packed above (`kc` steps);
                        // the B sliver is `kc` full runs of `NR` columns of B
                        // or was packed above; the tile is inside C.
                        unsafe { K::run(kc, a_sliver, b_sliver, b_stride, &tile) };
                    }
                }
            }
        }
    }
}
