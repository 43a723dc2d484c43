//! The HTML report (`cargo xtask report`, `bench --html`): one self-contained page, built
//! with maud (every string from the results file escaped by construction), its charts
//! inline SVG; no script, nothing fetched from anywhere.
//!
//! Top to bottom, as a reader needs it:
//!
//! 1. the verdict and the table of what changed, with the change of each role's
//!    instructions and the functions that moved most, then the dependency and toolchain
//!    differences ([`verdict`]): the pull-request comment's first screen;
//! 2. the charts: the forest plot grouped by configuration, times beside counts
//!    ([`forest`]); instructions per call per role; per timing metric a strip chart of every
//!    run; for a paired run each block's change ([`charts`]);
//! 3. every configuration's details under its own anchor, with differential flame graphs per
//!    thread role where its counts changed ([`details`], [`flame`]);
//! 4. the method and the environment.

pub mod charts;
pub mod details;
pub mod flame;
pub mod forest;
pub mod page;
pub mod verdict;

use maud::{Markup, html};

use crate::comparison::Comparison;
use crate::model::metric::Metric;
use crate::model::results::ResultFile;
use crate::report;

/// The page for `results`, with `comparison`'s verdict, forest plot and flame graphs when
/// there is one.
pub fn render(results: &ResultFile, comparison: Option<&Comparison>) -> String {
    let body = html! {
        (verdict::first_screen(results, comparison))
        h2 { "Charts" }
        @if let Some(forest) = comparison.and_then(forest::forest) {
            section.chart id="forest" {
                h3 { "Every compared pair, grouped by configuration" }
                (forest)
            }
        }
        @if let Some(chart) = charts::instructions(results, comparison) {
            section.chart id="instructions" {
                h3 { "Instructions per call, by thread role (head: bar and interval; base: grey dot)" }
                (chart)
            }
        }
        @for metric in [Metric::Wall, Metric::CpuTotal, Metric::Vcsw] {
            section.chart id=(format!("strip-{}", metric.cli_name())) {
                h3 { (metric.label()) " per call (" (report::unit(metric)) "), per run" }
                (charts::strip(results, metric))
            }
        }
        @if let Some(chart) = charts::blocks(results) {
            section.chart id="blocks" {
                h3 { "Wall time per block, head/base (%)" }
                (chart)
            }
        }
        h2 { "Every configuration" }
        @if comparison.is_some() {
            (verdict::all_rows(results, comparison))
        }
        (details::details(results, comparison))
        h2 { "Method and environment" }
        (environment(results, comparison))
    };
    page::document("handoff-bench report", body)
}

fn environment(results: &ResultFile, comparison: Option<&Comparison>) -> Markup {
    let h = &results.host;
    let s = &results.settings;
    html! {
        @if let Some(cmp) = comparison { p { (report::method_note(cmp)) } }
        table {
            tr { td { "host" } td { (h.cpu_model) " (" (h.cores) " cores), kernel " (h.kernel) } }
            tr { td { "toolchain" } td { (h.rustc) } }
            tr { td { "revision" } td { code { (results.git.short()) } } }
            tr { td { "settings" } td {
                "work " (s.work) ", in-flight " (s.in_flight) ", " (s.count) " calls, "
                (s.runs) " runs, " (report::pinning(s.pin))
            } }
            tr { td { "created" } td { (results.created) } }
        }
    }
}

#[cfg(test)]
mod tests;
