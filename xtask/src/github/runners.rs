//! The result files of `--results-dir` as the comment's runners: one runner per artifact
//! directory, the shards of a sharded run (`NAME-shard-K-of-N`) together as one runner,
//! within the caps of one comment. A file over a cap is refused on its own, by name; the
//! others are still reported.
//!
//! Directory names come from the artifacts' names, which the pull request's workflow file
//! chose: they only decide which files are merged and how a refusal names a file (always as
//! an inert code span). What is merged is checked again by `github::merge`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::model::shard::MAX_SHARDS;

/// At most this many result files are read for one comment (each up to the byte limit).
pub const MAX_FILES: usize = 32;
/// At most this many runners (sections) in one comment; each is a full report.
pub const MAX_RUNNERS: usize = 8;

/// The name a results file has in every artifact.
pub const FILE_NAME: &str = "bench.json";

/// Which shard of how many a directory's name says its file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ShardName {
    /// 1-based.
    pub index: u32,
    pub count: u32,
}

/// One results file found, with how the comment names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    /// Relative to the results directory (`NAME/bench.json`), or the path as given.
    pub name: String,
    /// The runner it belongs to: its directory's name without a shard suffix.
    pub runner: String,
    pub shard: Option<ShardName>,
}

/// A file left out of the comment, and why (one line; shown as code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub name: String,
    pub reason: String,
}

/// The files of one runner, in shard order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerFiles {
    pub runner: String,
    pub files: Vec<Found>,
}

/// `NAME-shard-K-of-N` split into `NAME` and the shard, when the name has that form (with
/// `1 <= K <= N <= MAX_SHARDS`).
pub fn split_shard(dir_name: &str) -> (&str, Option<ShardName>) {
    let parsed = (|| {
        let (runner, rest) = dir_name.rsplit_once("-shard-")?;
        let (index, count) = rest.split_once("-of-")?;
        let number = |s: &str| {
            (!s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u32>().ok())
                .flatten()
        };
        let shard = ShardName {
            index: number(index)?,
            count: number(count)?,
        };
        (!runner.is_empty()
            && (1..=shard.count).contains(&shard.index)
            && shard.count <= MAX_SHARDS)
            .then_some((runner, shard))
    })();
    match parsed {
        Some((runner, shard)) => (runner, Some(shard)),
        None => (dir_name, None),
    }
}

/// Every `bench.json` in `dir` or one level below it (download-artifact's layout: a
/// directory per artifact), sorted by runner, shard and name; a `bench.json` that is not a
/// regular file is found, and refused when read (`artifact::read_capped`). An unreadable
/// directory, or one without any such file, is bad input.
pub fn find(dir: &Path) -> anyhow::Result<Vec<Found>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("--results-dir {}: cannot read the directory", dir.display()))?;
    let mut found = Vec::new();
    let top = dir.join(FILE_NAME);
    if std::fs::symlink_metadata(&top).is_ok() {
        found.push(Found {
            path: top,
            name: FILE_NAME.to_owned(),
            runner: String::new(),
            shard: None,
        });
    }
    for entry in entries {
        let entry = entry.with_context(|| format!("--results-dir {}", dir.display()))?;
        // Real directories only: a symbolic link in an artifact could lead anywhere.
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let path = entry.path().join(FILE_NAME);
        if !is_dir || std::fs::symlink_metadata(&path).is_err() {
            continue;
        }
        let dir_name = entry.file_name().to_string_lossy().into_owned();
        let (runner, shard) = split_shard(&dir_name);
        found.push(Found {
            name: format!("{dir_name}/{FILE_NAME}"),
            runner: runner.to_owned(),
            shard,
            path,
        });
    }
    if found.is_empty() {
        anyhow::bail!(
            "--results-dir {}: no {FILE_NAME} in it or one level below",
            dir.display()
        );
    }
    found.sort_by(|a, b| (&a.runner, a.shard, &a.name).cmp(&(&b.runner, b.shard, &b.name)));
    Ok(found)
}

/// The files as runners, within [`MAX_FILES`] and [`MAX_RUNNERS`]: the first files in
/// order are kept, and each one beyond a cap is refused by name.
pub fn group(found: Vec<Found>) -> (Vec<RunnerFiles>, Vec<Refusal>) {
    let mut refused = Vec::new();
    let mut runners: Vec<RunnerFiles> = Vec::new();
    for (i, file) in found.into_iter().enumerate() {
        if i >= MAX_FILES {
            refused.push(Refusal {
                reason: format!("beyond the limit of {MAX_FILES} result files per comment"),
                name: file.name,
            });
            continue;
        }
        if let Some(last) = runners.last_mut().filter(|last| last.runner == file.runner) {
            last.files.push(file);
        } else if runners.len() >= MAX_RUNNERS {
            refused.push(Refusal {
                reason: format!("beyond the limit of {MAX_RUNNERS} runners per comment"),
                name: file.name,
            });
        } else {
            runners.push(RunnerFiles {
                runner: file.runner.clone(),
                files: vec![file],
            });
        }
    }
    (runners, refused)
}

/// The shards of `count` (1-based) that none of `files` holds; none without a count.
pub fn missing_shards(files: &[Found], count: Option<u32>) -> Vec<u32> {
    let Some(count) = count else {
        return Vec::new();
    };
    (1..=count)
        .filter(|k| !files.iter().any(|f| f.shard.is_some_and(|s| s.index == *k)))
        .collect()
}

/// An error about `path` as a refusal's reason: on one line, without the path (which the
/// refusal names already: a leading `PATH: ` is dropped, any other mention becomes "the
/// file"), at most [`crate::model::shown::MAX_QUOTED_CHARS`] characters.
pub fn reason(path: &Path, error: &dyn std::error::Error) -> String {
    let shown = path.display().to_string();
    let text = error.to_string();
    let text = text.strip_prefix(&format!("{shown}: ")).unwrap_or(&text);
    let one_line: String = text
        .replace(&shown, "the file")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    crate::model::shown::cut(&one_line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(name: &str) -> Found {
        let (dir, _) = name.split_once('/').unwrap_or(("", name));
        let (runner, shard) = split_shard(dir);
        Found {
            path: PathBuf::from(name),
            name: name.to_owned(),
            runner: runner.to_owned(),
            shard,
        }
    }

    #[test]
    fn shard_suffixes_name_the_runner_and_the_shard() {
        let shard = |index, count| Some(ShardName { index, count });
        assert_eq!(
            split_shard("bench-results-ubuntu-24.04-shard-2-of-3"),
            ("bench-results-ubuntu-24.04", shard(2, 3))
        );
        assert_eq!(split_shard("x-shard-1-of-1"), ("x", shard(1, 1)));
        for plain in [
            "bench-results-ubuntu-24.04",
            "x-shard-0-of-3",
            "x-shard-4-of-3",
            "x-shard-1-of-9",
            "x-shard-01-of-3x",
            "x-shard--of-3",
            "-shard-1-of-2",
            "x-shard-+1-of-2",
            "x-shard-1-of-99999999999999999999",
        ] {
            assert_eq!(split_shard(plain), (plain, None), "{plain}");
        }
    }

    #[test]
    fn files_are_found_in_the_directory_and_one_level_below_in_runner_and_shard_order() {
        let dir = tempfile::tempdir().unwrap();
        for sub in [
            "r-b",
            "r-a-shard-10-of-3",
            "r-a-shard-2-of-3",
            "r-a-shard-1-of-3",
            "empty",
        ] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
            if sub != "empty" {
                std::fs::write(dir.path().join(sub).join(FILE_NAME), "{}").unwrap();
            }
        }
        std::fs::write(dir.path().join(FILE_NAME), "{}").unwrap();
        let names: Vec<String> = find(dir.path())
            .unwrap()
            .into_iter()
            .map(|f| format!("{} {:?}", f.name, f.shard.map(|s| s.index)))
            .collect();
        assert_eq!(
            names,
            [
                "bench.json None",
                "r-a-shard-1-of-3/bench.json Some(1)",
                "r-a-shard-2-of-3/bench.json Some(2)",
                // Not a shard name (10 > 3): a runner of its own, ordered by name.
                "r-a-shard-10-of-3/bench.json None",
                "r-b/bench.json None",
            ]
        );
        let none = tempfile::tempdir().unwrap();
        let err = find(none.path()).unwrap_err().to_string();
        assert!(err.contains("no bench.json"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_directory_is_skipped_and_a_linked_file_found_for_refusal() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::write(elsewhere.path().join(FILE_NAME), "{}").unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("linked")).unwrap();
        std::fs::create_dir(dir.path().join("r")).unwrap();
        std::os::unix::fs::symlink("/nonexistent/secret", dir.path().join("r").join(FILE_NAME))
            .unwrap();
        let names: Vec<String> = find(dir.path())
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(names, ["r/bench.json"]);
    }

    #[test]
    fn files_beyond_the_caps_are_refused_one_by_one() {
        let files: Vec<Found> = (0..MAX_RUNNERS + 2)
            .map(|i| found(&format!("r{i:02}/bench.json")))
            .collect();
        let (runners, refused) = group(files);
        assert_eq!(runners.len(), MAX_RUNNERS);
        assert_eq!(
            refused.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["r08/bench.json", "r09/bench.json"]
        );
        assert!(refused[0].reason.contains("limit of 8 runners"));

        let shards: Vec<Found> = (0..MAX_FILES + 1)
            .map(|i| found(&format!("r-{i:02}/bench.json")))
            .map(|f| Found {
                runner: "r".to_owned(),
                ..f
            })
            .collect();
        let (runners, refused) = group(shards);
        assert_eq!(runners.len(), 1);
        assert_eq!(runners[0].files.len(), MAX_FILES);
        assert_eq!(refused.len(), 1);
        assert!(refused[0].reason.contains("limit of 32 result files"));
    }

    #[test]
    fn missing_shards_are_those_the_names_count_but_no_file_has() {
        let files = [
            found("r-shard-1-of-4/bench.json"),
            found("r-shard-3-of-4/bench.json"),
        ];
        assert_eq!(missing_shards(&files, Some(4)), [2, 4]);
        assert!(missing_shards(&[found("r/bench.json")], None).is_empty());
    }

    #[test]
    fn a_reason_is_one_short_line_without_the_path() {
        let path = Path::new("/tmp/x/r/bench.json");
        let error = std::io::Error::other(format!(
            "{} says\n::error::{}",
            path.display(),
            "y".repeat(1_000)
        ));
        let said = reason(path, &error);
        assert!(said.starts_with("the file says ::error::yyy"), "{said}");
        assert!(!said.contains('\n'));
        assert!(said.chars().count() <= crate::model::shown::MAX_QUOTED_CHARS);
        let error = std::io::Error::other(format!("{}: configuration a/b: bad", path.display()));
        assert_eq!(reason(path, &error), "configuration a/b: bad");
    }
}
