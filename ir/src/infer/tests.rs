//! Tests of the typing rules in `infer.rs`.

// Kept for the tests to come; nothing uses it yet.
#[allow(unused_imports)]
use super::*;
