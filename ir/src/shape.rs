//! Static shapes and tensor types.
//!
//! Every tensor in a kiln graph has a fully known shape: this is what lets the
//! compiler plan all memory ahead of time. Broadcasting follows numpy's rule
//! (align on the right; a dimension of 1 stretches), but in the IR it is always
//! explicit: the builder inserts `broadcast` nodes, binary ops see equal shapes.

use crate::dtype::DType;
use std::fmt;

/// The dimensions of a tensor, outermost first. Rank 0 is a scalar.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Shape(pub Vec<usize>);

impl Shape {
    /// The shape of a scalar (rank 0, one element).
    pub fn scalar() -> Shape {
        Shape(Vec::new())
    }

    /// The dimensions.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// Number of elements (1 for a scalar, 0 if any dimension is 0). Saturates
    /// instead of overflowing, so absurd user shapes cannot panic here.
    pub fn numel(&self) -> usize {
        self.0.iter().fold(1usize, |n, &d| n.saturating_mul(d))
    }

    /// Row-major (C order) strides in elements.
    pub fn strides(&self) -> Vec<usize> {
        let mut strides = vec![1; self.rank()];
        for i in (0..self.rank().saturating_sub(1)).rev() {
            strides[i] = strides[i + 1] * self.0[i + 1];
        }
        strides
    }

    /// Converts a possibly negative axis (Python style: -1 is the last) into an index.
    pub fn normalize_axis(&self, axis: i64) -> Option<usize> {
        normalize_axis(axis, self.rank())
    }

    /// The numpy broadcast of two shapes, if they are compatible.
    pub fn broadcast_with(&self, other: &Shape) -> Option<Shape> {
        let rank = self.rank().max(other.rank());
        let mut dims = vec![0; rank];
        for (i, d) in dims.iter_mut().enumerate() {
            let a = self.dim_from_right(rank - 1 - i);
            let b = other.dim_from_right(rank - 1 - i);
            *d = match (a, b) {
                (x, y) if x == y => x,
                (1, y) => y,
                (x, 1) => x,
                _ => return None,
            };
        }
        Some(Shape(dims))
    }

    /// Whether `self` broadcasts to `target` under numpy's rule.
    pub fn broadcasts_to(&self, target: &Shape) -> bool {
        self.rank() <= target.rank()
            && (0..self.rank()).all(|i| {
                let d = self.dim_from_right(i);
                d == 1 || d == target.dim_from_right(i)
            })
    }

    /// The `i`-th dimension counted from the right, or 1 beyond the rank.
    fn dim_from_right(&self, i: usize) -> usize {
        if i < self.rank() {
            self.0[self.rank() - 1 - i]
        } else {
            1
        }
    }
}

/// Converts a possibly negative axis into an index into a shape of rank `rank`.
pub fn normalize_axis(axis: i64, rank: usize) -> Option<usize> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    (0..r).contains(&a).then_some(a as usize)
}

impl From<Vec<usize>> for Shape {
    fn from(v: Vec<usize>) -> Shape {
        Shape(v)
    }
}

impl From<&[usize]> for Shape {
    fn from(v: &[usize]) -> Shape {
        Shape(v.to_vec())
    }
}

impl<const N: usize> From<[usize; N]> for Shape {
    fn from(v: [usize; N]) -> Shape {
        Shape(v.to_vec())
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("]")
    }
}

/// The type of a tensor: element type and static shape. Prints as `f32[128,784]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TensorType {
    pub dtype: DType,
    pub shape: Shape,
}

impl TensorType {
    pub fn new(dtype: DType, shape: impl Into<Shape>) -> TensorType {
        TensorType {
            dtype,
            shape: shape.into(),
        }
    }

    pub fn f32(shape: impl Into<Shape>) -> TensorType {
        TensorType::new(DType::F32, shape)
    }

    pub fn i32(shape: impl Into<Shape>) -> TensorType {
        TensorType::new(DType::I32, shape)
    }

    /// Bytes needed to store the tensor densely.
    pub fn size_bytes(&self) -> usize {
        self.shape.numel().saturating_mul(self.dtype.size_bytes())
    }
}

impl fmt::Display for TensorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.dtype, self.shape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_follows_numpy() {
        let a = Shape::from([8, 1, 6, 1]);
        let b = Shape::from([7, 1, 5]);
        assert_eq!(a.broadcast_with(&b), Some(Shape::from([8, 7, 6, 5])));
        assert_eq!(Shape::from([3]).broadcast_with(&Shape::from([4])), None);
        assert!(Shape::from([1, 5]).broadcasts_to(&Shape::from([3, 4, 5])));
        assert!(!Shape::from([2, 5]).broadcasts_to(&Shape::from([3, 4, 5])));
        assert!(Shape::scalar().broadcasts_to(&Shape::from([2, 2])));
    }

    #[test]
    fn strides_are_row_major() {
        assert_eq!(Shape::from([2, 3, 4]).strides(), vec![12, 4, 1]);
        assert_eq!(Shape::scalar().strides(), Vec::<usize>::new());
    }

    #[test]
    fn negative_axes_count_from_the_end() {
        let s = Shape::from([2, 3, 4]);
        assert_eq!(s.normalize_axis(-1), Some(2));
        assert_eq!(s.normalize_axis(0), Some(0));
        assert_eq!(s.normalize_axis(3), None);
        assert_eq!(s.normalize_axis(-4), None);
    }

    #[test]
    fn types_print_like_the_text_form() {
        assert_eq!(TensorType::f32([128, 784]).to_string(), "f32[128,784]");
        assert_eq!(TensorType::i32(Shape::scalar()).to_string(), "i32[]");
    }
}
