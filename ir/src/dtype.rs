//! Element types.
//!
//! kiln has two: `f32` for values and `i32` for labels, token ids, indices and
//! counters. Booleans are `f32` 0/1 (what comparisons produce and `where` reads).

use std::fmt;

/// The element type of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    /// 32-bit IEEE float: activations, parameters, gradients, masks.
    F32,
    /// 32-bit signed integer: labels, token ids, indices, step counters.
    I32,
}

impl DType {
    /// Every dtype, in text order.
    pub const ALL: [DType; 2] = [DType::F32, DType::I32];

    /// The spelling used by the text form (`f32`, `i32`).
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::I32 => "i32",
        }
    }

    /// Bytes per element.
    pub fn size_bytes(self) -> usize {
        4
    }

    /// Parses the text spelling.
    pub fn from_name(name: &str) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.name() == name)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
