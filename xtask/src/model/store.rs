//! The baselines directory: validated names, atomic saves, loading and listing.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use thiserror::Error;

use crate::model::files::write_atomically;
use crate::model::results::{ResultFile, ResultsError};

/// The baseline compared with when none is named.
pub const DEFAULT_BASELINE: &str = "reference";

/// A baseline name: 1-64 characters of `A-Z a-z 0-9 . _ -`, not starting with `.` or `-`.
/// It becomes `baselines/NAME.json`, so it must not be able to name any other path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineName(String);

#[derive(Debug, Error)]
#[error(
    "invalid baseline name {0:?}: use 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-'"
)]
pub struct BaselineNameError(String);

impl FromStr for BaselineName {
    type Err = BaselineNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=64).contains(&s.len())
            && !s.starts_with(['.', '-'])
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(BaselineName(s.to_owned()))
        } else {
            Err(BaselineNameError(s.to_owned()))
        }
    }
}

impl BaselineName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A baseline found by [`BaselineStore::list`]; unreadable ones are listed with their error.
#[derive(Debug)]
pub struct ListedBaseline {
    pub name: String,
    pub file: Result<ResultFile, ResultsError>,
}

#[derive(Debug, Clone)]
pub struct BaselineStore {
    dir: PathBuf,
}

impl BaselineStore {
    pub fn new(dir: PathBuf) -> Self {
        BaselineStore { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, name: &BaselineName) -> PathBuf {
        self.dir.join(format!("{}.json", name.as_str()))
    }

    /// Whether anything (file or not) exists at the baseline's path.
    pub fn exists(&self, name: &BaselineName) -> bool {
        self.path(name).exists()
    }

    pub fn load(&self, name: &BaselineName) -> Result<ResultFile, ResultsError> {
        ResultFile::load(&self.path(name))
    }

    /// Writes the baseline atomically; an existing one is replaced only by a complete file.
    pub fn save(&self, name: &BaselineName, results: &ResultFile) -> anyhow::Result<PathBuf> {
        let path = self.path(name);
        write_atomically(&path, &results.to_json())?;
        Ok(path)
    }

    /// Every `*.json` in the directory, sorted by name; an absent directory lists nothing.
    pub fn list(&self) -> std::io::Result<Vec<ListedBaseline>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut listed = Vec::new();
        for entry in entries {
            let path = entry?.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            listed.push(ListedBaseline {
                name: name.to_owned(),
                file: ResultFile::load(&path),
            });
        }
        listed.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(listed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::results::tests::result_file;

    #[test]
    fn names_cannot_escape_the_directory() {
        for good in ["reference", "main-2026.01", "a_b", "X"] {
            assert!(good.parse::<BaselineName>().is_ok(), "{good}");
        }
        for bad in [
            "",
            "../x",
            "a/b",
            ".hidden",
            "-flag",
            "a b",
            &"x".repeat(65),
        ] {
            assert!(bad.parse::<BaselineName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn save_load_list() {
        let dir = tempfile::tempdir().unwrap();
        let store = BaselineStore::new(dir.path().join("baselines"));
        assert!(store.list().unwrap().is_empty());
        let name: BaselineName = "main".parse().unwrap();
        let file = result_file(&[("floor/park", &[1.0, 2.0])]);
        store.save(&name, &file).unwrap();
        assert_eq!(store.load(&name).unwrap(), file);
        std::fs::write(store.dir().join("broken.json"), "{").unwrap();
        let listed = store.list().unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].name, "broken");
        assert!(listed[0].file.is_err());
        assert!(listed[1].file.is_ok());
    }
}
