//! github-action-benchmark `customSmallerIsBetter` JSON (`--gab`): an array of
//! `{ "name", "unit", "value", "range"?, "extra"? }` with `range` and `extra` as strings.
//!
//! One entry per configuration and metric; `value` is the median, `range` the larger
//! distance from the median to an end of its 95% interval (the action shows it as `± x`),
//! `extra` the exact interval and the number of runs.
//!
//! With a paired comparison (`bench --against`), one more entry per configuration and
//! metric, `"<id> <metric> head/base"`, unit `ratio`: the ratio measured in this run.

use serde::Serialize;

use crate::comparison::{Comparison, Method};
use crate::model::metric::Unit;
use crate::model::results::ResultFile;

#[derive(Debug, Serialize)]
struct Entry {
    name: String,
    unit: &'static str,
    value: f64,
    range: String,
    extra: String,
}

pub fn render(results: &ResultFile, comparison: Option<&Comparison>) -> String {
    let mut entries: Vec<Entry> = results
        .configurations
        .iter()
        .flat_map(|config| {
            config.summary.iter().map(move |(&metric, s)| {
                let half = (s.median - s.ci_low).max(s.ci_high - s.median);
                // Sub-nanosecond digits are noise; switch counts per call are small numbers.
                let decimals = match metric.unit() {
                    Unit::NanosPerCall | Unit::InstructionsPerCall => 1,
                    Unit::SwitchesPerCall => 4,
                };
                Entry {
                    name: format!("{} {}", config.id, metric.label()),
                    unit: match metric.unit() {
                        Unit::NanosPerCall => "ns/call",
                        Unit::SwitchesPerCall => "switches/call",
                        Unit::InstructionsPerCall => "instructions/call",
                    },
                    value: s.median,
                    range: format!("± {half:.decimals$}"),
                    extra: format!(
                        "median of {} runs; interval [{:.decimals$}, {:.decimals$}] covers the median with probability {:.3}",
                        s.n, s.ci_low, s.ci_high, s.ci_coverage
                    ),
                }
            })
        })
        .collect();
    if let Some(cmp) = comparison.filter(|c| matches!(c.method, Method::Paired { .. })) {
        for p in &cmp.pairs {
            let (Some(ratio), Some(ci)) = (p.estimate.ratio, p.estimate.ratio_ci) else {
                continue;
            };
            entries.push(Entry {
                name: format!("{} {} head/base", p.id, p.metric.label()),
                unit: "ratio",
                value: ratio,
                range: format!("± {:.4}", (ratio - ci.low).max(ci.high - ratio)),
                extra: format!(
                    "paired head/base ratio; 95% interval [{:.4}, {:.4}], Holm p {:.4}, {}",
                    ci.low,
                    ci.high,
                    p.p_adjusted,
                    p.verdict.as_str()
                ),
            });
        }
    }
    super::pretty_json(&entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::fixture;

    #[test]
    fn snapshot() {
        let (_, current) = fixture();
        insta::assert_snapshot!(render(&current, None));
    }
}
