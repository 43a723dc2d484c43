//! `cargo xtask merge --results-dir DIR`: the shards of a sharded paired run
//! (`bench --against ... --shard K/N`, one `NAME-shard-K-of-N/bench.json` each), merged per
//! runner and compared once over all their pairs, exactly as the pull-request comment does
//! (`github::sections`); the gate of a sharded check.
//!
//! It prints each runner's table, writes the reports of a single runner's merged run
//! (`--json` gives a result file like an unsharded run's), appends the comment's markdown
//! to the job summary with an annotation per gated regression, and says how it went:
//! exit 3 on a confirmed regression with `--fail-on-regression`; 2 when a file could not be
//! used (a gate passes nothing it could not read); 1 when a runner lacks a shard its files
//! name (a shard job that uploaded nothing failed, so the run is incomplete).

use std::path::PathBuf;

use anyhow::Context as _;

use crate::commands::exit::Outcome;
use crate::commands::flags::OutputArgs;
use crate::github::{comment_report, publish, sections};
use crate::model::usage::UsageError;
use crate::report;
use crate::report::untrusted::one_line;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shards' result files: every `bench.json` in DIR or one level below it (one
    /// directory per artifact, `NAME-shard-K-of-N` for shard K of N of runner NAME).
    #[arg(long, value_name = "DIR")]
    pub results_dir: PathBuf,
    /// Exit with status 3 when a runner's merged comparison has a confirmed regression of a
    /// gated pair.
    #[arg(long)]
    pub fail_on_regression: bool,
    /// Reports of the merged run (one runner only).
    #[command(flatten)]
    pub outputs: OutputArgs,
}

impl Args {
    pub fn run(self) -> anyhow::Result<Outcome> {
        let read =
            sections::from_dir(&self.results_dir).map_err(|e| UsageError(format!("{e:#}")))?;
        if !read.refused.is_empty() {
            for refusal in &read.refused {
                eprintln!(
                    "error: {}: {}",
                    one_line(&refusal.name),
                    one_line(&refusal.reason)
                );
            }
            return Err(UsageError(format!(
                "{} of the result files in {} could not be used",
                read.refused.len(),
                self.results_dir.display()
            ))
            .into());
        }
        match read.sections.as_slice() {
            [section] => self
                .outputs
                .write(&section.merged.checked.results, section.comparison.as_ref())?,
            _ if self.outputs_requested() => {
                return Err(UsageError(format!(
                    "{} holds {} runners; report files are written for one runner only",
                    self.results_dir.display(),
                    read.sections.len()
                ))
                .into());
            }
            _ => {}
        }
        let markdown = comment_report::render_sections(&read.sections);
        let mut annotations = Vec::new();
        let mut incomplete = false;
        let mut regressed = false;
        for section in &read.sections {
            let results = &section.merged.checked.results;
            let comparison = section.comparison.as_ref();
            print!("{}", report::terminal::render(results, comparison));
            println!(
                "merged {} file(s) of runner {:?}: {}",
                section.merged.files.len(),
                section.runner,
                section.merged.files.join(", ")
            );
            if !section.missing_shards.is_empty() {
                eprintln!(
                    "error: runner {:?} lacks shard(s) {:?}: the run is incomplete",
                    section.runner, section.missing_shards
                );
                incomplete = true;
            }
            regressed |= comparison.is_some_and(|c| c.has_regression());
            annotations.extend(
                comparison
                    .map(publish::annotation_lines)
                    .unwrap_or_default(),
            );
        }
        let (_, _) = publish::publish(&markdown, None)
            .context("cannot append to the GitHub step summary")?;
        if publish::in_actions() {
            for line in annotations {
                println!("{line}");
            }
        }
        Ok(if incomplete {
            Outcome::Failed
        } else if regressed && self.fail_on_regression {
            Outcome::Regressed
        } else {
            Outcome::Clean
        })
    }

    fn outputs_requested(&self) -> bool {
        let o = &self.outputs;
        [&o.json, &o.markdown, &o.bmf, &o.gab, &o.html]
            .iter()
            .any(|p| p.is_some())
    }
}
