//! In-memory datasets: samples of a fixed shape with class or value targets,
//! seeded splits (`random_split`, every k-th row) and standardization.

use super::rng::SplitMix64;
use super::{DataError, Table};

/// What a sample is labelled with.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// A class index per sample.
    Classes(Vec<i32>),
    /// `width` real values per sample.
    Values { data: Vec<f32>, width: usize },
}

impl Targets {
    fn subset(&self, indices: &[usize]) -> Targets {
        match self {
            Targets::Classes(c) => Targets::Classes(indices.iter().map(|&i| c[i]).collect()),
            Targets::Values { data, width } => Targets::Values {
                data: indices
                    .iter()
                    .flat_map(|&i| data[i * width..(i + 1) * width].to_vec())
                    .collect(),
                width: *width,
            },
        }
    }

    fn len(&self) -> usize {
        match self {
            Targets::Classes(c) => c.len(),
            Targets::Values { data, width } => data.len() / (*width).max(1),
        }
    }
}

/// Samples (row-major, each of `sample_shape`) and their targets.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub x: Vec<f32>,
    pub sample_shape: Vec<usize>,
    pub targets: Targets,
}

impl Dataset {
    /// Checks that `x` holds as many samples as `targets`.
    pub fn new(
        x: Vec<f32>,
        sample_shape: &[usize],
        targets: Targets,
    ) -> Result<Dataset, DataError> {
        let per: usize = sample_shape.iter().product();
        if per == 0 || !x.len().is_multiple_of(per) || x.len() / per != targets.len() {
            return Err(DataError::Invalid(format!(
                "{} values do not make {} samples of shape {:?}",
                x.len(),
                targets.len(),
                sample_shape
            )));
        }
        Ok(Dataset {
            x,
            sample_shape: sample_shape.to_vec(),
            targets,
        })
    }

    /// Features = every column but the last, class = the last column (which
    /// must hold whole numbers from 0 up).
    pub fn classification(table: &Table) -> Result<Dataset, DataError> {
        let mut classes = Vec::with_capacity(table.rows());
        for (row, &v) in table.target().iter().enumerate() {
            if !(v >= 0.0 && v.fract() == 0.0 && v <= i32::MAX as f32) {
                return Err(DataError::Invalid(format!(
                    "row {} of the table: expected a class index (a whole number >= 0) in the last column, found {v}",
                    row + 1
                )));
            }
            classes.push(v as i32);
        }
        Dataset::new(
            table.features(),
            &[table.columns.len() - 1],
            Targets::Classes(classes),
        )
    }

    /// Features = every column but the last, target value = the last column.
    pub fn regression(table: &Table) -> Result<Dataset, DataError> {
        Dataset::new(
            table.features(),
            &[table.columns.len() - 1],
            Targets::Values {
                data: table.target(),
                width: 1,
            },
        )
    }

    pub fn len(&self) -> usize {
        self.targets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values per sample.
    pub fn sample_len(&self) -> usize {
        self.sample_shape.iter().product()
    }

    /// The samples at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let n = self.sample_len();
        Dataset {
            x: indices
                .iter()
                .flat_map(|&i| self.x[i * n..(i + 1) * n].to_vec())
                .collect(),
            sample_shape: self.sample_shape.clone(),
            targets: self.targets.subset(indices),
        }
    }

    /// `(rest, picked)` where row `i` is picked when `i % k == r` (the shared
    /// data notes' "every 5th row is test" split, balanced on sorted files).
    /// With `k == 0` nothing is picked.
    pub fn split_every(&self, k: usize, r: usize) -> (Dataset, Dataset) {
        let (picked, rest): (Vec<usize>, Vec<usize>) =
            (0..self.len()).partition(|i| k != 0 && i % k == r);
        (self.subset(&rest), self.subset(&picked))
    }

    /// Splits a seeded shuffle of the samples into parts of the given
    /// fractions (the last part takes the remainder), as `torch.utils.data.random_split`.
    pub fn random_split(&self, fractions: &[f32], seed: u64) -> Vec<Dataset> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        SplitMix64::new(seed).shuffle(&mut order);
        let mut parts = Vec::with_capacity(fractions.len());
        let mut start = 0;
        for (i, f) in fractions.iter().enumerate() {
            let end = if i + 1 == fractions.len() {
                self.len()
            } else {
                (start + (f * self.len() as f32).round() as usize).min(self.len())
            };
            parts.push(self.subset(&order[start..end]));
            start = end;
        }
        parts
    }

    /// The first `n` samples.
    pub fn take(&self, n: usize) -> Dataset {
        self.subset(&(0..n.min(self.len())).collect::<Vec<_>>())
    }

    /// Number of classes (largest class index + 1), for class targets.
    pub fn classes(&self) -> usize {
        match &self.targets {
            Targets::Classes(c) => c
                .iter()
                .copied()
                .filter(|&c| c >= 0)
                .max()
                .map_or(0, |m| m as usize + 1),
            Targets::Values { .. } => 0,
        }
    }
}

/// Per-feature mean and standard deviation, fitted on training data and
/// applied to every split (so test data never leaks into the statistics).
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Standardizer {
    /// Fits on `values`, a row-major table of rows of `width` values.
    pub fn fit_values(values: &[f32], width: usize) -> Standardizer {
        if width == 0 {
            return Standardizer {
                mean: Vec::new(),
                std: Vec::new(),
            };
        }
        let rows = (values.len() / width.max(1)).max(1);
        let mut mean = vec![0.0f64; width];
        let mut sq = vec![0.0f64; width];
        for row in values.chunks(width) {
            for (j, &v) in row.iter().enumerate() {
                mean[j] += v as f64;
                sq[j] += (v as f64) * (v as f64);
            }
        }
        let mean: Vec<f64> = mean.iter().map(|m| m / rows as f64).collect();
        let std = sq
            .iter()
            .zip(&mean)
            .map(|(s, m)| {
                let var = (s / rows as f64 - m * m).max(0.0);
                // A constant feature stays as it is rather than dividing by zero.
                if var > 1e-12 { var.sqrt() as f32 } else { 1.0 }
            })
            .collect();
        Standardizer {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std,
        }
    }

    /// Fits on a dataset's features.
    pub fn fit(data: &Dataset) -> Standardizer {
        Standardizer::fit_values(&data.x, data.sample_len())
    }

    /// `(v - mean) / std`, feature by feature.
    pub fn apply_values(&self, values: &mut [f32]) {
        let w = self.mean.len();
        if w == 0 {
            return;
        }
        for row in values.chunks_mut(w) {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (*v - self.mean[j]) / self.std[j];
            }
        }
    }

    /// Standardizes a dataset's features in place.
    pub fn apply(&self, data: &mut Dataset) {
        self.apply_values(&mut data.x);
    }

    /// Maps standardized values back to the original units.
    pub fn invert_values(&self, values: &mut [f32]) {
        let w = self.mean.len();
        if w == 0 {
            return;
        }
        for row in values.chunks_mut(w) {
            for (j, v) in row.iter_mut().enumerate() {
                *v = *v * self.std[j] + self.mean[j];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> Dataset {
        Dataset::new(
            (0..20).map(|v| v as f32).collect(),
            &[2],
            Targets::Classes((0..10).collect()),
        )
        .unwrap()
    }

    #[test]
    fn splits_partition_the_samples() {
        let d = toy();
        let (train, test) = d.split_every(5, 4);
        assert_eq!((train.len(), test.len()), (8, 2));
        assert_eq!(test.targets, Targets::Classes(vec![4, 9]));
        let parts = d.random_split(&[0.6, 0.2, 0.2], 3);
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            vec![6, 2, 2]
        );
        let mut all: Vec<i32> = parts
            .iter()
            .flat_map(|p| match &p.targets {
                Targets::Classes(c) => c.clone(),
                _ => vec![],
            })
            .collect();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn standardized_features_have_zero_mean_and_unit_variance() {
        let mut d = toy();
        let s = Standardizer::fit(&d);
        s.apply(&mut d);
        let col0: Vec<f32> = d.x.iter().step_by(2).copied().collect();
        let mean: f32 = col0.iter().sum::<f32>() / 10.0;
        let var: f32 = col0.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / 10.0;
        assert!(
            mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4,
            "{mean} {var}"
        );
        assert!(Dataset::new(vec![1.0; 5], &[2], Targets::Classes(vec![0, 1])).is_err());
    }
}
