//! A reader for the numeric CSV files of `data/`: a header line, then rows of
//! comma-separated numbers, no quoting.

use super::{DataError, read_file};
use std::path::Path;

/// A numeric table: column names and row-major values.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub values: Vec<f32>,
}

impl Table {
    pub fn rows(&self) -> usize {
        self.values.len() / self.columns.len().max(1)
    }

    pub fn row(&self, i: usize) -> &[f32] {
        let w = self.columns.len();
        &self.values[i * w..(i + 1) * w]
    }

    /// Every column but the last, row-major.
    pub fn features(&self) -> Vec<f32> {
        (0..self.rows())
            .flat_map(|i| self.row(i)[..self.columns.len() - 1].to_vec())
            .collect()
    }

    /// The last column.
    pub fn target(&self) -> Vec<f32> {
        (0..self.rows())
            .map(|i| self.row(i)[self.columns.len() - 1])
            .collect()
    }
}

/// Reads `path`. Errors name the file, line and column.
pub fn read_csv(path: impl AsRef<Path>) -> Result<Table, DataError> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    let text = String::from_utf8_lossy(&bytes);
    parse_csv(&text, &path.display().to_string())
}

/// Parses CSV text; `name` is used in errors.
pub fn parse_csv(text: &str, name: &str) -> Result<Table, DataError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(DataError::Invalid(format!(
            "{name} is empty: expected a header line"
        )));
    };
    let columns: Vec<String> = header.split(',').map(|c| c.trim().to_string()).collect();
    let mut values = Vec::new();
    for (i, line) in lines {
        let mut n = 0;
        let mut column = 1;
        for field in line.split(',') {
            let v: f32 = field.trim().parse().map_err(|_| DataError::Parse {
                path: name.into(),
                line: i + 1,
                column,
                expected: "a number".into(),
                found: field.into(),
            })?;
            values.push(v);
            n += 1;
            column += field.len() + 1;
        }
        if n != columns.len() {
            return Err(DataError::Parse {
                path: name.into(),
                line: i + 1,
                column: 1,
                expected: format!("{} fields (as in the header)", columns.len()),
                found: format!("{n} fields"),
            });
        }
    }
    Ok(Table { columns, values })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reports_bad_fields_with_line_and_column() {
        let t = parse_csv("a,b,label\n1,2.5,0\n-3,4e-1,1\n", "t.csv").unwrap();
        assert_eq!(t.rows(), 2);
        assert_eq!(t.features(), vec![1.0, 2.5, -3.0, 0.4]);
        assert_eq!(t.target(), vec![0.0, 1.0]);
        let e = parse_csv("a,b\n1,x\n", "t.csv").unwrap_err().to_string();
        assert_eq!(e, "t.csv:2:3: expected a number, found `x`");
        let e = parse_csv("a,b\n1\n", "t.csv").unwrap_err().to_string();
        assert!(e.contains("expected 2 fields"), "{e}");
    }
}
