//! The graph: nodes (one tensor each) connected by operand edges.
//!
//! Storage is a petgraph `StableDiGraph<Node, Operand>`: an edge runs from an
//! operand to its user and carries the operand's position, and petgraph indices
//! survive removals. On top of it, every node has a [`NodeId`] that is assigned
//! once and never reused (petgraph reuses freed slots; our ids must not, so
//! printed numbers stay stable across passes and the parser can keep ids as
//! written).
//!
//! This module exposes structural edits only (add, rewire, remove); what an op
//! means lives in `infer` and `eval`, and the graph's invariants are checked by
//! `verify`.

use crate::error::{SourceLoc, TypeError};
use crate::id::NodeId;
use crate::infer::infer;
use crate::op::Op;
use crate::shape::TensorType;
use petgraph::Direction;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::EdgeRef;

/// The position of an operand in its user's operand list.
pub type Operand = u32;

/// One node: an op, the type of the tensor it produces, and metadata.
#[derive(Clone, Debug)]
pub struct Node {
    pub id: NodeId,
    pub op: Op,
    pub ty: TensorType,
    /// A human name (`fc1`, `encoder.0.attn.scores`), printed as a `; name` comment.
    pub name: Option<String>,
    /// The user's source line that built the node, when built by the DSL.
    pub loc: Option<SourceLoc>,
}

/// A static dataflow graph. See the crate docs for the model.
#[derive(Clone, Debug)]
pub struct Graph {
    name: String,
    g: StableDiGraph<Node, Operand>,
    /// `index[id]` is the petgraph slot of node `id`, `None` once removed.
    index: Vec<Option<NodeIndex>>,
}

impl Graph {
    /// An empty graph called `name`.
    pub fn new(name: impl Into<String>) -> Graph {
        Graph {
            name: name.into(),
            g: StableDiGraph::new(),
            index: Vec::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn set_name(&mut self, name: impl Into<String>) {
        self.name = name.into();
    }

    /// Adds a node, inferring its type from the op and its operands.
    pub fn add(&mut self, op: Op, operands: &[NodeId]) -> Result<NodeId, TypeError> {
        let types = operands
            .iter()
            .map(|&o| self.ty(o).clone())
            .collect::<Vec<_>>();
        let ty = infer(&op, &types)?;
        Ok(self.add_typed(op, ty, operands))
    }

    /// Adds a node with a given type, without checking it: for the parser (which
    /// checks afterwards, to report the line) and for tests of the verifier.
    ///
    /// Panics if an operand id is not in the graph (a bug in the caller, never
    /// user input: the parser resolves names before calling).
    pub fn add_typed(&mut self, op: Op, ty: TensorType, operands: &[NodeId]) -> NodeId {
        let id = NodeId(self.index.len() as u32);
        self.insert(id, op, ty, operands)
    }

    /// Adds a node with a chosen id (the parser keeps ids as written). The id
    /// must be unused; later nodes get ids above the largest one so far.
    pub fn add_with_id(
        &mut self,
        id: NodeId,
        op: Op,
        ty: TensorType,
        operands: &[NodeId],
    ) -> NodeId {
        assert!(!self.contains(id), "node id {id} is already used");
        self.insert(id, op, ty, operands)
    }

    fn insert(&mut self, id: NodeId, op: Op, ty: TensorType, operands: &[NodeId]) -> NodeId {
        let ix = self.g.add_node(Node {
            id,
            op,
            ty,
            name: None,
            loc: None,
        });
        if self.index.len() <= id.index() {
            self.index.resize(id.index() + 1, None);
        }
        self.index[id.index()] = Some(ix);
        for (pos, &o) in operands.iter().enumerate() {
            self.g.add_edge(self.ix(o), ix, pos as Operand);
        }
        id
    }

    /// Whether `id` names a live node.
    pub fn contains(&self, id: NodeId) -> bool {
        self.index.get(id.index()).is_some_and(|ix| ix.is_some())
    }

    fn ix(&self, id: NodeId) -> NodeIndex {
        match self.index.get(id.index()).copied().flatten() {
            Some(ix) => ix,
            None => panic!("node {id} is not in graph `{}`", self.name),
        }
    }

    /// The node `id`. Panics if it is not in the graph (ids come from the graph).
    pub fn node(&self, id: NodeId) -> &Node {
        &self.g[self.ix(id)]
    }

    /// Mutable access to a node's metadata and op. Changing the op or type is the
    /// caller's responsibility to keep consistent (the verifier checks).
    pub fn node_mut(&mut self, id: NodeId) -> &mut Node {
        let ix = self.ix(id);
        &mut self.g[ix]
    }

    pub fn op(&self, id: NodeId) -> &Op {
        &self.node(id).op
    }

    pub fn ty(&self, id: NodeId) -> &TensorType {
        &self.node(id).ty
    }

    /// Sets a node's human name.
    pub fn set_node_name(&mut self, id: NodeId, name: impl Into<String>) {
        self.node_mut(id).name = Some(name.into());
    }

    /// Number of live nodes (sinks included).
    pub fn len(&self) -> usize {
        self.g.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.g.node_count() == 0
    }

    /// One more than the largest id ever used: the id the next added node gets.
    pub fn next_id(&self) -> NodeId {
        NodeId(self.index.len() as u32)
    }

    /// Live node ids in increasing order.
    pub fn ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.index
            .iter()
            .enumerate()
            .filter(|(_, ix)| ix.is_some())
            .map(|(i, _)| NodeId(i as u32))
    }

    /// Live nodes in increasing id order.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> + '_ {
        self.index.iter().flatten().map(|&ix| &self.g[ix])
    }

    /// The operands of `id`, in position order.
    pub fn operands(&self, id: NodeId) -> Vec<NodeId> {
        let mut edges: Vec<(Operand, NodeId)> = self
            .g
            .edges_directed(self.ix(id), Direction::Incoming)
            .map(|e| (*e.weight(), self.g[e.source()].id))
            .collect();
        edges.sort_unstable();
        edges.into_iter().map(|(_, o)| o).collect()
    }

    /// Raw operand edges of `id` as `(position, operand)`, unsorted and
    /// unchecked: for the verifier, which checks positions are `0..n`.
    pub fn operand_edges(&self, id: NodeId) -> Vec<(Operand, NodeId)> {
        let mut edges: Vec<(Operand, NodeId)> = self
            .g
            .edges_directed(self.ix(id), Direction::Incoming)
            .map(|e| (*e.weight(), self.g[e.source()].id))
            .collect();
        edges.sort_unstable();
        edges
    }

    /// The users of `id` as `(user, position)`, sorted by user id then position.
    pub fn users(&self, id: NodeId) -> Vec<(NodeId, Operand)> {
        let mut users: Vec<(NodeId, Operand)> = self
            .g
            .edges_directed(self.ix(id), Direction::Outgoing)
            .map(|e| (self.g[e.target()].id, *e.weight()))
            .collect();
        users.sort_unstable();
        users
    }

    /// Whether any node uses `id`.
    pub fn has_users(&self, id: NodeId) -> bool {
        self.g
            .edges_directed(self.ix(id), Direction::Outgoing)
            .next()
            .is_some()
    }

    /// Makes every user of `old` use `new` instead. `old` stays (dead-code
    /// elimination removes it).
    pub fn replace_all_uses(&mut self, old: NodeId, new: NodeId) {
        if old == new {
            return;
        }
        let (old_ix, new_ix) = (self.ix(old), self.ix(new));
        let uses: Vec<_> = self
            .g
            .edges_directed(old_ix, Direction::Outgoing)
            .map(|e| (e.id(), e.target(), *e.weight()))
            .collect();
        for (edge, user, pos) in uses {
            self.g.remove_edge(edge);
            self.g.add_edge(new_ix, user, pos);
        }
    }

    /// Replaces operand `pos` of `user` with `new`.
    pub fn set_operand(&mut self, user: NodeId, pos: usize, new: NodeId) {
        let user_ix = self.ix(user);
        let edge = self
            .g
            .edges_directed(user_ix, Direction::Incoming)
            .find(|e| *e.weight() == pos as Operand)
            .map(|e| e.id());
        if let Some(edge) = edge {
            self.g.remove_edge(edge);
        }
        let new_ix = self.ix(new);
        self.g.add_edge(new_ix, user_ix, pos as Operand);
    }

    /// Replaces the op, type and operands of `id` in place, keeping its id,
    /// name and users.
    pub fn rewrite(&mut self, id: NodeId, op: Op, ty: TensorType, operands: &[NodeId]) {
        let ix = self.ix(id);
        let old: Vec<_> = self
            .g
            .edges_directed(ix, Direction::Incoming)
            .map(|e| e.id())
            .collect();
        for e in old {
            self.g.remove_edge(e);
        }
        for (pos, &o) in operands.iter().enumerate() {
            let oix = self.ix(o);
            self.g.add_edge(oix, ix, pos as Operand);
        }
        let node = &mut self.g[ix];
        node.op = op;
        node.ty = ty;
    }

    /// Removes a node and its edges. Users of it lose that operand; callers
    /// remove dead nodes only (the verifier catches mistakes).
    pub fn remove(&mut self, id: NodeId) {
        let ix = self.ix(id);
        self.g.remove_node(ix);
        self.index[id.index()] = None;
    }

    /// The deterministic topological order used by the printer, the evaluator
    /// and the scheduler: sources first (in id order), then, for each sink in
    /// id order, its not yet visited operands depth-first in operand order and
    /// the sink itself; nodes reaching no sink come last. Each value is thus
    /// computed close to where it is used, like code written by hand, and the
    /// order depends only on the graph's structure, not on when nodes were
    /// added. `Err` holds the ids of nodes on or behind a cycle.
    pub fn topo_order(&self) -> Result<Vec<NodeId>, Vec<NodeId>> {
        const UNSEEN: u8 = 0;
        const OPEN: u8 = 1;
        const DONE: u8 = 2;
        let mut mark = vec![UNSEEN; self.index.len()];
        let mut order = Vec::with_capacity(self.len());
        for node in self.nodes().filter(|n| n.op.is_source()) {
            if self
                .g
                .edges_directed(self.ix(node.id), Direction::Incoming)
                .next()
                .is_none()
            {
                mark[node.id.index()] = DONE;
                order.push(node.id);
            }
        }
        let sinks = self.nodes().filter(|n| n.op.is_sink()).map(|n| n.id);
        let rest: Vec<NodeId> = self.ids().collect();
        for root in sinks.chain(rest) {
            if mark[root.index()] != UNSEEN {
                continue;
            }
            // Iterative depth-first search: (node, operands, next operand to visit).
            let mut stack = vec![(root, self.operands(root), 0usize)];
            mark[root.index()] = OPEN;
            while let Some((id, operands, next)) = stack.last_mut() {
                if let Some(&o) = operands.get(*next) {
                    *next += 1;
                    match mark[o.index()] {
                        UNSEEN => {
                            mark[o.index()] = OPEN;
                            let ops = self.operands(o);
                            stack.push((o, ops, 0));
                        }
                        OPEN => return Err(self.stuck_nodes()),
                        _ => {}
                    }
                } else {
                    mark[id.index()] = DONE;
                    order.push(*id);
                    stack.pop();
                }
            }
        }
        Ok(order)
    }

    /// The nodes Kahn's algorithm cannot order: those on or behind a cycle.
    fn stuck_nodes(&self) -> Vec<NodeId> {
        let mut pending: Vec<usize> = vec![0; self.index.len()];
        let mut ready = Vec::new();
        for node in self.nodes() {
            let n = self
                .g
                .edges_directed(self.ix(node.id), Direction::Incoming)
                .count();
            pending[node.id.index()] = n;
            if n == 0 {
                ready.push(node.id);
            }
        }
        while let Some(id) = ready.pop() {
            for e in self.g.edges_directed(self.ix(id), Direction::Outgoing) {
                let user = self.g[e.target()].id;
                pending[user.index()] -= 1;
                if pending[user.index()] == 0 {
                    ready.push(user);
                }
            }
        }
        self.ids().filter(|id| pending[id.index()] > 0).collect()
    }

    /// Nodes whose op satisfies `pred`, in id order.
    pub fn find(&self, pred: impl Fn(&Op) -> bool) -> Vec<NodeId> {
        self.nodes().filter(|n| pred(&n.op)).map(|n| n.id).collect()
    }

    /// The `input` nodes in id order.
    pub fn inputs(&self) -> Vec<NodeId> {
        self.find(|op| matches!(op, Op::Input { .. }))
    }

    /// The `param` nodes in id order.
    pub fn params(&self) -> Vec<NodeId> {
        self.find(|op| matches!(op, Op::Param { .. }))
    }

    /// The `state` nodes in id order.
    pub fn states(&self) -> Vec<NodeId> {
        self.find(|op| matches!(op, Op::State { .. }))
    }

    /// The `output` sinks in id order.
    pub fn outputs(&self) -> Vec<NodeId> {
        self.find(|op| matches!(op, Op::Output { .. }))
    }

    /// The `update` sinks in id order.
    pub fn updates(&self) -> Vec<NodeId> {
        self.find(|op| matches!(op, Op::Update { .. }))
    }

    /// The node producing output `name` (the operand of the `output` sink).
    pub fn output(&self, name: &str) -> Option<NodeId> {
        let sink = self
            .outputs()
            .into_iter()
            .find(|&s| matches!(self.op(s), Op::Output { name: n } if n == name))?;
        self.operands(sink).first().copied()
    }

    /// The source node (`input`, `param` or `state`) called `name`.
    pub fn source(&self, name: &str) -> Option<NodeId> {
        self.nodes()
            .find(|n| {
                matches!(&n.op, Op::Input { name: s, .. } | Op::Param { name: s, .. } | Op::State { name: s, .. } if s == name)
            })
            .map(|n| n.id)
    }

    /// Renumbers nodes densely (0, 1, 2, ...) in topological order, sinks
    /// last, keeping names, locations and edges. Used by the `compact` pass and the parser's
    /// tests; on a cyclic graph nothing changes.
    pub fn compact(&mut self) {
        let Ok(mut order) = self.topo_order() else {
            return;
        };
        // Sinks are printed without ids after everything else; numbering them
        // last leaves no holes in the printed ids.
        order.sort_by_key(|&id| self.op(id).is_sink());
        let mut fresh = Graph::new(self.name.clone());
        let mut map = vec![NodeId(0); self.index.len()];
        for (i, &old) in order.iter().enumerate() {
            map[old.index()] = NodeId(i as u32);
        }
        for &old in &order {
            let node = self.node(old);
            let ops: Vec<NodeId> = self.operands(old).iter().map(|o| map[o.index()]).collect();
            let id = fresh.add_typed(node.op.clone(), node.ty.clone(), &ops);
            let n = fresh.node_mut(id);
            n.name = node.name.clone();
            n.loc = node.loc;
        }
        *self = fresh;
    }
}

/// Structural equality: the same name; the same non-sink nodes (ids, ops,
/// types, names, operands); the same sinks in the same order. Sink ids are not
/// compared (the text form does not print them) and neither are source locations.
impl PartialEq for Graph {
    fn eq(&self, other: &Graph) -> bool {
        let body = |g: &Graph| -> Vec<NodeId> { g.ids().filter(|&i| !g.op(i).is_sink()).collect() };
        let sinks = |g: &Graph| -> Vec<(Op, Vec<NodeId>)> {
            g.nodes()
                .filter(|n| n.op.is_sink())
                .map(|n| (n.op.clone(), g.operands(n.id)))
                .collect()
        };
        let (a_ids, b_ids) = (body(self), body(other));
        self.name == other.name
            && a_ids == b_ids
            && a_ids.iter().all(|&id| {
                let (a, b) = (self.node(id), other.node(id));
                a.op == b.op
                    && a.ty == b.ty
                    && a.name == b.name
                    && self.operands(id) == other.operands(id)
            })
            && sinks(self) == sinks(other)
    }
}
