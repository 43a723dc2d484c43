//! Files that come from a pull request's workflow artifact: untrusted data, read with a
//! size limit and checked before use.

use std::io::Read as _;
use std::path::{Path, PathBuf};

/// The largest markdown report accepted (it is cut to 65,536 characters anyway).
pub const MAX_MARKDOWN_BYTES: u64 = 8 * 1024 * 1024;

/// The largest results file accepted.
pub const MAX_RESULTS_BYTES: u64 = 64 * 1024 * 1024;

/// The `kind` a results file must declare.
pub const RESULTS_KIND: &str = "handoff-bench-results";

/// The results `schema` version this xtask understands.
pub const RESULTS_SCHEMA: u64 = 1;

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
    #[error("{path} is not JSON")]
    NotJson {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(
        "{path} is not a handoff-bench results file: expected \"kind\": {RESULTS_KIND:?}, found {found}"
    )]
    WrongKind { path: PathBuf, found: String },
    #[error("{path} has results schema {found}, this xtask reads schema {RESULTS_SCHEMA}")]
    WrongSchema { path: PathBuf, found: String },
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

/// Checks that `text` (read from `path`) is a results file of the supported schema: a JSON
/// object with `"kind": "handoff-bench-results"` and `"schema": 1`. The contents are not
/// otherwise used here: the comment posts the markdown report.
pub fn check_results(path: &Path, text: &str) -> Result<(), InputError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|source| InputError::NotJson {
            path: path.to_owned(),
            source,
        })?;
    let shown = |v: Option<&serde_json::Value>| {
        v.map_or_else(
            || "nothing".to_owned(),
            |v| {
                let mut s = v.to_string();
                s.truncate(80);
                s
            },
        )
    };
    let kind = value.get("kind");
    if kind.and_then(|k| k.as_str()) != Some(RESULTS_KIND) {
        return Err(InputError::WrongKind {
            path: path.to_owned(),
            found: shown(kind),
        });
    }
    let schema = value.get("schema");
    if schema.and_then(|s| s.as_u64()) != Some(RESULTS_SCHEMA) {
        return Err(InputError::WrongSchema {
            path: path.to_owned(),
            found: shown(schema),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<(), InputError> {
        check_results(Path::new("bench.json"), text)
    }

    #[test]
    fn accepts_schema_1_results() {
        check(r#"{"schema":1,"kind":"handoff-bench-results","configs":[]}"#).unwrap();
    }

    #[test]
    fn refuses_other_files() {
        assert!(matches!(check("[1]"), Err(InputError::WrongKind { .. })));
        assert!(matches!(check("nope"), Err(InputError::NotJson { .. })));
        assert!(matches!(
            check(r#"{"schema":2,"kind":"handoff-bench-results"}"#),
            Err(InputError::WrongSchema { .. })
        ));
        let e = check(r#"{"schema":1,"kind":"other"}"#).unwrap_err();
        assert!(e.to_string().contains("\"other\""), "{e}");
    }

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
