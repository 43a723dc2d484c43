//! Comparison core, independent of how the evidence was gathered: per (configuration,
//! metric) change estimates go in, Holm-corrected verdicts come out.
//!
//! # How it works
//!
//! 1. A method turns two sets of samples into one [`ChangeEstimate`] per pair: a ratio
//!    current/baseline with a 95% interval, and a two-sided p-value. [`independent`] does it
//!    for separately run result sets (bootstrap + Mann-Whitney); [`paired`] for base and
//!    head run interleaved in blocks (paired t on per-block log-ratios). Both call
//!    [`assemble`]. A metric near zero on the baseline's side (the context switches of a
//!    spinning row) also gets a difference per call, which decides its verdict instead
//!    ([`absolute`]).
//! 2. The policy names the *gated* metrics, each with its own noise threshold: only their
//!    pairs decide the gate (exit status, annotations); the other metrics are reported.
//!    [`assemble`] adjusts the p-values of the gated pairs together with Holm's method, so
//!    the chance of any false "regressed"/"improved" among them stays below alpha; the
//!    reported-only pairs are adjusted as a family of their own, so adding them to a report
//!    never weakens the gate. A method may also take gated metrics out of the gate for one
//!    comparison, with the reason ([`NotGated`], through [`assemble_with`]): the
//!    independent method does so for times against a baseline from another boot.
//! 3. [`verdict`] then decides each pair from its adjusted p-value and its interval against
//!    its metric's noise threshold (all metrics are smaller-is-better):
//!    - `regressed`: significant and the whole interval above `1 + threshold`;
//!    - `improved`: significant and the whole interval below `1 - threshold`;
//!    - `unchanged`: the whole interval within `[1 - threshold, 1 + threshold]`;
//!    - `inconclusive`: anything else, including an undefined ratio (zero baseline).

pub mod absolute;
mod assemble;
pub mod calibration;
pub mod counters;
pub mod explain;
pub mod history;
pub mod independent;
pub mod paired;
pub mod paired_run;
pub mod profile_diff;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::host::{FingerprintDiff, Incomparable};
use crate::model::metric::Metric;
use crate::stats::Summary;
use crate::stats::bootstrap::RatioInterval;

pub use absolute::{AbsoluteChange, absolute_verdict};
pub use assemble::{ComparisonContext, assemble, assemble_with, verdict};
pub use explain::ConfigExplanation;

pub use crate::model::paired_record::PairedEstimator;

/// When a change counts (`--alpha`, `--threshold`, `--gate`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictPolicy {
    /// Family-wise error rate across the gated pairs of one comparison.
    pub alpha: f64,
    /// Noise threshold, as a fraction (0.05 = 5%), of every metric without its own.
    pub threshold: f64,
    /// The gated metrics and their noise thresholds (fractions). Empty in files written
    /// before gating existed: then every metric is gated at `threshold`.
    #[serde(default)]
    pub gates: BTreeMap<Metric, f64>,
}

impl VerdictPolicy {
    /// Every metric gated at `threshold` (the behaviour before `--gate` existed).
    pub fn ungated(alpha: f64, threshold: f64) -> Self {
        VerdictPolicy {
            alpha,
            threshold,
            gates: BTreeMap::new(),
        }
    }

    /// Whether the metric's pairs decide the gate.
    pub fn is_gated(&self, metric: Metric) -> bool {
        self.gates.is_empty() || self.gates.contains_key(&metric)
    }

    /// The metric's noise threshold (a fraction).
    pub fn threshold_of(&self, metric: Metric) -> f64 {
        self.gates.get(&metric).copied().unwrap_or(self.threshold)
    }
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
    /// Base and head run interleaved in blocks (ABBA/BAAB): geometric mean of the per-block
    /// head/base ratios with a paired-t interval, paired-t p-values.
    Paired {
        /// Blocks run (each configuration once per side per block).
        blocks: u32,
        /// Blocks that had to run before verdicts were looked at (`--min-blocks`).
        min_blocks: u32,
        /// How the per-block log-ratios became an estimate (`--estimator`); files from
        /// before the choice used the mean.
        #[serde(default)]
        estimator: PairedEstimator,
    },
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
    /// For a metric near zero ([`Metric::near_zero`]): the change as a difference per call,
    /// which decides the verdict instead of the ratio (a ratio of two tiny counts says
    /// `+127% [-24%, +3311%]` about one extra switch in a hundred calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absolute: Option<AbsoluteChange>,
}

/// One (configuration, metric) pair going into [`assemble`].
#[derive(Debug, Clone, PartialEq)]
pub struct PairInput {
    pub id: String,
    pub metric: Metric,
    pub baseline: Summary,
    pub current: Summary,
    pub estimate: ChangeEstimate,
    /// Paired timing metrics: a fast and a slow mode in the samples, when there are two.
    pub modes: Option<ModeShares>,
}

/// Two modes in one pair's samples (both sides pooled, `stats::modes`), and how much of
/// each side's samples fell into the slow one: a change that moves samples from the fast
/// mode to the slow one is a regression a median can hide.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModeShares {
    /// The median of each mode, per call, in the metric's unit.
    pub fast: f64,
    pub slow: f64,
    /// The share (0..=1) of the baseline's and the current samples in the slow mode.
    pub baseline_slow_share: f64,
    pub current_slow_share: f64,
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
    /// Holm-adjusted within the pair's family (gated pairs, or reported-only pairs).
    pub p_adjusted: f64,
    pub verdict: Verdict,
    /// Whether the pair decides the gate (false: reported only).
    #[serde(default = "yes")]
    pub gated: bool,
    /// The noise threshold the verdict used (a fraction).
    #[serde(default)]
    pub threshold: f64,
    /// Paired method: after how many blocks the verdict was reached and then kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_after_blocks: Option<u32>,
    /// Two modes in the samples, and each side's share of the slow one, when there are two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modes: Option<ModeShares>,
}

fn yes() -> bool {
    true
}

/// Metrics the policy gates that one comparison only reports, and why (e.g. times against a
/// baseline from another boot: `HostFingerprint::timings_comparable`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotGated {
    pub metrics: Vec<Metric>,
    #[serde(flatten)]
    pub why: Incomparable,
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
    /// Gated metrics this comparison only reports, with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_gated: Vec<NotGated>,
    /// What changed and where, per configuration (`explain`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explanation: Vec<ConfigExplanation>,
}

/// Counts of verdicts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub regressed: usize,
    pub improved: usize,
    pub unchanged: usize,
    pub inconclusive: usize,
}

impl Tally {
    fn of<'a>(pairs: impl IntoIterator<Item = &'a PairComparison>) -> Self {
        let mut t = Tally::default();
        for pair in pairs {
            match pair.verdict {
                Verdict::Regressed => t.regressed += 1,
                Verdict::Improved => t.improved += 1,
                Verdict::Unchanged => t.unchanged += 1,
                Verdict::Inconclusive => t.inconclusive += 1,
            }
        }
        t
    }

    pub fn total(&self) -> usize {
        self.regressed + self.improved + self.unchanged + self.inconclusive
    }
}

impl Comparison {
    /// Verdicts of every pair, gated or not.
    pub fn tally(&self) -> Tally {
        Tally::of(&self.pairs)
    }

    /// Verdicts of the gated pairs: what the gate decides on.
    pub fn gate_tally(&self) -> Tally {
        Tally::of(self.gated())
    }

    /// Verdicts of the reported-only pairs.
    pub fn reported_tally(&self) -> Tally {
        Tally::of(self.pairs.iter().filter(|p| !p.gated))
    }

    /// The gated pairs.
    pub fn gated(&self) -> impl Iterator<Item = &PairComparison> {
        self.pairs.iter().filter(|p| p.gated)
    }

    /// A confirmed regression of a gated pair: what fails the gate.
    pub fn has_regression(&self) -> bool {
        self.gated().any(|p| p.verdict == Verdict::Regressed)
    }

    /// Whether the metric's pairs decide this comparison's gate: gated by the policy and
    /// not taken out of the gate ([`NotGated`]).
    pub fn is_gated(&self, metric: Metric) -> bool {
        self.policy.is_gated(metric) && self.not_gated_because(metric).is_none()
    }

    /// Why a metric the policy gates is only reported here, if it is.
    pub fn not_gated_because(&self, metric: Metric) -> Option<&Incomparable> {
        self.not_gated
            .iter()
            .find(|n| n.metrics.contains(&metric))
            .map(|n| &n.why)
    }

    pub fn pair(&self, id: &str, metric: Metric) -> Option<&PairComparison> {
        self.pairs.iter().find(|p| p.id == id && p.metric == metric)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ci(low: f64, high: f64) -> Option<RatioInterval> {
        Some(RatioInterval { low, high })
    }

    fn verdict(ratio_ci: Option<RatioInterval>, p_adjusted: f64, _: &()) -> Verdict {
        super::verdict(ratio_ci, p_adjusted, 0.05, 0.05)
    }
    const POLICY: () = ();

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
