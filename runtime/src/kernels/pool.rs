//! Max and average pooling (NCHW) and their gradients.
//!
//! Loops over strided views, one `(n, c)` plane at a time. The results agree
//! with the evaluator bit for bit because every sum and every "first maximum"
//! is formed in its order: windows in `(oy, ox)` order, taps in row-major
//! window order. The max is the first maximum (or the first NaN), the
//! gradient of max pooling goes to that position, and average pooling divides
//! a window's sum by the full kernel area.
//!
//! Speed comes from walking a row of windows at a time: for each output row,
//! tap `(ky, kx)` is applied to a chunk of up to `CHUNK` windows whose
//! positions are all inside the image (computed once per tap, so there is no
//! per-element padding test), with the running max/sum per window in a stack
//! buffer. For each window that still visits taps in `(ky, kx)` order.
//! The gradient of average pooling adds into shared input elements when
//! windows overlap; only non-overlapping windows (stride >= kernel) take the
//! row path there, overlapping ones keep the window-by-window loop, whose
//! addition order is the evaluator's.
//!
//! Parallel note: planes are independent in all four kernels (the gradients
//! only add within their own plane), so the executable's `Workers` could split over `n * c`.

use super::layout::{Loc, zero4};
use kiln_ir::PoolParams;

/// Windows per stack-buffered chunk of an output row.
const CHUNK: usize = 64;

// `plane_rows` instances, one per kind.
const MAX: u8 = 0;
const MAX_GRAD: u8 = 1;
const AVG: u8 = 2;
const AVG_GRAD: u8 = 3;

/// Windows per chunk of the unpadded loop.
const LANES: usize = 16;

/// No window position found yet.
const NONE: usize = usize::MAX;

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

/// The windows `lo..hi` (within `from..to`) whose tap `k` along `axis` is inside `0..size`.
#[inline(always)]
fn valid(
    p: &PoolParams,
    axis: usize,
    k: usize,
    size: usize,
    from: usize,
    to: usize,
) -> (usize, usize) {
    let (s, pad) = (p.stride[axis], p.padding[axis]);
    // Need pad <= out*s + k <= pad + size - 1.
    let lo = if pad > k { (pad - k).div_ceil(s) } else { 0 };
    let hi = if pad + size > k {
        (pad + size - 1 - k) / s + 1
    } else {
        0
    };
    let (lo, hi) = (lo.max(from), hi.min(to));
    (lo.min(hi), hi)
}

/// One plane's pointers and strides (the last two strides of each operand).
struct Plane {
    x: *mut f32,
    xs: [usize; 2],
    y: *mut f32,
    ys: [usize; 2],
    dx: *mut f32,
    dxs: [usize; 2],
}

impl Pool {
    /// # Safety
    /// Operands inside their regions; the output disjoint from the inputs.
    pub unsafe fn run(&self, bases: &[*mut f32]) {
        let [n, c, ..] = self.dims;
        let (x, xs) = (self.x.0.ptr(bases), self.x.1);
        let (y, ys) = (self.y.0.ptr(bases), self.y.1);
        let dx = self.dx.map(|(loc, s)| (loc.ptr(bases), s));
        let p = &self.p;
        let rows = self.kind != PoolKind::AvgGrad
            || (p.stride[0] >= p.kernel[0] && p.stride[1] >= p.kernel[1]);
        // SAFETY: every index below is inside its validated view.
        unsafe {
            if self.kind == PoolKind::AvgGrad {
                zero4(x, &xs, self.dims);
            }
            if let Some((dx, dxs)) = dx {
                zero4(dx, &dxs, self.dims);
            }
            for ni in 0..n {
                for ci in 0..c {
                    let (dxp, dxs) = match dx {
                        Some((d, s)) => (d.add(ni * s[0] + ci * s[1]), [s[2], s[3]]),
                        None => (std::ptr::null_mut(), [0, 0]),
                    };
                    let plane = Plane {
                        x: x.add(ni * xs[0] + ci * xs[1]),
                        xs: [xs[2], xs[3]],
                        y: y.add(ni * ys[0] + ci * ys[1]),
                        ys: [ys[2], ys[3]],
                        dx: dxp,
                        dxs,
                    };
                    let unpadded = p.padding == [0, 0];
                    match (self.kind, rows) {
                        (PoolKind::Max, _) if unpadded => self.plane_direct::<MAX>(&plane),
                        (PoolKind::MaxGrad, _) if unpadded => self.plane_direct::<MAX_GRAD>(&plane),
                        (PoolKind::Avg, _) if unpadded => self.plane_direct::<AVG>(&plane),
                        (PoolKind::AvgGrad, true) if unpadded => {
                            self.plane_direct::<AVG_GRAD>(&plane)
                        }
                        (PoolKind::Max, _) => self.plane_rows::<MAX>(&plane),
                        (PoolKind::MaxGrad, _) => self.plane_rows::<MAX_GRAD>(&plane),
                        (PoolKind::Avg, _) => self.plane_rows::<AVG>(&plane),
                        (PoolKind::AvgGrad, true) => self.plane_rows::<AVG_GRAD>(&plane),
                        (PoolKind::AvgGrad, false) => self.plane_windows(&plane),
                    }
                }
            }
        }
    }

    /// The row-at-a-time loop (see the module docs), monomorphized per kind.
    unsafe fn plane_rows<const KIND: u8>(&self, pl: &Plane) {
        let [_, _, h, w] = self.dims;
        let [oh, ow] = self.out_hw;
        let p = &self.p;
        let area = (p.kernel[0] * p.kernel[1]) as f32;
        let (sw, pw) = (p.stride[1], p.padding[1]);
        let mut best = [0.0f32; CHUNK];
        let mut at = [NONE; CHUNK];
        // SAFETY: taps are restricted to in-image positions by `tap`/`valid`.
        unsafe {
            for oy in 0..oh {
                let yrow = pl.y.add(oy * pl.ys[0]);
                for ox0 in (0..ow).step_by(CHUNK) {
                    let ox1 = (ox0 + CHUNK).min(ow);
                    let len = ox1 - ox0;
                    let init = if KIND == AVG { 0.0 } else { f32::NEG_INFINITY };
                    best[..len].fill(init);
                    at[..len].fill(NONE);
                    if KIND == AVG_GRAD {
                        for ox in ox0..ox1 {
                            best[ox - ox0] = *yrow.add(ox * pl.ys[1]) / area;
                        }
                    }
                    for ky in 0..p.kernel[0] {
                        let Some(iy) = tap(p, 0, oy, ky, h) else {
                            continue;
                        };
                        let xrow = pl.x.add(iy * pl.xs[0]);
                        for kx in 0..p.kernel[1] {
                            let (lo, hi) = valid(p, 1, kx, w, ox0, ox1);
                            for ox in lo..hi {
                                let ix = ox * sw + kx - pw;
                                let xp = xrow.add(ix * pl.xs[1]);
                                let j = ox - ox0;
                                match KIND {
                                    MAX | MAX_GRAD => {
                                        let (v, m) = (*xp, best[j]);
                                        if at[j] == NONE || (!m.is_nan() && (v.is_nan() || v > m)) {
                                            best[j] = v;
                                            at[j] = iy * w + ix;
                                        }
                                    }
                                    AVG => best[j] += *xp,
                                    _ => *xp += best[j],
                                }
                            }
                        }
                    }
                    for ox in ox0..ox1 {
                        let (j, yp) = (ox - ox0, yrow.add(ox * pl.ys[1]));
                        match KIND {
                            MAX => *yp = best[j],
                            MAX_GRAD if at[j] != NONE => {
                                let (iy, ix) = (at[j] / w, at[j] % w);
                                *pl.dx.add(iy * pl.dxs[0] + ix * pl.dxs[1]) += *yp;
                            }
                            AVG => *yp = best[j] / area,
                            _ => {}
                        }
                    }
                }
            }
        }
    }

    /// Without padding every tap is inside the image. A row of windows is
    /// done in chunks of [`LANES`]: for each tap `(ky, kx)` in order, every
    /// window of the chunk updates its running max (and position) or sum
    /// without branches. The windows are independent, so the loop over them
    /// has no dependency chain (a single window's max is a chain of compares).
    // Indexing by window number reads better than zipping three sequences.
    #[allow(clippy::needless_range_loop)]
    unsafe fn plane_direct<const KIND: u8>(&self, pl: &Plane) {
        let [oh, ow] = self.out_hw;
        let p = &self.p;
        let [kh, kw] = p.kernel;
        let [sh, sw] = p.stride;
        let area = (kh * kw) as f32;
        let mut m = [0.0f32; LANES];
        let mut at = [0u32; LANES];
        // SAFETY: with no padding, `oy*sh + ky < h` and `ox*sw + kx < w`
        // for every window and tap (that is how `oh`/`ow` were computed).
        unsafe {
            for oy in 0..oh {
                let yrow = pl.y.add(oy * pl.ys[0]);
                let xrow = pl.x.add(oy * sh * pl.xs[0]);
                for ox0 in (0..ow).step_by(LANES) {
                    let len = LANES.min(ow - ox0);
                    let win = |j: usize, ky: usize, kx: usize| {
                        xrow.add(ky * pl.xs[0] + ((ox0 + j) * sw + kx) * pl.xs[1])
                    };
                    match KIND {
                        MAX | MAX_GRAD => {
                            for j in 0..len {
                                m[j] = *win(j, 0, 0);
                                at[j] = 0;
                            }
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let t = (ky * kw + kx) as u32;
                                    for j in 0..len {
                                        let (v, b) = (*win(j, ky, kx), m[j]);
                                        let better = !b.is_nan() & (v.is_nan() | (v > b));
                                        m[j] = if better { v } else { b };
                                        if KIND == MAX_GRAD {
                                            at[j] = if better { t } else { at[j] };
                                        }
                                    }
                                }
                            }
                            for j in 0..len {
                                let yp = yrow.add((ox0 + j) * pl.ys[1]);
                                if KIND == MAX {
                                    *yp = m[j];
                                } else {
                                    let t = at[j] as usize;
                                    let (iy, ix) = (oy * sh + t / kw, (ox0 + j) * sw + t % kw);
                                    *pl.dx.add(iy * pl.dxs[0] + ix * pl.dxs[1]) += *yp;
                                }
                            }
                        }
                        AVG => {
                            m[..len].fill(0.0);
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    for j in 0..len {
                                        m[j] += *win(j, ky, kx);
                                    }
                                }
                            }
                            for j in 0..len {
                                *yrow.add((ox0 + j) * pl.ys[1]) = m[j] / area;
                            }
                        }
                        _ => {
                            // Non-overlapping windows: each input element gets one addition.
                            for j in 0..len {
                                m[j] = *yrow.add((ox0 + j) * pl.ys[1]) / area;
                            }
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    for j in 0..len {
                                        *win(j, ky, kx) += m[j];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The window-by-window loop, in the evaluator's order (overlapping
    /// windows of the average-pooling gradient).
    unsafe fn plane_windows(&self, pl: &Plane) {
        let [_, _, h, w] = self.dims;
        let [oh, ow] = self.out_hw;
        let p = &self.p;
        let area = (p.kernel[0] * p.kernel[1]) as f32;
        // SAFETY: taps are restricted to in-image positions by `tap`.
        unsafe {
            for oy in 0..oh {
                for ox in 0..ow {
                    let g = *pl.y.add(oy * pl.ys[0] + ox * pl.ys[1]) / area;
                    for ky in 0..p.kernel[0] {
                        let Some(iy) = tap(p, 0, oy, ky, h) else {
                            continue;
                        };
                        for kx in 0..p.kernel[1] {
                            if let Some(ix) = tap(p, 1, ox, kx, w) {
                                *pl.x.add(iy * pl.xs[0] + ix * pl.xs[1]) += g;
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ranges_match_the_tap_rule() {
        for (k, s, pad) in [(3, 2, 1), (2, 2, 0), (3, 1, 1), (1, 3, 0)] {
            let p = PoolParams {
                kernel: [k, k],
                stride: [s, s],
                padding: [pad, pad],
            };
            for kx in 0..k {
                for size in 1..9 {
                    for (from, to) in [(0, 5), (1, 3), (2, 2)] {
                        let (lo, hi) = valid(&p, 1, kx, size, from, to);
                        let want: Vec<usize> = (from..to)
                            .filter(|&o| tap(&p, 1, o, kx, size).is_some())
                            .collect();
                        assert_eq!((lo..hi).collect::<Vec<_>>(), want);
                    }
                }
            }
        }
    }
}
