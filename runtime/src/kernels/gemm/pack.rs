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
//! run, written transposed into the sliver, eight lines by eight steps at a
//! time with AVX shuffles where the CPU has them).

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
                #[cfg(target_arch = "x86_64")]
                if std::arch::is_x86_feature_detected!("avx") {
                    x86::transpose_lines(src, line_stride, w, kc, W, dst.as_mut_ptr());
                    if w < W {
                        for out in dst.chunks_exact_mut(W) {
                            out[w..].fill(0.0);
                        }
                    }
                    continue;
                }
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

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Writes `w` lines of `kc` contiguous steps (line `j` at
    /// `src + j * line_stride`) transposed: step `p` of line `j` goes to
    /// `dst[p * width + j]`. Blocks of 8 lines and 8 steps go through an
    /// 8x8 register transpose, blocks of 4 lines through a 4x8 one; the rest
    /// is scalar.
    ///
    /// # Safety
    /// The lines are readable for `kc` floats each; `dst` is writable for
    /// `kc * width` floats; `w <= width`; the CPU has AVX.
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn transpose_lines(
        src: *const f32,
        line_stride: usize,
        w: usize,
        kc: usize,
        width: usize,
        dst: *mut f32,
    ) {
        let line = |j: usize| src.wrapping_add(j * line_stride);
        let full = kc / 8 * 8;
        let mut j0 = 0;
        // SAFETY (all blocks): reads stay within lines `j0..j0 + 8` (or 4)
        // and steps `p0..p0 + 8 <= kc`; writes within `kc * width`.
        unsafe {
            while j0 + 8 <= w {
                for p0 in (0..full).step_by(8) {
                    let mut r = [_mm256_setzero_ps(); 8];
                    for (q, x) in r.iter_mut().enumerate() {
                        *x = _mm256_loadu_ps(line(j0 + q).add(p0));
                    }
                    let o = transpose8(r);
                    for (s, x) in o.iter().enumerate() {
                        _mm256_storeu_ps(dst.add((p0 + s) * width + j0), *x);
                    }
                }
                j0 += 8;
            }
            while j0 + 4 <= w {
                for p0 in (0..full).step_by(8) {
                    let mut r = [_mm256_setzero_ps(); 4];
                    for (q, x) in r.iter_mut().enumerate() {
                        *x = _mm256_loadu_ps(line(j0 + q).add(p0));
                    }
                    let o = transpose4x8(r);
                    for (s, x) in o.iter().enumerate() {
                        _mm_storeu_ps(dst.add((p0 + s) * width + j0), *x);
                    }
                }
                j0 += 4;
            }
            // Leftover steps of the transposed lines, then leftover lines.
            for j in 0..j0 {
                for p in full..kc {
                    *dst.add(p * width + j) = *line(j).add(p);
                }
            }
            for j in j0..w {
                for p in 0..kc {
                    *dst.add(p * width + j) = *line(j).add(p);
                }
            }
        }
    }

    /// Rows `r[q]` (8 steps each) to columns: `out[s][q] = r[q][s]`.
    #[target_feature(enable = "avx")]
    fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        let t4 = _mm256_unpacklo_ps(r[4], r[5]);
        let t5 = _mm256_unpackhi_ps(r[4], r[5]);
        let t6 = _mm256_unpacklo_ps(r[6], r[7]);
        let t7 = _mm256_unpackhi_ps(r[6], r[7]);
        let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        [
            _mm256_permute2f128_ps::<0x20>(s0, s4),
            _mm256_permute2f128_ps::<0x20>(s1, s5),
            _mm256_permute2f128_ps::<0x20>(s2, s6),
            _mm256_permute2f128_ps::<0x20>(s3, s7),
            _mm256_permute2f128_ps::<0x31>(s0, s4),
            _mm256_permute2f128_ps::<0x31>(s1, s5),
            _mm256_permute2f128_ps::<0x31>(s2, s6),
            _mm256_permute2f128_ps::<0x31>(s3, s7),
        ]
    }

    /// Four rows of 8 steps to 8 columns of 4: `out[s][q] = r[q][s]`.
    #[target_feature(enable = "avx")]
    fn transpose4x8(r: [__m256; 4]) -> [__m128; 8] {
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        [
            _mm256_castps256_ps128(s0),
            _mm256_castps256_ps128(s1),
            _mm256_castps256_ps128(s2),
            _mm256_castps256_ps128(s3),
            _mm256_extractf128_ps::<1>(s0),
            _mm256_extractf128_ps::<1>(s1),
            _mm256_extractf128_ps::<1>(s2),
            _mm256_extractf128_ps::<1>(s3),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Big enough for the 8x8 and 4x8 register transposes and their leftovers.
    #[test]
    fn transposed_packing_matches_the_scalar_loop() {
        for (lines, kc) in [(12usize, 37usize), (32, 16), (7, 9), (13, 8), (5, 3)] {
            let ls = kc + 3;
            let src: Vec<f32> = (0..lines * ls).map(|i| i as f32).collect();
            let slivers = lines.div_ceil(12);
            let mut got = vec![f32::NAN; slivers * 12 * kc];
            // SAFETY: `src` holds `lines` lines of `ls >= kc`; `got` the slivers.
            unsafe { pack::<12>(src.as_ptr(), ls, 1, lines, kc, got.as_mut_ptr()) };
            for s in 0..slivers {
                for p in 0..kc {
                    for w in 0..12 {
                        let l = s * 12 + w;
                        let want = if l < lines { src[l * ls + p] } else { 0.0 };
                        assert_eq!(got[s * 12 * kc + p * 12 + w], want);
                    }
                }
            }
        }
    }

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
