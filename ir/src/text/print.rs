//! Prints a graph as `.kir` text (the grammar is in [`super`]).
//!
//! The output is deterministic, so it can be snapshotted and diffed between
//! passes: nodes come in topological order with ties broken by id, ids are
//! printed as they are (never renumbered), and nothing iterates a hash map.
//! Attributes that the node's type already states (a reshape's shape, a cast's
//! target dtype, ...) are not printed; the parser takes them from the type.

use super::lexer::{is_ident_char, is_ident_start, quote};
use crate::graph::Graph;
use crate::id::NodeId;
use crate::op::{ConvParams, Op, PoolParams};
use std::fmt::{self, Write};

/// The `.kir` text of the graph, ending with a newline.
impl fmt::Display for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_graph(f, self, &mut |_, _| Ok(()))
    }
}

/// The printed line of one node, without indentation: `%4: f32[2,3] = add %1, %2`,
/// or `output "loss" = %9` for a sink. Used by the verifier and by error
/// messages to show the node as the user would see it in a dump.
pub fn node_line(graph: &Graph, id: NodeId) -> String {
    let mut line = String::new();
    // Writing to a String cannot fail.
    let _ = write_node(&mut line, graph, id);
    line
}

/// The order nodes are printed in: non-sinks topologically (ties by id), then
/// sinks by id. A cyclic graph (which only a broken pass produces) is printed
/// in id order instead, so the verifier can still show it.
pub(crate) fn print_order(graph: &Graph) -> Vec<NodeId> {
    let mut order = graph.topo_order().unwrap_or_else(|_| graph.ids().collect());
    order.retain(|&id| !graph.op(id).is_sink());
    order.extend(graph.ids().filter(|&id| graph.op(id).is_sink()));
    order
}

/// Writes the whole graph, calling `after` after each node's line (the
/// verifier uses it to put error lines under the nodes they are about).
pub(crate) fn write_graph(
    out: &mut dyn Write,
    graph: &Graph,
    after: &mut dyn FnMut(&mut dyn Write, NodeId) -> fmt::Result,
) -> fmt::Result {
    writeln!(out, "graph {} {{", graph_name(graph.name()))?;
    for id in print_order(graph) {
        writeln!(out, "  {}", node_line(graph, id))?;
        after(out, id)?;
    }
    writeln!(out, "}}")
}

/// A graph name as an identifier when it is one, else as a quoted string.
fn graph_name(name: &str) -> String {
    let mut chars = name.chars();
    let ident = chars.next().is_some_and(is_ident_start) && chars.all(is_ident_char);
    if ident { name.to_string() } else { quote(name) }
}

fn write_node(out: &mut String, graph: &Graph, id: NodeId) -> fmt::Result {
    let node = graph.node(id);
    let operands = graph
        .operands(id)
        .iter()
        .map(|o| o.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    match &node.op {
        Op::Output { name } => write!(out, "output {} = {operands}", quote(name))?,
        Op::Update { target } => write!(out, "update {} <- {operands}", quote(target))?,
        op => {
            write!(out, "{id}: {} = {}", node.ty, op.name())?;
            match op {
                Op::Input { name, .. } | Op::Param { name, .. } | Op::State { name, .. } => {
                    write!(out, " {}", quote(name))?
                }
                Op::Const { value } => write!(out, " {value}")?,
                _ => {}
            }
            if !operands.is_empty() {
                write!(out, " {operands}")?;
            }
            for (key, value) in attributes(op) {
                write!(out, " {key}={value}")?;
            }
        }
    }
    if let Some(name) = node.name.as_deref().and_then(clean_name) {
        write!(out, "  ; {name}")?;
    }
    Ok(())
}

/// A node name as the text form holds it. A name is the rest of its line, so
/// line breaks become spaces, and it is trimmed; an empty name is no name.
/// The printer and the parser both apply this, so a parsed name prints back
/// as written.
pub(crate) fn clean_name(name: &str) -> Option<String> {
    let one_line: String = name
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    let trimmed = one_line.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// The printed `key=value` attributes of an op, in print order. Anything the
/// node's type states is left out; flags print only when set.
fn attributes(op: &Op) -> Vec<(&'static str, String)> {
    let mut attrs = Vec::new();
    let flag = |attrs: &mut Vec<_>, key, set: bool| {
        if set {
            attrs.push((key, "true".to_string()));
        }
    };
    match op {
        Op::Param { init, .. } | Op::State { init, .. } => attrs.push(("init", init.to_string())),
        Op::Iota { axis, .. } | Op::Concat { axis } | Op::Gather { axis } => {
            attrs.push(("axis", axis.to_string()))
        }
        Op::ScatterAdd { axis, .. } => attrs.push(("axis", axis.to_string())),
        Op::Reduce { axes, keepdims, .. } => {
            attrs.push(("axes", list(axes)));
            flag(&mut attrs, "keepdims", *keepdims);
        }
        Op::ArgMax { axis, keepdims } => {
            attrs.push(("axis", axis.to_string()));
            flag(&mut attrs, "keepdims", *keepdims);
        }
        Op::Permute { perm } => attrs.push(("perm", list(perm))),
        Op::Slice {
            axis,
            start,
            end,
            step,
        } => attrs.extend([
            ("axis", axis.to_string()),
            ("start", start.to_string()),
            ("end", end.to_string()),
            ("step", step.to_string()),
        ]),
        Op::Pad {
            axis,
            low,
            high,
            interior,
            value,
        } => attrs.extend([
            ("axis", axis.to_string()),
            ("low", low.to_string()),
            ("high", high.to_string()),
            ("interior", interior.to_string()),
            ("value", value.to_string()),
        ]),
        Op::MatMul {
            transpose_lhs,
            transpose_rhs,
        } => {
            flag(&mut attrs, "transpose_lhs", *transpose_lhs);
            flag(&mut attrs, "transpose_rhs", *transpose_rhs);
        }
        Op::Conv2d(conv) | Op::Conv2dInputGrad { conv, .. } | Op::Conv2dWeightGrad { conv, .. } => {
            conv_attributes(&mut attrs, conv)
        }
        Op::MaxPool2d(pool)
        | Op::MaxPool2dGrad(pool)
        | Op::AvgPool2d(pool)
        | Op::AvgPool2dGrad { pool, .. } => pool_attributes(&mut attrs, pool),
        Op::RandomUniform { seed, .. } => attrs.push(("seed", seed.to_string())),
        Op::RandomBernoulli { p, seed, .. } => {
            attrs.extend([("p", p.to_string()), ("seed", seed.to_string())])
        }
        Op::Input { .. }
        | Op::Const { .. }
        | Op::Output { .. }
        | Op::Update { .. }
        | Op::Unary(_)
        | Op::Binary(_)
        | Op::Where
        | Op::Cast { .. }
        | Op::Reshape { .. }
        | Op::StopGradient
        | Op::Broadcast { .. }
        | Op::OneHot { .. } => {}
    }
    attrs
}

fn conv_attributes(attrs: &mut Vec<(&'static str, String)>, conv: &ConvParams) {
    attrs.extend([
        ("stride", list(&conv.stride)),
        ("padding", list(&conv.padding)),
        ("dilation", list(&conv.dilation)),
        ("groups", conv.groups.to_string()),
    ]);
}

fn pool_attributes(attrs: &mut Vec<(&'static str, String)>, pool: &PoolParams) {
    attrs.extend([
        ("kernel", list(&pool.kernel)),
        ("stride", list(&pool.stride)),
        ("padding", list(&pool.padding)),
    ]);
}

/// `[1,0]`: integer lists print like shapes.
fn list(items: &[usize]) -> String {
    let items: Vec<String> = items.iter().map(|i| i.to_string()).collect();
    format!("[{}]", items.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::GraphBuilder;
    use crate::op::Init;

    #[test]
    fn prints_the_documented_form() {
        let b = GraphBuilder::new("mlp");
        let x = b.input("x", &[2, 3]);
        let w = b.param("fc1.weight", &[3, 4], Init::Zeros);
        let h = x.matmul(w).named("fc1").relu();
        b.output("y", h.sum(&[0, 1][..]));
        b.update("fc1.weight", w);
        let g = b.build().unwrap();
        assert_eq!(
            g.to_string(),
            "graph mlp {
  %0: f32[2,3] = input \"x\"
  %1: f32[3,4] = param \"fc1.weight\" init=zeros
  %2: f32[2,4] = matmul %0, %1  ; fc1
  %3: f32[2,4] = relu %2
  %4: f32[] = reduce_sum %3 axes=[0,1]
  output \"y\" = %4
  update \"fc1.weight\" <- %1
}
"
        );
        assert_eq!(
            node_line(&g, NodeId(2)),
            "%2: f32[2,4] = matmul %0, %1  ; fc1"
        );
    }

    #[test]
    fn a_cyclic_graph_prints_in_id_order() {
        let b = GraphBuilder::new("cycle");
        let x = b.input("x", &[2]);
        let y = x.exp();
        let z = y.neg();
        b.output("z", z);
        let mut g = b.build().unwrap();
        g.set_operand(NodeId(1), 0, NodeId(2));
        assert_eq!(
            g.to_string(),
            "graph cycle {
  %0: f32[2] = input \"x\"
  %1: f32[2] = exp %2
  %2: f32[2] = neg %1
  output \"z\" = %2
}
"
        );
    }

    #[test]
    fn names_that_are_not_identifiers_are_quoted() {
        assert_eq!(graph_name("resnet-18.v2"), "resnet-18.v2");
        assert_eq!(graph_name("my model"), "\"my model\"");
        assert_eq!(graph_name(""), "\"\"");
        assert_eq!(graph_name("3d"), "\"3d\"");
    }
}
