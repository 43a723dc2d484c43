//! Change points over the history of main: per configuration and metric, the series of its
//! medians in commit order (the commits that measured it), split by E-Divisive means
//! (`stats::change_points`).

use crate::model::history::{self, HistoryEntry};
use crate::model::metric::Metric;
use crate::stats::change_points::{ChangePoint, e_divisive};

/// The permutations' seed; each series mixes in its configuration and metric.
const SEED: u64 = 0x68_69_73_74_6f_72_79; // "history"

/// One change point of one configuration's metric.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryChange {
    pub id: String,
    pub metric: Metric,
    /// The first commit measured after the change.
    pub commit: String,
    /// That commit's place in the configuration's series, and the series' length.
    pub index: usize,
    pub of: usize,
    pub point: ChangePoint,
}

/// Every change point of every configuration and metric of `entries` at significance
/// `alpha`, by configuration, metric and commit.
pub fn change_points(entries: &[HistoryEntry], alpha: f64) -> Vec<HistoryChange> {
    let mut changes = Vec::new();
    for series in history::series(entries) {
        let values: Vec<f64> = series.points.iter().map(|(_, v)| *v).collect();
        let seed = super::independent::pair_seed(SEED, series.id, series.metric);
        for point in e_divisive(&values, alpha, seed) {
            changes.push(HistoryChange {
                id: series.id.to_owned(),
                metric: series.metric,
                commit: series.points[point.index].0.to_owned(),
                index: point.index,
                of: values.len(),
                point,
            });
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn a_step_in_one_metric_is_named_by_its_commit() {
        // 60 commits; from commit 40 on, `smol/dedicated` runs 2% more instructions.
        let entries: Vec<HistoryEntry> = (0..60)
            .map(|i| {
                let instructions = if i >= 40 { 2_040.0 } else { 2_000.0 };
                let metrics = BTreeMap::from([
                    (Metric::Instructions, instructions),
                    (Metric::InstructionsLoop, 1_700.0),
                ]);
                HistoryEntry {
                    commit: format!("{i:040x}"),
                    created: "2026-12-01T00:00:00Z".to_owned(),
                    medians: BTreeMap::from([("smol/dedicated".to_owned(), metrics)]),
                }
            })
            .collect();
        let changes = change_points(&entries, 0.01);
        assert_eq!(changes.len(), 1, "{changes:?}");
        let change = &changes[0];
        assert_eq!(
            (change.id.as_str(), change.metric, change.index, change.of),
            ("smol/dedicated", Metric::Instructions, 40, 60)
        );
        assert_eq!(change.commit, format!("{:040x}", 40));
        assert!((change.point.ratio - 1.02).abs() < 1e-9);
    }
}
