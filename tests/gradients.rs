//! Gradient checks of the facade's composite functions (activations, losses,
//! normalization, attention) against central finite differences in f64, with
//! the compiler's shared checker.

use kiln::prelude::*;
use kiln_compiler::gradcheck::{Domain, check};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(16)
}

fn ok(r: Result<(), String>) -> Result<(), TestCaseError> {
    r.map_err(TestCaseError::fail)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn activations(seed in any::<u64>(), rows in 1usize..4, cols in 1usize..5) {
        let s: &[usize] = &[rows, cols];
        ok(check(seed, &[s], Domain::Any, |_, p| F::sigmoid(p[0])))?;
        ok(check(seed, &[s], Domain::Any, |_, p| F::tanh(p[0])))?;
        ok(check(seed, &[s], Domain::Any, |_, p| F::relu(p[0])))?;
        ok(check(seed, &[s], Domain::Any, |_, p| F::leaky_relu(p[0], 0.01)))?;
        ok(check(seed, &[s], Domain::Any, |_, p| F::elu(p[0], 1.0)))?;
        ok(check(seed, &[s], Domain::Any, |_, p| F::silu(p[0])))?;
        ok(check(seed, &[s], Domain::Any, |_, p| F::gelu(p[0])))?;
        ok(check(seed, &[s], Domain::Any, |_, p| F::gelu_tanh(p[0])))?;
        ok(check(seed, &[s], Domain::Any, |_, p| F::softmax(p[0], -1)))?;
        ok(check(seed, &[s], Domain::Any, |_, p| F::softmax(p[0], 0)))?;
        ok(check(seed, &[s], Domain::Any, |_, p| F::log_softmax(p[0], -1)))?;
    }

    #[test]
    fn losses(seed in any::<u64>(), rows in 1usize..4, classes in 2usize..6) {
        let s: &[usize] = &[rows, classes];
        for r in [F::Reduction::Mean, F::Reduction::Sum] {
            ok(check(seed, &[s, s], Domain::Any, |_, p| F::mse_loss(p[0], p[1], r)))?;
            ok(check(seed, &[s, s], Domain::Any, |_, p| F::l1_loss(p[0], p[1], r)))?;
            ok(check(seed, &[s, s], Domain::Any, |_, p| F::binary_cross_entropy(p[0].sigmoid(), p[1].sigmoid(), r)))?;
            ok(check(seed, &[s, s], Domain::Any, |_, p| F::binary_cross_entropy_with_logits(p[0], p[1].sigmoid(), r)))?;
            ok(check(seed, &[s, s], Domain::Any, |_, p| F::soft_cross_entropy(p[0], F::softmax(p[1], -1), r)))?;
        }
        ok(check(seed, &[s], Domain::Any, |b, p| {
            let labels: Vec<i32> = (0..rows).map(|i| ((i * 7 + 3) % classes) as i32).collect();
            let y = b.literal(kiln::ir::Literal::i32([rows], labels).expect("one per row"));
            F::cross_entropy(p[0], y)
        }))?;
    }

    #[test]
    fn normalization_and_attention(seed in any::<u64>(), t in 1usize..4, d in 2usize..5) {
        ok(check(seed, &[&[2, t, d], &[d], &[d]], Domain::Any, |_, p| F::layer_norm(p[0], p[1], p[2], 1e-5)))?;
        ok(check(seed, &[&[2, t, d], &[2, t, d], &[2, t, d]], Domain::Any, |b, p| {
            nn::scaled_dot_product_attention(p[0], p[1], p[2], Some(nn::causal_mask(b, t)))
        }))?;
    }
}
