//! The comparison's first table in Markdown: only the configurations whose gated verdict is
//! not "unchanged", regressions first, then improvements, inconclusive and added rows; the
//! unchanged ones in a collapsed table below, so a reader sees what changed at once.

use super::untrusted::code;
use super::{change, value, worst};
use crate::comparison::{Comparison, PairComparison, Verdict};
use crate::model::metric::Metric;
use crate::model::results::{ConfigurationResult, ResultFile};

const HEADER: &str = "| Configuration | Wall/call | Wall | CpuTotal | Vcsw | Verdict |\n|---|---:|---:|---:|---:|---|\n";

/// A configuration's place in the overview: lower comes first.
fn rank(verdict: Option<Verdict>) -> u8 {
    match verdict {
        Some(Verdict::Regressed) => 0,
        Some(Verdict::Improved) => 1,
        Some(Verdict::Inconclusive) => 2,
        // Added: no baseline to compare with.
        None => 3,
        Some(Verdict::Unchanged) => 4,
    }
}

/// The configurations of `results` with the worst verdict of their gated pairs (`None`:
/// added), changed ones first in the order of [`rank`], report order within a rank.
pub fn rows<'a>(
    results: &'a ResultFile,
    cmp: &Comparison,
) -> Vec<(&'a ConfigurationResult, Option<Verdict>)> {
    let mut rows: Vec<_> = results
        .configurations
        .iter()
        .map(|config| (config, worst(cmp.gated().filter(|p| p.id == config.id))))
        .collect();
    rows.sort_by_key(|(_, verdict)| rank(*verdict));
    rows
}

/// The table of the rows that did not stay unchanged (a sentence when there are none).
pub fn changed(results: &ResultFile, cmp: &Comparison) -> String {
    let changed: Vec<_> = rows(results, cmp)
        .into_iter()
        .filter(|(_, verdict)| *verdict != Some(Verdict::Unchanged))
        .collect();
    if changed.is_empty() {
        return "Every gated metric of every configuration is unchanged.\n".to_owned();
    }
    let mut out = HEADER.to_owned();
    for (config, verdict) in changed {
        out.push_str(&row(config, verdict, cmp));
    }
    out
}

/// The unchanged rows in a collapsed table (empty when there are none).
pub fn unchanged(results: &ResultFile, cmp: &Comparison) -> String {
    let unchanged: Vec<_> = rows(results, cmp)
        .into_iter()
        .filter(|(_, verdict)| *verdict == Some(Verdict::Unchanged))
        .collect();
    if unchanged.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "\n<details><summary>{} unchanged configuration{}</summary>\n\n{HEADER}",
        unchanged.len(),
        if unchanged.len() == 1 { "" } else { "s" }
    );
    for (config, verdict) in unchanged {
        out.push_str(&row(config, verdict, cmp));
    }
    out.push_str("\n</details>\n");
    out
}

fn row(config: &ConfigurationResult, verdict: Option<Verdict>, cmp: &Comparison) -> String {
    let verdict = match verdict {
        None => "added".to_owned(),
        Some(v @ (Verdict::Regressed | Verdict::Improved)) => {
            let metrics: Vec<&str> = cmp
                .gated()
                .filter(|p| p.id == config.id && p.verdict == v)
                .map(|p| p.metric.label())
                .collect();
            format!("{} ({})", v.as_str(), metrics.join(", "))
        }
        Some(v) => v.as_str().to_owned(),
    };
    format!(
        "| {} | {} us | {} | {} | {} | {} |\n",
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
