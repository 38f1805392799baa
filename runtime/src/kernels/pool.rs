//! Max and average pooling (NCHW) and their gradients.
//!
//! Direct loops over strided views, one `(n, c)` plane at a time, in the
//! evaluator's order (windows in `(oy, ox)` order, taps in row-major window
//! order), so results agree with it bit for bit: the max is the first maximum
//! (or the first NaN), the gradient of max pooling goes to that position, and
//! average pooling divides a window's sum by the full kernel area.
//!
//! Parallel note: planes are independent in all four kernels (the gradients
//! only add within their own plane), so rayon can split over `n * c`.

use super::layout::Loc;
use kiln_ir::PoolParams;

/// Which of the four ops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    MaxGrad,
    Avg,
    AvgGrad,
}

/// A prepared pooling kernel. `x` is the input (forward; `MaxGrad`'s first
/// operand) or `dx` (`AvgGrad`'s output); `y` is the output or `dy`; `dx` is
/// `MaxGrad`'s output.
#[derive(Clone, Debug)]
pub struct Pool {
    pub kind: PoolKind,
    pub p: PoolParams,
    /// `[n, c, h, w]` of the image and `[oh, ow]` of the pooled tensor.
    pub dims: [usize; 4],
    pub out_hw: [usize; 2],
    pub x: (Loc, [usize; 4]),
    pub y: (Loc, [usize; 4]),
    pub dx: Option<(Loc, [usize; 4])>,
}

/// The input position of window `out`, tap `k` along `axis`, unless in the padding.
#[inline(always)]
fn tap(p: &PoolParams, axis: usize, out: usize, k: usize, size: usize) -> Option<usize> {
    (out * p.stride[axis] + k)
        .checked_sub(p.padding[axis])
        .filter(|&i| i < size)
}

impl Pool {
    /// # Safety
    /// Operands inside their regions; the output disjoint from the inputs.
    pub unsafe fn run(&self, bases: &[*mut f32]) {
        let [n, c, h, w] = self.dims;
        let [oh, ow] = self.out_hw;
        let p = &self.p;
        let (x, xs) = (self.x.0.ptr(bases), self.x.1);
        let (y, ys) = (self.y.0.ptr(bases), self.y.1);
        let area = (p.kernel[0] * p.kernel[1]) as f32;
        // SAFETY: every index is inside its validated view.
        unsafe {
            if self.kind == PoolKind::AvgGrad {
                zero(x, &xs, self.dims);
            }
            let dx = self.dx.map(|(loc, s)| (loc.ptr(bases), s));
            if let Some((dx, dxs)) = dx {
                zero(dx, &dxs, self.dims);
            }
            for ni in 0..n {
                for ci in 0..c {
                    let xp = x.add(ni * xs[0] + ci * xs[1]);
                    let yp = y.add(ni * ys[0] + ci * ys[1]);
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let yv = yp.add(oy * ys[2] + ox * ys[3]);
                            match self.kind {
                                PoolKind::Max | PoolKind::MaxGrad => {
                                    let mut best: Option<usize> = None;
                                    let mut m = f32::NEG_INFINITY;
                                    for ky in 0..p.kernel[0] {
                                        let Some(iy) = tap(p, 0, oy, ky, h) else {
                                            continue;
                                        };
                                        for kx in 0..p.kernel[1] {
                                            let Some(ix) = tap(p, 1, ox, kx, w) else {
                                                continue;
                                            };
                                            let off = iy * xs[2] + ix * xs[3];
                                            let v = *xp.add(off);
                                            if best.is_none()
                                                || (!m.is_nan() && (v.is_nan() || v > m))
                                            {
                                                best = Some(iy * w + ix);
                                                m = v;
                                            }
                                        }
                                    }
                                    if self.kind == PoolKind::Max {
                                        *yv = m;
                                    } else if let (Some(b), Some((dx, dxs))) = (best, dx) {
                                        let (iy, ix) = (b / w, b % w);
                                        let d = dx.add(
                                            ni * dxs[0] + ci * dxs[1] + iy * dxs[2] + ix * dxs[3],
                                        );
                                        *d += *yv;
                                    }
                                }
                                PoolKind::Avg => {
                                    let mut s = 0.0f32;
                                    for ky in 0..p.kernel[0] {
                                        let Some(iy) = tap(p, 0, oy, ky, h) else {
                                            continue;
                                        };
                                        for kx in 0..p.kernel[1] {
                                            if let Some(ix) = tap(p, 1, ox, kx, w) {
                                                s += *xp.add(iy * xs[2] + ix * xs[3]);
                                            }
                                        }
                                    }
                                    *yv = s / area;
                                }
                                PoolKind::AvgGrad => {
                                    let g = *yv / area;
                                    for ky in 0..p.kernel[0] {
                                        let Some(iy) = tap(p, 0, oy, ky, h) else {
                                            continue;
                                        };
                                        for kx in 0..p.kernel[1] {
                                            if let Some(ix) = tap(p, 1, ox, kx, w) {
                                                *xp.add(iy * xs[2] + ix * xs[3]) += g;
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Zeros a strided rank-4 block.
unsafe fn zero(p: *mut f32, s: &[usize; 4], dims: [usize; 4]) {
    // SAFETY: the block is a validated view.
    unsafe {
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
