//! Reads `.kir` text back into a [`Graph`] (the grammar is in [`super`]).
//!
//! A recursive-descent parser over the tokens of `lexer.rs`, one line per
//! node. Ids are kept as written (`Graph::add_with_id`), so printing a parsed
//! graph gives back the same text. Every node's op is rebuilt from its name,
//! attributes and declared type (`attrs.rs`) and re-typed with [`infer`]; a
//! declared type that disagrees is an error at the type. Sinks carry no id in
//! the text: they are added after the closing `}`, in the order written, with
//! fresh ids above every id seen.
//!
//! Errors name a line and column, what was expected and what was found. The
//! parser never panics, whatever the input: numbers are range-checked before
//! any arithmetic and nesting is bounded (lists hold numbers only).
//!
//! The parser checks what it needs to build the graph (defined operands,
//! unique ids, well-typed nodes); graph-wide invariants such as unique names
//! are the verifier's job: callers run [`crate::verify()`] after parsing.

use super::attrs::{self, Attr, Attrs, MAX_INT, OpText, Spanned, Value};
use super::lexer::{Lexer, Located, Pos, Token};
use super::print::clean_name;
use crate::dtype::DType;
use crate::error::ParseError;
use crate::graph::Graph;
use crate::id::NodeId;
use crate::infer::infer;
use crate::op::Op;
use crate::shape::{Shape, TensorType};
use std::collections::BTreeMap;

/// The largest node id the text form accepts. Ids index a dense table in the
/// graph, so an absurd id would mean an absurd allocation.
const MAX_ID: u32 = (1 << 24) - 1;

/// The largest number of elements a tensor type may have (so that sizes in
/// bytes can never overflow).
const MAX_ELEMENTS: usize = 1 << 48;

/// Parses `.kir` text into a graph. Does not run the verifier; callers do.
pub fn parse(src: &str) -> Result<Graph, ParseError> {
    let mut lexer = Lexer::new(src);
    let next = lexer.next_token();
    let mut parser = Parser {
        lexer,
        next,
        graph: Graph::new(""),
        defined: BTreeMap::new(),
        sinks: Vec::new(),
    };
    parser.graph()?;
    Ok(parser.graph)
}

/// A sink read from the text, added once every node is in.
struct Sink {
    op: Op,
    operand: NodeId,
    name: Option<String>,
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    /// The lookahead token, or the lexer's error for it (reported only when
    /// the parser gets there, so errors come in text order).
    next: Result<Located<'a>, ParseError>,
    graph: Graph,
    /// The line each node id was defined on.
    defined: BTreeMap<NodeId, usize>,
    sinks: Vec<Sink>,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Result<&Located<'a>, ParseError> {
        self.next.as_ref().map_err(Clone::clone)
    }

    fn bump(&mut self) -> Result<Located<'a>, ParseError> {
        let next = self.lexer.next_token();
        std::mem::replace(&mut self.next, next)
    }

    /// An error at the lookahead token.
    fn unexpected(&self, expected: impl Into<String>) -> ParseError {
        match self.peek() {
            Ok(t) => t.pos.error(expected, t.token.describe()),
            Err(e) => e,
        }
    }

    /// Consumes a token equal to `token`, or fails saying `expected`.
    fn expect(&mut self, token: Token<'_>, expected: &str) -> Result<Pos, ParseError> {
        if self.peek()?.token == token {
            Ok(self.bump()?.pos)
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// Skips empty lines and lines holding only a comment.
    fn skip_blank_lines(&mut self) -> Result<(), ParseError> {
        while matches!(self.peek()?.token, Token::Newline | Token::Comment(_)) {
            self.bump()?;
        }
        Ok(())
    }

    /// The end of a line: an optional `; comment` (returned, trimmed, as a
    /// node name), then a newline or the end of the text.
    fn end_of_line(&mut self, expected: &str) -> Result<Option<String>, ParseError> {
        let mut name = None;
        if let Token::Comment(text) = self.peek()?.token {
            name = clean_name(text);
            self.bump()?;
        }
        match self.peek()?.token {
            Token::Newline => {
                self.bump()?;
                Ok(name)
            }
            Token::Eof => Ok(name),
            _ => Err(self.unexpected(expected)),
        }
    }

    /// `graph NAME {`, the lines, `}`.
    fn graph(&mut self) -> Result<(), ParseError> {
        self.skip_blank_lines()?;
        if self.peek()?.token != Token::Ident("graph") {
            return Err(self.unexpected("`graph NAME {` to start the text"));
        }
        self.bump()?;
        let name = match self.bump()? {
            Located {
                token: Token::Ident(name),
                ..
            } => name.to_string(),
            Located {
                token: Token::Str(name),
                ..
            } => name,
            Located { token, pos } => {
                return Err(pos.error(
                    "a graph name (an identifier, or a string in quotes)",
                    token.describe(),
                ));
            }
        };
        self.graph.set_name(name);
        let open = self.expect(Token::LBrace, "`{` after the graph name")?;
        self.end_of_line("the end of the line after `{` (one node per line)")?;
        loop {
            self.skip_blank_lines()?;
            let next = self.peek()?;
            match next.token {
                Token::RBrace => break,
                Token::Id(_) => self.node()?,
                Token::Ident("output" | "update") => self.sink()?,
                Token::Eof => {
                    return Err(next.pos.error(
                        format!("`}}` closing the graph opened on line {}", open.line),
                        "end of input",
                    ));
                }
                _ => {
                    return Err(
                        self.unexpected("a node (`%N: type = op ...`), `output`, `update` or `}`")
                    );
                }
            }
        }
        self.bump()?;
        self.skip_blank_lines()?;
        if self.peek()?.token != Token::Eof {
            return Err(self.unexpected("the end of the text after the graph's `}`"));
        }
        for sink in std::mem::take(&mut self.sinks) {
            let ty = self.graph.ty(sink.operand).clone();
            let id = self.graph.add_typed(sink.op, ty, &[sink.operand]);
            self.graph.node_mut(id).name = sink.name;
        }
        Ok(())
    }

    /// `%ID: TYPE = OP [%a, %b] [key=value ...] [; name]`.
    fn node(&mut self) -> Result<(), ParseError> {
        let Located { token, pos } = self.bump()?;
        let Token::Id(n) = token else {
            return Err(pos.error("a node id", token.describe()));
        };
        let id = NodeId(n);
        if n > MAX_ID {
            return Err(pos.error(format!("a node id up to %{MAX_ID}"), format!("`{id}`")));
        }
        if let Some(line) = self.defined.get(&id) {
            return Err(pos.error(
                "a new node id",
                format!("`{id}`, already defined on line {line}"),
            ));
        }
        self.expect(Token::Colon, "`:` and the node's type after its id")?;
        let ty_pos = self.peek()?.pos;
        let ty = self.tensor_type()?;
        self.expect(Token::Equals, "`=` and an op after the type")?;

        let (op_name, op_pos) = self.op_name()?;
        let symbol = match op_name {
            "input" | "param" | "state" => {
                Some(self.string(&format!("the {op_name}'s name in quotes"))?)
            }
            _ => None,
        };
        let literal = match op_name {
            "const" => Some(self.value()?),
            _ => None,
        };
        let operands = self.operands()?;
        let items = self.attributes()?;
        let end = self.peek()?;
        let (end_pos, end_found) = (end.pos, end.token.describe());
        let name = self.end_of_line(
            "`, %ID` (another operand), `key=value` (an attribute), `; name` or the end of the line",
        )?;

        let valid = attrs::attribute_names(op_name).unwrap_or(&[]);
        let mut attributes = Attrs::new(format!("`{op_name}`"), valid, items, end_pos, end_found)?;
        let text = OpText {
            name: op_name,
            pos: op_pos,
            symbol,
            literal,
            ty: &ty,
            ty_pos,
        };
        let op = attrs::build_op(text, &mut attributes)?;
        self.check_type(&op, op_pos, &operands, &ty, ty_pos)?;

        self.graph.add_with_id(id, op, ty, &operands);
        self.graph.node_mut(id).name = name;
        self.defined.insert(id, pos.line);
        Ok(())
    }

    /// The op's name, which must be a known op other than a sink.
    fn op_name(&mut self) -> Result<(&'a str, Pos), ParseError> {
        let Located { token, pos } = self.bump()?;
        match token {
            Token::Ident("output" | "update") => Err(pos.error(
                "an op that is not a sink (write sinks as `output \"NAME\" = %ID` or `update \"TARGET\" <- %ID`, without an id)",
                token.describe(),
            )),
            Token::Ident(name) if attrs::attribute_names(name).is_some() => Ok((name, pos)),
            _ => {
                let names: Vec<&str> = Op::all_names()
                    .into_iter()
                    .filter(|n| !matches!(*n, "output" | "update"))
                    .collect();
                Err(pos.error(
                    format!("an op name (one of: {})", names.join(", ")),
                    token.describe(),
                ))
            }
        }
    }

    /// Requires the op to take its operands and to give the declared type.
    fn check_type(
        &self,
        op: &Op,
        op_pos: Pos,
        operands: &[NodeId],
        declared: &TensorType,
        ty_pos: Pos,
    ) -> Result<(), ParseError> {
        let count = |n: usize| format!("{n} operand{}", if n == 1 { "" } else { "s" });
        match op.arity() {
            Some(n) if n != operands.len() => {
                return Err(op_pos.error(
                    format!("{} (`{}` takes {n})", count(n), op.name()),
                    count(operands.len()),
                ));
            }
            None if operands.is_empty() => {
                return Err(op_pos.error(
                    format!("at least 1 operand (`{}` takes 1 or more)", op.name()),
                    count(0),
                ));
            }
            _ => {}
        }
        let types: Vec<TensorType> = operands.iter().map(|&o| self.graph.ty(o).clone()).collect();
        match infer(op, &types) {
            Err(err) => {
                let found = if operands.is_empty() {
                    err.to_string()
                } else {
                    let list: Vec<String> = operands
                        .iter()
                        .zip(&types)
                        .map(|(o, t)| format!("{o}: {t}"))
                        .collect();
                    format!("{} ({err})", list.join(", "))
                };
                Err(op_pos.error(
                    format!("operands and attributes that `{}` accepts", op.name()),
                    found,
                ))
            }
            Ok(inferred) if inferred != *declared => Err(ty_pos.error(
                format!("{inferred} (the type `{}` gives)", op.name()),
                declared.to_string(),
            )),
            Ok(_) => Ok(()),
        }
    }

    /// `output "NAME" = %ID` or `update "TARGET" <- %ID`.
    fn sink(&mut self) -> Result<(), ParseError> {
        let keyword = self.bump()?.token;
        let op = if keyword == Token::Ident("output") {
            let name = self.string("the output's name in quotes")?;
            self.expect(Token::Equals, "`=` after the output's name")?;
            Op::Output { name }
        } else {
            let target = self.string("the name of the param or state to update, in quotes")?;
            self.expect(Token::Arrow, "`<-` after the update's target")?;
            Op::Update { target }
        };
        let operand = self.operand()?;
        let name = self.end_of_line("`; name` or the end of the line")?;
        self.sinks.push(Sink { op, operand, name });
        Ok(())
    }

    /// `f32[128,784]`, `i32[]`.
    fn tensor_type(&mut self) -> Result<TensorType, ParseError> {
        const EXPECTED: &str = "a type like `f32[2,3]` or `i32[]`";
        let Located { token, pos } = self.bump()?;
        let dtype = match token {
            Token::Ident(name) => DType::from_name(name),
            _ => None,
        };
        let Some(dtype) = dtype else {
            return Err(pos.error(EXPECTED, token.describe()));
        };
        self.expect(Token::LBracket, "`[` and the dimensions after the dtype")?;
        let mut dims = Vec::new();
        if self.peek()?.token != Token::RBracket {
            loop {
                dims.push(attrs::to_usize(&self.atom()?)?);
                if self.peek()?.token == Token::Comma {
                    self.bump()?;
                } else {
                    break;
                }
            }
        }
        self.expect(Token::RBracket, "`,` and another dimension, or `]`")?;
        let ty = TensorType::new(dtype, Shape(dims));
        let numel = ty
            .shape
            .dims()
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d));
        if numel.is_none_or(|n| n > MAX_ELEMENTS) {
            return Err(pos.error(
                format!("a type of at most 2^48 elements (dimensions up to {MAX_INT})"),
                ty.to_string(),
            ));
        }
        Ok(ty)
    }

    /// A string in quotes.
    fn string(&mut self, expected: &str) -> Result<String, ParseError> {
        if !matches!(self.peek()?.token, Token::Str(_)) {
            return Err(self.unexpected(expected));
        }
        match self.bump()? {
            Located {
                token: Token::Str(s),
                ..
            } => Ok(s),
            Located { token, pos } => Err(pos.error(expected, token.describe())),
        }
    }

    /// `%ID` of a node defined on an earlier line.
    fn operand(&mut self) -> Result<NodeId, ParseError> {
        let Located { token, pos } = self.peek()?.clone();
        let Token::Id(n) = token else {
            return Err(self.unexpected("an operand `%ID`"));
        };
        let id = NodeId(n);
        if !self.defined.contains_key(&id) {
            return Err(pos.error("an operand defined on an earlier line", format!("`{id}`")));
        }
        self.bump()?;
        Ok(id)
    }

    /// `%a, %b, ...`, possibly none.
    fn operands(&mut self) -> Result<Vec<NodeId>, ParseError> {
        let mut operands = Vec::new();
        if !matches!(self.peek()?.token, Token::Id(_)) {
            return Ok(operands);
        }
        loop {
            operands.push(self.operand()?);
            if self.peek()?.token != Token::Comma {
                return Ok(operands);
            }
            self.bump()?;
        }
    }

    /// `key=value key=value ...`, possibly none.
    fn attributes(&mut self) -> Result<Vec<Attr<'a>>, ParseError> {
        let mut items = Vec::new();
        while let Token::Ident(key) = self.peek()?.token {
            let pos = self.bump()?.pos;
            self.expect(Token::Equals, &format!("`=` and a value after `{key}`"))?;
            let value = self.value()?;
            items.push(Attr { key, pos, value });
        }
        Ok(items)
    }

    /// A number or a word.
    fn atom(&mut self) -> Result<Spanned<'a>, ParseError> {
        let value = match self.peek()?.token {
            Token::Number(s) => Value::Number(s),
            Token::Ident(w) => Value::Word(w),
            _ => return Err(self.unexpected("a number or a name")),
        };
        let pos = self.bump()?.pos;
        Ok(Spanned { pos, value })
    }

    /// An atom, a list of atoms `[a, b]`, or an initializer `name(key=atom, ...)`.
    fn value(&mut self) -> Result<Spanned<'a>, ParseError> {
        let pos = self.peek()?.pos;
        match self.peek()?.token {
            Token::LBracket => {
                self.bump()?;
                let mut items = Vec::new();
                if self.peek()?.token != Token::RBracket {
                    loop {
                        items.push(self.atom()?);
                        if self.peek()?.token != Token::Comma {
                            break;
                        }
                        self.bump()?;
                    }
                }
                self.expect(Token::RBracket, "`,` and another element, or `]`")?;
                Ok(Spanned {
                    pos,
                    value: Value::List(items),
                })
            }
            Token::Ident(name) => {
                self.bump()?;
                if self.peek()?.token != Token::LParen {
                    return Ok(Spanned {
                        pos,
                        value: Value::Word(name),
                    });
                }
                self.bump()?;
                let mut args = Vec::new();
                while self.peek()?.token != Token::RParen {
                    let Located { token, pos } = self.bump()?;
                    let Token::Ident(key) = token else {
                        return Err(pos.error("an argument `key=value` or `)`", token.describe()));
                    };
                    self.expect(Token::Equals, &format!("`=` and a value after `{key}`"))?;
                    args.push(Attr {
                        key,
                        pos,
                        value: self.atom()?,
                    });
                    if self.peek()?.token != Token::Comma {
                        break;
                    }
                    self.bump()?;
                }
                let close = self.expect(Token::RParen, "`,` and another argument, or `)`")?;
                Ok(Spanned {
                    pos,
                    value: Value::Call { name, args, close },
                })
            }
            _ => self.atom(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let src = r#"
; a comment before the graph
graph mlp {
  %0: f32[128,784] = input "x"
  %1: i32[128] = input "y"
  %2: f32[784,256] = param "fc1.weight" init=kaiming_uniform(fan_in=784, gain=1.4142135)
  %3: f32[256] = param "fc1.bias" init=zeros

  %4: f32[128,256] = matmul %0, %2  ; fc1
  %5: f32[128,256] = broadcast %3
  %6: f32[128,256] = add %4, %5
  %7: f32[128,256] = relu %6
  %8: f32[] = const 2.0
  %9: f32[] = reduce_sum %7 axes=[0,1]
  output "loss" = %9
  update "fc1.bias" <- %3
}
"#;
        let g = parse(src).unwrap();
        assert_eq!(g.name(), "mlp");
        assert_eq!(g.len(), 12);
        assert_eq!(g.node(NodeId(4)).name.as_deref(), Some("fc1"));
        assert_eq!(g.output("loss"), Some(NodeId(9)));
        assert_eq!(g.updates(), vec![NodeId(11)]);
    }

    #[test]
    fn sinks_may_come_before_later_nodes() {
        // A sink's operand must still be defined above it.
        let err = parse("graph g {\n output \"a\" = %0\n %0: f32[] = const 1.0\n}").unwrap_err();
        assert_eq!((err.line, err.column), (2, 15));
        let g =
            parse("graph g {\n %0: f32[] = const 1.0\n output \"a\" = %0\n %1: f32[] = neg %0\n}")
                .unwrap();
        assert_eq!(g.outputs(), vec![NodeId(2)]);
    }
}
