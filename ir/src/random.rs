//! The counter-based random numbers that define kiln's random ops.
//!
//! A random op has no hidden state: element `i` of `random_uniform{seed}` run
//! with counter `c` is [`uniform`]`(seed, c, i)`, a pure function. That makes
//! graphs with dropout reproducible, lets common-subexpression elimination
//! treat random ops like any other, and lets the reference evaluator and the
//! fast runtime (which may visit elements in any order, on any thread) produce
//! bit-identical masks. The same functions seed parameter initializers.
//!
//! The construction is splitmix64 (Steele, Lea and Flood, "Fast splittable
//! pseudorandom number generators", 2014), whose output function is a strong
//! 64-bit finalizer: [`stream_key`] mixes the seed and the counter into a
//! 64-bit key, and element `i` is the `i`-th splitmix64 output from that key.
//! Because the key goes through the finalizer twice, neighbouring seeds and
//! counters give unrelated streams. A runtime kernel computes the key once per
//! op and then calls [`uniform_at`] per element: one multiply-add and one mix.
//!
//! Everything here is integer arithmetic except [`normal`], which uses libm's
//! `log` and `cos` (pure Rust ports of musl) so the numbers are the same on
//! every platform.

/// The golden-ratio increment of splitmix64 (an odd constant, `2^64 / φ`).
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;
/// Keeps seed 0 from feeding a zero into the mixer (whose fixed point is 0).
const SEED_SALT: u64 = 0x6a09_e667_f3bc_c909;

/// splitmix64's finalizer: a bijection on `u64` in which every input bit
/// affects every output bit.
pub fn mix64(z: u64) -> u64 {
    let z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The key of the stream that `seed` and `counter` select.
pub fn stream_key(seed: u64, counter: i32) -> u64 {
    let s = mix64(seed.wrapping_add(SEED_SALT));
    // The counter is reinterpreted as u32, so negative counters are streams too.
    mix64(s ^ u64::from(counter as u32).wrapping_mul(GOLDEN))
}

/// 64 random bits: the `index`-th splitmix64 output of the stream `key`.
pub fn bits_at(key: u64, index: u64) -> u64 {
    mix64(key.wrapping_add(index.wrapping_add(1).wrapping_mul(GOLDEN)))
}

/// A float in `[0, 1)` from the top 24 bits of [`bits_at`]: every value
/// `k / 2^24` is equally likely, and each is exactly representable in `f32`.
pub fn uniform_at(key: u64, index: u64) -> f32 {
    (bits_at(key, index) >> 40) as f32 * (1.0 / 16_777_216.0)
}

/// Element `index` of the uniform stream `(seed, counter)`: a float in `[0, 1)`.
pub fn uniform(seed: u64, counter: i32, index: u64) -> f32 {
    uniform_at(stream_key(seed, counter), index)
}

/// 1.0 with probability `p` (when `uniform(seed, counter, index) < p`), else
/// 0.0. Same stream as [`uniform`], so `p = 1` always gives 1 and `p = 0` never.
pub fn bernoulli(seed: u64, counter: i32, index: u64, p: f32) -> f32 {
    if uniform(seed, counter, index) < p {
        1.0
    } else {
        0.0
    }
}

/// A standard normal sample (mean 0, variance 1) by Box–Muller from the
/// uniform draws `2*index` and `2*index + 1` of the stream `(seed, counter)`,
/// computed in `f64` and rounded once to `f32`.
pub fn normal(seed: u64, counter: i32, index: u64) -> f32 {
    let key = stream_key(seed, counter);
    let u1 = uniform_at(key, index.wrapping_mul(2));
    let u2 = uniform_at(key, index.wrapping_mul(2).wrapping_add(1));
    // 1 - u1 lies in (0, 1], so the logarithm is finite.
    let radius = (-2.0 * libm::log(1.0 - f64::from(u1))).sqrt();
    let angle = 2.0 * std::f64::consts::PI * f64::from(u2);
    (radius * libm::cos(angle)) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: u64 = 100_000;

    fn mean_var(xs: impl Iterator<Item = f32>) -> (f64, f64) {
        let v: Vec<f64> = xs.map(f64::from).collect();
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        (mean, var)
    }

    #[test]
    fn uniform_has_the_moments_of_u01() {
        let (mean, var) = mean_var((0..N).map(|i| uniform(7, 0, i)));
        // The standard error of the mean is sqrt(1/12 / N) ≈ 0.0009.
        assert!((mean - 0.5).abs() < 0.005, "{mean}");
        assert!((var - 1.0 / 12.0).abs() < 0.003, "{var}");
        assert!((0..N).all(|i| (0.0..1.0).contains(&uniform(7, 3, i))));
    }

    #[test]
    fn normal_has_mean_zero_and_unit_variance() {
        let (mean, var) = mean_var((0..N).map(|i| normal(11, 2, i)));
        assert!(mean.abs() < 0.02, "{mean}");
        assert!((var - 1.0).abs() < 0.02, "{var}");
    }

    #[test]
    fn bernoulli_hits_p() {
        let ones: f32 = (0..N).map(|i| bernoulli(5, 1, i, 0.3)).sum();
        let frac = f64::from(ones) / N as f64;
        assert!((frac - 0.3).abs() < 0.01, "{frac}");
        assert!((0..1000).all(|i| bernoulli(5, 1, i, 1.0) == 1.0));
        assert!((0..1000).all(|i| bernoulli(5, 1, i, 0.0) == 0.0));
        // The mask is the uniform stream thresholded.
        assert!((0..1000).all(|i| (bernoulli(5, 1, i, 0.5) == 1.0) == (uniform(5, 1, i) < 0.5)));
    }

    #[test]
    fn streams_are_deterministic_and_distinct() {
        assert_eq!(uniform(1, 0, 42), uniform(1, 0, 42));
        assert_eq!(normal(1, 0, 42).to_bits(), normal(1, 0, 42).to_bits());
        let stream = |seed, counter| (0..64).map(move |i| uniform(seed, counter, i));
        let base: Vec<f32> = stream(1, 0).collect();
        for (seed, counter) in [(1, 1), (2, 0), (0, 0), (1, -1)] {
            let other: Vec<f32> = stream(seed, counter).collect();
            let same = base.iter().zip(&other).filter(|(a, b)| a == b).count();
            assert!(
                same <= 1,
                "seed {seed} counter {counter}: {same} equal draws"
            );
        }
    }

    #[test]
    fn neighbouring_counters_are_uncorrelated() {
        let a: Vec<f32> = (0..N).map(|i| uniform(3, 10, i)).collect();
        let b: Vec<f32> = (0..N).map(|i| uniform(3, 11, i)).collect();
        let (ma, va) = mean_var(a.iter().copied());
        let (mb, vb) = mean_var(b.iter().copied());
        let cov = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| (f64::from(x) - ma) * (f64::from(y) - mb))
            .sum::<f64>()
            / N as f64;
        let corr = cov / (va * vb).sqrt();
        assert!(corr.abs() < 0.02, "{corr}");
    }

    #[test]
    fn uniform_keeps_24_bits() {
        for i in 0..1000 {
            let x = uniform(9, 0, i);
            let scaled = x * 16_777_216.0;
            assert_eq!(scaled, scaled.trunc());
        }
    }
}
