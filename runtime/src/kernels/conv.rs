//! 2-D convolution (NCHW input, OIHW weight) and its two gradients.
//!
//! All three run as GEMMs per image and group, through an im2col buffer in
//! arena scratch (`col[(c,ky,kx), (oy,ox)]`, zero where a tap falls in the
//! padding):
//! - forward: `y_g = W_g · col(x_g)`;
//! - input gradient: `col = W_g^T · dy_g`, then col2im adds `col` back into
//!   `dx` (the adjoint of im2col);
//! - weight gradient: `dW_g += dy_g · col(x_g)^T`, accumulated over images.
//!
//! A 1x1 convolution with stride 1 and no padding needs no im2col: the image
//! itself is the column matrix. Transposed weights come for free as GEMM
//! strides; the GEMM path only needs the weight's `(c, ky, kx)` dims and the
//! spatial dims of the image operand to be single strided runs. Any other
//! layout takes the direct loop, which is the evaluator's loop nest over
//! strided views (and so agrees with it bit for bit).
//!
//! Parallel note: each GEMM packs into the executable's packing scratch and
//! is split over threads when large enough (see `gemm::parallel`); LeNet's
//! per-image GEMMs are below that size. Images are independent in the
//! forward and input-gradient kernels (each would need its own col buffer);
//! the weight gradient would reduce per-thread partial sums.

use super::gemm::{GemmCx, GemmShape, gemm, pack_scratch_len};
use super::layout::{Loc, zero4};
use kiln_ir::ConvParams;

/// The sizes of one convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvDims {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub o: usize,
    pub groups: usize,
    pub kh: usize,
    pub kw: usize,
    pub oh: usize,
    pub ow: usize,
}

impl ConvDims {
    fn cg(&self) -> usize {
        self.c / self.groups
    }
    fn og(&self) -> usize {
        self.o / self.groups
    }
    /// Rows of the column matrix.
    pub fn col_rows(&self) -> usize {
        self.cg() * self.kh * self.kw
    }
    /// Elements of the column buffer.
    pub fn col_elems(&self) -> usize {
        self.col_rows() * self.oh * self.ow
    }
}

/// Which of the three ops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvKind {
    Forward,
    InputGrad,
    WeightGrad,
}

/// A strided rank-4 operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operand4 {
    pub loc: Loc,
    pub strides: [usize; 4],
}

/// How the kernel runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvPath {
    Direct,
    Gemm {
        /// The im2col buffer, or `None` for the 1x1 shortcut.
        col: Option<Loc>,
        /// The weight's `(c, ky, kx)` dims as one stride.
        w_k: usize,
        /// The output's (forward) or `dy`'s spatial dims as one stride.
        y_s: usize,
        /// The image's spatial dims as one stride (1x1 shortcut only).
        x_s: usize,
    },
}

/// A prepared convolution kernel. The image operand `x` is the input (forward,
/// weight gradient) or the output `dx` (input gradient); `w` is the weight or
/// the output `dw`; `y` is the output or `dy`.
#[derive(Clone, Debug)]
pub struct Conv {
    pub kind: ConvKind,
    pub d: ConvDims,
    pub p: ConvParams,
    pub x: Operand4,
    pub w: Operand4,
    pub y: Operand4,
    pub path: ConvPath,
}

/// Whether the 1x1 shortcut applies (the image is its own column matrix).
pub fn is_pointwise(d: &ConvDims, p: &ConvParams) -> bool {
    d.kh == 1 && d.kw == 1 && p.stride == [1, 1] && p.padding == [0, 0]
}

/// The input position of output position `out` and tap `k` along `axis`, if
/// it is not in the padding.
#[inline(always)]
fn tap(p: &ConvParams, axis: usize, out: usize, k: usize, size: usize) -> Option<usize> {
    (out * p.stride[axis] + k * p.dilation[axis])
        .checked_sub(p.padding[axis])
        .filter(|&i| i < size)
}

/// The output positions `lo..hi` along `axis` whose tap `k` is inside `0..size`.
#[inline(always)]
fn valid_range(p: &ConvParams, axis: usize, k: usize, size: usize, outs: usize) -> (usize, usize) {
    let (s, off, pad) = (p.stride[axis], k * p.dilation[axis], p.padding[axis]);
    // Need pad <= out*s + off <= pad + size - 1.
    let lo = if pad > off {
        (pad - off).div_ceil(s)
    } else {
        0
    };
    let hi = if pad + size > off {
        ((pad + size - 1 - off) / s + 1).min(outs)
    } else {
        0
    };
    (lo.min(hi), hi)
}

impl Conv {
    /// Multiply-adds of one image's (and group's) GEMM; 0 on the direct path.
    pub fn gemm_macs(&self) -> usize {
        let d = &self.d;
        match self.path {
            ConvPath::Direct => 0,
            ConvPath::Gemm { .. } => d.og() * d.col_rows() * d.oh * d.ow,
        }
    }

    /// Packing scratch the GEMMs of this step need per thread.
    pub fn pack_need(&self) -> usize {
        let d = &self.d;
        let (og, rows, ohow) = (d.og(), d.col_rows(), d.oh * d.ow);
        match (self.path, self.kind) {
            (ConvPath::Direct, _) => 0,
            (ConvPath::Gemm { .. }, ConvKind::Forward) => pack_scratch_len(og, rows, ohow),
            (ConvPath::Gemm { .. }, ConvKind::InputGrad) => pack_scratch_len(rows, og, ohow),
            (ConvPath::Gemm { .. }, ConvKind::WeightGrad) => pack_scratch_len(og, ohow, rows),
        }
    }

    /// # Safety
    /// Operands (and the column buffer) inside their regions; the output
    /// disjoint from the inputs and from the column buffer; `cx` holds
    /// [`Conv::pack_need`] floats of packing scratch per thread.
    pub unsafe fn run(&self, bases: &[*mut f32], cx: &GemmCx) {
        let x = self.x.loc.ptr(bases);
        let w = self.w.loc.ptr(bases);
        let y = self.y.loc.ptr(bases);
        // SAFETY (all calls): forwarded from this function's contract.
        unsafe {
            match (self.path, self.kind) {
                (ConvPath::Direct, kind) => self.direct(kind, x, w, y),
                (ConvPath::Gemm { col, w_k, y_s, x_s }, ConvKind::Forward) => {
                    self.forward_gemm(x, w, y, col.map(|c| c.ptr(bases)), w_k, y_s, x_s, cx)
                }
                (ConvPath::Gemm { col, w_k, y_s, x_s }, ConvKind::InputGrad) => {
                    self.input_grad_gemm(x, w, y, col.map(|c| c.ptr(bases)), w_k, y_s, x_s, cx)
                }
                (ConvPath::Gemm { col, w_k, y_s, x_s }, ConvKind::WeightGrad) => {
                    self.weight_grad_gemm(x, w, y, col.map(|c| c.ptr(bases)), w_k, y_s, x_s, cx)
                }
            }
        }
    }

    /// Fills `col` with image `x_n`'s taps for group `g`.
    unsafe fn im2col(&self, x_n: *const f32, g: usize, col: *mut f32) {
        let (d, p, xs) = (&self.d, &self.p, &self.x.strides);
        let (ohow, cg) = (d.oh * d.ow, d.cg());
        // SAFETY: rows and positions stay inside the column buffer and the image.
        unsafe {
            for c in 0..cg {
                let plane = x_n.add((g * cg + c) * xs[1]);
                for ky in 0..d.kh {
                    for kx in 0..d.kw {
                        let r = (c * d.kh + ky) * d.kw + kx;
                        let row = std::slice::from_raw_parts_mut(col.add(r * ohow), ohow);
                        let (lo, hi) = valid_range(p, 1, kx, d.w, d.ow);
                        for oy in 0..d.oh {
                            let seg = &mut row[oy * d.ow..(oy + 1) * d.ow];
                            let Some(iy) = tap(p, 0, oy, ky, d.h) else {
                                seg.fill(0.0);
                                continue;
                            };
                            seg[..lo].fill(0.0);
                            seg[hi..].fill(0.0);
                            let start =
                                (lo * p.stride[1] + kx * p.dilation[1]).wrapping_sub(p.padding[1]);
                            let src = plane.add(iy * xs[2]);
                            let step = p.stride[1] * xs[3];
                            let first = src.add(start * xs[3]);
                            if step == 1 {
                                let n = hi - lo;
                                seg[lo..hi].copy_from_slice(std::slice::from_raw_parts(first, n));
                            } else {
                                for (i, v) in seg[lo..hi].iter_mut().enumerate() {
                                    *v = *first.add(i * step);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds `col` back into image `dx_n`'s channels of group `g` (adjoint of im2col).
    unsafe fn col2im(&self, col: *const f32, g: usize, dx_n: *mut f32) {
        let (d, p, xs) = (&self.d, &self.p, &self.x.strides);
        let (ohow, cg) = (d.oh * d.ow, d.cg());
        // SAFETY: as in `im2col`.
        unsafe {
            for c in 0..cg {
                let plane = dx_n.add((g * cg + c) * xs[1]);
                for ky in 0..d.kh {
                    for kx in 0..d.kw {
                        let r = (c * d.kh + ky) * d.kw + kx;
                        let row = col.add(r * ohow);
                        let (lo, hi) = valid_range(p, 1, kx, d.w, d.ow);
                        for oy in 0..d.oh {
                            let Some(iy) = tap(p, 0, oy, ky, d.h) else {
                                continue;
                            };
                            let start =
                                (lo * p.stride[1] + kx * p.dilation[1]).wrapping_sub(p.padding[1]);
                            let dst = plane.add(iy * xs[2]);
                            let step = p.stride[1] * xs[3];
                            let first = dst.add(start * xs[3]);
                            let src = std::slice::from_raw_parts(row.add(oy * d.ow + lo), hi - lo);
                            if step == 1 {
                                let out = std::slice::from_raw_parts_mut(first, hi - lo);
                                for (o, &v) in out.iter_mut().zip(src) {
                                    *o += v;
                                }
                            } else {
                                for (i, &v) in src.iter().enumerate() {
                                    *first.add(i * step) += v;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    unsafe fn forward_gemm(
        &self,
        x: *mut f32,
        w: *mut f32,
        y: *mut f32,
        col: Option<*mut f32>,
        w_k: usize,
        y_s: usize,
        x_s: usize,
        cx: &GemmCx,
    ) {
        let d = &self.d;
        let (xs, ws, ys) = (&self.x.strides, &self.w.strides, &self.y.strides);
        let (og, cg, ohow) = (d.og(), d.cg(), d.oh * d.ow);
        // SAFETY: every GEMM operand is a sub-block of a validated view.
        unsafe {
            for n in 0..d.n {
                for g in 0..d.groups {
                    let x_n = x.add(n * xs[0]);
                    let (b, b_strides) = match col {
                        Some(col) => {
                            self.im2col(x_n, g, col);
                            (col as *const f32, [ohow, 1])
                        }
                        None => (x_n.add(g * cg * xs[1]) as *const f32, [xs[1], x_s]),
                    };
                    let shape = GemmShape {
                        m: og,
                        k: d.col_rows(),
                        n: ohow,
                        a: [ws[0], w_k],
                        b: b_strides,
                        c: [ys[1], y_s],
                    };
                    let a = w.add(g * og * ws[0]);
                    let c = y.add(n * ys[0] + g * og * ys[1]);
                    gemm(&shape, a, b, c, false, cx);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    unsafe fn input_grad_gemm(
        &self,
        dx: *mut f32,
        w: *mut f32,
        dy: *mut f32,
        col: Option<*mut f32>,
        w_k: usize,
        y_s: usize,
        x_s: usize,
        cx: &GemmCx,
    ) {
        let d = &self.d;
        let (xs, ws, ys) = (&self.x.strides, &self.w.strides, &self.y.strides);
        let (og, cg, ohow) = (d.og(), d.cg(), d.oh * d.ow);
        // SAFETY: every GEMM operand is a sub-block of a validated view.
        unsafe {
            if col.is_some() {
                zero4(dx, xs, [d.n, d.c, d.h, d.w]);
            }
            for n in 0..d.n {
                for g in 0..d.groups {
                    let a = w.add(g * og * ws[0]);
                    let b = dy.add(n * ys[0] + g * og * ys[1]);
                    let dx_n = dx.add(n * xs[0]);
                    let (c, c_strides) = match col {
                        Some(col) => (col, [ohow, 1]),
                        None => (dx_n.add(g * cg * xs[1]), [xs[1], x_s]),
                    };
                    let shape = GemmShape {
                        m: d.col_rows(),
                        k: og,
                        n: ohow,
                        a: [w_k, ws[0]],
                        b: [ys[1], y_s],
                        c: c_strides,
                    };
                    gemm(&shape, a, b, c, false, cx);
                    if let Some(col) = col {
                        self.col2im(col, g, dx_n);
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    unsafe fn weight_grad_gemm(
        &self,
        x: *mut f32,
        dw: *mut f32,
        dy: *mut f32,
        col: Option<*mut f32>,
        w_k: usize,
        y_s: usize,
        x_s: usize,
        cx: &GemmCx,
    ) {
        let d = &self.d;
        let (xs, ws, ys) = (&self.x.strides, &self.w.strides, &self.y.strides);
        let (og, cg, ohow) = (d.og(), d.cg(), d.oh * d.ow);
        // SAFETY: every GEMM operand is a sub-block of a validated view.
        unsafe {
            if d.n == 0 {
                zero4(dw, ws, [d.o, cg, d.kh, d.kw]);
                return;
            }
            for g in 0..d.groups {
                for n in 0..d.n {
                    let x_n = x.add(n * xs[0]);
                    let (b, b_strides) = match col {
                        Some(col) => {
                            self.im2col(x_n, g, col);
                            (col as *const f32, [1, ohow])
                        }
                        None => (x_n.add(g * cg * xs[1]) as *const f32, [x_s, xs[1]]),
                    };
                    let shape = GemmShape {
                        m: og,
                        k: ohow,
                        n: d.col_rows(),
                        a: [ys[1], y_s],
                        b: b_strides,
                        c: [ws[0], w_k],
                    };
                    let a = dy.add(n * ys[0] + g * og * ys[1]);
                    let c = dw.add(g * og * ws[0]);
                    gemm(&shape, a, b, c, n > 0, cx);
                }
            }
        }
    }

    /// The evaluator's loop nest over strided views, in its order.
    unsafe fn direct(&self, kind: ConvKind, x: *mut f32, w: *mut f32, y: *mut f32) {
        let (d, p) = (&self.d, &self.p);
        let (xs, ws, ys) = (&self.x.strides, &self.w.strides, &self.y.strides);
        let (og, cg) = (d.og(), d.cg());
        // SAFETY: every index is inside its validated view.
        unsafe {
            match kind {
                ConvKind::InputGrad => zero4(x, xs, [d.n, d.c, d.h, d.w]),
                ConvKind::WeightGrad => zero4(w, ws, [d.o, cg, d.kh, d.kw]),
                ConvKind::Forward => {}
            }
            for n in 0..d.n {
                for o in 0..d.o {
                    let group = o / og;
                    for oy in 0..d.oh {
                        for ox in 0..d.ow {
                            let yp = y.add(n * ys[0] + o * ys[1] + oy * ys[2] + ox * ys[3]);
                            let mut acc = 0.0f32;
                            for c in 0..cg {
                                let ci = group * cg + c;
                                for ky in 0..d.kh {
                                    let Some(iy) = tap(p, 0, oy, ky, d.h) else {
                                        continue;
                                    };
                                    for kx in 0..d.kw {
                                        let Some(ix) = tap(p, 1, ox, kx, d.w) else {
                                            continue;
                                        };
                                        let xp =
                                            x.add(n * xs[0] + ci * xs[1] + iy * xs[2] + ix * xs[3]);
                                        let wp =
                                            w.add(o * ws[0] + c * ws[1] + ky * ws[2] + kx * ws[3]);
                                        match kind {
                                            ConvKind::Forward => acc += *xp * *wp,
                                            ConvKind::InputGrad => *xp += *yp * *wp,
                                            ConvKind::WeightGrad => *wp += *xp * *yp,
                                        }
                                    }
                                }
                            }
                            if kind == ConvKind::Forward {
                                *yp = acc;
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
        let p = ConvParams {
            stride: [2, 2],
            padding: [1, 2],
            dilation: [1, 3],
            groups: 1,
        };
        for axis in 0..2 {
            for k in 0..4 {
                for size in 1..9 {
                    for outs in 1..6 {
                        let (lo, hi) = valid_range(&p, axis, k, size, outs);
                        let want: Vec<usize> = (0..outs)
                            .filter(|&o| tap(&p, axis, o, k, size).is_some())
                            .collect();
                        let got: Vec<usize> = (lo..hi).collect();
                        assert_eq!(got, want, "axis {axis} k {k} size {size} outs {outs}");
                    }
                }
            }
        }
    }
}
