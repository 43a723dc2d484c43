//! `cargo xtask history`: the history of main. `append` adds a result file's medians as the
//! next commit of a history file (one JSON line each, `model::history`); `report` finds the
//! change points of every configuration and metric (`comparison::history`) and prints them
//! with their commit, step and confidence, and with `--html` draws the trend charts
//! (`report::trend`). A history line that holds no entry is skipped and named on stderr.
//! Exit 0 done, 2 bad input (named), 1 I/O failure.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;

use crate::comparison::history::{HistoryChange, change_points};
use crate::model::files::write_atomically;
use crate::model::history::{self, HistoryEntry};
use crate::model::results::ResultFile;
use crate::model::selection::Selection;
use crate::report::percent;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Append a result file (of a clean commit) to the history, rewriting it atomically
    /// under a lock (FILE.lock), so that appends at once lose no line.
    Append {
        /// The result file (`bench --json`).
        #[arg(long, value_name = "FILE")]
        results: PathBuf,
        /// The history file (created when missing).
        #[arg(long, value_name = "FILE")]
        history: PathBuf,
    },
    /// Print the change points of every configuration and metric of the history.
    Report {
        /// The history file.
        #[arg(long, value_name = "FILE")]
        history: PathBuf,
        /// Significance of each change point's permutation test.
        #[arg(long, value_name = "A", default_value_t = 0.01)]
        alpha: f64,
        /// Only configurations whose id matches (`*` wildcard); repeatable. Default: all
        /// the history has.
        #[arg(long, value_name = "GLOB")]
        only: Vec<String>,
        /// Also write a self-contained HTML page: per configuration and metric, a trend
        /// chart over the commits with each change point marked.
        #[arg(long, value_name = "PATH")]
        html: Option<PathBuf>,
    },
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        match self.action {
            Action::Append { results, history } => {
                let file = ResultFile::load(&results).context("cannot append the result file")?;
                let entry = HistoryEntry::from_results(&file)?;
                let appended = history::append(&history, &entry)?;
                println!(
                    "appended {} to {} ({} commits)",
                    entry.commit,
                    history.display(),
                    appended.commits
                );
                warn_bad_lines(&history, &appended.bad_lines);
                Ok(())
            }
            Action::Report {
                history,
                alpha,
                only,
                html,
            } => {
                if !(alpha > 0.0 && alpha < 1.0) {
                    return Err(crate::model::usage::UsageError(format!(
                        "--alpha {alpha}: expected a level between 0 and 1"
                    ))
                    .into());
                }
                let read = history::read(&history)?;
                warn_bad_lines(&history, &read.bad_lines);
                let entries = read.entries;
                // An empty `--only` keeps everything the history has.
                let wanted = (!only.is_empty()).then(|| Selection::new(&only));
                let changes: Vec<HistoryChange> = change_points(&entries, alpha)
                    .into_iter()
                    .filter(|c| wanted.as_ref().is_none_or(|s| s.selects(&c.id)))
                    .collect();
                print!("{}", render(&changes, entries.len(), alpha));
                if let Some(path) = html {
                    let keep = |id: &str| wanted.as_ref().is_none_or(|s| s.selects(id));
                    let page = crate::report::trend::render(&entries, &changes, keep);
                    write_atomically(&path, &page)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    println!("wrote {}", path.display());
                }
                Ok(())
            }
        }
    }
}

/// Names every line of the history that holds no entry, on stderr: the report goes on
/// without them (a damaged line costs its own commit, not the whole history).
fn warn_bad_lines(path: &std::path::Path, bad: &[history::BadLine]) {
    for line in bad {
        eprintln!(
            "warning: {} line {}: skipped: {}",
            path.display(),
            line.number,
            line.reason
        );
    }
}

/// The report: one line per change point.
fn render(changes: &[HistoryChange], commits: usize, alpha: f64) -> String {
    let mut out = format!(
        "history: {commits} commits; change points by E-Divisive means (permutation test, \
         alpha {alpha}): {}\n",
        changes.len()
    );
    for c in changes {
        let _ = writeln!(
            out,
            "{:<36} {:<12} at {} (commit {} of {}): {}, confidence {:.3}",
            c.id,
            c.metric.label(),
            c.commit.get(..12).unwrap_or(&c.commit),
            c.index + 1,
            c.of,
            percent(c.point.ratio),
            c.point.confidence
        );
    }
    out
}
