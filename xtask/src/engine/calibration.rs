//! The machinery of `cargo xtask calibrate`, for the timing and (`--counters`) for the
//! instruction counts alike: the pilot, then the trials, each sampling both sides as the
//! instrument says (`comparison::calibration::settings::Instrument`), judged and summed up by
//! `comparison::calibration`.
//!
//! # How it works
//!
//! 1. The instrument: the timing of the gate's paired sessions, or the counts of its
//!    counting runs. For counts callgrind is detected as for `bench --counters` (without
//!    valgrind: exit 2), the binary must know `--inject-loops`, and every run is the timing
//!    command under callgrind at `--counter-count` calls.
//! 2. Pilot: every configuration runs `--pilot-runs` times without injection and, for
//!    counts, with each of the probing loop injections (`Instrument::probe_loops`);
//!    `comparison::calibration::pilot` sizes each effect's injection from those runs. A
//!    failed run stops the calibration: without its pilot a configuration's injection is
//!    unknown.
//! 3. Trials: `--trials` rounds of one A/A trial and one trial per `--effect`. Side B (the
//!    head side of the machinery, the same binary) gets each configuration's injection,
//!    `--inject-ns` or `--inject-loops`; a trial is one paired session of exactly
//!    `--blocks` blocks (`paired_session::run_session` through the `--sampling` executor,
//!    as `bench --against`) or `--counter-runs` counting runs a side
//!    (`counting::count_sides`, as `bench --against --counters`); `Trial::judge` judges it.
//! 4. `Calibration::new` sums the trials up into false alarms, detections and MDEs
//!    (`comparison::calibration::findings`).

use std::time::{Duration, Instant};

use crate::comparison::VerdictPolicy;
use crate::comparison::calibration::mde::Family;
use crate::comparison::calibration::pilot::Pilot;
use crate::comparison::calibration::settings::{CalibrationSettings, Counting, Instrument, Timing};
use crate::comparison::calibration::trials::{Rules, Trial, TrialRun};
use crate::comparison::calibration::{Calibration, Provenance};
use crate::engine::counting::count_sides;
use crate::engine::paired_session::run_session;
use crate::engine::progress::Progress;
use crate::engine::runner::{self, BenchCommand, ChildFailure, Injection, Injections};
use crate::engine::sampling;
use crate::engine::stop_rule::{MonotonicClock, StopRule};
use crate::engine::target::Target;
use crate::model::git::GitRevision;
use crate::model::host::HostFingerprint;
use crate::model::measurement::Measurement;
use crate::model::paired_record::{PairedSample, Side};
use crate::model::results::RunFailure;
use crate::model::usage::UsageError;

/// What a calibration runs: `calibrate`'s validated flags.
#[derive(Debug, Clone)]
pub struct CalibrationPlan {
    /// The benchmark, as `bench` would run it (never with `--gap` or `--inject-ns`: the
    /// trials inject on side B themselves).
    pub target: Target,
    pub policy: VerdictPolicy,
    /// Calibrate the instruction counts instead of the timing.
    pub counters: bool,
    /// Rounds of trials.
    pub trials: u32,
    pub effects: Vec<f64>,
    /// Blocks per timing trial.
    pub blocks: u32,
    pub pilot_runs: u32,
    /// The MDE's power.
    pub power: f64,
}

/// One trial done, for progress output.
#[derive(Debug, Clone, Copy)]
pub struct TrialDone<'a> {
    pub instrument: &'a Instrument,
    pub trial: &'a Trial,
    /// Rounds of the plan.
    pub rounds: u32,
    pub failures: &'a [RunFailure],
    pub took: Duration,
}

/// The instrument, the command every run of both sides starts from, and the program.
struct Setup {
    instrument: Instrument,
    command: BenchCommand,
    program: std::path::PathBuf,
}

fn setup(plan: &CalibrationPlan) -> anyhow::Result<Setup> {
    let target = &plan.target;
    if !plan.counters {
        let program = target.program()?;
        return Ok(Setup {
            instrument: Instrument::Timing(Timing {
                blocks: plan.blocks,
                count: target.flags.count,
                pin: target.flags.pin,
                sampling: target.sampling,
                warm_up_ms: target.flags.warm_up_ms,
                estimator: target.estimator,
            }),
            command: target.command(program.clone()),
            program,
        });
    }
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
    let counting = target.counters;
    Ok(Setup {
        instrument: Instrument::Counters(Counting {
            counter_runs: counting.runs,
            counter_count: counting.count,
            valgrind: callgrind.version.clone(),
            realtime: callgrind.realtime,
        }),
        command: callgrind.command(&target.command(program.clone()), counting.count),
        program,
    })
}

/// Side B's injection of `amount`: busy nanoseconds for the timing, loop iterations for the
/// counts (whose instructions are deterministic, where a busy wait's are not).
fn injection(instrument: &Instrument, amount: u64) -> Injection {
    match instrument {
        Instrument::Timing(_) => Injection::Ns(amount),
        Instrument::Counters(_) => Injection::Loops(amount),
    }
}

/// Runs the calibration (see the module docs); `observe` sees every trial.
pub fn run(
    plan: &CalibrationPlan,
    observe: &mut dyn FnMut(TrialDone<'_>),
) -> anyhow::Result<Calibration> {
    let Setup {
        instrument,
        command,
        program,
    } = setup(plan)?;
    let target = &plan.target;
    let all_ids = runner::list_ids(&program, &[])?;
    let ids = target.selected_ids(&program)?;
    let (pilot, seconds_per_run) = pilot(&command, &ids, plan, &instrument)?;
    let (_, per_trial) = instrument.design();
    let kinds = 1 + plan.effects.len() as u64;
    let planned = u64::from(plan.trials) * kinds * ids.len() as u64 * 2 * u64::from(per_trial);
    eprintln!(
        "calibrating the {} of {} configurations: {} trials x {kinds} kinds x {per_trial} {}; \
         {planned} runs, estimated {:.0} min",
        match instrument {
            Instrument::Timing(_) => "timing",
            Instrument::Counters(_) => "instruction counts",
        },
        ids.len(),
        plan.trials,
        match instrument {
            Instrument::Timing(_) => "blocks",
            Instrument::Counters(_) => "counting runs a side",
        },
        seconds_per_run * planned as f64 / 60.0
    );

    let started = Instant::now();
    let trials = trials(plan, &instrument, &command, &ids, &pilot, observe)?;
    let seconds = started.elapsed().as_secs_f64();

    let family = Family::of(
        &plan.policy,
        &instrument.family_metrics(),
        ids.len(),
        all_ids.len(),
        plan.power,
    );
    let settings = CalibrationSettings {
        only: target.only.clone(),
        ids,
        trials: plan.trials,
        work: target.flags.work.to_string(),
        in_flight: target.flags.in_flight,
        effects_pct: plan.effects.clone(),
        pilot_runs: plan.pilot_runs,
        policy: plan.policy.clone(),
        instrument,
    };
    let provenance = Provenance {
        created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        host: HostFingerprint::detect(&target.root),
        git: GitRevision::detect(&target.root),
        seconds,
    };
    Ok(Calibration::new(
        settings, pilot, family, trials, provenance,
    ))
}

/// Runs `plan.trials` rounds of one A/A trial and one per effect, side B of each
/// configuration with its injection of that effect.
fn trials(
    plan: &CalibrationPlan,
    instrument: &Instrument,
    command: &BenchCommand,
    ids: &[String],
    pilot: &[Pilot],
    observe: &mut dyn FnMut(TrialDone<'_>),
) -> anyhow::Result<Vec<Trial>> {
    let rules = Rules::new(ids, &plan.policy, instrument);
    let mut trials = Vec::new();
    for round in 0..plan.trials {
        // `None` is the A/A trial, `Some(e)` the trial of `effects[e]`.
        for effect in std::iter::once(None).chain((0..plan.effects.len()).map(Some)) {
            let injected = |id: &str| {
                let pilot = pilot.iter().find(|p| p.id == id);
                effect.zip(pilot).map_or(0, |(e, p)| p.injection(e))
            };
            let injections: Injections = ids
                .iter()
                .filter(|id| injected(id) > 0)
                .map(|id| {
                    let amount = injected(id);
                    ((Side::Head, id.clone()), injection(instrument, amount))
                })
                .collect();
            let started = Instant::now();
            let (samples, failures) = sample(instrument, command, &rules, injections)?;
            let run = TrialRun {
                round,
                effect_pct: effect.map(|e| plan.effects[e]),
                samples: &samples,
                failed_runs: failures.len(),
            };
            let trial = Trial::judge(run, instrument, &rules, injected);
            observe(TrialDone {
                instrument,
                trial: &trial,
                rounds: plan.trials,
                failures: &failures,
                took: started.elapsed(),
            });
            trials.push(trial);
        }
    }
    Ok(trials)
}

/// One trial's samples of both sides and its failed runs.
fn sample(
    instrument: &Instrument,
    command: &BenchCommand,
    rules: &Rules,
    injections: Injections,
) -> anyhow::Result<(Vec<PairedSample>, Vec<RunFailure>)> {
    match instrument {
        Instrument::Timing(timing) => {
            let mut executor = sampling::executor(
                timing.sampling,
                command.clone(),
                command.clone(),
                injections,
            );
            let rule = StopRule {
                min_blocks: timing.blocks,
                max_time: None,
            };
            let clock = MonotonicClock::start();
            let outcome = run_session(executor.as_mut(), &rules.gate, rule, &clock, &mut |_| {})?;
            Ok((outcome.samples, outcome.failures))
        }
        Instrument::Counters(counting) => {
            // The trial lines are the progress; a bar per counting run would bury them.
            let mut quiet = Progress::Bar(indicatif::ProgressBar::hidden());
            let counted = count_sides(
                command,
                command,
                &injections,
                &rules.gate.ids,
                counting.counter_runs,
                &mut quiet,
            );
            Ok((counted.samples, counted.failures))
        }
    }
}

/// Runs every configuration `plan.pilot_runs` times without injection and with each of the
/// instrument's probes, sizes the injections, and times the plain runs (seconds per run).
fn pilot(
    command: &BenchCommand,
    ids: &[String],
    plan: &CalibrationPlan,
    instrument: &Instrument,
) -> anyhow::Result<(Vec<Pilot>, f64)> {
    let probes: Vec<BenchCommand> = instrument
        .probe_loops()
        .iter()
        .map(|&loops| command.injected(Some(Injection::Loops(loops))))
        .collect();
    let mut plain_time = Duration::ZERO;
    let mut plain: Vec<Vec<Measurement>> = vec![Vec::new(); ids.len()];
    let mut probed: Vec<Vec<Vec<Measurement>>> = vec![vec![Vec::new(); probes.len()]; ids.len()];
    for _ in 0..plan.pilot_runs {
        for (i, id) in ids.iter().enumerate() {
            let started = Instant::now();
            plain[i].push(pilot_run(command, id)?);
            plain_time += started.elapsed();
            for (k, probe) in probes.iter().enumerate() {
                probed[i][k].push(pilot_run(probe, id)?);
            }
        }
    }
    let pilot = ids
        .iter()
        .zip(plain.iter().zip(&probed))
        .map(|(id, (plain, probed))| {
            Pilot::from_runs(instrument, id, plain, probed, &plan.effects)
                .map_err(anyhow::Error::msg)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let runs = f64::from(plan.pilot_runs) * ids.len().max(1) as f64;
    Ok((pilot, plain_time.as_secs_f64() / runs))
}

/// One pilot run; a binary rejecting its arguments is bad usage.
fn pilot_run(command: &BenchCommand, id: &str) -> anyhow::Result<Measurement> {
    match runner::run_one(command, id) {
        Ok(m) => Ok(m),
        Err(ChildFailure::BadUsage { stderr_tail }) => Err(UsageError(format!(
            "{} rejected the arguments (exit status 2):\n{stderr_tail}",
            command.program.display()
        ))
        .into()),
        Err(f) => anyhow::bail!("pilot run of {id} failed: {f}\n{}", f.stderr_tail()),
    }
}
