//! Kernels driven by i32 index tensors: gather, scatter-add and one-hot.
//!
//! These are the only kernels whose memory accesses depend on data, so they
//! are the only ones that can fail at run time: every index is checked
//! against its bound *before* anything is written (an index outside `0..n`,
//! negative ones included, is an error naming the step, the index and the
//! bound, as in the evaluator, which also checks before computing).
//!
//! Layout: with the indexed axis in the middle, the data is `[outer.., n,
//! inner..]` and the indices have their own shape `idx..`; the output (gather)
//! or the updates (scatter-add) are `[outer.., idx.., inner..]`. Each part is
//! a precomputed [`Walk`]; the inner part is usually one contiguous run
//! (an embedding row), copied with `copy_nonoverlapping`.

use super::layout::{Loc, Walk};
use kiln_ir::DType;

/// An index outside its bound, found at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadIndex {
    pub index: i64,
    pub bound: usize,
}

/// The indices: where they are and how to walk them together with the
/// operand that has the index dims (`[idx strides, other strides]`).
#[derive(Clone, Debug)]
pub struct Indices {
    pub loc: Loc,
    pub walk: Walk<2>,
    pub bound: usize,
}

impl Indices {
    /// The first index outside `0..bound`, if any.
    ///
    /// # Safety
    /// The indices' view lies inside its region.
    unsafe fn check(&self, bases: &[*mut f32]) -> Result<(), BadIndex> {
        let mut bad = None;
        let bound = self.bound;
        // SAFETY: the walk stays inside the index view; the second operand's
        // pointer is computed but never dereferenced.
        unsafe {
            self.walk.for_each_run(
                [self.loc.ptr(bases), std::ptr::null_mut()],
                |[p, _], n, [s, _]| {
                    if bad.is_some() {
                        return;
                    }
                    let p = p as *const i32;
                    for i in 0..n {
                        let v = *p.add(i * s);
                        if v < 0 || v as usize >= bound {
                            bad = Some(v);
                            return;
                        }
                    }
                },
            )
        };
        match bad {
            Some(v) => Err(BadIndex {
                index: i64::from(v),
                bound,
            }),
            None => Ok(()),
        }
    }
}

/// `out[a.., j.., b..] = data[a.., idx[j..], b..]`.
#[derive(Clone, Debug)]
pub struct Gather {
    pub out: Loc,
    pub data: Loc,
    /// Outer dims: `[out strides, data strides]`.
    pub outer: Walk<2>,
    /// Index dims: `[idx strides, out strides]`.
    pub idx: Indices,
    /// The data's stride along the indexed axis.
    pub axis_stride: usize,
    /// Inner dims: `[out strides, data strides]`.
    pub inner: Walk<2>,
}

impl Gather {
    /// # Safety
    /// Views inside their regions, the output disjoint from the operands.
    pub unsafe fn run(&self, bases: &[*mut f32]) -> Result<(), BadIndex> {
        // SAFETY: views are in bounds; every index is checked before use.
        unsafe {
            self.idx.check(bases)?;
            let ip = self.idx.loc.ptr(bases);
            self.outer
                .for_each([self.out.ptr(bases), self.data.ptr(bases)], |[o, d]| {
                    self.idx.walk.for_each([ip, o], |[i, o]| {
                        let row = *(i as *const i32) as usize;
                        let src = d.add(row * self.axis_stride);
                        copy_block(&self.inner, o, src);
                    })
                });
        }
        Ok(())
    }
}

/// Copies one inner block (walk operands `[dst, src]`).
#[inline(always)]
unsafe fn copy_block(inner: &Walk<2>, dst: *mut f32, src: *mut f32) {
    // SAFETY: the caller passes in-bounds, disjoint blocks.
    unsafe {
        inner.for_each_run([dst, src], |[o, a], n, [so, sa]| {
            if so == 1 && sa == 1 {
                std::ptr::copy_nonoverlapping(a, o, n);
            } else {
                for k in 0..n {
                    *o.add(k * so) = *a.add(k * sa);
                }
            }
        })
    }
}

/// Zeros, then `out[a.., idx[j..], b..] += updates[a.., j.., b..]` in
/// row-major order of the updates (the evaluator's order).
#[derive(Clone, Debug)]
pub struct ScatterAdd {
    pub dtype: DType,
    pub out: Loc,
    pub updates: Loc,
    /// The whole output, to zero it.
    pub zero: Walk<1>,
    /// Outer dims: `[out strides, updates strides]`.
    pub outer: Walk<2>,
    /// Index dims: `[idx strides, updates strides]`.
    pub idx: Indices,
    /// The output's stride along the axis.
    pub axis_stride: usize,
    /// Inner dims: `[out strides, updates strides]`.
    pub inner: Walk<2>,
}

impl ScatterAdd {
    /// # Safety
    /// As for [`Gather::run`].
    pub unsafe fn run(&self, bases: &[*mut f32]) -> Result<(), BadIndex> {
        // SAFETY: views are in bounds; every index is checked before use.
        unsafe {
            self.idx.check(bases)?;
            self.zero
                .for_each_run([self.out.ptr(bases)], |[o], n, [s]| {
                    for k in 0..n {
                        *(o.add(k * s) as *mut u32) = 0;
                    }
                });
            let ip = self.idx.loc.ptr(bases);
            let int = self.dtype == DType::I32;
            self.outer
                .for_each([self.out.ptr(bases), self.updates.ptr(bases)], |[o, u]| {
                    self.idx.walk.for_each([ip, u], |[i, u]| {
                        let row = *(i as *const i32) as usize;
                        let dst = o.add(row * self.axis_stride);
                        self.inner.for_each_run([dst, u], |[o, a], n, [so, sa]| {
                            if int {
                                let (o, a) = (o as *mut i32, a as *const i32);
                                for k in 0..n {
                                    *o.add(k * so) = (*o.add(k * so)).wrapping_add(*a.add(k * sa));
                                }
                            } else {
                                for k in 0..n {
                                    *o.add(k * so) += *a.add(k * sa);
                                }
                            }
                        });
                    })
                });
        }
        Ok(())
    }
}

/// Zeros, then `out[j.., idx[j..]] = 1.0`.
#[derive(Clone, Debug)]
pub struct OneHot {
    pub out: Loc,
    pub zero: Walk<1>,
    /// Index dims: `[idx strides, out strides]`.
    pub idx: Indices,
    /// The output's stride along the one-hot (last) axis.
    pub depth_stride: usize,
}

impl OneHot {
    /// # Safety
    /// As for [`Gather::run`].
    pub unsafe fn run(&self, bases: &[*mut f32]) -> Result<(), BadIndex> {
        // SAFETY: views are in bounds; every index is checked before use.
        unsafe {
            self.idx.check(bases)?;
            self.zero
                .for_each_run([self.out.ptr(bases)], |[o], n, [s]| {
                    for k in 0..n {
                        *o.add(k * s) = 0.0;
                    }
                });
            let ip = self.idx.loc.ptr(bases);
            self.idx.walk.for_each([ip, self.out.ptr(bases)], |[i, o]| {
                let k = *(i as *const i32) as usize;
                *o.add(k * self.depth_stride) = 1.0;
            });
        }
        Ok(())
    }
}
