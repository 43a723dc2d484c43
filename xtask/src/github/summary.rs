//! The job summary: appending markdown to the file named by `GITHUB_STEP_SUMMARY`.

use std::fs::OpenOptions;
use std::io::{self, Write as _};
use std::path::Path;

use super::truncate::{Unit, cut_at_line};

/// The variable the runner sets to the step's summary file.
pub const STEP_SUMMARY_ENV: &str = "GITHUB_STEP_SUMMARY";

/// GitHub's limit on a step's summary file: 1 MiB.
pub const STEP_SUMMARY_LIMIT: usize = 1024 * 1024;

/// What [`append_step_summary`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryWrite {
    /// Not running under GitHub Actions (`GITHUB_STEP_SUMMARY` unset or empty): nothing done.
    NoSummaryFile,
    /// Appended in full.
    Appended,
    /// Appended, cut at a line boundary with a note, to stay under the limit.
    Truncated,
}

/// Appends `markdown` to the step summary when running under GitHub Actions, cut at a line
/// boundary so that the file stays within [`STEP_SUMMARY_LIMIT`].
pub fn append_step_summary(markdown: &str) -> io::Result<SummaryWrite> {
    match std::env::var_os(STEP_SUMMARY_ENV) {
        Some(path) if !path.is_empty() => append_to(Path::new(&path), markdown, STEP_SUMMARY_LIMIT),
        _ => Ok(SummaryWrite::NoSummaryFile),
    }
}

/// Appends `markdown` to `path` so that the file's total size stays within `limit` bytes,
/// counting what earlier steps' commands already wrote there.
pub fn append_to(path: &Path, markdown: &str, limit: usize) -> io::Result<SummaryWrite> {
    let existing = match std::fs::metadata(path) {
        Ok(meta) => usize::try_from(meta.len()).unwrap_or(usize::MAX),
        Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
        Err(e) => return Err(e),
    };
    let budget = limit.saturating_sub(existing);
    let mut text = cut_at_line(markdown, budget.saturating_sub(1), Unit::Bytes, |kept| {
        format!(
            "_Summary truncated to stay under GitHub's 1 MiB limit: {} of {} lines shown. \
             The full report is in this run's artifact._",
            kept.lines, kept.of_lines
        )
    })
    .into_owned();
    let outcome = if text.len() == markdown.len() {
        SummaryWrite::Appended
    } else {
        SummaryWrite::Truncated
    };
    if !text.ends_with('\n') && text.len() < budget {
        text.push('\n');
    }
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(text.as_bytes())?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_in_full_when_it_fits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.md");
        std::fs::write(&path, "# earlier\n").unwrap();
        assert_eq!(
            append_to(&path, "| a |\n", 1000).unwrap(),
            SummaryWrite::Appended
        );
        assert_eq!(
            append_to(&path, "no newline", 1000).unwrap(),
            SummaryWrite::Appended
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "# earlier\n| a |\nno newline\n"
        );
    }

    #[test]
    fn cuts_at_a_line_and_counts_what_is_already_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.md");
        std::fs::write(&path, "x".repeat(100)).unwrap();
        let report: String = (0..200).map(|i| format!("| row {i} |\n")).collect();
        assert_eq!(
            append_to(&path, &report, 600).unwrap(),
            SummaryWrite::Truncated
        );
        let all = std::fs::read_to_string(&path).unwrap();
        assert!(all.len() <= 600, "{}", all.len());
        assert!(all.contains("Summary truncated"));
        let added = &all[100..];
        let (rows, _) = added.split_once("\n\n").unwrap();
        assert!(
            rows.lines()
                .all(|l| l.starts_with("| row ") && l.ends_with(" |"))
        );
    }

    #[test]
    fn no_summary_file_outside_actions() {
        // Only meaningful when the variable is unset, as it is outside GitHub Actions.
        if std::env::var_os(STEP_SUMMARY_ENV).is_none() {
            assert_eq!(
                append_step_summary("x").unwrap(),
                SummaryWrite::NoSummaryFile
            );
        }
    }
}
