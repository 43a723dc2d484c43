//! The page's first screen, as the pull-request comment's: the verdict, the table of the
//! configurations that changed (gated verdicts that are not "unchanged", and every
//! configuration whose instruction counts changed, with the change per role and the
//! functions that moved most), then what changed around the code (dependencies,
//! toolchain). Each row links to its configuration's details further down.

use maud::{Markup, html};

use super::page::anchor;
use crate::comparison::explain::ConfigExplanation;
use crate::comparison::{Comparison, PairComparison, Verdict};
use crate::model::lockfile::LockDiff;
use crate::model::metric::Metric;
use crate::model::results::{ConfigurationResult, ResultFile};
use crate::report::explain::{
    MAX_DEPENDENCIES, count_phrase, function_change, kind_phrase, toolchain_differences,
};
use crate::report::overview::{RowStatus, rows};
use crate::report::{self, headline, scope};

/// The CSS class of a verdict.
pub fn verdict_class(verdict: Verdict) -> &'static str {
    verdict.as_str()
}

/// The verdict and the table of changes (with a comparison), or the results' table.
pub fn first_screen(results: &ResultFile, comparison: Option<&Comparison>) -> Markup {
    match comparison {
        Some(cmp) => compared(results, cmp),
        None => html! {
            h1 { "handoff-bench results" }
            p {
                "No baseline to compare with; " (results.settings.runs) " runs × "
                (results.settings.count) " calls per configuration, commit "
                code { (results.git.short()) } "."
            }
            (all_rows(results, None))
        },
    }
}

fn compared(results: &ResultFile, cmp: &Comparison) -> Markup {
    let tally = cmp.gate_tally();
    let regressed: Vec<&str> = rows(results, cmp)
        .into_iter()
        .filter(|(_, s)| *s == RowStatus::Gated(Verdict::Regressed))
        .map(|(c, _)| c.id.as_str())
        .collect();
    let good = regressed.is_empty();
    let changed: Vec<(usize, &ConfigurationResult, RowStatus)> = indexed_rows(results, cmp)
        .into_iter()
        .filter(|(_, config, status)| {
            !matches!(
                status,
                RowStatus::Gated(Verdict::Unchanged) | RowStatus::ReportedOnly
            ) || explanation(cmp, &config.id).is_some()
        })
        .collect();
    html! {
        div.verdict.good[good].bad[!good] {
            h1 {
                @if !good {
                    "Performance regressed in " (regressed.len()) " configuration"
                    @if regressed.len() != 1 { "s" } ": "
                    @for (i, id) in regressed.iter().enumerate() {
                        @if i > 0 { ", " } span.id { (id) }
                    }
                } @else if tally.total() == 0 && !cmp.not_gated.is_empty() {
                    "Nothing gated against this baseline (reported only)"
                } @else if tally.improved > 0 {
                    "No confirmed regression (some configurations improved)"
                } @else {
                    "No confirmed regression"
                }
            }
            p { (headline(cmp)) }
            @if let Some(scope) = scope(cmp) { p { (scope) } }
            p.note {
                "Compared with " code { (cmp.baseline_label) } "; commit "
                code { (results.git.short()) } "; gates: " (report::gates(cmp)) "."
            }
        }
        h2 { "What changed" }
        @if changed.is_empty() {
            p { "Every gated metric of every configuration is unchanged, and no instruction \
                 count changed beyond the counting's resolution." }
        } @else {
            p.note {
                "A count changed when its interval excludes no change and the change exceeds \
                 the counting's resolution, whether or not it reaches the gate's threshold. \
                 Each configuration links to its details and flame graphs."
            }
            (changed_table(cmp, &changed))
        }
        (around(results, cmp))
    }
}

/// Every configuration with its index in the results and its overview status, in the
/// overview's order.
fn indexed_rows<'a>(
    results: &'a ResultFile,
    cmp: &Comparison,
) -> Vec<(usize, &'a ConfigurationResult, RowStatus)> {
    rows(results, cmp)
        .into_iter()
        .map(|(config, status)| {
            let index = results
                .configurations
                .iter()
                .position(|c| std::ptr::eq(c, config))
                .unwrap_or(0);
            (index, config, status)
        })
        .collect()
}

fn explanation<'a>(cmp: &'a Comparison, id: &str) -> Option<&'a ConfigExplanation> {
    cmp.explanation.iter().find(|e| e.id == id)
}

fn status_words(status: RowStatus, cmp: &Comparison, id: &str) -> (String, &'static str) {
    match status {
        RowStatus::Added => ("added".to_owned(), ""),
        RowStatus::ReportedOnly => ("reported only".to_owned(), ""),
        RowStatus::Gated(v @ (Verdict::Regressed | Verdict::Improved)) => {
            let metrics: Vec<&str> = cmp
                .gated()
                .filter(|p| p.id == id && p.verdict == v)
                .map(|p| p.metric.label())
                .collect();
            (
                format!("{} ({})", v.as_str(), metrics.join(", ")),
                verdict_class(v),
            )
        }
        RowStatus::Gated(v) => (v.as_str().to_owned(), verdict_class(v)),
    }
}

/// A pair's change, in its verdict's colour.
pub fn change_cell(pair: Option<&PairComparison>) -> Markup {
    match pair {
        None => html! { td.num { "–" } },
        Some(p) => html! {
            td.num class=(verdict_class(p.verdict)) { (report::change(p)) }
        },
    }
}

fn changed_table(cmp: &Comparison, changed: &[(usize, &ConfigurationResult, RowStatus)]) -> Markup {
    html! {
        table.changed {
            thead { tr {
                th { "Configuration" } th { "Verdict" } th { "Wall/call" } th { "Wall" }
                th { "CpuTotal" } th { "Vcsw" } th { "Could confirm" }
            } }
            tbody {
                @for (index, config, status) in changed {
                    @let (words, class) = status_words(*status, cmp, &config.id);
                    tr {
                        td { a.id href=(format!("#{}", anchor(*index, &config.id))) { (config.id) } }
                        td class=(class) { (words) }
                        td.num { (wall_per_call(config)) }
                        (change_cell(cmp.pair(&config.id, Metric::Wall)))
                        (change_cell(cmp.pair(&config.id, Metric::CpuTotal)))
                        (change_cell(cmp.pair(&config.id, Metric::Vcsw)))
                        td.num { (cmp.pair(&config.id, Metric::Wall).map_or_else(|| "–".to_owned(), report::resolution)) }
                    }
                    @if let Some(e) = explanation(cmp, &config.id) {
                        tr.explained { td colspan="7" { (explained(e)) } }
                    }
                }
            }
        }
    }
}

/// Under a changed configuration's row: what kind of change, the counts by role, and the
/// functions that moved most.
fn explained(e: &ConfigExplanation) -> Markup {
    let counts: Vec<String> = e.counts.iter().map(count_phrase).collect();
    html! {
        p {
            b { (kind_phrase(e)) }
            @if !counts.is_empty() { ". Instructions per call: " (counts.join("; ")) "." }
        }
        @if e.no_profile {
            p.note { "No per-function profile: a side was counted without role-tagged dumps." }
        }
        @if !e.functions.is_empty() {
            ul.functions {
                @for f in &e.functions {
                    li { (f.role.to_string()) ": " code { (f.change.name) } " " (function_change(f)) }
                }
            }
        }
    }
}

fn wall_per_call(config: &ConfigurationResult) -> String {
    config.summary.get(&Metric::Wall).map_or_else(
        || "–".to_owned(),
        |s| format!("{} us", report::value(Metric::Wall, s.median)),
    )
}

/// The results' table without a comparison, or the unchanged rows with one.
pub fn all_rows(results: &ResultFile, cmp: Option<&Comparison>) -> Markup {
    let metrics = [
        Metric::Wall,
        Metric::CpuTotal,
        Metric::Vcsw,
        Metric::Instructions,
    ];
    html! {
        table {
            thead { tr {
                th { "Configuration" }
                @for m in metrics { th { (m.label()) " (" (report::unit(m)) "/call)" } }
                @if cmp.is_some() { th { "Wall change" } th { "Could confirm" } }
            } }
            tbody {
                @for (index, config) in results.configurations.iter().enumerate() {
                    tr {
                        td { a.id href=(format!("#{}", anchor(index, &config.id))) { (config.id) } }
                        @for m in metrics {
                            td.num { (config.summary.get(&m).map_or_else(|| "–".to_owned(), |s| report::median_with_interval(m, s))) }
                        }
                        @if let Some(cmp) = cmp {
                            (change_cell(cmp.pair(&config.id, Metric::Wall)))
                            td.num { (cmp.pair(&config.id, Metric::Wall).map_or_else(|| "–".to_owned(), report::resolution)) }
                        }
                    }
                }
            }
        }
    }
}

/// What changed around the code: `Cargo.lock` (direct dependencies first) and the
/// toolchain; nothing when neither changed.
fn around(results: &ResultFile, cmp: &Comparison) -> Markup {
    let dependencies: Option<&LockDiff> = results
        .paired
        .as_ref()
        .and_then(|p| p.dependencies.as_ref())
        .filter(|d| !d.changes.is_empty());
    let toolchain = toolchain_differences(cmp);
    let version = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".to_owned());
    html! {
        @if let Some(deps) = dependencies {
            h2 { "Dependencies (" code { "Cargo.lock" } ", base → head)" }
            ul {
                @for c in deps.changes.iter().take(MAX_DEPENDENCIES) {
                    li {
                        code { (c.name) } " " code { (version(&c.base)) } " → "
                        code { (version(&c.head)) } @if c.direct { " (direct)" }
                    }
                }
                @if deps.changes.len() > MAX_DEPENDENCIES {
                    li { "and " (deps.changes.len() - MAX_DEPENDENCIES) " more (see the results file)" }
                }
            }
        }
        @if !toolchain.is_empty() {
            h2 { "Toolchain (base → head)" }
            ul {
                @for d in toolchain {
                    li { code { (d.field) } " " code { (d.baseline) } " → " code { (d.current) } }
                }
            }
        }
    }
}
