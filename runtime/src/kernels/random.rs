//! Random kernels: uniform samples and Bernoulli masks.
//!
//! Element `i` (row-major) of a random op run with counter `c` is
//! `kiln_ir::random::uniform(seed, c, i)`: a pure function, so the kernel and
//! the evaluator agree bit for bit. The stream key depends only on the seed and
//! the counter, so it is computed once per run (`stream_key`) and each element
//! costs one `uniform_at` (exactly what `uniform` computes).
//!
//! Parallel note: elements are independent; a split over the executable's `Workers` only needs each
//! chunk's starting flat index.

use super::layout::{Loc, Walk};
use kiln_ir::random::{stream_key, uniform_at};

/// A prepared random op.
#[derive(Clone, Debug)]
pub struct Random {
    pub seed: u64,
    /// `Some(p)`: a Bernoulli mask (`uniform < p`); `None`: the uniform samples.
    pub p: Option<f32>,
    /// The i32 scalar counter.
    pub counter: Loc,
    pub out: Loc,
    pub walk: Walk<1>,
}

impl Random {
    /// # Safety
    /// The counter and the output view lie inside their regions.
    pub unsafe fn run(&self, bases: &[*mut f32]) {
        // SAFETY: the counter is a validated i32 scalar view.
        let counter = unsafe { *(self.counter.ptr(bases) as *const i32) };
        let key = stream_key(self.seed, counter);
        let mut index = 0u64;
        // SAFETY: the walk stays inside the output view; it visits elements in
        // row-major order, so `index` is each element's flat position.
        unsafe {
            self.walk
                .for_each_run([self.out.ptr(bases)], |[o], n, [s]| {
                    for i in 0..n {
                        let u = uniform_at(key, index);
                        *o.add(i * s) = match self.p {
                            Some(p) => {
                                if u < p {
                                    1.0
                                } else {
                                    0.0
                                }
                            }
                            None => u,
                        };
                        index += 1;
                    }
                })
        }
    }
}
