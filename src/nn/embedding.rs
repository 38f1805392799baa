//! The embedding table.

use kiln_ir::{GraphBuilder, Init, Tensor};

/// A lookup table `{name}.weight[count, dim]`, initialized `N(0, 1)` as
/// PyTorch's `nn.Embedding`. `forward(ids)` maps `i32` ids of any shape to
/// vectors: `[..] -> [.., dim]`.
#[derive(Clone, Debug)]
pub struct Embedding<'g> {
    pub name: String,
    pub weight: Tensor<'g>,
}

impl<'g> Embedding<'g> {
    #[track_caller]
    pub fn new(b: &'g GraphBuilder, name: &str, count: usize, dim: usize) -> Embedding<'g> {
        let weight = b.param(
            &format!("{name}.weight"),
            &[count, dim],
            Init::normal(0.0, 1.0),
        );
        Embedding {
            name: name.into(),
            weight,
        }
    }

    /// Looks up `ids` (`i32`); an id outside `0..count` is an error at run time.
    #[track_caller]
    pub fn forward(&self, ids: Tensor<'g>) -> Tensor<'g> {
        self.weight.index_select(0, ids).named(&self.name)
    }
}
