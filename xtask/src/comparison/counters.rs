//! The method for instruction counts, in both modes: counts of one binary are nearly
//! deterministic, so the runs of each side are independent draws of a tiny noise, compared
//! with Welch's t on log values ([`crate::stats::welch`]). The rank tests of the timing
//! metrics cannot do it: with three runs a side, Mann-Whitney's smallest p-value is 0.1.

use crate::comparison::{ChangeEstimate, NotGated, PairInput, VerdictPolicy};
use crate::model::host::FingerprintDiff;
use crate::model::metric::Metric;
use crate::model::results::ConfigurationResult;
use crate::stats::bootstrap::RatioInterval;
use crate::stats::welch::welch_log_ratio;
use crate::stats::{CONFIDENCE, Samples, Summary};

/// The counting's resolution on the log scale, 0.01%: counts of the same binary reproduce
/// to 0.001% on most rows here, and to 0.1-1% on a few with pool threads (
/// `docs/book/src/notes/2026-12-01-instruction-counts.md`); a difference below it is never significant.
pub const RESOLUTION: f64 = 1e-4;

/// The change estimate of two sets of counting runs; `None` with fewer than two runs a side.
pub fn estimate(base: &Samples, head: &Samples) -> Option<ChangeEstimate> {
    let e = welch_log_ratio(base, head, RESOLUTION, CONFIDENCE)?;
    Some(ChangeEstimate {
        ratio: Some(e.mean.exp()),
        ratio_ci: Some(RatioInterval {
            low: e.ci_low.exp(),
            high: e.ci_high.exp(),
        }),
        p_value: e.p_value,
        absolute: None,
    })
}

/// One pair per instruction metric, when both sides counted (at least two runs each).
pub fn pairs(base: &ConfigurationResult, head: &ConfigurationResult) -> Vec<PairInput> {
    if !base.has_counters() || !head.has_counters() {
        return Vec::new();
    }
    Metric::COUNTERS
        .into_iter()
        .filter_map(|metric| {
            let (b, h) = (base.samples_of(metric).ok()?, head.samples_of(metric).ok()?);
            Some(PairInput {
                id: head.id.clone(),
                metric,
                estimate: estimate(&b, &h)?,
                baseline: Summary::of(&b),
                current: Summary::of(&h),
                modes: None,
            })
        })
        .collect()
}

/// The gated instruction metrics taken out of the gate when the two sides' counts cannot be
/// compared (another toolchain, C library, valgrind or CPU feature set:
/// `FingerprintDiff::counts_comparable`), with the reason; `None` when they can, or when
/// there are no instruction pairs.
pub fn not_gated(
    diff: &FingerprintDiff,
    policy: &VerdictPolicy,
    inputs: &[PairInput],
) -> Option<NotGated> {
    let Err(why) = diff.counts_comparable() else {
        return None;
    };
    let metrics: Vec<Metric> = Metric::COUNTERS
        .into_iter()
        .filter(|m| policy.is_gated(*m) && inputs.iter().any(|p| p.metric == *m))
        .collect();
    (!metrics.is_empty()).then_some(NotGated { metrics, why })
}
