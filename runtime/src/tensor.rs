//! Tensors at the runtime's boundary: borrowed views for feeding and reading
//! without copies, and conversions to and from the evaluator's owned values.
//!
//! A [`TensorRef`] is a shape and a slice of `f32` or `i32` data, both
//! borrowed. Building one never fails and never allocates; whether the data
//! holds as many elements as the shape says is checked where it is used (a
//! feed, a parameter write), which reports it as an error.

use crate::error::RuntimeError;
use kiln_ir::eval::{Array, Value};
use kiln_ir::{DType, Shape, TensorType};

/// The elements of a [`TensorRef`], row-major.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TensorData<'a> {
    F32(&'a [f32]),
    I32(&'a [i32]),
}

/// A borrowed dense row-major tensor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TensorRef<'a> {
    shape: &'a [usize],
    data: TensorData<'a>,
}

impl<'a> TensorRef<'a> {
    /// An `f32` tensor of `shape` over `data`.
    pub fn f32(shape: &'a [usize], data: &'a [f32]) -> TensorRef<'a> {
        TensorRef {
            shape,
            data: TensorData::F32(data),
        }
    }

    /// An `i32` tensor of `shape` over `data`.
    pub fn i32(shape: &'a [usize], data: &'a [i32]) -> TensorRef<'a> {
        TensorRef {
            shape,
            data: TensorData::I32(data),
        }
    }

    pub fn dtype(&self) -> DType {
        match self.data {
            TensorData::F32(_) => DType::F32,
            TensorData::I32(_) => DType::I32,
        }
    }

    pub fn shape(&self) -> &'a [usize] {
        self.shape
    }

    pub fn data(&self) -> TensorData<'a> {
        self.data
    }

    /// The type the shape and data claim (allocates: for messages and tests).
    pub fn ty(&self) -> TensorType {
        TensorType::new(self.dtype(), Shape::from(self.shape))
    }

    /// The number of elements the shape has.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The number of elements the data has.
    pub fn data_len(&self) -> usize {
        match self.data {
            TensorData::F32(d) => d.len(),
            TensorData::I32(d) => d.len(),
        }
    }

    pub fn as_f32(&self) -> Option<&'a [f32]> {
        match self.data {
            TensorData::F32(d) => Some(d),
            TensorData::I32(_) => None,
        }
    }

    pub fn as_i32(&self) -> Option<&'a [i32]> {
        match self.data {
            TensorData::I32(d) => Some(d),
            TensorData::F32(_) => None,
        }
    }

    /// The address of the first element (for identity checks).
    pub fn as_ptr(&self) -> *const u8 {
        match self.data {
            TensorData::F32(d) => d.as_ptr() as *const u8,
            TensorData::I32(d) => d.as_ptr() as *const u8,
        }
    }

    /// Errors unless the data holds exactly the shape's element count.
    pub fn check_len(&self, kind: &'static str, name: &str) -> Result<(), RuntimeError> {
        if self.data_len() == self.numel() {
            Ok(())
        } else {
            Err(RuntimeError::DataLength {
                kind,
                name: name.into(),
                shape: self.shape.to_vec(),
                expected: self.numel(),
                found: self.data_len(),
            })
        }
    }

    /// An owned copy as the evaluator's value.
    pub fn to_value(&self) -> Result<Value<f32>, RuntimeError> {
        self.check_len("tensor", "value")?;
        let shape = Shape::from(self.shape);
        Ok(match self.data {
            TensorData::F32(d) => Value::Float(Array {
                shape,
                data: d.to_vec(),
            }),
            TensorData::I32(d) => Value::Int(Array {
                shape,
                data: d.to_vec(),
            }),
        })
    }
}

/// Borrows an evaluator value (always consistent: `Array` checks its length).
impl<'a> From<&'a Value<f32>> for TensorRef<'a> {
    fn from(v: &'a Value<f32>) -> TensorRef<'a> {
        match v {
            Value::Float(a) => TensorRef::f32(a.shape.dims(), &a.data),
            Value::Int(a) => TensorRef::i32(a.shape.dims(), &a.data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let v = Value::float([2, 2], vec![1.0f32, 2.0, 3.0, 4.0]).unwrap();
        let t = TensorRef::from(&v);
        assert_eq!(t.ty(), TensorType::f32([2, 2]));
        assert_eq!(t.to_value().unwrap(), v);
        let i = Value::<f32>::int([3], vec![1, -2, 3]).unwrap();
        assert_eq!(TensorRef::from(&i).to_value().unwrap(), i);
    }

    #[test]
    fn length_mismatches_are_errors() {
        let t = TensorRef::f32(&[2, 3], &[1.0; 5]);
        let e = t.to_value().unwrap_err();
        assert_eq!(
            e.to_string(),
            "tensor `value`: shape [2, 3] has 6 elements, but 5 were given"
        );
    }
}
