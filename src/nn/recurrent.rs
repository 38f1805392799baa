//! The Elman RNN and the GRU, unrolled over a fixed number of steps like
//! [`crate::nn::Lstm`]: all steps' input projections are one GEMM before the loop.

use kiln_ir::{GraphBuilder, Init, Tensor};

/// `[B, T, F] -> [B*T, F] @ W + b -> [B, T, G]`, the hoisted input projection.
#[track_caller]
fn project_inputs<'g>(
    x: Tensor<'g>,
    w: Tensor<'g>,
    b: Tensor<'g>,
    name: &str,
) -> (Tensor<'g>, usize, usize) {
    let d = x.dims();
    let (batch, steps, input) = match d[..] {
        [b, t, f] => (b, t, f),
        _ => (0, 0, 0),
    };
    let g = w.dims().last().copied().unwrap_or(0);
    let xw = (x.reshape(&[batch * steps, input]).matmul(w) + b)
        .reshape(&[batch, steps, g])
        .named(&format!("{name}.input_proj"));
    (xw, batch, steps)
}

/// An Elman RNN layer, `h_t = tanh(x_t W_ih + h_{t-1} W_hh + b)` (PyTorch's
/// `nn.RNN(nonlinearity="tanh", batch_first=True)` with its two biases summed),
/// parameters uniform on `±1/sqrt(H)`.
#[derive(Clone, Debug)]
pub struct Rnn<'g> {
    pub name: String,
    pub hidden: usize,
    pub weight_ih: Tensor<'g>,
    pub weight_hh: Tensor<'g>,
    pub bias: Tensor<'g>,
}

impl<'g> Rnn<'g> {
    #[track_caller]
    pub fn new(b: &'g GraphBuilder, name: &str, input: usize, hidden: usize) -> Rnn<'g> {
        let k = 1.0 / (hidden as f32).sqrt();
        Rnn {
            name: name.into(),
            hidden,
            weight_ih: b.param(
                &format!("{name}.weight_ih"),
                &[input, hidden],
                Init::uniform(-k, k),
            ),
            weight_hh: b.param(
                &format!("{name}.weight_hh"),
                &[hidden, hidden],
                Init::uniform(-k, k),
            ),
            bias: b.param(&format!("{name}.bias"), &[hidden], Init::uniform(-k, k)),
        }
    }

    /// Runs over `x[B, T, F]` from a zero state; returns every step's hidden state.
    #[track_caller]
    pub fn forward(&self, x: Tensor<'g>) -> Vec<Tensor<'g>> {
        let (xw, batch, steps) = project_inputs(x, self.weight_ih, self.bias, &self.name);
        let mut h: Option<Tensor<'g>> = None;
        let mut outputs = Vec::with_capacity(steps);
        for t in 0..steps {
            let pre = xw.narrow(1, t, 1).reshape(&[batch, self.hidden]);
            let pre = match h {
                Some(h) => pre + h.matmul(self.weight_hh),
                None => pre,
            };
            let next = pre.tanh().named(&format!("{}.h{t}", self.name));
            outputs.push(next);
            h = Some(next);
        }
        outputs
    }
}

/// A GRU layer with PyTorch's gate order and equations (`nn.GRU(batch_first=True)`):
/// `r = σ(x W_ir + b_ir + h W_hr + b_hr)`, `z = σ(x W_iz + b_iz + h W_hz + b_hz)`,
/// `n = tanh(x W_in + b_in + r ⊙ (h W_hn + b_hn))`, `h' = (1 - z) ⊙ n + z ⊙ h`.
/// Weights `weight_ih[F, 3H]`, `weight_hh[H, 3H]`, biases `bias_ih[3H]`,
/// `bias_hh[3H]` (the hidden bias stays separate: `r` multiplies it).
#[derive(Clone, Debug)]
pub struct Gru<'g> {
    pub name: String,
    pub hidden: usize,
    pub weight_ih: Tensor<'g>,
    pub weight_hh: Tensor<'g>,
    pub bias_ih: Tensor<'g>,
    pub bias_hh: Tensor<'g>,
}

impl<'g> Gru<'g> {
    #[track_caller]
    pub fn new(b: &'g GraphBuilder, name: &str, input: usize, hidden: usize) -> Gru<'g> {
        let k = 1.0 / (hidden as f32).sqrt();
        let p = |what: &str, shape: &[usize]| {
            b.param(&format!("{name}.{what}"), shape, Init::uniform(-k, k))
        };
        Gru {
            name: name.into(),
            hidden,
            weight_ih: p("weight_ih", &[input, 3 * hidden]),
            weight_hh: p("weight_hh", &[hidden, 3 * hidden]),
            bias_ih: p("bias_ih", &[3 * hidden]),
            bias_hh: p("bias_hh", &[3 * hidden]),
        }
    }

    /// Runs over `x[B, T, F]` from a zero state; returns every step's hidden state.
    #[track_caller]
    pub fn forward(&self, x: Tensor<'g>) -> Vec<Tensor<'g>> {
        let hd = self.hidden;
        let (xw, batch, steps) = project_inputs(x, self.weight_ih, self.bias_ih, &self.name);
        let mut h: Option<Tensor<'g>> = None;
        let mut outputs = Vec::with_capacity(steps);
        for t in 0..steps {
            let xw_t = xw.narrow(1, t, 1).reshape(&[batch, 3 * hd]);
            // With a zero state, h W_hh is zero and only the hidden bias remains.
            let hw = match h {
                Some(h) => h.matmul(self.weight_hh) + self.bias_hh,
                None => self.bias_hh.broadcast_to(&[batch, 3 * hd]),
            };
            let gate = |m: Tensor<'g>, k: usize| m.narrow(1, k * hd, hd);
            let r = (gate(xw_t, 0) + gate(hw, 0)).sigmoid();
            let z = (gate(xw_t, 1) + gate(hw, 1)).sigmoid();
            let n = (gate(xw_t, 2) + r * gate(hw, 2)).tanh();
            let next = match h {
                Some(h) => (1.0 - z) * n + z * h,
                None => (1.0 - z) * n,
            }
            .named(&format!("{}.h{t}", self.name));
            outputs.push(next);
            h = Some(next);
        }
        outputs
    }
}
