//! Flags shared by `bench` and `compare`: the verdict policy and the report files.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::comparison::{Comparison, VerdictPolicy};
use crate::exit::UsageError;
use crate::fsutil::write_atomically;
use crate::report;
use crate::results::ResultFile;

/// When a change counts, and whether a regression fails the command.
#[derive(Debug, Clone, clap::Args)]
pub struct GateArgs {
    /// Noise threshold in percent: a change counts only when its whole interval lies beyond
    /// it, and is "unchanged" when its whole interval lies within it.
    #[arg(long, value_name = "PCT", default_value_t = 5.0)]
    pub threshold: f64,
    /// Family-wise error rate over all configuration-metric pairs (Holm-corrected).
    #[arg(long, value_name = "A", default_value_t = 0.05)]
    pub alpha: f64,
    /// Exit with status 3 when any pair is a confirmed regression.
    #[arg(long)]
    pub fail_on_regression: bool,
}

impl GateArgs {
    pub fn policy(&self) -> Result<VerdictPolicy, UsageError> {
        if !(self.threshold.is_finite() && (0.0..100.0).contains(&self.threshold)) {
            return Err(UsageError(format!(
                "--threshold must be a percentage in [0, 100), got {}",
                self.threshold
            )));
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(UsageError(format!(
                "--alpha must lie strictly between 0 and 1, got {}",
                self.alpha
            )));
        }
        Ok(VerdictPolicy {
            alpha: self.alpha,
            threshold: self.threshold / 100.0,
        })
    }
}

/// Report files to write besides the terminal table.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OutputArgs {
    /// Write the result file, plus the comparison when there is one, as JSON.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Write a GitHub-flavoured Markdown summary.
    #[arg(long, value_name = "PATH")]
    pub markdown: Option<PathBuf>,
    /// Write Bencher Metric Format JSON.
    #[arg(long, value_name = "PATH")]
    pub bmf: Option<PathBuf>,
    /// Write github-action-benchmark `customSmallerIsBetter` JSON.
    #[arg(long, value_name = "PATH")]
    pub gab: Option<PathBuf>,
}

impl OutputArgs {
    /// Renders and writes every requested report (each atomically).
    pub fn write(
        &self,
        results: &ResultFile,
        comparison: Option<&Comparison>,
    ) -> anyhow::Result<()> {
        let outputs = [
            (&self.json, report::json::render(results, comparison)),
            (
                &self.markdown,
                report::markdown::render(results, comparison),
            ),
            (&self.bmf, report::bmf::render(results)),
            (&self.gab, report::gab::render(results)),
        ];
        for (path, text) in outputs {
            if let Some(path) = path {
                write_atomically(path, &text)
                    .with_context(|| format!("cannot write report {}", path.display()))?;
            }
        }
        Ok(())
    }
}
