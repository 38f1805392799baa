//! Constant values carried by ops: scalar attributes and tensor literals.
//!
//! `Op` derives `Eq + Hash` so that common-subexpression elimination can compare
//! ops exactly. Floats are therefore compared and hashed by their bits: `0.0` and
//! `-0.0` are different constants, and a NaN equals the same NaN.

use crate::dtype::DType;
use crate::shape::{Shape, TensorType};
use std::fmt;
use std::hash::{Hash, Hasher};

/// An `f32` attribute compared and hashed by its bit pattern.
#[derive(Clone, Copy, Default)]
pub struct Float(pub f32);

impl Float {
    pub fn get(self) -> f32 {
        self.0
    }
}

impl PartialEq for Float {
    fn eq(&self, other: &Float) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for Float {}

impl Hash for Float {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state)
    }
}

impl From<f32> for Float {
    fn from(x: f32) -> Float {
        Float(x)
    }
}

impl fmt::Debug for Float {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Prints the shortest text that parses back to the same bits, always with a
/// decimal point or exponent so it never reads as an integer (`1.0`, `-0.5`,
/// `1e-8`, `inf`, `-inf`, `nan`).
impl fmt::Display for Float {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_f32(f, self.0)
    }
}

/// Writes an `f32` in the text form's spelling (see [`Float`]'s `Display`).
pub fn write_f32(f: &mut impl fmt::Write, x: f32) -> fmt::Result {
    if x.is_nan() {
        // x86 produces NaNs with the sign bit set (0.0/0.0), so keep the sign;
        // other payload bits are not preserved.
        f.write_str(if x.is_sign_negative() { "-nan" } else { "nan" })
    } else if x.is_infinite() {
        f.write_str(if x > 0.0 { "inf" } else { "-inf" })
    } else {
        // `{:?}` is Rust's shortest round-trip form and always has `.` or `e`.
        write!(f, "{x:?}")
    }
}

/// The elements of a constant tensor, row-major.
#[derive(Clone, Debug)]
pub enum LiteralData {
    F32(Vec<f32>),
    I32(Vec<i32>),
}

/// A constant tensor: type and row-major elements (`numel` of them).
#[derive(Clone, Debug)]
pub struct Literal {
    shape: Shape,
    data: LiteralData,
}

impl Literal {
    /// A literal from its shape and elements; `None` if the counts disagree.
    pub fn new(shape: impl Into<Shape>, data: LiteralData) -> Option<Literal> {
        let shape = shape.into();
        let len = match &data {
            LiteralData::F32(v) => v.len(),
            LiteralData::I32(v) => v.len(),
        };
        (len == shape.numel()).then_some(Literal { shape, data })
    }

    /// A scalar `f32`.
    pub fn scalar_f32(x: f32) -> Literal {
        Literal {
            shape: Shape::scalar(),
            data: LiteralData::F32(vec![x]),
        }
    }

    /// A scalar `i32`.
    pub fn scalar_i32(x: i32) -> Literal {
        Literal {
            shape: Shape::scalar(),
            data: LiteralData::I32(vec![x]),
        }
    }

    /// An `f32` tensor; `None` if `data.len()` is not the shape's element count.
    pub fn f32(shape: impl Into<Shape>, data: Vec<f32>) -> Option<Literal> {
        Literal::new(shape, LiteralData::F32(data))
    }

    /// An `i32` tensor; `None` if `data.len()` is not the shape's element count.
    pub fn i32(shape: impl Into<Shape>, data: Vec<i32>) -> Option<Literal> {
        Literal::new(shape, LiteralData::I32(data))
    }

    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    pub fn data(&self) -> &LiteralData {
        &self.data
    }

    pub fn dtype(&self) -> DType {
        match self.data {
            LiteralData::F32(_) => DType::F32,
            LiteralData::I32(_) => DType::I32,
        }
    }

    pub fn ty(&self) -> TensorType {
        TensorType::new(self.dtype(), self.shape.clone())
    }

    pub fn numel(&self) -> usize {
        self.shape.numel()
    }

    /// Every element as `f64` (exact for both dtypes).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match &self.data {
            LiteralData::F32(v) => v.iter().map(|&x| x as f64).collect(),
            LiteralData::I32(v) => v.iter().map(|&x| x as f64).collect(),
        }
    }

    /// If every element has the same value, that value as `f64`.
    pub fn splat_value(&self) -> Option<f64> {
        let all = self.to_f64_vec();
        let first = *all.first()?;
        all.iter()
            .all(|x| x.to_bits() == first.to_bits())
            .then_some(first)
    }
}

impl PartialEq for Literal {
    fn eq(&self, other: &Literal) -> bool {
        self.shape == other.shape
            && match (&self.data, &other.data) {
                (LiteralData::F32(a), LiteralData::F32(b)) => {
                    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
                }
                (LiteralData::I32(a), LiteralData::I32(b)) => a == b,
                _ => false,
            }
    }
}

impl Eq for Literal {}

impl Hash for Literal {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.shape.hash(state);
        match &self.data {
            LiteralData::F32(v) => {
                0u8.hash(state);
                v.iter().for_each(|x| x.to_bits().hash(state));
            }
            LiteralData::I32(v) => {
                1u8.hash(state);
                v.hash(state);
            }
        }
    }
}

/// Prints the elements: a scalar bare (`2.0`), a tensor as a flat row-major list
/// (`[1.0, 2.0, 3.0]`). The shape is printed by the node's type, not here.
impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scalar = self.shape.rank() == 0;
        if !scalar {
            f.write_str("[")?;
        }
        match &self.data {
            LiteralData::F32(v) => {
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_f32(f, *x)?;
                }
            }
            LiteralData::I32(v) => {
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{x}")?;
                }
            }
        }
        if !scalar {
            f.write_str("]")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_round_trippable() {
        for x in [
            1.0f32,
            -0.5,
            1e-8,
            0.1,
            3.4028235e38,
            -0.0,
            f32::MIN_POSITIVE,
        ] {
            let s = Float(x).to_string();
            assert!(s.contains('.') || s.contains('e'), "{s}");
            assert_eq!(s.parse::<f32>().unwrap().to_bits(), x.to_bits());
        }
        assert_eq!(Float(f32::INFINITY).to_string(), "inf");
        assert_eq!(Float(f32::NAN).to_string(), "nan");
        assert_eq!(Float(-f32::NAN).to_string(), "-nan");
        assert_eq!(
            "-nan".parse::<f32>().unwrap().to_bits(),
            (-f32::NAN).to_bits()
        );
    }

    #[test]
    fn literals_compare_by_bits() {
        assert_ne!(Literal::scalar_f32(0.0), Literal::scalar_f32(-0.0));
        assert_eq!(Literal::scalar_f32(f32::NAN), Literal::scalar_f32(f32::NAN));
        assert_eq!(
            Literal::f32([2], vec![1.0, 2.0]).unwrap().to_string(),
            "[1.0, 2.0]"
        );
        assert!(Literal::f32([3], vec![1.0]).is_none());
    }
}
