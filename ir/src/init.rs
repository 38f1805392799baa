//! First values of parameters and state: what every [`Init`] means.
//!
//! Each tensor draws from its own random stream, selected by the store's
//! `seed` and a stable hash (FNV-1a) of the tensor's name, never by its
//! position in the graph: adding a layer does not change the initial values
//! of the others, and a model built twice starts from the same numbers.
//! Samples are drawn in `f32` and only then converted to `T`, so an `f64`
//! store holds exactly the numbers an `f32` store does.

use crate::dtype::DType;
use crate::eval::{Array, Element, Env, Value};
use crate::graph::Graph;
use crate::op::{Init, Op};
use crate::random;
use crate::shape::TensorType;

/// The first value of a tensor of type `ty` called `name`.
///
/// `i32` tensors take `zeros`, `ones` and `constant` (truncated toward zero);
/// `infer` rejects other initializers for them, and should one reach this
/// function anyway its `f32` samples are truncated the same way.
pub fn initial_value<T: Element>(init: &Init, ty: &TensorType, seed: u64, name: &str) -> Value<T> {
    let n = ty.shape.numel();
    let stream = random::mix64(seed) ^ fnv1a(name);
    let values: Vec<f32> = match init {
        Init::Zeros => vec![0.0; n],
        Init::Ones => vec![1.0; n],
        Init::Constant(v) => vec![v.get(); n],
        Init::Uniform { low, high } => uniform(stream, n, low.get(), high.get()),
        Init::Normal { mean, std } => normal(stream, n, mean.get(), std.get()),
        Init::XavierUniform {
            fan_in,
            fan_out,
            gain,
        } => {
            let bound = gain.get() * (6.0 / fans(fan_in + fan_out)).sqrt();
            uniform(stream, n, -bound, bound)
        }
        Init::XavierNormal {
            fan_in,
            fan_out,
            gain,
        } => {
            let std = gain.get() * (2.0 / fans(fan_in + fan_out)).sqrt();
            normal(stream, n, 0.0, std)
        }
        Init::KaimingUniform { fan_in, gain } => {
            let bound = gain.get() * (3.0 / fans(*fan_in)).sqrt();
            uniform(stream, n, -bound, bound)
        }
        Init::KaimingNormal { fan_in, gain } => {
            let std = gain.get() / fans(*fan_in).sqrt();
            normal(stream, n, 0.0, std)
        }
    };
    let shape = ty.shape.clone();
    match ty.dtype {
        DType::F32 => Value::Float(Array {
            shape,
            data: values.into_iter().map(T::from_f32).collect(),
        }),
        // `as` truncates toward zero, saturates and maps NaN to 0, like `cast`.
        DType::I32 => Value::Int(Array {
            shape,
            data: values.into_iter().map(|x| x as i32).collect(),
        }),
    }
}

/// A value for every `param` and `state` of `graph`, keyed by name.
pub fn init_store<T: Element>(graph: &Graph, seed: u64) -> Env<T> {
    graph
        .nodes()
        .filter_map(|node| match &node.op {
            Op::Param { name, ty, init } | Op::State { name, ty, init } => {
                Some((name.clone(), initial_value(init, ty, seed, name)))
            }
            _ => None,
        })
        .collect()
}

/// FNV-1a, 64-bit: a stable hash of a name (std's hashers may change between
/// Rust releases, which would silently change every initial value).
pub fn fnv1a(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A fan as a divisor; an empty fan counts as 1 so the scale stays finite.
fn fans(fan: usize) -> f32 {
    fan.max(1) as f32
}

/// `n` samples on `[low, high)` (up to `f32` rounding at the top end).
fn uniform(stream: u64, n: usize, low: f32, high: f32) -> Vec<f32> {
    (0..n as u64)
        .map(|i| low + (high - low) * random::uniform(stream, 0, i))
        .collect()
}

/// `n` normal samples.
fn normal(stream: u64, n: usize, mean: f32, std: f32) -> Vec<f32> {
    (0..n as u64)
        .map(|i| mean + std * random::normal(stream, 0, i))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::GraphBuilder;
    use crate::literal::Float;
    use crate::shape::Shape;

    fn draw(init: Init, shape: &[usize], name: &str) -> Vec<f32> {
        let v: Value<f32> = initial_value(&init, &TensorType::f32(shape), 42, name);
        v.as_float().unwrap().data.clone()
    }

    fn mean_std(v: &[f32]) -> (f64, f64) {
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = v
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / n;
        (mean, var.sqrt())
    }

    #[test]
    fn constants_fill_every_element() {
        assert_eq!(draw(Init::Zeros, &[2, 2], "a"), vec![0.0; 4]);
        assert_eq!(draw(Init::Ones, &[3], "a"), vec![1.0; 3]);
        assert_eq!(draw(Init::constant(0.5), &[2], "a"), vec![0.5; 2]);
        let ty = TensorType::i32([2]);
        let v: Value<f64> = initial_value(&Init::constant(-2.7), &ty, 0, "step");
        assert_eq!(v.as_int().unwrap().data, vec![-2, -2]);
        let v: Value<f64> = initial_value(&Init::Ones, &ty, 0, "step");
        assert_eq!(v.as_int().unwrap().data, vec![1, 1]);
    }

    #[test]
    fn uniform_initializers_stay_in_their_bounds() {
        let v = draw(Init::uniform(2.0, 3.0), &[1000], "u");
        assert!(v.iter().all(|x| (2.0..3.0).contains(x)));
        // bound = sqrt(6 / (10 + 14)) = 0.5
        let v = draw(Init::xavier_uniform(10, 14), &[100, 100], "x");
        assert!(v.iter().all(|x| x.abs() <= 0.5));
        assert!(v.iter().any(|x| x.abs() > 0.49));
        // bound = sqrt(2) * sqrt(3 / 24) = 0.5
        let v = draw(Init::kaiming_uniform(24), &[100, 100], "k");
        assert!(v.iter().all(|x| x.abs() <= 0.5 + 1e-6));
        assert!(v.iter().any(|x| x.abs() > 0.49));
        // Uniform on ±b has std b / sqrt(3).
        let (mean, std) = mean_std(&v);
        assert!(mean.abs() < 0.01 && (std - 0.5 / 3f64.sqrt()).abs() < 0.01);
    }

    #[test]
    fn normal_initializers_have_their_std() {
        let (mean, std) = mean_std(&draw(Init::normal(1.0, 2.0), &[20000], "n"));
        assert!((mean - 1.0).abs() < 0.05 && (std - 2.0).abs() < 0.05);
        // std = sqrt(2 / (30 + 70)) = 0.1414
        let (mean, std) = mean_std(&draw(Init::xavier_normal(30, 70), &[20000], "n"));
        assert!(mean.abs() < 0.005 && (std - 0.141_421).abs() < 0.004);
        // std = sqrt(2) / sqrt(50) = 0.2
        let (mean, std) = mean_std(&draw(Init::kaiming_normal(50), &[20000], "n"));
        assert!(mean.abs() < 0.01 && (std - 0.2).abs() < 0.005);
        let gain = Init::KaimingNormal {
            fan_in: 4,
            gain: Float(3.0),
        };
        let (_, std) = mean_std(&draw(gain, &[20000], "n"));
        assert!((std - 1.5).abs() < 0.04, "{std}");
    }

    #[test]
    fn streams_depend_on_name_and_seed_only() {
        let a = draw(Init::uniform(0.0, 1.0), &[8], "fc1.weight");
        assert_eq!(a, draw(Init::uniform(0.0, 1.0), &[8], "fc1.weight"));
        assert_ne!(a, draw(Init::uniform(0.0, 1.0), &[8], "fc2.weight"));
        let ty = TensorType::f32([8]);
        let other: Value<f32> = initial_value(&Init::uniform(0.0, 1.0), &ty, 43, "fc1.weight");
        assert_ne!(a, other.as_float().unwrap().data);
    }

    #[test]
    fn f64_stores_hold_the_f32_draws() {
        let ty = TensorType::f32([16]);
        let init = Init::xavier_normal(3, 5);
        let a: Value<f32> = initial_value(&init, &ty, 1, "w");
        let b: Value<f64> = initial_value(&init, &ty, 1, "w");
        assert_eq!(a.convert::<f64>(), b);
    }

    #[test]
    fn the_store_is_independent_of_other_params() {
        let one = GraphBuilder::new("one");
        one.param("w", &[4], Init::normal(0.0, 1.0));
        let one = one.build().unwrap();
        let two = GraphBuilder::new("two");
        two.param("v", &[4], Init::normal(0.0, 1.0));
        two.param("w", &[4], Init::normal(0.0, 1.0));
        two.state("step", TensorType::i32(Shape::scalar()), Init::Zeros);
        let two = two.build().unwrap();
        let (s1, s2) = (init_store::<f32>(&one, 7), init_store::<f32>(&two, 7));
        assert_eq!(s1.len(), 1);
        assert_eq!(s2.len(), 3);
        assert_eq!(s1["w"], s2["w"]);
        assert_eq!(s2["step"], Value::int(Shape::scalar(), vec![0]).unwrap());
    }
}
