//! A reader for the IDX format of MNIST and Fashion-MNIST (big-endian header,
//! then raw bytes).

use super::{DataError, read_file};
use std::path::Path;

fn be32(bytes: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize)
}

/// Images as `(count, rows, cols, pixels)`, pixels row-major, image after image.
pub fn read_idx_images(
    path: impl AsRef<Path>,
) -> Result<(usize, usize, usize, Vec<u8>), DataError> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    let bad = |what: String| DataError::Invalid(format!("{}: {what}", path.display()));
    let magic = be32(&bytes, 0).ok_or_else(|| bad("too short for an IDX header".into()))?;
    if magic != 0x803 {
        return Err(bad(format!(
            "expected IDX image magic 0x00000803, found {magic:#010x}"
        )));
    }
    let (n, rows, cols) = match (be32(&bytes, 4), be32(&bytes, 8), be32(&bytes, 12)) {
        (Some(n), Some(r), Some(c)) => (n, r, c),
        _ => return Err(bad("truncated header".into())),
    };
    // A crafted header must not overflow the size computation.
    let expected = n
        .checked_mul(rows)
        .and_then(|v| v.checked_mul(cols))
        .and_then(|v| v.checked_add(16));
    if expected != Some(bytes.len()) {
        let expected = expected.map_or("more than usize::MAX".to_string(), |e| e.to_string());
        return Err(bad(format!(
            "expected {expected} bytes for {n} images of {rows}x{cols}, found {}",
            bytes.len()
        )));
    }
    Ok((n, rows, cols, bytes[16..].to_vec()))
}

/// Labels, one byte each.
pub fn read_idx_labels(path: impl AsRef<Path>) -> Result<Vec<u8>, DataError> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    let bad = |what: String| DataError::Invalid(format!("{}: {what}", path.display()));
    let magic = be32(&bytes, 0).ok_or_else(|| bad("too short for an IDX header".into()))?;
    if magic != 0x801 {
        return Err(bad(format!(
            "expected IDX label magic 0x00000801, found {magic:#010x}"
        )));
    }
    let n = be32(&bytes, 4).ok_or_else(|| bad("truncated header".into()))?;
    if n.checked_add(8) != Some(bytes.len()) {
        return Err(bad(format!(
            "expected {} bytes for {n} labels, found {}",
            n.saturating_add(8),
            bytes.len()
        )));
    }
    Ok(bytes[8..].to_vec())
}
