//! The portable microkernel: a 4x8 tile in plain arrays, for CPUs without
//! the x86 kernels' instruction sets (and as a reference for them).
//!
//! The compiler vectorizes the row update for the target's baseline SIMD
//! (SSE2 on x86_64, NEON on aarch64); 4x8 keeps the accumulators within the
//! 16 registers of SSE2.

use super::{Microkernel, Tile, store_scalar};

const MR: usize = 4;
const NR: usize = 8;

/// The 4x8 kernel in plain Rust.
pub struct Portable;

impl Microkernel for Portable {
    const MR: usize = MR;
    const NR: usize = NR;
    const KC: usize = 256;
    const MC: usize = 256;
    const NC: usize = 512;

    unsafe fn run(kc: usize, a: *const f32, b: *const f32, b_stride: usize, t: &Tile) {
        let mut acc = [[0.0f32; NR]; MR];
        // SAFETY: `a` holds `kc` steps of `MR` floats.
        let a = unsafe { std::slice::from_raw_parts(a, kc * MR) };
        for (p, ap) in a.chunks_exact(MR).enumerate() {
            // SAFETY: step `p` of `b` is `NR` readable floats.
            let bp = unsafe { &*(b.add(p * b_stride) as *const [f32; NR]) };
            for (row, &ai) in acc.iter_mut().zip(ap) {
                for (x, &bj) in row.iter_mut().zip(bp) {
                    *x += ai * bj;
                }
            }
        }
        // SAFETY: forwarded.
        unsafe { store_scalar(acc.as_flattened(), NR, t) };
    }
}
