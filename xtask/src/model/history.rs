//! The history of main (`docs/book/src/formats/history.md`): one JSON line per measured
//! commit (its revision, when, and every configuration's median per metric), appended by
//! `cargo xtask history append` and read by `cargo xtask history report`. Lines are in
//! commit order: the order they were appended.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::files::{Lock, write_atomically};
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

/// A line of a history file that holds no entry: its number (from 1) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub number: usize,
    pub reason: String,
}

/// A history file as read: its entries in file order, and the lines that hold none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub entries: Vec<HistoryEntry>,
    pub bad_lines: Vec<BadLine>,
}

/// Reads a history file; a missing file is an empty history. A line that is not an entry
/// (not JSON, not a full hexadecimal commit, or a commit an earlier line already has) is
/// skipped and listed in [`History::bad_lines`], so that one damaged line costs one commit
/// of the history, not all of it.
///
/// # Errors
/// The file cannot be read (other than missing).
pub fn read(path: &Path) -> anyhow::Result<History> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(History::default()),
        Err(e) => return Err(anyhow::Error::new(e).context(format!("reading {}", path.display()))),
    };
    Ok(parse(&text))
}

/// The entries and bad lines of a history file's text (see [`read`]).
pub fn parse(text: &str) -> History {
    let mut history = History::default();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let checked = serde_json::from_str::<HistoryEntry>(line)
            .map_err(|e| format!("not a history entry: {e}"))
            .and_then(|entry| {
                if !is_full_commit(&entry.commit) {
                    return Err(format!(
                        "commit {:?} is not a full hexadecimal revision",
                        entry.commit
                    ));
                }
                match seen.get(&entry.commit) {
                    Some(first) => Err(format!(
                        "commit {} is already on line {first}",
                        entry.commit
                    )),
                    None => Ok(entry),
                }
            });
        match checked {
            Ok(entry) => {
                seen.insert(entry.commit.clone(), number);
                history.entries.push(entry);
            }
            Err(reason) => history.bad_lines.push(BadLine { number, reason }),
        }
    }
    history
}

/// A SHA-1 (40) or SHA-256 (64) revision in lower-case hexadecimal, as git prints them.
fn is_full_commit(commit: &str) -> bool {
    matches!(commit.len(), 40 | 64)
        && commit
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// What [`append`] did: the commits the history now has, and the lines it kept as they were
/// although they hold no entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Appended {
    pub commits: usize,
    pub bad_lines: Vec<BadLine>,
}

/// Appends `entry` to the history at `path`: under an exclusive lock on `PATH.lock` (two
/// appends at once would each read the old file and the second rename would drop the first
/// one's line), the file is read, the entry's line added after the existing text, kept
/// byte for byte (bad lines included: the history is data, not this version's to drop),
/// and the file rewritten atomically (a failure leaves the old history whole). An entry
/// for a commit already in the history replaces nothing and is refused.
///
/// # Errors
/// A [`UsageError`] for a commit already recorded; I/O errors.
pub fn append(path: &Path, entry: &HistoryEntry) -> anyhow::Result<Appended> {
    let mut lock_name = path.as_os_str().to_owned();
    lock_name.push(".lock");
    let _lock = Lock::exclusive(Path::new(&lock_name))?;
    let mut text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(anyhow::Error::new(e).context(format!("reading {}", path.display()))),
    };
    let history = parse(&text);
    if history.entries.iter().any(|e| e.commit == entry.commit) {
        return Err(UsageError(format!(
            "{} already has commit {}",
            path.display(),
            entry.commit
        ))
        .into());
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&serde_json::to_string(entry)?);
    text.push('\n');
    write_atomically(path, &text)?;
    Ok(Appended {
        commits: history.entries.len() + 1,
        bad_lines: history.bad_lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::results::tests::result_file;

    #[test]
    fn entries_round_trip_in_order_and_a_commit_is_recorded_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        assert_eq!(read(&path).unwrap(), History::default(), "no file: empty");
        let mut results = result_file(&[("floor/park", &[14_000.0, 14_100.0, 13_900.0])]);
        let first = HistoryEntry::from_results(&results).unwrap();
        assert_eq!(first.medians["floor/park"][&Metric::Wall], 14_000.0);
        assert_eq!(append(&path, &first).unwrap().commits, 1);
        results.git.revision = Some("f".repeat(40));
        let second = HistoryEntry::from_results(&results).unwrap();
        assert_eq!(append(&path, &second).unwrap().commits, 2);
        assert_eq!(read(&path).unwrap().entries, [first.clone(), second]);
        let again = append(&path, &first).unwrap_err();
        assert!(again.to_string().contains("already has commit"), "{again}");
        assert_eq!(
            read(&path).unwrap().entries.len(),
            2,
            "the history is unchanged"
        );
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
    }

    fn line(commit: &str) -> String {
        format!("{{\"commit\":\"{commit}\",\"created\":\"x\",\"medians\":{{}}}}")
    }

    #[test]
    fn bad_lines_are_skipped_and_named_and_appending_keeps_them() {
        let (a, b, c) = ("a".repeat(40), "b".repeat(40), "c".repeat(40));
        let text = [
            line(&a),
            "not json".to_owned(),
            line("abc"),
            line(&a),
            "{\"commit\":".to_owned(),
            line(&b),
        ]
        .join("\n");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        // A damaged last line without its newline (a write cut short).
        std::fs::write(&path, &text).unwrap();
        let history = read(&path).unwrap();
        let commits: Vec<&str> = history.entries.iter().map(|e| e.commit.as_str()).collect();
        assert_eq!(commits, [a.as_str(), b.as_str()]);
        let named: Vec<(usize, &str)> = history
            .bad_lines
            .iter()
            .map(|l| (l.number, l.reason.as_str()))
            .collect();
        assert_eq!(named.len(), 4, "{named:?}");
        assert_eq!(named[0].0, 2);
        assert!(named[0].1.starts_with("not a history entry"), "{named:?}");
        assert_eq!(named[1].0, 3);
        assert!(named[1].1.contains("\"abc\" is not a full"), "{named:?}");
        assert_eq!(named[2].0, 4);
        assert!(named[2].1.contains("already on line 1"), "{named:?}");
        assert_eq!(named[3].0, 5);
        // Appending keeps every existing byte, the bad lines too, and ends each line.
        let mut entry = history.entries[0].clone();
        entry.commit = c.clone();
        let appended = append(&path, &entry).unwrap();
        assert_eq!(appended.commits, 3);
        assert_eq!(appended.bad_lines, history.bad_lines);
        let after = std::fs::read_to_string(&path).unwrap();
        assert_eq!(after, format!("{text}\n{}\n", line(&c)));
    }

    #[test]
    fn concurrent_appends_lose_no_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let results = result_file(&[("floor/park", &[14_000.0])]);
        let template = HistoryEntry::from_results(&results).unwrap();
        // Four writers at once, 25 commits each: without the lock, two of them read the same
        // old file and the later rename drops the other's line.
        std::thread::scope(|scope| {
            for writer in 0..4_u32 {
                let (path, template) = (&path, &template);
                scope.spawn(move || {
                    for n in 0..25_u32 {
                        let mut entry = template.clone();
                        entry.commit = format!("{writer:08x}{n:032x}");
                        append(path, &entry).unwrap();
                    }
                });
            }
        });
        let history = read(&path).unwrap();
        assert_eq!(history.bad_lines, []);
        assert_eq!(history.entries.len(), 100);
    }
}
