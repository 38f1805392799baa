//! Layers (PyTorch's `torch.nn`) and composite functions (`torch.nn.functional`).
//!
//! A layer's constructor creates its parameters in the builder under
//! hierarchical names (`blocks.0.attn.q.weight`), so checkpoints are readable
//! and two graphs built from the same code (train and eval) share parameters
//! by name. `forward` adds the layer's nodes. Everything here is written
//! against the public builder DSL only.

pub mod attention;
pub mod conv;
pub mod dropout;
pub mod embedding;
pub mod functional;
pub mod layer_norm;
pub mod linear;
pub mod lstm;
pub mod recurrent;
pub mod transformer;

pub use attention::{MultiHeadAttention, causal_mask, scaled_dot_product_attention};
pub use conv::Conv2d;
pub use dropout::{Dropout, Mode};
pub use embedding::Embedding;
pub use layer_norm::LayerNorm;
pub use linear::Linear;
pub use lstm::{Lstm, LstmOutput};
pub use recurrent::{Gru, Rnn};
pub use transformer::TransformerEncoderLayer;
