//! Bencher Metric Format (`--bmf`): `{ "<benchmark>": { "<measure>": { "value", "lower_value",
//! "upper_value" } } }` (https://bencher.dev/docs/reference/bencher-metric-format/).
//!
//! Benchmarks are configuration ids; wall time per call uses Bencher's built-in `latency`
//! measure (nanoseconds), the others get their own measure slugs. Values are medians, bounds
//! the 95% interval of the median.

use serde_json::{Map, Value, json};

use crate::metric::Metric;
use crate::results::ResultFile;

/// The Bencher measure slug of a metric.
pub fn measure(metric: Metric) -> &'static str {
    match metric {
        Metric::Wall => "latency",
        Metric::CpuTotal => "cpu-total-ns-per-call",
        Metric::CpuLoop => "cpu-loop-ns-per-call",
        Metric::CpuWorker => "cpu-worker-ns-per-call",
        Metric::Vcsw => "voluntary-context-switches-per-call",
    }
}

pub fn render(results: &ResultFile) -> String {
    let mut root = Map::new();
    for config in &results.configurations {
        let mut measures = Map::new();
        for metric in Metric::ALL {
            let s = &config.summary[&metric];
            measures.insert(
                measure(metric).to_owned(),
                json!({ "value": s.median, "lower_value": s.ci_low, "upper_value": s.ci_high }),
            );
        }
        root.insert(config.id.clone(), Value::Object(measures));
    }
    let mut text = serde_json::to_string_pretty(&Value::Object(root)).expect("JSON serialises");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::fixture;

    #[test]
    fn snapshot() {
        let (_, current) = fixture();
        insta::assert_snapshot!(render(&current));
    }
}
