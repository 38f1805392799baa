//! The AVX-512F microkernel: a 12x32 tile of `C` in 24 zmm accumulators.
//!
//! Each `k` step loads two 16-wide vectors of the packed `B` sliver, then
//! broadcasts each of the 12 packed `A` values once and issues two FMAs:
//! 24 independent FMA chains, enough to cover the FMA latency on both
//! 512-bit pipes of Zen 5 (and on Zen 4 / Intel, where 512-bit FMAs are
//! single-issue or split). Edge columns use masked loads and stores (or
//! masked gathers and scatters when `C`'s columns are strided), so a partial
//! tile never costs a scalar loop.

use super::{Bias, Microkernel, Tile, store_scalar};

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
    unsafe fn store<const MR: usize, const NV: usize>(acc: &[[__m512; NV]; MR], t: &Tile) {
        // Gather/scatter offsets are i32 element indices: `(16 * NV - 1) * cs`
        // must fit.
        let scattered = t.cs != 1;
        if scattered && t.cs > (i32::MAX as usize) / (16 * NV) {
            let mut buf = [[[0.0f32; 16]; NV]; MR];
            for (row, out) in acc.iter().zip(buf.iter_mut()) {
                for (x, o) in row.iter().zip(out.iter_mut()) {
                    // SAFETY: `o` is 16 writable floats.
                    unsafe { _mm512_storeu_ps(o.as_mut_ptr(), *x) };
                }
            }
            // SAFETY: forwarded; `buf` is `MR` rows of `16 * NV`.
            unsafe { store_scalar(buf.as_flattened().as_flattened(), 16 * NV, t) };
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
        for (i, row) in acc.iter().enumerate() {
            if i >= t.rows {
                break;
            }
            let out = t.c.wrapping_add(i * t.rs);
            let row_bias = match t.epilogue.bias {
                // SAFETY: row `i` is a valid row of the tile, so of the bias.
                Bias::PerRow(p) => _mm512_set1_ps(unsafe { *p.add(i) }),
                _ => zero,
            };
            for (v, &x) in row.iter().enumerate() {
                let m = masks[v];
                if m == 0 {
                    break;
                }
                let p = out.wrapping_add(16 * v * t.cs);
                let mut x = x;
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
