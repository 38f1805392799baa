//! The AVX-512F microkernel: a 12x32 tile of `C` in 24 zmm accumulators.
//!
//! Each `k` step loads two 16-wide vectors of the packed `B` sliver, then
//! broadcasts each of the 12 packed `A` values once and issues two FMAs:
//! 24 independent FMA chains, enough to cover the FMA latency on both
//! 512-bit pipes of Zen 5 (and on Zen 4 / Intel, where 512-bit FMAs are
//! single-issue or split). Edge columns use masked loads and stores (or
//! masked gathers and scatters when `C`'s columns are strided), so a partial
//! tile never costs a scalar loop.

use super::{Bias, Microkernel, Tile};

/// The 12x32 AVX-512F kernel.
pub struct Avx512;

impl Microkernel for Avx512 {
    const MR: usize = 12;
    const NR: usize = 32;
    const KC: usize = 384;
    const MC: usize = 960;
    const NC: usize = 512;

    #[inline]
    unsafe fn run(kc: usize, a: *const f32, b: *const f32, b_stride: usize, t: &Tile) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: forwarded (the caller checked the CPU has AVX-512F).
        unsafe {
            x86::tile::<12, 2>(kc, a, b, b_stride, t)
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (kc, a, b, b_stride, t);
            unreachable!("the AVX-512 kernel exists on x86_64 only");
        }
    }
}

/// Column strides up to this over the tile width use gathers and scatters
/// (their offsets are i32); unit tests lower it to reach the scalar path.
const SCATTER_MAX_STRIDE: usize = if cfg!(test) { 64 } else { i32::MAX as usize };

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::*;
    use std::arch::x86_64::*;

    /// `MR x (16 * NV)` tile.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn tile<const MR: usize, const NV: usize>(
        kc: usize,
        a: *const f32,
        b: *const f32,
        b_stride: usize,
        t: &Tile,
    ) {
        if t.cs == 1 {
            // Fetch the tile's rows of C while the FMAs run.
            for i in 0..t.rows {
                let row = t.c.wrapping_add(i * t.rs);
                for v in 0..NV {
                    _mm_prefetch::<_MM_HINT_T0>(row.wrapping_add(16 * v) as *const i8);
                }
            }
        }
        let mut acc = [[_mm512_setzero_ps(); NV]; MR];
        let (mut a, mut b) = (a, b);
        // SAFETY: `a` holds `kc` steps of `MR` floats, `b` `kc` runs of
        // `16 * NV` floats `b_stride` apart.
        unsafe {
            for _ in 0..kc {
                let mut bv = [_mm512_setzero_ps(); NV];
                for (v, x) in bv.iter_mut().enumerate() {
                    *x = _mm512_loadu_ps(b.add(16 * v));
                }
                for (i, row) in acc.iter_mut().enumerate() {
                    let ai = _mm512_set1_ps(*a.add(i));
                    for (x, bv) in row.iter_mut().zip(&bv) {
                        *x = _mm512_fmadd_ps(ai, *bv, *x);
                    }
                }
                a = a.add(MR);
                b = b.add(b_stride);
            }
            store(&acc, t);
        }
    }

    /// Writes the tile: masked vectors when columns are contiguous, masked
    /// gathers and scatters when they are strided (the transposed skinny
    /// products), the scalar path for strides too large for i32 offsets.
    #[target_feature(enable = "avx512f")]
    #[inline]
    #[allow(clippy::needless_range_loop)] // indices into `acc` and its masks
    unsafe fn store<const MR: usize, const NV: usize>(acc: &[[__m512; NV]; MR], t: &Tile) {
        // Gather/scatter offsets are i32 element indices: `(16 * NV - 1) * cs`
        // must fit.
        let scattered = t.cs != 1;
        if scattered && t.cs > SCATTER_MAX_STRIDE / (16 * NV) {
            // Vector by vector, scalar by scalar.
            for i in 0..MR {
                for v in 0..NV {
                    if i < t.rows && 16 * v < t.cols {
                        let mut lane = [0.0f32; 16];
                        // SAFETY: `lane` is 16 writable floats.
                        unsafe { _mm512_storeu_ps(lane.as_mut_ptr(), acc[i][v]) };
                        for (l, &x) in lane.iter().enumerate().take(t.cols - 16 * v) {
                            let j = 16 * v + l;
                            // SAFETY: inside the tile (caller's contract).
                            unsafe {
                                let p = t.c.add(i * t.rs + j * t.cs);
                                let old = if t.load { *p } else { 0.0 };
                                *p = t.epilogue.apply(i, j, x + old);
                            }
                        }
                    }
                }
            }
            return;
        }
        // Lane `l` of a row's vector is column `l` (times `cs`).
        let offsets = _mm512_mullo_epi32(
            _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
            _mm512_set1_epi32(t.cs as i32),
        );
        let mut masks = [0 as __mmask16; NV];
        for (v, m) in masks.iter_mut().enumerate() {
            let lanes = t.cols.saturating_sub(16 * v).min(16);
            *m = ((1u32 << lanes) - 1) as __mmask16;
        }
        let zero = _mm512_setzero_ps();
        let mut col_bias = [zero; NV];
        if let Bias::PerCol(p) = t.epilogue.bias {
            for (v, x) in col_bias.iter_mut().enumerate() {
                // SAFETY: masked: reads only the tile's valid columns of the bias.
                *x = unsafe { _mm512_maskz_loadu_ps(masks[v], p.wrapping_add(16 * v)) };
            }
        }
        // Constant trip counts with conditions (not `break`): the loops
        // unroll to constant indices.
        for i in 0..MR {
            if i >= t.rows {
                continue;
            }
            let out = t.c.wrapping_add(i * t.rs);
            let row_bias = match t.epilogue.bias {
                // SAFETY: row `i` is a valid row of the tile, so of the bias.
                Bias::PerRow(p) => _mm512_set1_ps(unsafe { *p.add(i) }),
                _ => zero,
            };
            for v in 0..NV {
                let m = masks[v];
                if m == 0 {
                    continue;
                }
                let p = out.wrapping_add(16 * v * t.cs);
                let mut x = acc[i][v];
                // SAFETY (loads and the stores): masked to the tile's valid
                // columns of a valid row (caller's contract); offsets fit i32.
                if t.load {
                    let old = if scattered {
                        unsafe { _mm512_mask_i32gather_ps::<4>(zero, m, offsets, p as *const _) }
                    } else {
                        unsafe { _mm512_maskz_loadu_ps(m, p) }
                    };
                    x = _mm512_add_ps(x, old);
                }
                match t.epilogue.bias {
                    Bias::None => {}
                    Bias::PerCol(_) => x = _mm512_add_ps(x, col_bias[v]),
                    Bias::PerRow(_) => x = _mm512_add_ps(x, row_bias),
                }
                if t.epilogue.relu {
                    x = _mm512_max_ps(x, zero);
                }
                if scattered {
                    unsafe { _mm512_mask_i32scatter_ps::<4>(p as *mut _, m, offsets, x) };
                } else {
                    unsafe { _mm512_mask_storeu_ps(p, m, x) };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Bias, Epilogue};
    use super::*;

    /// Every store path (contiguous, gather/scatter, scalar) against a
    /// scalar loop, on full and partial tiles with an epilogue (the values
    /// are small integers, so every order sums exactly).
    #[test]
    fn store_paths_agree_with_the_portable_kernel() {
        if !super::super::Isa::Avx512.available() {
            return;
        }
        let kc = 5;
        let a: Vec<f32> = (0..12 * kc).map(|i| (i % 7) as f32 - 3.0).collect();
        let b: Vec<f32> = (0..32 * kc).map(|i| (i % 5) as f32 - 2.0).collect();
        let bias: Vec<f32> = (0..32).map(|i| i as f32 * 0.5).collect();
        // Contiguous, gather/scatter (cs 2) and scalar (cs > 2 under test).
        for (rs, cs) in [(32, 1), (40, 1), (64, 2), (1, 12), (100, 3)] {
            for (rows, cols, load) in [(12, 32, false), (7, 19, true), (1, 1, true)] {
                let epi = Epilogue {
                    bias: Bias::PerCol(bias.as_ptr()),
                    relu: true,
                };
                let len = (rows - 1) * rs + (cols - 1) * cs + 1;
                let mut c: Vec<f32> = (0..len).map(|i| i as f32 * 0.25).collect();
                let old = c.clone();
                let t = Tile {
                    c: c.as_mut_ptr(),
                    rs,
                    cs,
                    rows,
                    cols,
                    load,
                    epilogue: epi,
                };
                // SAFETY: `a`, `b` hold `kc` steps; the tile fits `c`; AVX-512 checked.
                unsafe { Avx512::run(kc, a.as_ptr(), b.as_ptr(), 32, &t) };
                for i in 0..rows {
                    for j in 0..cols {
                        let mut want: f32 = (0..kc).map(|p| a[p * 12 + i] * b[p * 32 + j]).sum();
                        if load {
                            want += old[i * rs + j * cs];
                        }
                        want = (want + bias[j]).max(0.0);
                        assert_eq!(c[i * rs + j * cs], want, "rs {rs} cs {cs} ({i},{j})");
                    }
                }
            }
        }
    }
}
