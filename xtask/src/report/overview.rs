//! The comparison's first table in Markdown: only the configurations whose gated verdict is
//! not "unchanged", regressions first, then improvements, inconclusive and added rows; the
//! unchanged ones in a collapsed table below, so a reader sees what changed at once.

use super::untrusted::code;
use super::{change, value, worst};
use crate::comparison::{Comparison, PairComparison, Verdict};
use crate::model::metric::Metric;
use crate::model::results::{ConfigurationResult, ResultFile};

const HEADER: &str = "| Configuration | Wall/call | Wall | CpuTotal | Vcsw | Verdict | Could confirm |\n|---|---:|---:|---:|---:|---|---:|\n";

/// What the overview says of one configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowStatus {
    /// The worst verdict of its gated pairs.
    Gated(Verdict),
    /// Compared, but every pair only reported (e.g. times against another boot).
    ReportedOnly,
    /// No baseline to compare with.
    Added,
}

impl RowStatus {
    /// Whether the row goes into the first table (the collapsed one otherwise).
    fn is_shown_first(self) -> bool {
        !matches!(
            self,
            RowStatus::Gated(Verdict::Unchanged) | RowStatus::ReportedOnly
        )
    }

    /// The row's place in the overview: lower comes first.
    fn rank(self) -> u8 {
        match self {
            RowStatus::Gated(Verdict::Regressed) => 0,
            RowStatus::Gated(Verdict::Improved) => 1,
            RowStatus::Gated(Verdict::Inconclusive) => 2,
            RowStatus::Added => 3,
            RowStatus::Gated(Verdict::Unchanged) => 4,
            RowStatus::ReportedOnly => 5,
        }
    }
}

/// The configurations of `results` with their status, changed ones first in the order of
/// [`RowStatus::rank`], report order within a rank.
pub fn rows<'a>(
    results: &'a ResultFile,
    cmp: &Comparison,
) -> Vec<(&'a ConfigurationResult, RowStatus)> {
    let mut rows: Vec<_> = results
        .configurations
        .iter()
        .map(|config| {
            let status = match worst(cmp.gated().filter(|p| p.id == config.id)) {
                Some(verdict) => RowStatus::Gated(verdict),
                None if cmp.pairs.iter().any(|p| p.id == config.id) => RowStatus::ReportedOnly,
                None => RowStatus::Added,
            };
            (config, status)
        })
        .collect();
    rows.sort_by_key(|(_, status)| status.rank());
    rows
}

/// The table of the rows that did not stay unchanged (a sentence when there are none).
pub fn changed(results: &ResultFile, cmp: &Comparison) -> String {
    let changed: Vec<_> = rows(results, cmp)
        .into_iter()
        .filter(|(_, status)| status.is_shown_first())
        .collect();
    if changed.is_empty() {
        return if cmp.gate_tally().total() == 0 {
            "No metric of any configuration is gated against this baseline.\n".to_owned()
        } else {
            "Every gated metric of every configuration is unchanged.\n".to_owned()
        };
    }
    let mut out = HEADER.to_owned();
    for (config, status) in changed {
        out.push_str(&row(config, status, cmp));
    }
    out
}

/// The unchanged and reported-only rows in a collapsed table (empty when there are none).
pub fn unchanged(results: &ResultFile, cmp: &Comparison) -> String {
    let rest: Vec<_> = rows(results, cmp)
        .into_iter()
        .filter(|(_, status)| !status.is_shown_first())
        .collect();
    if rest.is_empty() {
        return String::new();
    }
    let reported = rest
        .iter()
        .filter(|(_, s)| *s == RowStatus::ReportedOnly)
        .count();
    let unchanged = rest.len() - reported;
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let summary = match (unchanged, reported) {
        (u, 0) => format!("{u} unchanged configuration{}", plural(u)),
        (0, r) => format!("{r} configuration{} reported only (not gated)", plural(r)),
        (u, r) => format!(
            "{u} unchanged configuration{}, {r} reported only (not gated)",
            plural(u)
        ),
    };
    let mut out = format!("\n<details><summary>{summary}</summary>\n\n{HEADER}");
    for (config, status) in rest {
        out.push_str(&row(config, status, cmp));
    }
    out.push_str("\n</details>\n");
    out
}

fn row(config: &ConfigurationResult, status: RowStatus, cmp: &Comparison) -> String {
    let verdict = match status {
        RowStatus::Added => "added".to_owned(),
        RowStatus::ReportedOnly => "reported only".to_owned(),
        RowStatus::Gated(v @ (Verdict::Regressed | Verdict::Improved)) => {
            let metrics: Vec<&str> = cmp
                .gated()
                .filter(|p| p.id == config.id && p.verdict == v)
                .map(|p| p.metric.label())
                .collect();
            format!("{} ({})", v.as_str(), metrics.join(", "))
        }
        RowStatus::Gated(v) => v.as_str().to_owned(),
    };
    // The smallest wall-time change this row could have confirmed: how to read
    // "unchanged" and "inconclusive" on this run's day.
    let resolves = cmp
        .pair(&config.id, Metric::Wall)
        .map_or_else(|| "–".to_owned(), super::resolution);
    format!(
        "| {} | {} us | {} | {} | {} | {} | {resolves} |\n",
        code(&config.id),
        value(Metric::Wall, config.summary[&Metric::Wall].median),
        cell(cmp.pair(&config.id, Metric::Wall)),
        cell(cmp.pair(&config.id, Metric::CpuTotal)),
        cell(cmp.pair(&config.id, Metric::Vcsw)),
        verdict
    )
}

fn cell(pair: Option<&PairComparison>) -> String {
    match pair {
        None => "–".to_owned(),
        Some(p) if matches!(p.verdict, Verdict::Regressed | Verdict::Improved) => {
            format!("**{}**", change(p))
        }
        Some(p) => change(p),
    }
}
