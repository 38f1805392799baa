//! Backpropagation by hand and by the compiler, on the lecture's 3-layer
//! sigmoid network and one training example.
//!
//! ```text
//! m~ = W1 x + b1    m = σ(m~)        x ∈ R², m ∈ R²
//! n~ = W2 m + b2    n = σ(n~)        n ∈ R²
//! f~ = W3 n + b3    f = σ(f~)        f ∈ R¹
//! L  = -(y log f + (1 - y) log(1 - f))          (binary cross-entropy)
//! ```
//!
//! Column vectors, weights `[out, in]`. The chain rule, applied from the loss
//! backwards, gives the slide's closed forms (`⊙` is the elementwise product,
//! and `σ'(z) = σ(z)(1 - σ(z))`):
//!
//! ```text
//! dL/df~ = f - y                       (sigmoid and cross-entropy cancel)
//! dL/dW3 = (f - y) nᵀ                  dL/db3 = f - y
//! dL/dn  = W3ᵀ (f - y)
//! dL/dn~ = dL/dn ⊙ n ⊙ (1 - n)
//! dL/dW2 = dL/dn~ mᵀ                   dL/db2 = dL/dn~
//! dL/dm~ = (W2ᵀ dL/dn~) ⊙ m ⊙ (1 - m)
//! dL/dW1 = dL/dm~ xᵀ                   dL/db1 = dL/dm~
//! ```
//!
//! kiln computes the same gradients by reverse-mode autodiff, a graph-to-graph
//! transform: the forward graph is compiled with only the `autodiff` pass
//! (no optimizer) followed by the optimizing passes, which leaves every
//! gradient as an output named `<param>.grad`. The closed forms are evaluated
//! in plain Rust from the forward values `m`, `n`, `f` the same run returns,
//! and the two are printed side by side.
//!
//! Gradients with respect to the activations `m` and `n` are not parameter
//! gradients, so the graph adds a zero "probe" parameter to each of them
//! (`n = σ(n~) + probe.n` with `probe.n = 0`): adding zero changes no value,
//! and `dL/dprobe.n = dL/dn`.
//!
//! `cargo run --release --example backprop`

use kiln::prelude::*;
use kiln::{CompileOptions, Pipeline};

/// The example: input, label and every weight, all small readable numbers.
pub struct Config {
    pub x: [f32; 2],
    pub y: f32,
    /// Row-major `[out, in]`.
    pub w1: [f32; 4],
    pub b1: [f32; 2],
    pub w2: [f32; 4],
    pub b2: [f32; 2],
    pub w3: [f32; 2],
    pub b3: [f32; 1],
}

impl Config {
    /// The lecture's numbers.
    pub fn full() -> Config {
        Config {
            x: [1.0, 2.0],
            y: 1.0,
            w1: [0.1, 0.2, -0.3, 0.4],
            b1: [0.1, -0.1],
            w2: [0.5, -0.6, 0.7, 0.8],
            b2: [0.0, 0.2],
            w3: [-0.9, 1.0],
            b3: [0.3],
        }
    }
}

/// One gradient computed both ways.
pub struct Gradient {
    pub name: &'static str,
    pub shape: [usize; 2],
    pub kiln: Vec<f32>,
    pub closed_form: Vec<f32>,
}

/// What a run computed.
pub struct Report {
    pub loss: f32,
    pub f: f32,
    pub gradients: Vec<Gradient>,
    /// The largest `|kiln - closed form|` over every gradient element.
    pub max_abs_diff: f32,
}

/// The forward graph. Every tensor is a column vector `[k, 1]`.
fn network() -> Result<Graph, kiln::Error> {
    let b = GraphBuilder::new("backprop");
    let x = b.input("x", &[2, 1]);
    let y = b.input("y", &[1, 1]);
    // Placeholder initializers: run() overwrites every parameter.
    let w1 = b.param("W1", &[2, 2], Init::Zeros);
    let b1 = b.param("b1", &[2, 1], Init::Zeros);
    let w2 = b.param("W2", &[2, 2], Init::Zeros);
    let b2 = b.param("b2", &[2, 1], Init::Zeros);
    let w3 = b.param("W3", &[1, 2], Init::Zeros);
    let b3 = b.param("b3", &[1, 1], Init::Zeros);
    // The probes stay zero: they only expose dL/dm and dL/dn.
    let probe_m = b.param("probe.m", &[2, 1], Init::Zeros);
    let probe_n = b.param("probe.n", &[2, 1], Init::Zeros);

    let m = F::sigmoid(w1.matmul(x) + b1) + probe_m;
    let n = F::sigmoid(w2.matmul(m) + b2) + probe_n;
    let f = F::sigmoid(w3.matmul(n) + b3);
    b.output("m", m);
    b.output("n", n);
    b.output("f", f);
    b.output("loss", F::binary_cross_entropy(f, y, F::Reduction::Sum));
    Ok(b.build()?)
}

/// `a[r, k] @ b[k, c]`, row-major.
fn matmul(a: &[f32], b: &[f32], r: usize, k: usize, c: usize) -> Vec<f32> {
    let mut out = vec![0.0; r * c];
    for i in 0..r {
        for j in 0..c {
            out[i * c + j] = (0..k).map(|t| a[i * k + t] * b[t * c + j]).sum();
        }
    }
    out
}

/// The transpose of `a[r, c]`.
fn transpose(a: &[f32], r: usize, c: usize) -> Vec<f32> {
    let mut out = vec![0.0; r * c];
    for i in 0..r {
        for j in 0..c {
            out[j * r + i] = a[i * c + j];
        }
    }
    out
}

/// `g ⊙ s ⊙ (1 - s)`: back through a sigmoid whose output was `s`.
fn through_sigmoid(g: &[f32], s: &[f32]) -> Vec<f32> {
    g.iter().zip(s).map(|(g, s)| g * s * (1.0 - s)).collect()
}

pub fn run(config: &Config) -> Result<Report, kiln::Error> {
    // Gradients only: autodiff, then the usual optimizing passes, and no
    // optimizer pass, so nothing is updated and `<param>.grad` stay outputs.
    let mut pipeline = Pipeline::from_names(&["autodiff"])?;
    pipeline.stages.extend(Pipeline::optimize().stages);
    let options = CompileOptions {
        pipeline,
        training: Some(TrainConfig::new("loss", Optimizer::sgd(0.0))),
        ..Default::default()
    };
    let compiled = kiln::compile(&network()?, &options)?;
    println!(
        "gradient graph: {} kernels after autodiff and optimization",
        compiled.plan.steps.len()
    );
    let mut session = Session::new(compiled.plan, 0)?;
    let params: [(&str, &[usize], &[f32]); 6] = [
        ("W1", &[2, 2], &config.w1),
        ("b1", &[2, 1], &config.b1),
        ("W2", &[2, 2], &config.w2),
        ("b2", &[2, 1], &config.b2),
        ("W3", &[1, 2], &config.w3),
        ("b3", &[1, 1], &config.b3),
    ];
    for (name, shape, value) in params {
        session.set_param(name, TensorRef::f32(shape, value))?;
    }
    let y = [config.y];
    let out = session.run(&[
        ("x", TensorRef::f32(&[2, 1], &config.x)),
        ("y", TensorRef::f32(&[1, 1], &y)),
    ])?;
    let get = |name: &str| -> Vec<f32> {
        out.get(name)
            .and_then(|t| t.as_f32())
            .unwrap_or_default()
            .to_vec()
    };
    let (m, n, f) = (get("m"), get("n"), get("f"));
    let loss = get("loss").first().copied().unwrap_or(f32::NAN);
    let f0 = f.first().copied().unwrap_or(f32::NAN);
    println!("x = {:?}, y = {}", config.x, config.y);
    println!("forward: m = {m:.6?}, n = {n:.6?}, f = {f0:.6}, L = {loss:.6}");

    // The slide, line by line, in plain Rust.
    let x = &config.x;
    let df_pre = vec![f0 - config.y]; // dL/df~
    let dw3 = matmul(&df_pre, &n, 1, 1, 2); // (f - y) nᵀ
    let dn = matmul(&transpose(&config.w3, 1, 2), &df_pre, 2, 1, 1); // W3ᵀ (f - y)
    let dn_pre = through_sigmoid(&dn, &n); // dL/dn ⊙ n ⊙ (1 - n)
    let dw2 = matmul(&dn_pre, &m, 2, 1, 2); // dL/dn~ mᵀ
    let dm = matmul(&transpose(&config.w2, 2, 2), &dn_pre, 2, 2, 1); // W2ᵀ dL/dn~
    let dm_pre = through_sigmoid(&dm, &m); // dL/dm ⊙ m ⊙ (1 - m)
    let dw1 = matmul(&dm_pre, x, 2, 1, 2); // dL/dm~ xᵀ

    let gradients = vec![
        grad("dL/dW3", [1, 2], get("W3.grad"), dw3),
        grad("dL/db3 = dL/df~", [1, 1], get("b3.grad"), df_pre),
        grad("dL/dn", [2, 1], get("probe.n.grad"), dn),
        grad("dL/dW2", [2, 2], get("W2.grad"), dw2),
        grad("dL/db2 = dL/dn~", [2, 1], get("b2.grad"), dn_pre),
        grad("dL/dm", [2, 1], get("probe.m.grad"), dm),
        grad("dL/dW1", [2, 2], get("W1.grad"), dw1),
        grad("dL/db1 = dL/dm~", [2, 1], get("b1.grad"), dm_pre),
    ];
    let mut max_abs_diff = 0.0f32;
    println!(
        "{:<16} {:>7}  {:<44} closed form",
        "gradient", "shape", "kiln autodiff"
    );
    for g in &gradients {
        let diff = if g.kiln.len() == g.closed_form.len() {
            g.kiln
                .iter()
                .zip(&g.closed_form)
                // A NaN on either side counts as an infinite difference
                // (f32::max would silently drop it).
                .map(|(a, b)| {
                    if (a - b).is_nan() {
                        f32::INFINITY
                    } else {
                        (a - b).abs()
                    }
                })
                .fold(0.0, f32::max)
        } else {
            f32::INFINITY // a missing gradient output
        };
        max_abs_diff = max_abs_diff.max(diff);
        // Padding applies to whole strings, not to a vector's Debug form.
        let shape = format!("{}x{}", g.shape[0], g.shape[1]);
        let kiln = format!("{:.6?}", g.kiln);
        println!(
            "{:<16} {shape:>7}  {kiln:<44} {:.6?}",
            g.name, g.closed_form
        );
    }
    println!("largest difference: {max_abs_diff:.2e}");
    Ok(Report {
        loss,
        f: f0,
        gradients,
        max_abs_diff,
    })
}

fn grad(name: &'static str, shape: [usize; 2], kiln: Vec<f32>, closed_form: Vec<f32>) -> Gradient {
    Gradient {
        name,
        shape,
        kiln,
        closed_form,
    }
}

fn main() {
    match run(&Config::full()) {
        Ok(r) => println!(
            "result: loss={:.6} f={:.6} gradients={} max_abs_diff={:.2e}",
            r.loss,
            r.f,
            r.gradients.len(),
            r.max_abs_diff
        ),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
