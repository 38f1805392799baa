//! Evaluation metrics computed on the host from a run's outputs.

/// How many of the first `real` rows of `logits[rows, classes]` have their
/// largest logit at the label's index (ties go to the first index).
pub fn correct(logits: &[f32], classes: usize, labels: &[i32], real: usize) -> usize {
    logits
        .chunks(classes)
        .zip(labels)
        .take(real)
        .filter(|(row, label)| argmax(row) == **label as usize)
        .count()
}

/// The index of the largest value (the first one on ties).
pub fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// Sum of squared differences over the first `real` rows of `width` values.
pub fn squared_error(pred: &[f32], target: &[f32], width: usize, real: usize) -> f64 {
    pred.iter()
        .zip(target)
        .take(real * width)
        .map(|(&p, &t)| ((p - t) as f64).powi(2))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_hits_of_real_rows_only() {
        let logits = [0.1, 0.9, 0.8, 0.2, 0.5, 0.5];
        assert_eq!(correct(&logits, 2, &[1, 0, 1], 3), 2);
        assert_eq!(correct(&logits, 2, &[1, 0, 1], 2), 2);
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1);
        assert_eq!(squared_error(&[1.0, 2.0], &[0.0, 0.0], 1, 1), 1.0);
    }
}
