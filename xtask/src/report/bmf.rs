//! Bencher Metric Format (`--bmf`): `{ "<benchmark>": { "<measure>": { "value", "lower_value",
//! "upper_value" } } }` (https://bencher.dev/docs/reference/bencher-metric-format/).
//!
//! Benchmarks are configuration ids; wall time per call uses Bencher's built-in `latency`
//! measure (nanoseconds), the others get their own measure slugs. Values are medians, bounds
//! the 95% interval of the median.
//!
//! With a paired comparison (`bench --against`), each benchmark also gets one
//! `<measure>-ratio-vs-base` measure per metric: the head/base ratio measured in this run,
//! with its 95% interval. (An independent comparison's ratio is against an older run, not a
//! property of this one, so it is not exported.)

use serde_json::{Map, Value, json};

use crate::comparison::{Comparison, Method};
use crate::model::metric::Metric;
use crate::model::results::ResultFile;

/// The Bencher measure slug of a metric.
pub fn measure(metric: Metric) -> &'static str {
    match metric {
        Metric::Wall => "latency",
        Metric::CpuTotal => "cpu-total-ns-per-call",
        Metric::CpuLoop => "cpu-loop-ns-per-call",
        Metric::CpuWorker => "cpu-worker-ns-per-call",
        Metric::Vcsw => "voluntary-context-switches-per-call",
        Metric::Instructions => "instructions-per-call",
        Metric::InstructionsLoop => "instructions-loop-per-call",
        Metric::InstructionsWorker => "instructions-worker-per-call",
    }
}

pub fn render(results: &ResultFile, comparison: Option<&Comparison>) -> String {
    let paired = comparison.filter(|c| matches!(c.method, Method::Paired { .. }));
    let mut root = Map::new();
    for config in &results.configurations {
        let mut measures = Map::new();
        for (&metric, s) in &config.summary {
            measures.insert(
                measure(metric).to_owned(),
                json!({ "value": s.median, "lower_value": s.ci_low, "upper_value": s.ci_high }),
            );
            let pair = paired.and_then(|c| c.pair(&config.id, metric));
            if let Some((ratio, ci)) =
                pair.and_then(|p| Some((p.estimate.ratio?, p.estimate.ratio_ci?)))
            {
                measures.insert(
                    format!("{}-ratio-vs-base", measure(metric)),
                    json!({ "value": ratio, "lower_value": ci.low, "upper_value": ci.high }),
                );
            }
        }
        root.insert(config.id.clone(), Value::Object(measures));
    }
    super::pretty_json(&Value::Object(root))
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

    #[test]
    fn paired_ratios_are_exported() {
        let samples = crate::comparison::paired::tests::synthetic(
            &[("floor/park", 14_000.0, 1.3)],
            6,
            0.0,
            1,
        );
        let cmp = crate::comparison::paired::compare(
            &samples,
            &crate::comparison::paired::tests::context(&["floor/park"], 6),
        );
        let (_, current) = fixture();
        let value: Value = serde_json::from_str(&render(&current, Some(&cmp))).unwrap();
        let ratio = &value["floor/park"]["latency-ratio-vs-base"];
        assert!(
            (ratio["value"].as_f64().unwrap() - 1.3).abs() < 1e-3,
            "{ratio}"
        );
        assert!(value["floor/spin"].get("latency-ratio-vs-base").is_none());
    }
}
