//! `cargo xtask calibrate`: how well the paired gate works on this host. A/A trials (the
//! same binary on both sides) give the false-regression rate; trials with a known slowdown
//! injected into side B (`--inject-ns`) give the detection rate; the spread of the A/A
//! block log-ratios gives the minimum detectable effect (MDE).
//!
//! # How it works
//!
//! 1. Pilot (`pilot`): every selected configuration runs `--pilot-runs` times; the median
//!    wall time per call `w` sets the injection of an effect of `E`%:
//!    `inject_ns = round(E/100 * w)`. The benchmark adds `inject_ns` of busy work before
//!    every call on the async side, so with one call in flight the wall time per call grows
//!    by about `E`%; the report shows the ratio actually observed.
//! 2. Trials (`trials`): `--trials` rounds, each running one A/A trial and one trial per
//!    `--effect`, interleaved so slow drift of the host touches every kind alike. Every
//!    trial is a complete paired session of exactly `--blocks` blocks through the same
//!    machinery as `bench --against` (ABBA/BAAB blocks, the same sampling design and
//!    estimator, Holm over the gated pairs, the same verdicts).
//! 3. Each trial is judged by the gate's rule and by significance alone, and the trials
//!    become rates, detections and MDEs: `comparison::calibration`, whose docs give the
//!    rules, the MDE formula and how the gate's threshold bears on what it can confirm.
//! 4. `report::calibration` renders the figures; `--json` writes them.
//!
//! # Defaults (sized for `--only 'tokio-current/*'` on the 2-vCPU hosts)
//!
//! The run flags are the gate's own (`commands::flags::RunArgs`, shared with `bench`, with
//! its defaults: lock-step sampling of 4 slices x 1000 calls after 20 ms of warm-up, pinned,
//! Hodges-Lehmann): calibrate what you gate. `--trials 20`, `--effect 5`, `--blocks 60`
//! (= `bench --min-blocks`): 20 x (1 + 1) trials x 60 blocks x ~8 configurations, each block
//! two serving processes and 8 slices, about 0.12 s per configuration and block here: about
//! 40 minutes (measured: 2413 s). `--sampling processes --blocks 10 --estimator mean` is the design the gate
//! had before (`docs/book/src/notes/2026-12-02-sampling-designs.md`).
//!
//! # `--counters`
//!
//! With `--counters`, only the calibration of the instruction counts runs (`counters`: the
//! same A/A and injected trials through the gate's counting comparison, with side B's
//! injection in loop iterations, `--inject-loops`), and `--effect` defaults to 1 (the
//! instruction gate's threshold) instead of 5.

mod counters;
mod pilot;
mod trials;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;

use crate::commands::exit::Outcome;
use crate::commands::flags::{PolicyArgs, RunArgs, parse_positive_pct, parse_probability};
use crate::comparison::VerdictPolicy;
use crate::comparison::calibration::{
    CALIBRATION_KIND, CALIBRATION_SCHEMA, Calibration, CalibrationSettings, Family, Findings,
    summarise,
};
use crate::engine::runner;
use crate::engine::target::{CountersRequest, Target};
use crate::model::files::{pretty_json, write_atomically};
use crate::model::git::GitRevision;
use crate::model::host::HostFingerprint;
use crate::model::metric::Metric;
use crate::report;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Calibrate what you gate: the run options are bench's, with the same \
    defaults. An injection maps to wall time 1:1 only with one call in flight.\n\n\
    --counters calibrates the instruction counts instead of the timing, and only them (the \
    timing trials of tokio-current/* take about 26 minutes here): per trial --counter-runs \
    runs of each side under callgrind at --counter-count calls, side B with --inject-loops \
    sized to --effect percent of each configuration's instructions per call (default 1 \
    with --counters); --blocks does not apply. It reports per configuration and counter \
    metric the A/A false alarms, the detections and the minimum detectable effect, and \
    names the configurations whose counts do not reproduce."
)]
pub struct Args {
    /// Trials of each kind (A/A, and each injected effect).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub trials: u32,
    /// An injected slowdown of side B, in percent of the configuration's wall time per call
    /// (with --counters: of its instructions per call) measured in the pilot; repeatable
    /// [default: 5; 1 with --counters]
    #[arg(long = "effect", value_name = "PCT", value_parser = parse_positive_pct)]
    pub effects: Vec<f64>,
    /// Blocks per trial (the same as `bench --min-blocks`; at least 2; timing only).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(2..))]
    pub blocks: u32,
    /// Pilot runs per configuration (their median wall time per call, with --counters their
    /// median counts, size the injection).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub pilot_runs: u32,
    /// Power of the MDE (probability of detecting an effect of that size).
    #[arg(long, default_value_t = 0.8, value_parser = parse_probability)]
    pub power: f64,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Write the calibration report as JSON.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Last: clap keeps the "Run options" heading for every flag declared after these.
    #[command(flatten)]
    pub run: RunArgs,
}

/// Validated settings of one `calibrate` invocation.
#[derive(Debug)]
pub struct Config {
    /// The benchmark, as `bench` would run it (never with `--gap` or `--inject-ns`: the
    /// trials inject on side B themselves).
    pub target: Target,
    pub policy: VerdictPolicy,
    pub trials: u32,
    pub effects: Vec<f64>,
    pub blocks: u32,
    pub pilot_runs: u32,
    pub power: f64,
    pub json: Option<PathBuf>,
    /// `--counters`: calibrate the instruction counts instead of the timing.
    pub counters: bool,
}

/// `--effect`'s default: the instruction gate's threshold with `--counters`, else 5%.
fn default_effects(counters: bool) -> Vec<f64> {
    vec![if counters { 1.0 } else { 5.0 }]
}

impl TryFrom<Args> for Config {
    type Error = anyhow::Error;

    fn try_from(args: Args) -> anyhow::Result<Self> {
        let target = args.run.into_target();
        let counters = target.counters.request == CountersRequest::Required;
        Ok(Config {
            policy: args.policy.policy()?,
            target,
            counters,
            trials: args.trials,
            effects: if args.effects.is_empty() {
                default_effects(counters)
            } else {
                args.effects
            },
            blocks: args.blocks,
            pilot_runs: args.pilot_runs,
            power: args.power,
            json: args.json,
        })
    }
}

impl Args {
    pub fn run(self) -> anyhow::Result<Outcome> {
        Config::try_from(self)?.run()
    }
}

impl Config {
    fn run(self) -> anyhow::Result<Outcome> {
        if self.counters {
            return counters::run(&counters::Plan {
                target: &self.target,
                policy: &self.policy,
                trials: self.trials,
                effects: &self.effects,
                pilot_runs: self.pilot_runs,
                power: self.power,
                json: self.json.as_deref(),
            });
        }
        let Config {
            target,
            policy,
            effects,
            ..
        } = &self;
        let program = target.program()?;
        let all_ids = runner::list_ids(&program, &[])?;
        let ids = target.selected_ids(&program)?;
        let command = target.command(program);
        let pilot::PilotRun {
            pilot,
            seconds_per_pass,
        } = pilot::run(&command, &ids, self.pilot_runs, effects)?;
        let runs = u64::from(self.trials) * (1 + effects.len() as u64) * u64::from(self.blocks) * 2;
        eprintln!(
            "calibrating {} configurations: {} trials x {} kinds x {} blocks; estimated {:.0} min",
            ids.len(),
            self.trials,
            1 + effects.len(),
            self.blocks,
            seconds_per_pass * runs as f64 / 60.0
        );

        let gated_metrics = Metric::TIMING
            .iter()
            .filter(|m| policy.is_gated(**m))
            .count();
        let family = Family {
            gated_pairs: ids.len() * gated_metrics,
            full_suite_gated_pairs: all_ids.len() * gated_metrics,
            alpha: policy.alpha,
            power: self.power,
        };
        let started = Instant::now();
        let trials = trials::run(&trials::TrialPlan {
            command: &command,
            sampling: target.sampling,
            estimator: target.estimator,
            ids: &ids,
            pilot: &pilot,
            effects,
            rounds: self.trials,
            blocks: self.blocks,
            policy,
        })?;
        let Findings {
            false_alarms_significant,
            false_alarms_gate,
            detection,
            mde,
        } = summarise(
            &trials,
            &pilot,
            effects,
            self.blocks as usize,
            family,
            policy.threshold_of(Metric::Wall),
            target.estimator,
        );
        let failed = trials.iter().any(|t| t.failed_runs > 0);
        let calibration = Calibration {
            kind: CALIBRATION_KIND.to_owned(),
            schema: CALIBRATION_SCHEMA,
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            host: HostFingerprint::detect(&target.root),
            git: GitRevision::detect(&target.root),
            settings: CalibrationSettings {
                only: target.only.clone(),
                ids,
                trials: self.trials,
                blocks: self.blocks,
                count: target.flags.count,
                work: target.flags.work.to_string(),
                in_flight: target.flags.in_flight,
                pin: target.flags.pin,
                sampling: target.sampling.to_string(),
                warm_up_ms: target.flags.warm_up_ms,
                estimator: target.estimator,
                effects_pct: effects.clone(),
                policy: policy.clone(),
            },
            pilot,
            false_alarms_significant,
            false_alarms_gate,
            detection,
            family,
            mde,
            seconds: started.elapsed().as_secs_f64(),
            trials,
        };
        print!("{}", report::calibration::render(&calibration));
        if let Some(path) = &self.json {
            write_atomically(path, &pretty_json(&calibration))
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        if failed {
            eprintln!("error: some runs failed; the rates above count only complete blocks");
            return Ok(Outcome::Failed);
        }
        Ok(Outcome::Clean)
    }
}
