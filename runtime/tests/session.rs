//! Sessions end to end on a small hand-written plan: feeding, errors,
//! parameter initialization, updates and the stability of parameter buffers.

use kiln_ir::eval::Value;
use kiln_ir::init::init_store;
use kiln_ir::plan::{Kernel, Plan, Region, Slot, Step, Temp, View};
use kiln_ir::{BinaryOp, DType, GraphBuilder, Init, Literal, NodeId, Shape, TensorType};
use kiln_runtime::{ParamStore, RuntimeError, Session, TensorRef};

const SEED: u64 = 42;

fn w_init() -> Init {
    Init::xavier_uniform(3, 2)
}

fn b_init() -> Init {
    Init::uniform(-1.0, 1.0)
}

fn view(region: Region, ty: &TensorType) -> View {
    View::dense(region, ty)
}

/// `logits = x · w + b`; then `w *= 0.5` and `step += 1` in place. Outputs:
/// the logits, `x` transposed (a strided view of an input) and the step.
fn plan() -> Plan {
    let x_ty = TensorType::f32([4, 3]);
    let w_ty = TensorType::f32([3, 2]);
    let b_ty = TensorType::f32([2]);
    let step_ty = TensorType::i32(Shape::scalar());
    let h_ty = TensorType::f32([4, 2]);
    let slot = |name: &str, ty: &TensorType, init: Option<Init>| Slot {
        name: name.into(),
        ty: ty.clone(),
        init,
    };
    let w = view(Region::Param(0), &w_ty);
    let step = view(Region::State(0), &step_ty);
    let t0 = view(Region::Temp(0), &h_ty);
    let t1 = view(Region::Temp(1), &h_ty);
    let b_rows = View {
        shape: Shape::from([4, 2]),
        strides: vec![0, 1],
        ..view(Region::Param(1), &b_ty)
    };
    let half = View {
        shape: Shape::from([3, 2]),
        strides: vec![0, 0],
        ..view(Region::Const(0), &TensorType::f32(Shape::scalar()))
    };
    let one = view(Region::Const(1), &step_ty);
    let x = view(Region::Input(0), &x_ty);
    let xt = View {
        shape: Shape::from([3, 4]),
        strides: vec![1, 3],
        ..x.clone()
    };
    let step_of = |kernel, inputs: Vec<View>, output: View, node| Step {
        kernel,
        inputs,
        output,
        scratch: None,
        node: Some(NodeId(node)),
    };
    Plan {
        name: "affine".into(),
        inputs: vec![
            slot("x", &x_ty, None),
            slot("labels", &TensorType::i32([4]), None),
        ],
        params: vec![
            slot("w", &w_ty, Some(w_init())),
            slot("b", &b_ty, Some(b_init())),
        ],
        states: vec![slot("step", &step_ty, Some(Init::Zeros))],
        consts: vec![Literal::scalar_f32(0.5), Literal::scalar_i32(1)],
        temps: vec![
            Temp {
                ty: h_ty.clone(),
                offset: 0,
                node: Some(NodeId(5)),
            },
            Temp {
                ty: h_ty.clone(),
                offset: 16,
                node: Some(NodeId(6)),
            },
        ],
        arena_elems: 24,
        steps: vec![
            step_of(Kernel::MatMul, vec![x, w.clone()], t0.clone(), 5),
            step_of(
                Kernel::Binary(BinaryOp::Add),
                vec![t0, b_rows],
                t1.clone(),
                6,
            ),
            step_of(Kernel::Binary(BinaryOp::Mul), vec![w.clone(), half], w, 7),
            step_of(
                Kernel::Binary(BinaryOp::Add),
                vec![step.clone(), one],
                step.clone(),
                8,
            ),
        ],
        outputs: vec![
            ("logits".into(), t1),
            ("xt".into(), xt),
            ("step".into(), step),
        ],
    }
}

const X: [f32; 12] = [
    1.0, 2.0, 3.0, -1.0, 0.5, 0.25, 0.0, 1.0, -2.0, 4.0, 3.0, 2.0,
];
const LABELS: [i32; 4] = [0, 1, 1, 0];

fn feeds() -> [(&'static str, TensorRef<'static>); 2] {
    [
        ("x", TensorRef::f32(&[4, 3], &X)),
        ("labels", TensorRef::i32(&[4], &LABELS)),
    ]
}

fn f32s(t: TensorRef<'_>) -> Vec<f32> {
    t.as_f32().expect("f32 tensor").to_vec()
}

/// `x · w + b` computed plainly.
fn affine(w: &[f32], b: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0; 8];
    for i in 0..4 {
        for j in 0..2 {
            out[i * 2 + j] = (0..3).map(|p| X[i * 3 + p] * w[p * 2 + j]).sum::<f32>() + b[j];
        }
    }
    out
}

#[test]
fn params_start_where_the_evaluator_starts() {
    let g = GraphBuilder::new("affine");
    g.param("w", &[3, 2], w_init());
    g.param("b", &[2], b_init());
    g.state("step", TensorType::i32(Shape::scalar()), Init::Zeros);
    let graph = g.build().unwrap();
    let want = init_store::<f32>(&graph, SEED);
    let session = Session::new(plan(), SEED).unwrap();
    for name in ["w", "b", "step"] {
        let got = session.param(name).unwrap().to_value().unwrap();
        assert_eq!(got, want[name], "{name}");
    }
    assert_eq!(session.store().to_env(), want);
}

#[test]
fn updates_are_seen_by_the_next_run_and_buffers_never_move() {
    let mut s = Session::new(plan(), SEED).unwrap();
    let w0 = f32s(s.param("w").unwrap());
    let b = f32s(s.param("b").unwrap());
    let addr = |s: &Session, n: &str| s.param(n).unwrap().as_ptr() as usize;
    let (w_addr, step_addr) = (addr(&s, "w"), addr(&s, "step"));
    let mut w = w0.clone();
    for run in 1..=3 {
        let feeds = feeds();
        let out = s.run(&feeds).unwrap();
        // The logits use the weights from before this run's update.
        assert_eq!(
            f32s(out.get("logits").unwrap()),
            affine(&w, &b),
            "run {run}"
        );
        assert_eq!(out.get("step").unwrap().as_i32().unwrap(), &[run]);
        let xt = out.get("xt").unwrap();
        assert_eq!(xt.shape(), &[3, 4]);
        assert_eq!(f32s(xt)[..4], [1.0, -1.0, 0.0, 4.0]);
        w.iter_mut().for_each(|v| *v *= 0.5);
        assert_eq!(f32s(s.param("w").unwrap()), w);
        assert_eq!(addr(&s, "w"), w_addr);
        assert_eq!(addr(&s, "step"), step_addr);
    }
}

#[test]
fn set_param_changes_the_next_run() {
    let mut s = Session::new(plan(), SEED).unwrap();
    let w = [1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0];
    s.set_param("w", TensorRef::f32(&[3, 2], &w)).unwrap();
    s.set_param("b", TensorRef::f32(&[2], &[0.0, 0.0])).unwrap();
    let feeds = feeds();
    let out = s.run(&feeds).unwrap();
    assert_eq!(f32s(out.get("logits").unwrap()), affine(&w, &[0.0, 0.0]));
    let e = s.set_param("w", TensorRef::f32(&[2, 3], &w)).unwrap_err();
    insta::assert_snapshot!(e, @"param `w`: expected f32[3,2], got f32[2,3]");
    let e = s
        .set_param("v", TensorRef::f32(&[2], &[0.0; 2]))
        .unwrap_err();
    insta::assert_snapshot!(e, @"no param or state named `v`; known names: `w`, `b`, `step`");
}

fn run_error(feeds: &[(&str, TensorRef<'_>)]) -> RuntimeError {
    let mut s = Session::new(plan(), SEED).unwrap();
    s.run(feeds).err().expect("the run should fail")
}

#[test]
fn bad_feeds_are_errors_naming_the_input() {
    let x = TensorRef::f32(&[4, 3], &X);
    let labels = TensorRef::i32(&[4], &LABELS);
    let long = [0.0f32; 15];
    insta::assert_snapshot!(
        run_error(&[("x", x), ("label", labels)]),
        @"unknown input `label`; the plan's inputs are: `x`, `labels`"
    );
    insta::assert_snapshot!(
        run_error(&[("x", TensorRef::f32(&[5, 3], &long)), ("labels", labels)]),
        @"input `x`: expected f32[4,3], got f32[5,3]"
    );
    insta::assert_snapshot!(
        run_error(&[("x", x), ("labels", TensorRef::f32(&[4], &X[..4]))]),
        @"input `labels`: expected i32[4], got f32[4]"
    );
    insta::assert_snapshot!(
        run_error(&[("x", x)]),
        @"no value was fed for input `labels` (expected i32[4])"
    );
    insta::assert_snapshot!(
        run_error(&[("x", x), ("x", x), ("labels", labels)]),
        @"input `x` was fed more than once"
    );
    insta::assert_snapshot!(
        run_error(&[("x", TensorRef::f32(&[4, 3], &long)), ("labels", labels)]),
        @"input `x`: shape [4, 3] has 12 elements, but 15 were given"
    );
}

#[test]
fn a_failed_run_leaves_the_session_usable() {
    let mut s = Session::new(plan(), SEED).unwrap();
    assert!(s.run(&[("x", TensorRef::f32(&[4, 3], &X))]).is_err());
    let feeds = feeds();
    assert!(s.run(&feeds).is_ok());
}

#[test]
fn stores_are_checked_when_bound() {
    let mut store = ParamStore::for_plan(&plan(), SEED);
    let mut other = ParamStore::new();
    other.insert("w", store.get("w").unwrap()).unwrap();
    let e = Session::with_store(plan(), other).unwrap_err();
    insta::assert_snapshot!(e, @"the store has no value for param `b` (expected f32[2])");
    let mut wrong = ParamStore::new();
    wrong
        .insert("w", TensorRef::f32(&[2, 3], &[0.0; 6]))
        .unwrap();
    wrong.insert("b", store.get("b").unwrap()).unwrap();
    wrong.insert("step", store.get("step").unwrap()).unwrap();
    let e = Session::with_store(plan(), wrong).unwrap_err();
    insta::assert_snapshot!(e, @"param `w`: expected f32[3,2], got f32[2,3]");
    // A store shared by two sessions in turn keeps its values.
    store.set("step", TensorRef::i32(&[], &[41])).unwrap();
    let mut s = Session::with_store(plan(), store).unwrap();
    let feeds = feeds();
    assert_eq!(
        s.run(&feeds)
            .unwrap()
            .get("step")
            .unwrap()
            .as_i32()
            .unwrap(),
        &[42]
    );
    let store = s.into_store();
    let mut s = Session::with_store(plan(), store).unwrap();
    assert_eq!(
        s.run(&feeds)
            .unwrap()
            .get("step")
            .unwrap()
            .as_i32()
            .unwrap(),
        &[43]
    );
}

#[test]
fn outputs_convert_to_values() {
    let mut s = Session::new(plan(), SEED).unwrap();
    let feeds = feeds();
    let out = s.run(&feeds).unwrap();
    let names: Vec<&str> = out.names().collect();
    assert_eq!(names, ["logits", "xt", "step"]);
    assert_eq!(out.to_value("step"), Value::int(Shape::scalar(), vec![1]));
    assert!(out.get("nope").is_none());
    assert_eq!(out.to_env().len(), 3);
    assert_eq!(out.get("xt").unwrap().dtype(), DType::F32);
}
