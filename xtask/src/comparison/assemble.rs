//! Holm's correction and the verdicts: a comparison assembled from its pairs' change
//! estimates (the module docs of `comparison`, steps 2 and 3).

use super::{
    Comparison, Method, NotGated, PairComparison, PairInput, Verdict, VerdictPolicy,
    absolute_verdict,
};
use crate::model::host::FingerprintDiff;
use crate::model::metric::Metric;
use crate::stats::bootstrap::RatioInterval;
use crate::stats::holm::holm_adjust;

/// The context of a comparison besides its pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonContext {
    pub method: Method,
    pub baseline_label: String,
    pub policy: VerdictPolicy,
    pub fingerprint: FingerprintDiff,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// Applies Holm's correction within the gated and the reported-only pairs and decides
/// each verdict.
pub fn assemble(context: ComparisonContext, inputs: Vec<PairInput>) -> Comparison {
    assemble_with(context, Vec::new(), inputs)
}

/// [`assemble`], with the metrics of `not_gated` reported only: their pairs join the
/// reported-only family and keep their metric's threshold.
pub fn assemble_with(
    context: ComparisonContext,
    not_gated: Vec<NotGated>,
    inputs: Vec<PairInput>,
) -> Comparison {
    let policy = &context.policy;
    let is_gated = |metric: Metric| {
        policy.is_gated(metric) && !not_gated.iter().any(|n| n.metrics.contains(&metric))
    };
    let mut adjusted = vec![0.0; inputs.len()];
    for gated in [true, false] {
        let family: Vec<usize> = (0..inputs.len())
            .filter(|&i| is_gated(inputs[i].metric) == gated)
            .collect();
        let p_values: Vec<f64> = family.iter().map(|&i| inputs[i].estimate.p_value).collect();
        for (&i, p) in family.iter().zip(holm_adjust(&p_values)) {
            adjusted[i] = p;
        }
    }
    let pairs = inputs
        .into_iter()
        .zip(adjusted)
        .map(|(input, p_adjusted)| {
            let threshold = policy.threshold_of(input.metric);
            PairComparison {
                verdict: match input.estimate.absolute {
                    Some(change) => absolute_verdict(
                        change,
                        p_adjusted,
                        policy.alpha,
                        input.metric.resolution(),
                    ),
                    None => verdict(input.estimate.ratio_ci, p_adjusted, policy.alpha, threshold),
                },
                gated: is_gated(input.metric),
                threshold,
                settled_after_blocks: None,
                modes: input.modes,
                id: input.id,
                metric: input.metric,
                baseline: input.baseline,
                current: input.current,
                estimate: input.estimate,
                p_adjusted,
            }
        })
        .collect();
    Comparison {
        method: context.method,
        baseline_label: context.baseline_label,
        policy: context.policy,
        fingerprint: context.fingerprint,
        pairs,
        added: context.added,
        removed: context.removed,
        not_gated,
        explanation: Vec::new(),
    }
}

/// The verdict of one pair with noise threshold `threshold` (see the module docs).
pub fn verdict(
    ratio_ci: Option<RatioInterval>,
    p_adjusted: f64,
    alpha: f64,
    threshold: f64,
) -> Verdict {
    let Some(ci) = ratio_ci else {
        return Verdict::Inconclusive;
    };
    let significant = p_adjusted <= alpha;
    let upper_noise = 1.0 + threshold;
    let lower_noise = 1.0 - threshold;
    if significant && ci.low > upper_noise {
        Verdict::Regressed
    } else if significant && ci.high < lower_noise {
        Verdict::Improved
    } else if ci.low >= lower_noise && ci.high <= upper_noise {
        Verdict::Unchanged
    } else {
        Verdict::Inconclusive
    }
}
