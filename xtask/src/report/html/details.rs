//! Every configuration's details, each under its own anchor (the first screen's rows link
//! here): its medians per metric with their intervals, the base's and the change where it
//! was compared, and, for a configuration whose instruction counts changed, a differential
//! flame graph per thread role from the two sides' profiles (the roles whose counts changed
//! open, the others folded).

use maud::{Markup, html};

use super::flame::{FlameGraph, SCALE};
use super::page::anchor;
use super::verdict::change_cell;
use crate::comparison::Comparison;
use crate::comparison::explain::ConfigExplanation;
use crate::comparison::profile_diff::differential_folded;
use crate::model::metric::Metric;
use crate::model::profile::{Profile, Role, RoleProfiles, Stacks};
use crate::model::results::{ConfigurationResult, ResultFile};
use crate::report;

/// The most configurations whose flame graphs one page draws. A graph is 50-300 KB of
/// SVG; a file at the comment job's limits changes every one of 99 configurations on three
/// roles (`scripts/worst_case_results.py --profiles`), which drawn in full made a 60 MB
/// page. The first screen still names every changed configuration's functions.
pub const MAX_FLAME_GRAPH_CONFIGURATIONS: usize = 12;

/// Every configuration's section.
pub fn details(results: &ResultFile, cmp: Option<&Comparison>) -> Markup {
    let mut drawn = 0;
    html! {
        @for (index, config) in results.configurations.iter().enumerate() {
            section.config id=(anchor(index, &config.id)) {
                h3 { code { (config.id) } }
                (metrics(config, cmp))
                @if let Some(e) = cmp.and_then(|c| c.explanation.iter().find(|e| e.id == config.id)) {
                    @if !e.counts.is_empty() {
                        @if drawn < MAX_FLAME_GRAPH_CONFIGURATIONS {
                            ({ drawn += 1; flame_graphs(results, config, e) })
                        } @else {
                            p.note {
                                "No flame graph: this page draws them for the first "
                                (MAX_FLAME_GRAPH_CONFIGURATIONS)
                                " configurations whose counts changed; the functions that \
                                 moved most are listed on the first screen."
                            }
                        }
                    }
                }
            }
        }
    }
}

fn metrics(config: &ConfigurationResult, cmp: Option<&Comparison>) -> Markup {
    html! {
        table {
            thead { tr {
                th { "Metric" } th { "Median per call [interval]" }
                @if cmp.is_some() { th { "Base median" } th { "Change" } th { "Verdict" } th { "Could confirm" } }
            } }
            tbody {
                @for (metric, summary) in &config.summary {
                    @let pair = cmp.and_then(|c| c.pair(&config.id, *metric));
                    tr {
                        td { (metric.label()) " (" (report::unit(*metric)) ")" }
                        td.num { (report::median_with_interval(*metric, summary)) }
                        @if cmp.is_some() {
                            td.num { (pair.map_or_else(|| "–".to_owned(), |p| report::value(*metric, p.baseline.median))) }
                            (change_cell(pair))
                            td {
                                (pair.map_or("–", |p| p.verdict.as_str()))
                                @if pair.is_some_and(|p| !p.gated) { " (reported only)" }
                            }
                            td.num { (pair.map_or_else(|| "–".to_owned(), report::resolution)) }
                        }
                    }
                }
            }
        }
    }
}

/// Whether `role`'s instruction count is among those that changed (a change of the total
/// alone is the `other` threads').
fn role_changed(e: &ConfigExplanation, role: Role) -> bool {
    let changed = |metric: Metric| e.counts.iter().any(|c| c.metric == metric);
    match role {
        Role::Loop => changed(Metric::InstructionsLoop),
        Role::Worker => changed(Metric::InstructionsWorker),
        Role::Other => {
            changed(Metric::Instructions)
                && !changed(Metric::InstructionsLoop)
                && !changed(Metric::InstructionsWorker)
        }
    }
}

fn flame_graphs(
    results: &ResultFile,
    config: &ConfigurationResult,
    e: &ConfigExplanation,
) -> Markup {
    let base = results
        .paired
        .as_ref()
        .and_then(|p| p.base_profiles.get(&config.id));
    let (Some(base), Some(head)) = (base, config.profile.as_ref()) else {
        return html! {
            p.note { "No flame graph: a side has no per-function profile (counted without \
                      role-tagged dumps)." }
        };
    };
    let mut roles: Vec<Role> = [Role::Worker, Role::Loop, Role::Other]
        .into_iter()
        .filter(|r| head.roles.contains_key(r) || base.roles.contains_key(r))
        .collect();
    roles.sort_by_key(|r| !role_changed(e, *r));
    html! {
        h3 { "Where the instructions went, per thread role" }
        p.legend.note {
            "Each box a function in one call stack, as wide as the head's instructions per call \
             under it; its colour the change of its own instructions:"
            span style="background:rgb(255,100,100)" {} "more on the head"
            span style="background:rgb(100,100,255)" {} "fewer"
            span style="background:rgb(250,250,250);border:1px solid #ccc" {} "unchanged"
            ". A function the head no longer runs has no box. Hover a box for its counts."
        }
        @for role in roles {
            @let graph = role_graph(base, head, role);
            @if role_changed(e, role) {
                h3 { (role.to_string()) " threads (count changed)" }
                (graph)
            } @else {
                details {
                    summary { (role.to_string()) " threads (count unchanged)" }
                    (graph)
                }
            }
        }
    }
}

/// One side's stacks of `role` and its calls: `None` without the role, `Some((None, _))`
/// with the role but no stacks (counted without function contexts).
fn side(profiles: &RoleProfiles, role: Role) -> Option<(Option<&Stacks>, u64)> {
    let profile: &Profile = profiles.roles.get(&role)?;
    Some((profile.stacks.as_ref(), profile.count))
}

fn role_graph(base: &RoleProfiles, head: &RoleProfiles, role: Role) -> Markup {
    let empty = Stacks {
        names: Vec::new(),
        stacks: Vec::new(),
        other_stacks: None,
    };
    let (base_side, head_side) = (side(base, role), side(head, role));
    if base_side.is_some_and(|(s, _)| s.is_none()) || head_side.is_some_and(|(s, _)| s.is_none()) {
        return html! { p.note { "No stacks: a side was counted without function contexts." } };
    }
    // A role one side did not have counts as no stacks there.
    fn or_empty<'a>(s: Option<(Option<&'a Stacks>, u64)>, empty: &'a Stacks) -> (&'a Stacks, u64) {
        match s {
            Some((Some(stacks), count)) => (stacks, count),
            _ => (empty, 1),
        }
    }
    let folded = differential_folded(
        or_empty(base_side, &empty),
        or_empty(head_side, &empty),
        SCALE,
    );
    match FlameGraph::differential(&folded) {
        Ok(graph) => graph.markup(),
        Err(err) => html! { p.note { "No flame graph: " (err.to_string()) "." } },
    }
}
