//! `run` allocates nothing once a session is loaded.
//!
//! A counting global allocator counts heap allocations of every thread made
//! during `Session::run` on a plan
//! that uses every kernel family, and on plans of large matmuls and
//! convolutions that take the packed GEMM (which packs into the arena), with
//! one thread and with two (the helper thread is spawned at load).

use kiln_ir::plan::{Kernel, Plan, Region, Slot, Step, Temp, View};
use kiln_ir::{
    BinaryOp, ConvParams, DType, Float, Init, PoolParams, ReduceOp, Shape, TensorType, UnaryOp,
};
use kiln_runtime::testing::{CountingAllocator, global_allocations};
use kiln_runtime::{Session, TensorRef};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Heap allocations by every thread while running `f`.
fn allocations_during(f: impl FnOnce()) -> usize {
    let before = global_allocations();
    f();
    global_allocations() - before
}

/// Appends temporaries and steps to a plan.
struct Builder {
    plan: Plan,
}

impl Builder {
    fn temp(&mut self, ty: TensorType) -> View {
        let i = self.plan.temps.len() as u32;
        let offset = self.plan.arena_elems.div_ceil(16) * 16;
        self.plan.arena_elems = offset + ty.shape.numel();
        self.plan.temps.push(Temp {
            ty: ty.clone(),
            offset,
            node: None,
        });
        View::dense(Region::Temp(i), &ty)
    }

    fn step(&mut self, kernel: Kernel, inputs: Vec<View>, out: TensorType) -> View {
        let output = self.temp(out);
        self.plan.steps.push(Step {
            kernel,
            inputs,
            output: output.clone(),
            scratch: None,
            node: None,
        });
        output
    }
}

fn slot(name: &str, ty: TensorType, init: Option<Init>) -> Slot {
    Slot {
        name: name.into(),
        ty,
        init,
    }
}

fn strided(v: &View, shape: &[usize], strides: &[usize]) -> View {
    View {
        shape: Shape::from(shape),
        strides: strides.to_vec(),
        ..v.clone()
    }
}

/// One step of (almost) every kernel, on small shapes.
fn every_kernel() -> Plan {
    let img = TensorType::f32([2, 3, 6, 6]);
    let mut b = Builder {
        plan: Plan {
            name: "every_kernel".into(),
            inputs: vec![
                slot("x", img.clone(), None),
                slot("idx", TensorType::i32([4]), None),
            ],
            params: vec![slot(
                "w",
                TensorType::f32([4, 3, 3, 3]),
                Some(Init::normal(0.0, 0.1)),
            )],
            states: vec![slot(
                "counter",
                TensorType::i32(Shape::scalar()),
                Some(Init::Zeros),
            )],
            consts: vec![],
            temps: vec![],
            arena_elems: 0,
            steps: vec![],
            outputs: vec![],
        },
    };
    let x = View::dense(Region::Input(0), &img);
    let idx = View::dense(Region::Input(1), &TensorType::i32([4]));
    let w = View::dense(Region::Param(0), &TensorType::f32([4, 3, 3, 3]));
    let counter = View::dense(Region::State(0), &TensorType::i32(Shape::scalar()));
    let m = strided(&x, &[6, 36], &[36, 1]); // x as a 6x36 matrix
    let f = |d: &[usize]| TensorType::f32(d.to_vec());
    let e = b.step(Kernel::Unary(UnaryOp::Tanh), vec![m.clone()], f(&[6, 36]));
    let row = strided(&x, &[6, 36], &[0, 1]);
    let s = b.step(
        Kernel::Binary(BinaryOp::Add),
        vec![e.clone(), row],
        f(&[6, 36]),
    );
    b.plan.steps.push(Step {
        kernel: Kernel::Binary(BinaryOp::Mul),
        inputs: vec![s.clone(), e.clone()],
        output: s.clone(),
        scratch: None,
        node: None,
    });
    let c = b.step(
        Kernel::Binary(BinaryOp::Gt),
        vec![s.clone(), e.clone()],
        f(&[6, 36]),
    );
    b.step(Kernel::Where, vec![c, s.clone(), e.clone()], f(&[6, 36]));
    b.step(Kernel::Cast, vec![e.clone()], TensorType::i32([6, 36]));
    b.step(
        Kernel::Copy,
        vec![strided(&m, &[36, 6], &[1, 36])],
        f(&[36, 6]),
    );
    b.step(
        Kernel::Reduce {
            op: ReduceOp::Sum,
            axes: vec![0],
        },
        vec![m.clone()],
        f(&[36]),
    );
    b.step(
        Kernel::Reduce {
            op: ReduceOp::Max,
            axes: vec![1],
        },
        vec![m.clone()],
        f(&[6]),
    );
    b.step(
        Kernel::ArgMax { axis: 1 },
        vec![m.clone()],
        TensorType::i32([6]),
    );
    let pad = Kernel::Pad {
        axis: 1,
        low: 1,
        interior: 1,
        value: Float(0.0),
    };
    b.step(pad, vec![m.clone()], f(&[6, 72]));
    b.step(
        Kernel::Concat { axis: 0 },
        vec![m.clone(), e.clone()],
        f(&[12, 36]),
    );
    let g = b.step(
        Kernel::Gather { axis: 0 },
        vec![m.clone(), idx.clone()],
        f(&[4, 36]),
    );
    b.step(
        Kernel::ScatterAdd { axis: 0 },
        vec![g, idx.clone()],
        f(&[6, 36]),
    );
    b.step(Kernel::OneHot, vec![idx], f(&[4, 6]));
    b.step(Kernel::Iota { axis: 1 }, vec![], f(&[3, 4]));
    let small = strided(&x, &[6, 6], &[6, 1]);
    b.step(
        Kernel::MatMul,
        vec![small.clone(), small.clone()],
        f(&[6, 6]),
    );
    let vec_row = strided(&x, &[1, 36], &[36, 1]);
    b.step(
        Kernel::MatMul,
        vec![vec_row, strided(&m, &[36, 6], &[1, 36])],
        f(&[1, 6]),
    );
    let conv = ConvParams::default();
    let y = b.step(
        Kernel::Conv2d(conv),
        vec![x.clone(), w.clone()],
        f(&[2, 4, 4, 4]),
    );
    b.step(
        Kernel::Conv2dInputGrad(conv),
        vec![y.clone(), w.clone()],
        img.clone(),
    );
    b.step(
        Kernel::Conv2dWeightGrad(conv),
        vec![x.clone(), y],
        f(&[4, 3, 3, 3]),
    );
    let pool = PoolParams::square(2);
    let p = b.step(Kernel::MaxPool2d(pool), vec![x.clone()], f(&[2, 3, 3, 3]));
    b.step(
        Kernel::MaxPool2dGrad(pool),
        vec![x.clone(), p.clone()],
        img.clone(),
    );
    b.step(Kernel::AvgPool2d(pool), vec![x.clone()], f(&[2, 3, 3, 3]));
    b.step(Kernel::AvgPool2dGrad(pool), vec![p], img.clone());
    let r = b.step(
        Kernel::RandomBernoulli {
            p: Float(0.5),
            seed: 3,
        },
        vec![counter.clone()],
        f(&[6, 36]),
    );
    b.plan.outputs.push(("mask".into(), r));
    b.plan
        .outputs
        .push(("xt".into(), strided(&m, &[36, 6], &[1, 36])));
    b.plan.outputs.push(("w".into(), w));
    b.plan
}

/// One test in this file: the global count covers every thread (helper
/// threads of 2-thread runs included), so no other test may run meanwhile.
#[test]
fn runs_allocate_nothing_on_any_thread() {
    every_kernel_family_runs_without_allocating();
    large_matmuls_and_convolutions_run_without_allocating();
}

fn every_kernel_family_runs_without_allocating() {
    let mut session = Session::new(every_kernel(), 7).unwrap();
    let x: Vec<f32> = (0..216)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0)
        .collect();
    let idx = [5i32, 0, 3, 3];
    let feeds = [
        ("x", TensorRef::f32(&[2, 3, 6, 6], &x)),
        ("idx", TensorRef::i32(&[4], &idx)),
    ];
    session.run(&feeds).unwrap();
    for _ in 0..3 {
        let n = allocations_during(|| {
            let out = session.run(&feeds).unwrap();
            assert_eq!(out.get("mask").unwrap().shape(), &[6, 36]);
            assert_eq!(out.get("xt").unwrap().as_f32().unwrap()[1], x[36]);
        });
        assert_eq!(n, 0, "allocations during a run");
    }
}

/// Large matmuls (plain, transposed operands, batched) and convolutions with
/// their gradients: every GEMM takes the packed path.
fn large_gemms() -> Plan {
    let img = TensorType::f32([4, 3, 16, 16]);
    let mut b = Builder {
        plan: Plan {
            name: "large_gemms".into(),
            inputs: vec![
                slot("a", TensorType::f32([128, 256]), None),
                slot("x", img.clone(), None),
            ],
            params: vec![slot(
                "w",
                TensorType::f32([8, 3, 3, 3]),
                Some(Init::normal(0.0, 0.1)),
            )],
            states: vec![],
            consts: vec![],
            temps: vec![],
            arena_elems: 0,
            steps: vec![],
            outputs: vec![],
        },
    };
    let a = View::dense(Region::Input(0), &TensorType::f32([128, 256]));
    let x = View::dense(Region::Input(1), &img);
    let w = View::dense(Region::Param(0), &TensorType::f32([8, 3, 3, 3]));
    let f = |d: &[usize]| TensorType::f32(d.to_vec());
    let at = strided(&a, &[256, 128], &[1, 256]);
    // a · a^T, a^T · a (large enough to split over two threads).
    let c = b.step(Kernel::MatMul, vec![a.clone(), at.clone()], f(&[128, 128]));
    b.step(Kernel::MatMul, vec![at, a.clone()], f(&[256, 256]));
    // Two 64x128x64 products: small enough to be dealt out whole to threads.
    let a3 = strided(&a, &[2, 64, 128], &[64 * 256, 256, 1]);
    let b3 = strided(&a, &[2, 128, 64], &[128, 1, 256]);
    b.step(Kernel::MatMul, vec![a3, b3], f(&[2, 64, 64]));
    let conv = ConvParams::default();
    let y = b.step(
        Kernel::Conv2d(conv),
        vec![x.clone(), w.clone()],
        f(&[4, 8, 14, 14]),
    );
    b.step(
        Kernel::Conv2dInputGrad(conv),
        vec![y.clone(), w.clone()],
        img.clone(),
    );
    b.step(
        Kernel::Conv2dWeightGrad(conv),
        vec![x.clone(), y],
        f(&[8, 3, 3, 3]),
    );
    b.plan.outputs.push(("c".into(), c));
    b.plan
}

fn large_matmuls_and_convolutions_run_without_allocating() {
    let a: Vec<f32> = (0..128 * 256)
        .map(|i| ((i * 7 % 13) as f32) / 13.0)
        .collect();
    let x: Vec<f32> = (0..4 * 3 * 16 * 16)
        .map(|i| ((i * 5 % 11) as f32) / 11.0)
        .collect();
    let feeds = [
        ("a", TensorRef::f32(&[128, 256], &a)),
        ("x", TensorRef::f32(&[4, 3, 16, 16], &x)),
    ];
    for threads in [1, 2] {
        let mut s = Session::with_threads(large_gemms(), 0, threads).unwrap();
        assert_eq!(s.executable().threads(), threads);
        s.run(&feeds).unwrap();
        for _ in 0..20 {
            let n = allocations_during(|| {
                let out = s.run(&feeds).unwrap();
                assert_eq!(out.get("c").unwrap().shape(), &[128, 128]);
            });
            assert_eq!(n, 0, "allocations during a run with {threads} thread(s)");
        }
    }
    assert_eq!(DType::F32, TensorType::f32([1]).dtype);
}
