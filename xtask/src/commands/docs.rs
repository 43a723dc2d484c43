//! `cargo xtask docs [--check]`: rewrites the generated blocks of `README.md` and the user
//! guide (`docs/book/src/**/*.md`) from the committed data files they name
//! (`report::docs` says what a block is and renders it); `--check` writes nothing and fails
//! naming every block that differs from what its data renders.
//!
//! Kinds of block (the words after `cargo xtask docs` on a marker line):
//!
//! - `results FILE`: the results table of a result file (`bench --json FILE`), ratios to
//!   the floors first;
//! - `results-detail FILE`: the same run with the medians' intervals and the CPU time and
//!   instructions of each thread role;
//! - `comment FILE`: the top of the pull-request comment that `cargo xtask comment` makes
//!   of a paired result file (`bench --against ... --json FILE`), by the same code.
//!
//! Each block says how its data was made: the `cargo xtask bench` command is spelled out
//! from the settings the file records, with the flags that differ from today's defaults.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args as _, FromArgMatches as _};

use crate::commands::bench;
use crate::commands::exit::Outcome;
use crate::github::{artifact, comment_report};
use crate::model::files::write_atomically;
use crate::model::results::ResultFile;
use crate::model::usage::UsageError;
use crate::report::docs::{self, Directive, Provenance, SpliceError};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write nothing; exit 1 naming every generated block that differs from what its data
    /// renders (what `xtask/tests/docs.rs` checks).
    #[arg(long)]
    pub check: bool,
    /// The workspace whose documents to regenerate (default: the one this xtask belongs
    /// to; for tests).
    #[arg(long, hide = true)]
    pub workspace: Option<PathBuf>,
}

impl Args {
    pub fn run(self) -> anyhow::Result<Outcome> {
        let root = self.workspace.unwrap_or_else(crate::workspace_root);
        let mut stale = Vec::new();
        for document in documents(&root)? {
            let Some(text) = regenerate(&root, &document)? else {
                continue;
            };
            let shown = document.strip_prefix(&root).unwrap_or(&document).display();
            if self.check {
                eprintln!("{shown}: generated blocks differ from their data");
                stale.push(document);
            } else {
                write_atomically(&document, &text)?;
                println!("rewrote {shown}");
            }
        }
        if !stale.is_empty() {
            eprintln!("run `cargo xtask docs` to regenerate them, and commit the result");
            return Ok(Outcome::Failed);
        }
        Ok(Outcome::Clean)
    }
}

/// The documents that may hold generated blocks: `README.md` and every page of the guide,
/// in a stable order.
pub fn documents(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = vec![root.join("README.md")];
    let mut dirs = vec![root.join("docs/book/src")];
    while let Some(dir) = dirs.pop() {
        let entries =
            std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                found.push(path);
            }
        }
    }
    found[1..].sort();
    Ok(found)
}

/// The document's text with every block rendered afresh, or `None` when that is what it
/// holds already.
///
/// # Errors
/// A [`UsageError`] naming the document and line of a malformed block, an unknown kind or
/// an unusable data file.
pub fn regenerate(root: &Path, document: &Path) -> anyhow::Result<Option<String>> {
    let text = std::fs::read_to_string(document)
        .with_context(|| format!("cannot read {}", document.display()))?;
    let shown = document.strip_prefix(root).unwrap_or(document).display();
    let fresh = docs::splice(&text, |directive| {
        render(root, directive)
            .map_err(|e| UsageError(format!("{shown} line {}: {e:#}", directive.line)))
    })
    .map_err(|e: UsageError| e)?;
    Ok((fresh != text).then_some(fresh))
}

impl From<SpliceError> for UsageError {
    fn from(error: SpliceError) -> Self {
        UsageError(error.to_string())
    }
}

/// One block's content.
fn render(root: &Path, directive: &Directive) -> anyhow::Result<String> {
    let [source] = directive.args.as_slice() else {
        anyhow::bail!(
            "`{}` takes one data file (a path from the workspace root), got {:?}",
            directive.kind,
            directive.args
        );
    };
    let path = root.join(source);
    match directive.kind.as_str() {
        "results" | "results-detail" => {
            let file = ResultFile::load(&path)?;
            let command = bench_command(&file, source)?;
            let from = Provenance {
                source,
                command: &command,
            };
            if directive.kind == "results" {
                Ok(docs::results_table(&file, from)?)
            } else {
                Ok(docs::results_detail(&file, from))
            }
        }
        "comment" => {
            // Read and recomputed exactly as the comment job does.
            let checked = artifact::load_results(&path)?;
            let comment = comment_report::render(&checked);
            let command = bench_command(&checked.results, source)?;
            let from = Provenance {
                source,
                command: &command,
            };
            Ok(docs::comment_excerpt(&comment, &checked.results, from))
        }
        other => anyhow::bail!(
            "unknown kind of generated block `{other}` (known: results, results-detail, comment)"
        ),
    }
}

/// The `cargo xtask bench` command that makes a file like `file` at `source`: the settings
/// it records, as flags where they differ from the defaults of today's `bench`.
fn bench_command(file: &ResultFile, source: &str) -> anyhow::Result<String> {
    let matches = bench::Args::augment_args(clap::Command::new("bench").no_binary_name(true))
        .try_get_matches_from(Vec::<String>::new())?;
    let defaults = bench::Args::from_arg_matches(&matches)?;
    let settings = &file.settings;
    let mut flags = vec!["cargo xtask bench".to_owned()];
    match &file.paired {
        Some(paired) => {
            flags.push(format!("--against {}", quoted(&paired.base.requested)));
            if !paired.base.merge_base {
                flags.push("--exact-ref".to_owned());
            }
            if paired.min_blocks != defaults.min_blocks {
                flags.push(format!("--min-blocks {}", paired.min_blocks));
            }
        }
        None => {
            flags.push("--no-baseline".to_owned());
            if settings.runs != defaults.runs {
                flags.push(format!("--runs {}", settings.runs));
            }
        }
    }
    if settings.count != defaults.run.count {
        flags.push(format!("--count {}", settings.count));
    }
    if settings.work != defaults.run.work.to_string() {
        flags.push(format!("--work {}", quoted(&settings.work)));
    }
    if settings.in_flight != defaults.run.in_flight {
        flags.push(format!("--in-flight {}", settings.in_flight));
    }
    for glob in &settings.only {
        flags.push(format!("--only {}", quoted(glob)));
    }
    if let Some(gap) = settings.gap_us {
        flags.push(format!("--gap {}", gap));
    }
    if let Some(ns) = settings.inject_ns {
        flags.push(format!("--inject-ns {}", ns));
    }
    for injection in &settings.inject_head {
        flags.push(format!("--inject-head {}", quoted(&injection.to_string())));
    }
    if !settings.pin {
        flags.push("--no-pin".to_owned());
    }
    match &settings.counters {
        Some(counting) => {
            flags.push("--counters".to_owned());
            if counting.runs != defaults.run.counter_runs {
                flags.push(format!("--counter-runs {}", counting.runs));
            }
            if counting.count != defaults.run.counter_count {
                flags.push(format!("--counter-count {}", counting.count));
            }
        }
        None => flags.push("--no-counters".to_owned()),
    }
    flags.push(format!("--json {source}"));
    Ok(flags.join(" "))
}

/// A shell word: quoted when it holds anything a shell would read.
fn quoted(word: &str) -> String {
    if word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:=".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::results::tests::result_file;

    #[test]
    fn the_command_spells_out_what_differs_from_the_defaults() {
        let mut file = result_file(&[("floor/park", &[1.0])]);
        file.settings.runs = 10;
        file.settings.count = 10_000;
        assert_eq!(
            bench_command(&file, "docs/data/a.json").unwrap(),
            "cargo xtask bench --no-baseline --no-counters --json docs/data/a.json"
        );
        file.settings.runs = 3;
        file.settings.only = vec!["tokio-current/*".into()];
        file.settings.pin = false;
        file.settings.work = "sql-read".into();
        assert_eq!(
            bench_command(&file, "a.json").unwrap(),
            "cargo xtask bench --no-baseline --runs 3 --work sql-read --only 'tokio-current/*' \
             --no-pin --no-counters --json a.json"
        );
    }
}
