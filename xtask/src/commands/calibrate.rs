//! `cargo xtask calibrate`: how well the paired gate works on this host, for its timing or
//! (`--counters`) for its instruction counts. A/A trials (the same binary on both sides)
//! give the false alarms; trials with a known slowdown injected into side B give the
//! detections; the spread of the A/A trials gives the minimum detectable effect (MDE). This
//! command parses the flags and hands over to `engine::calibration`, which runs the pilot
//! and the trials; `comparison::calibration` holds the rules and what differs between the
//! two instruments; `report::calibration` renders the figures; `--json` writes them.
//!
//! # Defaults (sized for `--only 'tokio-current/*'` on the 2-vCPU hosts)
//!
//! The run flags are the gate's own (`commands::flags::RunArgs`, shared with `bench`, with
//! its defaults: lock-step sampling of 4 slices x 1000 calls after 20 ms of warm-up, pinned,
//! Hodges-Lehmann): calibrate what you gate. `--trials 20`, `--effect 5`, `--blocks 60`
//! (= `bench --min-blocks`): 20 x (1 + 1) trials x 60 blocks x ~8 configurations, each block
//! two serving processes and 8 slices, about 0.12 s per configuration and block here: about
//! 40 minutes (measured: 2413 s). `--sampling processes --blocks 10 --estimator mean` is the
//! design the gate had before (`docs/book/src/notes/2026-12-02-sampling-designs.md`). With
//! `--counters`, `--effect` defaults to 1 (the instruction gate's threshold).

use std::path::PathBuf;

use anyhow::Context as _;

use crate::commands::exit::Outcome;
use crate::commands::flags::{PolicyArgs, RunArgs, parse_positive_pct, parse_probability};
use crate::engine::calibration::{self, CalibrationPlan};
use crate::engine::target::CountersRequest;
use crate::model::files::{pretty_json, write_atomically};
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
    pub plan: CalibrationPlan,
    pub json: Option<PathBuf>,
}

impl TryFrom<Args> for Config {
    type Error = anyhow::Error;

    fn try_from(args: Args) -> anyhow::Result<Self> {
        let target = args.run.into_target();
        let counters = target.counters.request == CountersRequest::Required;
        // The default effect is each gate's own threshold: 1% of instructions, 5% of Wall.
        let effects = if args.effects.is_empty() {
            vec![if counters { 1.0 } else { 5.0 }]
        } else {
            args.effects
        };
        Ok(Config {
            plan: CalibrationPlan {
                policy: args.policy.policy()?,
                target,
                counters,
                trials: args.trials,
                effects,
                blocks: args.blocks,
                pilot_runs: args.pilot_runs,
                power: args.power,
            },
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
        let calibration = calibration::run(&self.plan, &mut |done| {
            let line =
                report::calibration::common::trial_line(done.instrument, done.trial, done.rounds);
            eprintln!("{line} ({:.0} s)", done.took.as_secs_f64());
            for failure in done.failures {
                eprintln!(
                    "{}",
                    report::calibration::common::failure_line(done.instrument, failure)
                );
            }
        })?;
        print!("{}", report::calibration::render(&calibration));
        if let Some(path) = &self.json {
            write_atomically(path, &pretty_json(&calibration))
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        if calibration.trials.iter().any(|t| t.failed_runs > 0) {
            eprintln!("error: some runs failed; the figures above count only the others");
            return Ok(Outcome::Failed);
        }
        Ok(Outcome::Clean)
    }
}
