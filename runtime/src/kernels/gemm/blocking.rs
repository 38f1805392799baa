//! Block sizes of one product and the packing scratch they need.
//!
//! Each loop is split into equal blocks no larger than the kernel's limit
//! (`KC`, `MC`, `NC`), rounded up to whole slivers: 784 = 2 x 392 rather than
//! 384 + 384 + 16, so no block is a sliver of leftovers. The scratch bound
//! (`pack_len`) is monotone in `m`, `k` and `n`, so a thread's part of a
//! product never needs more than the whole product would.

use super::microkernel::Microkernel;
use crate::arena::round_up;

/// The block sizes of one product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Blocks {
    pub kc: usize,
    pub mc: usize,
    pub nc: usize,
}

/// `len` split into equal parts of at most `max`, rounded up to `unit`
/// (`max` is a multiple of `unit`, so the result stays at most `max`).
fn balanced(len: usize, max: usize, unit: usize) -> usize {
    let parts = len.div_ceil(max).max(1);
    len.div_ceil(parts).div_ceil(unit) * unit
}

pub(crate) fn blocks<K: Microkernel>(m: usize, k: usize, n: usize) -> Blocks {
    Blocks {
        kc: balanced(k, K::KC, 1),
        mc: balanced(m, K::MC, K::MR),
        nc: balanced(n, K::NC, K::NR),
    }
}

/// Elements of the packed `A` block, rounded so the `B` block after it stays
/// 64-byte aligned.
pub(crate) fn a_len(b: &Blocks) -> usize {
    round_up(b.mc * b.kc)
}

/// Packing scratch for an `m x k x n` product with kernel `K`: an upper
/// bound of `a_len + kc * nc` that only grows with `m`, `k` and `n`.
pub(crate) fn pack_len<K: Microkernel>(m: usize, k: usize, n: usize) -> usize {
    let kc = k.min(K::KC);
    let mc = round_up_to(m, K::MR).min(K::MC);
    let nc = round_up_to(n, K::NR).min(K::NC);
    round_up(mc * kc) + round_up(kc * nc)
}

fn round_up_to(x: usize, unit: usize) -> usize {
    x.div_ceil(unit) * unit
}

#[cfg(test)]
mod tests {
    use super::super::microkernel::avx512::Avx512;
    use super::*;

    #[test]
    fn blocks_are_balanced_and_bounded() {
        assert_eq!(balanced(784, 384, 1), 262);
        assert_eq!(balanced(256, 384, 1), 256);
        assert_eq!(balanced(128, 960, 12), 132);
        assert_eq!(balanced(10, 512, 32), 32);
        for m in 1..300 {
            for k in [1, 7, 383, 384, 385, 800] {
                let b = blocks::<Avx512>(m, k, 2 * m + 1);
                let need = a_len(&b) + b.kc * b.nc;
                assert!(need <= pack_len::<Avx512>(m, k, 2 * m + 1));
                assert!(pack_len::<Avx512>(m, k, m) <= pack_len::<Avx512>(m + 1, k, m + 1));
            }
        }
    }
}
