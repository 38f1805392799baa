//! Turns a parsed op name, its attribute values and the node's declared type
//! into an [`Op`]: the parser's half of the op spellings that `print.rs` writes.
//!
//! Attributes the type already states (a reshape's shape, a cast's dtype, a
//! one-hot depth, a convolution gradient's spatial size, ...) are not written
//! in the text; they are taken from the declared type here, and the parser then
//! checks with `infer` that the op really gives that type.
//!
//! Every number is range-checked on the way in (dimensions and integer
//! attributes at most `i32::MAX`), so that shape inference on parsed ops can
//! never overflow, whatever the text says.

use super::lexer::Pos;
use crate::dtype::DType;
use crate::error::ParseError;
use crate::literal::{Float, Literal, LiteralData};
use crate::op::{BinaryOp, ConvParams, Init, Op, PoolParams, ReduceOp, UnaryOp};
use crate::shape::TensorType;

/// The largest dimension, axis or integer attribute the text form accepts.
pub(crate) const MAX_INT: usize = i32::MAX as usize;

/// An attribute or literal value as written, before it is given a meaning.
#[derive(Clone, Debug)]
pub(crate) enum Value<'a> {
    /// `3`, `-0.5`, `1e-8`, `-inf`.
    Number(&'a str),
    /// `true`, `inf`, `nan`, `zeros`.
    Word(&'a str),
    /// `[1,0]`, `[1.0, 2.0]`: a flat list of numbers or words.
    List(Vec<Spanned<'a>>),
    /// `kaiming_uniform(fan_in=784, gain=1.4142135)`: an initializer with its
    /// arguments and the position of its `)`.
    Call {
        name: &'a str,
        args: Vec<Attr<'a>>,
        close: Pos,
    },
}

/// A value and where it starts.
#[derive(Clone, Debug)]
pub(crate) struct Spanned<'a> {
    pub pos: Pos,
    pub value: Value<'a>,
}

/// `key=value` as written.
#[derive(Clone, Debug)]
pub(crate) struct Attr<'a> {
    pub key: &'a str,
    pub pos: Pos,
    pub value: Spanned<'a>,
}

/// The attributes each op takes (every op name except the sinks'), or `None`
/// for a name that is no op. The parser rejects any other attribute.
pub(crate) fn attribute_names(op: &str) -> Option<&'static [&'static str]> {
    const CONV: &[&str] = &["stride", "padding", "dilation", "groups"];
    const POOL: &[&str] = &["kernel", "stride", "padding"];
    Some(match op {
        "input" | "const" | "where" | "cast" | "reshape" | "stop_gradient" | "broadcast"
        | "one_hot" => &[],
        "param" | "state" => &["init"],
        "iota" | "concat" | "gather" | "scatter_add" => &["axis"],
        "argmax" => &["axis", "keepdims"],
        "permute" => &["perm"],
        "slice" => &["axis", "start", "end", "step"],
        "pad" => &["axis", "low", "high", "interior", "value"],
        "matmul" => &["transpose_lhs", "transpose_rhs"],
        "conv2d" | "conv2d_input_grad" | "conv2d_weight_grad" => CONV,
        "max_pool2d" | "max_pool2d_grad" | "avg_pool2d" | "avg_pool2d_grad" => POOL,
        "random_uniform" => &["seed"],
        "random_bernoulli" => &["p", "seed"],
        _ if UnaryOp::ALL.iter().any(|u| u.name() == op) => &[],
        _ if BinaryOp::ALL.iter().any(|b| b.name() == op) => &[],
        _ if ReduceOp::ALL.iter().any(|r| r.name() == op) => &["axes", "keepdims"],
        _ => return None,
    })
}

/// The attributes of one op (or one initializer), checked against the names
/// it takes, and handed out by name as the op is built.
pub(crate) struct Attrs<'a> {
    /// `` `slice` `` or `` initializer `uniform` ``, for messages.
    what: String,
    valid: &'static [&'static str],
    items: Vec<Attr<'a>>,
    /// Where a missing attribute would have gone, and what is there instead.
    end: Pos,
    end_found: String,
}

impl<'a> Attrs<'a> {
    /// Rejects unknown and repeated attributes.
    pub fn new(
        what: String,
        valid: &'static [&'static str],
        items: Vec<Attr<'a>>,
        end: Pos,
        end_found: String,
    ) -> Result<Attrs<'a>, ParseError> {
        for (i, attr) in items.iter().enumerate() {
            if !valid.contains(&attr.key) {
                let takes = if valid.is_empty() {
                    format!("no attribute (`{what}` takes none)")
                } else {
                    format!("an attribute of {what} ({})", valid.join(", "))
                };
                return Err(attr.pos.error(takes, format!("`{}`", attr.key)));
            }
            if items[..i].iter().any(|a| a.key == attr.key) {
                return Err(attr.pos.error(
                    format!("each attribute of {what} once"),
                    format!("a second `{}`", attr.key),
                ));
            }
        }
        Ok(Attrs {
            what,
            valid,
            items,
            end,
            end_found,
        })
    }

    fn take(&mut self, key: &str) -> Option<Spanned<'a>> {
        debug_assert!(
            self.valid.contains(&key),
            "{key} is not listed for {}",
            self.what
        );
        let i = self.items.iter().position(|a| a.key == key)?;
        Some(self.items.remove(i).value)
    }

    fn get(&mut self, key: &str) -> Result<Spanned<'a>, ParseError> {
        self.take(key).ok_or_else(|| {
            self.end.error(
                format!("`{key}=` ({} takes {})", self.what, self.valid.join(", ")),
                self.end_found.clone(),
            )
        })
    }

    fn usize(&mut self, key: &str) -> Result<usize, ParseError> {
        to_usize(&self.get(key)?)
    }

    /// A flag: `false` unless written as `key=true`.
    fn flag(&mut self, key: &str) -> Result<bool, ParseError> {
        match self.take(key) {
            None => Ok(false),
            Some(v) => match v.value {
                Value::Word("true") => Ok(true),
                Value::Word("false") => Ok(false),
                _ => Err(v.pos.error("`true` or `false`", describe(&v.value))),
            },
        }
    }

    fn float(&mut self, key: &str) -> Result<Float, ParseError> {
        to_f32(&self.get(key)?).map(Float)
    }

    fn usizes(&mut self, key: &str) -> Result<Vec<usize>, ParseError> {
        let v = self.get(key)?;
        match &v.value {
            Value::List(items) => items.iter().map(to_usize).collect(),
            other => Err(v.pos.error("a list like `[0,1]`", describe(other))),
        }
    }

    /// `[height,width]`.
    fn pair(&mut self, key: &str) -> Result<[usize; 2], ParseError> {
        let v = self.get(key)?;
        let list = match &v.value {
            Value::List(items) if items.len() == 2 => items,
            other => {
                return Err(v
                    .pos
                    .error("a pair like `[1,1]` (height, width)", describe(other)));
            }
        };
        Ok([to_usize(&list[0])?, to_usize(&list[1])?])
    }

    fn init(&mut self, key: &str) -> Result<Init, ParseError> {
        to_init(self.get(key)?)
    }
}

/// What the parser found for a node, ready to become an op.
pub(crate) struct OpText<'a> {
    pub name: &'a str,
    pub pos: Pos,
    /// The quoted name of an `input`, `param` or `state`.
    pub symbol: Option<String>,
    /// The value of a `const`.
    pub literal: Option<Spanned<'a>>,
    pub ty: &'a TensorType,
    pub ty_pos: Pos,
}

/// The op a node line describes. `attrs` must have been made with
/// [`attribute_names`] of `text.name`.
pub(crate) fn build_op(text: OpText<'_>, attrs: &mut Attrs<'_>) -> Result<Op, ParseError> {
    let ty = text.ty;
    let symbol = || {
        text.symbol
            .clone()
            .ok_or_else(|| text.pos.error("a quoted name after the op", "none"))
    };
    Ok(match text.name {
        "input" => Op::Input {
            name: symbol()?,
            ty: ty.clone(),
        },
        "param" => Op::Param {
            name: symbol()?,
            ty: ty.clone(),
            init: attrs.init("init")?,
        },
        "state" => Op::State {
            name: symbol()?,
            ty: ty.clone(),
            init: attrs.init("init")?,
        },
        "const" => Op::Const {
            value: literal(text.literal.as_ref(), ty, text.pos)?,
        },
        "iota" => Op::Iota {
            ty: ty.clone(),
            axis: attrs.usize("axis")?,
        },
        "where" => Op::Where,
        "cast" => Op::Cast { to: ty.dtype },
        "argmax" => Op::ArgMax {
            axis: attrs.usize("axis")?,
            keepdims: attrs.flag("keepdims")?,
        },
        "stop_gradient" => Op::StopGradient,
        "reshape" => Op::Reshape {
            shape: ty.shape.clone(),
        },
        "permute" => Op::Permute {
            perm: attrs.usizes("perm")?,
        },
        "broadcast" => Op::Broadcast {
            shape: ty.shape.clone(),
        },
        "slice" => Op::Slice {
            axis: attrs.usize("axis")?,
            start: attrs.usize("start")?,
            end: attrs.usize("end")?,
            step: attrs.usize("step")?,
        },
        "pad" => Op::Pad {
            axis: attrs.usize("axis")?,
            low: attrs.usize("low")?,
            high: attrs.usize("high")?,
            interior: attrs.usize("interior")?,
            value: attrs.float("value")?,
        },
        "concat" => Op::Concat {
            axis: attrs.usize("axis")?,
        },
        "gather" => Op::Gather {
            axis: attrs.usize("axis")?,
        },
        "scatter_add" => {
            let axis = attrs.usize("axis")?;
            let size = ty.shape.dims().get(axis).copied().ok_or_else(|| {
                text.ty_pos.error(
                    format!("a type with an axis {axis} (its size is the scatter_add size)"),
                    ty.to_string(),
                )
            })?;
            Op::ScatterAdd { axis, size }
        }
        "one_hot" => {
            let depth = ty.shape.dims().last().copied().ok_or_else(|| {
                text.ty_pos.error(
                    "a type whose last dimension is the one-hot depth",
                    ty.to_string(),
                )
            })?;
            Op::OneHot { depth }
        }
        "matmul" => Op::MatMul {
            transpose_lhs: attrs.flag("transpose_lhs")?,
            transpose_rhs: attrs.flag("transpose_rhs")?,
        },
        "conv2d" => Op::Conv2d(conv(attrs)?),
        "conv2d_input_grad" => Op::Conv2dInputGrad {
            conv: conv(attrs)?,
            input_hw: last_two(&text)?,
        },
        "conv2d_weight_grad" => Op::Conv2dWeightGrad {
            conv: conv(attrs)?,
            kernel_hw: last_two(&text)?,
        },
        "max_pool2d" => Op::MaxPool2d(pool(attrs)?),
        "max_pool2d_grad" => Op::MaxPool2dGrad(pool(attrs)?),
        "avg_pool2d" => Op::AvgPool2d(pool(attrs)?),
        "avg_pool2d_grad" => Op::AvgPool2dGrad {
            pool: pool(attrs)?,
            input_hw: last_two(&text)?,
        },
        "random_uniform" => Op::RandomUniform {
            shape: ty.shape.clone(),
            seed: to_u64(&attrs.get("seed")?)?,
        },
        "random_bernoulli" => Op::RandomBernoulli {
            shape: ty.shape.clone(),
            p: attrs.float("p")?,
            seed: to_u64(&attrs.get("seed")?)?,
        },
        name => {
            if let Some(&u) = UnaryOp::ALL.iter().find(|u| u.name() == name) {
                Op::Unary(u)
            } else if let Some(&b) = BinaryOp::ALL.iter().find(|b| b.name() == name) {
                Op::Binary(b)
            } else if let Some(&r) = ReduceOp::ALL.iter().find(|r| r.name() == name) {
                Op::Reduce {
                    op: r,
                    axes: attrs.usizes("axes")?,
                    keepdims: attrs.flag("keepdims")?,
                }
            } else {
                return Err(text.pos.error("an op name", format!("`{name}`")));
            }
        }
    })
}

fn conv(attrs: &mut Attrs<'_>) -> Result<ConvParams, ParseError> {
    Ok(ConvParams {
        stride: attrs.pair("stride")?,
        padding: attrs.pair("padding")?,
        dilation: attrs.pair("dilation")?,
        groups: attrs.usize("groups")?,
    })
}

fn pool(attrs: &mut Attrs<'_>) -> Result<PoolParams, ParseError> {
    Ok(PoolParams {
        kernel: attrs.pair("kernel")?,
        stride: attrs.pair("stride")?,
        padding: attrs.pair("padding")?,
    })
}

/// The spatial size `[H, W]` a gradient op takes from its declared type.
fn last_two(text: &OpText<'_>) -> Result<[usize; 2], ParseError> {
    match text.ty.shape.dims() {
        [.., h, w] => Ok([*h, *w]),
        _ => Err(text.ty_pos.error(
            format!(
                "a rank-4 type (`{}` takes its spatial size from the last two dimensions)",
                text.name
            ),
            text.ty.to_string(),
        )),
    }
}

/// A `const`'s value, read with the declared type's dtype and element count.
fn literal(value: Option<&Spanned<'_>>, ty: &TensorType, op: Pos) -> Result<Literal, ParseError> {
    let Some(value) = value else {
        return Err(op.error("a value after `const`", "none"));
    };
    let elements: Vec<&Spanned<'_>> = match (&value.value, ty.shape.rank()) {
        (Value::Number(_) | Value::Word(_), 0) => vec![value],
        (Value::List(items), rank) if rank > 0 => {
            if items.len() != ty.shape.numel() {
                return Err(value.pos.error(
                    format!("{} elements (the number {ty} holds)", ty.shape.numel()),
                    items.len().to_string(),
                ));
            }
            items.iter().collect()
        }
        (other, 0) => {
            return Err(value
                .pos
                .error(format!("a single value for {ty}"), describe(other)));
        }
        (other, _) => {
            return Err(value.pos.error(
                format!("a list `[...]` of the elements of {ty}"),
                describe(other),
            ));
        }
    };
    let data = match ty.dtype {
        DType::F32 => LiteralData::F32(elements.into_iter().map(to_f32).collect::<Result<_, _>>()?),
        DType::I32 => LiteralData::I32(elements.into_iter().map(to_i32).collect::<Result<_, _>>()?),
    };
    Literal::new(ty.shape.clone(), data).ok_or_else(|| {
        value
            .pos
            .error(format!("the elements of {ty}"), "a different number")
    })
}

/// An initializer: `zeros`, or a name with its arguments.
fn to_init(v: Spanned<'_>) -> Result<Init, ParseError> {
    const NAMES: &str = "zeros, ones, constant, uniform, normal, xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal";
    let (name, args, close) = match v.value {
        Value::Word(name) => (name, Vec::new(), v.pos),
        Value::Call { name, args, close } => (name, args, close),
        other => {
            return Err(v
                .pos
                .error(format!("an initializer ({NAMES})"), describe(&other)));
        }
    };
    let valid: &'static [&'static str] = match name {
        "zeros" | "ones" => &[],
        "constant" => &["value"],
        "uniform" => &["low", "high"],
        "normal" => &["mean", "std"],
        "xavier_uniform" | "xavier_normal" => &["fan_in", "fan_out", "gain"],
        "kaiming_uniform" | "kaiming_normal" => &["fan_in", "gain"],
        _ => {
            return Err(v
                .pos
                .error(format!("an initializer ({NAMES})"), format!("`{name}`")));
        }
    };
    let found = if close == v.pos {
        "no arguments"
    } else {
        "`)`"
    };
    let mut a = Attrs::new(
        format!("initializer `{name}`"),
        valid,
        args,
        close,
        found.into(),
    )?;
    Ok(match name {
        "zeros" => Init::Zeros,
        "ones" => Init::Ones,
        "constant" => Init::Constant(a.float("value")?),
        "uniform" => Init::Uniform {
            low: a.float("low")?,
            high: a.float("high")?,
        },
        "normal" => Init::Normal {
            mean: a.float("mean")?,
            std: a.float("std")?,
        },
        "xavier_uniform" => Init::XavierUniform {
            fan_in: a.usize("fan_in")?,
            fan_out: a.usize("fan_out")?,
            gain: a.float("gain")?,
        },
        "xavier_normal" => Init::XavierNormal {
            fan_in: a.usize("fan_in")?,
            fan_out: a.usize("fan_out")?,
            gain: a.float("gain")?,
        },
        "kaiming_uniform" => Init::KaimingUniform {
            fan_in: a.usize("fan_in")?,
            gain: a.float("gain")?,
        },
        _ => Init::KaimingNormal {
            fan_in: a.usize("fan_in")?,
            gain: a.float("gain")?,
        },
    })
}

/// A dimension, axis or other non-negative integer attribute.
pub(crate) fn to_usize(v: &Spanned<'_>) -> Result<usize, ParseError> {
    match v.value {
        Value::Number(s) => match s.parse::<usize>() {
            Ok(n) if n <= MAX_INT => Ok(n),
            _ => Err(v.pos.error(
                format!("a whole number from 0 to {MAX_INT}"),
                format!("`{s}`"),
            )),
        },
        ref other => Err(v.pos.error("a whole number", describe(other))),
    }
}

fn to_u64(v: &Spanned<'_>) -> Result<u64, ParseError> {
    match v.value {
        Value::Number(s) => s.parse::<u64>().map_err(|_| {
            v.pos.error(
                format!("a whole number from 0 to {}", u64::MAX),
                format!("`{s}`"),
            )
        }),
        ref other => Err(v.pos.error("a whole number", describe(other))),
    }
}

fn to_i32(v: &Spanned<'_>) -> Result<i32, ParseError> {
    match v.value {
        Value::Number(s) => s.parse::<i32>().map_err(|_| {
            v.pos.error(
                format!("an i32 integer (from {} to {})", i32::MIN, i32::MAX),
                format!("`{s}`"),
            )
        }),
        ref other => Err(v.pos.error("an i32 integer", describe(other))),
    }
}

/// An `f32`: a decimal number, `inf`, `-inf` or `nan`.
fn to_f32(v: &Spanned<'_>) -> Result<f32, ParseError> {
    let text = match v.value {
        Value::Number(s) | Value::Word(s @ ("inf" | "nan")) => s,
        ref other => {
            return Err(v.pos.error(
                "a float (like `0.5`, `1e-8`, `inf`, `nan`)",
                describe(other),
            ));
        }
    };
    text.parse::<f32>().map_err(|_| {
        v.pos.error(
            "a float (like `0.5`, `1e-8`, `inf`, `nan`)",
            format!("`{text}`"),
        )
    })
}

/// How a value reads in an error message.
fn describe(v: &Value<'_>) -> String {
    match v {
        Value::Number(s) | Value::Word(s) => format!("`{s}`"),
        Value::List(_) => "a list".into(),
        Value::Call { name, .. } => format!("`{name}(...)`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_but_the_sinks_has_an_attribute_list() {
        for name in Op::all_names() {
            let listed = attribute_names(name).is_some();
            assert_eq!(listed, !matches!(name, "output" | "update"), "{name}");
        }
        assert!(attribute_names("softmax").is_none());
    }
}
