//! Graphviz output, for looking at a graph as a picture
//! (`kiln-dump --dot model.kir | dot -Tsvg > model.svg`).
//!
//! One box per node, labelled with its id and op, its type and its name;
//! sources (inputs, params, states, constants) and sinks (outputs, updates)
//! are coloured apart from computation. An edge runs from an operand to its
//! user and is labelled with the operand's position when the order matters
//! (the user has more than one operand). Nodes and edges are written in id
//! order, so the output is deterministic.

use crate::graph::Graph;
use std::fmt::Write;

/// The graph as a Graphviz `digraph`.
pub fn to_dot(graph: &Graph) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_dot(&mut out, graph);
    out
}

fn write_dot(out: &mut String, graph: &Graph) -> std::fmt::Result {
    writeln!(out, "digraph {} {{", quoted(graph.name()))?;
    writeln!(out, "  node [shape=box, fontname=\"monospace\"];")?;
    writeln!(out, "  edge [fontname=\"monospace\"];")?;
    for node in graph.nodes() {
        let mut label = format!("{} {}", node.id, node.op.name());
        if let Some(symbol) = node.op.symbol() {
            write!(label, " \"{symbol}\"")?;
        }
        write!(label, "\n{}", node.ty)?;
        if let Some(name) = &node.name {
            write!(label, "\n{name}")?;
        }
        let style = if node.op.is_source() {
            ", style=\"rounded,filled\", fillcolor=\"#dbe9f6\""
        } else if node.op.is_sink() {
            ", style=\"filled\", fillcolor=\"#f8e1c4\""
        } else {
            ""
        };
        writeln!(out, "  n{} [label={}{style}];", node.id.0, quoted(&label))?;
    }
    for node in graph.nodes() {
        let edges = graph.operand_edges(node.id);
        let positional = edges.len() > 1;
        for (pos, operand) in edges {
            write!(out, "  n{} -> n{}", operand.0, node.id.0)?;
            if positional {
                write!(out, " [label=\"{pos}\"]")?;
            }
            writeln!(out, ";")?;
        }
    }
    writeln!(out, "}}")
}

/// A DOT string literal: `"` and `\` escaped, line breaks as `\n` (centred lines).
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        assert_eq!(quoted("a \"b\" \\n\nc"), r#""a \"b\" \\n\nc""#);
    }
}
