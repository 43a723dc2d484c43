//! The page's tests: its order, its anchors, what it escapes, and that it fetches nothing.

use super::*;
use crate::model::results::tests::result_file;
use crate::report::tests::paired_fixture;
use crate::report::untrusted::label;

/// What a self-contained page must not hold, outside the SVG namespace.
fn assert_self_contained(page: &str) {
    let outside_svg_namespace = page.replace("http://www.w3.org/2000/svg", "");
    for banned in [
        "<script", "http://", "https://", "@import", "url(", "<link", "<iframe",
    ] {
        assert!(!outside_svg_namespace.contains(banned), "{banned}");
    }
}

#[test]
fn one_page_with_a_chart_per_metric_and_nothing_fetched() {
    let results = result_file(&[
        ("floor/park", &[14_000.0, 14_200.0, 13_900.0]),
        ("smol/dedicated", &[800.0, 820.0, 790.0]),
    ]);
    let page = render(&results, None);
    assert!(page.starts_with("<!DOCTYPE html>"));
    for id in ["strip-wall", "strip-cpu-total", "strip-vcsw"] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert_eq!(page.matches("<svg").count(), 3);
    assert!(page.contains("floor/park") && page.contains("smol/dedicated"));
    assert!(page.contains("href=\"#config-1-smol-dedicated\""));
    assert!(page.contains("id=\"config-1-smol-dedicated\""));
    assert_self_contained(&page);
}

#[test]
fn the_verdict_and_the_changed_table_come_before_the_charts() {
    let (results, cmp) = paired_fixture();
    let page = render(&results, Some(&cmp));
    let at = |needle: &str| {
        page.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing"))
    };
    assert!(at("Performance regressed in 1 configuration") < at("<table class=\"changed\""));
    assert!(at("<table class=\"changed\"") < at("id=\"forest\""));
    assert!(at("id=\"forest\"") < at("id=\"strip-wall\""));
    // The regressed row links to its details, which follow the charts.
    let link = "href=\"#config-1-tokio-current-dedicated\"";
    assert!(at(link) < at("id=\"forest\""));
    assert!(at("id=\"config-1-tokio-current-dedicated\"") > at("id=\"strip-vcsw\""));
    assert_self_contained(&page);
}

#[test]
fn strings_from_the_file_are_escaped_or_reduced_to_labels() {
    let mut results = result_file(&[("floor/park", &[14_000.0, 14_100.0])]);
    results.host.cpu_model = "<script>alert(1)</script>".to_owned();
    results.configurations[0].id = "floor/<img src=x onerror=alert(1)>".to_owned();
    let page = render(&results, None);
    assert!(!page.contains("<script"), "{page}");
    assert!(!page.contains("<img"), "{page}");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("floor/&lt;img src=x onerror=alert(1)&gt;"));
    assert_eq!(label("a<b>\"c\" d", 40), "a_b__c__d");
}

#[test]
fn hostile_function_names_stay_text_on_the_first_screen() {
    use crate::comparison::explain::{ChangeKind, ConfigExplanation, RoleFunction};
    use crate::comparison::profile_diff::{FunctionChange, PerCall, Presence};
    use crate::model::profile::Role;
    let (results, mut cmp) = paired_fixture();
    let name = "<img src=x onerror=alert(1)>\"'&<!-- @everyone";
    cmp.explanation = vec![ConfigExplanation {
        id: "tokio-current/dedicated".to_owned(),
        kind: ChangeKind::Code,
        counts: Vec::new(),
        shift: false,
        waiting: Vec::new(),
        functions: vec![RoleFunction {
            role: Role::Worker,
            change: FunctionChange {
                name: name.to_owned(),
                presence: Presence::HeadOnly,
                self_instructions: PerCall {
                    base: 0.0,
                    head: 5.0,
                },
                inclusive_instructions: PerCall {
                    base: 0.0,
                    head: 5.0,
                },
                maybe_left_out: false,
            },
        }],
        no_profile: false,
    }];
    let page = render(&results, Some(&cmp));
    assert!(!page.contains("<img") && !page.contains("<!--"), "{page}");
    assert!(
        page.contains("worker: <code>&lt;img src=x onerror=alert(1)&gt;&quot;'&amp;&lt;!-- @everyone</code> +5.0 instr/call (new)"),
        "{page}"
    );
    assert_self_contained(&page);
}

#[test]
fn flame_graphs_are_drawn_for_the_first_changed_configurations_only() {
    use super::details::MAX_FLAME_GRAPH_CONFIGURATIONS;
    use crate::comparison::explain::{ChangeKind, ConfigExplanation, CountChange};
    let (mut results, mut cmp) = paired_fixture();
    let template = results.configurations[0].clone();
    let extra = MAX_FLAME_GRAPH_CONFIGURATIONS + 2 - results.configurations.len();
    for i in 0..extra {
        let mut config = template.clone();
        config.id = format!("smol/changed-{i}");
        results.configurations.push(config);
    }
    cmp.explanation = results
        .configurations
        .iter()
        .map(|config| ConfigExplanation {
            id: config.id.clone(),
            kind: ChangeKind::Code,
            counts: vec![CountChange {
                metric: Metric::Instructions,
                base: 2000.0,
                head: 2100.0,
                ratio: 1.05,
                low: 1.04,
                high: 1.06,
                gated: true,
                below_threshold: false,
                threshold: 0.01,
            }],
            shift: false,
            waiting: Vec::new(),
            functions: Vec::new(),
            no_profile: true,
        })
        .collect();
    let page = render(&results, Some(&cmp));
    // The fixture has no profiles: a drawn configuration says so; the others are past the cap.
    assert_eq!(
        page.matches("No flame graph: a side has no per-function profile")
            .count(),
        MAX_FLAME_GRAPH_CONFIGURATIONS
    );
    assert_eq!(
        page.matches("No flame graph: this page draws them").count(),
        2
    );
}
