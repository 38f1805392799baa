//! kiln: a static-graph deep-learning compiler.
pub use kiln_ir as ir;
