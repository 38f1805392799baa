//! Helpers for the runtime's tests: tiny hand-built plans over strided views,
//! random data, and comparisons against the reference evaluator.
//!
//! A test describes one kernel step: its operands (each a dense base tensor
//! fed as an input, plus a strided view carved out of it: permuted,
//! broadcast with stride 0, sliced with an offset and a step), its output
//! layout (dense or strided inside a larger temporary) and optionally a
//! scratch temporary. [`run_one`] builds the plan, runs it, and returns the
//! output; [`Operand::logical`] gives the dense value the evaluator sees.

#![allow(dead_code)]

use kiln_ir::eval::{Array, Value};
use kiln_ir::plan::{Kernel, Plan, Region, Slot, Step, Temp, View};
use kiln_ir::{DType, NodeId, Shape, TensorType};
use kiln_runtime::{Executable, ParamStore, RuntimeError, TensorRef};

/// splitmix64: a small deterministic generator for layouts and data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n == 0`).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    pub fn coin(&mut self, p_percent: u64) -> bool {
        self.next() % 100 < p_percent
    }

    /// A non-zero float with magnitude in `[0.25, 2)` and a random sign.
    pub fn nonzero(&mut self) -> f32 {
        let m = 0.25 + 1.75 * ((self.next() >> 40) as f32 / (1u64 << 24) as f32);
        if self.coin(50) { m } else { -m }
    }

    pub fn small_int(&mut self) -> i32 {
        self.below(19) as i32 - 9
    }

    pub fn perm(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            p.swap(i, self.below(i + 1));
        }
        p
    }
}

/// Random data for a dense tensor.
pub fn random_value(ty: &TensorType, rng: &mut Rng) -> Value<f32> {
    let n = ty.shape.numel();
    match ty.dtype {
        DType::F32 => Value::Float(Array {
            shape: ty.shape.clone(),
            data: (0..n).map(|_| rng.nonzero()).collect(),
        }),
        DType::I32 => Value::Int(Array {
            shape: ty.shape.clone(),
            data: (0..n).map(|_| rng.small_int()).collect(),
        }),
    }
}

/// A strided window: element offset, logical shape, strides.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewSpec {
    pub offset: usize,
    pub shape: Vec<usize>,
    pub strides: Vec<usize>,
}

impl ViewSpec {
    pub fn dense(shape: &[usize]) -> ViewSpec {
        ViewSpec {
            offset: 0,
            shape: shape.to_vec(),
            strides: Shape::from(shape).strides(),
        }
    }

    pub fn view(&self, region: Region, dtype: DType) -> View {
        View {
            region,
            dtype,
            offset: self.offset,
            shape: Shape::from(self.shape.clone()),
            strides: self.strides.clone(),
        }
    }
}

/// How strange a random layout may be.
#[derive(Clone, Copy, Debug)]
pub struct LayoutKinds {
    pub permute: bool,
    pub broadcast: bool,
    pub slice: bool,
}

pub const ANY_LAYOUT: LayoutKinds = LayoutKinds {
    permute: true,
    broadcast: true,
    slice: true,
};

pub const NO_BROADCAST: LayoutKinds = LayoutKinds {
    permute: true,
    broadcast: false,
    slice: true,
};

/// A random layout for a tensor of `shape`: returns the dense base shape it
/// lives in and the view into that base.
pub fn random_layout(shape: &[usize], kinds: LayoutKinds, rng: &mut Rng) -> (Vec<usize>, ViewSpec) {
    let r = shape.len();
    // Storage order: base dim j holds logical dim perm[j].
    let perm = if kinds.permute && rng.coin(40) {
        rng.perm(r)
    } else {
        (0..r).collect()
    };
    let mut size = vec![0; r];
    let mut start = vec![0; r];
    let mut step = vec![1; r];
    let mut bcast = vec![false; r];
    for d in 0..r {
        if kinds.broadcast && shape[d] > 1 && rng.coin(15) {
            bcast[d] = true;
            size[d] = 1;
        } else if kinds.slice && rng.coin(25) {
            start[d] = rng.below(2);
            step[d] = 1 + rng.below(2);
            size[d] = start[d] + shape[d].saturating_sub(1) * step[d] + 1 + rng.below(2);
        } else {
            size[d] = shape[d];
        }
    }
    let base: Vec<usize> = perm.iter().map(|&d| size[d]).collect();
    let base_strides = Shape::from(base.clone()).strides();
    let mut strides = vec![0; r];
    let mut offset = 0;
    for (j, &d) in perm.iter().enumerate() {
        strides[d] = if bcast[d] {
            0
        } else {
            base_strides[j] * step[d]
        };
        offset += start[d] * base_strides[j];
    }
    if shape.contains(&0) {
        offset = 0;
    }
    (
        base,
        ViewSpec {
            offset,
            shape: shape.to_vec(),
            strides,
        },
    )
}

/// An operand: a dense base fed as an input, and the view the step reads.
#[derive(Clone, Debug)]
pub struct Operand {
    pub base: Value<f32>,
    pub view: ViewSpec,
}

impl Operand {
    /// A random operand of type `ty` with a random layout.
    pub fn random(ty: &TensorType, kinds: LayoutKinds, rng: &mut Rng) -> Operand {
        let (base_shape, view) = random_layout(ty.shape.dims(), kinds, rng);
        let base = random_value(&TensorType::new(ty.dtype, base_shape), rng);
        Operand { base, view }
    }

    /// Random valid indices in `0..bound` with a random layout.
    pub fn indices(shape: &[usize], bound: usize, kinds: LayoutKinds, rng: &mut Rng) -> Operand {
        let mut op = Operand::random(&TensorType::i32(shape), kinds, rng);
        if let Value::Int(b) = &mut op.base {
            for x in &mut b.data {
                *x = rng.below(bound) as i32;
            }
        }
        op
    }

    pub fn dtype(&self) -> DType {
        self.base.dtype()
    }

    pub fn ty(&self) -> TensorType {
        TensorType::new(self.dtype(), Shape::from(self.view.shape.clone()))
    }

    /// The dense value the view shows.
    pub fn logical(&self) -> Value<f32> {
        let pos = positions(&self.view);
        let shape = Shape::from(self.view.shape.clone());
        match &self.base {
            Value::Float(b) => Value::Float(Array {
                shape,
                data: pos.iter().map(|&p| b.data[p]).collect(),
            }),
            Value::Int(b) => Value::Int(Array {
                shape,
                data: pos.iter().map(|&p| b.data[p]).collect(),
            }),
        }
    }
}

/// The element index of every logical element of a view, row-major.
pub fn positions(v: &ViewSpec) -> Vec<usize> {
    let n: usize = v.shape.iter().product();
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0; v.shape.len()];
    for _ in 0..n {
        out.push(
            v.offset
                + idx
                    .iter()
                    .zip(&v.strides)
                    .map(|(i, s)| i * s)
                    .sum::<usize>(),
        );
        for d in (0..idx.len()).rev() {
            idx[d] += 1;
            if idx[d] < v.shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

/// Where the step writes.
#[derive(Clone, Debug)]
pub struct OutLayout {
    /// Elements of the temporary holding the output.
    pub temp_elems: usize,
    pub view: ViewSpec,
}

impl OutLayout {
    pub fn dense(shape: &[usize]) -> OutLayout {
        OutLayout {
            temp_elems: shape.iter().product(),
            view: ViewSpec::dense(shape),
        }
    }

    /// Dense, or permuted/sliced inside a larger temporary.
    pub fn random(shape: &[usize], rng: &mut Rng) -> OutLayout {
        if rng.coin(50) {
            return OutLayout::dense(shape);
        }
        let (base, view) = random_layout(shape, NO_BROADCAST, rng);
        OutLayout {
            temp_elems: base.iter().product(),
            view,
        }
    }
}

/// A plan of one step: operands as inputs `in0, in1, ..`, the output in
/// temporary 0 (output name `out`), an optional scratch temporary.
pub fn one_step_plan(
    kernel: Kernel,
    operands: &[Operand],
    out_dtype: DType,
    out: &OutLayout,
    scratch: Option<usize>,
) -> Plan {
    let inputs: Vec<Slot> = operands
        .iter()
        .enumerate()
        .map(|(i, o)| Slot {
            name: format!("in{i}"),
            ty: o.base.ty(),
            init: None,
        })
        .collect();
    let views: Vec<View> = operands
        .iter()
        .enumerate()
        .map(|(i, o)| o.view.view(Region::Input(i as u32), o.dtype()))
        .collect();
    let mut temps = vec![Temp {
        ty: TensorType::new(out_dtype, [out.temp_elems]),
        offset: 0,
        node: Some(NodeId(1)),
    }];
    let scratch_offset = out.temp_elems.div_ceil(16) * 16;
    let mut arena = out.temp_elems;
    let scratch_view = scratch.map(|n| {
        temps.push(Temp {
            ty: TensorType::f32([n]),
            offset: scratch_offset,
            node: None,
        });
        arena = scratch_offset + n;
        View::dense(Region::Temp(1), &TensorType::f32([n]))
    });
    let out_view = out.view.view(Region::Temp(0), out_dtype);
    Plan {
        name: "one_step".into(),
        inputs,
        params: vec![],
        states: vec![],
        consts: vec![],
        temps,
        arena_elems: arena,
        steps: vec![Step {
            kernel,
            inputs: views,
            output: out_view.clone(),
            scratch: scratch_view,
            node: Some(NodeId(1)),
        }],
        outputs: vec![("out".into(), out_view)],
    }
}

/// Builds and runs a one-step plan; returns the output as a value.
pub fn run_one(
    kernel: Kernel,
    operands: &[Operand],
    out_dtype: DType,
    out: &OutLayout,
    scratch: Option<usize>,
) -> Result<Value<f32>, RuntimeError> {
    let plan = one_step_plan(kernel, operands, out_dtype, out, scratch);
    run_plan(plan, operands)
}

/// Runs `plan` whose inputs are `in0, in1, ..` fed with the operands' bases.
pub fn run_plan(plan: Plan, operands: &[Operand]) -> Result<Value<f32>, RuntimeError> {
    let mut exe = Executable::new(plan)?;
    let mut store = ParamStore::new();
    let names: Vec<String> = (0..operands.len()).map(|i| format!("in{i}")).collect();
    let feeds: Vec<(&str, TensorRef<'_>)> = operands
        .iter()
        .zip(&names)
        .map(|(o, n)| (n.as_str(), TensorRef::from(&o.base)))
        .collect();
    let outs = exe.run(&mut store, &feeds)?;
    Ok(outs.to_value("out").expect("the plan has an output `out`"))
}

/// Exact equality, NaN equal to NaN.
pub fn assert_exact(got: &Value<f32>, want: &Value<f32>, what: &str) {
    assert_eq!(got.ty(), want.ty(), "{what}: types differ");
    let (g, w) = (got.to_f64_vec(), want.to_f64_vec());
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        let same = (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits();
        assert!(
            same,
            "{what}: element {i}: got {a}, want {b}\n got {g:?}\nwant {w:?}"
        );
    }
}

/// `|got - want| <= rel * scale[i] + abs` elementwise, NaN equal to NaN.
pub fn assert_close(
    got: &Value<f32>,
    want: &Value<f32>,
    scale: &Value<f32>,
    rel: f64,
    abs: f64,
    what: &str,
) {
    assert_eq!(got.ty(), want.ty(), "{what}: types differ");
    let (g, w, s) = (got.to_f64_vec(), want.to_f64_vec(), scale.to_f64_vec());
    for i in 0..g.len() {
        let (a, b) = (g[i], w[i]);
        if a.is_nan() && b.is_nan() {
            continue;
        }
        let tol = rel * s[i].abs() + abs;
        assert!(
            (a - b).abs() <= tol || a == b,
            "{what}: element {i}: got {a}, want {b} (tolerance {tol})"
        );
    }
}

/// The value with every element's absolute value (for error bounds).
pub fn abs(v: &Value<f32>) -> Value<f32> {
    match v {
        Value::Float(a) => Value::Float(a.map(f32::abs)),
        Value::Int(a) => Value::Int(a.map(i32::wrapping_abs)),
    }
}
