//! Random well-typed graphs for property tests, shared by every crate.
//!
//! Behind the `testing` feature. [`arb_case`] is a proptest strategy producing a
//! [`GraphCase`]: a graph built through the public DSL from a list of random
//! choices, plus non-zero values for its inputs. Every op of the IR can appear.
//! Attributes are chosen so the graph is valid and evaluates without errors:
//! `log`, `sqrt`, `rsqrt`, `recip` and `pow` see positive operands, gather and
//! one-hot indices are in range.
//!
//! Shrinking works on the list of choices, so a failing case shrinks towards a
//! graph with fewer nodes; the failing graph prints as `.kir` text.

use crate::builder::{GraphBuilder, Tensor};
use crate::dtype::DType;
use crate::graph::Graph;
use crate::literal::Literal;
use crate::op::{BinaryOp, ConvParams, Init, Op, PoolParams, ReduceOp, UnaryOp};
use crate::shape::{Shape, TensorType};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// A random graph and values for its inputs.
#[derive(Clone)]
pub struct GraphCase {
    pub graph: Graph,
    /// One value per `input`, keyed by name (f32 values are non-zero, in ±[0.25, 2]).
    pub feeds: BTreeMap<String, Literal>,
    /// A seed for initializing params and state.
    pub seed: u64,
}

impl std::fmt::Debug for GraphCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "seed {}\n{}", self.seed, self.graph)
    }
}

/// Which kinds of nodes a generated graph may contain.
#[derive(Clone, Copy, Debug)]
pub struct GenConfig {
    /// Number of op-building steps (not counting sources and sinks).
    pub max_steps: usize,
    /// Params, and `update` sinks writing them.
    pub params: bool,
    /// `random_uniform` / `random_bernoulli` driven by a counter state.
    pub random: bool,
}

impl Default for GenConfig {
    fn default() -> GenConfig {
        GenConfig {
            max_steps: 12,
            params: true,
            random: true,
        }
    }
}

/// Random graphs with the default configuration.
pub fn arb_case() -> impl Strategy<Value = GraphCase> {
    arb_case_with(GenConfig::default())
}

/// Random graphs with a chosen configuration.
pub fn arb_case_with(config: GenConfig) -> impl Strategy<Value = GraphCase> {
    (
        proptest::collection::vec(any::<u32>(), 4..(8 + 6 * config.max_steps)),
        any::<u64>(),
    )
        .prop_map(move |(choices, seed)| build_case(&choices, seed, config))
}

/// Builds the case a list of choices describes (deterministic).
pub fn build_case(choices: &[u32], seed: u64, config: GenConfig) -> GraphCase {
    let mut dice = Dice { choices, pos: 0 };
    let b = GraphBuilder::new("random");
    let mut feeds = BTreeMap::new();
    let mut pool: Vec<Tensor<'_>> = Vec::new();

    // Sources: 1-3 f32 inputs of rank 1-4, sometimes an image-like rank-4 one.
    let n_inputs = 1 + dice.pick(3);
    for i in 0..n_inputs {
        let shape = if i == 0 && dice.pick(3) == 0 {
            vec![
                1 + dice.pick(2),
                1 + dice.pick(3),
                3 + dice.pick(4),
                3 + dice.pick(4),
            ]
        } else {
            random_shape(&mut dice)
        };
        let name = format!("x{i}");
        let data = (0..shape.iter().product::<usize>())
            .map(|_| dice.value())
            .collect();
        feeds.insert(
            name.clone(),
            Literal::f32(shape.clone(), data).expect("length matches"),
        );
        pool.push(b.input(&name, &shape));
    }
    let mut params = Vec::new();
    if config.params && dice.pick(2) == 0 {
        let shape = pool[dice.pick(pool.len())].dims();
        let p = b.param("p0", &shape, random_init(&mut dice, &shape));
        params.push(p);
        pool.push(p);
    }
    let counter = (config.random && dice.pick(3) == 0)
        .then(|| b.state("rng", TensorType::i32(Shape::scalar()), Init::Zeros));

    let steps = 1 + dice.pick(config.max_steps.max(1));
    for _ in 0..steps {
        let x = pool[pool.len() - 1 - dice.pick(pool.len().min(4))];
        let t = step(&b, &mut dice, x, &pool, counter);
        if t.id().is_some() && b.error().is_none() {
            pool.push(t);
        }
    }

    // Every computed value nobody uses becomes an output, so almost every
    // node is live and passes have real work to get right.
    let first_computed = n_inputs + params.len();
    let unused: Vec<Tensor<'_>> = pool[first_computed..]
        .iter()
        .filter(|t| t.id().is_some_and(|id| !b.graph().has_users(id)))
        .copied()
        .collect();
    let outputs = if unused.is_empty() {
        vec![pool[pool.len() - 1]]
    } else {
        unused
    };
    for (i, t) in outputs.iter().rev().take(6).enumerate() {
        b.output(&format!("y{i}"), *t);
    }
    for p in &params {
        let delta = pool
            .iter()
            .rev()
            .find(|t| t.shape() == p.shape() && t.id() != p.id());
        if let Some(&d) = delta {
            b.update("p0", *p - d * 0.5);
        }
    }
    if let Some(c) = counter {
        b.update("rng", c + 1.0);
    }
    let graph = match b.build() {
        Ok(g) => g,
        Err(e) => panic!("the generator built an invalid graph (a bug in testing.rs): {e}"),
    };
    GraphCase { graph, feeds, seed }
}

/// Reads choices in order, cycling through them with a mixing counter so a
/// short list still gives varied decisions.
struct Dice<'a> {
    choices: &'a [u32],
    pos: usize,
}

impl Dice<'_> {
    fn next(&mut self) -> u32 {
        let raw = self
            .choices
            .get(self.pos % self.choices.len().max(1))
            .copied()
            .unwrap_or(0);
        let lap = (self.pos / self.choices.len().max(1)) as u32;
        self.pos += 1;
        raw ^ lap.wrapping_mul(0x9E37_79B9)
    }

    /// A number in `0..n` (`n >= 1`).
    fn pick(&mut self, n: usize) -> usize {
        (self.next() as usize) % n.max(1)
    }

    /// A non-zero value in ±[0.25, 2].
    fn value(&mut self) -> f32 {
        let mag = 0.25 + 1.75 * (self.next() % 1000) as f32 / 1000.0;
        if self.pick(2) == 0 { mag } else { -mag }
    }
}

fn random_shape(dice: &mut Dice<'_>) -> Vec<usize> {
    let rank = 1 + dice.pick(3);
    (0..rank).map(|_| 1 + dice.pick(4)).collect()
}

fn random_init(dice: &mut Dice<'_>, shape: &[usize]) -> Init {
    let fan = shape.last().copied().unwrap_or(1).max(1);
    match dice.pick(6) {
        0 => Init::uniform(-1.0, 1.0),
        1 => Init::normal(0.5, 1.0),
        2 => Init::xavier_uniform(fan, fan + 1),
        3 => Init::kaiming_normal(fan),
        4 => Init::constant(0.75),
        _ => Init::kaiming_uniform(fan),
    }
}

/// A positive version of `x`, so domain-restricted ops stay finite.
fn positive<'g>(x: Tensor<'g>) -> Tensor<'g> {
    x.abs() + 0.5
}

/// One random op applied to `x` (and sometimes another tensor of the pool).
fn step<'g>(
    b: &'g GraphBuilder,
    dice: &mut Dice<'_>,
    x: Tensor<'g>,
    pool: &[Tensor<'g>],
    counter: Option<Tensor<'g>>,
) -> Tensor<'g> {
    let dims = x.dims();
    let rank = dims.len();
    if rank == 0 {
        // Scalars (from full reductions) re-enter as small vectors.
        return if dice.pick(2) == 0 {
            x.broadcast_to(&[1 + dice.pick(3)])
        } else {
            x.unsqueeze(0)
        };
    }
    match dice.pick(16) {
        0 => {
            let op = UnaryOp::ALL[dice.pick(UnaryOp::ALL.len())];
            let arg = match op {
                UnaryOp::Log | UnaryOp::Sqrt | UnaryOp::Rsqrt | UnaryOp::Recip => positive(x),
                UnaryOp::Exp => x.tanh(),
                _ => x,
            };
            b.apply(Op::Unary(op), &[arg])
        }
        1 | 2 => {
            let op = BinaryOp::ALL[dice.pick(BinaryOp::ALL.len())];
            let partners: Vec<_> = pool
                .iter()
                .filter(|t| t.shape().broadcast_with(&x.shape()).is_some())
                .collect();
            let y = *partners[dice.pick(partners.len())];
            match op {
                BinaryOp::Pow => positive(x).pow(y.tanh()),
                BinaryOp::Div => x.div(positive(y)),
                _ => x.binary(op, y, crate::error::SourceLoc::caller()),
            }
        }
        3 => {
            let ys: Vec<_> = pool.iter().filter(|t| t.shape() == x.shape()).collect();
            let y = *ys[dice.pick(ys.len())];
            x.gt(y).select(x, y * 2.0)
        }
        4 => {
            let axes: Vec<i32> = (0..rank as i32).filter(|_| dice.pick(2) == 0).collect();
            let op = ReduceOp::ALL[dice.pick(4)];
            let keepdims = dice.pick(2) == 0;
            let mut norm: Vec<usize> = axes.iter().map(|&a| a as usize).collect();
            norm.dedup();
            b.apply(
                Op::Reduce {
                    op,
                    axes: norm,
                    keepdims,
                },
                &[x],
            )
        }
        5 => {
            // argmax, then back to f32 through integer ops and one_hot.
            let axis = dice.pick(rank);
            let idx = b.apply(
                Op::ArgMax {
                    axis,
                    keepdims: dice.pick(2) == 0,
                },
                &[x],
            );
            match dice.pick(3) {
                0 => idx.one_hot(dims[axis]),
                1 => (idx.abs() + 1.0).neg().cast(DType::F32),
                _ => idx.cast(DType::F32),
            }
        }
        6 => {
            // reshape: flatten, or split the first dim in two
            let n: usize = dims.iter().product();
            if dice.pick(2) == 0 || rank >= 4 {
                x.reshape(&[n]).detach()
            } else {
                let mut d = dims.clone();
                d.insert(0, 1);
                x.reshape(&d)
            }
        }
        7 => {
            let mut perm: Vec<usize> = (0..rank).collect();
            for i in (1..rank).rev() {
                perm.swap(i, dice.pick(i + 1));
            }
            x.permute(&perm)
        }
        8 => {
            let mut target = dims.clone();
            if let Some(d) = target.iter_mut().find(|d| **d == 1) {
                *d = 2 + dice.pick(2);
            } else {
                target.insert(0, 1 + dice.pick(3));
            }
            x.broadcast_to(&target)
        }
        9 => {
            let axis = dice.pick(rank);
            let n = dims[axis];
            let start = dice.pick(n);
            let end = start + 1 + dice.pick(n - start);
            match dice.pick(3) {
                0 => x.slice_step(axis as i32, start, end, 1 + dice.pick(2)),
                1 => x.pad_interior(axis as i32, dice.pick(2), dice.pick(2), dice.pick(2), 0.5),
                _ => {
                    let ys: Vec<_> = pool
                        .iter()
                        .filter(|t| {
                            let td = t.dims();
                            td.len() == rank && (0..rank).all(|d| d == axis || td[d] == dims[d])
                        })
                        .collect();
                    b.concat(&[x, *ys[dice.pick(ys.len())]], axis as i32)
                }
            }
        }
        10 => {
            // gather with in-range constant indices, sometimes scattered back
            let axis = dice.pick(rank);
            let k = 1 + dice.pick(3);
            let idx: Vec<i32> = (0..k).map(|_| dice.pick(dims[axis]) as i32).collect();
            let ids = b.literal(Literal::i32([k], idx).expect("length matches"));
            let g = x.index_select(axis as i32, ids);
            if dice.pick(2) == 0 {
                g.scatter_add(axis, ids, dims[axis] + dice.pick(2))
            } else {
                g
            }
        }
        11 => {
            // matmul against itself (transposed) or a fresh constant
            let m = if rank >= 2 { x } else { x.unsqueeze(0) };
            let md = m.dims();
            let k = md[md.len() - 1];
            if dice.pick(2) == 0 {
                m.matmul_t(m, false, true)
            } else {
                let n = 1 + dice.pick(3);
                let w: Vec<f32> = (0..k * n).map(|_| dice.value()).collect();
                let w = b.literal(Literal::f32([k, n], w).expect("length matches"));
                m.matmul(w)
            }
        }
        12 | 13 => image_op(b, dice, x),
        14 => match counter {
            Some(c) => {
                if dice.pick(2) == 0 {
                    b.random_uniform(c, &dims) * x
                } else {
                    b.random_bernoulli(c, &dims, 0.75) * x
                }
            }
            None => x.sigmoid(),
        },
        _ => {
            let axis = dice.pick(rank) as i32;
            let m = x.max_keepdim(axis);
            let e = (x - m).exp();
            e / e.sum_keepdim(axis)
        }
    }
}

/// A convolution or pooling op (or one of their gradients) on `x` viewed as NCHW.
fn image_op<'g>(b: &'g GraphBuilder, dice: &mut Dice<'_>, x: Tensor<'g>) -> Tensor<'g> {
    let img = if x.rank() == 4 {
        x
    } else {
        let n: usize = x.dims().iter().product();
        x.reshape(&[1, 1, 1, n]).broadcast_to(&[1, 2, 3, n])
    };
    let [n, c, h, w] = <[usize; 4]>::try_from(img.dims()).expect("rank 4");
    let kh = 1 + dice.pick(h.min(3));
    let kw = 1 + dice.pick(w.min(3));
    match dice.pick(4) {
        0 | 1 => {
            let groups = if c % 2 == 0 && dice.pick(2) == 0 {
                2
            } else {
                1
            };
            let o = groups * (1 + dice.pick(2));
            let p = ConvParams {
                stride: [1 + dice.pick(2), 1 + dice.pick(2)],
                padding: [dice.pick(2), dice.pick(2)],
                dilation: [1, 1],
                groups,
            };
            let wdata: Vec<f32> = (0..o * (c / groups) * kh * kw)
                .map(|_| dice.value())
                .collect();
            let wt =
                b.literal(Literal::f32([o, c / groups, kh, kw], wdata).expect("length matches"));
            let y = img.conv2d(wt, p);
            match dice.pick(3) {
                0 => b.apply(
                    Op::Conv2dInputGrad {
                        conv: p,
                        input_hw: [h, w],
                    },
                    &[y, wt],
                ),
                1 => b.apply(
                    Op::Conv2dWeightGrad {
                        conv: p,
                        kernel_hw: [kh, kw],
                    },
                    &[img, y],
                ),
                _ => y,
            }
        }
        _ => {
            let p = PoolParams {
                kernel: [kh, kw],
                stride: [1 + dice.pick(2), 1 + dice.pick(2)],
                padding: [dice.pick(kh / 2 + 1), dice.pick(kw / 2 + 1)],
            };
            let _ = n;
            match dice.pick(4) {
                0 => img.max_pool2d(p),
                1 => {
                    let y = img.max_pool2d(p);
                    b.apply(Op::MaxPool2dGrad(p), &[img, y])
                }
                2 => img.avg_pool2d(p),
                _ => {
                    let y = img.avg_pool2d(p);
                    b.apply(
                        Op::AvgPool2dGrad {
                            pool: p,
                            input_hw: [h, w],
                        },
                        &[y],
                    )
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};

    #[test]
    fn generator_builds_valid_graphs_covering_every_op_family() {
        let mut runner = TestRunner::new(Config::with_cases(300));
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..300 {
            let case = arb_case()
                .new_tree(&mut runner)
                .expect("strategy")
                .current();
            for node in case.graph.nodes() {
                seen.insert(node.op.name());
            }
        }
        for name in [
            "conv2d",
            "max_pool2d_grad",
            "gather",
            "matmul",
            "random_uniform",
            "update",
        ] {
            assert!(seen.contains(name), "{name} never generated; saw {seen:?}");
        }
    }
}
