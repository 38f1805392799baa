//! Packing: copying a block of `A` or `B` into the slivers a microkernel
//! reads, in caller-provided scratch.
//!
//! One routine serves both operands. A block is `lines` lines (rows of `A`
//! or columns of `B`) of `kc` elements; it is cut into slivers of `W` lines
//! (`MR` or `NR`), and sliver `s` is stored step by step:
//! `dst[s][p][w] = src[line s*W + w, step p]`, zero-padded past the last line.
//! Any strides work; the two common cases get their own loops: lines
//! contiguous (`line_stride == 1`: each step is a run of `W` floats, a
//! straight copy) and steps contiguous (`step_stride == 1`: each line is a
//! run, written transposed into the sliver).

/// [`pack`] for a sliver width known only as a value: the widths of kiln's
/// kernels get their own copy of the loops (the match folds away once the
/// caller is monomorphized).
///
/// # Safety
/// As [`pack`]; `w` is 4, 6, 8, 12, 16 or 32.
#[inline(always)]
pub(crate) unsafe fn pack_w(
    w: usize,
    src: *const f32,
    line_stride: usize,
    step_stride: usize,
    lines: usize,
    kc: usize,
    dst: *mut f32,
) {
    // SAFETY: forwarded.
    unsafe {
        match w {
            4 => pack::<4>(src, line_stride, step_stride, lines, kc, dst),
            6 => pack::<6>(src, line_stride, step_stride, lines, kc, dst),
            8 => pack::<8>(src, line_stride, step_stride, lines, kc, dst),
            12 => pack::<12>(src, line_stride, step_stride, lines, kc, dst),
            16 => pack::<16>(src, line_stride, step_stride, lines, kc, dst),
            32 => pack::<32>(src, line_stride, step_stride, lines, kc, dst),
            _ => unreachable!("no kernel has slivers of width {w}"),
        }
    }
}

/// Packs `lines x kc` elements at `src` (element strides `line_stride`
/// between lines, `step_stride` between steps) into `lines.div_ceil(W)`
/// slivers of `W * kc` floats at `dst`.
///
/// # Safety
/// `src` is readable over the block's strided extent; `dst` is writable for
/// `lines.div_ceil(W) * W * kc` floats and does not overlap `src`.
pub(crate) unsafe fn pack<const W: usize>(
    src: *const f32,
    line_stride: usize,
    step_stride: usize,
    lines: usize,
    kc: usize,
    dst: *mut f32,
) {
    let slivers = lines.div_ceil(W);
    for s in 0..slivers {
        let w = W.min(lines - s * W);
        // SAFETY: line `s * W` and the `w` after it are lines of the block;
        // sliver `s` of `dst` is `W * kc` floats (caller's contract).
        unsafe {
            let src = src.add(s * W * line_stride);
            let dst = std::slice::from_raw_parts_mut(dst.add(s * W * kc), W * kc);
            if line_stride == 1 && w == W {
                for (p, out) in dst.chunks_exact_mut(W).enumerate() {
                    let run = src.add(p * step_stride) as *const [f32; W];
                    out.copy_from_slice(&run.read_unaligned());
                }
            } else if line_stride == 1 {
                for (p, out) in dst.chunks_exact_mut(W).enumerate() {
                    let run = std::slice::from_raw_parts(src.add(p * step_stride), w);
                    out[..w].copy_from_slice(run);
                    out[w..].fill(0.0);
                }
            } else if step_stride == 1 {
                for j in 0..w {
                    let line = std::slice::from_raw_parts(src.add(j * line_stride), kc);
                    for (out, &x) in dst.chunks_exact_mut(W).zip(line) {
                        out[j] = x;
                    }
                }
                if w < W {
                    for out in dst.chunks_exact_mut(W) {
                        out[w..].fill(0.0);
                    }
                }
            } else {
                for (p, out) in dst.chunks_exact_mut(W).enumerate() {
                    let step = src.add(p * step_stride);
                    for (j, o) in out.iter_mut().enumerate() {
                        *o = if j < w {
                            *step.add(j * line_stride)
                        } else {
                            0.0
                        };
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
    fn packs_every_layout_the_same() {
        // A 7 x 5 block (lines x steps) stored four ways.
        let (lines, kc) = (7, 5);
        let val = |l: usize, p: usize| (l * 10 + p) as f32 + 1.0;
        let want: Vec<f32> = (0..2)
            .flat_map(|s| {
                (0..kc).flat_map(move |p| {
                    (0..4).map(move |w| {
                        let l = s * 4 + w;
                        if l < lines { val(l, p) } else { 0.0 }
                    })
                })
            })
            .collect();
        for (ls, ss) in [(1, 7), (5, 1), (2, 14), (11, 3)] {
            let mut src = vec![f32::NAN; (lines - 1) * ls + (kc - 1) * ss + 1];
            for l in 0..lines {
                for p in 0..kc {
                    src[l * ls + p * ss] = val(l, p);
                }
            }
            let mut dst = vec![f32::NAN; 2 * 4 * kc];
            // SAFETY: sizes as computed above.
            unsafe { pack::<4>(src.as_ptr(), ls, ss, lines, kc, dst.as_mut_ptr()) };
            assert_eq!(dst, want, "strides {ls}, {ss}");
        }
    }
}
