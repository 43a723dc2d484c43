//! `cargo xtask calibrate --counters`: how well the instruction-count gate works on this
//! host. A/A trials (the same binary on both sides) give the false alarms; trials with a
//! known number of loop iterations injected into side B (`--inject-loops`) give the
//! detections; the spread of the A/A counting runs gives the MDE; a configuration whose
//! counts do not reproduce is named.
//!
//! # How it works
//!
//! 1. Callgrind is detected as for `bench --counters` (without valgrind: exit 2), and the
//!    binary must know `--inject-loops`.
//! 2. Pilot (`pilot`): every configuration is counted `--pilot-runs` times without
//!    injection and with [`pilot::PROBE_LOOPS`] and twice as many injected iterations; the
//!    medians give its instructions per call, the instructions of one iteration on the loop
//!    and those of entering the loop at all (measured, not assumed), and these the
//!    injection of an effect of `E`%: `ceil((E/100 * instructions - offset) /
//!    per_iteration)`, the fewest whole iterations that reach the effect.
//! 3. Trials (`trials`): `--trials` rounds, each of one A/A trial and one trial per
//!    `--effect`, interleaved. A trial counts every configuration `--counter-runs` times per
//!    side, the sides alternating as in `bench --against --counters`, and judges the runs
//!    through the gate's comparison (`comparison::calibration::counter_trials`).
//! 4. `comparison::calibration::counter_findings` turns the trials into false alarms,
//!    detections, MDEs and reproducibility per configuration and metric;
//!    `report::calibration::counters` renders them; `--json` writes them.

mod pilot;
mod trials;

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;

use crate::commands::exit::Outcome;
use crate::comparison::VerdictPolicy;
use crate::comparison::calibration::counter_findings::{
    AnalysisSettings, COUNTER_CALIBRATION_KIND, COUNTER_CALIBRATION_SCHEMA, CounterCalibration,
    CounterCalibrationSettings, CounterFindings, summarise,
};
use crate::comparison::calibration::counter_mde::CounterFamily;
use crate::engine::runner;
use crate::engine::target::Target;
use crate::model::files::{pretty_json, write_atomically};
use crate::model::git::GitRevision;
use crate::model::host::HostFingerprint;
use crate::model::usage::UsageError;
use crate::report;

/// What `calibrate --counters` runs (the calibrate command's validated settings).
#[derive(Debug)]
pub struct Plan<'a> {
    pub target: &'a Target,
    pub policy: &'a VerdictPolicy,
    pub trials: u32,
    pub effects: &'a [f64],
    pub pilot_runs: u32,
    pub power: f64,
    pub json: Option<&'a Path>,
}

/// Runs the counter calibration (see the module docs).
pub fn run(plan: &Plan<'_>) -> anyhow::Result<Outcome> {
    let target = plan.target;
    let callgrind = target
        .counters
        .resolve()?
        .ok_or_else(|| UsageError("--counters: counting is switched off".to_owned()))?;
    let program = target.program()?;
    if !crate::engine::capabilities::probe(&program)?.counts_instructions() {
        return Err(UsageError(format!(
            "{} has no {} flag (it predates instruction counts): it cannot be calibrated on \
             counters",
            program.display(),
            handoff_protocol::Flag::InjectLoops
        ))
        .into());
    }
    let all_ids = runner::list_ids(&program, &[])?;
    let ids = target.selected_ids(&program)?;
    let runs = target.counters.runs;
    let counting = callgrind.command(&target.command(program), target.counters.count);
    let pilot::PilotRun {
        pilot,
        seconds_per_run,
    } = pilot::run(&counting, &ids, plan.pilot_runs, plan.effects)?;
    let planned = u64::from(plan.trials)
        * (1 + plan.effects.len() as u64)
        * ids.len() as u64
        * 2
        * u64::from(runs);
    eprintln!(
        "calibrating the counters of {} configurations: {} trials x {} kinds x {} runs a side; \
         {planned} counting runs, estimated {:.0} min",
        ids.len(),
        plan.trials,
        1 + plan.effects.len(),
        runs,
        seconds_per_run * planned as f64 / 60.0
    );
    let family = CounterFamily::of(plan.policy, ids.len(), all_ids.len(), plan.power);
    let started = Instant::now();
    let trials = trials::run(&trials::TrialPlan {
        command: &counting,
        ids: &ids,
        pilot: &pilot,
        effects: plan.effects,
        rounds: plan.trials,
        runs,
        policy: plan.policy,
    })?;
    let CounterFindings {
        false_alarms_significant,
        false_alarms_gate,
        configs,
    } = summarise(
        &trials,
        &pilot,
        AnalysisSettings {
            policy: plan.policy,
            family,
            effects: plan.effects,
            runs,
        },
    );
    let failed = trials.iter().any(|t| t.failed_runs > 0);
    let calibration = CounterCalibration {
        kind: COUNTER_CALIBRATION_KIND.to_owned(),
        schema: COUNTER_CALIBRATION_SCHEMA,
        created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        host: HostFingerprint::detect(&target.root),
        git: GitRevision::detect(&target.root),
        settings: CounterCalibrationSettings {
            only: target.only.clone(),
            ids,
            trials: plan.trials,
            counter_runs: runs,
            counter_count: target.counters.count,
            work: target.flags.work.to_string(),
            in_flight: target.flags.in_flight,
            effects_pct: plan.effects.to_vec(),
            pilot_runs: plan.pilot_runs,
            policy: plan.policy.clone(),
            valgrind: callgrind.version.clone(),
            realtime: callgrind.realtime,
        },
        pilot,
        family,
        false_alarms_significant,
        false_alarms_gate,
        configs,
        seconds: started.elapsed().as_secs_f64(),
        trials,
    };
    print!("{}", report::calibration::counters::render(&calibration));
    if let Some(path) = plan.json {
        write_atomically(path, &pretty_json(&calibration))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if failed {
        eprintln!("error: some counting runs failed; the figures above count only the others");
        return Ok(Outcome::Failed);
    }
    Ok(Outcome::Clean)
}
