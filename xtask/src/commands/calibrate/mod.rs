//! `cargo xtask calibrate`: how well the paired gate works on this host. A/A trials (the
//! same binary on both sides) give the false-regression rate; trials with a known slowdown
//! injected into side B (`--inject-ns`) give the detection rate; the spread of the A/A
//! block log-ratios gives the minimum detectable effect (MDE).
//!
//! # How it works
//!
//! 1. Pilot ([`pilot`]): every selected configuration runs `--pilot-runs` times; the median
//!    wall time per call `w` sets the injection of an effect of `E`%:
//!    `inject_ns = round(E/100 * w)`. The benchmark adds `inject_ns` of busy work before
//!    every call on the async side, so with one call in flight the wall time per call grows
//!    by about `E`%; the report shows the ratio actually observed.
//! 2. Trials ([`trials`]): `--trials` rounds, each running one A/A trial and one trial per
//!    `--effect`, interleaved so slow drift of the host touches every kind alike. Every
//!    trial is a complete paired session of exactly `--blocks` blocks through the same
//!    machinery as `bench --against` (ABBA/BAAB blocks, paired t on log-ratios, Holm over
//!    the gated pairs, the same verdicts).
//! 3. Each trial is judged by the gate's rule and by significance alone, and the trials
//!    become rates, detections and MDEs: `comparison::calibration`, whose docs give the
//!    rules, the MDE formula and how the gate's threshold bears on what it can confirm.
//! 4. `report::calibration` renders the figures; `--json` writes them.
//!
//! # Defaults (sized for `--only 'tokio-current/*'` on the 2-vCPU hosts, ~10 minutes)
//!
//! `--trials 20`, `--effect 5`, `--blocks 10` (= `bench --min-blocks`), `--count 5000`:
//! a blocking round trip is 15-40 us here, so a run takes 0.1-0.2 s with process start;
//! 20 x (1 + 1) trials x 10 blocks x 2 sides x ~8 configurations is 6400 runs, about
//! 8-11 minutes. The per-run noise here comes mostly from thread placement, not from the
//! number of calls, so the MDE measured at 5000 calls is a fair guide for the gate's
//! counts; for the exact figure, calibrate with the gate's `--count`.

mod pilot;
mod trials;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::commands::exit::Outcome;
use crate::commands::flags::PolicyArgs;
use crate::comparison::calibration::{
    CALIBRATION_KIND, CALIBRATION_SCHEMA, Calibration, CalibrationSettings, Family, Findings,
    summarise,
};
use crate::engine::runner::{self, BenchCommand};
use crate::model::files::{pretty_json, write_atomically};
use crate::model::git::GitRevision;
use crate::model::host::HostFingerprint;
use crate::model::metric::Metric;
use crate::model::usage::UsageError;
use crate::report;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only configurations whose id matches (`*` wildcard); repeatable. Default: all.
    #[arg(long, value_name = "GLOB")]
    pub only: Vec<String>,
    /// Trials of each kind (A/A, and each injected effect).
    #[arg(long, default_value_t = 20)]
    pub trials: u32,
    /// An injected slowdown of side B, in percent of the configuration's wall time per call
    /// measured in the pilot; repeatable.
    #[arg(long = "effect", value_name = "PCT", default_values_t = [5.0])]
    pub effects: Vec<f64>,
    /// Blocks per trial (the same as `bench --min-blocks`).
    #[arg(long, default_value_t = 10)]
    pub blocks: u32,
    /// Calls per process, passed to the binary.
    #[arg(long, default_value_t = 5000)]
    pub count: u64,
    /// What each call does on the worker, passed on.
    #[arg(long, default_value = "zero")]
    pub work: String,
    /// Calls kept in flight at once, passed on (injection maps to wall time 1:1 only at 1).
    #[arg(long, default_value_t = 1)]
    pub in_flight: u64,
    /// Do not pass `--pin` to the benchmark (as `bench --no-pin`; calibrate what you gate).
    #[arg(long)]
    pub no_pin: bool,
    /// Pilot runs per configuration (their median wall time per call sizes the injection).
    #[arg(long, default_value_t = 3)]
    pub pilot_runs: u32,
    /// Power of the MDE (probability of detecting an effect of that size).
    #[arg(long, default_value_t = 0.8)]
    pub power: f64,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Write the calibration report as JSON.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Seconds one process may run before it is killed and reported.
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0)]
    pub timeout: f64,
    /// Use this benchmark executable instead of building one (for tests).
    #[arg(long, hide = true, env = "HANDOFF_BENCH_BIN")]
    pub bench_bin: Option<PathBuf>,
}

impl Args {
    pub fn run(self) -> anyhow::Result<Outcome> {
        let policy = self.policy.policy()?;
        if self.trials == 0 || self.blocks < 2 || self.count == 0 || self.pilot_runs == 0 {
            return Err(UsageError(
                "--trials, --count and --pilot-runs must be at least 1, --blocks at least 2"
                    .to_owned(),
            )
            .into());
        }
        if let Some(bad) = self.effects.iter().find(|e| !(e.is_finite() && **e > 0.0)) {
            return Err(
                UsageError(format!("--effect must be a positive percentage, got {bad}")).into(),
            );
        }
        if !(self.power > 0.0 && self.power < 1.0) {
            return Err(UsageError(format!(
                "--power must lie strictly between 0 and 1, got {}",
                self.power
            ))
            .into());
        }
        if !(self.timeout.is_finite() && self.timeout > 0.0) {
            return Err(
                UsageError(format!("--timeout must be positive, got {}", self.timeout)).into(),
            );
        }
        let root = crate::workspace_root();
        let program = match &self.bench_bin {
            Some(p) => p.clone(),
            None => {
                eprintln!("building {} (release)", crate::engine::binary::BENCH_BIN);
                crate::engine::binary::build_release(&root)?
            }
        };
        let all_ids = runner::list_ids(&program, &[])?;
        let ids = runner::list_ids(&program, &self.only)?;
        if ids.is_empty() {
            return Err(UsageError(format!(
                "no configuration of {} matches --only {:?}",
                program.display(),
                self.only
            ))
            .into());
        }
        let mut args = vec![
            "--count".to_owned(),
            self.count.to_string(),
            "--work".to_owned(),
            self.work.clone(),
            "--in-flight".to_owned(),
            self.in_flight.to_string(),
        ];
        if !self.no_pin {
            args.push(runner::PIN_FLAG.to_owned());
        }
        let command = BenchCommand {
            program,
            args,
            timeout: Duration::from_secs_f64(self.timeout),
        };
        let pilot::PilotRun {
            pilot,
            seconds_per_pass,
        } = pilot::run(&command, &ids, self.pilot_runs, &self.effects)?;
        let runs =
            u64::from(self.trials) * (1 + self.effects.len() as u64) * u64::from(self.blocks) * 2;
        eprintln!(
            "calibrating {} configurations: {} trials x {} kinds x {} blocks; estimated {:.0} min",
            ids.len(),
            self.trials,
            1 + self.effects.len(),
            self.blocks,
            seconds_per_pass * runs as f64 / 60.0
        );

        let gated_metrics = Metric::ALL.iter().filter(|m| policy.is_gated(**m)).count();
        let family = Family {
            gated_pairs: ids.len() * gated_metrics,
            full_suite_gated_pairs: all_ids.len() * gated_metrics,
            alpha: policy.alpha,
            power: self.power,
        };
        let started = Instant::now();
        let trials = trials::run(&trials::TrialPlan {
            command: &command,
            ids: &ids,
            pilot: &pilot,
            effects: &self.effects,
            rounds: self.trials,
            blocks: self.blocks,
            policy: &policy,
        })?;
        let Findings {
            false_alarms_significant,
            false_alarms_gate,
            detection,
            mde,
        } = summarise(
            &trials,
            &pilot,
            &self.effects,
            self.blocks as usize,
            family,
            policy.threshold_of(Metric::Wall),
        );
        let failed = trials.iter().any(|t| t.failed_runs > 0);
        let calibration = Calibration {
            kind: CALIBRATION_KIND.to_owned(),
            schema: CALIBRATION_SCHEMA,
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            host: HostFingerprint::detect(&root),
            git: GitRevision::detect(&root),
            settings: CalibrationSettings {
                only: self.only.clone(),
                ids,
                trials: self.trials,
                blocks: self.blocks,
                count: self.count,
                work: self.work.clone(),
                in_flight: self.in_flight,
                pin: !self.no_pin,
                effects_pct: self.effects.clone(),
                policy,
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
