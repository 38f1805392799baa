//! The values the reference evaluator computes with.
//!
//! A [`Value`] is a dense row-major tensor of one of kiln's two dtypes. Its
//! float elements have a type parameter `T` ([`Element`]: `f32` or `f64`) so
//! the same graph can be evaluated in `f64`, for gradient checks whose finite
//! differences would drown in `f32` rounding; `i32` tensors stay `i32`. A
//! `Value<f64>` of dtype `f32` is still an `f32` tensor as far as typing goes:
//! only the precision of the arithmetic changes.

use crate::dtype::DType;
use crate::literal::{Literal, LiteralData};
use crate::shape::{Shape, TensorType};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub};

/// A float type the evaluator can compute in (`f32` or `f64`).
///
/// The transcendental functions are methods here, not calls to `f32::exp`
/// in the evaluator, so every op is written once for both precisions.
pub trait Element:
    Copy
    + PartialOrd
    + Debug
    + Default
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
{
    /// Rounds to nearest.
    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
    fn from_f32(x: f32) -> Self;
    /// Rounds to nearest.
    fn to_f32(self) -> f32;
    fn zero() -> Self;
    fn one() -> Self;
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    fn sqrt(self) -> Self;
    fn tanh(self) -> Self;
    /// The error function.
    fn erf(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn powf(self, e: Self) -> Self;
    fn abs(self) -> Self;
    fn neg_infinity() -> Self;
    fn infinity() -> Self;
    fn is_nan(self) -> bool;
}

macro_rules! impl_element {
    ($t:ty, $erf:path) => {
        impl Element for $t {
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn from_f32(x: f32) -> Self {
                x as $t
            }
            fn to_f32(self) -> f32 {
                self as f32
            }
            fn zero() -> Self {
                0.0
            }
            fn one() -> Self {
                1.0
            }
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            fn erf(self) -> Self {
                // std has no erf; libm's is a port of musl's.
                $erf(self)
            }
            fn sin(self) -> Self {
                <$t>::sin(self)
            }
            fn cos(self) -> Self {
                <$t>::cos(self)
            }
            fn powf(self, e: Self) -> Self {
                <$t>::powf(self, e)
            }
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            fn neg_infinity() -> Self {
                <$t>::NEG_INFINITY
            }
            fn infinity() -> Self {
                <$t>::INFINITY
            }
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
        }
    };
}

impl_element!(f32, libm::erff);
impl_element!(f64, libm::erf);

/// A dense row-major tensor: `data[offset(idx)]` is the element at `idx`.
#[derive(Clone, Debug, PartialEq)]
pub struct Array<T> {
    pub shape: Shape,
    pub data: Vec<T>,
}

impl<T: Copy> Array<T> {
    /// An array from its shape and row-major elements; `None` if
    /// `data.len()` is not the shape's element count.
    pub fn new(shape: impl Into<Shape>, data: Vec<T>) -> Option<Array<T>> {
        let shape = shape.into();
        (data.len() == shape.numel()).then_some(Array { shape, data })
    }

    /// An array of `shape` with every element `value`.
    pub fn filled(shape: impl Into<Shape>, value: T) -> Array<T> {
        let shape = shape.into();
        let data = vec![value; shape.numel()];
        Array { shape, data }
    }

    /// An array of `shape` filled with `T::default()` (zero for numbers).
    pub fn zeros(shape: impl Into<Shape>) -> Array<T>
    where
        T: Default,
    {
        Array::filled(shape, T::default())
    }

    /// A rank-0 array.
    pub fn scalar(value: T) -> Array<T> {
        Array {
            shape: Shape::scalar(),
            data: vec![value],
        }
    }

    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// Row-major strides, in elements.
    pub fn strides(&self) -> Vec<usize> {
        self.shape.strides()
    }

    /// The position in `data` of the element at multi-index `idx`, or `None`
    /// if `idx` has the wrong rank or lies outside the shape.
    pub fn offset(&self, idx: &[usize]) -> Option<usize> {
        let dims = self.shape.dims();
        if idx.len() != dims.len() || idx.iter().zip(dims).any(|(i, d)| i >= d) {
            return None;
        }
        Some(idx.iter().zip(self.strides()).map(|(i, s)| i * s).sum())
    }

    /// The element at multi-index `idx`, if it is inside the shape.
    pub fn get(&self, idx: &[usize]) -> Option<T> {
        self.offset(idx).map(|o| self.data[o])
    }

    /// The multi-index of the element at position `flat` in `data`.
    pub fn unravel(&self, flat: usize) -> Vec<usize> {
        let mut rest = flat;
        let mut idx = vec![0; self.shape.rank()];
        for (i, &d) in self.shape.dims().iter().enumerate().rev() {
            if d > 0 {
                idx[i] = rest % d;
                rest /= d;
            }
        }
        idx
    }

    /// The same shape with every element mapped by `f`.
    pub fn map<U>(&self, f: impl FnMut(T) -> U) -> Array<U> {
        Array {
            shape: self.shape.clone(),
            data: self.data.iter().copied().map(f).collect(),
        }
    }
}

/// A tensor value: `f32` elements (computed in precision `T`) or `i32` elements.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<T = f32> {
    Float(Array<T>),
    Int(Array<i32>),
}

impl<T: Element> Value<T> {
    /// A float tensor; `None` if `data.len()` is not the shape's element count.
    pub fn float(shape: impl Into<Shape>, data: Vec<T>) -> Option<Value<T>> {
        Array::new(shape, data).map(Value::Float)
    }

    /// An `i32` tensor; `None` if `data.len()` is not the shape's element count.
    pub fn int(shape: impl Into<Shape>, data: Vec<i32>) -> Option<Value<T>> {
        Array::new(shape, data).map(Value::Int)
    }

    /// The value of a constant.
    pub fn from_literal(lit: &Literal) -> Value<T> {
        let shape = lit.shape().clone();
        match lit.data() {
            LiteralData::F32(v) => Value::Float(Array {
                shape,
                data: v.iter().map(|&x| T::from_f32(x)).collect(),
            }),
            LiteralData::I32(v) => Value::Int(Array {
                shape,
                data: v.clone(),
            }),
        }
    }

    pub fn dtype(&self) -> DType {
        match self {
            Value::Float(_) => DType::F32,
            Value::Int(_) => DType::I32,
        }
    }

    pub fn shape(&self) -> &Shape {
        match self {
            Value::Float(a) => &a.shape,
            Value::Int(a) => &a.shape,
        }
    }

    /// The tensor type; a float value is `f32` whatever its precision `T`.
    pub fn ty(&self) -> TensorType {
        TensorType::new(self.dtype(), self.shape().clone())
    }

    pub fn as_float(&self) -> Option<&Array<T>> {
        match self {
            Value::Float(a) => Some(a),
            Value::Int(_) => None,
        }
    }

    pub fn as_int(&self) -> Option<&Array<i32>> {
        match self {
            Value::Int(a) => Some(a),
            Value::Float(_) => None,
        }
    }

    /// The same tensor with its float elements in precision `U` (`i32`
    /// elements are unchanged). `f32 -> f64` is exact; `f64 -> f32` rounds.
    pub fn convert<U: Element>(&self) -> Value<U> {
        match self {
            Value::Float(a) => Value::Float(a.map(|x| U::from_f64(x.to_f64()))),
            Value::Int(a) => Value::Int(a.clone()),
        }
    }

    /// Every element as `f64` (exact for `i32`, `f32` and `f64`): handy for
    /// comparing values of either dtype and precision.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match self {
            Value::Float(a) => a.data.iter().map(|x| x.to_f64()).collect(),
            Value::Int(a) => a.data.iter().map(|&x| f64::from(x)).collect(),
        }
    }
}

/// Named values: the inputs of a run, its outputs, and the parameter store.
pub type Env<T = f32> = BTreeMap<String, Value<T>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_check_their_length() {
        assert!(Array::new([2, 3], vec![0.0f32; 6]).is_some());
        assert!(Array::new([2, 3], vec![0.0f32; 5]).is_none());
        assert!(Value::<f32>::int([2], vec![1, 2, 3]).is_none());
        assert_eq!(Array::scalar(4i32).numel(), 1);
    }

    #[test]
    fn offsets_are_row_major() {
        let a = Array::new([2, 3], vec![1, 2, 3, 4, 5, 6]).unwrap();
        assert_eq!(a.offset(&[1, 0]), Some(3));
        assert_eq!(a.get(&[1, 2]), Some(6));
        assert_eq!(a.get(&[2, 0]), None);
        assert_eq!(a.get(&[0]), None);
        assert_eq!(a.unravel(5), vec![1, 2]);
        assert_eq!(Array::scalar(7).get(&[]), Some(7));
    }

    #[test]
    fn values_know_their_type_and_convert() {
        let v = Value::float([3], vec![0.1f32, -2.0, 3.5]).unwrap();
        assert_eq!(v.ty(), TensorType::f32([3]));
        let w: Value<f64> = v.convert();
        assert_eq!(w.ty(), TensorType::f32([3]));
        assert_eq!(w.as_float().unwrap().data[0], 0.1f32 as f64);
        assert_eq!(w.convert::<f32>(), v);
        let i = Value::<f64>::int([2], vec![4, -5]).unwrap();
        assert_eq!(i.ty(), TensorType::i32([2]));
        assert!(i.as_float().is_none());
        assert_eq!(i.convert::<f32>().as_int().unwrap().data, vec![4, -5]);
    }

    #[test]
    fn literals_become_values() {
        let lit = Literal::f32([2], vec![1.5, -0.25]).unwrap();
        let v = Value::<f64>::from_literal(&lit);
        assert_eq!(v.as_float().unwrap().data, vec![1.5, -0.25]);
        let v = Value::<f32>::from_literal(&Literal::scalar_i32(9));
        assert_eq!(v.ty(), TensorType::i32(Shape::scalar()));
    }

    #[test]
    fn erf_comes_from_libm() {
        assert!((Element::erf(0.5f32) - 0.520_499_9).abs() < 1e-6);
        assert!((Element::erf(0.5f64) - 0.520_499_877_813_046_5).abs() < 1e-15);
    }
}
