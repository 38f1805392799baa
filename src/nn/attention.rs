//! Scaled dot-product and multi-head attention.

use crate::nn::functional::softmax;
use crate::nn::linear::Linear;
use kiln_ir::{GraphBuilder, Tensor};

/// A causal mask `[t, t]`: 1 where query position `i` may attend to key
/// position `j` (`j <= i`), else 0.
#[track_caller]
pub fn causal_mask(b: &GraphBuilder, t: usize) -> Tensor<'_> {
    b.iota(&[t, t], 0)
        .ge(b.iota(&[t, t], 1))
        .named("causal_mask")
}

/// `softmax(q k^T / sqrt(d) + mask) v` on `q[.., T, d]`, `k[.., S, d]`,
/// `v[.., S, dv]`. Where `mask[T, S]` is 0 the score is `-inf` (every row needs
/// at least one 1).
#[track_caller]
pub fn scaled_dot_product_attention<'g>(
    q: Tensor<'g>,
    k: Tensor<'g>,
    v: Tensor<'g>,
    mask: Option<Tensor<'g>>,
) -> Tensor<'g> {
    let d = q.dims().last().copied().unwrap_or(1);
    let scores = q.matmul_t(k, false, true) * (1.0 / (d as f32).sqrt());
    let scores = match mask {
        Some(m) => {
            let b = scores.builder();
            m.select(scores, b.scalar(f32::NEG_INFINITY))
        }
        None => scores,
    };
    softmax(scores, -1).matmul(v)
}

/// Multi-head attention with projections `{name}.q`, `.k`, `.v` and `.o`
/// (each a [`Linear`] `d_model -> d_model`), as PyTorch's
/// `nn.MultiheadAttention(batch_first=True)`.
#[derive(Clone, Debug)]
pub struct MultiHeadAttention<'g> {
    pub name: String,
    pub heads: usize,
    pub q: Linear<'g>,
    pub k: Linear<'g>,
    pub v: Linear<'g>,
    pub o: Linear<'g>,
}

impl<'g> MultiHeadAttention<'g> {
    #[track_caller]
    pub fn new(
        b: &'g GraphBuilder,
        name: &str,
        d_model: usize,
        heads: usize,
    ) -> MultiHeadAttention<'g> {
        if heads == 0 || !d_model.is_multiple_of(heads) {
            b.invalid(
                "multi-head attention",
                format!("{heads} heads must divide d_model = {d_model}"),
            );
        }
        let lin = |part: &str| Linear::new(b, &format!("{name}.{part}"), d_model, d_model);
        MultiHeadAttention {
            name: name.into(),
            // Kept >= 1 so the (already reported) mistake cannot divide by zero.
            heads: heads.max(1),
            q: lin("q"),
            k: lin("k"),
            v: lin("v"),
            o: lin("o"),
        }
    }

    /// Attends from `query[B, T, D]` to `context[B, S, D]` (self-attention when
    /// they are the same tensor; cross-attention otherwise) with an optional
    /// `mask[T, S]`.
    #[track_caller]
    pub fn forward(
        &self,
        query: Tensor<'g>,
        context: Tensor<'g>,
        mask: Option<Tensor<'g>>,
    ) -> Tensor<'g> {
        let q = self.split_heads(self.q.forward(query));
        let k = self.split_heads(self.k.forward(context));
        let v = self.split_heads(self.v.forward(context));
        let heads = scaled_dot_product_attention(q, k, v, mask);
        self.o.forward(self.merge_heads(heads)).named(&self.name)
    }

    /// `[B, T, D] -> [B, H, T, D/H]`.
    #[track_caller]
    fn split_heads(&self, x: Tensor<'g>) -> Tensor<'g> {
        let x = x.expect_rank(3, "multi-head attention");
        if x.id().is_none() {
            return x;
        }
        let d = x.dims();
        let (b, t, dm) = (d[0], d[1], d[2]);
        x.reshape(&[b, t, self.heads, dm / self.heads])
            .permute(&[0, 2, 1, 3])
    }

    /// `[B, H, T, Dh] -> [B, T, H*Dh]`.
    #[track_caller]
    fn merge_heads(&self, x: Tensor<'g>) -> Tensor<'g> {
        let x = x.expect_rank(4, "multi-head attention");
        if x.id().is_none() {
            return x;
        }
        let d = x.dims();
        let (b, h, t, dh) = (d[0], d[1], d[2], d[3]);
        x.permute(&[0, 2, 1, 3]).reshape(&[b, t, h * dh])
    }
}
