//! The trials of `cargo xtask calibrate --counters`, as data: what the counting pilot found
//! per configuration (the size of one injected loop iteration, the injection per effect),
//! and each trial's counting runs judged by both rules. The findings drawn from them are
//! `counter_findings`'s; the command that runs the trials is `commands::calibrate::counters`.
//!
//! # How a trial is judged
//!
//! 1. A trial is one counting session as the gate runs it: `--counter-runs` runs of side A
//!    and of side B per configuration under callgrind, the sides alternating; in an injected
//!    trial side B gets `--inject-loops N`. The runs go into `PairedContext.counters` and
//!    through `comparison::paired::compare_first`: `comparison::counters` (Welch's t on log
//!    values, each side's variance floored at the counting resolution) and `assemble` (Holm,
//!    verdicts), the gate's own code path. Holm's family there holds the calibrated
//!    configurations' counter pairs; the gate's family also holds the timing pairs, which
//!    only makes it stricter (the MDE of `counter_findings` assumes the gate's family).
//! 2. Two rules on the same data, as for the timing calibration: *significant* (the gate's
//!    rule with every threshold 0) and *gate* (the gate's thresholds: `instructions` at 1%
//!    by default; the loop's and the worker's shares are reported-only, at `--threshold`).
//!
//! The `--inject-loops` of an effect is sized from the pilot: see [`CounterPilot`].

use std::collections::BTreeMap;

use serde::Serialize;

use super::Judged;
use crate::comparison::Verdict;
use crate::comparison::paired::{self, PairedContext};
use crate::model::metric::Metric;
use crate::model::paired_record::{PairedSample, Side};

/// What the counting pilot found for one configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CounterPilot {
    pub id: String,
    /// Median per call over the pilot's runs without injection, per counter metric.
    pub per_call: BTreeMap<Metric, f64>,
    /// The `--inject-loops` of the pilot's injected runs: `probe_loops` and twice that.
    pub probe_loops: u64,
    /// Instructions on the loop per iteration of the injected loop: the slope between the
    /// medians of the runs with `probe_loops` and with twice that.
    pub instructions_per_loop: f64,
    /// Instructions on the loop that any injection adds besides its iterations (entering
    /// the loop at all): the runs with `probe_loops` minus those without, less the
    /// iterations' share. The real binary's is a few instructions; ignored, it would make
    /// an injection of three iterations 20% larger than planned.
    pub injection_offset: f64,
    /// Per `--effect`, side B's `--inject-loops`: see [`inject_loops_for`].
    pub inject_loops: Vec<u64>,
}

/// The loop's median instructions per call at the pilot's three injections.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeMedians {
    pub plain: f64,
    pub probe: f64,
    pub double: f64,
}

impl CounterPilot {
    /// The pilot of `id` from its medians per call without injection (`per_call`) and the
    /// loop's at `0`, `probe_loops` and `2 probe_loops` injected iterations; `None` when
    /// the iterations add no instructions (a binary that ignores `--inject-loops`).
    pub fn measured(
        id: &str,
        per_call: BTreeMap<Metric, f64>,
        probe_loops: u64,
        loop_medians: ProbeMedians,
        effects: &[f64],
    ) -> Option<Self> {
        let probe = probe_loops as f64;
        let per_loop = (loop_medians.double - loop_medians.probe) / probe;
        if !(per_loop.is_finite() && per_loop > 0.0) {
            return None;
        }
        let offset = loop_medians.probe - loop_medians.plain - per_loop * probe;
        let instructions = per_call.get(&Metric::Instructions).copied().unwrap_or(0.0);
        Some(CounterPilot {
            id: id.to_owned(),
            inject_loops: effects
                .iter()
                .map(|e| inject_loops_for(*e, instructions, per_loop, offset))
                .collect(),
            per_call,
            probe_loops,
            instructions_per_loop: per_loop,
            injection_offset: offset,
        })
    }

    /// The ratio an injection of `loops` iterations should give `metric` (the loop and the
    /// total grow by `offset + loops * instructions_per_loop`; the worker does not).
    pub fn expected_ratio(&self, metric: Metric, loops: u64) -> f64 {
        let base = self.per_call.get(&metric).copied().unwrap_or(0.0);
        if metric == Metric::InstructionsWorker || base <= 0.0 || loops == 0 {
            return 1.0;
        }
        1.0 + (self.injection_offset + loops as f64 * self.instructions_per_loop) / base
    }
}

/// Side B's `--inject-loops` for an effect of `effect_pct`% of `instructions` per call:
/// `max(1, ceil((E/100 * instructions - offset) / per_loop))`, the fewest whole iterations
/// that reach the effect. Rounded up, not to the nearest, because the gate confirms a
/// regression only when its whole interval lies above the threshold: an injection of 0.97%
/// against a 1% gate would measure the rule, not the gate's eyesight.
pub fn inject_loops_for(effect_pct: f64, instructions: f64, per_loop: f64, offset: f64) -> u64 {
    let loops = ((effect_pct / 100.0 * instructions - offset) / per_loop).ceil();
    if loops >= 1.0 { loops as u64 } else { 1 }
}

/// One counter metric of one configuration in one trial.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CounterTrialMetric {
    pub metric: Metric,
    /// Per-call counts of side A's and side B's runs, in run order.
    pub side_a: Vec<f64>,
    pub side_b: Vec<f64>,
    /// B / A (ratio of geometric means); `None` with fewer than two runs a side.
    pub ratio: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub p_adjusted: f64,
    /// The verdict by the gate's rule and by the significant rule.
    pub gate_verdict: Verdict,
    pub significant_verdict: Verdict,
}

/// One configuration in one trial.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CounterTrialConfig {
    pub id: String,
    /// Side B's `--inject-loops` (0 in A/A).
    pub inject_loops: u64,
    pub metrics: Vec<CounterTrialMetric>,
}

/// One trial.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CounterTrial {
    pub round: u32,
    /// `None` for A/A.
    pub effect_pct: Option<f64>,
    pub configs: Vec<CounterTrialConfig>,
    /// Any gated counter pair regressed, by the gate's rule / the significant rule.
    pub any_gate_regression: bool,
    pub any_significant_regression: bool,
    pub failed_runs: usize,
}

/// Judges one trial's counting runs by both rules (module docs, step 1).
pub fn judge(
    counting: &[PairedSample],
    gate: &PairedContext,
    significance: &PairedContext,
) -> Judged {
    let with = |context: &PairedContext| PairedContext {
        counters: counting.to_vec(),
        ..context.clone()
    };
    Judged {
        gate: paired::compare_first(&[], 0, &with(gate)),
        significance: paired::compare_first(&[], 0, &with(significance)),
    }
}

/// The per-configuration records of a judged trial; `inject_loops(id)` is side B's.
pub fn trial_configs(
    counting: &[PairedSample],
    judged: &Judged,
    ids: &[String],
    inject_loops: impl Fn(&str) -> u64,
) -> Vec<CounterTrialConfig> {
    ids.iter()
        .map(|id| {
            let metrics = Metric::COUNTERS
                .into_iter()
                .map(|metric| {
                    let side = |side: Side| -> Vec<f64> {
                        counting
                            .iter()
                            .filter(|s| s.side == side && s.measurement.id == *id)
                            .map(|s| metric.per_call(&s.measurement))
                            .collect()
                    };
                    let g = judged.gate.pair(id, metric);
                    let s = judged.significance.pair(id, metric);
                    CounterTrialMetric {
                        metric,
                        side_a: side(Side::Base),
                        side_b: side(Side::Head),
                        ratio: g.and_then(|p| p.estimate.ratio),
                        ci_low: g.and_then(|p| p.estimate.ratio_ci.map(|c| c.low)),
                        ci_high: g.and_then(|p| p.estimate.ratio_ci.map(|c| c.high)),
                        p_adjusted: g.map_or(1.0, |p| p.p_adjusted),
                        gate_verdict: g.map_or(Verdict::Inconclusive, |p| p.verdict),
                        significant_verdict: s.map_or(Verdict::Inconclusive, |p| p.verdict),
                    }
                })
                .collect();
            CounterTrialConfig {
                id: id.clone(),
                inject_loops: inject_loops(id),
                metrics,
            }
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::comparison::VerdictPolicy;
    use crate::comparison::calibration::significance_policy;
    use crate::model::host::FingerprintDiff;
    use crate::model::measurement::Measurement;

    /// The gate's default policy (`commands::flags`): instructions gated at 1%.
    pub(crate) fn policy() -> VerdictPolicy {
        VerdictPolicy {
            alpha: 0.05,
            threshold: 0.05,
            gates: [
                (Metric::Wall, 0.05),
                (Metric::CpuTotal, 0.05),
                (Metric::Vcsw, 0.02),
                (Metric::Instructions, 0.01),
            ]
            .into(),
        }
    }

    pub(crate) fn contexts(ids: &[&str]) -> (PairedContext, PairedContext) {
        let gate = PairedContext {
            counters: Vec::new(),
            ids: ids.iter().map(|s| (*s).to_owned()).collect(),
            baseline_label: "side A".to_owned(),
            policy: policy(),
            fingerprint: FingerprintDiff::default(),
            added: vec![],
            removed: vec![],
            min_blocks: 0,
            estimator: crate::comparison::PairedEstimator::Mean,
        };
        let significance = PairedContext {
            policy: significance_policy(&gate.policy),
            ..gate.clone()
        };
        (gate, significance)
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

    fn fake_per_call() -> BTreeMap<Metric, f64> {
        [
            (Metric::Instructions, 2300.0),
            (Metric::InstructionsLoop, 2000.0),
            (Metric::InstructionsWorker, 300.0),
        ]
        .into()
    }

    #[test]
    fn injections_are_sized_from_the_measured_iteration_and_never_zero() {
        // The fake: 2300 instructions per call, 4 per iteration, no offset: 1% = 23 = 5.75
        // iterations.
        assert_eq!(inject_loops_for(1.0, 2300.0, 4.0, 0.0), 6);
        assert_eq!(inject_loops_for(0.01, 100.0, 7.0, 0.0), 1);
        // 1% of 3264.8 with a 4-instruction entry is 4.09 iterations of 7: 5, not 4
        // (4 would inject 0.98%).
        assert_eq!(inject_loops_for(1.0, 3264.8, 7.0, 4.0), 5);
        let medians = ProbeMedians {
            plain: 2000.0,
            probe: 6000.0,
            double: 10_000.0,
        };
        let pilot = CounterPilot::measured("a", fake_per_call(), 1000, medians, &[1.0]).unwrap();
        assert_eq!(
            (pilot.instructions_per_loop, pilot.injection_offset),
            (4.0, 0.0)
        );
        assert_eq!(pilot.inject_loops, [6]);
        assert!((pilot.expected_ratio(Metric::Instructions, 6) - 2324.0 / 2300.0).abs() < 1e-12);
        assert!((pilot.expected_ratio(Metric::InstructionsLoop, 6) - 1.012).abs() < 1e-12);
        assert_eq!(pilot.expected_ratio(Metric::InstructionsWorker, 6), 1.0);
        assert_eq!(pilot.expected_ratio(Metric::Instructions, 0), 1.0);
    }

    #[test]
    fn the_offset_of_entering_the_loop_is_measured_and_sized_in() {
        // As the real binary measured here: 7 per iteration plus 4 for any injection.
        // 1% of 2192.4 = 21.9: (21.9 - 4) / 7 = 2.56 -> 3 iterations, 25 instructions;
        // without the offset it would be 3.13 -> 4, planned as 28 (+1.3%).
        let per_call: BTreeMap<Metric, f64> = [
            (Metric::Instructions, 2192.4),
            (Metric::InstructionsLoop, 1898.3),
            (Metric::InstructionsWorker, 294.1),
        ]
        .into();
        let medians = ProbeMedians {
            plain: 1898.3,
            probe: 1898.3 + 4.0 + 7000.0,
            double: 1898.3 + 4.0 + 14_000.0,
        };
        let pilot = CounterPilot::measured("a", per_call, 1000, medians, &[1.0, 5.0]).unwrap();
        assert!((pilot.instructions_per_loop - 7.0).abs() < 1e-9);
        assert!((pilot.injection_offset - 4.0).abs() < 1e-6);
        // 5% = 109.6: (109.6 - 4) / 7 = 15.09 -> 16 (15 would inject 4.98%).
        assert_eq!(pilot.inject_loops, [3, 16]);
        let expected = pilot.expected_ratio(Metric::Instructions, 3);
        assert!(
            (expected - (1.0 + 25.0 / 2192.4)).abs() < 1e-9,
            "{expected}"
        );
        // An injection that adds nothing per iteration has no pilot.
        let flat = ProbeMedians {
            plain: 1.0,
            probe: 5.0,
            double: 5.0,
        };
        assert!(CounterPilot::measured("a", fake_per_call(), 1000, flat, &[1.0]).is_none());
    }

    #[test]
    fn exact_counts_judged_through_the_gates_comparison() {
        let (gate, significance) = contexts(&["a"]);
        let ids = gate.ids.clone();
        // A/A: identical counts, unchanged by both rules.
        let same = session("a", 3, |_| [2000.0, 300.0], |_| [2000.0, 300.0]);
        let judged = judge(&same, &gate, &significance);
        let configs = trial_configs(&same, &judged, &ids, |_| 0);
        assert_eq!(configs[0].metrics.len(), 3);
        for m in &configs[0].metrics {
            assert_eq!(m.gate_verdict, Verdict::Unchanged, "{m:?}");
            // With every threshold 0 nothing is ever "unchanged": no change is inconclusive.
            assert_eq!(m.significant_verdict, Verdict::Inconclusive, "{m:?}");
            assert_eq!(m.side_a.len(), 3);
        }
        assert!(!judged.gate.has_regression());
        // Side B +24 instructions on the loop (+1.04% in total, +1.2% on the loop).
        let more = session("a", 3, |_| [2000.0, 300.0], |_| [2024.0, 300.0]);
        let judged = judge(&more, &gate, &significance);
        let configs = trial_configs(&more, &judged, &ids, |_| 6);
        let of = |metric: Metric| {
            configs[0]
                .metrics
                .iter()
                .find(|m| m.metric == metric)
                .unwrap()
        };
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
        assert_eq!(configs[0].inject_loops, 6);
        assert!(judged.gate.has_regression() && judged.significance.has_regression());
    }
}
