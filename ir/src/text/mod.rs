//! The `.kir` text form of a graph: printer, parser and Graphviz output.
//!
//! Graphs are printed to be read by people (dumps between compiler passes,
//! snapshot tests, error messages) and parsed back to write test inputs by
//! hand. Printing a parsed text gives the same text, and parsing a printed
//! graph gives an equal graph ([`Graph`]'s `PartialEq`).
//!
//! # Example
//!
//! ```text
//! graph mlp {
//!   %0: f32[128,784] = input "x"
//!   %1: i32[128] = input "y"
//!   %2: f32[784,256] = param "fc1.weight" init=kaiming_uniform(fan_in=784, gain=1.4142135)
//!   %3: f32[256] = param "fc1.bias" init=zeros
//!   %4: f32[128,256] = matmul %0, %2  ; fc1
//!   %5: f32[128,256] = broadcast %3
//!   %6: f32[128,256] = add %4, %5
//!   %7: f32[128,256] = relu %6
//!   %8: f32[] = const 2.0
//!   %9: f32[] = reduce_sum %7 axes=[0,1]
//!   output "loss" = %9
//!   update "fc1.bias" <- %3
//! }
//! ```
//!
//! `%4: f32[128,256] = matmul %0, %2  ; fc1` reads: node 4 has type
//! `f32[128,256]` and is the `matmul` of nodes 0 and 2; its name is `fc1`.
//! Each node line states its type; the parser re-infers it from the op and the
//! operands' types and rejects the line if they disagree.
//!
//! # Grammar
//!
//! ```text
//! text      = blank* "graph" NAME "{" EOL (blank | node | sink)* "}" blank* EOF
//! node      = ID ":" type "=" OP source? operands? attribute* comment? EOL
//! source    = STRING            -- input, param, state: the name it is bound by
//!           | value             -- const: the literal
//! operands  = ID ("," ID)*
//! attribute = IDENT "=" value
//! value     = atom | "[" (atom ("," atom)*)? "]" | IDENT "(" (arg ("," arg)*)? ")"
//! arg       = IDENT "=" atom
//! atom      = NUMBER | IDENT
//! sink      = "output" STRING "=" ID comment? EOL
//!           | "update" STRING "<-" ID comment? EOL
//! type      = ("f32" | "i32") "[" (NUMBER ("," NUMBER)*)? "]"
//! comment   = ";" TEXT          -- on a node or sink line: its name (trimmed)
//! blank     = comment? EOL      -- comments on their own line are ignored
//!
//! NAME      = IDENT | STRING
//! ID        = "%" DIGITS
//! IDENT     = [A-Za-z_][A-Za-z0-9_.-]*
//! NUMBER    = "-"? DIGIT [A-Za-z0-9_.]* (with a sign after an exponent's e) | "-inf"
//! STRING    = '"' ... '"' on one line, escapes \" \\ \n \t \r \u{hex}
//! ```
//!
//! Floats are written as `f32`'s shortest round-trip spelling, always with a
//! `.` or an exponent (`1.0`, `-0.5`, `1e-8`), or as `inf`, `-inf`, `nan`.
//!
//! # Meaning
//!
//! - Ids are kept as written and never renumbered. An operand must be defined
//!   on an earlier line; an id may be defined once.
//! - Sinks carry no id: the parser adds them after the `}`, in the order
//!   written, with ids above every id in the text. The printer writes non-sink
//!   nodes in topological order (ties by smaller id), then sinks in id order.
//! - Attributes are written `key=value` in any order. Flags (`keepdims`,
//!   `transpose_lhs`, `transpose_rhs`) default to `false` and print only when
//!   `true`. Attributes the type states are not written: the shape of
//!   `reshape`, `broadcast` and the random ops, the dtype of `cast`, the type
//!   of `input`, `param`, `state`, `iota` and `const`, the `size` of
//!   `scatter_add` (the type's dim `axis`), the `depth` of `one_hot` (the last
//!   dim), the spatial size of `conv2d_input_grad`, `conv2d_weight_grad` and
//!   `avg_pool2d_grad` (the last two dims).
//! - Limits: ids up to 2^24 - 1; dimensions, axes and integer attributes up to
//!   2^31 - 1; at most 2^48 elements per tensor.
//!
//! | op | written as |
//! |---|---|
//! | `input` | `input "x"` |
//! | `param`, `state` | `param "fc1.weight" init=INIT`, INIT one of `zeros`, `ones`, `constant(value=0.5)`, `uniform(low=-0.1, high=0.1)`, `normal(mean=0.0, std=1.0)`, `xavier_uniform(fan_in=4, fan_out=2, gain=1.0)`, `xavier_normal(..same..)`, `kaiming_uniform(fan_in=784, gain=1.4142135)`, `kaiming_normal(..same..)` |
//! | `const` | `const 2.0`, `const [1, -2, 3]` (row-major elements; i32 as integers) |
//! | `iota` | `iota axis=0` |
//! | unary, binary, `where`, `cast` | `relu %3`, `add %1, %2`, `where %1, %2, %3`, `cast %3` |
//! | `reduce_sum` / `_max` / `_min` / `_mean` | `reduce_sum %3 axes=[1]`, `keepdims=true` when set |
//! | `argmax` | `argmax %3 axis=1`, `keepdims=true` when set |
//! | `reshape`, `broadcast`, `one_hot` | `reshape %3` |
//! | `permute` | `permute %3 perm=[1,0]` |
//! | `slice` | `slice %3 axis=1 start=0 end=128 step=1` |
//! | `pad` | `pad %3 axis=2 low=2 high=2 interior=0 value=0.0` |
//! | `concat`, `gather`, `scatter_add` | `concat %1, %2 axis=0` |
//! | `matmul` | `matmul %1, %2`, `transpose_lhs=true` / `transpose_rhs=true` when set |
//! | `conv2d`, `conv2d_input_grad`, `conv2d_weight_grad` | `conv2d %x, %w stride=[1,1] padding=[0,0] dilation=[1,1] groups=1` |
//! | `max_pool2d`, `avg_pool2d`, `max_pool2d_grad`, `avg_pool2d_grad` | `max_pool2d %x kernel=[2,2] stride=[2,2] padding=[0,0]` |
//! | `random_uniform`, `random_bernoulli` | `random_uniform %c seed=3`, `random_bernoulli %c p=0.9 seed=3` |
//!
//! [`Graph`]: crate::Graph

mod attrs;
mod dot;
mod lexer;
mod parse;
mod print;

pub use dot::to_dot;
pub use parse::parse;
pub use print::node_line;
pub(crate) use print::write_graph;
