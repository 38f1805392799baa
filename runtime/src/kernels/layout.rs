//! Strided index spaces, simplified once when a plan is loaded.
//!
//! Every kernel walks one or more operands that share an index space (the
//! output's, usually) through their own strides. [`Walk::new`] drops size-1
//! dimensions and merges neighbouring dimensions that are contiguous in every
//! operand, so a dense tensor of any rank becomes a single run and a bias
//! broadcast over rows becomes "rows of contiguous runs". At run time a walk
//! hands each innermost run (pointers, length, strides) to a closure, which
//! picks a fast loop for the common stride patterns.
//!
//! Pointer arithmetic between runs uses `wrapping_add`: an odometer may step a
//! pointer past the end of its buffer just before carrying it back, and only
//! the in-bounds pointers are ever dereferenced.

/// The largest rank the runtime accepts (checked when a plan is loaded), so
/// walks can keep their counters on the stack.
pub const MAX_RANK: usize = 16;

/// Where an operand starts: a slot of the base table plus an element offset
/// (for temporaries, the temp's arena offset plus the view's offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loc {
    pub slot: usize,
    pub offset: usize,
}

impl Loc {
    /// The operand's first element for this run.
    #[inline]
    pub fn ptr(self, bases: &[*mut f32]) -> *mut f32 {
        // Wrapping: computing the address is harmless; the plan's validation
        // guarantees every view lies inside its region before anything reads it.
        bases[self.slot].wrapping_add(self.offset)
    }
}

/// The index space of `K` operands of one shape, each with its own strides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Walk<const K: usize> {
    /// Simplified dims, outermost first; empty for a single element.
    dims: Vec<usize>,
    /// `strides[d][k]`: operand `k`'s stride along simplified dim `d`.
    strides: Vec<[usize; K]>,
    /// Some original dim is 0: there is nothing to visit.
    empty: bool,
}

impl<const K: usize> Walk<K> {
    /// The walk over `shape` for operands with `strides[k]` (each `shape.len()` long).
    pub fn new(shape: &[usize], strides: [&[usize]; K]) -> Walk<K> {
        debug_assert!(strides.iter().all(|s| s.len() == shape.len()));
        let mut dims: Vec<usize> = Vec::new();
        let mut merged: Vec<[usize; K]> = Vec::new();
        for (d, &n) in shape.iter().enumerate() {
            if n == 1 {
                continue;
            }
            let s: [usize; K] = std::array::from_fn(|k| strides[k][d]);
            if let (Some(last_n), Some(last_s)) = (dims.last_mut(), merged.last_mut())
                && (0..K).all(|k| last_s[k] == s[k] * n)
            {
                *last_n *= n;
                *last_s = s;
                continue;
            }
            dims.push(n);
            merged.push(s);
        }
        Walk {
            dims,
            strides: merged,
            empty: shape.contains(&0),
        }
    }

    /// Number of elements visited.
    pub fn numel(&self) -> usize {
        if self.empty {
            0
        } else {
            self.dims.iter().product()
        }
    }

    /// The simplified rank.
    pub fn rank(&self) -> usize {
        self.dims.len()
    }

    /// Length and strides of the innermost run (`(1, [0; K])` for one element).
    pub fn inner(&self) -> (usize, [usize; K]) {
        match (self.dims.last(), self.strides.last()) {
            (Some(&n), Some(&s)) => (n, s),
            _ => (1, [0; K]),
        }
    }

    /// Calls `f(pointers, len, strides)` for every innermost run, in row-major
    /// order of the index space.
    ///
    /// # Safety
    /// Every element of every operand the walk reaches from `base` must be
    /// valid for the accesses `f` makes.
    #[inline]
    pub unsafe fn for_each_run(
        &self,
        base: [*mut f32; K],
        mut f: impl FnMut([*mut f32; K], usize, [usize; K]),
    ) {
        if self.empty {
            return;
        }
        let r = self.dims.len();
        if r == 0 {
            f(base, 1, [0; K]);
            return;
        }
        let (n, s) = (self.dims[r - 1], self.strides[r - 1]);
        let mut idx = [0usize; MAX_RANK];
        let mut p = base;
        loop {
            f(p, n, s);
            // Odometer over the outer dims, innermost outer dim first.
            let mut d = r - 1;
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                idx[d] += 1;
                let sd = &self.strides[d];
                if idx[d] < self.dims[d] {
                    for k in 0..K {
                        p[k] = p[k].wrapping_add(sd[k]);
                    }
                    break;
                }
                for k in 0..K {
                    p[k] = p[k].wrapping_sub(sd[k] * (self.dims[d] - 1));
                }
                idx[d] = 0;
            }
        }
    }

    /// Calls `f(pointers)` for every element, in row-major order.
    ///
    /// # Safety
    /// As for [`Walk::for_each_run`].
    #[inline]
    pub unsafe fn for_each(&self, base: [*mut f32; K], mut f: impl FnMut([*mut f32; K])) {
        // SAFETY: forwarded to the caller.
        unsafe {
            self.for_each_run(base, |p, n, s| {
                for i in 0..n {
                    f(std::array::from_fn(|k| p[k].wrapping_add(i * s[k])));
                }
            })
        }
    }
}

/// Whether `dims` (with `strides`) are one run of stride `s` for some `s`:
/// returns that stride (1 by convention when every dim has size 1).
pub fn collapse(dims: &[usize], strides: &[usize]) -> Option<usize> {
    let w = Walk::<1>::new(dims, [strides]);
    match w.rank() {
        0 => Some(1),
        1 => Some(w.inner().1[0]),
        _ => None,
    }
}

/// Zeros a strided rank-4 block of f32 (one `fill` when it is dense).
///
/// # Safety
/// The block must be a valid view of writable memory.
pub unsafe fn zero4(p: *mut f32, s: &[usize; 4], dims: [usize; 4]) {
    let dense = [dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1];
    let n: usize = dims.iter().product();
    // SAFETY: the caller guarantees the block is valid; a dense block is one run.
    unsafe {
        if (0..4).all(|d| dims[d] <= 1 || s[d] == dense[d]) {
            std::slice::from_raw_parts_mut(p, n).fill(0.0);
            return;
        }
        for a in 0..dims[0] {
            for b in 0..dims[1] {
                for c in 0..dims[2] {
                    for e in 0..dims[3] {
                        *p.add(a * s[0] + b * s[1] + c * s[2] + e * s[3]) = 0.0;
                    }
                }
            }
        }
    }
}

/// 4-byte element types whose bits the kernels move around.
pub trait Bits: Copy {
    fn from_bits(b: u32) -> Self;
    fn to_bits(self) -> u32;
}

impl Bits for f32 {
    #[inline(always)]
    fn from_bits(b: u32) -> f32 {
        f32::from_bits(b)
    }
    #[inline(always)]
    fn to_bits(self) -> u32 {
        f32::to_bits(self)
    }
}

impl Bits for i32 {
    #[inline(always)]
    fn from_bits(b: u32) -> i32 {
        b as i32
    }
    #[inline(always)]
    fn to_bits(self) -> u32 {
        self as u32
    }
}

impl Bits for u32 {
    #[inline(always)]
    fn from_bits(b: u32) -> u32 {
        b
    }
    #[inline(always)]
    fn to_bits(self) -> u32 {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_tensors_become_one_run() {
        let w = Walk::<2>::new(&[2, 3, 4], [&[12, 4, 1], &[12, 4, 1]]);
        assert_eq!(w.rank(), 1);
        assert_eq!(w.inner(), (24, [1, 1]));
    }

    #[test]
    fn broadcast_rows_stay_rows() {
        let w = Walk::<2>::new(&[5, 1, 7], [&[7, 7, 1], &[0, 99, 1]]);
        assert_eq!(w.rank(), 2);
        assert_eq!(w.inner(), (7, [1, 1]));
        assert_eq!(w.numel(), 35);
    }

    #[test]
    fn runs_visit_every_element_in_order() {
        // A transposed 3x2 view of a 2x3 buffer.
        let w = Walk::<1>::new(&[3, 2], [&[1, 3]]);
        let mut seen = Vec::new();
        let base = std::ptr::null_mut::<f32>();
        // SAFETY: the closure only records addresses, never dereferences them.
        unsafe { w.for_each([base], |[p]| seen.push(p as usize / 4)) };
        assert_eq!(seen, vec![0, 3, 1, 4, 2, 5]);
        let empty = Walk::<1>::new(&[3, 0], [&[1, 3]]);
        assert_eq!(empty.numel(), 0);
        let scalar = Walk::<1>::new(&[], [&[]]);
        assert_eq!(scalar.numel(), 1);
    }

    #[test]
    fn collapse_finds_single_strides() {
        assert_eq!(collapse(&[3, 4], &[4, 1]), Some(1));
        assert_eq!(collapse(&[3, 1], &[2, 9]), Some(2));
        assert_eq!(collapse(&[3, 4], &[1, 3]), None);
        assert_eq!(collapse(&[1, 1], &[5, 5]), Some(1));
    }
}
