//! What a calibration's trials add up to (pure): the A/A trials' false alarms, the detection
//! of each injected effect, the minimum detectable effect ([`super::mde`]) and, for counts,
//! whether they reproduce.
//!
//! # Per instrument
//!
//! - Timing: per effect and configuration, how often the Wall slowdown was detected; per
//!   configuration the MDE of Wall.
//! - Counts, per configuration and counter metric: the A/A trials in which the pair claimed
//!   a change either way (`regressed` or `improved`: in A/A both are wrong, and either says
//!   the counts do not reproduce), the detection of each effect (none for
//!   `instructions-worker`: the injection runs on the loop, its expected ratio is 1), the
//!   MDE, and whether the counts reproduce.
//!
//! # Reproducible or not
//!
//! A pair's counts *reproduce* when no A/A trial raised a false alarm under either rule and
//! the MDE lies below the threshold the gate holds it to (its own if gated, else the
//! `instructions` gate's: the shares are read against the same standard). A configuration
//! reproduces when every counter metric the gate uses does (`instructions` when none is
//! gated); one that does not is reported as "not reproducible: not gated on counters".

use serde::Serialize;

use super::mde::{self, CountMde, Family, Mde, MdeSettings};
use super::pilot::Pilot;
use super::settings::{CalibrationSettings, Instrument};
use super::trials::{Judgement, Trial, TrialConfig};
use crate::comparison::{Verdict, VerdictPolicy};
use crate::model::metric::Metric;
use crate::stats::Samples;

/// The instrument's findings besides the overall false alarms.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Findings {
    Timing {
        /// Per effect and configuration.
        detection: Vec<Detection>,
        /// Per configuration with A/A data.
        mde: Vec<Mde>,
    },
    Counters {
        /// Per configuration and metric: false alarms, detections, MDE, reproducibility.
        configs: Vec<ConfigFindings>,
    },
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

    /// The items of `among` for which `holds` does.
    pub fn of<T>(among: &[T], holds: impl Fn(&T) -> bool) -> Self {
        Rate::new(
            among.iter().filter(|t| holds(t)).count() as u32,
            among.len() as u32,
        )
    }

    pub fn fraction(&self) -> f64 {
        if self.of == 0 {
            0.0
        } else {
            f64::from(self.count) / f64::from(self.of)
        }
    }
}

/// How often one effect was detected in one configuration and metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rates {
    pub effect_pct: f64,
    /// Median of the observed ratios over the trials.
    pub observed_ratio: Option<f64>,
    /// Trials in which the pair regressed, by the significant and by the gate's rule.
    pub significant: Rate,
    pub gate: Rate,
}

/// Detection of one effect in one configuration (timing).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    pub id: String,
    pub inject_ns: u64,
    #[serde(flatten)]
    pub rates: Rates,
}

/// Detection of one effect in one configuration and counter metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountDetection {
    pub inject_loops: u64,
    /// What the injection should give, from the pilot (`LoopSizing::expected_ratio`).
    pub expected_ratio: f64,
    #[serde(flatten)]
    pub rates: Rates,
}

/// What the calibration found for one configuration and counter metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricFindings {
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
    pub detection: Vec<CountDetection>,
    /// `None` without A/A runs.
    pub mde: Option<CountMde>,
    /// `None` when the counts reproduce, else why not.
    pub not_reproducible: Option<String>,
}

/// What the calibration found for one configuration's counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigFindings {
    pub id: String,
    /// Whether the counter metrics the gate uses reproduce (module docs).
    pub reproducible: bool,
    pub metrics: Vec<MetricFindings>,
}

/// What [`summarise`] draws from the trials.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// A/A trials with any gated pair regressed, by the significant rule and by the gate's.
    pub false_alarms_significant: Rate,
    pub false_alarms_gate: Rate,
    pub findings: Findings,
}

/// The threshold the gate holds `metric` to (module docs, "Reproducible").
pub fn reference_threshold(policy: &VerdictPolicy, metric: Metric) -> f64 {
    if !policy.is_gated(metric) && policy.is_gated(Metric::Instructions) {
        policy.threshold_of(Metric::Instructions)
    } else {
        policy.threshold_of(metric)
    }
}

/// The records of configuration `id` in `trials`.
fn configs<'a>(trials: &[&'a Trial], id: &str) -> Vec<&'a TrialConfig> {
    trials
        .iter()
        .filter_map(|t| t.configs.iter().find(|c| c.id == id))
        .collect()
}

/// How often the injected `effect` was detected in `id`'s `metric`.
fn rates(trials: &[Trial], id: &str, metric: Metric, effect: f64) -> Rates {
    let of_effect: Vec<&Trial> = trials
        .iter()
        .filter(|t| t.effect_pct == Some(effect))
        .collect();
    let found: Vec<&Judgement> = configs(&of_effect, id)
        .into_iter()
        .filter_map(|c| c.judgement(metric))
        .collect();
    Rates {
        effect_pct: effect,
        observed_ratio: Samples::new(found.iter().filter_map(|j| j.ratio).collect())
            .ok()
            .map(|s| s.median()),
        significant: Rate::of(&found, |j| j.significant_verdict == Verdict::Regressed),
        gate: Rate::of(&found, |j| j.gate_verdict == Verdict::Regressed),
    }
}

/// Rates, detections, MDEs and reproducibility from the trials (module docs).
pub fn summarise(
    trials: &[Trial],
    pilot: &[Pilot],
    settings: &CalibrationSettings,
    family: Family,
) -> Summary {
    let aa: Vec<&Trial> = trials.iter().filter(|t| t.effect_pct.is_none()).collect();
    let policy = &settings.policy;
    let (design, n) = settings.instrument.design();
    let settings_of = |metric: Metric| MdeSettings {
        design,
        n,
        family,
        gated: policy.is_gated(metric),
        threshold: policy.threshold_of(metric),
    };
    let effects = &settings.effects_pct;
    let findings = match settings.instrument {
        Instrument::Timing(_) => Findings::Timing {
            detection: effects
                .iter()
                .enumerate()
                .flat_map(|(e, &effect)| {
                    pilot.iter().map(move |p| Detection {
                        id: p.id.clone(),
                        inject_ns: p.injection(e),
                        rates: rates(trials, &p.id, Metric::Wall, effect),
                    })
                })
                .collect(),
            mde: pilot
                .iter()
                .filter_map(|p| {
                    let spread = mde::spread(design, &configs(&aa, &p.id), Metric::Wall)?;
                    Some(settings_of(Metric::Wall).blocks(&p.id, spread))
                })
                .collect(),
        },
        Instrument::Counters(_) => Findings::Counters {
            configs: pilot
                .iter()
                .map(|p| {
                    let aa_configs = configs(&aa, &p.id);
                    let metrics = settings
                        .instrument
                        .metrics()
                        .iter()
                        .map(|&metric| {
                            let mde = mde::spread(design, &aa_configs, metric)
                                .map(|s| settings_of(metric).runs(s));
                            count_findings(trials, &aa_configs, p, metric, mde, settings)
                        })
                        .collect();
                    config_findings(&p.id, metrics, policy)
                })
                .collect(),
        },
    };
    Summary {
        false_alarms_significant: Rate::of(&aa, |t| t.any_significant_regression),
        false_alarms_gate: Rate::of(&aa, |t| t.any_gate_regression),
        findings,
    }
}

fn claimed_change(v: Verdict) -> bool {
    matches!(v, Verdict::Regressed | Verdict::Improved)
}

/// One configuration's findings for one counter metric.
fn count_findings(
    trials: &[Trial],
    aa: &[&TrialConfig],
    pilot: &Pilot,
    metric: Metric,
    mde: Option<CountMde>,
    settings: &CalibrationSettings,
) -> MetricFindings {
    let policy = &settings.policy;
    let judged: Vec<&Judgement> = aa.iter().filter_map(|c| c.judgement(metric)).collect();
    let false_sig = Rate::of(&judged, |j| claimed_change(j.significant_verdict));
    let false_gate = Rate::of(&judged, |j| claimed_change(j.gate_verdict));
    let threshold = reference_threshold(policy, metric);
    let sizing = pilot.loops();
    let detection = if metric == Metric::InstructionsWorker {
        Vec::new()
    } else {
        (0..settings.effects_pct.len())
            .map(|e| {
                let loops = pilot.injection(e);
                CountDetection {
                    inject_loops: loops,
                    expected_ratio: sizing.map_or(1.0, |s| s.expected_ratio(metric, loops)),
                    rates: rates(trials, &pilot.id, metric, settings.effects_pct[e]),
                }
            })
            .collect()
    };
    MetricFindings {
        metric,
        per_call: sizing
            .and_then(|s| s.per_call.get(&metric).copied())
            .unwrap_or(f64::NAN),
        gated: policy.is_gated(metric),
        threshold,
        not_reproducible: why_not_reproducible(&false_sig, &false_gate, mde.as_ref(), threshold),
        false_alarms_significant: false_sig,
        false_alarms_gate: false_gate,
        detection,
        mde,
    }
}

/// A configuration reproduces when the counter metrics the gate uses do (module docs).
fn config_findings(
    id: &str,
    metrics: Vec<MetricFindings>,
    policy: &VerdictPolicy,
) -> ConfigFindings {
    let gated: Vec<Metric> = Metric::COUNTERS
        .into_iter()
        .filter(|m| policy.is_gated(*m))
        .collect();
    let used = if gated.is_empty() {
        vec![Metric::Instructions]
    } else {
        gated
    };
    ConfigFindings {
        id: id.to_owned(),
        reproducible: metrics
            .iter()
            .filter(|m| used.contains(&m.metric))
            .all(|m| m.not_reproducible.is_none()),
        metrics,
    }
}

/// `None` when the counts reproduce (module docs), else the reasons.
fn why_not_reproducible(
    false_sig: &Rate,
    false_gate: &Rate,
    mde: Option<&CountMde>,
    threshold: f64,
) -> Option<String> {
    let of = false_gate.of;
    let mut reasons = Vec::new();
    if of == 0 {
        reasons.push("no A/A trial counted it".to_owned());
    }
    if false_gate.count > 0 {
        reasons.push(format!(
            "{}/{of} A/A trials claimed a change by the gate's rule",
            false_gate.count
        ));
    } else if false_sig.count > 0 {
        reasons.push(format!(
            "{}/{of} A/A trials claimed a significant change",
            false_sig.count
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::comparison::PairedEstimator;
    use crate::comparison::calibration::pilot::Sizing;
    use crate::comparison::calibration::pilot::tests::fake_loops;
    use crate::comparison::calibration::settings::Timing;
    use crate::comparison::calibration::trials::tests::{counting, policy, session};
    use crate::comparison::calibration::trials::{Pairs, Rules, TrialRun, WallPair};
    use crate::model::paired_record::Sampling;

    pub(crate) fn settings(
        ids: &[&str],
        effects: &[f64],
        policy: VerdictPolicy,
        instrument: Instrument,
    ) -> CalibrationSettings {
        CalibrationSettings {
            only: vec!["*".to_owned()],
            ids: ids.iter().map(|s| (*s).to_owned()).collect(),
            trials: 4,
            work: "zero".to_owned(),
            in_flight: 1,
            effects_pct: effects.to_vec(),
            pilot_runs: 3,
            policy,
            instrument,
        }
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

    // --- timing -------------------------------------------------------------------------

    fn config(id: &str, ratio: f64, significant: bool, gate: Verdict, sd: f64) -> TrialConfig {
        TrialConfig {
            id: id.to_owned(),
            pairs: Pairs::Wall(WallPair {
                judgement: Judgement {
                    ratio: Some(ratio),
                    ci_low: Some(ratio * 0.95),
                    ci_high: Some(ratio * 1.05),
                    p_adjusted: if significant { 0.01 } else { 0.5 },
                    gate_verdict: gate,
                    significant_verdict: if significant {
                        Verdict::Regressed
                    } else {
                        Verdict::Inconclusive
                    },
                },
                significant,
                sd_log_ratio: Some(sd),
                log_ratios: vec![ratio.ln(); 4],
            }),
        }
    }

    fn trial(round: u32, effect: Option<f64>, configs: Vec<TrialConfig>) -> Trial {
        let any = |rule: fn(&Judgement) -> bool| {
            configs
                .iter()
                .any(|c| c.judgement(Metric::Wall).is_some_and(rule))
        };
        Trial {
            round,
            effect_pct: effect,
            any_gate_regression: any(|j| j.gate_verdict == Verdict::Regressed),
            any_significant_regression: any(|j| j.significant_verdict == Verdict::Regressed),
            configs,
            failed_runs: 0,
        }
    }

    /// A timing calibration's inputs: four rounds of A/A and +5% over configurations `a`
    /// (sd 0.1) and `b` (sd 0.02), 10 blocks, Wall gated at 5%, their pilot, families.
    pub(crate) fn timing() -> (CalibrationSettings, Vec<Pilot>, Family, Vec<Trial>) {
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
        let wall = |id: &str, wall_ns_per_call: f64, inject: u64| Pilot {
            id: id.to_owned(),
            sizing: Sizing::Wall {
                wall_ns_per_call,
                inject_ns: vec![inject],
            },
        };
        let instrument = Instrument::Timing(Timing {
            blocks: 10,
            count: 5000,
            pin: true,
            sampling: Sampling::Processes,
            warm_up_ms: None,
            estimator: PairedEstimator::Mean,
        });
        let family = Family {
            gated_pairs: 2,
            reported_pairs: 4,
            full_suite_gated_pairs: 102,
            full_suite_reported_pairs: 204,
            alpha: 0.05,
            power: 0.8,
        };
        let policy = crate::comparison::paired::tests::policy();
        (
            settings(&["a", "b"], &[5.0], policy, instrument),
            vec![wall("a", 14_000.0, 700), wall("b", 200.0, 10)],
            family,
            trials,
        )
    }

    #[test]
    fn summarise_counts_rates_and_the_mde() {
        let (settings, pilot, family, trials) = timing();
        let c = summarise(&trials, &pilot, &settings, family);
        assert_eq!(
            (
                c.false_alarms_significant.count,
                c.false_alarms_significant.of
            ),
            (1, 4)
        );
        assert_eq!(c.false_alarms_gate.count, 0);
        let Findings::Timing { detection, mde } = &c.findings else {
            panic!("timing findings");
        };
        let b = detection.iter().find(|d| d.id == "b").unwrap();
        assert_eq!(
            (b.rates.significant.count, b.rates.gate.count, b.inject_ns),
            (4, 1, 10)
        );
        assert_eq!(b.rates.observed_ratio, Some(1.05));
        // a: pooled sd 0.1, n = 10, alpha' = 0.05 / 2: t(0.9875, 9) = 2.6850,
        // t(0.8, 9) = 0.8834 -> 3.5684 * 0.1 / sqrt(10) = 0.112843 -> +11.94%.
        let a = &mde[0];
        assert!((a.sd_log_ratio - 0.1).abs() < 1e-12);
        assert!((a.pct - 11.94).abs() < 0.02, "{}", a.pct);
        assert!((a.gate_confirms_pct - (5.0 + a.pct)).abs() < 1e-9);
        // Larger families need a larger effect; more blocks a smaller one.
        assert!(a.full_suite_at_blocks[0].1 > a.at_blocks[0].1);
        assert!(a.at_blocks[2].1 < a.at_blocks[0].1);
    }

    // --- counts -------------------------------------------------------------------------

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

    /// A counting calibration's inputs: four rounds of A/A and +1% over `a`, `b` and `c`,
    /// judged through the gate's comparison, 3 runs a side, a suite of 30 configurations.
    pub(crate) fn counting_trials() -> (CalibrationSettings, Vec<Pilot>, Family, Vec<Trial>) {
        let instrument = counting(3);
        let ids: Vec<String> = IDS.iter().map(|s| (*s).to_owned()).collect();
        let rules = Rules::new(&ids, &policy(), &instrument);
        let mut trials = Vec::new();
        for round in 0..4 {
            for effect in [false, true] {
                let samples: Vec<_> = IDS
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
                let run = TrialRun {
                    round,
                    effect_pct: effect.then_some(1.0),
                    samples: &samples,
                    failed_runs: 0,
                };
                trials.push(Trial::judge(run, &instrument, &rules, |_| {
                    if effect { 6 } else { 0 }
                }));
            }
        }
        let family = Family::of(&policy(), &instrument.family_metrics(), IDS.len(), 30, 0.8);
        (
            settings(&IDS, &[1.0], policy(), instrument),
            IDS.iter().map(|id| fake_loops(id)).collect(),
            family,
            trials,
        )
    }

    fn count_summary() -> Summary {
        let (settings, pilot, family, trials) = counting_trials();
        summarise(&trials, &pilot, &settings, family)
    }

    fn configs_of(f: &Summary) -> &[ConfigFindings] {
        match &f.findings {
            Findings::Counters { configs } => configs,
            Findings::Timing { .. } => panic!("count findings"),
        }
    }

    fn metric<'a>(f: &'a Summary, id: &str, metric: Metric) -> &'a MetricFindings {
        configs_of(f)
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.metrics.iter().find(|m| m.metric == metric))
            .unwrap()
    }

    #[test]
    fn exact_counts_reproduce_and_a_one_percent_injection_is_always_detected() {
        let f = count_summary();
        let a = metric(&f, "a", Metric::Instructions);
        assert_eq!(
            (a.false_alarms_significant.count, a.false_alarms_gate.count),
            (0, 0)
        );
        assert_eq!(a.false_alarms_gate.of, 4);
        let d = &a.detection[0];
        assert_eq!(
            (
                d.rates.significant.count,
                d.rates.gate.count,
                d.rates.significant.of
            ),
            (4, 4, 4)
        );
        assert!((d.expected_ratio - 2324.0 / 2300.0).abs() < 1e-12);
        assert!((d.rates.observed_ratio.unwrap() - 2324.0 / 2300.0).abs() < 1e-9);
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
        assert_eq!((own.rates.significant.count, own.rates.gate.count), (4, 0));
        assert!(
            metric(&f, "a", Metric::InstructionsWorker)
                .detection
                .is_empty()
        );
        assert!(configs_of(&f)[0].reproducible);
    }

    #[test]
    fn a_spread_beyond_the_threshold_is_not_reproducible() {
        let f = count_summary();
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
        assert_eq!(b.detection[0].rates.significant.count, 0);
        assert!(!configs_of(&f)[1].reproducible);
    }

    #[test]
    fn an_a_a_false_alarm_is_not_reproducible_and_counts_in_the_overall_rate() {
        let f = count_summary();
        let c = metric(&f, "c", Metric::Instructions);
        assert_eq!(
            (c.false_alarms_gate.count, c.false_alarms_significant.count),
            (1, 1)
        );
        let why = c.not_reproducible.as_deref().unwrap();
        assert!(why.contains("1/4 A/A trials claimed a change"), "{why}");
        assert!(!configs_of(&f)[2].reproducible);
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
