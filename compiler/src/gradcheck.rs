//! Gradient checking against central finite differences, shared by the
//! compiler's per-op checks and the facade's checks of composite functions
//! (behind the `testing` feature).
//!
//! [`check`] builds `loss = sum(f(params) * R)` for a fixed random projection
//! `R` (so every output element matters with a different weight), takes the
//! autodiff gradient of every param, and compares it with
//! `(loss(p + h) - loss(p - h)) / 2h` element by element, evaluating in f64.

use crate::autodiff::differentiate;
use kiln_ir::eval::{Array, Env, Value, evaluate_all};
use kiln_ir::{GraphBuilder, Init, Literal, NodeId, Shape, Tensor};

fn fail(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Where parameter values are drawn from.
#[derive(Clone, Copy)]
pub enum Domain {
    /// Uniform in ±[0.2, 2].
    Any,
    /// Uniform in [0.3, 2].
    Positive,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn value(&mut self, domain: Domain) -> f64 {
        match domain {
            Domain::Positive => 0.3 + 1.7 * self.next(),
            Domain::Any => {
                let m = 0.2 + 1.8 * self.next();
                if self.next() < 0.5 { -m } else { m }
            }
        }
    }
}

/// Checks the gradients of `sum(f(params) * R)` with respect to params of
/// `shapes`, with values from `domain`.
pub fn check(
    seed: u64,
    shapes: &[&[usize]],
    domain: Domain,
    f: impl for<'g> Fn(&'g GraphBuilder, &[Tensor<'g>]) -> Tensor<'g>,
) -> Result<(), String> {
    let mut rng = Rng(seed);
    let b = GraphBuilder::new("check");
    let params: Vec<Tensor<'_>> = shapes
        .iter()
        .enumerate()
        .map(|(i, s)| b.param(&format!("p{i}"), s, Init::Zeros))
        .collect();
    let y = f(&b, &params);
    let dims = y.dims();
    let n: usize = dims.iter().product();
    let proj: Vec<f32> = (0..n).map(|_| rng.value(Domain::Any) as f32).collect();
    let r = b.literal(Literal::f32(dims.clone(), proj).expect("sizes match"));
    let loss = (y * r).sum_all();
    b.output("loss", loss);
    let loss_id = loss.id().expect("valid");
    let param_ids: Vec<NodeId> = params.iter().map(|p| p.id().expect("valid")).collect();
    let mut graph = b.build().map_err(|e| fail(e.to_string()))?;
    let grads = differentiate(&mut graph, loss_id, &param_ids).map_err(|e| fail(e.to_string()))?;
    kiln_ir::verify(&graph).map_err(|e| fail(format!("{e}\n{graph}")))?;

    let mut store: Env<f64> = Env::new();
    for (i, s) in shapes.iter().enumerate() {
        let len: usize = s.iter().product();
        let data = (0..len).map(|_| rng.value(domain)).collect();
        store.insert(
            format!("p{i}"),
            Value::Float(Array::new(Shape::from(*s), data).expect("sizes match")),
        );
    }
    let values = evaluate_all(&graph, &Env::new(), &store).map_err(|e| fail(e.to_string()))?;
    let loss_at = |store: &Env<f64>| -> f64 {
        let v = evaluate_all(&graph, &Env::new(), store).expect("evaluates");
        v[&loss_id].to_f64_vec()[0]
    };
    let h = 1e-6;
    for (i, &g) in grads.iter().enumerate() {
        let analytic = values[&g].to_f64_vec();
        let name = format!("p{i}");
        for (k, &ad) in analytic.iter().enumerate() {
            let mut plus = store.clone();
            let mut minus = store.clone();
            nudge(&mut plus, &name, k, h);
            nudge(&mut minus, &name, k, -h);
            let fd = (loss_at(&plus) - loss_at(&minus)) / (2.0 * h);
            let tol = 1e-5 * (1.0 + ad.abs().max(fd.abs()));
            if (ad - fd).abs() > tol {
                return Err(format!(
                    "d loss / d {name}[{k}]: autodiff {ad}, finite differences {fd}\n{graph}"
                ));
            }
        }
    }
    Ok(())
}

fn nudge(store: &mut Env<f64>, name: &str, k: usize, h: f64) {
    if let Some(Value::Float(a)) = store.get_mut(name) {
        a.data[k] += h;
    }
}
