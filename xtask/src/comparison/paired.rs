//! The paired method: base and head run interleaved in blocks; per block, configuration and
//! metric one log-ratio `ln(head / base)`; an estimator over those (Hodges-Lehmann with the
//! signed-rank test by default, or the mean with the paired t test).
//!
//! # Why these estimators
//!
//! - The unit of analysis is the block: the processes of one block are the independent
//!   draws (a process settles into a fast or a slow mode and stays there), so slices of one
//!   process are never counted as independent samples.
//! - Ratios are what we report; their logs are symmetric (a 2x slowdown and a 2x speed-up
//!   are +-ln 2).
//! - Hodges-Lehmann (`stats::signed_rank`, the default) disregards the few blocks where one
//!   side's process fell into a slow mode, which dominate a mean and its sd on this host
//!   (`docs/book/src/notes/2026-12-02-sampling-designs.md`); its interval is distribution-free. Its cost: the exact
//!   signed-rank p-value cannot go below `2 / 2^n`, and Holm's correction over ~100 gated
//!   pairs needs ~5e-4, so it needs 12 or more blocks (the gate runs 40; the report warns
//!   when there are too few).
//! - The mean (`--estimator mean`, `stats::paired_t`): `exp(mean log-ratio)` is the
//!   geometric mean of the per-block ratios, the paired t gives its interval and has no
//!   p-value floor, so it can decide from few blocks; one wild block moves it.
//!
//! `calibrate` measures the false alarm rate of exactly the rule in use on the host, and the
//! noise threshold of the verdict stops a significant but tiny shift from counting.
//!
//! # How it works
//!
//! 1. Samples are grouped by configuration and block, and within a block by slice index
//!    (lock-step sampling; a whole-process sample has none); a block counts for a
//!    configuration when both sides have a sample with the same slice index (a failed run
//!    drops that block's pair, never shifts another run into it).
//! 2. Per metric and block, `d = median over its slice pairs of ln((head + r) / (base + r))`
//!    with the metric's resolution `r` (`Metric::resolution`); then the estimator over the
//!    blocks' `d`: ratio, interval and two-sided p, all on the ratio scale by `exp`.
//! 3. [`assemble`](super::assemble) applies Holm and the verdicts; two modes in a pair's
//!    pooled samples are attached for the report (`stats::modes`).
//! 4. "Settled after": the comparison is recomputed on the first `k` blocks for every `k`
//!    from `min_blocks` on; a pair settled after `k` blocks when its verdict at `k` and at
//!    every later `k` equals its final verdict.

use std::collections::BTreeMap;

use crate::comparison::counters;
use crate::comparison::{
    AbsoluteChange, ChangeEstimate, Comparison, ComparisonContext, Method, ModeShares, PairInput,
    PairedEstimator, VerdictPolicy, assemble_with,
};
use crate::model::host::FingerprintDiff;
use crate::model::measurement::Measurement;
use crate::model::metric::Metric;
use crate::model::paired_record::{PairedSample, Side};
use crate::model::results::ConfigurationResult;
use crate::stats::bootstrap::RatioInterval;
use crate::stats::modes::{slow_share, two_modes};
use crate::stats::paired_t::paired_t;
use crate::stats::signed_rank::hodges_lehmann;
use crate::stats::{CONFIDENCE, Samples, Summary};

/// What the paired comparison needs besides the samples.
#[derive(Debug, Clone)]
pub struct PairedContext {
    /// The configurations both sides ran, in report order.
    pub ids: Vec<String>,
    pub baseline_label: String,
    pub policy: VerdictPolicy,
    pub fingerprint: FingerprintDiff,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Verdicts are looked at from this many blocks on.
    pub min_blocks: u32,
    /// How the per-block log-ratios become an estimate.
    pub estimator: PairedEstimator,
    /// The counting runs of both sides under callgrind (not in blocks: counts hardly vary,
    /// so each side's runs are compared as independent draws, [`counters`]); empty when
    /// instructions were not counted.
    pub counters: Vec<PairedSample>,
}

/// One block of one configuration with both sides: one sample a side (a whole process), or
/// in lock-step sampling the slices of both serving processes, matched by slice index.
#[derive(Debug, Clone)]
pub struct BlockPair<'a> {
    pub block: u32,
    /// `(base, head)` per slice index present on both sides, in slice order.
    pub slices: Vec<(&'a Measurement, &'a Measurement)>,
}

/// The log-ratio of one metric in one block: `ln((head + r) / (base + r))` of each matched
/// slice pair (slice `k` of both sides ran back to back), and the median of those, so one
/// slice that a hiccup of the host hit does not move the block.
pub fn log_ratio(metric: Metric, pair: &BlockPair<'_>) -> f64 {
    let r = metric.resolution();
    let ratios: Vec<f64> = pair
        .slices
        .iter()
        .map(|(base, head)| ((metric.per_call(head) + r) / (metric.per_call(base) + r)).ln())
        .collect();
    Samples::new(ratios).map_or(f64::NAN, |s| s.median())
}

/// The difference of one metric in one block, per call: the median over the block's
/// matched slice pairs of `head - base` (for metrics compared near zero).
pub fn difference(metric: Metric, pair: &BlockPair<'_>) -> f64 {
    let differences: Vec<f64> = pair
        .slices
        .iter()
        .map(|(base, head)| metric.per_call(head) - metric.per_call(base))
        .collect();
    Samples::new(differences).map_or(f64::NAN, |s| s.median())
}

/// The estimator's centre, interval and p-value over per-block values.
fn locate(values: &[f64], estimator: PairedEstimator) -> Option<(f64, f64, f64, f64)> {
    match estimator {
        PairedEstimator::Mean => {
            paired_t(values, CONFIDENCE).map(|e| (e.mean, e.ci_low, e.ci_high, e.p_value))
        }
        PairedEstimator::HodgesLehmann => {
            hodges_lehmann(values, CONFIDENCE).map(|e| (e.estimate, e.ci_low, e.ci_high, e.p_value))
        }
    }
}

/// The ratio estimate, plus the difference per call that decides the verdict of a metric
/// near zero on the base side ([`Metric::near_zero`]; its p-value is then the
/// differences').
fn estimate_metric(
    metric: Metric,
    pairs: &[BlockPair<'_>],
    baseline: &Summary,
    estimator: PairedEstimator,
) -> ChangeEstimate {
    let log_ratios: Vec<f64> = pairs.iter().map(|p| log_ratio(metric, p)).collect();
    let mut estimate = estimate(&log_ratios, estimator);
    if metric
        .near_zero()
        .is_some_and(|level| baseline.median < level)
    {
        let differences: Vec<f64> = pairs.iter().map(|p| difference(metric, p)).collect();
        if let Some((centre, low, high, p_value)) = locate(&differences, estimator) {
            estimate.absolute = Some(AbsoluteChange {
                difference: centre,
                low,
                high,
            });
            estimate.p_value = p_value;
        }
    }
    estimate
}

/// The change estimate from a set of log-ratios (see the module docs).
pub fn estimate(log_ratios: &[f64], estimator: PairedEstimator) -> ChangeEstimate {
    match locate(log_ratios, estimator) {
        Some((centre, low, high, p_value)) => ChangeEstimate {
            ratio: Some(centre.exp()),
            ratio_ci: Some(RatioInterval {
                low: low.exp(),
                high: high.exp(),
            }),
            p_value,
            absolute: None,
        },
        None => ChangeEstimate {
            ratio: log_ratios.first().map(|d| d.exp()),
            ratio_ci: None,
            p_value: 1.0,
            absolute: None,
        },
    }
}

/// The complete block pairs of one configuration among `samples`, by block: blocks where
/// both sides have at least one sample with the same slice index (a failed run drops its
/// block's pair, never shifts another run into it).
pub fn block_pairs<'a>(samples: &'a [PairedSample], id: &str) -> Vec<BlockPair<'a>> {
    type Sides<'a> = [Option<&'a Measurement>; 2];
    let mut by_block: BTreeMap<u32, BTreeMap<Option<u32>, Sides<'a>>> = BTreeMap::new();
    for s in samples.iter().filter(|s| s.measurement.id == id) {
        let slot = by_block
            .entry(s.block)
            .or_default()
            .entry(s.slice)
            .or_default();
        slot[usize::from(s.side == Side::Head)] = Some(&s.measurement);
    }
    by_block
        .into_iter()
        .filter_map(|(block, slices)| {
            let slices: Vec<_> = slices
                .into_values()
                .filter_map(|[base, head]| Some((base?, head?)))
                .collect();
            (!slices.is_empty()).then_some(BlockPair { block, slices })
        })
        .collect()
}

/// Blocks present among the samples (one more than the highest block index).
pub fn blocks_in(samples: &[PairedSample]) -> u32 {
    samples.iter().map(|s| s.block + 1).max().unwrap_or(0)
}

/// The paired comparison of all samples, with the blocks each verdict took.
pub fn compare(samples: &[PairedSample], context: &PairedContext) -> Comparison {
    let blocks = blocks_in(samples);
    let mut comparison = compare_first(samples, blocks, context);
    let first_look = context.min_blocks.clamp(1, blocks.max(1));
    let mut settled: Vec<u32> = vec![blocks; comparison.pairs.len()];
    // Walk back from the end while each pair keeps its final verdict.
    let mut still_same: Vec<bool> = vec![true; comparison.pairs.len()];
    for k in (first_look..blocks).rev() {
        let earlier = compare_first(samples, k, context);
        for (i, pair) in comparison.pairs.iter().enumerate() {
            if !still_same[i] {
                continue;
            }
            let same = earlier
                .pair(&pair.id, pair.metric)
                .is_some_and(|e| e.verdict == pair.verdict);
            if same {
                settled[i] = k;
            } else {
                still_same[i] = false;
            }
        }
        if still_same.iter().all(|s| !s) {
            break;
        }
    }
    // Counting runs are not blocks: a count's verdict does not settle after any.
    for (pair, k) in comparison.pairs.iter_mut().zip(settled) {
        pair.settled_after_blocks = (!pair.metric.is_counter()).then_some(k);
    }
    comparison
}

/// One pair per configuration and instruction metric from the counting runs, grouped by
/// configuration and side in one pass (this runs at every block count the comparison walks
/// back over: no rescan of every run per id).
fn counter_inputs(counters: &[PairedSample], ids: &[String]) -> Vec<PairInput> {
    let mut by_id: BTreeMap<&str, [Vec<Measurement>; 2]> = BTreeMap::new();
    for s in counters {
        let sides = by_id.entry(s.measurement.id.as_str()).or_default();
        sides[usize::from(s.side == Side::Head)].push(s.measurement.clone());
    }
    let mut inputs = Vec::new();
    for id in ids {
        let Some([base, head]) = by_id.get(id.as_str()) else {
            continue;
        };
        let (Some(base), Some(head)) = (counting_only(id, base), counting_only(id, head)) else {
            continue;
        };
        inputs.extend(counters::pairs(&base, &head));
    }
    inputs
}

/// A configuration result holding only counting runs (no timing runs), for [`counters::pairs`].
fn counting_only(id: &str, samples: &[Measurement]) -> Option<ConfigurationResult> {
    (!samples.is_empty()).then(|| ConfigurationResult {
        id: id.to_owned(),
        samples: Vec::new(),
        counter_samples: samples.to_vec(),
        summary: Default::default(),
        profile: None,
    })
}

/// The paired comparison of the first `blocks` blocks.
pub fn compare_first(samples: &[PairedSample], blocks: u32, context: &PairedContext) -> Comparison {
    let kept: Vec<PairedSample> = samples
        .iter()
        .filter(|s| s.block < blocks)
        .cloned()
        .collect();
    let mut inputs = Vec::new();
    for id in &context.ids {
        let pairs = block_pairs(&kept, id);
        if pairs.is_empty() {
            continue;
        }
        for metric in Metric::TIMING {
            let values = |side: Side| -> Vec<f64> {
                kept.iter()
                    .filter(|s| s.side == side && s.measurement.id == *id)
                    .map(|s| metric.per_call(&s.measurement))
                    .collect()
            };
            let (base_values, head_values) = (values(Side::Base), values(Side::Head));
            let modes = mode_shares(&base_values, &head_values);
            // Both sides have at least one sample (there is a pair), and per-call values
            // of validated measurements are finite.
            let (Ok(baseline), Ok(current)) = (
                Samples::new(base_values).map(|s| Summary::of(&s)),
                Samples::new(head_values).map(|s| Summary::of(&s)),
            ) else {
                continue;
            };
            inputs.push(PairInput {
                id: id.clone(),
                metric,
                estimate: estimate_metric(metric, &pairs, &baseline, context.estimator),
                baseline,
                current,
                modes,
            });
        }
    }
    inputs.extend(counter_inputs(&context.counters, &context.ids));
    let not_gated = counters::not_gated(&context.fingerprint, &context.policy, &inputs);
    assemble_with(
        ComparisonContext {
            method: Method::Paired {
                blocks,
                min_blocks: context.min_blocks,
                estimator: context.estimator,
            },
            baseline_label: context.baseline_label.clone(),
            policy: context.policy.clone(),
            fingerprint: context.fingerprint.clone(),
            added: context.added.clone(),
            removed: context.removed.clone(),
        },
        not_gated.into_iter().collect(),
        inputs,
    )
}

/// Fewer pooled samples than this are not searched for modes: on one log-normal mode the
/// rule of `stats::modes` finds two in about 5% of samples of 20 values, under 1% of 50
/// (measured in its tests), and a report of ~100 pairs would show false modes.
const MIN_SAMPLES_FOR_MODES: usize = 40;

/// A fast and a slow mode in the pooled samples of both sides (`stats::modes`), with each
/// side's share of the slow one; `None` when the samples have one mode, or too few.
fn mode_shares(base: &[f64], head: &[f64]) -> Option<ModeShares> {
    if base.len() + head.len() < MIN_SAMPLES_FOR_MODES {
        return None;
    }
    let pooled: Vec<f64> = base.iter().chain(head).copied().collect();
    let modes = two_modes(&pooled)?;
    Some(ModeShares {
        fast: modes.fast_median,
        slow: modes.slow_median,
        baseline_slow_share: slow_share(&modes, base),
        current_slow_share: slow_share(&modes, head),
    })
}

/// Gated pairs that are still inconclusive: what keeps `--max-time` adding blocks.
pub fn unresolved(comparison: &Comparison) -> usize {
    comparison.gate_tally().inconclusive
}

#[cfg(test)]
pub(crate) mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use statrs::distribution::{Binomial, DiscreteCDF, Normal};

    use super::*;
    use crate::comparison::Verdict;
    use crate::model::results::tests::measurement;

    pub(crate) fn policy() -> VerdictPolicy {
        VerdictPolicy {
            alpha: 0.05,
            threshold: 0.05,
            gates: [
                (Metric::Wall, 0.05),
                (Metric::CpuTotal, 0.05),
                (Metric::Vcsw, 0.02),
            ]
            .into(),
        }
    }

    pub(crate) fn context(ids: &[&str], min_blocks: u32) -> PairedContext {
        PairedContext {
            counters: Vec::new(),
            ids: ids.iter().map(|s| (*s).to_owned()).collect(),
            baseline_label: "base abc1234".to_owned(),
            policy: policy(),
            fingerprint: FingerprintDiff::default(),
            added: vec![],
            removed: vec![],
            min_blocks,
            estimator: PairedEstimator::Mean,
        }
    }

    /// Synthetic blocks: per block a shared level (drift), per run log-normal noise `sd`,
    /// head = base level x `ratio`.
    pub(crate) fn synthetic(
        ids: &[(&str, f64, f64)],
        blocks: u32,
        sd: f64,
        seed: u64,
    ) -> Vec<PairedSample> {
        use rand::distr::Distribution as _;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let noise = rand_distr_normal(sd);
        let drift = rand_distr_normal(0.2);
        let mut out = Vec::new();
        for block in 0..blocks {
            for (i, (id, base_ns, ratio)) in ids.iter().enumerate() {
                let level = base_ns * drift.sample(&mut rng).exp();
                for (position, side) in [Side::Base, Side::Head].into_iter().enumerate() {
                    let r = if side == Side::Head { *ratio } else { 1.0 };
                    let wall = level * r * noise.sample(&mut rng).exp();
                    out.push(PairedSample {
                        block,
                        side,
                        position: (2 * i + position) as u32,
                        slice: None,
                        measurement: measurement(id, wall),
                    });
                }
            }
        }
        out
    }

    fn rand_distr_normal(sd: f64) -> NormalSampler {
        NormalSampler((sd > 0.0).then(|| Normal::new(0.0, sd).unwrap()))
    }

    /// A normal deviate by inverse-CDF sampling (keeps the tests free of rand_distr); always
    /// 0 for a standard deviation of 0, still drawing so the stream stays aligned.
    pub(crate) struct NormalSampler(Option<Normal>);

    impl rand::distr::Distribution<f64> for NormalSampler {
        fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> f64 {
            use statrs::distribution::ContinuousCDF as _;
            let u: f64 = rng.random_range(1e-12..1.0 - 1e-12);
            self.0.as_ref().map_or(0.0, |n| n.inverse_cdf(u))
        }
    }

    #[test]
    fn a_known_ratio_is_recovered_within_its_interval() {
        let samples = synthetic(
            &[
                ("floor/park", 14_000.0, 1.3),
                ("smol/dedicated", 16_000.0, 1.0),
            ],
            12,
            0.05,
            7,
        );
        let cmp = compare(&samples, &context(&["floor/park", "smol/dedicated"], 12));
        let park = cmp.pair("floor/park", Metric::Wall).unwrap();
        let ci = park.estimate.ratio_ci.unwrap();
        assert!(ci.low < 1.3 && 1.3 < ci.high, "{ci:?}");
        assert_eq!(park.verdict, Verdict::Regressed);
        assert!(park.gated);
        // Context switches are the same in every run (the fixture's): unchanged, p = 1.
        let vcsw = cmp.pair("floor/park", Metric::Vcsw).unwrap();
        assert_eq!(
            (vcsw.verdict, vcsw.estimate.p_value),
            (Verdict::Unchanged, 1.0)
        );
        let same = cmp.pair("smol/dedicated", Metric::Wall).unwrap();
        let ci = same.estimate.ratio_ci.unwrap();
        assert!(ci.low < 1.0 && 1.0 < ci.high, "{ci:?}");
        assert_ne!(same.verdict, Verdict::Regressed);
        // CpuLoop is not gated: reported, never failing the gate.
        assert!(!cmp.pair("floor/park", Metric::CpuLoop).unwrap().gated);
        assert_eq!(cmp.gate_tally().regressed, 2);
        assert!(matches!(cmp.method, Method::Paired { blocks: 12, .. }));
    }

    #[test]
    fn the_block_drift_cancels_in_the_pairing() {
        // The drift between blocks (sd 0.2) is four times the run noise (0.05): an unpaired
        // analysis would see +-20% noise; the paired one resolves a 10% change.
        let samples = synthetic(&[("floor/park", 14_000.0, 1.10)], 20, 0.02, 11);
        let cmp = compare(&samples, &context(&["floor/park"], 20));
        let ci = cmp
            .pair("floor/park", Metric::Wall)
            .unwrap()
            .estimate
            .ratio_ci
            .unwrap();
        assert!(ci.high - ci.low < 0.05, "{ci:?}");
    }

    #[test]
    fn a_a_trials_flag_regressions_at_most_at_the_stated_rate() {
        // 400 seeded A/A trials of one configuration, 10 blocks, 5% run noise, judged on
        // significance alone (threshold 0, the calibration rule): a regression needs the
        // one-sided tail, alpha / 2 = 2.5%. Expected 10 of 400; the binomial(400, 0.025)
        // 99.9% upper bound is 22.
        let trials = 400;
        let mut flagged = 0;
        let mut rule = context(&["floor/park"], 10);
        rule.policy.threshold = 0.0;
        rule.policy.gates = [(Metric::Wall, 0.0)].into();
        for seed in 0..trials {
            let samples = synthetic(&[("floor/park", 14_000.0, 1.0)], 10, 0.05, 1000 + seed);
            let cmp = compare_first(&samples, 10, &rule);
            if cmp.has_regression() {
                flagged += 1;
            }
        }
        let bound = Binomial::new(0.025, trials).unwrap();
        let upper = (0..=trials).find(|&k| bound.cdf(k) >= 0.999).unwrap();
        assert!(flagged <= upper, "{flagged} of {trials} > {upper}");
        assert!(
            flagged > 0,
            "a rate of exactly 0 would mean the test is mis-sized"
        );
    }

    #[test]
    fn a_failed_run_drops_only_its_blocks_pair() {
        let mut samples = synthetic(&[("floor/park", 14_000.0, 1.0)], 5, 0.01, 3);
        samples.retain(|s| !(s.block == 2 && s.side == Side::Head));
        let pairs = block_pairs(&samples, "floor/park");
        assert_eq!(
            pairs.iter().map(|p| p.block).collect::<Vec<_>>(),
            [0, 1, 3, 4]
        );
    }

    #[test]
    fn settled_after_counts_the_blocks_a_verdict_took() {
        // 30% slower: resolved (regressed) as soon as verdicts are looked at.
        let samples = synthetic(&[("floor/park", 14_000.0, 1.3)], 8, 0.02, 5);
        let cmp = compare(&samples, &context(&["floor/park"], 3));
        let wall = cmp.pair("floor/park", Metric::Wall).unwrap();
        assert_eq!(wall.verdict, Verdict::Regressed);
        assert_eq!(wall.settled_after_blocks, Some(3));
        assert_eq!(unresolved(&cmp), 0);
    }

    #[test]
    fn zero_values_are_usable_thanks_to_the_resolution() {
        let b = measurement("floor/spin", 0.0);
        let h = measurement("floor/spin", 0.0);
        let pair = BlockPair {
            block: 0,
            slices: vec![(&b, &h)],
        };
        assert_eq!(log_ratio(Metric::Wall, &pair), 0.0);
    }

    /// The estimators on the same blocks: one block where a side fell into a slow mode
    /// (+70%) pulls the mean's ratio and widens its interval; Hodges-Lehmann stays near the
    /// other blocks' +5%.
    #[test]
    fn hodges_lehmann_resists_a_block_in_a_slow_mode_where_the_mean_does_not() {
        let mut d: Vec<f64> = (0..15)
            .map(|i| 1.05f64.ln() + (f64::from(i) - 7.0) * 0.002)
            .collect();
        d.push(1.7f64.ln());
        let mean = estimate(&d, PairedEstimator::Mean);
        let hl = estimate(&d, PairedEstimator::HodgesLehmann);
        let (mean_ratio, hl_ratio) = (mean.ratio.unwrap(), hl.ratio.unwrap());
        assert!(mean_ratio > 1.08, "{mean_ratio}");
        assert!((hl_ratio - 1.05).abs() < 0.005, "{hl_ratio}");
        let hl_ci = hl.ratio_ci.unwrap();
        assert!(hl_ci.low > 1.04 && hl_ci.high < 1.07, "{hl_ci:?}");
        assert!(hl.p_value < 0.001, "{}", hl.p_value);
    }

    /// A head that moves a row from its fast mode to its slow one: 20% of the base's blocks
    /// and 60% of the head's run 3x slower (30 blocks, wall per call 10 us and 30 us).
    pub(crate) fn fast_to_slow_mode() -> Vec<PairedSample> {
        let mut samples = Vec::new();
        for block in 0..30u32 {
            let wobble = 1.0 + 0.001 * f64::from(block % 7);
            for (side, slow) in [(Side::Base, block % 5 == 0), (Side::Head, block % 5 < 3)] {
                let wall = 10_000.0 * wobble * if slow { 3.0 } else { 1.0 };
                samples.push(PairedSample {
                    block,
                    side,
                    position: u32::from(side == Side::Head),
                    slice: None,
                    measurement: measurement("floor/park", wall),
                });
            }
        }
        samples
    }

    /// Both modes and each side's share of the slow one are attached to the pair.
    #[test]
    fn a_move_from_the_fast_mode_to_the_slow_one_is_reported_with_both_shares() {
        let samples = fast_to_slow_mode();
        let cmp = compare(&samples, &context(&["floor/park"], 2));
        let wall = cmp.pair("floor/park", Metric::Wall).unwrap();
        let modes = wall.modes.expect("two modes");
        assert!((modes.baseline_slow_share - 0.2).abs() < 1e-12, "{modes:?}");
        assert!((modes.current_slow_share - 0.6).abs() < 1e-12, "{modes:?}");
        assert!(modes.fast > 9_990.0 && modes.fast < 10_100.0, "{modes:?}");
        assert!(modes.slow > 29_990.0 && modes.slow < 30_300.0, "{modes:?}");
        // Context switches are the same in every sample: one mode.
        assert!(
            cmp.pair("floor/park", Metric::Vcsw)
                .unwrap()
                .modes
                .is_none()
        );
        // Fewer than 40 samples are not searched.
        let few: Vec<PairedSample> = samples.into_iter().filter(|s| s.block < 10).collect();
        let cmp = compare(&few, &context(&["floor/park"], 2));
        assert!(
            cmp.pair("floor/park", Metric::Wall)
                .unwrap()
                .modes
                .is_none()
        );
    }

    /// Lock-step blocks: slices are matched by index, an unmatched slice is dropped, and
    /// the block's log-ratio is the median of its slice pairs' (one wild slice moves it
    /// not at all).
    #[test]
    fn slices_pair_by_index_and_the_median_resists_one_wild_slice() {
        let sample = |block, side, slice: Option<u32>, wall: f64| PairedSample {
            block,
            side,
            position: 0,
            slice,
            measurement: measurement("floor/park", wall),
        };
        let mut samples = Vec::new();
        for (k, (base, head)) in [(100.0, 110.0), (100.0, 110.0), (100.0, 300.0)]
            .into_iter()
            .enumerate()
        {
            samples.push(sample(0, Side::Base, Some(k as u32), base));
            samples.push(sample(0, Side::Head, Some(k as u32), head));
        }
        // Block 0 also has a base slice 3 whose head never ran (a failure).
        samples.push(sample(0, Side::Base, Some(3), 1.0));
        // Block 1 has only a base sample: no pair.
        samples.push(sample(1, Side::Base, Some(0), 100.0));
        let pairs = block_pairs(&samples, "floor/park");
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].slices.len(), 3);
        let d = log_ratio(Metric::Wall, &pairs[0]);
        assert!((d - 1.1f64.ln()).abs() < 1e-3, "{d}");
    }
}

#[cfg(test)]
mod near_zero_tests {
    use super::tests::{context, synthetic};
    use super::*;
    use crate::comparison::Verdict;

    /// `synthetic` blocks of one spinning row whose voluntary switches per call are
    /// `base_vcsw` and `head_vcsw` (plus a wobble of one switch in 10,000 calls per block).
    fn spin_row(base_vcsw: f64, head_vcsw: f64) -> Comparison {
        let mut samples = synthetic(&[("smol/dedicated", 800.0, 1.0)], 12, 0.02, 3);
        for sample in &mut samples {
            let per_call = if sample.side == Side::Head {
                head_vcsw
            } else {
                base_vcsw
            };
            let count = sample.measurement.count as f64;
            sample.measurement.vcsw_loop = (per_call * count) as u64 + u64::from(sample.block % 2);
            sample.measurement.vcsw_worker = 0;
        }
        compare(&samples, &context(&["smol/dedicated"], 12))
    }

    #[test]
    fn a_few_more_switches_near_zero_are_a_difference_per_call_not_a_huge_ratio() {
        // 0.010 -> 0.015 switches per call: +50% as a ratio, +0.005 per call.
        let cmp = spin_row(0.010, 0.015);
        let vcsw = cmp.pair("smol/dedicated", Metric::Vcsw).unwrap();
        let abs = vcsw.estimate.absolute.expect("compared per call near zero");
        assert!((abs.difference - 0.005).abs() < 0.001, "{abs:?}");
        assert!(
            abs.low <= abs.difference && abs.difference <= abs.high,
            "{abs:?}"
        );
        assert_eq!(vcsw.verdict, Verdict::Unchanged, "within ±0.02 per call");
        // The ratio is still computed and shown elsewhere, but does not decide.
        assert!(vcsw.estimate.ratio.is_some());
        // Wall time is not near zero: a ratio as before.
        assert!(
            cmp.pair("smol/dedicated", Metric::Wall)
                .unwrap()
                .estimate
                .absolute
                .is_none()
        );
    }

    #[test]
    fn a_spinning_row_that_starts_blocking_regresses_per_call() {
        // 0.01 -> 0.30 switches per call: the base is near zero, the change is not.
        let cmp = spin_row(0.01, 0.30);
        let vcsw = cmp.pair("smol/dedicated", Metric::Vcsw).unwrap();
        let abs = vcsw.estimate.absolute.expect("the base is near zero");
        assert!((abs.difference - 0.29).abs() < 0.01, "{abs:?}");
        assert_eq!(vcsw.verdict, Verdict::Regressed);
        // A blocking row (2 switches per call) keeps its ratio.
        let cmp = spin_row(2.0, 2.2);
        let vcsw = cmp.pair("smol/dedicated", Metric::Vcsw).unwrap();
        assert!(vcsw.estimate.absolute.is_none());
        assert_eq!(vcsw.verdict, Verdict::Regressed);
    }
}
