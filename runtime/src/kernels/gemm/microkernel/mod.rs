//! The register-blocked inner kernels and what they share: the tile they
//! write ([`Tile`]), the epilogue applied while the tile is in registers
//! ([`Epilogue`]), and the instruction set chosen once per process ([`Isa`]).
//!
//! A microkernel computes one `MR x NR` block of `C` from a packed sliver of
//! `A` (`kc` columns of `MR` rows, column after column) and a sliver of `B`
//! (`kc` rows of `NR` columns: packed row after row, or read in place when
//! `B`'s rows are contiguous), both full width (packing zero-pads the edges),
//! so the arithmetic never branches on edges: only the final store clips to
//! the tile's valid `rows x cols`. Vectors run along `NR` (the
//! columns of `C`); the driver transposes the whole problem when `C` is
//! column-major, so the fast store (`cs == 1`) is the common case.

pub mod avx2;
pub mod avx512;
pub mod portable;

use std::sync::OnceLock;

/// A bias added to the tile after the product (and after the old `C`, when
/// accumulating), before the activation. Pointers are already offset to the
/// tile's first row or column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Bias {
    #[default]
    None,
    /// `bias[j]` added to every row's column `j` (a `Linear` bias with
    /// row-major output).
    PerCol(*const f32),
    /// `bias[i]` added to every column of row `i`.
    PerRow(*const f32),
}

/// What happens to the finished tile before it is stored:
/// `C = act(A·B [+ C] + bias)`. The hook for a later fusion pass; the driver
/// applies it on the last `k` block only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Epilogue {
    pub bias: Bias,
    /// `max(x, 0)` after the bias.
    pub relu: bool,
}

impl Epilogue {
    /// Nothing to do: the plain product.
    pub const NONE: Epilogue = Epilogue {
        bias: Bias::None,
        relu: false,
    };

    pub fn is_none(&self) -> bool {
        *self == Epilogue::NONE
    }

    /// The same epilogue for the tile at row `i`, column `j`.
    pub(crate) fn at(&self, i: usize, j: usize) -> Epilogue {
        let bias = match self.bias {
            Bias::None => Bias::None,
            Bias::PerCol(p) => Bias::PerCol(p.wrapping_add(j)),
            Bias::PerRow(p) => Bias::PerRow(p.wrapping_add(i)),
        };
        Epilogue { bias, ..*self }
    }

    /// The epilogue of the transposed problem (rows and columns swap).
    pub(crate) fn transposed(&self) -> Epilogue {
        let bias = match self.bias {
            Bias::None => Bias::None,
            Bias::PerCol(p) => Bias::PerRow(p),
            Bias::PerRow(p) => Bias::PerCol(p),
        };
        Epilogue { bias, ..*self }
    }

    /// The scalar form, for stores that do not vectorize.
    #[inline(always)]
    pub(crate) fn apply(&self, i: usize, j: usize, mut x: f32) -> f32 {
        // SAFETY: the driver offsets bias pointers to the tile, and the
        // caller of `gemm` guarantees `m` (or `n`) readable bias entries.
        unsafe {
            match self.bias {
                Bias::None => {}
                Bias::PerCol(p) => x += *p.add(j),
                Bias::PerRow(p) => x += *p.add(i),
            }
        }
        if self.relu { x.max(0.0) } else { x }
    }
}

/// Where a microkernel writes: `rows x cols` (at most `MR x NR`) elements of
/// `C` at `c`, element strides `rs` (rows) and `cs` (columns).
#[derive(Clone, Copy, Debug)]
pub struct Tile {
    pub c: *mut f32,
    pub rs: usize,
    pub cs: usize,
    pub rows: usize,
    pub cols: usize,
    /// Add the product to the old `C` instead of overwriting it.
    pub load: bool,
    pub epilogue: Epilogue,
}

/// A microkernel and the blocking tuned for it.
pub trait Microkernel {
    /// Rows of the register tile (broadcast side, from `A`).
    const MR: usize;
    /// Columns of the register tile (vector side, from `B`).
    const NR: usize;
    /// Depth of one packed block (`A` sliver `MR x KC` stays in L1).
    const KC: usize;
    /// Rows of `A` packed at once.
    const MC: usize;
    /// Columns of `B` packed at once (the `KC x NC` block stays in L2).
    const NC: usize;

    /// `tile (+)= A_sliver · B_sliver` over `kc` steps, then the epilogue.
    /// Step `p` of the `B` sliver is the `NR` floats at `b + p * b_stride`
    /// (`NR` when packed; `B`'s row stride when read in place).
    ///
    /// # Safety
    /// `a` holds `kc * MR` readable floats and `b` holds `kc` readable runs
    /// of `NR` floats, `b_stride` apart; the tile
    /// is valid for writes (and reads when `load`) over its `rows x cols`
    /// strided extent, with `rows <= MR`, `cols <= NR`; the CPU supports the
    /// kernel's instruction set.
    unsafe fn run(kc: usize, a: *const f32, b: *const f32, b_stride: usize, t: &Tile);
}

/// The instruction sets kiln has microkernels for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// AVX-512F: a 12x32 tile in 24 zmm accumulators.
    Avx512,
    /// AVX2 + FMA: a 6x16 tile in 12 ymm accumulators.
    Avx2,
    /// Plain Rust arrays (auto-vectorized): a 4x8 tile, any target.
    Portable,
}

impl Isa {
    /// Every variant, best first.
    pub const ALL: [Isa; 3] = [Isa::Avx512, Isa::Avx2, Isa::Portable];

    /// Whether this CPU can run the kernel (checked at run time).
    pub fn available(self) -> bool {
        match self {
            Isa::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The best available kernel, detected on first use and cached.
    pub fn detected() -> Isa {
        static BEST: OnceLock<Isa> = OnceLock::new();
        *BEST.get_or_init(|| {
            Isa::ALL
                .into_iter()
                .find(|i| i.available())
                .unwrap_or(Isa::Portable)
        })
    }
}

/// Stores an accumulator tile held in memory (`acc[i * nr + j]`) through
/// the general path: any strides, clipped to the tile, scalar epilogue.
///
/// # Safety
/// As [`Microkernel::run`] for `t`; `acc` holds `t.rows` rows of `nr`.
#[inline]
pub(crate) unsafe fn store_scalar(acc: &[f32], nr: usize, t: &Tile) {
    for i in 0..t.rows {
        for j in 0..t.cols {
            // SAFETY: inside the tile's extent (caller's contract).
            unsafe {
                let p = t.c.add(i * t.rs + j * t.cs);
                let mut x = acc[i * nr + j];
                if t.load {
                    x += *p;
                }
                *p = t.epilogue.apply(i, j, x);
            }
        }
    }
}
