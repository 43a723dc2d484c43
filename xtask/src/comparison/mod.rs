//! Comparison core, independent of how the evidence was gathered: per (configuration,
//! metric) change estimates go in, Holm-corrected verdicts come out.
//!
//! # How it works
//!
//! 1. A method turns two sets of samples into one [`ChangeEstimate`] per pair: a ratio
//!    current/baseline with a 95% interval, and a two-sided p-value. [`independent`] does it
//!    for separately run result sets (bootstrap + Mann-Whitney); a paired method (base and
//!    head interleaved, per-block log-ratios) only has to produce the same estimate and call
//!    [`assemble`].
//! 2. [`assemble`] adjusts all p-values of the comparison together with Holm's method, so
//!    the chance of any false "regressed"/"improved" in the whole report stays below alpha.
//! 3. [`verdict`] then decides each pair from its adjusted p-value and its interval against
//!    the noise threshold (all metrics are smaller-is-better):
//!    - `regressed`: significant and the whole interval above `1 + threshold`;
//!    - `improved`: significant and the whole interval below `1 - threshold`;
//!    - `unchanged`: the whole interval within `[1 - threshold, 1 + threshold]`;
//!    - `inconclusive`: anything else, including an undefined ratio (zero baseline).

pub mod independent;

use serde::{Deserialize, Serialize};

use crate::host::FingerprintDiff;
use crate::metric::Metric;
use crate::stats::Summary;
use crate::stats::bootstrap::RatioInterval;
use crate::stats::holm::holm_adjust;

/// When a change counts (`--alpha`, `--threshold`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VerdictPolicy {
    /// Family-wise error rate across all pairs of one comparison.
    pub alpha: f64,
    /// Noise threshold as a fraction (0.05 = 5%).
    pub threshold: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Regressed,
    Improved,
    Unchanged,
    Inconclusive,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// How the comparison's evidence was gathered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Method {
    /// Two independently run result sets: ratio of medians with a seeded percentile
    /// bootstrap interval, Mann-Whitney U p-values.
    Independent { bootstrap_resamples: u32, seed: u64 },
}

/// What a method says about one pair, before correction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeEstimate {
    /// current / baseline (for medians: `median(current) / median(baseline)`); `None` when
    /// undefined (zero baseline).
    pub ratio: Option<f64>,
    /// 95% interval of the ratio; `None` when undefined.
    pub ratio_ci: Option<RatioInterval>,
    /// Two-sided, uncorrected.
    pub p_value: f64,
}

/// One (configuration, metric) pair going into [`assemble`].
#[derive(Debug, Clone, PartialEq)]
pub struct PairInput {
    pub id: String,
    pub metric: Metric,
    pub baseline: Summary,
    pub current: Summary,
    pub estimate: ChangeEstimate,
}

/// One (configuration, metric) pair with its verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairComparison {
    pub id: String,
    pub metric: Metric,
    pub baseline: Summary,
    pub current: Summary,
    #[serde(flatten)]
    pub estimate: ChangeEstimate,
    /// Holm-adjusted over every pair of the comparison.
    pub p_adjusted: f64,
    pub verdict: Verdict,
}

/// A whole comparison, from any method; what every report renders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub method: Method,
    /// What the current results were compared with, for humans (`baseline reference`, a path).
    pub baseline_label: String,
    pub policy: VerdictPolicy,
    /// How the two runs' machines and toolchains differ.
    pub fingerprint: FingerprintDiff,
    pub pairs: Vec<PairComparison>,
    /// Configurations only in the current results.
    pub added: Vec<String>,
    /// Configurations only in the baseline.
    pub removed: Vec<String>,
}

/// Counts of verdicts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub regressed: usize,
    pub improved: usize,
    pub unchanged: usize,
    pub inconclusive: usize,
}

impl Comparison {
    pub fn tally(&self) -> Tally {
        let mut t = Tally::default();
        for pair in &self.pairs {
            match pair.verdict {
                Verdict::Regressed => t.regressed += 1,
                Verdict::Improved => t.improved += 1,
                Verdict::Unchanged => t.unchanged += 1,
                Verdict::Inconclusive => t.inconclusive += 1,
            }
        }
        t
    }

    pub fn has_regression(&self) -> bool {
        self.pairs.iter().any(|p| p.verdict == Verdict::Regressed)
    }

    pub fn pair(&self, id: &str, metric: Metric) -> Option<&PairComparison> {
        self.pairs.iter().find(|p| p.id == id && p.metric == metric)
    }
}

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

/// Applies Holm's correction across all pairs and decides each verdict.
pub fn assemble(context: ComparisonContext, inputs: Vec<PairInput>) -> Comparison {
    let p_values: Vec<f64> = inputs.iter().map(|i| i.estimate.p_value).collect();
    let adjusted = holm_adjust(&p_values);
    let pairs = inputs
        .into_iter()
        .zip(adjusted)
        .map(|(input, p_adjusted)| PairComparison {
            verdict: verdict(input.estimate.ratio_ci, p_adjusted, &context.policy),
            id: input.id,
            metric: input.metric,
            baseline: input.baseline,
            current: input.current,
            estimate: input.estimate,
            p_adjusted,
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
    }
}

/// The verdict of one pair (see the module docs).
pub fn verdict(
    ratio_ci: Option<RatioInterval>,
    p_adjusted: f64,
    policy: &VerdictPolicy,
) -> Verdict {
    let Some(ci) = ratio_ci else {
        return Verdict::Inconclusive;
    };
    let significant = p_adjusted <= policy.alpha;
    let upper_noise = 1.0 + policy.threshold;
    let lower_noise = 1.0 - policy.threshold;
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

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: VerdictPolicy = VerdictPolicy {
        alpha: 0.05,
        threshold: 0.05,
    };

    fn ci(low: f64, high: f64) -> Option<RatioInterval> {
        Some(RatioInterval { low, high })
    }

    #[test]
    fn verdict_table() {
        assert_eq!(verdict(ci(1.10, 1.30), 0.01, &POLICY), Verdict::Regressed);
        // Significant but the interval reaches into the noise band: not a confirmed change.
        assert_eq!(
            verdict(ci(1.02, 1.30), 0.01, &POLICY),
            Verdict::Inconclusive
        );
        // Beyond the threshold but not significant after correction.
        assert_eq!(verdict(ci(1.10, 1.30), 0.2, &POLICY), Verdict::Inconclusive);
        assert_eq!(verdict(ci(0.70, 0.90), 0.01, &POLICY), Verdict::Improved);
        assert_eq!(verdict(ci(0.97, 1.04), 0.01, &POLICY), Verdict::Unchanged);
        assert_eq!(verdict(ci(0.97, 1.04), 1.0, &POLICY), Verdict::Unchanged);
        assert_eq!(verdict(ci(0.90, 1.10), 1.0, &POLICY), Verdict::Inconclusive);
        assert_eq!(verdict(None, 0.0, &POLICY), Verdict::Inconclusive);
    }
}
