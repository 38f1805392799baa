//! Walking a shape's index space in row-major order.
//!
//! The movement and reduction ops are written as "for every output (or input)
//! index, this element": this is the one loop they share, so each op only
//! states its index formula.

/// Calls `f` with every multi-index of `dims`, in row-major order (the `k`-th
/// call is for the element at flat position `k`). A scalar has one index, `[]`;
/// a shape with a zero dimension has none.
pub(super) fn for_each_index(dims: &[usize], mut f: impl FnMut(&[usize])) {
    if dims.contains(&0) {
        return;
    }
    let mut idx = vec![0; dims.len()];
    loop {
        f(&idx);
        // Odometer step: bump the last axis, carrying into the ones before it.
        let mut axis = dims.len();
        loop {
            if axis == 0 {
                return;
            }
            axis -= 1;
            idx[axis] += 1;
            if idx[axis] < dims[axis] {
                break;
            }
            idx[axis] = 0;
        }
    }
}

/// `Σ idx[d] * strides[d]`: the flat position of a multi-index.
pub(super) fn dot(idx: &[usize], strides: &[usize]) -> usize {
    idx.iter().zip(strides).map(|(i, s)| i * s).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visits_in_row_major_order() {
        let mut seen = Vec::new();
        for_each_index(&[2, 3], |i| seen.push(i.to_vec()));
        let expected: Vec<Vec<usize>> = (0..2)
            .flat_map(|a| (0..3).map(move |b| vec![a, b]))
            .collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn scalars_have_one_index_and_empty_shapes_none() {
        let mut n = 0;
        for_each_index(&[], |i| {
            assert!(i.is_empty());
            n += 1;
        });
        assert_eq!(n, 1);
        for_each_index(&[3, 0, 2], |_| n += 1);
        assert_eq!(n, 1);
    }
}
