//! The calibration's trials: `--trials` rounds, each of one A/A trial and one trial per
//! `--effect`, interleaved so slow drift of the host touches every kind alike. Every trial
//! is a complete paired session of exactly `--blocks` blocks through the same machinery as
//! `bench --against` (`engine::paired_session`), judged by both rules of
//! `comparison::calibration`.

use crate::comparison::PairedEstimator;
use crate::comparison::VerdictPolicy;
use crate::comparison::calibration::{Pilot, Trial, judge, significance_policy, trial_configs};
use crate::comparison::paired::PairedContext;
use crate::engine::paired_session::run_session;
use crate::engine::runner::BenchCommand;
use crate::engine::runner::{Injection, Injections};
use crate::engine::sampling::{self, Sampling};
use crate::engine::stop_rule::{MonotonicClock, StopRule};
use crate::model::host::FingerprintDiff;
use crate::model::paired_record::Side;
use crate::report;

/// What the trials run.
#[derive(Debug)]
pub struct TrialPlan<'a> {
    /// The one binary, run as both side A (base) and side B (head).
    pub command: &'a BenchCommand,
    /// How each trial samples the two sides (`--sampling`).
    pub sampling: Sampling,
    /// The paired estimator (`--estimator`).
    pub estimator: PairedEstimator,
    pub ids: &'a [String],
    /// Per configuration, the injection of each effect.
    pub pilot: &'a [Pilot],
    pub effects: &'a [f64],
    pub rounds: u32,
    pub blocks: u32,
    /// The gate's policy; the significant rule is derived from it.
    pub policy: &'a VerdictPolicy,
}

/// Runs every trial of the plan, printing one line per trial and every failed run.
pub fn run(plan: &TrialPlan<'_>) -> anyhow::Result<Vec<Trial>> {
    let gate_ctx = PairedContext {
        counters: Vec::new(),
        ids: plan.ids.to_vec(),
        baseline_label: "side A".to_owned(),
        policy: plan.policy.clone(),
        fingerprint: FingerprintDiff::default(),
        added: vec![],
        removed: vec![],
        min_blocks: plan.blocks,
        estimator: plan.estimator,
    };
    let sig_ctx = PairedContext {
        counters: Vec::new(),
        policy: significance_policy(plan.policy),
        ..gate_ctx.clone()
    };
    let rule = StopRule {
        min_blocks: plan.blocks,
        max_time: None,
    };
    // `None` is the A/A trial, `Some(e)` the trial of `effects[e]`.
    let kinds: Vec<Option<usize>> = std::iter::once(None)
        .chain((0..plan.effects.len()).map(Some))
        .collect();
    let mut trials = Vec::new();
    for round in 0..plan.rounds {
        for kind in &kinds {
            let mut injections = Injections::new();
            if let Some(e) = kind {
                for p in plan.pilot {
                    injections.insert((Side::Head, p.id.clone()), Injection::Ns(p.inject_ns[*e]));
                }
            }
            let mut executor = sampling::executor(
                plan.sampling,
                plan.command.clone(),
                plan.command.clone(),
                injections,
            );
            let clock = MonotonicClock::start();
            let outcome = run_session(executor.as_mut(), &gate_ctx, rule, &clock, &mut |_| {})?;
            let judged = judge(&outcome.samples, &gate_ctx, &sig_ctx);
            let trial = Trial {
                round,
                effect_pct: kind.map(|e| plan.effects[e]),
                configs: trial_configs(&outcome.samples, &judged, plan.ids),
                any_gate_regression: judged.gate.has_regression(),
                any_significant_regression: judged.significance.has_regression(),
                failed_runs: outcome.failures.len(),
            };
            eprintln!("{}", report::calibration::trial_line(&trial, plan.rounds));
            for f in &outcome.failures {
                eprintln!(
                    "  FAILED {} {:?} block {}: {}",
                    f.id,
                    f.side,
                    f.run + 1,
                    f.reason
                );
            }
            trials.push(trial);
        }
    }
    Ok(trials)
}
