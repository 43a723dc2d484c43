//! `cargo xtask bench` on GitHub Actions: the markdown report appended to the job summary
//! (`GITHUB_STEP_SUMMARY`), and one workflow command per gated pair that regressed
//! (`::error::`) or could not be decided (`::warning::`) when `GITHUB_ACTIONS` is set.

use std::io;

use super::annotations;
use super::summary::{self, SummaryWrite};
use crate::comparison::{Comparison, PairComparison, Verdict};
use crate::report;

/// The variable GitHub Actions sets (to `true`) in every step.
pub const ACTIONS_ENV: &str = "GITHUB_ACTIONS";

/// Whether workflow commands should be printed.
pub fn in_actions() -> bool {
    std::env::var_os(ACTIONS_ENV).is_some_and(|v| !v.is_empty())
}

fn describe(pair: &PairComparison) -> String {
    format!(
        "{} {}: {} (gate ±{}%), {} {} -> {} {} per call",
        pair.id,
        pair.metric.label(),
        report::change_with_verdict(pair),
        pair.threshold * 100.0,
        report::value(pair.metric, pair.baseline.median),
        report::unit(pair.metric),
        report::value(pair.metric, pair.current.median),
        report::unit(pair.metric),
    )
}

/// The workflow-command lines for a comparison: an error per regressed gated pair, a
/// warning per inconclusive gated pair. Pure; the caller prints them on stdout.
pub fn annotation_lines(comparison: &Comparison) -> Vec<String> {
    comparison
        .gated()
        .filter_map(|pair| match pair.verdict {
            Verdict::Regressed => Some(annotations::error(
                &format!("Performance regression: {} {}", pair.id, pair.metric.label()),
                &describe(pair),
            )),
            Verdict::Inconclusive => Some(annotations::warning(
                &format!("Inconclusive: {} {}", pair.id, pair.metric.label()),
                &format!(
                    "{}; neither a change nor its absence is established (more blocks or --max-time would decide it)",
                    describe(pair)
                ),
            )),
            Verdict::Improved | Verdict::Unchanged => None,
        })
        .collect()
}

/// Appends the markdown report to the job summary when `GITHUB_STEP_SUMMARY` is set (the
/// helper caps it at 1 MiB) and returns the annotation lines to print when
/// `GITHUB_ACTIONS` is set (none otherwise).
pub fn publish(
    markdown: &str,
    comparison: Option<&Comparison>,
) -> io::Result<(SummaryWrite, Vec<String>)> {
    let written = summary::append_step_summary(markdown)?;
    let lines = match comparison {
        Some(cmp) if in_actions() => annotation_lines(cmp),
        _ => Vec::new(),
    };
    Ok((written, lines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{fixture, fixture_comparison};

    #[test]
    fn errors_for_gated_regressions_warnings_for_inconclusive() {
        let (baseline, current) = fixture();
        let mut cmp = fixture_comparison(&baseline, &current);
        // Make one gated pair inconclusive and check non-gated pairs stay silent.
        let park = cmp
            .pairs
            .iter_mut()
            .find(|p| p.id == "floor/park" && p.metric == crate::model::metric::Metric::Wall)
            .unwrap();
        park.verdict = Verdict::Inconclusive;
        let lines = annotation_lines(&cmp);
        let errors: Vec<&String> = lines.iter().filter(|l| l.starts_with("::error")).collect();
        let warnings: Vec<&String> = lines
            .iter()
            .filter(|l| l.starts_with("::warning"))
            .collect();
        // tokio-current/dedicated regressed in Wall and CpuTotal (gated); its CpuEvtLoop
        // and CpuWorker regressions are reported only.
        assert_eq!(errors.len(), 2, "{lines:#?}");
        assert!(errors[0].starts_with(
            "::error title=Performance regression%3A tokio-current/dedicated Wall::tokio-current/dedicated Wall: +30.0%25"
        ), "{}", errors[0]);
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("Inconclusive%3A floor/park Wall"),
            "{}",
            warnings[0]
        );
    }
}
