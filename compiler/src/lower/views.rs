//! View arithmetic: how movement ops re-index a strided view without copying.

use kiln_ir::Shape;
use kiln_ir::plan::View;

/// `view` reshaped to `shape` without copying, if possible: when its
/// elements are contiguous, or when the reshape only inserts or removes
/// size-1 dims (which keeps any strides, stride-0 broadcasts included). `None`
/// means the caller copies first.
pub fn reshape(view: &View, shape: &Shape) -> Option<View> {
    if view.is_contiguous() {
        return Some(View {
            region: view.region,
            dtype: view.dtype,
            offset: view.offset,
            strides: shape.strides(),
            shape: shape.clone(),
        });
    }
    // Same non-unit dims in the same order: carry their strides over.
    let kept: Vec<(usize, usize)> = view
        .shape
        .0
        .iter()
        .zip(&view.strides)
        .filter(|(d, _)| **d != 1)
        .map(|(&d, &s)| (d, s))
        .collect();
    let target: Vec<usize> = shape.0.iter().copied().filter(|&d| d != 1).collect();
    if kept.iter().map(|(d, _)| *d).ne(target.iter().copied()) {
        return None;
    }
    let mut next = kept.iter();
    let strides = shape
        .0
        .iter()
        .map(|&d| {
            if d == 1 {
                0
            } else {
                next.next().map_or(0, |(_, s)| *s)
            }
        })
        .collect();
    Some(View {
        strides,
        shape: shape.clone(),
        ..view.clone()
    })
}

/// `view` with its dims reordered: result dim `i` is dim `perm[i]`.
pub fn permute(view: &View, perm: &[usize]) -> View {
    View {
        shape: Shape(perm.iter().map(|&p| view.shape.0[p]).collect()),
        strides: perm.iter().map(|&p| view.strides[p]).collect(),
        ..view.clone()
    }
}

/// `view` broadcast to `shape` (numpy rule): new leading dims and stretched
/// size-1 dims get stride 0.
pub fn broadcast(view: &View, shape: &Shape) -> View {
    let (rank, src_rank) = (shape.rank(), view.shape.rank());
    let strides = (0..rank)
        .map(|i| {
            if i < rank - src_rank {
                return 0;
            }
            let j = i - (rank - src_rank);
            if view.shape.0[j] == 1 && shape.0[i] != 1 {
                0
            } else {
                view.strides[j]
            }
        })
        .collect();
    View {
        shape: shape.clone(),
        strides,
        ..view.clone()
    }
}

/// Elements `start, start+step, ..` along `axis`, `len` of them.
pub fn slice(view: &View, axis: usize, start: usize, step: usize, len: usize) -> View {
    let mut v = view.clone();
    v.offset += start * view.strides[axis];
    v.strides[axis] *= step;
    v.shape.0[axis] = len;
    v
}

/// `view` with its last two dims swapped (a free matrix transpose).
pub fn transpose_last_two(view: &View) -> View {
    let r = view.shape.rank();
    let mut perm: Vec<usize> = (0..r).collect();
    perm.swap(r - 2, r - 1);
    permute(view, &perm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_ir::TensorType;
    use kiln_ir::plan::Region;

    fn dense(dims: &[usize]) -> View {
        View::dense(Region::Temp(0), &TensorType::f32(dims))
    }

    #[test]
    fn movement_is_stride_arithmetic() {
        let v = dense(&[2, 3, 4]);
        let p = permute(&v, &[2, 0, 1]);
        assert_eq!(
            (p.shape.0.clone(), p.strides.clone()),
            (vec![4, 2, 3], vec![1, 12, 4])
        );
        assert!(reshape(&p, &Shape::from([24])).is_none());
        let b = broadcast(&dense(&[3, 1]), &Shape::from([5, 3, 4]));
        assert_eq!(b.strides, vec![0, 1, 0]);
        let s = slice(&v, 2, 1, 2, 2);
        assert_eq!(
            (s.offset, s.strides.clone(), s.shape.0.clone()),
            (1, vec![12, 4, 2], vec![2, 3, 2])
        );
        let col = reshape(&b, &Shape::from([5, 1, 3, 4, 1])).expect("unit dims only");
        assert_eq!(col.strides, vec![0, 0, 1, 0, 0]);
        assert!(reshape(&p, &Shape::from([4, 6])).is_none());
        let t = transpose_last_two(&dense(&[5, 7]));
        assert_eq!(
            (t.shape.0.clone(), t.strides.clone()),
            (vec![7, 5], vec![1, 7])
        );
    }
}
