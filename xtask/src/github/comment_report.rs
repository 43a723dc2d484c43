//! The pull-request comment's report, made by this xtask from a checked results file: the
//! paired comparison recomputed from the raw samples with this xtask's statistics, then
//! rendered with this xtask's markdown renderer. Nothing of the artifact's own markdown, and
//! none of the file's stored summaries, verdicts or labels, is used; of its stored
//! comparison only the settings are taken (the verdict policy, checked, and the host and
//! toolchain differences, shown as code).
//!
//! In the comment job this xtask is the default branch's, so the words of the comment are
//! the project's own whatever the pull request changed. The numbers are not: the samples
//! were measured by the pull request's code (`docs/book/src/github/trust.md` says why the gate is no security
//! boundary against a hostile pull request).

use std::fmt::Write as _;

use crate::comparison::Comparison;
use crate::report;

use super::checked_results::CheckedResults;

/// The markdown report of `checked`: with the recomputed comparison for a paired run,
/// the results alone otherwise (a run against a stored baseline cannot be recomputed
/// without that baseline, so its verdicts are not shown).
pub fn render(checked: &CheckedResults) -> String {
    let comparison = comparison(checked);
    report::markdown::render(&checked.results, comparison.as_ref())
}

/// The comment of one or more runners: one runner's report as [`render`] makes it; for
/// several, a section per runner, headed by its host (as code) and the runner's own verdict.
pub fn render_runners(runners: &[(CheckedResults, Option<Comparison>)]) -> String {
    if let [(checked, comparison)] = runners {
        return report::markdown::render(&checked.results, comparison.as_ref());
    }
    let mut out = format!("## handoff-bench on {} runners\n\n", runners.len());
    for (i, (checked, comparison)) in runners.iter().enumerate() {
        let report = report::markdown::render(&checked.results, comparison.as_ref());
        let (title, rest) = report.split_once('\n').unwrap_or((&report, ""));
        let verdict = title
            .trim_start_matches("## handoff-bench")
            .trim_start_matches(": ");
        let h = &checked.results.host;
        let _ = writeln!(
            out,
            "### Runner {}: {} ({} cores), kernel {}: {verdict}{rest}",
            i + 1,
            report::untrusted::code(&h.cpu_model),
            h.cores,
            report::untrusted::code(&h.kernel),
        );
    }
    out
}

/// The paired comparison recomputed from the file's samples, by the function
/// `bench --against` made it with.
pub fn comparison(checked: &CheckedResults) -> Option<Comparison> {
    crate::comparison::paired_run::compare_run(
        &checked.results,
        checked.policy.clone()?,
        checked.fingerprint.clone(),
    )
}
