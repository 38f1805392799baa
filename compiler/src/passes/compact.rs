//! Dense renumbering for readable final output.

use crate::error::PassError;
use crate::pass::{Changed, Pass, PassCx};
use kiln_ir::Graph;

/// Renumbers node ids densely (`%0, %1, ...`) in print order, so final
/// snapshots carry no holes left by removals. Earlier passes keep ids stable
/// so that per-pass diffs show only real changes; this pass runs last.
pub struct Compact;

impl Pass for Compact {
    fn name(&self) -> &'static str {
        "compact"
    }

    fn run(&self, graph: &mut Graph, _cx: &mut PassCx) -> Result<Changed, PassError> {
        let before: Vec<_> = graph.ids().collect();
        graph.compact();
        let after: Vec<_> = graph.ids().collect();
        Ok(Changed::from_bool(before != after))
    }
}
