//! Mini-batches: shuffle, batch size and `drop_last`, as `torch.utils.data.DataLoader`.
//!
//! A compiled graph has a static batch size, so every batch the loader yields
//! has exactly `batch_size` rows. With `drop_last(false)` the final partial
//! batch is padded with copies of its first row and `Batch::real` says how
//! many rows are real (count metrics over those only).

use super::dataset::{Dataset, Targets};
use super::rng::SplitMix64;

/// One batch: `batch_size` samples, row-major, and their targets.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub x: Vec<f32>,
    /// Class targets (empty for value targets).
    pub classes: Vec<i32>,
    /// Value targets (empty for class targets).
    pub values: Vec<f32>,
    /// Rows that are real samples; the rest are padding.
    pub real: usize,
}

/// Iterates a dataset in batches. Build with `DataLoader::new(&data, 64)`.
#[derive(Clone, Debug)]
pub struct DataLoader<'a> {
    data: &'a Dataset,
    batch_size: usize,
    shuffle: Option<u64>,
    drop_last: bool,
}

impl<'a> DataLoader<'a> {
    /// Batches of `batch_size`, in order, keeping a padded final partial batch.
    pub fn new(data: &'a Dataset, batch_size: usize) -> DataLoader<'a> {
        DataLoader {
            data,
            batch_size: batch_size.max(1),
            shuffle: None,
            drop_last: false,
        }
    }

    /// Reshuffle every epoch, from `seed` and the epoch number.
    pub fn shuffle(mut self, seed: u64) -> DataLoader<'a> {
        self.shuffle = Some(seed);
        self
    }

    /// Drop the final partial batch instead of padding it.
    pub fn drop_last(mut self, drop: bool) -> DataLoader<'a> {
        self.drop_last = drop;
        self
    }

    /// Number of batches per epoch.
    pub fn len(&self) -> usize {
        let n = self.data.len();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The batches of epoch `epoch`.
    pub fn epoch(&self, epoch: u64) -> impl Iterator<Item = Batch> + '_ {
        let mut order: Vec<usize> = (0..self.data.len()).collect();
        if let Some(seed) = self.shuffle {
            SplitMix64::new(seed ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15)).shuffle(&mut order);
        }
        let batches = self.len();
        (0..batches).map(move |b| {
            let start = b * self.batch_size;
            let end = (start + self.batch_size).min(order.len());
            let mut idx: Vec<usize> = order[start..end].to_vec();
            let real = idx.len();
            while idx.len() < self.batch_size {
                idx.push(order[start]);
            }
            self.gather(&idx, real)
        })
    }

    fn gather(&self, idx: &[usize], real: usize) -> Batch {
        let picked = self.data.subset(idx);
        let (classes, values) = match picked.targets {
            Targets::Classes(c) => (c, Vec::new()),
            Targets::Values { data, .. } => (Vec::new(), data),
        };
        Batch {
            x: picked.x,
            classes,
            values,
            real,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_cover_every_sample_once_per_epoch() {
        let d = Dataset::new(
            (0..10).map(|v| v as f32).collect(),
            &[1],
            Targets::Classes((0..10).collect()),
        )
        .unwrap();
        let loader = DataLoader::new(&d, 4).shuffle(1);
        let batches: Vec<Batch> = loader.epoch(0).collect();
        assert_eq!(batches.len(), 3);
        assert_eq!(batches[2].real, 2);
        assert!(batches.iter().all(|b| b.x.len() == 4));
        let mut seen: Vec<i32> = batches
            .iter()
            .flat_map(|b| b.classes[..b.real].to_vec())
            .collect();
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        assert_ne!(loader.epoch(0).next(), loader.epoch(1).next());
        assert_eq!(DataLoader::new(&d, 4).drop_last(true).epoch(0).count(), 2);
    }
}
