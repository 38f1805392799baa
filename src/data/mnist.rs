//! The MNIST digits bundled in `data/` as a dataset.

use super::{DataError, Dataset, Targets, read_idx_images, read_idx_labels};
use std::path::Path;

/// The 10,000 MNIST digits in `dir` (`mnist10k-images.idx3-ubyte` and
/// `mnist10k-labels.idx1-ubyte`): samples `[28, 28]` with pixels scaled to
/// `[0, 1]`, class targets 0..9. The file order is a fixed shuffle, so the
/// suggested split is the first 8,000 for training and the last 2,000 for
/// testing.
pub fn mnist(dir: impl AsRef<Path>) -> Result<Dataset, DataError> {
    let dir = dir.as_ref();
    let (n, rows, cols, pixels) = read_idx_images(dir.join("mnist10k-images.idx3-ubyte"))?;
    let labels = read_idx_labels(dir.join("mnist10k-labels.idx1-ubyte"))?;
    if labels.len() != n {
        return Err(DataError::Invalid(format!(
            "{n} images but {} labels",
            labels.len()
        )));
    }
    let x = pixels.iter().map(|&p| p as f32 / 255.0).collect();
    Dataset::new(
        x,
        &[rows, cols],
        Targets::Classes(labels.iter().map(|&l| l as i32).collect()),
    )
}

/// Where the bundled datasets live: `data/` at the root of the kiln checkout.
pub fn bundled_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}
