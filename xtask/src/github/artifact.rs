//! Files that come from a pull request's workflow artifact: untrusted data, read with a
//! size limit and checked before use.
//!
//! [`load_results`] is the only way the comment job reads a results file: read at most
//! [`MAX_BYTES`](super::limits::MAX_BYTES) of a regular file, then [`check_text`]: check
//! nesting, values and counts ([`super::limits`]), parse, validate every measurement and
//! re-summarise ([`ResultFile::parse`]), then check what the schema does not
//! ([`super::checked_results`]).

use std::io::Read as _;
use std::path::{Path, PathBuf};

use super::checked_results::{CheckError, CheckedResults};
use super::limits::{self, LimitError};
use crate::model::results::{ResultFile, ResultsError};

/// Why an input file was refused.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read {path}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a regular file (a symbolic link, directory or device); refusing it")]
    NotRegular { path: PathBuf },
    #[error("{path} is larger than the {max}-byte limit for this file")]
    TooLarge { path: PathBuf, max: u64 },
    #[error("{path} is not UTF-8 text")]
    NotUtf8 { path: PathBuf },
    #[error(transparent)]
    Limit(#[from] LimitError),
    #[error(transparent)]
    Results(#[from] ResultsError),
    #[error(transparent)]
    Check(#[from] CheckError),
}

/// Reads and checks a results file from an artifact; see the module docs.
pub fn load_results(path: &Path) -> Result<CheckedResults, InputError> {
    let text = read_capped(path, limits::MAX_BYTES)?;
    check_text(path, &text)
}

/// Checks the text of a results file read from `path` (which names it in errors); see the
/// module docs.
pub fn check_text(path: &Path, text: &str) -> Result<CheckedResults, InputError> {
    limits::check(path, text)?;
    let results = ResultFile::parse(text, path)?;
    Ok(CheckedResults::check(path, text, results)?)
}

/// Reads a UTF-8 text file of at most `max` bytes (counted while reading, so a growing
/// file cannot make it read more). Only regular files are read: a symbolic link in an
/// artifact could otherwise point at a secret on the runner (e.g. `/proc/self/environ`).
pub fn read_capped(path: &Path, max: u64) -> Result<String, InputError> {
    let unreadable = |source| InputError::Unreadable {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::symlink_metadata(path).map_err(unreadable)?;
    if !meta.file_type().is_file() {
        return Err(InputError::NotRegular {
            path: path.to_owned(),
        });
    }
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > max {
        return Err(InputError::TooLarge {
            path: path.to_owned(),
            max,
        });
    }
    String::from_utf8(bytes).map_err(|_| InputError::NotUtf8 {
        path: path.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_limit_and_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.md");
        std::fs::write(&big, "x".repeat(11)).unwrap();
        assert!(matches!(
            read_capped(&big, 10),
            Err(InputError::TooLarge { .. })
        ));
        assert_eq!(read_capped(&big, 11).unwrap().len(), 11);
        let bin = dir.path().join("bin.md");
        std::fs::write(&bin, [0xff, 0xfe]).unwrap();
        assert!(matches!(
            read_capped(&bin, 10),
            Err(InputError::NotUtf8 { .. })
        ));
        assert!(matches!(
            read_capped(&dir.path().join("missing"), 10),
            Err(InputError::Unreadable { .. })
        ));
        assert!(matches!(
            read_capped(dir.path(), 10),
            Err(InputError::NotRegular { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("secret");
        std::fs::write(&target, "s3cret").unwrap();
        let link = dir.path().join("bench.md");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(
            read_capped(&link, 100),
            Err(InputError::NotRegular { .. })
        ));
    }
}
