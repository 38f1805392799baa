//! The LSTM layer, unrolled over a fixed number of time steps.
//!
//! A static graph has a fixed sequence length, so the recurrence is written out
//! step by step; the input projection of all steps is one GEMM, done before the
//! loop, and only the `h @ W_hh` product stays inside it.

use kiln_ir::{GraphBuilder, Init, Tensor};

/// One LSTM layer (`batch_first`, gate order i, f, g, o as in PyTorch) with
/// parameters `{name}.weight_ih[input, 4H]`, `{name}.weight_hh[H, 4H]` and
/// `{name}.bias[4H]`, all uniform on `±1/sqrt(H)` like `nn.LSTM`. (PyTorch has
/// two bias vectors that are always added together; one is equivalent.)
#[derive(Clone, Debug)]
pub struct Lstm<'g> {
    pub name: String,
    pub hidden: usize,
    pub weight_ih: Tensor<'g>,
    pub weight_hh: Tensor<'g>,
    pub bias: Tensor<'g>,
}

/// What an LSTM run produces.
#[derive(Clone, Debug)]
pub struct LstmOutput<'g> {
    /// The hidden state after every step, each `[batch, hidden]`.
    pub outputs: Vec<Tensor<'g>>,
    /// The last hidden state.
    pub h: Tensor<'g>,
    /// The last cell state.
    pub c: Tensor<'g>,
}

impl<'g> Lstm<'g> {
    #[track_caller]
    pub fn new(b: &'g GraphBuilder, name: &str, input: usize, hidden: usize) -> Lstm<'g> {
        let k = 1.0 / (hidden as f32).sqrt();
        let init = Init::uniform(-k, k);
        Lstm {
            name: name.into(),
            hidden,
            weight_ih: b.param(
                &format!("{name}.weight_ih"),
                &[input, 4 * hidden],
                init.clone(),
            ),
            weight_hh: b.param(
                &format!("{name}.weight_hh"),
                &[hidden, 4 * hidden],
                init.clone(),
            ),
            bias: b.param(&format!("{name}.bias"), &[4 * hidden], init),
        }
    }

    /// Runs over `x[batch, time, input]` from a zero state.
    #[track_caller]
    pub fn forward(&self, x: Tensor<'g>) -> LstmOutput<'g> {
        let x = x.expect_rank(3, "LSTM (input [batch, time, features])");
        let dims = x.dims();
        let (batch, steps, input) = match dims[..] {
            [b, t, f] => (b, t, f),
            _ => (0, 0, 0),
        };
        let h4 = 4 * self.hidden;
        // All steps' input projections in one GEMM: [B*T, F] x [F, 4H].
        let xw = (x.reshape(&[batch * steps, input]).matmul(self.weight_ih) + self.bias)
            .reshape(&[batch, steps, h4])
            .named(&format!("{}.input_proj", self.name));
        let mut state: Option<(Tensor<'g>, Tensor<'g>)> = None;
        let mut outputs = Vec::with_capacity(steps);
        for t in 0..steps {
            let xw_t = xw.narrow(1, t, 1).reshape(&[batch, h4]);
            let (h, c) = self.cell(xw_t, state, t);
            outputs.push(h);
            state = Some((h, c));
        }
        match state {
            Some((h, c)) => LstmOutput { outputs, h, c },
            // A zero-length sequence: report it through the builder.
            None => {
                let h = x.narrow(1, 0, 1);
                LstmOutput { outputs, h, c: h }
            }
        }
    }

    /// One step from the projected input `xw_t[B, 4H]`; a `None` state is zero,
    /// which drops the `h @ W_hh` product and the forget term at step 0.
    #[track_caller]
    fn cell(
        &self,
        xw_t: Tensor<'g>,
        state: Option<(Tensor<'g>, Tensor<'g>)>,
        t: usize,
    ) -> (Tensor<'g>, Tensor<'g>) {
        let hd = self.hidden;
        let gates = match state {
            Some((h, _)) => xw_t + h.matmul(self.weight_hh),
            None => xw_t,
        };
        let gate = |k: usize| gates.narrow(1, k * hd, hd);
        let i = gate(0).sigmoid();
        let g = gate(2).tanh();
        let o = gate(3).sigmoid();
        let c = match state {
            Some((_, c)) => gate(1).sigmoid() * c + i * g,
            None => i * g,
        };
        let c = c.named(&format!("{}.c{t}", self.name));
        let h = (o * c.tanh()).named(&format!("{}.h{t}", self.name));
        (h, c)
    }
}
