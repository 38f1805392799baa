//! Movement kernels that write new layouts: pad, concat, iota.
//!
//! (Reshape, permute, broadcast and slice never reach the runtime: the
//! compiler turns them into views.) Pad and concat reduce to copies into
//! strided sub-views of the output, which the loader precomputes, so the run
//! is a fill plus one or more [`Walk`]ed copies. They move 4-byte elements and
//! work alike on both dtypes.

use super::elementwise::Ew;
use super::layout::{Loc, MAX_RANK, Walk};

/// Fills a strided view with one 4-byte value.
#[derive(Clone, Debug)]
pub struct Fill {
    pub out: Loc,
    pub walk: Walk<1>,
    pub bits: u32,
}

impl Fill {
    /// # Safety
    /// The view lies inside its region.
    pub unsafe fn run(&self, bases: &[*mut f32]) {
        let bits = self.bits;
        // SAFETY: the walk stays inside the view.
        unsafe {
            self.walk
                .for_each_run([self.out.ptr(bases)], |[o], n, [s]| {
                    let o = o as *mut u32;
                    if s == 1 {
                        std::slice::from_raw_parts_mut(o, n).fill(bits);
                    } else {
                        for i in 0..n {
                            *o.add(i * s) = bits;
                        }
                    }
                })
        }
    }
}

/// Copies between two views of one shape (disjoint: the loader checks it).
#[derive(Clone, Debug)]
pub struct CopyView(pub Ew<2>);

impl CopyView {
    /// # Safety
    /// Both views lie inside their regions and do not overlap.
    pub unsafe fn run(&self, bases: &[*mut f32]) {
        let base = [self.0.locs[0].ptr(bases), self.0.locs[1].ptr(bases)];
        // SAFETY: the walk stays inside both views, which are disjoint.
        unsafe {
            self.0.walk.for_each_run(base, |[o, a], n, [so, sa]| {
                let (o, a) = (o as *mut u32, a as *const u32);
                if so == 1 && sa == 1 {
                    std::ptr::copy_nonoverlapping(a, o, n);
                } else {
                    for i in 0..n {
                        *o.add(i * so) = *a.add(i * sa);
                    }
                }
            })
        }
    }
}

/// XLA pad: fill the output with the value, then copy the input to positions
/// `low + i*(interior+1)` along the axis (a strided sub-view of the output).
#[derive(Clone, Debug)]
pub struct Pad {
    pub fill: Fill,
    pub copy: CopyView,
}

impl Pad {
    /// # Safety
    /// As for [`CopyView::run`].
    pub unsafe fn run(&self, bases: &[*mut f32]) {
        // SAFETY: forwarded.
        unsafe {
            self.fill.run(bases);
            self.copy.run(bases);
        }
    }
}

/// Concat: one copy per operand into its slab of the output.
#[derive(Clone, Debug)]
pub struct Concat {
    pub parts: Vec<CopyView>,
}

impl Concat {
    /// # Safety
    /// As for [`CopyView::run`].
    pub unsafe fn run(&self, bases: &[*mut f32]) {
        for part in &self.parts {
            // SAFETY: forwarded.
            unsafe { part.run(bases) }
        }
    }
}

/// `out[i0, .., in] = i_axis`, as f32 or i32.
#[derive(Clone, Debug)]
pub struct Iota {
    pub out: Loc,
    pub dims: Vec<usize>,
    pub strides: Vec<usize>,
    pub axis: usize,
    pub int: bool,
}

impl Iota {
    /// # Safety
    /// The output view lies inside its region.
    pub unsafe fn run(&self, bases: &[*mut f32]) {
        let o = self.out.ptr(bases);
        let rank = self.dims.len();
        if self.dims.contains(&0) {
            return;
        }
        // Row-major odometer over the full index (iota is rare and small:
        // usually constant-folded by the compiler).
        let mut idx = [0usize; MAX_RANK];
        let mut off = 0usize;
        loop {
            let i = if rank == 0 { 0 } else { idx[self.axis] };
            let bits = if self.int {
                i as i32 as u32
            } else {
                (i as f32).to_bits()
            };
            // SAFETY: `off` is the offset of an element of the view.
            unsafe { *(o.add(off) as *mut u32) = bits };
            let mut d = rank;
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                idx[d] += 1;
                if idx[d] < self.dims[d] {
                    off += self.strides[d];
                    break;
                }
                off -= self.strides[d] * (self.dims[d] - 1);
                idx[d] = 0;
            }
        }
    }
}
