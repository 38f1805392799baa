//! Loading and batching data: CSV and IDX readers, datasets with seeded
//! splits and standardization, and a loader with shuffle, batch size and
//! `drop_last`, as a PyTorch user knows them.

pub mod csv;
pub mod dataset;
pub mod idx;
pub mod loader;
pub mod mnist;
pub mod rng;

pub use csv::{Table, read_csv};
pub use dataset::{Dataset, Standardizer, Targets};
pub use idx::{read_idx_images, read_idx_labels};
pub use loader::{Batch, DataLoader};
pub use mnist::{bundled_dir, mnist};
pub use rng::SplitMix64;

/// Why data could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: expected {expected}, found `{found}`")]
    Parse {
        path: String,
        line: usize,
        column: usize,
        expected: String,
        found: String,
    },
    #[error("{0}")]
    Invalid(String),
}

/// Reads a whole file, naming it in the error.
pub(crate) fn read_file(path: &std::path::Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|source| DataError::Io {
        path: path.display().to_string(),
        source,
    })
}
