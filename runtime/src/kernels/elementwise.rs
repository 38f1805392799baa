//! Elementwise kernels: copy, unary and binary functions, `where`, `cast`.
//!
//! All of them walk the output's index space together with their operands
//! (see [`Walk`]) and pick a loop per innermost run:
//! - every operand contiguous: plain slice loops the compiler vectorizes, with
//!   separate loops for the in-place cases (the output is the very same memory
//!   as an input), because a raw-pointer loop over overlapping ranges would
//!   fall back to scalar code;
//! - one operand broadcast along the run (stride 0): read it once, then a
//!   contiguous loop over the other (a column broadcast);
//! - a bias row broadcast over a matrix needs nothing special: the walk makes
//!   each row a contiguous run;
//! - anything else: a strided loop.
//!
//! The scalar functions are exactly the reference evaluator's (`ir/src/eval/
//! elementwise.rs`), so results agree bit for bit: same formulas, same NaN
//! conventions, same `libm` erf. A faster vectorized `exp`/`tanh` would break
//! that agreement and needs a tolerance decision first.
//!
//! In place: an input may be the output's identical view (the plan loader
//! checks that every input is either identical to the output or disjoint from
//! it). Parallel note: runs are independent, so a split (with the executable's `Workers`) over the outer
//! dims of the walk is safe for large tensors.

use super::layout::{Bits, Loc, Walk};
use kiln_ir::{BinaryOp, DType, UnaryOp};
use std::slice;

/// `K` operands (the output first) walked together.
#[derive(Clone, Debug)]
pub struct Ew<const K: usize> {
    pub walk: Walk<K>,
    pub locs: [Loc; K],
}

impl<const K: usize> Ew<K> {
    fn ptrs(&self, bases: &[*mut f32]) -> [*mut f32; K] {
        std::array::from_fn(|k| self.locs[k].ptr(bases))
    }
}

/// A prepared elementwise step.
#[derive(Clone, Debug)]
pub enum Elementwise {
    /// Moves 4-byte elements (either dtype).
    Copy(Ew<2>),
    /// The dtype is the operand's (and the output's).
    Unary(UnaryOp, DType, Ew<2>),
    /// The dtype is the operands'.
    Binary(BinaryOp, DType, Ew<3>),
    /// Operands: output, condition (f32), then-branch, else-branch.
    Where(Ew<4>),
    /// From, to.
    Cast(DType, DType, Ew<2>),
}

impl Elementwise {
    /// # Safety
    /// The operands' locations and walks must describe memory inside the
    /// regions of `bases` (the plan loader checked this), with every input
    /// either identical to the output or disjoint from it.
    pub unsafe fn run(&self, bases: &[*mut f32]) {
        // SAFETY (for every call below): forwarded from this function's contract.
        unsafe {
            match self {
                Elementwise::Copy(ew) => copy(ew, bases),
                Elementwise::Unary(op, DType::F32, ew) => unary_f32(*op, ew, bases),
                Elementwise::Unary(op, DType::I32, ew) => unary_i32(*op, ew, bases),
                Elementwise::Binary(op, DType::F32, ew) => binary_f32(*op, ew, bases),
                Elementwise::Binary(op, DType::I32, ew) => binary_i32(*op, ew, bases),
                Elementwise::Where(ew) => select(ew, bases),
                Elementwise::Cast(from, to, ew) => match (from, to) {
                    (DType::F32, DType::I32) => map1(ew, bases, |x: f32| x as i32),
                    (DType::I32, DType::F32) => map1(ew, bases, |x: i32| x as f32),
                    _ => copy(ew, bases),
                },
            }
        }
    }
}

unsafe fn copy(ew: &Ew<2>, bases: &[*mut f32]) {
    let [o, a] = ew.ptrs(bases);
    if o == a {
        // Views that start together are identical (inputs are identical to
        // the output or disjoint from it): nothing to move.
        return;
    }
    // SAFETY: forwarded from `Elementwise::run`.
    unsafe { map1(ew, bases, |x: u32| x) }
}

/// `out = f(a)` over the walk.
#[inline(always)]
unsafe fn map1<A: Bits, O: Bits>(ew: &Ew<2>, bases: &[*mut f32], f: impl Fn(A) -> O) {
    let base = ew.ptrs(bases);
    // SAFETY: the walk stays inside the operands (the caller's contract).
    unsafe {
        ew.walk.for_each_run(base, |[o, a], n, [so, sa]| {
            run1(o as *mut O, a as *const A, n, so, sa, &f)
        })
    }
}

/// One run of `out[i*so] = f(a[i*sa])`.
#[inline(always)]
unsafe fn run1<A: Bits, O: Bits>(
    o: *mut O,
    a: *const A,
    n: usize,
    so: usize,
    sa: usize,
    f: &impl Fn(A) -> O,
) {
    // SAFETY: `o` and `a` are valid for `n` elements at their strides; when
    // they are the same address the views are identical, so the u32 slice
    // below is the only live reference to that memory.
    unsafe {
        if so == 1 && sa == 1 {
            if std::ptr::eq(o.cast::<u8>(), a.cast::<u8>()) {
                for x in slice::from_raw_parts_mut(o as *mut u32, n) {
                    *x = f(A::from_bits(*x)).to_bits();
                }
            } else {
                let src = slice::from_raw_parts(a, n);
                let dst = slice::from_raw_parts_mut(o, n);
                for (d, &x) in dst.iter_mut().zip(src) {
                    *d = f(x);
                }
            }
        } else if sa == 0 {
            let v = f(*a);
            for i in 0..n {
                *o.add(i * so) = v;
            }
        } else {
            for i in 0..n {
                *o.add(i * so) = f(*a.add(i * sa));
            }
        }
    }
}

/// `out = f(a, b)` over the walk.
#[inline(always)]
unsafe fn map2<A: Bits, B: Bits, O: Bits>(ew: &Ew<3>, bases: &[*mut f32], f: impl Fn(A, B) -> O) {
    let base = ew.ptrs(bases);
    // SAFETY: the walk stays inside the operands (the caller's contract).
    unsafe {
        ew.walk.for_each_run(base, |[o, a, b], n, s| {
            run2(o as *mut O, a as *const A, b as *const B, n, s, &f)
        })
    }
}

/// One run of `out[i*so] = f(a[i*sa], b[i*sb])`.
#[inline(always)]
unsafe fn run2<A: Bits, B: Bits, O: Bits>(
    o: *mut O,
    a: *const A,
    b: *const B,
    n: usize,
    [so, sa, sb]: [usize; 3],
    f: &impl Fn(A, B) -> O,
) {
    // SAFETY: as in `run1`: valid operands, and equal addresses mean
    // identical views, handled through a single mutable slice.
    unsafe {
        match (so, sa, sb) {
            (1, 1, 1) => {
                let out_is_a = std::ptr::eq(o.cast::<u8>(), a.cast::<u8>());
                let out_is_b = std::ptr::eq(o.cast::<u8>(), b.cast::<u8>());
                match (out_is_a, out_is_b) {
                    (false, false) => {
                        let (x, y) = (slice::from_raw_parts(a, n), slice::from_raw_parts(b, n));
                        let dst = slice::from_raw_parts_mut(o, n);
                        for ((d, &p), &q) in dst.iter_mut().zip(x).zip(y) {
                            *d = f(p, q);
                        }
                    }
                    (true, false) => {
                        let y = slice::from_raw_parts(b, n);
                        let dst = slice::from_raw_parts_mut(o as *mut u32, n);
                        for (d, &q) in dst.iter_mut().zip(y) {
                            *d = f(A::from_bits(*d), q).to_bits();
                        }
                    }
                    (false, true) => {
                        let x = slice::from_raw_parts(a, n);
                        let dst = slice::from_raw_parts_mut(o as *mut u32, n);
                        for (d, &p) in dst.iter_mut().zip(x) {
                            *d = f(p, B::from_bits(*d)).to_bits();
                        }
                    }
                    (true, true) => {
                        for d in slice::from_raw_parts_mut(o as *mut u32, n) {
                            *d = f(A::from_bits(*d), B::from_bits(*d)).to_bits();
                        }
                    }
                }
            }
            (1, 0, 1) => {
                let p = *a;
                run1(o, b, n, 1, 1, &|q| f(p, q));
            }
            (1, 1, 0) => {
                let q = *b;
                run1(o, a, n, 1, 1, &|p| f(p, q));
            }
            _ => {
                for i in 0..n {
                    *o.add(i * so) = f(*a.add(i * sa), *b.add(i * sb));
                }
            }
        }
    }
}

unsafe fn unary_f32(op: UnaryOp, ew: &Ew<2>, b: &[*mut f32]) {
    // SAFETY (every arm): forwarded from `Elementwise::run`.
    unsafe {
        match op {
            UnaryOp::Neg => map1(ew, b, |x: f32| -x),
            UnaryOp::Exp => map1(ew, b, f32::exp),
            UnaryOp::Log => map1(ew, b, f32::ln),
            UnaryOp::Sqrt => map1(ew, b, f32::sqrt),
            UnaryOp::Rsqrt => map1(ew, b, |x: f32| 1.0 / x.sqrt()),
            UnaryOp::Recip => map1(ew, b, |x: f32| 1.0 / x),
            UnaryOp::Abs => map1(ew, b, f32::abs),
            UnaryOp::Sign => map1(ew, b, sign),
            UnaryOp::Tanh => map1(ew, b, f32::tanh),
            UnaryOp::Sigmoid => map1(ew, b, |x: f32| 1.0 / (1.0 + (-x).exp())),
            UnaryOp::Relu => map1(ew, b, |x: f32| if x.is_nan() || x > 0.0 { x } else { 0.0 }),
            UnaryOp::Erf => map1(ew, b, libm::erff),
            UnaryOp::Sin => map1(ew, b, f32::sin),
            UnaryOp::Cos => map1(ew, b, f32::cos),
            UnaryOp::Step => map1(ew, b, |x: f32| if x > 0.0 { 1.0f32 } else { 0.0 }),
        }
    }
}

/// -1, 0 or 1; NaN stays NaN; both zeros give +0.
#[inline(always)]
fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else if x.is_nan() {
        x
    } else {
        0.0
    }
}

unsafe fn unary_i32(op: UnaryOp, ew: &Ew<2>, b: &[*mut f32]) {
    // SAFETY (every arm): forwarded from `Elementwise::run`.
    unsafe {
        match op {
            UnaryOp::Neg => map1(ew, b, i32::wrapping_neg),
            UnaryOp::Abs => map1(ew, b, i32::wrapping_abs),
            UnaryOp::Sign => map1(ew, b, i32::signum),
            // The loader only accepts the ops above for i32.
            _ => debug_assert!(false, "{op:?} on i32"),
        }
    }
}

/// The larger of two floats; NaN if either is NaN; the first on ties.
#[inline(always)]
pub fn max_nan(p: f32, q: f32) -> f32 {
    if p.is_nan() || q.is_nan() {
        if p.is_nan() { p } else { q }
    } else if q > p {
        q
    } else {
        p
    }
}

/// The smaller of two floats; NaN if either is NaN; the first on ties.
#[inline(always)]
pub fn min_nan(p: f32, q: f32) -> f32 {
    if p.is_nan() || q.is_nan() {
        if p.is_nan() { p } else { q }
    } else if q < p {
        q
    } else {
        p
    }
}

#[inline(always)]
fn ind(b: bool) -> f32 {
    if b { 1.0 } else { 0.0 }
}

unsafe fn binary_f32(op: BinaryOp, ew: &Ew<3>, b: &[*mut f32]) {
    // SAFETY (every arm): forwarded from `Elementwise::run`.
    unsafe {
        match op {
            BinaryOp::Add => map2(ew, b, |p: f32, q: f32| p + q),
            BinaryOp::Sub => map2(ew, b, |p: f32, q: f32| p - q),
            BinaryOp::Mul => map2(ew, b, |p: f32, q: f32| p * q),
            BinaryOp::Div => map2(ew, b, |p: f32, q: f32| p / q),
            BinaryOp::Pow => map2(ew, b, f32::powf),
            BinaryOp::Max => map2(ew, b, max_nan),
            BinaryOp::Min => map2(ew, b, min_nan),
            BinaryOp::Lt => map2(ew, b, |p: f32, q: f32| ind(p < q)),
            BinaryOp::Le => map2(ew, b, |p: f32, q: f32| ind(p <= q)),
            BinaryOp::Gt => map2(ew, b, |p: f32, q: f32| ind(p > q)),
            BinaryOp::Ge => map2(ew, b, |p: f32, q: f32| ind(p >= q)),
            BinaryOp::Eq => map2(ew, b, |p: f32, q: f32| ind(p == q)),
            BinaryOp::Ne => map2(ew, b, |p: f32, q: f32| ind(p != q)),
        }
    }
}

unsafe fn binary_i32(op: BinaryOp, ew: &Ew<3>, b: &[*mut f32]) {
    // SAFETY (every arm): forwarded from `Elementwise::run`.
    unsafe {
        match op {
            BinaryOp::Add => map2(ew, b, i32::wrapping_add),
            BinaryOp::Sub => map2(ew, b, i32::wrapping_sub),
            BinaryOp::Mul => map2(ew, b, i32::wrapping_mul),
            BinaryOp::Div => map2(
                ew,
                b,
                |p: i32, q: i32| {
                    if q == 0 { 0 } else { p.wrapping_div(q) }
                },
            ),
            BinaryOp::Max => map2(ew, b, i32::max),
            BinaryOp::Min => map2(ew, b, i32::min),
            BinaryOp::Lt => map2(ew, b, |p: i32, q: i32| ind(p < q)),
            BinaryOp::Le => map2(ew, b, |p: i32, q: i32| ind(p <= q)),
            BinaryOp::Gt => map2(ew, b, |p: i32, q: i32| ind(p > q)),
            BinaryOp::Ge => map2(ew, b, |p: i32, q: i32| ind(p >= q)),
            BinaryOp::Eq => map2(ew, b, |p: i32, q: i32| ind(p == q)),
            BinaryOp::Ne => map2(ew, b, |p: i32, q: i32| ind(p != q)),
            // The loader rejects pow on i32.
            BinaryOp::Pow => debug_assert!(false, "pow on i32"),
        }
    }
}

/// `out = c != 0 ? a : b` (NaN counts as non-zero), moving the branches' bits.
unsafe fn select(ew: &Ew<4>, bases: &[*mut f32]) {
    let base = ew.ptrs(bases);
    // SAFETY: the walk stays inside the operands; raw reads happen before the
    // write of the same element, so identical in-place views are fine.
    unsafe {
        ew.walk
            .for_each_run(base, |[o, c, a, b], n, [so, sc, sa, sb]| {
                let (o, a, b) = (o as *mut u32, a as *const u32, b as *const u32);
                for i in 0..n {
                    let v = if *c.add(i * sc) != 0.0 {
                        *a.add(i * sa)
                    } else {
                        *b.add(i * sb)
                    };
                    *o.add(i * so) = v;
                }
            })
    }
}
