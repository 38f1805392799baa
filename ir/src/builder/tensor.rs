//! The methods of [`Tensor`]: one per primitive op, plus the small conveniences
//! a PyTorch user expects (`t()`, `flatten`, `unsqueeze`, scalar operands).
//!
//! Every method is `#[track_caller]`, so a mistake is reported at the user's line.
//! Axes may be negative (`-1` is the last), as in PyTorch.

use super::{GraphBuilder, Tensor};
use crate::dtype::DType;
use crate::error::{SourceLoc, TypeError};
use crate::id::NodeId;
use crate::literal::Float;
use crate::op::{BinaryOp, ConvParams, Op, PoolParams, ReduceOp, UnaryOp};
use crate::shape::{Shape, TensorType};

/// One axis or several, possibly negative: `1`, `-1`, `[0, 2]`, `&[0, 1][..]`.
pub trait Axes {
    fn to_axes(&self) -> Vec<i32>;
}

impl Axes for i32 {
    fn to_axes(&self) -> Vec<i32> {
        vec![*self]
    }
}

impl<const N: usize> Axes for [i32; N] {
    fn to_axes(&self) -> Vec<i32> {
        self.to_vec()
    }
}

impl Axes for &[i32] {
    fn to_axes(&self) -> Vec<i32> {
        self.to_vec()
    }
}

impl Axes for Vec<i32> {
    fn to_axes(&self) -> Vec<i32> {
        self.clone()
    }
}

macro_rules! unary_methods {
    ($($(#[$doc:meta])* $method:ident => $op:ident),* $(,)?) => {
        $(
            $(#[$doc])*
            #[track_caller]
            pub fn $method(self) -> Tensor<'g> {
                self.unary(UnaryOp::$op, SourceLoc::caller())
            }
        )*
    };
}

macro_rules! binary_methods {
    ($($(#[$doc:meta])* $method:ident => $op:ident),* $(,)?) => {
        $(
            $(#[$doc])*
            #[track_caller]
            pub fn $method(self, other: Tensor<'g>) -> Tensor<'g> {
                self.binary(BinaryOp::$op, other, SourceLoc::caller())
            }
        )*
    };
}

// `add`, `sub`, `mul`, `div`, `neg`, `eq` and `ne` are inherent methods as well
// as operators: the methods broadcast and record errors the same way and read
// well in chains (`x.mul(w).add(b)`).
#[allow(clippy::should_implement_trait)]
impl<'g> Tensor<'g> {
    /// The builder this tensor belongs to.
    pub fn builder(self) -> &'g GraphBuilder {
        self.b
    }

    /// The node id, or `None` if the tensor is poisoned by an earlier mistake.
    pub fn id(self) -> Option<NodeId> {
        self.id
    }

    /// The tensor's type (`f32[]` for a poisoned tensor).
    pub fn ty(self) -> TensorType {
        match self.id {
            Some(id) => self.b.ty_of(id),
            None => TensorType::f32(Shape::scalar()),
        }
    }

    pub fn shape(self) -> Shape {
        self.ty().shape
    }

    /// The dimensions as a vector.
    pub fn dims(self) -> Vec<usize> {
        self.ty().shape.0
    }

    pub fn dtype(self) -> DType {
        self.ty().dtype
    }

    pub fn rank(self) -> usize {
        self.ty().shape.rank()
    }

    /// This tensor if it has rank `rank`; otherwise records a mistake naming
    /// `what` (a layer, say) at the caller's line and returns a poisoned tensor.
    /// Layers call it before indexing `dims()`.
    #[track_caller]
    pub fn expect_rank(self, rank: usize, what: &str) -> Tensor<'g> {
        if self.id.is_none() || self.rank() == rank {
            return self;
        }
        let err = TypeError::Shape(format!(
            "{what} expects a rank-{rank} input, found {}",
            self.ty()
        ));
        self.b.record(what, &[self.ty()], SourceLoc::caller(), err);
        self.b.poisoned()
    }

    /// Gives the node a human name (shown as `; name` in the text form).
    pub fn named(self, name: &str) -> Tensor<'g> {
        if let Some(id) = self.id {
            self.b.set_name(id, name);
        }
        self
    }

    // ----- elementwise ----------------------------------------------------------

    unary_methods! {
        /// `-x`.
        neg => Neg,
        exp => Exp,
        /// Natural logarithm.
        log => Log,
        sqrt => Sqrt,
        /// `1/sqrt(x)`.
        rsqrt => Rsqrt,
        /// `1/x`.
        recip => Recip,
        abs => Abs,
        /// -1, 0 or 1.
        sign => Sign,
        tanh => Tanh,
        sigmoid => Sigmoid,
        relu => Relu,
        erf => Erf,
        sin => Sin,
        cos => Cos,
        /// Heaviside step: 1 where `x > 0`, else 0.
        step => Step,
    }

    binary_methods! {
        /// `self + other`, broadcasting.
        add => Add,
        /// `self - other`, broadcasting.
        sub => Sub,
        /// `self * other`, broadcasting.
        mul => Mul,
        /// `self / other`, broadcasting.
        div => Div,
        /// `self ^ other`, broadcasting.
        pow => Pow,
        /// Elementwise maximum, broadcasting.
        maximum => Max,
        /// Elementwise minimum, broadcasting.
        minimum => Min,
        /// `self < other` as `f32` 0/1.
        lt => Lt,
        /// `self <= other` as `f32` 0/1.
        le => Le,
        /// `self > other` as `f32` 0/1.
        gt => Gt,
        /// `self >= other` as `f32` 0/1.
        ge => Ge,
        /// `self == other` as `f32` 0/1.
        eq => Eq,
        /// `self != other` as `f32` 0/1.
        ne => Ne,
    }

    /// `self ^ p` for a scalar exponent.
    #[track_caller]
    pub fn powf(self, p: f32) -> Tensor<'g> {
        let loc = SourceLoc::caller();
        let e = self.b.scalar_of(self.dtype(), p, loc);
        self.binary(BinaryOp::Pow, e, loc)
    }

    /// The same values, but no gradient flows back through them (PyTorch's
    /// `detach`, JAX's `stop_gradient`).
    #[track_caller]
    pub fn detach(self) -> Tensor<'g> {
        self.b
            .add_at(Op::StopGradient, &[self], SourceLoc::caller())
    }

    /// Converts to `dtype`.
    #[track_caller]
    pub fn cast(self, dtype: DType) -> Tensor<'g> {
        self.b
            .add_at(Op::Cast { to: dtype }, &[self], SourceLoc::caller())
    }

    /// `where(self != 0, a, b)`, broadcasting all three.
    #[track_caller]
    pub fn select(self, if_true: Tensor<'g>, if_false: Tensor<'g>) -> Tensor<'g> {
        let loc = SourceLoc::caller();
        let Some(shape) = self
            .b
            .broadcast_shape("where", &[self, if_true, if_false], loc)
        else {
            return self.b.poisoned();
        };
        let c = self.broadcast_at(&shape, loc);
        let a = if_true.broadcast_at(&shape, loc);
        let f = if_false.broadcast_at(&shape, loc);
        self.b.add_at(Op::Where, &[c, a, f], loc)
    }

    // ----- reductions -------------------------------------------------------------

    /// Sum over `axes`, dropping them.
    #[track_caller]
    pub fn sum(self, axes: impl Axes) -> Tensor<'g> {
        self.reduce(ReduceOp::Sum, axes.to_axes(), false, SourceLoc::caller())
    }

    /// Sum over `axes`, keeping them as size 1.
    #[track_caller]
    pub fn sum_keepdim(self, axes: impl Axes) -> Tensor<'g> {
        self.reduce(ReduceOp::Sum, axes.to_axes(), true, SourceLoc::caller())
    }

    /// Mean over `axes`, dropping them.
    #[track_caller]
    pub fn mean(self, axes: impl Axes) -> Tensor<'g> {
        self.reduce(ReduceOp::Mean, axes.to_axes(), false, SourceLoc::caller())
    }

    /// Mean over `axes`, keeping them as size 1.
    #[track_caller]
    pub fn mean_keepdim(self, axes: impl Axes) -> Tensor<'g> {
        self.reduce(ReduceOp::Mean, axes.to_axes(), true, SourceLoc::caller())
    }

    /// Maximum over `axes`, dropping them.
    #[track_caller]
    pub fn max(self, axes: impl Axes) -> Tensor<'g> {
        self.reduce(ReduceOp::Max, axes.to_axes(), false, SourceLoc::caller())
    }

    /// Maximum over `axes`, keeping them as size 1.
    #[track_caller]
    pub fn max_keepdim(self, axes: impl Axes) -> Tensor<'g> {
        self.reduce(ReduceOp::Max, axes.to_axes(), true, SourceLoc::caller())
    }

    /// Minimum over `axes`, dropping them.
    #[track_caller]
    pub fn min(self, axes: impl Axes) -> Tensor<'g> {
        self.reduce(ReduceOp::Min, axes.to_axes(), false, SourceLoc::caller())
    }

    /// Minimum over `axes`, keeping them as size 1.
    #[track_caller]
    pub fn min_keepdim(self, axes: impl Axes) -> Tensor<'g> {
        self.reduce(ReduceOp::Min, axes.to_axes(), true, SourceLoc::caller())
    }

    /// Sum of all elements (a scalar).
    #[track_caller]
    pub fn sum_all(self) -> Tensor<'g> {
        let axes = (0..self.rank() as i32).collect();
        self.reduce(ReduceOp::Sum, axes, false, SourceLoc::caller())
    }

    /// Mean of all elements (a scalar).
    #[track_caller]
    pub fn mean_all(self) -> Tensor<'g> {
        let axes = (0..self.rank() as i32).collect();
        self.reduce(ReduceOp::Mean, axes, false, SourceLoc::caller())
    }

    /// Index of the maximum along `axis` (`i32`), dropping the axis.
    #[track_caller]
    pub fn argmax(self, axis: i32) -> Tensor<'g> {
        let loc = SourceLoc::caller();
        match self.b.axis("argmax", self, axis, loc) {
            Some(axis) => self.b.add_at(
                Op::ArgMax {
                    axis,
                    keepdims: false,
                },
                &[self],
                loc,
            ),
            None => self.b.poisoned(),
        }
    }

    // ----- movement -----------------------------------------------------------------

    /// Same elements, new shape (row-major order).
    #[track_caller]
    pub fn reshape(self, shape: &[usize]) -> Tensor<'g> {
        self.b.add_at(
            Op::Reshape {
                shape: Shape::from(shape),
            },
            &[self],
            SourceLoc::caller(),
        )
    }

    /// Collapses dims `start_dim..` into one (`x.flatten(1)` keeps the batch).
    #[track_caller]
    pub fn flatten(self, start_dim: i32) -> Tensor<'g> {
        let loc = SourceLoc::caller();
        let Some(start) = self.b.axis("flatten", self, start_dim, loc) else {
            return self.b.poisoned();
        };
        let dims = self.dims();
        let mut shape = dims[..start].to_vec();
        shape.push(dims[start..].iter().product());
        self.b.add_at(
            Op::Reshape {
                shape: Shape(shape),
            },
            &[self],
            loc,
        )
    }

    /// Inserts a size-1 dim at `axis` (`-1` appends).
    #[track_caller]
    pub fn unsqueeze(self, axis: i32) -> Tensor<'g> {
        let loc = SourceLoc::caller();
        let rank = self.rank() as i64;
        let a = if axis < 0 {
            axis as i64 + rank + 1
        } else {
            axis as i64
        };
        if self.id.is_some() && !(0..=rank).contains(&a) {
            let err = TypeError::Attribute(format!(
                "unsqueeze axis {axis} is out of range for rank {rank}"
            ));
            self.b.record("unsqueeze", &[self.ty()], loc, err);
            return self.b.poisoned();
        }
        let mut dims = self.dims();
        dims.insert(a.clamp(0, rank) as usize, 1);
        self.b
            .add_at(Op::Reshape { shape: Shape(dims) }, &[self], loc)
    }

    /// Removes the size-1 dim at `axis`.
    #[track_caller]
    pub fn squeeze(self, axis: i32) -> Tensor<'g> {
        let loc = SourceLoc::caller();
        let Some(a) = self.b.axis("squeeze", self, axis, loc) else {
            return self.b.poisoned();
        };
        let mut dims = self.dims();
        if dims[a] != 1 {
            let err = TypeError::Shape(format!("cannot squeeze axis {axis} of size {}", dims[a]));
            self.b.record("squeeze", &[self.ty()], loc, err);
            return self.b.poisoned();
        }
        dims.remove(a);
        self.b
            .add_at(Op::Reshape { shape: Shape(dims) }, &[self], loc)
    }

    /// Reorders dims: result dim `i` is this tensor's dim `perm[i]`.
    #[track_caller]
    pub fn permute(self, perm: &[usize]) -> Tensor<'g> {
        self.b.add_at(
            Op::Permute {
                perm: perm.to_vec(),
            },
            &[self],
            SourceLoc::caller(),
        )
    }

    /// Swaps two dims.
    #[track_caller]
    pub fn transpose(self, a: i32, b: i32) -> Tensor<'g> {
        let loc = SourceLoc::caller();
        let (Some(a), Some(b)) = (
            self.b.axis("transpose", self, a, loc),
            self.b.axis("transpose", self, b, loc),
        ) else {
            return self.b.poisoned();
        };
        let mut perm: Vec<usize> = (0..self.rank()).collect();
        perm.swap(a, b);
        self.b.add_at(Op::Permute { perm }, &[self], loc)
    }

    /// Swaps the last two dims (the matrix transpose).
    #[track_caller]
    pub fn t(self) -> Tensor<'g> {
        let loc = SourceLoc::caller();
        if self.id.is_some() && self.rank() < 2 {
            let err = TypeError::Shape(format!("t() needs rank >= 2, found {}", self.ty()));
            self.b.record("t", &[self.ty()], loc, err);
            return self.b.poisoned();
        }
        let mut perm: Vec<usize> = (0..self.rank()).collect();
        let r = perm.len();
        if r >= 2 {
            perm.swap(r - 2, r - 1);
        }
        self.b.add_at(Op::Permute { perm }, &[self], loc)
    }

    /// numpy broadcasting to `shape`.
    #[track_caller]
    pub fn broadcast_to(self, shape: &[usize]) -> Tensor<'g> {
        self.broadcast_at(&Shape::from(shape), SourceLoc::caller())
    }

    /// Elements `start..end` along `axis`.
    #[track_caller]
    pub fn slice(self, axis: i32, start: usize, end: usize) -> Tensor<'g> {
        self.slice_at(axis, start, end, 1, SourceLoc::caller())
    }

    /// Elements `start, start+step, ...` below `end` along `axis`.
    #[track_caller]
    pub fn slice_step(self, axis: i32, start: usize, end: usize, step: usize) -> Tensor<'g> {
        self.slice_at(axis, start, end, step, SourceLoc::caller())
    }

    /// `len` elements from `start` along `axis` (PyTorch's `narrow`).
    #[track_caller]
    pub fn narrow(self, axis: i32, start: usize, len: usize) -> Tensor<'g> {
        let loc = SourceLoc::caller();
        let Some(end) = start.checked_add(len) else {
            let err = TypeError::Attribute(format!("narrow from {start} by {len} overflows"));
            self.b.record("slice", &[self.ty()], loc, err);
            return self.b.poisoned();
        };
        self.slice_at(axis, start, end, 1, loc)
    }

    /// Pads `axis` with `low` values before and `high` after.
    #[track_caller]
    pub fn pad(self, axis: i32, low: usize, high: usize, value: f32) -> Tensor<'g> {
        self.pad_interior(axis, low, high, 0, value)
    }

    /// Pads `axis` before, after and between elements (see [`Op::Pad`]).
    #[track_caller]
    pub fn pad_interior(
        self,
        axis: i32,
        low: usize,
        high: usize,
        interior: usize,
        value: f32,
    ) -> Tensor<'g> {
        let loc = SourceLoc::caller();
        match self.b.axis("pad", self, axis, loc) {
            Some(axis) => {
                let op = Op::Pad {
                    axis,
                    low,
                    high,
                    interior,
                    value: Float(value),
                };
                self.b.add_at(op, &[self], loc)
            }
            None => self.b.poisoned(),
        }
    }

    /// Rows of `self` picked by `indices` along `axis` (PyTorch's `index_select`,
    /// numpy's `take`; an embedding lookup is `table.index_select(0, ids)`).
    #[track_caller]
    pub fn index_select(self, axis: i32, indices: Tensor<'g>) -> Tensor<'g> {
        let loc = SourceLoc::caller();
        match self.b.axis("gather", self, axis, loc) {
            Some(axis) => self.b.add_at(Op::Gather { axis }, &[self, indices], loc),
            None => self.b.poisoned(),
        }
    }

    /// The adjoint of `index_select`: sums slices of `self` into a tensor with
    /// `size` entries along `axis`, at the positions `indices` names.
    #[track_caller]
    pub fn scatter_add(self, axis: usize, indices: Tensor<'g>, size: usize) -> Tensor<'g> {
        self.b.add_at(
            Op::ScatterAdd { axis, size },
            &[self, indices],
            SourceLoc::caller(),
        )
    }

    /// One-hot encoding of `i32` indices: appends a dim of size `depth`.
    #[track_caller]
    pub fn one_hot(self, depth: usize) -> Tensor<'g> {
        self.b
            .add_at(Op::OneHot { depth }, &[self], SourceLoc::caller())
    }

    // ----- linear algebra ---------------------------------------------------------------

    /// Matrix product. A rank-2 right operand is applied to the last dim of a
    /// higher-rank left operand (as PyTorch's `x @ W`, done as one GEMM);
    /// otherwise batch dims broadcast.
    #[track_caller]
    pub fn matmul(self, rhs: Tensor<'g>) -> Tensor<'g> {
        self.matmul_at(rhs, false, false, SourceLoc::caller())
    }

    /// Matrix product with either operand's last two dims transposed first
    /// (costs a stride, never a copy).
    #[track_caller]
    pub fn matmul_t(self, rhs: Tensor<'g>, transpose_lhs: bool, transpose_rhs: bool) -> Tensor<'g> {
        self.matmul_at(rhs, transpose_lhs, transpose_rhs, SourceLoc::caller())
    }

    /// 2-D convolution (NCHW input, OIHW weight), no bias.
    #[track_caller]
    pub fn conv2d(self, weight: Tensor<'g>, params: ConvParams) -> Tensor<'g> {
        self.b
            .add_at(Op::Conv2d(params), &[self, weight], SourceLoc::caller())
    }

    /// Max pooling, NCHW.
    #[track_caller]
    pub fn max_pool2d(self, params: PoolParams) -> Tensor<'g> {
        self.b
            .add_at(Op::MaxPool2d(params), &[self], SourceLoc::caller())
    }

    /// Average pooling, NCHW.
    #[track_caller]
    pub fn avg_pool2d(self, params: PoolParams) -> Tensor<'g> {
        self.b
            .add_at(Op::AvgPool2d(params), &[self], SourceLoc::caller())
    }

    // ----- shared implementations ---------------------------------------------------------

    pub(crate) fn unary(self, op: UnaryOp, loc: SourceLoc) -> Tensor<'g> {
        self.b.add_at(Op::Unary(op), &[self], loc)
    }

    pub(crate) fn binary(self, op: BinaryOp, other: Tensor<'g>, loc: SourceLoc) -> Tensor<'g> {
        let Some(shape) = self.b.broadcast_shape(op.name(), &[self, other], loc) else {
            return self.b.poisoned();
        };
        let (x, y) = (
            self.broadcast_at(&shape, loc),
            other.broadcast_at(&shape, loc),
        );
        self.b.add_at(Op::Binary(op), &[x, y], loc)
    }

    /// `self op value` with the scalar turned into a constant of this dtype.
    pub(crate) fn binary_scalar(
        self,
        op: BinaryOp,
        value: f32,
        scalar_first: bool,
        loc: SourceLoc,
    ) -> Tensor<'g> {
        if self.id.is_none() {
            return self;
        }
        let s = self.b.scalar_of(self.dtype(), value, loc);
        if scalar_first {
            s.binary(op, self, loc)
        } else {
            self.binary(op, s, loc)
        }
    }

    /// A broadcast node unless the shape already matches.
    pub(crate) fn broadcast_at(self, shape: &Shape, loc: SourceLoc) -> Tensor<'g> {
        if self.id.is_none() || self.shape() == *shape {
            return self;
        }
        self.b.add_at(
            Op::Broadcast {
                shape: shape.clone(),
            },
            &[self],
            loc,
        )
    }

    fn reduce(self, op: ReduceOp, axes: Vec<i32>, keepdims: bool, loc: SourceLoc) -> Tensor<'g> {
        let mut norm = Vec::with_capacity(axes.len());
        for a in axes {
            match self.b.axis(op.name(), self, a, loc) {
                Some(a) => norm.push(a),
                None => return self.b.poisoned(),
            }
        }
        norm.sort_unstable();
        norm.dedup();
        self.b.add_at(
            Op::Reduce {
                op,
                axes: norm,
                keepdims,
            },
            &[self],
            loc,
        )
    }

    fn slice_at(
        self,
        axis: i32,
        start: usize,
        end: usize,
        step: usize,
        loc: SourceLoc,
    ) -> Tensor<'g> {
        match self.b.axis("slice", self, axis, loc) {
            Some(axis) => self.b.add_at(
                Op::Slice {
                    axis,
                    start,
                    end,
                    step,
                },
                &[self],
                loc,
            ),
            None => self.b.poisoned(),
        }
    }

    fn matmul_at(self, rhs: Tensor<'g>, tl: bool, tr: bool, loc: SourceLoc) -> Tensor<'g> {
        if self.id.is_none() || rhs.id.is_none() {
            return self.b.poisoned();
        }
        let (ls, rs) = (self.dims(), rhs.dims());
        let op = Op::MatMul {
            transpose_lhs: tl,
            transpose_rhs: tr,
        };
        if ls.len() < 2 || rs.len() < 2 {
            let err = TypeError::Shape(format!(
                "matmul needs operands of rank >= 2, found {} and {} (use unsqueeze)",
                self.ty(),
                rhs.ty()
            ));
            self.b.record("matmul", &[self.ty(), rhs.ty()], loc, err);
            return self.b.poisoned();
        }
        if ls.len() > 2 && rs.len() == 2 && !tl {
            // [.., k] x [k, n]: fold the leading dims into one GEMM.
            let k = ls[ls.len() - 1];
            let rows: usize = ls[..ls.len() - 1].iter().product();
            let flat = self.b.add_at(
                Op::Reshape {
                    shape: Shape(vec![rows, k]),
                },
                &[self],
                loc,
            );
            let prod = self.b.add_at(op, &[flat, rhs], loc);
            if prod.id.is_none() {
                return prod;
            }
            let mut out = ls[..ls.len() - 1].to_vec();
            out.push(*prod.dims().last().unwrap_or(&0));
            return self
                .b
                .add_at(Op::Reshape { shape: Shape(out) }, &[prod], loc);
        }
        // Broadcast batch dims numpy-style.
        let (lb, rb) = (
            Shape(ls[..ls.len() - 2].to_vec()),
            Shape(rs[..rs.len() - 2].to_vec()),
        );
        let Some(batch) = lb.broadcast_with(&rb) else {
            let err = TypeError::Shape(format!(
                "batch dimensions {lb} and {rb} do not broadcast together"
            ));
            self.b.record("matmul", &[self.ty(), rhs.ty()], loc, err);
            return self.b.poisoned();
        };
        let full = |t: Tensor<'g>, d: &[usize]| {
            let mut s = batch.0.clone();
            s.extend_from_slice(&d[d.len() - 2..]);
            t.broadcast_at(&Shape(s), loc)
        };
        let (l, r) = (full(self, &ls), full(rhs, &rs));
        self.b.add_at(op, &[l, r], loc)
    }
}
