//! The forest plot of a comparison, grouped by configuration and metric: per configuration a
//! group of rows, its timing pairs (wall, CPU, context switches) in the left panel and its
//! instruction counts (total, loop, worker) in the right panel on the same rows, each
//! panel on its own scale with its own threshold band. Gated pairs are coloured by their
//! verdict (regressed red, improved green), pairs only reported are grey.

use maud::Markup;
use plotters::prelude::RGBColor;

use super::charts::{self, LABEL_CHARS, Panel, Row, Scale};
use super::page::CONTENT_WIDTH;
use crate::comparison::{Comparison, PairComparison, Verdict};
use crate::model::metric::Metric;
use crate::report::untrusted::label;

/// The timing metrics of the left panel.
const TIMES: [Metric; 3] = [Metric::Wall, Metric::CpuTotal, Metric::Vcsw];

/// A metric's row label: its command-line name; for counts, their role (the panel says
/// they are instructions).
fn short_name(metric: Metric) -> &'static str {
    match metric {
        Metric::Instructions => "total",
        Metric::InstructionsLoop => "loop",
        Metric::InstructionsWorker => "worker",
        other => other.cli_name(),
    }
}

/// A pair's colour.
fn colour(pair: &PairComparison) -> RGBColor {
    match (pair.gated, pair.verdict) {
        (true, Verdict::Regressed) => RGBColor(200, 30, 30),
        (true, Verdict::Improved) => RGBColor(30, 140, 60),
        (true, _) => RGBColor(60, 60, 60),
        (false, _) => RGBColor(160, 160, 160),
    }
}

/// A pair's change and interval in percent, when it has a ratio.
fn percent(pair: &PairComparison) -> Option<(f64, f64, f64)> {
    let ratio = pair.estimate.ratio?;
    let ci = pair.estimate.ratio_ci?;
    let pct = |r: f64| (r - 1.0) * 100.0;
    Some((pct(ratio), pct(ci.low), pct(ci.high)))
}

/// The two panels, or `None` when no pair has a ratio.
pub fn forest(cmp: &Comparison) -> Option<Markup> {
    let mut ids: Vec<&str> = Vec::new();
    for pair in &cmp.pairs {
        if !ids.contains(&pair.id.as_str()) {
            ids.push(&pair.id);
        }
    }
    let (mut left, mut right) = (Vec::new(), Vec::new());
    for id in ids {
        let times: Vec<&PairComparison> = TIMES.iter().filter_map(|m| cmp.pair(id, *m)).collect();
        let counts: Vec<&PairComparison> = Metric::COUNTERS
            .iter()
            .filter_map(|m| cmp.pair(id, *m))
            .collect();
        for i in 0..times.len().max(counts.len()) {
            let row = |pair: Option<&&PairComparison>, text: String| {
                let mut row = Row::new(text, charts::HEAD);
                if let Some(pair) = pair {
                    row.colour = colour(pair);
                    row.centre = percent(pair);
                }
                row.rule = i == 0;
                row
            };
            let name = |pair: Option<&&PairComparison>| {
                pair.map_or_else(String::new, |p| short_name(p.metric).to_owned())
            };
            let left_text = if i == 0 {
                format!("{} {}", label(id, LABEL_CHARS), name(times.first()))
            } else {
                name(times.get(i))
            };
            left.push(row(times.get(i), left_text));
            right.push(row(counts.get(i), name(counts.get(i))));
        }
    }
    // The widest threshold among the panel's gated metrics (the first metric's when none
    // is gated): counts gate the total at 1% and only report the roles.
    let band = |metrics: &[Metric]| {
        let gated = metrics.iter().filter(|m| cmp.policy.is_gated(**m));
        gated
            .map(|m| cmp.policy.threshold_of(*m) * 100.0)
            .reduce(f64::max)
            .unwrap_or_else(|| cmp.policy.threshold_of(metrics[0]) * 100.0)
    };
    let time_caption = format!(
        "times and switches: head/base change (%), band ±{}%",
        band(&TIMES)
    );
    let count_caption = format!(
        "instructions: change (%), band ±{}%",
        band(&Metric::COUNTERS)
    );
    let has_counts = right.iter().any(|r| r.centre.is_some());
    let time_panel = Panel {
        // Without counts the times take the whole width.
        width: if has_counts { 760 } else { CONTENT_WIDTH },
        labels: 330,
        caption: &time_caption,
        scale: Scale::Band(band(&TIMES)),
    };
    let count_panel = Panel {
        width: 440,
        labels: 100,
        caption: &count_caption,
        scale: Scale::Band(band(&Metric::COUNTERS)),
    };
    let left = charts::draw(&left, &time_panel)?;
    let right = has_counts
        .then(|| charts::draw(&right, &count_panel))
        .flatten();
    Some(charts::panels(vec![Some(left), right]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::paired_fixture;

    #[test]
    fn a_group_per_configuration_its_regression_red() {
        let (_, cmp) = paired_fixture();
        let svg = forest(&cmp).unwrap().into_string();
        for id in ["floor/park", "tokio-current/dedicated"] {
            assert!(svg.contains(&format!("\n{id} wall\n")), "{id}: {svg}");
        }
        // The group's other rows name their metric only; the counts' panel is absent
        // without counts, and the times take the whole width.
        assert!(svg.contains("\ncpu-total\n") && svg.contains("\nvcsw\n"));
        assert_eq!(svg.matches("<svg").count(), 1);
        assert!(svg.contains("width=\"1200\""));
        // Every text 14.5 pixels (plotters' size 18).
        assert_eq!(
            svg.matches("font-size=\"14.516").count(),
            svg.matches("<text").count()
        );
        // plotters writes the regression's colour, rgb(200,30,30), as #C81E1E.
        assert!(svg.to_uppercase().contains("#C81E1E"));
    }
}
