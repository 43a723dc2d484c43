//! How well the paired gate works on this host, as data: the records `cargo xtask
//! calibrate` writes (its `--json` and the input of `report::calibration`), and the pure
//! analysis from judged trials to false-alarm rates, detection rates and the minimum
//! detectable effect (MDE). The command that runs the trials is `commands::calibrate`. The
//! calibration of the instruction counts (`calibrate --counters`) has its records and
//! analysis in the children [`counter_trials`] and [`counter_findings`].
//!
//! # How a trial is judged
//!
//! 1. Each trial is judged by two rules on the same data:
//!    - *significant*: the gated pair's Holm-adjusted p <= alpha and its interval excludes 1
//!      (the gate's rule with every threshold 0): what the test itself can detect;
//!    - *gate*: the gate's rule with its thresholds (`--threshold`, `--gate`).
//!
//!    An A/A trial is a false alarm when any gated pair "regressed"; an injected trial
//!    detects the effect for a configuration when its Wall pair "regressed".
//! 2. MDE of Wall per call, per configuration: `sd` = pooled standard deviation of the
//!    block log-ratios over the A/A trials (root mean of the per-trial variances; with
//!    `--estimator hodges-lehmann`, the robust spread that governs its interval, see
//!    `hodges_lehmann_sd`), then
//!    `MDE = (t_{1-a'/2, n-1} + t_{power, n-1}) * sd / sqrt(n)` (`stats::paired_t`), with
//!    `a' = alpha / m`: Holm's first step over the `m` gated pairs, the strictest level a
//!    single real change has to pass when every other pair is unchanged. Reported for the
//!    calibrated family and for the full suite's family (every configuration of `--list`),
//!    at 10, 20 and 40 blocks, as a slowdown in percent (`exp(MDE) - 1`).
//!
//! # The threshold interplay
//!
//! The gate confirms a regression only when the whole interval lies above `1 + threshold`,
//! so with the default Wall threshold of 5% an injected 5% slowdown is, by design, almost
//! never "regressed" under the gate rule: its interval straddles 1.05. The slowdown the
//! gate confirms with the stated power is about `threshold + MDE`. That is why the
//! detection of the test itself is calibrated with the *significant* rule, and the gate
//! rule's rates are shown beside it: set the gate's Wall threshold to at most `E - MDE` to
//! confirm an `E`% slowdown, and never below the MDE itself (a threshold the design cannot
//! resolve only turns changes into "inconclusive"). The significant rule's false alarm
//! rate bounds the gate's: the gate's rule is stricter on the same data.

pub mod counter_findings;
pub mod counter_mde;
pub mod counter_trials;
pub mod spread;

use serde::Serialize;

use crate::comparison::paired::{self, PairedContext};
use crate::comparison::{Comparison, PairedEstimator, Verdict, VerdictPolicy};
use crate::model::git::GitRevision;
use crate::model::host::HostFingerprint;
use crate::model::metric::Metric;
use crate::model::paired_record::PairedSample;
use crate::stats::paired_t::minimum_detectable_effect;
use crate::stats::{Samples, paired_t};

pub const CALIBRATION_KIND: &str = "handoff-bench-calibration";
pub const CALIBRATION_SCHEMA: u64 = 1;

/// Block counts the MDE is reported at besides the calibrated one.
pub const MDE_BLOCKS: [usize; 3] = [10, 20, 40];

/// What one configuration's pilot found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pilot {
    pub id: String,
    pub wall_ns_per_call: f64,
    /// Per `--effect`, the injected nanoseconds per call.
    pub inject_ns: Vec<u64>,
}

/// One configuration in one trial.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrialConfig {
    pub id: String,
    /// Wall per call, head (B) / base (A).
    pub ratio: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub p_adjusted: f64,
    /// The gate's verdict of the Wall pair.
    pub gate_verdict: Verdict,
    /// Wall "regressed" under the significant rule.
    pub significant: bool,
    /// Standard deviation of the Wall block log-ratios (`None` below two blocks).
    pub sd_log_ratio: Option<f64>,
    /// The Wall block log-ratios themselves, in block order: what any other estimator can
    /// be evaluated on afterwards.
    pub log_ratios: Vec<f64>,
}

/// One trial.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trial {
    pub round: u32,
    /// `None` for A/A.
    pub effect_pct: Option<f64>,
    pub configs: Vec<TrialConfig>,
    /// Any gated pair regressed under the gate rule / the significant rule.
    pub any_gate_regression: bool,
    pub any_significant_regression: bool,
    pub failed_runs: usize,
}

/// A count out of a number of trials, with its Clopper-Pearson 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    pub count: u32,
    pub of: u32,
    pub low: f64,
    pub high: f64,
}

impl Rate {
    pub fn new(count: u32, of: u32) -> Self {
        use statrs::distribution::{Beta, ContinuousCDF};
        let (k, n) = (f64::from(count), f64::from(of));
        let low = if count == 0 || of == 0 {
            0.0
        } else {
            Beta::new(k, n - k + 1.0).map_or(0.0, |b| b.inverse_cdf(0.025))
        };
        let high = if count >= of {
            1.0
        } else {
            Beta::new(k + 1.0, n - k).map_or(1.0, |b| b.inverse_cdf(0.975))
        };
        Rate {
            count,
            of,
            low,
            high,
        }
    }

    pub fn fraction(&self) -> f64 {
        if self.of == 0 {
            0.0
        } else {
            f64::from(self.count) / f64::from(self.of)
        }
    }
}

/// Detection of one effect in one configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    pub effect_pct: f64,
    pub id: String,
    pub inject_ns: u64,
    /// Median of the observed Wall ratios over the trials.
    pub observed_ratio: Option<f64>,
    pub significant: Rate,
    pub gate: Rate,
}

/// The MDE of Wall per call for one configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mde {
    pub id: String,
    /// Pooled sd of the A/A block log-ratios.
    pub sd_log_ratio: f64,
    /// At the calibrated blocks and family: a slowdown in percent.
    pub pct: f64,
    /// `(blocks, pct)` for the calibrated family.
    pub at_blocks: Vec<(usize, f64)>,
    /// `(blocks, pct)` for the full suite's family of gated pairs.
    pub full_suite_at_blocks: Vec<(usize, f64)>,
    /// What the gate confirms with the stated power: Wall threshold + MDE, in percent.
    pub gate_confirms_pct: f64,
}

/// Sizes of the Holm families the MDE assumes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Family {
    pub gated_pairs: usize,
    pub full_suite_gated_pairs: usize,
    pub alpha: f64,
    pub power: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationSettings {
    pub only: Vec<String>,
    pub ids: Vec<String>,
    pub trials: u32,
    pub blocks: u32,
    pub count: u64,
    pub work: String,
    pub in_flight: u64,
    /// Threads pinned by role (`--pin`, unless `--no-pin`).
    pub pin: bool,
    /// The sampling design (`--sampling`): `processes`, or `lockstep (S slices x N calls)`.
    pub sampling: String,
    /// `--warm-up` in milliseconds, when given (the binary's default is 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warm_up_ms: Option<u64>,
    /// The paired estimator (`--estimator`).
    pub estimator: crate::comparison::PairedEstimator,
    pub effects_pct: Vec<f64>,
    pub policy: VerdictPolicy,
}

/// The whole calibration; what `--json` writes and the terminal report renders.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    pub kind: String,
    pub schema: u64,
    pub created: String,
    pub host: HostFingerprint,
    pub git: GitRevision,
    pub settings: CalibrationSettings,
    pub pilot: Vec<Pilot>,
    /// A/A trials with any gated pair regressed, per rule.
    pub false_alarms_significant: Rate,
    pub false_alarms_gate: Rate,
    pub detection: Vec<Detection>,
    pub family: Family,
    pub mde: Vec<Mde>,
    /// Wall-clock seconds the trials took.
    pub seconds: f64,
    pub trials: Vec<Trial>,
}

/// The significant rule: the gate's policy with every threshold 0.
pub fn significance_policy(policy: &VerdictPolicy) -> VerdictPolicy {
    let mut p = policy.clone();
    p.threshold = 0.0;
    if p.gates.is_empty() {
        p.gates = Metric::iter().map(|m| (m, 0.0)).collect();
    } else {
        p.gates.values_mut().for_each(|t| *t = 0.0);
    }
    p
}

/// One trial's samples compared by both rules.
#[derive(Debug)]
pub struct Judged {
    /// By the gate's rule (its thresholds).
    pub gate: Comparison,
    /// By the significant rule ([`significance_policy`]).
    pub significance: Comparison,
}

/// Judges one trial's samples by both rules.
pub fn judge(
    samples: &[PairedSample],
    gate: &PairedContext,
    significance: &PairedContext,
) -> Judged {
    let blocks = paired::blocks_in(samples);
    Judged {
        gate: paired::compare_first(samples, blocks, gate),
        significance: paired::compare_first(samples, blocks, significance),
    }
}

/// The per-configuration record of a judged trial.
pub fn trial_configs(
    samples: &[PairedSample],
    judged: &Judged,
    ids: &[String],
) -> Vec<TrialConfig> {
    ids.iter()
        .map(|id| {
            let g = judged.gate.pair(id, Metric::Wall);
            let s = judged.significance.pair(id, Metric::Wall);
            let d: Vec<f64> = paired::block_pairs(samples, id)
                .iter()
                .map(|p| paired::log_ratio(Metric::Wall, p))
                .collect();
            TrialConfig {
                id: id.clone(),
                ratio: g.and_then(|p| p.estimate.ratio),
                ci_low: g.and_then(|p| p.estimate.ratio_ci.map(|c| c.low)),
                ci_high: g.and_then(|p| p.estimate.ratio_ci.map(|c| c.high)),
                p_adjusted: g.map_or(1.0, |p| p.p_adjusted),
                gate_verdict: g.map_or(Verdict::Inconclusive, |p| p.verdict),
                significant: s.is_some_and(|p| p.verdict == Verdict::Regressed),
                sd_log_ratio: paired_t::paired_t(&d, 0.95).map(|e| e.sd),
                log_ratios: d,
            }
        })
        .collect()
}

/// What [`summarise`] draws from the trials.
#[derive(Debug, Clone, PartialEq)]
pub struct Findings {
    /// A/A trials with any gated pair regressed, by the significant rule and by the gate's.
    pub false_alarms_significant: Rate,
    pub false_alarms_gate: Rate,
    /// Per effect and configuration.
    pub detection: Vec<Detection>,
    /// Per configuration with A/A data.
    pub mde: Vec<Mde>,
}

/// Rates, detections and MDEs from the trials (pure; see the module docs).
pub fn summarise(
    trials: &[Trial],
    pilot: &[Pilot],
    effects: &[f64],
    blocks: usize,
    family: Family,
    wall_threshold: f64,
    estimator: PairedEstimator,
) -> Findings {
    let aa: Vec<&Trial> = trials.iter().filter(|t| t.effect_pct.is_none()).collect();
    let n_aa = aa.len() as u32;
    let false_sig = Rate::new(
        aa.iter().filter(|t| t.any_significant_regression).count() as u32,
        n_aa,
    );
    let false_gate = Rate::new(
        aa.iter().filter(|t| t.any_gate_regression).count() as u32,
        n_aa,
    );
    let mut detection = Vec::new();
    for (e, &effect) in effects.iter().enumerate() {
        let of_effect: Vec<&Trial> = trials
            .iter()
            .filter(|t| t.effect_pct == Some(effect))
            .collect();
        for p in pilot {
            let records: Vec<&TrialConfig> = of_effect
                .iter()
                .filter_map(|t| t.configs.iter().find(|c| c.id == p.id))
                .collect();
            let n = records.len() as u32;
            let ratios: Vec<f64> = records.iter().filter_map(|r| r.ratio).collect();
            detection.push(Detection {
                effect_pct: effect,
                id: p.id.clone(),
                inject_ns: p.inject_ns.get(e).copied().unwrap_or(0),
                observed_ratio: Samples::new(ratios).ok().map(|s| s.median()),
                significant: Rate::new(records.iter().filter(|r| r.significant).count() as u32, n),
                gate: Rate::new(
                    records
                        .iter()
                        .filter(|r| r.gate_verdict == Verdict::Regressed)
                        .count() as u32,
                    n,
                ),
            });
        }
    }
    let level = |pairs: usize| family.alpha / pairs.max(1) as f64;
    let pct = |log: f64| (log.exp() - 1.0) * 100.0;
    let mde = pilot
        .iter()
        .filter_map(|p| {
            let configs: Vec<&TrialConfig> = aa
                .iter()
                .filter_map(|t| t.configs.iter().find(|c| c.id == p.id))
                .collect();
            let sd = match estimator {
                PairedEstimator::Mean => {
                    let sds: Vec<f64> = configs.iter().filter_map(|c| c.sd_log_ratio).collect();
                    spread::pooled_sd(&sds)?
                }
                PairedEstimator::HodgesLehmann => {
                    let trials: Vec<&[f64]> =
                        configs.iter().map(|c| c.log_ratios.as_slice()).collect();
                    spread::hodges_lehmann_sd(&trials)?
                }
            };
            let at = |n: usize, pairs: usize| {
                minimum_detectable_effect(sd, n, level(pairs), family.power).map_or(f64::NAN, pct)
            };
            let here = at(blocks, family.gated_pairs);
            Some(Mde {
                id: p.id.clone(),
                sd_log_ratio: sd,
                pct: here,
                at_blocks: MDE_BLOCKS
                    .iter()
                    .map(|&n| (n, at(n, family.gated_pairs)))
                    .collect(),
                full_suite_at_blocks: MDE_BLOCKS
                    .iter()
                    .map(|&n| (n, at(n, family.full_suite_gated_pairs)))
                    .collect(),
                gate_confirms_pct: wall_threshold * 100.0 + here,
            })
        })
        .collect();
    Findings {
        false_alarms_significant: false_sig,
        false_alarms_gate: false_gate,
        detection,
        mde,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn config(
        id: &str,
        ratio: f64,
        significant: bool,
        gate: Verdict,
        sd: f64,
    ) -> TrialConfig {
        TrialConfig {
            id: id.to_owned(),
            ratio: Some(ratio),
            ci_low: Some(ratio * 0.95),
            ci_high: Some(ratio * 1.05),
            p_adjusted: if significant { 0.01 } else { 0.5 },
            gate_verdict: gate,
            significant,
            sd_log_ratio: Some(sd),
            log_ratios: vec![ratio.ln(); 4],
        }
    }

    fn trial(round: u32, effect: Option<f64>, configs: Vec<TrialConfig>) -> Trial {
        Trial {
            round,
            effect_pct: effect,
            any_gate_regression: configs.iter().any(|c| c.gate_verdict == Verdict::Regressed),
            any_significant_regression: configs.iter().any(|c| c.significant),
            configs,
            failed_runs: 0,
        }
    }

    /// Four rounds of A/A and +5% over configurations `a` (sd 0.1) and `b` (sd 0.02).
    pub(crate) fn fixture() -> Calibration {
        use Verdict::{Inconclusive as I, Regressed as R, Unchanged as U};
        let mut trials = Vec::new();
        for round in 0..4 {
            let false_alarm = round == 2;
            trials.push(trial(
                round,
                None,
                vec![
                    config("a", 1.01, false_alarm, I, 0.1),
                    config("b", 0.99, false, U, 0.02),
                ],
            ));
            trials.push(trial(
                round,
                Some(5.0),
                vec![
                    config("a", 1.04, round == 0, I, 0.1),
                    config("b", 1.05, true, if round < 1 { R } else { I }, 0.02),
                ],
            ));
        }
        let pilot = vec![
            Pilot {
                id: "a".to_owned(),
                wall_ns_per_call: 14_000.0,
                inject_ns: vec![700],
            },
            Pilot {
                id: "b".to_owned(),
                wall_ns_per_call: 200.0,
                inject_ns: vec![10],
            },
        ];
        let family = Family {
            gated_pairs: 2,
            full_suite_gated_pairs: 102,
            alpha: 0.05,
            power: 0.8,
        };
        let findings = summarise(
            &trials,
            &pilot,
            &[5.0],
            10,
            family,
            0.05,
            PairedEstimator::Mean,
        );
        let sample = crate::model::results::tests::result_file(&[]);
        Calibration {
            kind: CALIBRATION_KIND.to_owned(),
            schema: CALIBRATION_SCHEMA,
            created: sample.created,
            host: sample.host,
            git: sample.git,
            settings: CalibrationSettings {
                only: vec!["*".to_owned()],
                ids: vec!["a".to_owned(), "b".to_owned()],
                trials: 4,
                blocks: 10,
                count: 5000,
                work: "zero".to_owned(),
                in_flight: 1,
                pin: true,
                sampling: "processes".to_owned(),
                warm_up_ms: None,
                estimator: crate::comparison::PairedEstimator::Mean,
                effects_pct: vec![5.0],
                policy: crate::comparison::paired::tests::policy(),
            },
            pilot,
            false_alarms_significant: findings.false_alarms_significant,
            false_alarms_gate: findings.false_alarms_gate,
            detection: findings.detection,
            family,
            mde: findings.mde,
            seconds: 61.0,
            trials,
        }
    }

    #[test]
    fn summarise_counts_rates_and_the_mde() {
        let c = fixture();
        assert_eq!(
            (
                c.false_alarms_significant.count,
                c.false_alarms_significant.of
            ),
            (1, 4)
        );
        assert_eq!(c.false_alarms_gate.count, 0);
        let b = c.detection.iter().find(|d| d.id == "b").unwrap();
        assert_eq!((b.significant.count, b.gate.count, b.inject_ns), (4, 1, 10));
        assert_eq!(b.observed_ratio, Some(1.05));
        // a: pooled sd 0.1, n = 10, alpha' = 0.05 / 2: t(0.9875, 9) = 2.6850,
        // t(0.8, 9) = 0.8834 -> 3.5684 * 0.1 / sqrt(10) = 0.112843 -> +11.94%.
        let a = &c.mde[0];
        assert!((a.sd_log_ratio - 0.1).abs() < 1e-12);
        assert!((a.pct - 11.94).abs() < 0.02, "{}", a.pct);
        assert!((a.gate_confirms_pct - (5.0 + a.pct)).abs() < 1e-9);
        // Larger families need a larger effect; more blocks a smaller one.
        assert!(a.full_suite_at_blocks[0].1 > a.at_blocks[0].1);
        assert!(a.at_blocks[2].1 < a.at_blocks[0].1);
    }

    #[test]
    fn clopper_pearson_bounds() {
        // R: binom.test(1, 20)$conf.int = 0.001264 0.248733
        let r = Rate::new(1, 20);
        assert!((r.low - 0.001264).abs() < 1e-5, "{r:?}");
        assert!((r.high - 0.248733).abs() < 1e-5, "{r:?}");
        let zero = Rate::new(0, 20);
        assert_eq!(zero.low, 0.0);
        // 1 - 0.025^(1/20) = 0.168433
        assert!((zero.high - 0.168433).abs() < 1e-5, "{zero:?}");
        assert_eq!(Rate::new(20, 20).high, 1.0);
    }

    #[test]
    fn the_significance_policy_zeroes_every_threshold() {
        let p = crate::comparison::paired::tests::policy();
        let s = significance_policy(&p);
        assert!(s.gates.values().all(|t| *t == 0.0));
        assert_eq!(s.gates.len(), p.gates.len());
        assert_eq!(s.alpha, p.alpha);
    }
}
