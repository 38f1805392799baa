//! The lowered program the runtime executes: plain data, no behaviour.
//!
//! A [`Plan`] is a flat list of [`Step`]s. Each step runs one [`Kernel`] on
//! operand [`View`]s and writes one output view. A view is a strided window
//! (element offset, shape, element strides) into a [`Region`]: the caller's
//! input, a parameter or state tensor of the bound store, a constant of the
//! plan, or a temporary. Every temporary has a fixed offset in one arena, chosen
//! by the compiler's memory planner, so running a plan allocates nothing,
//! infers no shapes and hashes nothing: the compiler did all of that.
//!
//! Movement ops that only re-index (reshape of contiguous data, permute,
//! broadcast, strided slice) never become steps: they become views. The
//! `update` sinks become ordinary steps whose output view lies in the
//! parameter's or state's own region.
//!
//! The plan prints in the same conventions as the graph (see `Display`), so
//! compiled programs are snapshot-tested.

use crate::dtype::DType;
use crate::id::NodeId;
use crate::literal::{Float, Literal};
use crate::op::{BinaryOp, ConvParams, Init, PoolParams, ReduceOp, UnaryOp};
use crate::shape::{Shape, TensorType};
use std::fmt;

/// Where a view's elements live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Region {
    /// `plan.inputs[i]`, fed by the caller.
    Input(u32),
    /// `plan.params[i]`, in the bound parameter store.
    Param(u32),
    /// `plan.states[i]`, in the bound parameter store.
    State(u32),
    /// `plan.consts[i]`.
    Const(u32),
    /// `plan.temps[i]`, at its offset in the arena.
    Temp(u32),
}

/// A strided window into a region. Offsets and strides count elements (every
/// dtype is 4 bytes). A stride of 0 repeats an element (broadcast).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct View {
    pub region: Region,
    pub dtype: DType,
    pub offset: usize,
    pub shape: Shape,
    pub strides: Vec<usize>,
}

impl View {
    /// The whole of a region holding a dense tensor of type `ty`.
    pub fn dense(region: Region, ty: &TensorType) -> View {
        View {
            region,
            dtype: ty.dtype,
            offset: 0,
            strides: ty.shape.strides(),
            shape: ty.shape.clone(),
        }
    }

    pub fn ty(&self) -> TensorType {
        TensorType::new(self.dtype, self.shape.clone())
    }

    pub fn numel(&self) -> usize {
        self.shape.numel()
    }

    /// Whether the view covers `numel` consecutive elements in row-major order
    /// (size-1 dims may have any stride).
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1;
        for (&d, &s) in self.shape.0.iter().zip(&self.strides).rev() {
            if d != 1 && s != expected {
                return false;
            }
            expected *= d;
        }
        true
    }

    /// One past the largest element index the view touches, relative to the region.
    pub fn extent(&self) -> usize {
        if self.numel() == 0 {
            return self.offset;
        }
        self.offset
            + 1
            + self
                .shape
                .0
                .iter()
                .zip(&self.strides)
                .map(|(&d, &s)| (d - 1) * s)
                .sum::<usize>()
    }
}

/// A named tensor the plan reads or writes outside the arena.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    pub name: String,
    pub ty: TensorType,
    /// How a param or state is created when a session binds a fresh store.
    pub init: Option<Init>,
}

/// A temporary tensor in the arena.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Temp {
    pub ty: TensorType,
    /// Element offset in the arena.
    pub offset: usize,
    /// The graph node whose value this temporary holds (`None` for scratch).
    pub node: Option<NodeId>,
}

/// What a step computes. Shapes come from the step's views; a kernel carries
/// only what the views cannot say.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// `out = in0`, element by element through both views (materializes a view,
    /// or writes an update into its parameter).
    Copy,
    Unary(UnaryOp),
    Binary(BinaryOp),
    /// `out = in0 != 0 ? in1 : in2`.
    Where,
    /// Converts `in0`'s dtype to the output's.
    Cast,
    /// Reduces `in0` over `axes` (of the input); the output has the kept dims.
    Reduce {
        op: ReduceOp,
        axes: Vec<usize>,
    },
    ArgMax {
        axis: usize,
    },
    Pad {
        axis: usize,
        low: usize,
        interior: usize,
        value: Float,
    },
    /// Writes the inputs one after the other along `axis`.
    Concat {
        axis: usize,
    },
    Gather {
        axis: usize,
    },
    ScatterAdd {
        axis: usize,
    },
    OneHot,
    Iota {
        axis: usize,
    },
    /// Batched `out[.., m, n] = in0[.., m, k] · in1[.., k, n]`; transposes are
    /// already in the operand views' strides.
    MatMul,
    Conv2d(ConvParams),
    Conv2dInputGrad(ConvParams),
    Conv2dWeightGrad(ConvParams),
    MaxPool2d(PoolParams),
    MaxPool2dGrad(PoolParams),
    AvgPool2d(PoolParams),
    AvgPool2dGrad(PoolParams),
    /// In0 is the `i32` counter.
    RandomUniform {
        seed: u64,
    },
    RandomBernoulli {
        p: Float,
        seed: u64,
    },
}

impl Kernel {
    /// Whether the kernel computes each output element from the input elements
    /// at the same index only, so it may write its output over an input
    /// read through the identical view (the compiler's in-place aliasing and
    /// in-place updates rely on it; the runtime accepts such plans).
    pub fn is_elementwise(&self) -> bool {
        matches!(
            self,
            Kernel::Copy | Kernel::Unary(_) | Kernel::Binary(_) | Kernel::Where | Kernel::Cast
        )
    }

    /// The kernel's spelling in the plan text.
    pub fn name(&self) -> String {
        match self {
            Kernel::Copy => "copy".into(),
            Kernel::Unary(u) => u.name().into(),
            Kernel::Binary(b) => b.name().into(),
            Kernel::Where => "where".into(),
            Kernel::Cast => "cast".into(),
            Kernel::Reduce { op, .. } => op.name().into(),
            Kernel::ArgMax { .. } => "argmax".into(),
            Kernel::Pad { .. } => "pad".into(),
            Kernel::Concat { .. } => "concat".into(),
            Kernel::Gather { .. } => "gather".into(),
            Kernel::ScatterAdd { .. } => "scatter_add".into(),
            Kernel::OneHot => "one_hot".into(),
            Kernel::Iota { .. } => "iota".into(),
            Kernel::MatMul => "matmul".into(),
            Kernel::Conv2d(_) => "conv2d".into(),
            Kernel::Conv2dInputGrad(_) => "conv2d_input_grad".into(),
            Kernel::Conv2dWeightGrad(_) => "conv2d_weight_grad".into(),
            Kernel::MaxPool2d(_) => "max_pool2d".into(),
            Kernel::MaxPool2dGrad(_) => "max_pool2d_grad".into(),
            Kernel::AvgPool2d(_) => "avg_pool2d".into(),
            Kernel::AvgPool2dGrad(_) => "avg_pool2d_grad".into(),
            Kernel::RandomUniform { .. } => "random_uniform".into(),
            Kernel::RandomBernoulli { .. } => "random_bernoulli".into(),
        }
    }
}

/// One kernel call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub kernel: Kernel,
    pub inputs: Vec<View>,
    pub output: View,
    /// Scratch space in the arena the kernel may overwrite (im2col buffers).
    pub scratch: Option<View>,
    /// The graph node this step computes, for error messages and profiles.
    pub node: Option<NodeId>,
}

/// A compiled program. See the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub name: String,
    pub inputs: Vec<Slot>,
    pub params: Vec<Slot>,
    pub states: Vec<Slot>,
    pub consts: Vec<Literal>,
    pub temps: Vec<Temp>,
    /// Arena size in elements (4 bytes each).
    pub arena_elems: usize,
    pub steps: Vec<Step>,
    /// Named results: views read after the run.
    pub outputs: Vec<(String, View)>,
}

impl Plan {
    /// Arena size in bytes.
    pub fn arena_bytes(&self) -> usize {
        self.arena_elems * 4
    }

    /// Bytes all temporaries would take with no reuse.
    pub fn temp_bytes(&self) -> usize {
        self.temps.iter().map(|t| t.ty.size_bytes()).sum()
    }

    /// The names of the params and states the plan writes (its updates).
    pub fn updated(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .steps
            .iter()
            .filter_map(|s| match s.output.region {
                Region::Param(i) => Some(self.params[i as usize].name.as_str()),
                Region::State(i) => Some(self.states[i as usize].name.as_str()),
                _ => None,
            })
            .collect();
        names.dedup();
        names
    }

    fn region_name(&self, r: Region) -> String {
        match r {
            Region::Input(i) => format!("in\"{}\"", self.inputs[i as usize].name),
            Region::Param(i) => format!("param\"{}\"", self.params[i as usize].name),
            Region::State(i) => format!("state\"{}\"", self.states[i as usize].name),
            Region::Const(i) => format!("c{i}"),
            Region::Temp(i) => format!("t{i}"),
        }
    }

    fn region_type(&self, r: Region) -> Option<&TensorType> {
        match r {
            Region::Input(i) => self.inputs.get(i as usize).map(|s| &s.ty),
            Region::Param(i) => self.params.get(i as usize).map(|s| &s.ty),
            Region::State(i) => self.states.get(i as usize).map(|s| &s.ty),
            Region::Temp(i) => self.temps.get(i as usize).map(|t| &t.ty),
            Region::Const(_) => None,
        }
    }

    /// A view as text: the region's name alone when the view is the whole
    /// dense region, else `name[shape]{strides}+offset`.
    fn view_text(&self, v: &View) -> String {
        let name = self.region_name(v.region);
        let whole = v.offset == 0
            && v.is_contiguous()
            && self
                .region_type(v.region)
                .is_none_or(|t| t.shape == v.shape);
        if whole {
            return name;
        }
        let strides: Vec<String> = v.strides.iter().map(|s| s.to_string()).collect();
        let mut s = format!("{name}{}{{{}}}", v.shape, strides.join(","));
        if v.offset != 0 {
            s.push_str(&format!("+{}", v.offset));
        }
        s
    }
}

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())?;
        match self {
            Kernel::Reduce { axes, .. } => write!(f, " axes={axes:?}"),
            Kernel::ArgMax { axis }
            | Kernel::Concat { axis }
            | Kernel::Gather { axis }
            | Kernel::ScatterAdd { axis }
            | Kernel::Iota { axis } => write!(f, " axis={axis}"),
            Kernel::Pad {
                axis,
                low,
                interior,
                value,
            } => {
                write!(
                    f,
                    " axis={axis} low={low} interior={interior} value={value}"
                )
            }
            Kernel::Conv2d(p) | Kernel::Conv2dInputGrad(p) | Kernel::Conv2dWeightGrad(p) => write!(
                f,
                " stride={:?} padding={:?} dilation={:?} groups={}",
                p.stride, p.padding, p.dilation, p.groups
            ),
            Kernel::MaxPool2d(p)
            | Kernel::MaxPool2dGrad(p)
            | Kernel::AvgPool2d(p)
            | Kernel::AvgPool2dGrad(p) => {
                write!(
                    f,
                    " kernel={:?} stride={:?} padding={:?}",
                    p.kernel, p.stride, p.padding
                )
            }
            Kernel::RandomUniform { seed } => write!(f, " seed={seed}"),
            Kernel::RandomBernoulli { p, seed } => write!(f, " p={p} seed={seed}"),
            _ => Ok(()),
        }
    }
}

/// ```text
/// plan mlp {
///   arena 393216 bytes (temporaries 1179648 bytes without reuse)
///   input "x": f32[128,784]
///   param "fc1.weight": f32[784,256] init=kaiming_uniform(fan_in=784, gain=0.57735026)
///   c0: f32[] = 0.0
///   t0: f32[128,256] @0  ; %4
///   s0: t0 = matmul in"x", param"fc1.weight"  ; %4
///   output "loss" = t9
/// }
/// ```
impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "plan {} {{", self.name)?;
        writeln!(
            f,
            "  arena {} bytes (temporaries {} bytes without reuse)",
            self.arena_bytes(),
            self.temp_bytes()
        )?;
        for s in &self.inputs {
            writeln!(f, "  input \"{}\": {}", s.name, s.ty)?;
        }
        for (kind, slots) in [("param", &self.params), ("state", &self.states)] {
            for s in slots {
                write!(f, "  {kind} \"{}\": {}", s.name, s.ty)?;
                if let Some(init) = &s.init {
                    write!(f, " init={init}")?;
                }
                writeln!(f)?;
            }
        }
        for (i, c) in self.consts.iter().enumerate() {
            writeln!(f, "  c{i}: {} = {c}", c.ty())?;
        }
        for (i, t) in self.temps.iter().enumerate() {
            write!(f, "  t{i}: {} @{}", t.ty, t.offset * 4)?;
            match t.node {
                Some(n) => writeln!(f, "  ; {n}")?,
                None => writeln!(f, "  ; scratch")?,
            }
        }
        for (i, s) in self.steps.iter().enumerate() {
            let ins: Vec<String> = s.inputs.iter().map(|v| self.view_text(v)).collect();
            write!(f, "  s{i}: {} = {}", self.view_text(&s.output), s.kernel)?;
            if !ins.is_empty() {
                write!(f, " {}", ins.join(", "))?;
            }
            if let Some(scratch) = &s.scratch {
                write!(f, " scratch={}", self.view_text(scratch))?;
            }
            match s.node {
                Some(n) => writeln!(f, "  ; {n}")?,
                None => writeln!(f)?,
            }
        }
        for (name, v) in &self.outputs {
            writeln!(f, "  output \"{name}\" = {}", self.view_text(v))?;
        }
        write!(f, "}}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguity_ignores_unit_dims() {
        let v = View {
            region: Region::Temp(0),
            dtype: DType::F32,
            offset: 0,
            shape: Shape::from([2, 1, 3]),
            strides: vec![3, 7, 1],
        };
        assert!(v.is_contiguous());
        let t = View {
            strides: vec![1, 1, 2],
            shape: Shape::from([3, 1, 2]),
            ..v.clone()
        };
        assert!(!t.is_contiguous());
        assert_eq!(t.extent(), 1 + 2 + 2);
    }
}
