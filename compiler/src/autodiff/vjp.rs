//! Vector-Jacobian products: every op's backward rule, in one place.
//!
//! `vjp(op, ...)` receives the gradient `g` of the loss with respect to a
//! node's value and returns, for each operand, the gradient with respect to
//! that operand (`None` when no gradient flows: integer operands, and the
//! stop-gradient ops: comparisons, `sign`, `step`, `argmax`, `one_hot`, random
//! ops). Rules are written with the builder DSL, so they are ordinary graph
//! nodes the optimizer fuses and plans like everything else.
//!
//! Conventions at non-differentiable points follow PyTorch: `relu'(0) = 0`,
//! `abs'(0) = 0`, ties of `max`/`min` split the gradient evenly, a max/min
//! reduction spreads it evenly over the tied elements.

use kiln_ir::{BinaryOp, DType, GraphBuilder, Op, ReduceOp, Shape, Tensor, TensorType, UnaryOp};

/// A rule that does not exist (only second-order `max_pool2d_grad`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingRule(pub &'static str);

/// Gradients for the operands of `op` (which produced `out` from `xs`), given
/// the incoming gradient `g` (same type as `out`).
pub fn vjp<'g>(
    b: &'g GraphBuilder,
    op: &Op,
    xs: &[Tensor<'g>],
    out: Tensor<'g>,
    g: Tensor<'g>,
) -> Result<Vec<Option<Tensor<'g>>>, MissingRule> {
    let one = |t: Tensor<'g>| Ok(vec![Some(t)]);
    match op {
        Op::Input { .. }
        | Op::Param { .. }
        | Op::State { .. }
        | Op::Const { .. }
        | Op::Iota { .. }
        | Op::RandomUniform { .. }
        | Op::RandomBernoulli { .. } => Ok(vec![None; xs.len()]),
        Op::Output { .. } | Op::Update { .. } => one(g),
        Op::Unary(u) => Ok(vec![unary(*u, xs[0], out, g)]),
        Op::Binary(op) => Ok(binary(*op, xs[0], xs[1], out, g)),
        Op::Where => {
            let zero = b.scalar(0.0);
            Ok(vec![
                None,
                Some(xs[0].select(g, zero)),
                Some(xs[0].select(zero, g)),
            ])
        }
        Op::Cast { to } => Ok(vec![
            (*to == DType::F32 && xs[0].dtype() == DType::F32).then_some(g),
        ]),
        Op::Reduce { op, axes, keepdims } => {
            Ok(vec![Some(reduce(*op, axes, *keepdims, xs[0], out, g))])
        }
        Op::ArgMax { .. } | Op::OneHot { .. } | Op::StopGradient => Ok(vec![None]),
        Op::Reshape { .. } => one(g.reshape(&xs[0].dims())),
        Op::Permute { perm } => {
            let mut inverse = vec![0; perm.len()];
            for (i, &p) in perm.iter().enumerate() {
                inverse[p] = i;
            }
            one(g.permute(&inverse))
        }
        Op::Broadcast { .. } => one(unbroadcast(g, &xs[0].shape())),
        Op::Slice {
            axis, start, step, ..
        } => {
            let n = xs[0].dims()[*axis];
            let len = out.dims()[*axis];
            let high = n - (start + (len - 1) * step + 1);
            one(g.pad_interior(*axis as i32, *start, high, step - 1, 0.0))
        }
        Op::Pad {
            axis,
            low,
            interior,
            ..
        } => {
            let n = xs[0].dims()[*axis];
            if n == 0 {
                return Ok(vec![None]);
            }
            let end = low + (n - 1) * (interior + 1) + 1;
            one(g.slice_step(*axis as i32, *low, end, interior + 1))
        }
        Op::Concat { axis } => {
            let mut start = 0;
            let mut grads = Vec::with_capacity(xs.len());
            for x in xs {
                let len = x.dims()[*axis];
                grads.push(Some(g.narrow(*axis as i32, start, len)));
                start += len;
            }
            Ok(grads)
        }
        Op::Gather { axis } => {
            let size = xs[0].dims()[*axis];
            Ok(vec![Some(g.scatter_add(*axis, xs[1], size)), None])
        }
        Op::ScatterAdd { axis, .. } => Ok(vec![Some(g.index_select(*axis as i32, xs[1])), None]),
        Op::MatMul {
            transpose_lhs: ta,
            transpose_rhs: tb,
        } => Ok(matmul(*ta, *tb, xs[0], xs[1], g)),
        Op::Conv2d(p) => {
            let (x, w) = (xs[0].dims(), xs[1].dims());
            let dx = b.apply(
                Op::Conv2dInputGrad {
                    conv: *p,
                    input_hw: [x[2], x[3]],
                },
                &[g, xs[1]],
            );
            let dw = b.apply(
                Op::Conv2dWeightGrad {
                    conv: *p,
                    kernel_hw: [w[2], w[3]],
                },
                &[xs[0], g],
            );
            Ok(vec![Some(dx), Some(dw)])
        }
        Op::Conv2dInputGrad { conv, .. } => {
            // out = convᵀ(dy, w) is linear in each: <convᵀ(dy,w), G> = <dy, conv(G,w)> = <w, wgrad(G,dy)>.
            let w = xs[1].dims();
            let ddy = g.conv2d(xs[1], *conv);
            let dw = b.apply(
                Op::Conv2dWeightGrad {
                    conv: *conv,
                    kernel_hw: [w[2], w[3]],
                },
                &[g, xs[0]],
            );
            Ok(vec![Some(ddy), Some(dw)])
        }
        Op::Conv2dWeightGrad { conv, .. } => {
            // out = wgrad(x, dy): <wgrad(x,dy), G> = <conv(x,G), dy> = <x, convᵀ(dy,G)>.
            let x = xs[0].dims();
            let dx = b.apply(
                Op::Conv2dInputGrad {
                    conv: *conv,
                    input_hw: [x[2], x[3]],
                },
                &[xs[1], g],
            );
            let ddy = xs[0].conv2d(g, *conv);
            Ok(vec![Some(dx), Some(ddy)])
        }
        Op::MaxPool2d(p) => one(b.apply(Op::MaxPool2dGrad(*p), &[xs[0], g])),
        Op::MaxPool2dGrad(_) => Err(MissingRule("max_pool2d_grad")),
        Op::AvgPool2d(p) => {
            let x = xs[0].dims();
            one(b.apply(
                Op::AvgPool2dGrad {
                    pool: *p,
                    input_hw: [x[2], x[3]],
                },
                &[g],
            ))
        }
        Op::AvgPool2dGrad { pool, .. } => one(g.avg_pool2d(*pool)),
    }
}

/// Whether node `id` passes gradient to at least one operand: not the
/// stop-gradient ops, and nothing computed from integers (as `vjp` decides).
pub fn is_differentiable(graph: &kiln_ir::Graph, id: kiln_ir::NodeId) -> bool {
    let from_floats = graph
        .operands(id)
        .first()
        .is_none_or(|&x| graph.ty(x).dtype == DType::F32);
    let op = graph.op(id);
    if matches!(op, Op::Unary(_) | Op::Binary(_) | Op::Cast { .. }) && !from_floats {
        return false;
    }
    match op {
        Op::Unary(u) => !matches!(u, UnaryOp::Sign | UnaryOp::Step),
        Op::Binary(b) => !b.is_comparison(),
        Op::Cast { to } => *to == DType::F32,
        Op::ArgMax { .. }
        | Op::OneHot { .. }
        | Op::StopGradient
        | Op::RandomUniform { .. }
        | Op::RandomBernoulli { .. } => false,
        op => !op.is_source(),
    }
}

fn unary<'g>(u: UnaryOp, x: Tensor<'g>, y: Tensor<'g>, g: Tensor<'g>) -> Option<Tensor<'g>> {
    if x.dtype() != DType::F32 {
        return None;
    }
    Some(match u {
        UnaryOp::Neg => -g,
        UnaryOp::Exp => g * y,
        UnaryOp::Log => g / x,
        UnaryOp::Sqrt => g * 0.5 / y,
        // d/dx x^-1/2 = -1/2 x^-3/2 = -1/2 y^3
        UnaryOp::Rsqrt => g * (y * y * y) * -0.5,
        UnaryOp::Recip => -(g * y * y),
        UnaryOp::Abs => g * x.sign(),
        UnaryOp::Sign | UnaryOp::Step => return None,
        UnaryOp::Tanh => g * (1.0 - y * y),
        UnaryOp::Sigmoid => g * y * (1.0 - y),
        UnaryOp::Relu => g * x.step(),
        UnaryOp::Erf => g * ((-(x * x)).exp() * std::f32::consts::FRAC_2_SQRT_PI),
        UnaryOp::Sin => g * x.cos(),
        UnaryOp::Cos => -(g * x.sin()),
    })
}

fn binary<'g>(
    op: BinaryOp,
    x: Tensor<'g>,
    y: Tensor<'g>,
    z: Tensor<'g>,
    g: Tensor<'g>,
) -> Vec<Option<Tensor<'g>>> {
    if x.dtype() != DType::F32 || op.is_comparison() {
        return vec![None, None];
    }
    let (dx, dy) = match op {
        BinaryOp::Add => (g, g),
        BinaryOp::Sub => (g, -g),
        BinaryOp::Mul => (g * y, g * x),
        BinaryOp::Div => (g / y, -(g * z / y)),
        // d/dx x^y = y x^(y-1); d/dy x^y = x^y ln x. As PyTorch: the first is 0
        // where y = 0 (even at x = 0), the second 0 where x = 0 and y >= 0.
        BinaryOp::Pow => {
            let zero = x.builder().scalar(0.0);
            let dx = y.eq(zero).select(zero, g * y * x.pow(y - 1.0));
            let dy = (x.eq(zero) * y.ge(zero)).select(zero, g * z * x.log());
            (dx, dy)
        }
        BinaryOp::Max | BinaryOp::Min => {
            let wins = if op == BinaryOp::Max {
                x.gt(y)
            } else {
                x.lt(y)
            };
            let share_x = wins + x.eq(y) * 0.5;
            (g * share_x, g * (1.0 - share_x))
        }
        _ => return vec![None, None],
    };
    vec![Some(dx), Some(dy)]
}

fn reduce<'g>(
    op: ReduceOp,
    axes: &[usize],
    keepdims: bool,
    x: Tensor<'g>,
    y: Tensor<'g>,
    g: Tensor<'g>,
) -> Tensor<'g> {
    let xs = x.dims();
    let kept: Vec<usize> = xs
        .iter()
        .enumerate()
        .map(|(i, &d)| if axes.contains(&i) { 1 } else { d })
        .collect();
    let expand = |t: Tensor<'g>| {
        let t = if keepdims { t } else { t.reshape(&kept) };
        t.broadcast_to(&xs)
    };
    match op {
        ReduceOp::Sum => expand(g),
        ReduceOp::Mean => {
            let count: usize = axes.iter().map(|&a| xs[a]).product();
            expand(g) * (1.0 / count.max(1) as f32)
        }
        ReduceOp::Max | ReduceOp::Min => {
            let hit = x.eq(expand(y));
            let ax: Vec<i32> = axes.iter().map(|&a| a as i32).collect();
            let count = hit.sum_keepdim(ax.as_slice()).broadcast_to(&xs);
            expand(g) * hit / count
        }
    }
}

/// Sums `g` over the dims a broadcast to its shape created, back to `shape`.
pub fn unbroadcast<'g>(g: Tensor<'g>, shape: &Shape) -> Tensor<'g> {
    let gd = g.dims();
    let lead = gd.len() - shape.rank();
    let axes: Vec<i32> = (0..gd.len())
        .filter(|&i| i < lead || (shape.0[i - lead] == 1 && gd[i] != 1))
        .map(|i| i as i32)
        .collect();
    let summed = if axes.is_empty() { g } else { g.sum(axes) };
    if summed.shape() == *shape {
        summed
    } else {
        summed.reshape(&shape.0)
    }
}

/// `C = op(A) · op(B)`: `d op(A) = G · op(B)ᵀ` and `d op(B) = op(A)ᵀ · G`,
/// transposed back when the operand was stored transposed. Every product is a
/// GEMM with transpose flags; no transpose is ever materialized.
fn matmul<'g>(
    ta: bool,
    tb: bool,
    a: Tensor<'g>,
    b: Tensor<'g>,
    g: Tensor<'g>,
) -> Vec<Option<Tensor<'g>>> {
    let da = if ta {
        b.matmul_t(g, tb, true)
    } else {
        g.matmul_t(b, false, !tb)
    };
    let db = if tb {
        g.matmul_t(a, true, ta)
    } else {
        a.matmul_t(g, !ta, false)
    };
    vec![Some(da), Some(db)]
}

/// The type a gradient of a node of type `ty` has (f32, same shape), or `None`
/// for integer values, which carry no gradient.
pub fn gradient_type(ty: &TensorType) -> Option<TensorType> {
    (ty.dtype == DType::F32).then(|| ty.clone())
}
