//! One trial of a calibration, judged: its samples compared by both rules (the module docs
//! of `comparison::calibration`, "How a trial is judged") through the gate's own
//! comparison, and what it records per configuration: the Wall pair with its block
//! log-ratios (timing), or each counter metric's pair with both sides' counts (counters).

use serde::Serialize;

use super::settings::Instrument;
use crate::comparison::paired::{self, PairedContext};
use crate::comparison::{Comparison, PairedEstimator, Verdict, VerdictPolicy};
use crate::model::host::FingerprintDiff;
use crate::model::metric::Metric;
use crate::model::paired_record::{PairedSample, Side};
use crate::stats::paired_t;

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

/// One configuration in one trial.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrialConfig {
    pub id: String,
    #[serde(flatten)]
    pub pairs: Pairs,
}

/// The pairs a trial judged in one configuration, by instrument.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Pairs {
    Wall(WallPair),
    Counts {
        /// Side B's `--inject-loops` (0 in A/A).
        inject_loops: u64,
        metrics: Vec<CountPair>,
    },
}

/// One pair judged by both rules: head (B) / base (A).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judgement {
    /// B / A; `None` when the pair could not be compared.
    pub ratio: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub p_adjusted: f64,
    /// The verdict by the gate's rule and by the significant rule.
    pub gate_verdict: Verdict,
    pub significant_verdict: Verdict,
}

/// The Wall pair of a paired session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WallPair {
    #[serde(flatten)]
    pub judgement: Judgement,
    /// Wall "regressed" under the significant rule (`significant_verdict`, as the first
    /// schema recorded it).
    pub significant: bool,
    /// Standard deviation of the block log-ratios (`None` below two blocks).
    pub sd_log_ratio: Option<f64>,
    /// The block log-ratios themselves, in block order: what any other estimator can be
    /// evaluated on afterwards.
    pub log_ratios: Vec<f64>,
}

/// One counter metric's pair of the counting runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountPair {
    pub metric: Metric,
    /// Per-call counts of side A's and side B's runs, in run order.
    pub side_a: Vec<f64>,
    pub side_b: Vec<f64>,
    #[serde(flatten)]
    pub judgement: Judgement,
}

impl TrialConfig {
    /// The judgement of `metric`, when the trial judged it.
    pub fn judgement(&self, metric: Metric) -> Option<&Judgement> {
        match &self.pairs {
            Pairs::Wall(wall) => (metric == Metric::Wall).then_some(&wall.judgement),
            Pairs::Counts { metrics, .. } => metrics
                .iter()
                .find(|p| p.metric == metric)
                .map(|p| &p.judgement),
        }
    }
}

/// One trial's samples compared by both rules.
#[derive(Debug)]
pub struct Judged {
    /// By the gate's rule (its thresholds).
    pub gate: Comparison,
    /// By the significant rule ([`significance_policy`]).
    pub significance: Comparison,
}

/// The comparison contexts of both rules for a calibration's trials.
#[derive(Debug, Clone)]
pub struct Rules {
    pub gate: PairedContext,
    pub significance: PairedContext,
}

impl Rules {
    /// The rules for `ids` under the gate's `policy`.
    pub fn new(ids: &[String], policy: &VerdictPolicy, instrument: &Instrument) -> Self {
        let (min_blocks, estimator) = match instrument {
            Instrument::Timing(t) => (t.blocks, t.estimator),
            Instrument::Counters(_) => (0, PairedEstimator::Mean),
        };
        let gate = PairedContext {
            counters: Vec::new(),
            ids: ids.to_vec(),
            baseline_label: "side A".to_owned(),
            policy: policy.clone(),
            fingerprint: FingerprintDiff::default(),
            added: vec![],
            removed: vec![],
            min_blocks,
            estimator,
        };
        let significance = PairedContext {
            policy: significance_policy(policy),
            ..gate.clone()
        };
        Rules { gate, significance }
    }

    /// Judges one trial's samples by both rules: a session's blocks, or counting runs.
    pub fn judge(&self, instrument: &Instrument, samples: &[PairedSample]) -> Judged {
        let compare = |context: &PairedContext| match instrument {
            Instrument::Timing(_) => {
                paired::compare_first(samples, paired::blocks_in(samples), context)
            }
            Instrument::Counters(_) => {
                let counting = PairedContext {
                    counters: samples.to_vec(),
                    ..context.clone()
                };
                paired::compare_first(&[], 0, &counting)
            }
        };
        Judged {
            gate: compare(&self.gate),
            significance: compare(&self.significance),
        }
    }
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

impl Judgement {
    fn of(judged: &Judged, id: &str, metric: Metric) -> Self {
        let g = judged.gate.pair(id, metric);
        let s = judged.significance.pair(id, metric);
        Judgement {
            ratio: g.and_then(|p| p.estimate.ratio),
            ci_low: g.and_then(|p| p.estimate.ratio_ci.map(|c| c.low)),
            ci_high: g.and_then(|p| p.estimate.ratio_ci.map(|c| c.high)),
            p_adjusted: g.map_or(1.0, |p| p.p_adjusted),
            gate_verdict: g.map_or(Verdict::Inconclusive, |p| p.verdict),
            significant_verdict: s.map_or(Verdict::Inconclusive, |p| p.verdict),
        }
    }
}

/// What a trial ran, for its record.
#[derive(Debug, Clone, Copy)]
pub struct TrialRun<'a> {
    pub round: u32,
    /// `None` for A/A.
    pub effect_pct: Option<f64>,
    pub samples: &'a [PairedSample],
    pub failed_runs: usize,
}

impl Trial {
    /// The record of a trial judged by `rules`; `injected(id)` is side B's injection.
    pub fn judge(
        run: TrialRun<'_>,
        instrument: &Instrument,
        rules: &Rules,
        injected: impl Fn(&str) -> u64,
    ) -> Trial {
        let judged = rules.judge(instrument, run.samples);
        let configs = rules
            .gate
            .ids
            .iter()
            .map(|id| TrialConfig {
                id: id.clone(),
                pairs: pairs(instrument, run.samples, &judged, id, injected(id)),
            })
            .collect();
        Trial {
            round: run.round,
            effect_pct: run.effect_pct,
            configs,
            any_gate_regression: judged.gate.has_regression(),
            any_significant_regression: judged.significance.has_regression(),
            failed_runs: run.failed_runs,
        }
    }
}

fn pairs(
    instrument: &Instrument,
    samples: &[PairedSample],
    judged: &Judged,
    id: &str,
    injected: u64,
) -> Pairs {
    match instrument {
        Instrument::Timing(_) => {
            let judgement = Judgement::of(judged, id, Metric::Wall);
            let d: Vec<f64> = paired::block_pairs(samples, id)
                .iter()
                .map(|p| paired::log_ratio(Metric::Wall, p))
                .collect();
            Pairs::Wall(WallPair {
                significant: judgement.significant_verdict == Verdict::Regressed,
                judgement,
                sd_log_ratio: paired_t::paired_t(&d, 0.95).map(|e| e.sd),
                log_ratios: d,
            })
        }
        Instrument::Counters(_) => Pairs::Counts {
            inject_loops: injected,
            metrics: instrument
                .metrics()
                .iter()
                .map(|&metric| {
                    let side = |side: Side| -> Vec<f64> {
                        samples
                            .iter()
                            .filter(|s| s.side == side && s.measurement.id == id)
                            .map(|s| metric.per_call(&s.measurement))
                            .collect()
                    };
                    CountPair {
                        metric,
                        side_a: side(Side::Base),
                        side_b: side(Side::Head),
                        judgement: Judgement::of(judged, id, metric),
                    }
                })
                .collect(),
        },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::comparison::calibration::settings::Counting;
    use crate::model::measurement::Measurement;

    /// The gate's default policy (`commands::flags`): the paired tests' with instructions
    /// gated at 1%.
    pub(crate) fn policy() -> VerdictPolicy {
        let mut policy = crate::comparison::paired::tests::policy();
        policy.gates.insert(Metric::Instructions, 0.01);
        policy
    }

    /// A counting instrument of `runs` runs a side.
    pub(crate) fn counting(runs: u32) -> Instrument {
        Instrument::Counters(Counting {
            counter_runs: runs,
            counter_count: 5000,
            valgrind: "valgrind-3.19.0".to_owned(),
            realtime: true,
        })
    }

    /// A counting run of `id` with `loop_per_call` and `worker_per_call` instructions.
    pub(crate) fn counted(id: &str, loop_per_call: f64, worker_per_call: f64) -> Measurement {
        let mut m = crate::model::results::tests::measurement(id, 1000.0);
        let total = |per_call: f64| (per_call * m.count as f64).round() as u64;
        m.instructions_loop = Some(total(loop_per_call));
        m.instructions_worker = Some(total(worker_per_call));
        m.instructions_other = Some(0);
        m
    }

    /// `runs` runs a side of one configuration; run `r` of side B is `b(r)`, of A `a(r)`,
    /// each a (loop, worker) pair per call.
    pub(crate) fn session(
        id: &str,
        runs: u32,
        a: impl Fn(u32) -> [f64; 2],
        b: impl Fn(u32) -> [f64; 2],
    ) -> Vec<PairedSample> {
        let mut out = Vec::new();
        for run in 0..runs {
            for (turn, side) in [Side::Base, Side::Head].into_iter().enumerate() {
                let [l, w] = if side == Side::Base { a(run) } else { b(run) };
                out.push(PairedSample {
                    block: run,
                    side,
                    position: turn as u32,
                    slice: None,
                    measurement: counted(id, l, w),
                });
            }
        }
        out
    }

    /// A session's blocks: the Wall pair with its block log-ratios, judged by both rules.
    #[test]
    fn a_sessions_blocks_are_judged_on_wall() {
        use crate::comparison::calibration::settings::Timing;
        use crate::model::paired_record::Sampling;
        let instrument = Instrument::Timing(Timing {
            blocks: 8,
            count: 1000,
            pin: true,
            sampling: Sampling::Processes,
            warm_up_ms: None,
            estimator: PairedEstimator::Mean,
        });
        let ids = ["slow".to_owned(), "same".to_owned()];
        let rules = Rules::new(
            &ids,
            &crate::comparison::paired::tests::policy(),
            &instrument,
        );
        // 30% slower against 1% noise: regressed by both rules; unchanged: neither.
        let samples = crate::comparison::paired::tests::synthetic(
            &[("slow", 14_000.0, 1.3), ("same", 14_000.0, 1.0)],
            8,
            0.01,
            3,
        );
        let run = TrialRun {
            round: 2,
            effect_pct: Some(30.0),
            samples: &samples,
            failed_runs: 0,
        };
        let trial = Trial::judge(run, &instrument, &rules, |_| 4200);
        let wall = |i: usize| match &trial.configs[i].pairs {
            Pairs::Wall(wall) => wall.clone(),
            Pairs::Counts { .. } => unreachable!("a timing trial"),
        };
        let slow = wall(0);
        assert_eq!(slow.log_ratios.len(), 8);
        assert!(
            (slow.judgement.ratio.unwrap() - 1.3).abs() < 0.02,
            "{slow:?}"
        );
        assert_eq!(slow.judgement.gate_verdict, Verdict::Regressed);
        assert!(slow.significant && slow.sd_log_ratio.is_some_and(|sd| sd < 0.05));
        assert!(!wall(1).significant);
        assert!(trial.any_gate_regression && trial.any_significant_regression);
        assert!(trial.configs[0].judgement(Metric::Instructions).is_none());
    }

    #[test]
    fn exact_counts_judged_through_the_gates_comparison() {
        let instrument = counting(3);
        let rules = Rules::new(&["a".to_owned()], &policy(), &instrument);
        let trial = |samples: &[PairedSample], loops: u64| {
            Trial::judge(
                TrialRun {
                    round: 0,
                    effect_pct: None,
                    samples,
                    failed_runs: 0,
                },
                &instrument,
                &rules,
                |_| loops,
            )
        };
        let metrics = |trial: &Trial| match &trial.configs[0].pairs {
            Pairs::Counts { metrics, .. } => metrics.clone(),
            Pairs::Wall(_) => unreachable!("a counting trial"),
        };
        // A/A: identical counts, unchanged by both rules.
        let same = session("a", 3, |_| [2000.0, 300.0], |_| [2000.0, 300.0]);
        let aa = trial(&same, 0);
        assert_eq!(metrics(&aa).len(), 3);
        for m in &metrics(&aa) {
            assert_eq!(m.judgement.gate_verdict, Verdict::Unchanged, "{m:?}");
            // With every threshold 0 nothing is ever "unchanged": no change is inconclusive.
            assert_eq!(
                m.judgement.significant_verdict,
                Verdict::Inconclusive,
                "{m:?}"
            );
            assert_eq!(m.side_a.len(), 3);
        }
        assert!(!aa.any_gate_regression);
        // Side B +24 instructions on the loop (+1.04% in total, +1.2% on the loop).
        let more = session("a", 3, |_| [2000.0, 300.0], |_| [2024.0, 300.0]);
        let injected = trial(&more, 6);
        let of = |metric: Metric| injected.configs[0].judgement(metric).unwrap().clone();
        let total = of(Metric::Instructions);
        assert_eq!(total.gate_verdict, Verdict::Regressed);
        assert_eq!(total.significant_verdict, Verdict::Regressed);
        assert!((total.ratio.unwrap() - 2324.0 / 2300.0).abs() < 1e-9);
        // The loop's share is reported only, held to --threshold (5%) by the gate's rule:
        // +1.2% lies within it.
        let own = of(Metric::InstructionsLoop);
        assert_eq!(own.gate_verdict, Verdict::Unchanged);
        assert_eq!(own.significant_verdict, Verdict::Regressed);
        assert_eq!(
            of(Metric::InstructionsWorker).gate_verdict,
            Verdict::Unchanged
        );
        assert!(matches!(
            injected.configs[0].pairs,
            Pairs::Counts {
                inject_loops: 6,
                ..
            }
        ));
        assert!(injected.any_gate_regression && injected.any_significant_regression);
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
