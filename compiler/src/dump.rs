//! Dump files: the IR before and after every pass, and a diff when it changed.
//!
//! Files are `NNN-<pass>.before.kir`, `NNN-<pass>.after.kir` and, when the pass
//! changed the graph, `NNN-<pass>.diff` (unified), numbered in run order like
//! rustc's `-Zdump-mir`. Shared by `kiln-dump --dump-dir` and tests.

use similar::TextDiff;
use std::path::{Path, PathBuf};

/// Writes numbered dump files into one directory.
pub struct Dumper {
    dir: PathBuf,
}

impl Dumper {
    /// Creates `dir` if needed.
    pub fn new(dir: impl Into<PathBuf>) -> std::io::Result<Dumper> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Dumper { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes the before/after texts of run number `index` of `pass`.
    pub fn write(
        &self,
        index: usize,
        pass: &str,
        before: &str,
        after: &str,
    ) -> std::io::Result<()> {
        let stem = format!("{index:03}-{pass}");
        std::fs::write(self.dir.join(format!("{stem}.before.kir")), before)?;
        std::fs::write(self.dir.join(format!("{stem}.after.kir")), after)?;
        if before != after {
            let diff = TextDiff::from_lines(before, after)
                .unified_diff()
                .header(&format!("{stem}.before.kir"), &format!("{stem}.after.kir"))
                .to_string();
            std::fs::write(self.dir.join(format!("{stem}.diff")), diff)?;
        }
        Ok(())
    }
}
