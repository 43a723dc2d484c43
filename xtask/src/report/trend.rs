//! The history's page (`cargo xtask history report --html PATH`): per configuration and
//! metric, a trend chart of its medians over the commits that measured it, each change
//! point a red vertical line labelled with its step, plus the list of change points.

use maud::{PreEscaped, html};
use plotters::prelude::*;

use super::html::page::document;
use super::untrusted::label;
use crate::comparison::history::HistoryChange;
use crate::model::history::{self, HistoryEntry};
use crate::model::metric::{Metric, Unit};

const WIDTH: u32 = 900;
const HEIGHT: u32 = 220;

/// The page of `entries` with `changes` marked; `keep` selects the configurations shown.
pub fn render(
    entries: &[HistoryEntry],
    changes: &[HistoryChange],
    keep: impl Fn(&str) -> bool,
) -> String {
    let body = html! {
        h1 { "handoff-bench history of main" }
        p {
            (entries.len()) " commits, " (changes.len()) " change points (E-Divisive means). A \
             red line marks the first commit after a change; its label is the step, median \
             after over median before."
        }
        @for series in history::series(entries).into_iter().filter(|series| keep(series.id)) {
            @let (id, metric) = (series.id, series.metric);
            @let values: Vec<f64> = series.points.iter().map(|(_, v)| shown(metric, *v)).collect();
            @let marks: Vec<&HistoryChange> = changes
                .iter()
                .filter(|c| c.id == id && c.metric == metric)
                .collect();
            @let name = label(id, 60);
            section.chart id=(format!("trend-{name}-{}", metric.cli_name())) {
                h2 { (name) " " (metric.label()) " (" (unit(metric)) ")" }
                @match chart(&values, &marks) {
                    // plotters' own SVG; its only text is numbers and the steps' labels.
                    Some(svg) => (PreEscaped(svg)),
                    None => p { "Too few commits." },
                }
            }
        }
    };
    document("handoff-bench history of main", body)
}

/// Times are stored in ns per call and shown in us.
fn shown(metric: Metric, value: f64) -> f64 {
    match metric.unit() {
        Unit::NanosPerCall => value * 1e-3,
        _ => value,
    }
}

fn unit(metric: Metric) -> &'static str {
    super::unit(metric)
}

/// The SVG of one series; `None` with fewer than two points.
fn chart(series: &[f64], marks: &[&HistoryChange]) -> Option<String> {
    if series.len() < 2 {
        return None;
    }
    let (lo, hi) = series
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.01).max(1e-6);
    let (lo, hi) = (lo - pad, hi + pad);
    let n = series.len() as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d(1.0..n, lo..hi)
            .ok()?;
        chart
            .configure_mesh()
            .x_desc("commit")
            .max_light_lines(1)
            .draw()
            .ok()?;
        let points = series.iter().enumerate().map(|(i, &v)| ((i + 1) as f64, v));
        chart
            .draw_series(LineSeries::new(points.clone(), RGBColor(60, 90, 170)))
            .ok()?;
        chart
            .draw_series(points.map(|p| Circle::new(p, 2, RGBColor(60, 90, 170).filled())))
            .ok()?;
        let red = RGBColor(200, 30, 30);
        for mark in marks {
            let x = (mark.index + 1) as f64;
            chart
                .draw_series([PathElement::new(
                    vec![(x, lo), (x, hi)],
                    red.stroke_width(2),
                )])
                .ok()?;
            let step = super::percent(mark.point.ratio);
            chart
                .draw_series([Text::new(
                    step,
                    (x, hi),
                    ("sans-serif", 13).into_font().color(&red),
                )])
                .ok()?;
        }
        root.present().ok()?;
    }
    Some(svg)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::stats::change_points::ChangePoint;

    #[test]
    fn a_chart_per_configuration_and_metric_with_its_change_points_marked() {
        let entries: Vec<HistoryEntry> = (0..30)
            .map(|i| HistoryEntry {
                commit: format!("{i:040x}"),
                created: String::new(),
                medians: BTreeMap::from([(
                    "floor/park".to_owned(),
                    BTreeMap::from([
                        (Metric::Wall, if i >= 20 { 110_000.0 } else { 100_000.0 }),
                        (Metric::Instructions, 211.0),
                    ]),
                )]),
            })
            .collect();
        let change = HistoryChange {
            id: "floor/park".to_owned(),
            metric: Metric::Wall,
            commit: format!("{:040x}", 20),
            index: 20,
            of: 30,
            point: ChangePoint {
                index: 20,
                ratio: 1.1,
                confidence: 0.995,
            },
        };
        let page = render(&entries, &[change], |_| true);
        assert!(page.contains("id=\"trend-floor/park-wall\""));
        assert!(page.contains("id=\"trend-floor/park-instructions\""));
        assert_eq!(page.matches("<svg").count(), 2);
        assert!(page.contains("+10.0%"), "the change point is labelled");
        assert!(!page.contains("<script"));
        let none = render(&entries, &[], |id| id != "floor/park");
        assert_eq!(none.matches("<svg").count(), 0);
    }
}
