//! The counter calibration's trials: `--trials` rounds, each of one A/A trial and one trial
//! per `--effect`, interleaved so slow drift of the host touches every kind alike. A trial
//! counts every configuration `--counter-runs` times per side, the sides alternating (side A
//! first in even runs, side B first in odd ones, as `bench --against --counters` does),
//! one process at a time, and judges the runs by both rules of
//! `comparison::calibration::counter_trials`.

use std::time::Instant;

use super::pilot::injected;
use crate::comparison::VerdictPolicy;
use crate::comparison::calibration::counter_trials::{
    CounterPilot, CounterTrial, judge, trial_configs,
};
use crate::comparison::calibration::significance_policy;
use crate::comparison::paired::PairedContext;
use crate::engine::runner::{self, BenchCommand};
use crate::model::host::FingerprintDiff;
use crate::model::paired_record::{PairedSample, Side};
use crate::report;

/// What the trials run.
#[derive(Debug)]
pub struct TrialPlan<'a> {
    /// The counting command of the one binary, run as side A and (with the injection) B.
    pub command: &'a BenchCommand,
    pub ids: &'a [String],
    /// Per configuration, in `ids` order: the injection of each effect.
    pub pilot: &'a [CounterPilot],
    pub effects: &'a [f64],
    pub rounds: u32,
    /// Counting runs a side (`--counter-runs`).
    pub runs: u32,
    /// The gate's policy; the significant rule is derived from it.
    pub policy: &'a VerdictPolicy,
}

/// One failed counting run.
#[derive(Debug)]
struct Failure {
    id: String,
    side: Side,
    run: u32,
    reason: String,
}

/// The counting runs of one trial.
struct Counted {
    samples: Vec<PairedSample>,
    failures: Vec<Failure>,
}

/// `runs` counting runs per side and configuration; side B of configuration `i` runs
/// `side_b[i]`.
fn count_sides(
    side_a: &BenchCommand,
    side_b: &[BenchCommand],
    ids: &[String],
    runs: u32,
) -> Counted {
    let mut counted = Counted {
        samples: Vec::new(),
        failures: Vec::new(),
    };
    for run in 0..runs {
        for (position, (id, b)) in ids.iter().zip(side_b).enumerate() {
            let order = if run % 2 == 0 {
                [Side::Base, Side::Head]
            } else {
                [Side::Head, Side::Base]
            };
            for (turn, side) in order.into_iter().enumerate() {
                let command = match side {
                    Side::Base => side_a,
                    Side::Head => b,
                };
                match runner::run_one(command, id) {
                    Ok(measurement) => counted.samples.push(PairedSample {
                        block: run,
                        side,
                        position: (position * 2 + turn) as u32,
                        slice: None,
                        measurement,
                    }),
                    Err(failure) => counted.failures.push(Failure {
                        id: id.clone(),
                        side,
                        run,
                        reason: format!("{failure}\n{}", failure.stderr_tail()),
                    }),
                }
            }
        }
    }
    counted
}

/// Runs every trial of the plan, printing one line per trial and every failed run.
pub fn run(plan: &TrialPlan<'_>) -> anyhow::Result<Vec<CounterTrial>> {
    let gate_ctx = PairedContext {
        counters: Vec::new(),
        ids: plan.ids.to_vec(),
        baseline_label: "side A".to_owned(),
        policy: plan.policy.clone(),
        fingerprint: FingerprintDiff::default(),
        added: vec![],
        removed: vec![],
        min_blocks: 0,
        estimator: crate::comparison::PairedEstimator::Mean,
    };
    let sig_ctx = PairedContext {
        policy: significance_policy(plan.policy),
        ..gate_ctx.clone()
    };
    // `None` is the A/A trial, `Some(e)` the trial of `effects[e]`.
    let kinds: Vec<Option<usize>> = std::iter::once(None)
        .chain((0..plan.effects.len()).map(Some))
        .collect();
    let mut trials = Vec::new();
    for round in 0..plan.rounds {
        for kind in &kinds {
            let loops: Vec<u64> = plan
                .pilot
                .iter()
                .map(|p| kind.map_or(0, |e| p.inject_loops[e]))
                .collect();
            let side_b: Vec<BenchCommand> = loops
                .iter()
                .map(|&n| {
                    if n == 0 {
                        plan.command.clone()
                    } else {
                        injected(plan.command, n)
                    }
                })
                .collect();
            let started = Instant::now();
            let counted = count_sides(plan.command, &side_b, plan.ids, plan.runs);
            let judged = judge(&counted.samples, &gate_ctx, &sig_ctx);
            let loops_of = |id: &str| {
                plan.ids
                    .iter()
                    .position(|i| i == id)
                    .map_or(0, |i| loops[i])
            };
            let trial = CounterTrial {
                round,
                effect_pct: kind.map(|e| plan.effects[e]),
                configs: trial_configs(&counted.samples, &judged, plan.ids, loops_of),
                any_gate_regression: judged.gate.has_regression(),
                any_significant_regression: judged.significance.has_regression(),
                failed_runs: counted.failures.len(),
            };
            eprintln!(
                "{} ({:.0} s)",
                report::calibration::counters::trial_line(&trial, plan.rounds),
                started.elapsed().as_secs_f64()
            );
            for f in &counted.failures {
                eprintln!(
                    "  FAILED {} side {} run {}: {}",
                    f.id,
                    if f.side == Side::Base { "A" } else { "B" },
                    f.run + 1,
                    f.reason
                );
            }
            trials.push(trial);
        }
    }
    Ok(trials)
}
