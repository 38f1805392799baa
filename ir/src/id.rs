//! Node identifiers.
//!
//! A `NodeId` is assigned when a node is created and never reused, so ids stay
//! stable while passes add and remove nodes: a per-pass diff of the printed IR
//! shows only real changes. The `compact` pass renumbers densely at the end.
//! This file is the only place that decides how an id looks in text (`%12`).

use std::fmt;

/// The identity of a node within its graph. Prints as `%N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}
