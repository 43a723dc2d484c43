//! A paired run's comparison from its result file, as the run itself and the pull-request
//! comment make it: one function, so that both agree to the byte.

use super::paired::{PairedContext, compare};
use crate::comparison::{Comparison, VerdictPolicy, explain};
use crate::model::host::FingerprintDiff;
use crate::model::results::ResultFile;

/// The comparison of a paired run from its result file's raw samples, as the run itself
/// and the pull-request comment make it (one function, so that they agree to the byte):
/// `None` for a file without a paired record. `policy` and `fingerprint` are the run's.
pub fn compare_run(
    results: &ResultFile,
    policy: VerdictPolicy,
    fingerprint: FingerprintDiff,
) -> Option<Comparison> {
    let record = results.paired.as_ref()?;
    let context = PairedContext {
        ids: run_ids(results),
        baseline_label: record.base.label(),
        policy,
        fingerprint,
        added: record.added.clone(),
        removed: record.removed.clone(),
        min_blocks: record.min_blocks,
        estimator: record.estimator,
        counters: record.counter_samples.clone(),
    };
    let mut comparison = compare(&record.samples, &context);
    comparison.explanation = explain::explain(&comparison.pairs, |id| {
        let head = results.configurations.iter().find(|c| c.id == id);
        (
            record.base_profiles.get(id),
            head.and_then(|c| c.profile.as_ref()),
        )
    });
    Some(comparison)
}

/// The configurations both sides of a paired run ran, in report order: the head's
/// configurations, then any id that only has paired samples (every head run of it failed).
fn run_ids(results: &ResultFile) -> Vec<String> {
    let mut ids: Vec<String> = results
        .configurations
        .iter()
        .map(|c| c.id.clone())
        .collect();
    let seen: std::collections::BTreeSet<String> = ids.iter().cloned().collect();
    let mut extra: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for sample in results.paired.iter().flat_map(|p| &p.samples) {
        let id = sample.measurement.id.as_str();
        if !seen.contains(id) && extra.insert(id) {
            ids.push(id.to_owned());
        }
    }
    ids
}
