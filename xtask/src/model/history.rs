//! The history of main (`docs/book/src/formats/history.md`): one JSON line per measured
//! commit (its revision, when, and every configuration's median per metric), appended by
//! `cargo xtask history append` and read by `cargo xtask history report`. Lines are in
//! commit order: the order they were appended.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::files::write_atomically;
use super::metric::Metric;
use super::results::ResultFile;
use super::usage::UsageError;

/// One commit of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The full revision the results were measured at.
    pub commit: String,
    /// When the results were made (the result file's `created`).
    pub created: String,
    /// Per configuration, the median per call of each metric it has.
    pub medians: BTreeMap<String, BTreeMap<Metric, f64>>,
}

impl HistoryEntry {
    /// The entry of a result file measured at a clean commit.
    ///
    /// # Errors
    /// A [`UsageError`] when the file names no revision or was measured in a dirty tree (its
    /// numbers belong to no commit).
    pub fn from_results(results: &ResultFile) -> Result<Self, UsageError> {
        let commit = results.git.revision.clone().ok_or_else(|| {
            UsageError("the result file names no git revision: it belongs to no commit".into())
        })?;
        if results.git.dirty == Some(true) {
            return Err(UsageError(format!(
                "the result file was measured in a dirty tree at {commit}: its numbers belong \
                 to no commit"
            )));
        }
        let medians = results
            .configurations
            .iter()
            .map(|config| {
                let metrics = config
                    .summary
                    .iter()
                    .map(|(metric, summary)| (*metric, summary.median))
                    .collect();
                (config.id.clone(), metrics)
            })
            .collect();
        Ok(Self {
            commit,
            created: results.created.clone(),
            medians,
        })
    }
}

/// One configuration's metric over the history: its id and metric, and `(commit, median)`
/// for every commit that measured it, in history order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series<'a> {
    pub id: &'a str,
    pub metric: Metric,
    pub points: Vec<(&'a str, f64)>,
}

/// Every series of `entries`, by configuration id, then metric.
pub fn series(entries: &[HistoryEntry]) -> Vec<Series<'_>> {
    let mut pairs: Vec<(&str, Metric)> = entries
        .iter()
        .flat_map(|e| {
            e.medians
                .iter()
                .flat_map(|(id, metrics)| metrics.keys().map(move |m| (id.as_str(), *m)))
        })
        .collect();
    pairs.sort();
    pairs.dedup();
    pairs
        .into_iter()
        .map(|(id, metric)| Series {
            id,
            metric,
            points: entries
                .iter()
                .filter_map(|e| Some((e.commit.as_str(), *e.medians.get(id)?.get(&metric)?)))
                .collect(),
        })
        .collect()
}

/// Reads a history file; a missing file is an empty history.
///
/// # Errors
/// A [`UsageError`] naming the file and line of the first line that is not an entry.
pub fn read(path: &Path) -> anyhow::Result<Vec<HistoryEntry>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(anyhow::Error::new(e).context(format!("reading {}", path.display()))),
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(number, line)| {
            serde_json::from_str(line).map_err(|e| {
                UsageError(format!(
                    "{} line {}: not a history entry: {e}",
                    path.display(),
                    number + 1
                ))
                .into()
            })
        })
        .collect()
}

/// Appends `entry` to the history at `path`, rewriting the file atomically (a failure
/// leaves the old history whole). An entry for a commit already in the history replaces
/// nothing and is refused.
///
/// # Errors
/// A [`UsageError`] for a commit already recorded; I/O errors.
pub fn append(path: &Path, entry: &HistoryEntry) -> anyhow::Result<usize> {
    let mut entries = read(path)?;
    if entries.iter().any(|e| e.commit == entry.commit) {
        return Err(UsageError(format!(
            "{} already has commit {}",
            path.display(),
            entry.commit
        ))
        .into());
    }
    entries.push(entry.clone());
    let mut text = String::new();
    for e in &entries {
        text.push_str(&serde_json::to_string(e)?);
        text.push('\n');
    }
    write_atomically(path, &text)?;
    Ok(entries.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::results::tests::result_file;

    #[test]
    fn entries_round_trip_in_order_and_a_commit_is_recorded_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        assert!(read(&path).unwrap().is_empty(), "no file: an empty history");
        let mut results = result_file(&[("floor/park", &[14_000.0, 14_100.0, 13_900.0])]);
        let first = HistoryEntry::from_results(&results).unwrap();
        assert_eq!(first.medians["floor/park"][&Metric::Wall], 14_000.0);
        assert_eq!(append(&path, &first).unwrap(), 1);
        results.git.revision = Some("f".repeat(40));
        let second = HistoryEntry::from_results(&results).unwrap();
        assert_eq!(append(&path, &second).unwrap(), 2);
        assert_eq!(read(&path).unwrap(), [first.clone(), second]);
        let again = append(&path, &first).unwrap_err();
        assert!(again.to_string().contains("already has commit"), "{again}");
        assert_eq!(read(&path).unwrap().len(), 2, "the history is unchanged");
    }

    #[test]
    fn dirty_or_unnamed_results_and_bad_lines_are_refused_by_name() {
        let mut results = result_file(&[("floor/park", &[14_000.0])]);
        results.git.dirty = Some(true);
        assert!(
            HistoryEntry::from_results(&results)
                .unwrap_err()
                .0
                .contains("dirty tree")
        );
        results.git.revision = None;
        assert!(
            HistoryEntry::from_results(&results)
                .unwrap_err()
                .0
                .contains("no git revision")
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        std::fs::write(
            &path,
            "{\"commit\":\"a\",\"created\":\"x\",\"medians\":{}}\nnot json\n",
        )
        .unwrap();
        let error = read(&path).unwrap_err().to_string();
        assert!(error.contains("line 2: not a history entry"), "{error}");
    }
}
