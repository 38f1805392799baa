//! Dropout, and the train/eval mode that switches it.

use crate::nn::functional;
use kiln_ir::{DType, GraphBuilder, Init, Shape, Tensor, TensorType};

/// Whether a graph is built for training or for evaluation. Train and eval
/// graphs are built by the same code with different modes; they share
/// parameters by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Train,
    Eval,
}

/// Inverted dropout with drop probability `p` (PyTorch's `nn.Dropout`): in
/// [`Mode::Train`] each element is zeroed with probability `p` and the rest
/// scaled by `1/(1-p)`, with a fresh mask every run; in [`Mode::Eval`] it is the
/// identity. The mask's randomness comes from the state `{name}.counter`,
/// advanced by one each run, so a run is reproducible from saved state.
#[derive(Clone, Debug)]
pub struct Dropout<'g> {
    pub p: f32,
    counter: Option<Tensor<'g>>,
}

impl<'g> Dropout<'g> {
    #[track_caller]
    pub fn new(b: &'g GraphBuilder, name: &str, p: f32, mode: Mode) -> Dropout<'g> {
        let counter = (mode == Mode::Train && p > 0.0).then(|| {
            let state = format!("{name}.counter");
            let c = b.state(
                &state,
                TensorType::new(DType::I32, Shape::scalar()),
                Init::Zeros,
            );
            b.update(&state, c + 1.0);
            c
        });
        Dropout { p, counter }
    }

    #[track_caller]
    pub fn forward(&self, x: Tensor<'g>) -> Tensor<'g> {
        match self.counter {
            Some(c) => functional::dropout(x, self.p, c),
            None => x,
        }
    }
}
