//! How well the instruction-count gate works on this host: the pure analysis from judged
//! counting trials (`counter_trials`) to false alarms, detections, the minimum detectable
//! effect (MDE) and reproducibility per configuration and counter metric, and the record
//! `cargo xtask calibrate --counters` writes (its `--json`, the input of
//! `report::calibration::counters`).
//!
//! # False alarms and detections
//!
//! Per configuration and metric: an A/A trial is a *false alarm* when the pair claimed a
//! change either way (`regressed` or `improved`: in A/A both are wrong, and either says the
//! counts do not reproduce); an injected trial *detects* the effect when the pair
//! `regressed`, by the significant rule and by the gate's. The injection runs on the loop,
//! so `instructions-worker` has no detection (its expected ratio is 1).
//!
//! The MDE is `counter_mde`'s.
//!
//! # Reproducible or not
//!
//! A pair's counts *reproduce* when no A/A trial raised a false alarm under either rule and
//! the MDE lies below the threshold the gate holds it to (its own if gated, else the
//! `instructions` gate's: the shares are read against the same standard). A configuration
//! reproduces when every counter metric the gate uses does (`instructions` when none is
//! gated); one that does not is reported as "not reproducible: not gated on counters".

use serde::Serialize;

use super::Rate;
use super::counter_mde::{self, CounterFamily, CounterMde, MdeSettings};
use super::counter_trials::{CounterPilot, CounterTrial, CounterTrialMetric};
use crate::comparison::{Verdict, VerdictPolicy};
use crate::model::git::GitRevision;
use crate::model::host::HostFingerprint;
use crate::model::metric::Metric;
use crate::stats::Samples;

pub const COUNTER_CALIBRATION_KIND: &str = "handoff-bench-counter-calibration";
pub const COUNTER_CALIBRATION_SCHEMA: u64 = 1;

/// Detection of one effect in one configuration and metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CounterDetection {
    pub effect_pct: f64,
    pub inject_loops: u64,
    /// What the injection should give, from the pilot ([`CounterPilot::expected_ratio`]).
    pub expected_ratio: f64,
    /// Median of the observed ratios over the trials.
    pub observed_ratio: Option<f64>,
    pub significant: Rate,
    pub gate: Rate,
}

/// What the calibration found for one configuration and counter metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CounterMetricFindings {
    pub metric: Metric,
    /// The pilot's median per call.
    pub per_call: f64,
    pub gated: bool,
    /// The threshold the metric is held to (a fraction; module docs, "Reproducible").
    pub threshold: f64,
    /// A/A trials whose pair claimed a change, by the significant and by the gate's rule.
    pub false_alarms_significant: Rate,
    pub false_alarms_gate: Rate,
    /// Per effect; empty for `instructions-worker` (the injection runs on the loop).
    pub detection: Vec<CounterDetection>,
    /// `None` without A/A runs.
    pub mde: Option<CounterMde>,
    /// `None` when the counts reproduce, else why not.
    pub not_reproducible: Option<String>,
}

/// What the calibration found for one configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CounterConfigFindings {
    pub id: String,
    /// Whether the counter metrics the gate uses reproduce (module docs).
    pub reproducible: bool,
    pub metrics: Vec<CounterMetricFindings>,
}

/// The threshold the gate holds `metric` to (module docs, "Reproducible").
pub fn reference_threshold(policy: &VerdictPolicy, metric: Metric) -> f64 {
    if !policy.is_gated(metric) && policy.is_gated(Metric::Instructions) {
        policy.threshold_of(Metric::Instructions)
    } else {
        policy.threshold_of(metric)
    }
}

/// The settings the analysis needs.
#[derive(Debug, Clone, Copy)]
pub struct AnalysisSettings<'a> {
    pub policy: &'a VerdictPolicy,
    pub family: CounterFamily,
    pub effects: &'a [f64],
    /// `--counter-runs`.
    pub runs: u32,
}

/// What [`summarise`] draws from the trials.
#[derive(Debug, Clone, PartialEq)]
pub struct CounterFindings {
    /// A/A trials with any gated counter pair regressed, per rule.
    pub false_alarms_significant: Rate,
    pub false_alarms_gate: Rate,
    pub configs: Vec<CounterConfigFindings>,
}

/// The records of one configuration and metric across the trials of one kind.
fn records<'a>(
    trials: &[&'a CounterTrial],
    id: &str,
    metric: Metric,
) -> Vec<&'a CounterTrialMetric> {
    trials
        .iter()
        .filter_map(|t| t.configs.iter().find(|c| c.id == id))
        .filter_map(|c| c.metrics.iter().find(|m| m.metric == metric))
        .collect()
}

fn claimed_change(v: Verdict) -> bool {
    matches!(v, Verdict::Regressed | Verdict::Improved)
}

/// Rates, detections, MDEs and reproducibility from the trials (pure; see the module docs).
pub fn summarise(
    trials: &[CounterTrial],
    pilot: &[CounterPilot],
    settings: AnalysisSettings<'_>,
) -> CounterFindings {
    let AnalysisSettings {
        policy,
        family,
        effects,
        runs,
    } = settings;
    let aa: Vec<&CounterTrial> = trials.iter().filter(|t| t.effect_pct.is_none()).collect();
    let count = |f: &dyn Fn(&CounterTrial) -> bool| aa.iter().filter(|t| f(t)).count() as u32;
    let n_aa = aa.len() as u32;
    let configs = pilot
        .iter()
        .map(|p| {
            let metrics: Vec<CounterMetricFindings> = Metric::COUNTERS
                .into_iter()
                .map(|metric| {
                    let aa_records = records(&aa, &p.id, metric);
                    let of = aa_records.len() as u32;
                    let false_sig = aa_records
                        .iter()
                        .filter(|r| claimed_change(r.significant_verdict))
                        .count() as u32;
                    let false_gate = aa_records
                        .iter()
                        .filter(|r| claimed_change(r.gate_verdict))
                        .count() as u32;
                    let gated = policy.is_gated(metric);
                    let threshold = reference_threshold(policy, metric);
                    let mde = counter_mde::estimate(
                        &aa_records,
                        MdeSettings {
                            family,
                            gated,
                            runs,
                            threshold: policy.threshold_of(metric),
                        },
                    );
                    let detection = if metric == Metric::InstructionsWorker {
                        Vec::new()
                    } else {
                        detections(trials, p, metric, effects)
                    };
                    let not_reproducible =
                        why_not_reproducible(false_sig, false_gate, of, mde.as_ref(), threshold);
                    CounterMetricFindings {
                        metric,
                        per_call: p.per_call.get(&metric).copied().unwrap_or(f64::NAN),
                        gated,
                        threshold,
                        false_alarms_significant: Rate::new(false_sig, of),
                        false_alarms_gate: Rate::new(false_gate, of),
                        detection,
                        mde,
                        not_reproducible,
                    }
                })
                .collect();
            let gated_counters: Vec<Metric> = Metric::COUNTERS
                .into_iter()
                .filter(|m| policy.is_gated(*m))
                .collect();
            let used = if gated_counters.is_empty() {
                vec![Metric::Instructions]
            } else {
                gated_counters
            };
            CounterConfigFindings {
                id: p.id.clone(),
                reproducible: metrics
                    .iter()
                    .filter(|m| used.contains(&m.metric))
                    .all(|m| m.not_reproducible.is_none()),
                metrics,
            }
        })
        .collect();
    CounterFindings {
        false_alarms_significant: Rate::new(count(&|t| t.any_significant_regression), n_aa),
        false_alarms_gate: Rate::new(count(&|t| t.any_gate_regression), n_aa),
        configs,
    }
}

fn detections(
    trials: &[CounterTrial],
    pilot: &CounterPilot,
    metric: Metric,
    effects: &[f64],
) -> Vec<CounterDetection> {
    effects
        .iter()
        .enumerate()
        .map(|(e, &effect)| {
            let of_effect: Vec<&CounterTrial> = trials
                .iter()
                .filter(|t| t.effect_pct == Some(effect))
                .collect();
            let found = records(&of_effect, &pilot.id, metric);
            let n = found.len() as u32;
            let regressed = |v: fn(&CounterTrialMetric) -> Verdict| {
                found.iter().filter(|r| v(r) == Verdict::Regressed).count() as u32
            };
            let loops = pilot.inject_loops.get(e).copied().unwrap_or(0);
            CounterDetection {
                effect_pct: effect,
                inject_loops: loops,
                expected_ratio: pilot.expected_ratio(metric, loops),
                observed_ratio: Samples::new(found.iter().filter_map(|r| r.ratio).collect())
                    .ok()
                    .map(|s| s.median()),
                significant: Rate::new(regressed(|r| r.significant_verdict), n),
                gate: Rate::new(regressed(|r| r.gate_verdict), n),
            }
        })
        .collect()
}

/// `None` when the counts reproduce (module docs), else the reasons.
fn why_not_reproducible(
    false_sig: u32,
    false_gate: u32,
    of: u32,
    mde: Option<&CounterMde>,
    threshold: f64,
) -> Option<String> {
    let mut reasons = Vec::new();
    if of == 0 {
        reasons.push("no A/A trial counted it".to_owned());
    }
    if false_gate > 0 {
        reasons.push(format!(
            "{false_gate}/{of} A/A trials claimed a change by the gate's rule"
        ));
    } else if false_sig > 0 {
        reasons.push(format!(
            "{false_sig}/{of} A/A trials claimed a significant change"
        ));
    }
    match mde {
        // A NaN MDE (no estimate) counts as beyond the threshold.
        Some(m) if m.pct.is_nan() || m.pct >= threshold * 100.0 => reasons.push(format!(
            "A/A spread sd {:.3}% gives an MDE of {:.2}%, not below the {}% threshold",
            m.sd_log * 100.0,
            m.pct,
            threshold * 100.0
        )),
        Some(_) => {}
        None if of > 0 => reasons.push("no A/A spread (fewer than two runs a side)".to_owned()),
        None => {}
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CounterCalibrationSettings {
    pub only: Vec<String>,
    pub ids: Vec<String>,
    pub trials: u32,
    /// `--counter-runs`: runs a side per trial.
    pub counter_runs: u32,
    /// `--counter-count`: calls per counting run.
    pub counter_count: u64,
    pub work: String,
    pub in_flight: u64,
    pub effects_pct: Vec<f64>,
    pub pilot_runs: u32,
    pub policy: VerdictPolicy,
    /// `valgrind --version` (or the test's stand-in), and whether runs had FIFO priority.
    pub valgrind: String,
    pub realtime: bool,
}

/// The whole counter calibration; what `--json` writes and the terminal report renders.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CounterCalibration {
    pub kind: String,
    pub schema: u64,
    pub created: String,
    pub host: HostFingerprint,
    pub git: GitRevision,
    pub settings: CounterCalibrationSettings,
    pub pilot: Vec<CounterPilot>,
    pub family: CounterFamily,
    /// A/A trials with any gated counter pair regressed, per rule.
    pub false_alarms_significant: Rate,
    pub false_alarms_gate: Rate,
    /// Per configuration and metric: false alarms, detections, MDE, reproducibility.
    pub configs: Vec<CounterConfigFindings>,
    /// Wall-clock seconds the trials took.
    pub seconds: f64,
    pub trials: Vec<CounterTrial>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::comparison::calibration::counter_trials::tests::{contexts, policy, session};
    use crate::comparison::calibration::counter_trials::{judge, trial_configs};

    const IDS: [&str; 3] = ["a", "b", "c"];

    /// Side B of an injected trial: 6 iterations of 4 instructions on the loop.
    const INJECTED: f64 = 24.0;

    /// (loop, worker) per call of run `run` of configuration `id` on one side: `a` exact,
    /// `b` spread by exactly 2% a side (logs -0.02, 0, +0.02), `c` exact but 2% higher on
    /// side B in the A/A trial of round 1 (a process that fell into another mode).
    fn counts(id: &str, round: u32, run: u32, side_b: bool, effect: bool) -> [f64; 2] {
        let spread = if id == "b" {
            [-0.02f64, 0.0, 0.02][run as usize % 3].exp()
        } else {
            1.0
        };
        let mode = if id == "c" && round == 1 && side_b && !effect {
            1.02
        } else {
            1.0
        };
        let injected = if side_b && effect { INJECTED } else { 0.0 };
        [2000.0 * spread * mode + injected, 300.0 * spread * mode]
    }

    fn pilot(id: &str) -> CounterPilot {
        CounterPilot {
            id: id.to_owned(),
            per_call: [
                (Metric::Instructions, 2300.0),
                (Metric::InstructionsLoop, 2000.0),
                (Metric::InstructionsWorker, 300.0),
            ]
            .into(),
            probe_loops: 1000,
            instructions_per_loop: 4.0,
            injection_offset: 0.0,
            inject_loops: vec![6],
        }
    }

    /// Four rounds of A/A and +1% over `a`, `b` and `c`, judged through the gate's
    /// comparison, 3 runs a side.
    pub(crate) fn trials() -> Vec<CounterTrial> {
        let (gate, significance) = contexts(&IDS);
        let mut trials = Vec::new();
        for round in 0..4 {
            for effect in [false, true] {
                let counting: Vec<_> = IDS
                    .iter()
                    .flat_map(|id| {
                        session(
                            id,
                            3,
                            |r| counts(id, round, r, false, effect),
                            |r| counts(id, round, r, true, effect),
                        )
                    })
                    .collect();
                let judged = judge(&counting, &gate, &significance);
                trials.push(CounterTrial {
                    round,
                    effect_pct: effect.then_some(1.0),
                    configs: trial_configs(&counting, &judged, &gate.ids, |_| {
                        if effect { 6 } else { 0 }
                    }),
                    any_gate_regression: judged.gate.has_regression(),
                    any_significant_regression: judged.significance.has_regression(),
                    failed_runs: 0,
                });
            }
        }
        trials
    }

    fn findings(trials: &[CounterTrial]) -> CounterFindings {
        let pilot: Vec<CounterPilot> = IDS.iter().map(|id| pilot(id)).collect();
        let family = CounterFamily::of(&policy(), IDS.len(), 30, 0.8);
        summarise(
            trials,
            &pilot,
            AnalysisSettings {
                policy: &policy(),
                family,
                effects: &[1.0],
                runs: 3,
            },
        )
    }

    pub(crate) fn fixture() -> CounterCalibration {
        let trials = trials();
        let found = findings(&trials);
        let sample = crate::model::results::tests::result_file(&[]);
        CounterCalibration {
            kind: COUNTER_CALIBRATION_KIND.to_owned(),
            schema: COUNTER_CALIBRATION_SCHEMA,
            created: sample.created,
            host: sample.host,
            git: sample.git,
            settings: CounterCalibrationSettings {
                only: vec!["*".to_owned()],
                ids: IDS.iter().map(|s| (*s).to_owned()).collect(),
                trials: 4,
                counter_runs: 3,
                counter_count: 5000,
                work: "zero".to_owned(),
                in_flight: 1,
                effects_pct: vec![1.0],
                pilot_runs: 3,
                policy: policy(),
                valgrind: "valgrind-3.19.0".to_owned(),
                realtime: true,
            },
            pilot: IDS.iter().map(|id| pilot(id)).collect(),
            family: CounterFamily::of(&policy(), IDS.len(), 30, 0.8),
            false_alarms_significant: found.false_alarms_significant,
            false_alarms_gate: found.false_alarms_gate,
            configs: found.configs,
            seconds: 61.0,
            trials,
        }
    }

    fn metric<'a>(f: &'a CounterFindings, id: &str, metric: Metric) -> &'a CounterMetricFindings {
        f.configs
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.metrics.iter().find(|m| m.metric == metric))
            .unwrap()
    }

    #[test]
    fn exact_counts_reproduce_and_a_one_percent_injection_is_always_detected() {
        let f = findings(&trials());
        let a = metric(&f, "a", Metric::Instructions);
        assert_eq!(
            (a.false_alarms_significant.count, a.false_alarms_gate.count),
            (0, 0)
        );
        assert_eq!(a.false_alarms_gate.of, 4);
        let d = &a.detection[0];
        assert_eq!(
            (d.significant.count, d.gate.count, d.significant.of),
            (4, 4, 4)
        );
        assert!((d.expected_ratio - 2324.0 / 2300.0).abs() < 1e-12);
        assert!((d.observed_ratio.unwrap() - 2324.0 / 2300.0).abs() < 1e-9);
        // Zero spread: the MDE is the resolution floor's. By hand (t quantiles of 4 df in
        // closed form): m = 3 configurations x 4 gated metrics = 12, a' = 0.05 / 12,
        // t(1 - a'/2, 4) = 5.885305, t(0.8, 4) = 0.940965, x 1e-4 x sqrt(2/3) -> +0.055752%.
        let mde = a.mde.as_ref().unwrap();
        assert!(mde.sd_log < 1e-12, "{}", mde.sd_log);
        assert_eq!(
            (mde.sd_used, mde.sd_df, mde.family_pairs),
            (1e-4, 4 * 2 * 2, 12)
        );
        assert!((mde.pct - 0.055752).abs() < 1e-5, "{}", mde.pct);
        assert!((mde.gate_confirms_pct - (1.0 + mde.pct)).abs() < 1e-12);
        assert!(mde.full_suite_pct > mde.pct);
        assert!(
            mde.at_runs[2].1 < mde.at_runs[0].1,
            "more runs, smaller MDE"
        );
        assert_eq!(a.not_reproducible, None);
        // The loop's share: significant every time, the gate holds it to 5%; the worker is
        // not injected.
        let own = &metric(&f, "a", Metric::InstructionsLoop).detection[0];
        assert_eq!((own.significant.count, own.gate.count), (4, 0));
        assert!(
            metric(&f, "a", Metric::InstructionsWorker)
                .detection
                .is_empty()
        );
        assert!(f.configs[0].reproducible);
    }

    #[test]
    fn a_spread_beyond_the_threshold_is_not_reproducible() {
        let f = findings(&trials());
        let b = metric(&f, "b", Metric::Instructions);
        assert_eq!(b.false_alarms_gate.count, 0);
        // Every side's logs are -0.02, 0, +0.02: pooled sd exactly 0.02; by hand as above,
        // 6.826270 x 0.02 x sqrt(2/3) = 0.111473 -> +11.7923%.
        let mde = b.mde.as_ref().unwrap();
        // (The counts are whole instructions over 10,000 calls: exact to ~1e-8.)
        assert!((mde.sd_log - 0.02).abs() < 1e-6, "{}", mde.sd_log);
        assert!((mde.pct - 11.7923).abs() < 1e-3, "{}", mde.pct);
        let why = b.not_reproducible.as_deref().unwrap();
        assert!(
            why.contains("MDE of 11.79%") && why.contains("1% threshold"),
            "{why}"
        );
        // Hidden in the noise: a 1% injection is not significant.
        assert_eq!(b.detection[0].significant.count, 0);
        assert!(!f.configs[1].reproducible);
    }

    #[test]
    fn an_a_a_false_alarm_is_not_reproducible_and_counts_in_the_overall_rate() {
        let f = findings(&trials());
        let c = metric(&f, "c", Metric::Instructions);
        assert_eq!(
            (c.false_alarms_gate.count, c.false_alarms_significant.count),
            (1, 1)
        );
        let why = c.not_reproducible.as_deref().unwrap();
        assert!(why.contains("1/4 A/A trials claimed a change"), "{why}");
        assert!(!f.configs[2].reproducible);
        assert_eq!((f.false_alarms_gate.count, f.false_alarms_gate.of), (1, 4));
        assert_eq!(f.false_alarms_significant.count, 1);
    }

    #[test]
    fn reported_shares_are_held_to_the_instruction_gates_threshold() {
        let p = policy();
        assert_eq!(reference_threshold(&p, Metric::InstructionsLoop), 0.01);
        assert_eq!(reference_threshold(&p, Metric::Instructions), 0.01);
        let mut timing_only = p.clone();
        timing_only.gates.remove(&Metric::Instructions);
        assert_eq!(
            reference_threshold(&timing_only, Metric::InstructionsLoop),
            0.05
        );
    }
}
