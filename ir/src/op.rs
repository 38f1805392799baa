//! The closed set of operations a kiln graph is made of.
//!
//! Primitive ops are few and orthogonal; composite operations (softmax, layer
//! norm, cross-entropy, attention, LSTM cells) are built from them by the DSL and
//! re-discovered by the compiler. Every variant documents its typing rules; the
//! rules themselves are implemented once, in [`crate::infer()`], and the meaning of
//! every op is defined by the reference evaluator in [`crate::eval`].
//!
//! `Op` derives `Eq + Hash`, so two nodes with equal ops and equal operands
//! compute the same value (common-subexpression elimination relies on this).
//! The random ops are no exception: their result is a pure function of their
//! seed attribute and their counter operand.
//!
//! Checklist for adding an op: a variant here with its typing rules, its rule in
//! `infer.rs`, its meaning in `eval/`, its spelling in `text/` (printer and
//! parser), a case in the random-graph generator (`testing.rs`), and later its
//! vector-Jacobian rule and its runtime kernel.

use crate::dtype::DType;
use crate::literal::{Float, Literal};
use crate::shape::{Shape, TensorType};
use std::fmt;

/// One operation. Attributes live in the op; operands are the node's incoming edges.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    // ----- sources: no operands -------------------------------------------------
    /// A tensor fed by the caller on every run, looked up by `name`.
    ///
    /// Typing rules: no operands; the result has type `ty`.
    Input { name: String, ty: TensorType },

    /// A trainable tensor that persists between runs, created from `init`.
    ///
    /// Typing rules: no operands; the result has type `ty`. `init` must suit the
    /// dtype (only `zeros`, `ones` and `constant` for `i32`).
    Param {
        name: String,
        ty: TensorType,
        init: Init,
    },

    /// A persistent tensor that is not trained: optimizer moments, step counters,
    /// random-number counters, running statistics.
    ///
    /// Typing rules: as for `Param`.
    State {
        name: String,
        ty: TensorType,
        init: Init,
    },

    /// A constant tensor.
    ///
    /// Typing rules: no operands; the result has the literal's type.
    Const { value: Literal },

    /// The index along `axis`, for every element: `iota[i0, .., in] = i_axis`.
    /// Used for masks (causal attention: `iota(axis 0) >= iota(axis 1)`).
    ///
    /// Typing rules: no operands; the result has type `ty`; `axis < rank`.
    Iota { ty: TensorType, axis: usize },

    // ----- sinks: one operand, no users -----------------------------------------
    /// Makes its operand a named result of the run.
    ///
    /// Typing rules: one operand of any type; the node has the operand's type
    /// and may have no users.
    Output { name: String },

    /// After the run, writes its operand into the `Param` or `State` called
    /// `target`. Every read of the target during the run sees the old value.
    ///
    /// Typing rules: one operand whose type equals the target's; no users; each
    /// target is updated at most once (checked by the verifier).
    Update { target: String },

    // ----- elementwise ------------------------------------------------------------
    /// `y = f(x)` element by element.
    ///
    /// Typing rules: one operand; the result has the operand's type. `f32` only,
    /// except `neg`, `abs` and `sign`, which also take `i32`.
    Unary(UnaryOp),

    /// `z = f(x, y)` element by element, on operands of equal type (the builder
    /// inserts `broadcast` nodes for numpy-style broadcasting).
    ///
    /// Typing rules: two operands of the same dtype and shape. Arithmetic returns
    /// that type (`pow` is `f32` only); comparisons return `f32` 0/1.
    Binary(BinaryOp),

    /// `where(c, a, b)` = `a` where `c != 0`, else `b`.
    ///
    /// Typing rules: three operands of one shape; `c` is `f32`; `a` and `b`
    /// have the same dtype, which is the result's.
    Where,

    /// Converts between `f32` and `i32` (`f32 -> i32` truncates toward zero and
    /// saturates; NaN becomes 0).
    ///
    /// Typing rules: one operand; the result has the operand's shape and dtype `to`.
    Cast { to: DType },

    // ----- reductions ---------------------------------------------------------------
    /// Reduces over `axes` (sorted, unique), keeping them as size-1 dims if
    /// `keepdims`. An empty `axes` list is the identity.
    ///
    /// Typing rules: one operand; every axis `< rank`; `mean` is `f32` only; the
    /// result keeps the dtype.
    Reduce {
        op: ReduceOp,
        axes: Vec<usize>,
        keepdims: bool,
    },

    /// The index of the largest element along `axis` (the first one on ties).
    ///
    /// Typing rules: one `f32` operand; `axis < rank`; the result is `i32` with
    /// `axis` removed (or kept as size 1 if `keepdims`).
    ArgMax { axis: usize, keepdims: bool },

    // ----- movement -------------------------------------------------------------------
    /// Same elements in row-major order, new shape.
    ///
    /// Typing rules: one operand; `shape` has the same element count; dtype kept.
    Reshape { shape: Shape },

    /// The identity in the forward direction; no gradient flows through it
    /// (PyTorch's `detach`, JAX's `stop_gradient`). Softmax uses it on the
    /// max it subtracts, whose exact gradient contribution is zero.
    ///
    /// Typing rules: one operand; the result has the operand's type.
    StopGradient,

    /// Reorders dimensions: result dim `i` is operand dim `perm[i]`.
    ///
    /// Typing rules: one operand; `perm` is a permutation of `0..rank`.
    Permute { perm: Vec<usize> },

    /// numpy broadcasting to `shape` (align right; size-1 dims stretch; new
    /// leading dims are added).
    ///
    /// Typing rules: one operand whose shape broadcasts to `shape`; dtype kept.
    Broadcast { shape: Shape },

    /// Elements `start, start+step, ...` below `end` along `axis`.
    ///
    /// Typing rules: one operand; `axis < rank`; `start < end <= dim`,
    /// `step >= 1`; the result has `ceil((end-start)/step)` along `axis`.
    Slice {
        axis: usize,
        start: usize,
        end: usize,
        step: usize,
    },

    /// Pads `axis` with `low` elements before, `high` after and `interior`
    /// between every two elements, all equal to `value` (XLA's pad; `interior`
    /// makes it the inverse of a strided slice).
    ///
    /// Typing rules: one operand; `axis < rank`; the result has
    /// `low + n + (n-1)*interior + high` along `axis` (`low + high` when `n = 0`).
    Pad {
        axis: usize,
        low: usize,
        high: usize,
        interior: usize,
        value: Float,
    },

    /// Joins its operands along `axis`.
    ///
    /// Typing rules: one or more operands of one dtype whose shapes agree except
    /// along `axis`; the result's `axis` is the sum.
    Concat { axis: usize },

    /// Index-select (numpy `take`): `out[a.., i.., b..] = data[a.., idx[i..], b..]`
    /// where `axis` is the position of the indexed dimension. An index outside
    /// `0..dim` is an evaluation error.
    ///
    /// Typing rules: operands `(data, indices)`; `indices` is `i32`; the result
    /// has `data`'s dtype and shape `data[..axis] ++ indices ++ data[axis+1..]`.
    Gather { axis: usize },

    /// The adjoint of `gather`: starts from zeros of size `size` along `axis`
    /// and adds every slice of `updates` at the position its index names.
    ///
    /// Typing rules: operands `(updates, indices)`; `indices` is `i32`;
    /// `updates` has shape `out[..axis] ++ indices ++ out[axis+1..]`; the result
    /// has `updates`' dtype and that `out` shape, with `out[axis] = size`.
    ScatterAdd { axis: usize, size: usize },

    /// `out[.., k] = 1.0 if idx[..] == k else 0.0`, for `k` in `0..depth`. An index
    /// outside `0..depth` is an evaluation error.
    ///
    /// Typing rules: one `i32` operand; the result is `f32` with `depth` appended.
    OneHot { depth: usize },

    // ----- linear algebra ---------------------------------------------------------------
    /// Batched matrix product `[.., m, k] x [.., k, n] -> [.., m, n]`. A
    /// `transpose_*` flag swaps the last two dims of that operand first (so
    /// transposed operands cost a stride, never a copy).
    ///
    /// Typing rules: two `f32` operands of equal rank >= 2 and equal batch dims;
    /// inner dimensions agree after the transposes.
    MatMul {
        transpose_lhs: bool,
        transpose_rhs: bool,
    },

    /// 2-D cross-correlation, NCHW: `x[N,C,H,W] * w[O,C/groups,KH,KW] -> [N,O,OH,OW]`,
    /// `OH = (H + 2*pad - dil*(KH-1) - 1) / stride + 1`. No bias (add it after).
    ///
    /// Typing rules: two `f32` rank-4 operands; `groups` divides `C` and `O`;
    /// `w`'s dim 1 is `C/groups`; stride, dilation >= 1; the output is non-empty.
    Conv2d(ConvParams),

    /// The gradient of `conv2d` with respect to its input.
    ///
    /// Typing rules: operands `(dy[N,O,OH,OW], w[O,C/g,KH,KW])`; the result is
    /// `f32[N, C, input_hw[0], input_hw[1]]` and a `conv2d` of that input with
    /// `w` must give `dy`'s shape.
    Conv2dInputGrad {
        conv: ConvParams,
        input_hw: [usize; 2],
    },

    /// The gradient of `conv2d` with respect to its weight.
    ///
    /// Typing rules: operands `(x[N,C,H,W], dy[N,O,OH,OW])`; the result is
    /// `f32[O, C/g, kernel_hw[0], kernel_hw[1]]` and a `conv2d` of `x` with such a
    /// weight must give `dy`'s shape.
    Conv2dWeightGrad {
        conv: ConvParams,
        kernel_hw: [usize; 2],
    },

    /// Max pooling over `kernel` windows, NCHW. Padding counts as `-inf`.
    ///
    /// Typing rules: one `f32` rank-4 operand; kernel, stride >= 1; padding at
    /// most half the kernel; the output is non-empty.
    MaxPool2d(PoolParams),

    /// The gradient of `max_pool2d`: each window's output gradient goes to the
    /// first position (in row-major window order) holding the window's maximum.
    ///
    /// Typing rules: operands `(x, dy)` where `dy` has `max_pool2d(x)`'s shape;
    /// the result has `x`'s type.
    MaxPool2dGrad(PoolParams),

    /// Average pooling, NCHW; the divisor is always the kernel area (padding
    /// counts as zeros, PyTorch's default `count_include_pad=True`).
    ///
    /// Typing rules: as for `max_pool2d`.
    AvgPool2d(PoolParams),

    /// The gradient of `avg_pool2d`.
    ///
    /// Typing rules: one operand `dy[N,C,OH,OW]`; the result is
    /// `f32[N,C,input_hw[0],input_hw[1]]`, whose pooling gives `dy`'s shape.
    AvgPool2dGrad {
        pool: PoolParams,
        input_hw: [usize; 2],
    },

    // ----- random -----------------------------------------------------------------------
    /// Uniform samples in `[0, 1)`, a pure function of `seed`, the counter
    /// operand and the element index (see [`crate::random`]). Feeding the
    /// counter from a `State` that is incremented each run gives fresh samples
    /// each run and the same ones when rerun from the same state.
    ///
    /// Typing rules: one `i32` scalar operand (the counter); the result is
    /// `f32` of `shape`.
    RandomUniform { shape: Shape, seed: u64 },

    /// A 0/1 mask with `P(1) = p` (uniform sample `< p`), same stream as
    /// `random_uniform` with the same seed and counter.
    ///
    /// Typing rules: as for `random_uniform`; `0 <= p <= 1`.
    RandomBernoulli { shape: Shape, p: Float, seed: u64 },
}

/// Elementwise functions of one argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnaryOp {
    Neg,
    Exp,
    /// Natural logarithm.
    Log,
    Sqrt,
    /// `1 / sqrt(x)`.
    Rsqrt,
    /// `1 / x`.
    Recip,
    Abs,
    /// -1, 0 or 1.
    Sign,
    Tanh,
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// `max(x, 0)`.
    Relu,
    /// The error function.
    Erf,
    Sin,
    Cos,
    /// Heaviside: 1 where `x > 0`, else 0 (the perceptron's step).
    Step,
}

impl UnaryOp {
    pub const ALL: [UnaryOp; 15] = [
        UnaryOp::Neg,
        UnaryOp::Exp,
        UnaryOp::Log,
        UnaryOp::Sqrt,
        UnaryOp::Rsqrt,
        UnaryOp::Recip,
        UnaryOp::Abs,
        UnaryOp::Sign,
        UnaryOp::Tanh,
        UnaryOp::Sigmoid,
        UnaryOp::Relu,
        UnaryOp::Erf,
        UnaryOp::Sin,
        UnaryOp::Cos,
        UnaryOp::Step,
    ];

    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::Neg => "neg",
            UnaryOp::Exp => "exp",
            UnaryOp::Log => "log",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Rsqrt => "rsqrt",
            UnaryOp::Recip => "recip",
            UnaryOp::Abs => "abs",
            UnaryOp::Sign => "sign",
            UnaryOp::Tanh => "tanh",
            UnaryOp::Sigmoid => "sigmoid",
            UnaryOp::Relu => "relu",
            UnaryOp::Erf => "erf",
            UnaryOp::Sin => "sin",
            UnaryOp::Cos => "cos",
            UnaryOp::Step => "step",
        }
    }

    /// Whether the op is defined on `i32` as well as `f32`.
    pub fn accepts_i32(self) -> bool {
        matches!(self, UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Sign)
    }
}

/// Elementwise functions of two arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    /// `f32`: IEEE division. `i32`: truncates toward zero; division by zero gives 0.
    Div,
    /// `x^y`, `f32` only.
    Pow,
    /// Elementwise maximum (NaN if either is NaN).
    Max,
    /// Elementwise minimum (NaN if either is NaN).
    Min,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl BinaryOp {
    pub const ALL: [BinaryOp; 13] = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Pow,
        BinaryOp::Max,
        BinaryOp::Min,
        BinaryOp::Lt,
        BinaryOp::Le,
        BinaryOp::Gt,
        BinaryOp::Ge,
        BinaryOp::Eq,
        BinaryOp::Ne,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Pow => "pow",
            BinaryOp::Max => "max",
            BinaryOp::Min => "min",
            BinaryOp::Lt => "lt",
            BinaryOp::Le => "le",
            BinaryOp::Gt => "gt",
            BinaryOp::Ge => "ge",
            BinaryOp::Eq => "eq",
            BinaryOp::Ne => "ne",
        }
    }

    /// Comparisons return `f32` 0/1 whatever their operands' dtype.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge | BinaryOp::Eq | BinaryOp::Ne
        )
    }

    /// `a op b == b op a`.
    pub fn is_commutative(self) -> bool {
        matches!(
            self,
            BinaryOp::Add
                | BinaryOp::Mul
                | BinaryOp::Max
                | BinaryOp::Min
                | BinaryOp::Eq
                | BinaryOp::Ne
        )
    }
}

/// What a `Reduce` combines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReduceOp {
    Sum,
    Max,
    Min,
    Mean,
}

impl ReduceOp {
    pub const ALL: [ReduceOp; 4] = [ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min, ReduceOp::Mean];

    /// The text spelling (`reduce_sum`, ...), distinct from the binary `max`/`min`.
    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "reduce_sum",
            ReduceOp::Max => "reduce_max",
            ReduceOp::Min => "reduce_min",
            ReduceOp::Mean => "reduce_mean",
        }
    }
}

/// Attributes shared by `conv2d` and its gradients. Pairs are `[height, width]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvParams {
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub groups: usize,
}

impl Default for ConvParams {
    fn default() -> ConvParams {
        ConvParams {
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
            groups: 1,
        }
    }
}

impl ConvParams {
    /// Output size of one spatial dimension, or `None` if it would be empty.
    pub fn output_dim(&self, axis: usize, input: usize, kernel: usize) -> Option<usize> {
        let span = self.dilation[axis] * (kernel.checked_sub(1)?) + 1;
        let padded = input + 2 * self.padding[axis];
        (padded >= span && self.stride[axis] > 0).then(|| (padded - span) / self.stride[axis] + 1)
    }
}

/// Attributes of the pooling ops. Pairs are `[height, width]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PoolParams {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
}

impl PoolParams {
    /// A `k x k` window moved by `k` (PyTorch's default stride), no padding.
    pub fn square(k: usize) -> PoolParams {
        PoolParams {
            kernel: [k, k],
            stride: [k, k],
            padding: [0, 0],
        }
    }

    /// Output size of one spatial dimension, or `None` if it would be empty.
    pub fn output_dim(&self, axis: usize, input: usize) -> Option<usize> {
        let padded = input + 2 * self.padding[axis];
        (padded >= self.kernel[axis] && self.stride[axis] > 0 && self.kernel[axis] > 0)
            .then(|| (padded - self.kernel[axis]) / self.stride[axis] + 1)
    }
}

/// How a `Param` or `State` gets its first value. Fans are explicit, so an
/// initializer means the same thing whatever the layout of the tensor.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Init {
    Zeros,
    Ones,
    Constant(Float),
    /// Uniform on `[low, high)`.
    Uniform {
        low: Float,
        high: Float,
    },
    Normal {
        mean: Float,
        std: Float,
    },
    /// Glorot: uniform on `±gain·sqrt(6/(fan_in+fan_out))`.
    XavierUniform {
        fan_in: usize,
        fan_out: usize,
        gain: Float,
    },
    /// Glorot: normal with std `gain·sqrt(2/(fan_in+fan_out))`.
    XavierNormal {
        fan_in: usize,
        fan_out: usize,
        gain: Float,
    },
    /// He: uniform on `±gain·sqrt(3/fan_in)` (gain `sqrt(2)` for ReLU;
    /// PyTorch's `Linear` default is gain `sqrt(1/3)`, i.e. bound `1/sqrt(fan_in)`).
    KaimingUniform {
        fan_in: usize,
        gain: Float,
    },
    /// He: normal with std `gain/sqrt(fan_in)`.
    KaimingNormal {
        fan_in: usize,
        gain: Float,
    },
}

impl Init {
    pub fn constant(x: f32) -> Init {
        Init::Constant(Float(x))
    }

    pub fn uniform(low: f32, high: f32) -> Init {
        Init::Uniform {
            low: Float(low),
            high: Float(high),
        }
    }

    pub fn normal(mean: f32, std: f32) -> Init {
        Init::Normal {
            mean: Float(mean),
            std: Float(std),
        }
    }

    pub fn xavier_uniform(fan_in: usize, fan_out: usize) -> Init {
        Init::XavierUniform {
            fan_in,
            fan_out,
            gain: Float(1.0),
        }
    }

    pub fn xavier_normal(fan_in: usize, fan_out: usize) -> Init {
        Init::XavierNormal {
            fan_in,
            fan_out,
            gain: Float(1.0),
        }
    }

    /// He uniform with the ReLU gain `sqrt(2)`.
    pub fn kaiming_uniform(fan_in: usize) -> Init {
        Init::KaimingUniform {
            fan_in,
            gain: Float(std::f32::consts::SQRT_2),
        }
    }

    /// He normal with the ReLU gain `sqrt(2)`.
    pub fn kaiming_normal(fan_in: usize) -> Init {
        Init::KaimingNormal {
            fan_in,
            gain: Float(std::f32::consts::SQRT_2),
        }
    }

    /// PyTorch's default for `Linear` and `Conv2d` weights and biases:
    /// uniform on `±1/sqrt(fan_in)`.
    pub fn torch_default(fan_in: usize) -> Init {
        Init::KaimingUniform {
            fan_in,
            gain: Float((1.0f32 / 3.0).sqrt()),
        }
    }

    /// The text spelling of the initializer's kind.
    pub fn name(&self) -> &'static str {
        match self {
            Init::Zeros => "zeros",
            Init::Ones => "ones",
            Init::Constant(_) => "constant",
            Init::Uniform { .. } => "uniform",
            Init::Normal { .. } => "normal",
            Init::XavierUniform { .. } => "xavier_uniform",
            Init::XavierNormal { .. } => "xavier_normal",
            Init::KaimingUniform { .. } => "kaiming_uniform",
            Init::KaimingNormal { .. } => "kaiming_normal",
        }
    }

    /// Whether the initializer can fill a tensor of `dtype`.
    pub fn supports(&self, dtype: DType) -> bool {
        dtype == DType::F32 || matches!(self, Init::Zeros | Init::Ones | Init::Constant(_))
    }
}

/// `zeros`, `constant(value=0.5)`, `kaiming_uniform(fan_in=784, gain=1.4142135)`.
impl fmt::Display for Init {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self {
            Init::Zeros | Init::Ones => Ok(()),
            Init::Constant(v) => write!(f, "(value={v})"),
            Init::Uniform { low, high } => write!(f, "(low={low}, high={high})"),
            Init::Normal { mean, std } => write!(f, "(mean={mean}, std={std})"),
            Init::XavierUniform {
                fan_in,
                fan_out,
                gain,
            }
            | Init::XavierNormal {
                fan_in,
                fan_out,
                gain,
            } => {
                write!(f, "(fan_in={fan_in}, fan_out={fan_out}, gain={gain})")
            }
            Init::KaimingUniform { fan_in, gain } | Init::KaimingNormal { fan_in, gain } => {
                write!(f, "(fan_in={fan_in}, gain={gain})")
            }
        }
    }
}

/// Coarse op families, for statistics and for passes that treat a family alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpClass {
    Source,
    Sink,
    Elementwise,
    Reduction,
    Movement,
    MatMul,
    Conv,
    Pool,
    Random,
}

impl OpClass {
    pub fn name(self) -> &'static str {
        match self {
            OpClass::Source => "source",
            OpClass::Sink => "sink",
            OpClass::Elementwise => "elementwise",
            OpClass::Reduction => "reduction",
            OpClass::Movement => "movement",
            OpClass::MatMul => "matmul",
            OpClass::Conv => "conv",
            OpClass::Pool => "pool",
            OpClass::Random => "random",
        }
    }
}

impl Op {
    /// The op's spelling in the text form (`matmul`, `reduce_sum`, `add`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Op::Input { .. } => "input",
            Op::Param { .. } => "param",
            Op::State { .. } => "state",
            Op::Const { .. } => "const",
            Op::Iota { .. } => "iota",
            Op::Output { .. } => "output",
            Op::Update { .. } => "update",
            Op::Unary(u) => u.name(),
            Op::Binary(b) => b.name(),
            Op::Where => "where",
            Op::Cast { .. } => "cast",
            Op::Reduce { op, .. } => op.name(),
            Op::ArgMax { .. } => "argmax",
            Op::Reshape { .. } => "reshape",
            Op::StopGradient => "stop_gradient",
            Op::Permute { .. } => "permute",
            Op::Broadcast { .. } => "broadcast",
            Op::Slice { .. } => "slice",
            Op::Pad { .. } => "pad",
            Op::Concat { .. } => "concat",
            Op::Gather { .. } => "gather",
            Op::ScatterAdd { .. } => "scatter_add",
            Op::OneHot { .. } => "one_hot",
            Op::MatMul { .. } => "matmul",
            Op::Conv2d(_) => "conv2d",
            Op::Conv2dInputGrad { .. } => "conv2d_input_grad",
            Op::Conv2dWeightGrad { .. } => "conv2d_weight_grad",
            Op::MaxPool2d(_) => "max_pool2d",
            Op::MaxPool2dGrad(_) => "max_pool2d_grad",
            Op::AvgPool2d(_) => "avg_pool2d",
            Op::AvgPool2dGrad { .. } => "avg_pool2d_grad",
            Op::RandomUniform { .. } => "random_uniform",
            Op::RandomBernoulli { .. } => "random_bernoulli",
        }
    }

    /// Every op spelling, for error messages that list the valid names.
    pub fn all_names() -> Vec<&'static str> {
        let mut names = vec![
            "input", "param", "state", "const", "iota", "output", "update",
        ];
        names.extend(UnaryOp::ALL.iter().map(|u| u.name()));
        names.extend(BinaryOp::ALL.iter().map(|b| b.name()));
        names.extend(["where", "cast"]);
        names.extend(ReduceOp::ALL.iter().map(|r| r.name()));
        names.extend([
            "argmax",
            "reshape",
            "stop_gradient",
            "permute",
            "broadcast",
            "slice",
            "pad",
            "concat",
            "gather",
            "scatter_add",
            "one_hot",
            "matmul",
            "conv2d",
            "conv2d_input_grad",
            "conv2d_weight_grad",
            "max_pool2d",
            "max_pool2d_grad",
            "avg_pool2d",
            "avg_pool2d_grad",
            "random_uniform",
            "random_bernoulli",
        ]);
        names
    }

    /// The number of operands the op takes; `None` for variadic `concat` (>= 1).
    pub fn arity(&self) -> Option<usize> {
        Some(match self {
            Op::Input { .. }
            | Op::Param { .. }
            | Op::State { .. }
            | Op::Const { .. }
            | Op::Iota { .. } => 0,
            Op::Output { .. } | Op::Update { .. } => 1,
            Op::Unary(_) | Op::Cast { .. } | Op::Reduce { .. } | Op::ArgMax { .. } => 1,
            Op::Reshape { .. }
            | Op::StopGradient
            | Op::Permute { .. }
            | Op::Broadcast { .. }
            | Op::Slice { .. }
            | Op::Pad { .. }
            | Op::OneHot { .. } => 1,
            Op::Binary(_) | Op::Gather { .. } | Op::ScatterAdd { .. } | Op::MatMul { .. } => 2,
            Op::Where => 3,
            Op::Concat { .. } => return None,
            Op::Conv2d(_) | Op::Conv2dInputGrad { .. } | Op::Conv2dWeightGrad { .. } => 2,
            Op::MaxPool2d(_) | Op::AvgPool2d(_) | Op::AvgPool2dGrad { .. } => 1,
            Op::MaxPool2dGrad(_) => 2,
            Op::RandomUniform { .. } | Op::RandomBernoulli { .. } => 1,
        })
    }

    /// The op's family.
    pub fn class(&self) -> OpClass {
        match self {
            Op::Input { .. }
            | Op::Param { .. }
            | Op::State { .. }
            | Op::Const { .. }
            | Op::Iota { .. } => OpClass::Source,
            Op::Output { .. } | Op::Update { .. } => OpClass::Sink,
            Op::Unary(_) | Op::Binary(_) | Op::Where | Op::Cast { .. } => OpClass::Elementwise,
            Op::Reduce { .. } | Op::ArgMax { .. } => OpClass::Reduction,
            Op::Reshape { .. }
            | Op::StopGradient
            | Op::Permute { .. }
            | Op::Broadcast { .. }
            | Op::Slice { .. }
            | Op::Pad { .. }
            | Op::Concat { .. }
            | Op::Gather { .. }
            | Op::ScatterAdd { .. }
            | Op::OneHot { .. } => OpClass::Movement,
            Op::MatMul { .. } => OpClass::MatMul,
            Op::Conv2d(_) | Op::Conv2dInputGrad { .. } | Op::Conv2dWeightGrad { .. } => {
                OpClass::Conv
            }
            Op::MaxPool2d(_)
            | Op::MaxPool2dGrad(_)
            | Op::AvgPool2d(_)
            | Op::AvgPool2dGrad { .. } => OpClass::Pool,
            Op::RandomUniform { .. } | Op::RandomBernoulli { .. } => OpClass::Random,
        }
    }

    /// Whether the node is a sink (`output`, `update`): it may have no users.
    pub fn is_sink(&self) -> bool {
        self.class() == OpClass::Sink
    }

    /// Whether the node is a source (no operands).
    pub fn is_source(&self) -> bool {
        self.class() == OpClass::Source
    }

    /// The name of a named source or sink (`input`, `param`, `state`, `output`,
    /// `update`'s target).
    pub fn symbol(&self) -> Option<&str> {
        match self {
            Op::Input { name, .. }
            | Op::Param { name, .. }
            | Op::State { name, .. }
            | Op::Output { name } => Some(name),
            Op::Update { target } => Some(target),
            _ => None,
        }
    }
}
