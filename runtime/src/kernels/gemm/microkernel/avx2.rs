//! The AVX2+FMA microkernel: a 6x16 tile of `C` in 12 ymm accumulators.
//!
//! AVX2 has 16 vector registers: 12 accumulators, two `B` vectors and one
//! broadcast `A` value fit without spilling (the classic BLIS Haswell shape).
//! Full tiles with contiguous columns store as vectors; edge tiles and
//! strided `C` go through the scalar store.

use super::{Bias, Microkernel, Tile, store_scalar};

/// The 6x16 AVX2+FMA kernel.
pub struct Avx2;

impl Microkernel for Avx2 {
    const MR: usize = 6;
    const NR: usize = 16;
    const KC: usize = 256;
    const MC: usize = 960;
    const NC: usize = 512;

    #[inline]
    unsafe fn run(kc: usize, a: *const f32, b: *const f32, b_stride: usize, t: &Tile) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: forwarded (the caller checked the CPU has AVX2 and FMA).
        unsafe {
            x86::tile::<6, 2>(kc, a, b, b_stride, t)
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (kc, a, b, b_stride, t);
            unreachable!("the AVX2 kernel exists on x86_64 only");
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::*;
    use std::arch::x86_64::*;

    /// `MR x (8 * NV)` tile.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn tile<const MR: usize, const NV: usize>(
        kc: usize,
        a: *const f32,
        b: *const f32,
        b_stride: usize,
        t: &Tile,
    ) {
        let mut acc = [[_mm256_setzero_ps(); NV]; MR];
        let (mut a, mut b) = (a, b);
        // SAFETY: `a` holds `kc` steps of `MR` floats, `b` `kc` runs of
        // `8 * NV` floats `b_stride` apart.
        unsafe {
            for _ in 0..kc {
                let mut bv = [_mm256_setzero_ps(); NV];
                for (v, x) in bv.iter_mut().enumerate() {
                    *x = _mm256_loadu_ps(b.add(8 * v));
                }
                for (i, row) in acc.iter_mut().enumerate() {
                    let ai = _mm256_set1_ps(*a.add(i));
                    for (x, bv) in row.iter_mut().zip(&bv) {
                        *x = _mm256_fmadd_ps(ai, *bv, *x);
                    }
                }
                a = a.add(MR);
                b = b.add(b_stride);
            }
            store(&acc, t);
        }
    }

    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn store<const MR: usize, const NV: usize>(acc: &[[__m256; NV]; MR], t: &Tile) {
        if t.cs != 1 || t.cols != 8 * NV {
            let mut buf = [[[0.0f32; 8]; NV]; MR];
            for (row, out) in acc.iter().zip(buf.iter_mut()) {
                for (x, o) in row.iter().zip(out.iter_mut()) {
                    // SAFETY: `o` is 8 writable floats.
                    unsafe { _mm256_storeu_ps(o.as_mut_ptr(), *x) };
                }
            }
            // SAFETY: forwarded; `buf` is `MR` rows of `8 * NV`.
            unsafe { store_scalar(buf.as_flattened().as_flattened(), 8 * NV, t) };
            return;
        }
        let zero = _mm256_setzero_ps();
        for (i, row) in acc.iter().enumerate() {
            if i >= t.rows {
                break;
            }
            let out = t.c.wrapping_add(i * t.rs);
            for (v, &x) in row.iter().enumerate() {
                let p = out.wrapping_add(8 * v);
                let mut x = x;
                // SAFETY (loads and the store): a full row of the tile, with
                // contiguous columns (checked above), and the bias entries of
                // the tile's rows and columns (caller's contract).
                unsafe {
                    if t.load {
                        x = _mm256_add_ps(x, _mm256_loadu_ps(p));
                    }
                    match t.epilogue.bias {
                        Bias::None => {}
                        Bias::PerCol(b) => x = _mm256_add_ps(x, _mm256_loadu_ps(b.add(8 * v))),
                        Bias::PerRow(b) => x = _mm256_add_ps(x, _mm256_set1_ps(*b.add(i))),
                    }
                    if t.epilogue.relu {
                        x = _mm256_max_ps(x, zero);
                    }
                    _mm256_storeu_ps(p, x);
                }
            }
        }
    }
}
