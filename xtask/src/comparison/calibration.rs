//! `cargo xtask calibrate`: how well the paired gate works on this host. A/A trials (the
//! same binary on both sides) give the false-regression rate; trials with a known slowdown
//! injected into side B (`--inject-ns`) give the detection rate; the spread of the A/A
//! block log-ratios gives the minimum detectable effect (MDE).
//!
//! # How it works
//!
//! 1. Pilot: every selected configuration runs `--pilot-runs` times; the median wall time
//!    per call `w` sets the injection of an effect of `E`%: `inject_ns = round(E/100 * w)`.
//!    The benchmark adds `inject_ns` of busy work before every call on the async side, so
//!    with one call in flight the wall time per call grows by about `E`%; the report shows
//!    the ratio actually observed.
//! 2. Trials: `--trials` rounds, each running one A/A trial and one trial per `--effect`,
//!    interleaved so slow drift of the host touches every kind alike. Every trial is a
//!    complete paired session of exactly `--blocks` blocks through the same machinery as
//!    `bench --against` (`paired_run`, ABBA/BAAB blocks, paired t on log-ratios, Holm over
//!    the gated pairs, the same verdicts).
//! 3. Each trial is judged by two rules on the same data:
//!    - *significant*: the gated pair's Holm-adjusted p <= alpha and its interval excludes 1
//!      (the gate's rule with every threshold 0): what the test itself can detect;
//!    - *gate*: the gate's rule with its thresholds (`--threshold`, `--gate`).
//!
//!    An A/A trial is a false alarm when any gated pair "regressed"; an injected trial
//!    detects the effect for a configuration when its Wall pair "regressed".
//! 4. MDE of Wall per call, per configuration: `sd` = pooled standard deviation of the
//!    block log-ratios over the A/A trials (root mean of the per-trial variances), then
//!    `MDE = (t_{1-a'/2, n-1} + t_{power, n-1}) * sd / sqrt(n)` (`stats::paired_t`), with
//!    `a' = alpha / m`: Holm's first step over the `m` gated pairs, the strictest level a
//!    single real change has to pass when every other pair is unchanged. Reported for the
//!    calibrated family and for the full suite's family (every configuration of `--list`),
//!    at 10, 20 and 40 blocks, as a slowdown in percent (`exp(MDE) - 1`).
//!
//! # The threshold interplay
//!
//! The gate confirms a regression only when the whole interval lies above `1 + threshold`,
//! so with the default Wall threshold of 5% an injected 5% slowdown is, by design, almost
//! never "regressed" under the gate rule: its interval straddles 1.05. The slowdown the
//! gate confirms with the stated power is about `threshold + MDE`. That is why the
//! detection of the test itself is calibrated with the *significant* rule, and the gate
//! rule's rates are shown beside it: set the gate's Wall threshold to at most `E - MDE` to
//! confirm an `E`% slowdown, and never below the MDE itself (a threshold the design cannot
//! resolve only turns changes into "inconclusive"). The significant rule's false alarm
//! rate bounds the gate's: the gate's rule is stricter on the same data.
//!
//! # Defaults (sized for `--only 'tokio-current/*'` on the 2-vCPU hosts, ~10 minutes)
//!
//! `--trials 20`, `--effect 5`, `--blocks 10` (= `bench --min-blocks`), `--count 5000`:
//! a blocking round trip is 15-40 us here, so a run takes 0.1-0.2 s with process start;
//! 20 x (1 + 1) trials x 10 blocks x 2 sides x ~8 configurations is 6400 runs, about
//! 8-11 minutes. The per-run noise here comes mostly from thread placement, not from the
//! number of calls, so the MDE measured at 5000 calls is a fair guide for the gate's
//! counts; for the exact figure, calibrate with the gate's `--count`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Serialize;

use crate::commands::exit::Outcome;
use crate::commands::flags::PolicyArgs;
use crate::comparison::paired::{self, PairedContext};
use crate::comparison::{Comparison, Verdict, VerdictPolicy};
use crate::engine::paired_session::{ProcessExecutor, run_session};
use crate::engine::runner::{self, BenchCommand, ChildFailure};
use crate::engine::stop_rule::{MonotonicClock, StopRule};
use crate::model::files::write_atomically;
use crate::model::git::GitRevision;
use crate::model::host::{FingerprintDiff, HostFingerprint};
use crate::model::metric::Metric;
use crate::model::paired_record::{PairedSample, Side};
use crate::model::usage::UsageError;
use crate::report;
use crate::stats::paired_t::minimum_detectable_effect;
use crate::stats::{Samples, paired_t};

pub const CALIBRATION_KIND: &str = "handoff-bench-calibration";
pub const CALIBRATION_SCHEMA: u64 = 1;

/// Block counts the MDE is reported at besides the calibrated one.
pub const MDE_BLOCKS: [usize; 3] = [10, 20, 40];

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

/// What one configuration's pilot found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pilot {
    pub id: String,
    pub wall_ns_per_call: f64,
    /// Per `--effect`, the injected nanoseconds per call.
    pub inject_ns: Vec<u64>,
}

/// One configuration in one trial.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrialConfig {
    pub id: String,
    /// Wall per call, head (B) / base (A).
    pub ratio: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub p_adjusted: f64,
    /// The gate's verdict of the Wall pair.
    pub gate_verdict: Verdict,
    /// Wall "regressed" under the significant rule.
    pub significant: bool,
    /// Standard deviation of the Wall block log-ratios (`None` below two blocks).
    pub sd_log_ratio: Option<f64>,
}

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

    pub fn fraction(&self) -> f64 {
        if self.of == 0 {
            0.0
        } else {
            f64::from(self.count) / f64::from(self.of)
        }
    }
}

/// Detection of one effect in one configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    pub effect_pct: f64,
    pub id: String,
    pub inject_ns: u64,
    /// Median of the observed Wall ratios over the trials.
    pub observed_ratio: Option<f64>,
    pub significant: Rate,
    pub gate: Rate,
}

/// The MDE of Wall per call for one configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mde {
    pub id: String,
    /// Pooled sd of the A/A block log-ratios.
    pub sd_log_ratio: f64,
    /// At the calibrated blocks and family: a slowdown in percent.
    pub pct: f64,
    /// `(blocks, pct)` for the calibrated family.
    pub at_blocks: Vec<(usize, f64)>,
    /// `(blocks, pct)` for the full suite's family of gated pairs.
    pub full_suite_at_blocks: Vec<(usize, f64)>,
    /// What the gate confirms with the stated power: Wall threshold + MDE, in percent.
    pub gate_confirms_pct: f64,
}

/// Sizes of the Holm families the MDE assumes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Family {
    pub gated_pairs: usize,
    pub full_suite_gated_pairs: usize,
    pub alpha: f64,
    pub power: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationSettings {
    pub only: Vec<String>,
    pub ids: Vec<String>,
    pub trials: u32,
    pub blocks: u32,
    pub count: u64,
    pub work: String,
    pub in_flight: u64,
    /// Threads pinned by role (`--pin`, unless `--no-pin`).
    pub pin: bool,
    pub effects_pct: Vec<f64>,
    pub policy: VerdictPolicy,
}

/// The whole calibration; what `--json` writes and the terminal report renders.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    pub kind: String,
    pub schema: u64,
    pub created: String,
    pub host: HostFingerprint,
    pub git: GitRevision,
    pub settings: CalibrationSettings,
    pub pilot: Vec<Pilot>,
    /// A/A trials with any gated pair regressed, per rule.
    pub false_alarms_significant: Rate,
    pub false_alarms_gate: Rate,
    pub detection: Vec<Detection>,
    pub family: Family,
    pub mde: Vec<Mde>,
    /// Wall-clock seconds the trials took.
    pub seconds: f64,
    pub trials: Vec<Trial>,
}

/// The significant rule: the gate's policy with every threshold 0.
pub fn significance_policy(policy: &VerdictPolicy) -> VerdictPolicy {
    let mut p = policy.clone();
    p.threshold = 0.0;
    if p.gates.is_empty() {
        p.gates = Metric::ALL.iter().map(|m| (*m, 0.0)).collect();
    } else {
        p.gates.values_mut().for_each(|t| *t = 0.0);
    }
    p
}

/// Judges one trial's samples by both rules.
pub fn judge(
    samples: &[PairedSample],
    gate: &PairedContext,
    significance: &PairedContext,
) -> (Comparison, Comparison) {
    let blocks = paired::blocks_in(samples);
    (
        paired::compare_first(samples, blocks, gate),
        paired::compare_first(samples, blocks, significance),
    )
}

/// The per-configuration record of a judged trial.
pub fn trial_configs(
    samples: &[PairedSample],
    gate: &Comparison,
    significance: &Comparison,
    ids: &[String],
) -> Vec<TrialConfig> {
    ids.iter()
        .map(|id| {
            let g = gate.pair(id, Metric::Wall);
            let s = significance.pair(id, Metric::Wall);
            let d: Vec<f64> = paired::block_pairs(samples, id)
                .iter()
                .map(|p| paired::log_ratio(Metric::Wall, p))
                .collect();
            TrialConfig {
                id: id.clone(),
                ratio: g.and_then(|p| p.estimate.ratio),
                ci_low: g.and_then(|p| p.estimate.ratio_ci.map(|c| c.low)),
                ci_high: g.and_then(|p| p.estimate.ratio_ci.map(|c| c.high)),
                p_adjusted: g.map_or(1.0, |p| p.p_adjusted),
                gate_verdict: g.map_or(Verdict::Inconclusive, |p| p.verdict),
                significant: s.is_some_and(|p| p.verdict == Verdict::Regressed),
                sd_log_ratio: paired_t::paired_t(&d, 0.95).map(|e| e.sd),
            }
        })
        .collect()
}

/// Rates, detections and MDEs from the trials (pure; see the module docs).
pub fn summarise(
    trials: &[Trial],
    pilot: &[Pilot],
    effects: &[f64],
    blocks: usize,
    family: Family,
    wall_threshold: f64,
) -> (Rate, Rate, Vec<Detection>, Vec<Mde>) {
    let aa: Vec<&Trial> = trials.iter().filter(|t| t.effect_pct.is_none()).collect();
    let n_aa = aa.len() as u32;
    let false_sig = Rate::new(
        aa.iter().filter(|t| t.any_significant_regression).count() as u32,
        n_aa,
    );
    let false_gate = Rate::new(
        aa.iter().filter(|t| t.any_gate_regression).count() as u32,
        n_aa,
    );
    let mut detection = Vec::new();
    for (e, &effect) in effects.iter().enumerate() {
        let of_effect: Vec<&Trial> = trials
            .iter()
            .filter(|t| t.effect_pct == Some(effect))
            .collect();
        for p in pilot {
            let records: Vec<&TrialConfig> = of_effect
                .iter()
                .filter_map(|t| t.configs.iter().find(|c| c.id == p.id))
                .collect();
            let n = records.len() as u32;
            let ratios: Vec<f64> = records.iter().filter_map(|r| r.ratio).collect();
            detection.push(Detection {
                effect_pct: effect,
                id: p.id.clone(),
                inject_ns: p.inject_ns.get(e).copied().unwrap_or(0),
                observed_ratio: Samples::new(ratios).ok().map(|s| s.median()),
                significant: Rate::new(records.iter().filter(|r| r.significant).count() as u32, n),
                gate: Rate::new(
                    records
                        .iter()
                        .filter(|r| r.gate_verdict == Verdict::Regressed)
                        .count() as u32,
                    n,
                ),
            });
        }
    }
    let level = |pairs: usize| family.alpha / pairs.max(1) as f64;
    let pct = |log: f64| (log.exp() - 1.0) * 100.0;
    let mde = pilot
        .iter()
        .filter_map(|p| {
            let variances: Vec<f64> = aa
                .iter()
                .filter_map(|t| t.configs.iter().find(|c| c.id == p.id)?.sd_log_ratio)
                .map(|sd| sd * sd)
                .collect();
            if variances.is_empty() {
                return None;
            }
            let sd = (variances.iter().sum::<f64>() / variances.len() as f64).sqrt();
            let at = |n: usize, pairs: usize| {
                minimum_detectable_effect(sd, n, level(pairs), family.power).map_or(f64::NAN, pct)
            };
            let here = at(blocks, family.gated_pairs);
            Some(Mde {
                id: p.id.clone(),
                sd_log_ratio: sd,
                pct: here,
                at_blocks: MDE_BLOCKS
                    .iter()
                    .map(|&n| (n, at(n, family.gated_pairs)))
                    .collect(),
                full_suite_at_blocks: MDE_BLOCKS
                    .iter()
                    .map(|&n| (n, at(n, family.full_suite_gated_pairs)))
                    .collect(),
                gate_confirms_pct: wall_threshold * 100.0 + here,
            })
        })
        .collect();
    (false_sig, false_gate, detection, mde)
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
        let (pilot, pilot_seconds) = self.pilot(&command, &ids)?;
        let runs =
            u64::from(self.trials) * (1 + self.effects.len() as u64) * u64::from(self.blocks) * 2;
        eprintln!(
            "calibrating {} configurations: {} trials x {} kinds x {} blocks; estimated {:.0} min",
            ids.len(),
            self.trials,
            1 + self.effects.len(),
            self.blocks,
            pilot_seconds * runs as f64 / 60.0
        );

        let gated_metrics = Metric::ALL.iter().filter(|m| policy.is_gated(**m)).count();
        let family = Family {
            gated_pairs: ids.len() * gated_metrics,
            full_suite_gated_pairs: all_ids.len() * gated_metrics,
            alpha: policy.alpha,
            power: self.power,
        };
        let gate_ctx = PairedContext {
            ids: ids.clone(),
            baseline_label: "side A".to_owned(),
            policy: policy.clone(),
            fingerprint: FingerprintDiff::default(),
            added: vec![],
            removed: vec![],
            min_blocks: self.blocks,
        };
        let sig_ctx = PairedContext {
            policy: significance_policy(&policy),
            ..gate_ctx.clone()
        };
        let rule = StopRule {
            min_blocks: self.blocks,
            max_time: None,
        };
        let kinds: Vec<Option<usize>> = std::iter::once(None)
            .chain((0..self.effects.len()).map(Some))
            .collect();
        let started = Instant::now();
        let mut trials = Vec::new();
        for round in 0..self.trials {
            for kind in &kinds {
                let mut executor = ProcessExecutor::new(command.clone(), command.clone());
                if let Some(e) = kind {
                    for p in &pilot {
                        executor.extra.insert(
                            (Side::Head, p.id.clone()),
                            vec!["--inject-ns".to_owned(), p.inject_ns[*e].to_string()],
                        );
                    }
                }
                let clock = MonotonicClock::start();
                let outcome = run_session(&mut executor, &gate_ctx, rule, &clock, &mut |_| {})?;
                let (gate, sig) = judge(&outcome.samples, &gate_ctx, &sig_ctx);
                let trial = Trial {
                    round,
                    effect_pct: kind.map(|e| self.effects[e]),
                    configs: trial_configs(&outcome.samples, &gate, &sig, &ids),
                    any_gate_regression: gate.has_regression(),
                    any_significant_regression: sig.has_regression(),
                    failed_runs: outcome.failures.len(),
                };
                eprintln!("{}", report::calibration::trial_line(&trial, self.trials));
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
        let (false_alarms_significant, false_alarms_gate, detection, mde) = summarise(
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
            write_atomically(path, &report::pretty_json(&calibration))
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        if failed {
            eprintln!("error: some runs failed; the rates above count only complete blocks");
            return Ok(Outcome::Failed);
        }
        Ok(Outcome::Clean)
    }

    /// Median wall time per call of each configuration over the pilot runs, and the seconds
    /// one pass (each configuration once) took on average.
    fn pilot(&self, command: &BenchCommand, ids: &[String]) -> anyhow::Result<(Vec<Pilot>, f64)> {
        let started = Instant::now();
        let mut walls: Vec<Vec<f64>> = vec![Vec::new(); ids.len()];
        for _ in 0..self.pilot_runs {
            for (i, id) in ids.iter().enumerate() {
                match runner::run_one(command, id) {
                    Ok(m) => walls[i].push(Metric::Wall.per_call(&m)),
                    Err(ChildFailure::BadUsage { stderr_tail }) => {
                        return Err(UsageError(format!(
                            "{} rejected the arguments (exit status 2):\n{stderr_tail}",
                            command.program.display()
                        ))
                        .into());
                    }
                    Err(f) => anyhow::bail!("pilot run of {id} failed: {f}\n{}", f.stderr_tail()),
                }
            }
        }
        let per_pass = started.elapsed().as_secs_f64() / f64::from(self.pilot_runs);
        let pilot = ids
            .iter()
            .zip(walls)
            .map(|(id, w)| {
                let wall = Samples::new(w).map_or(0.0, |s| s.median());
                Pilot {
                    id: id.clone(),
                    wall_ns_per_call: wall,
                    inject_ns: self
                        .effects
                        .iter()
                        .map(|e| (e / 100.0 * wall).round() as u64)
                        .collect(),
                }
            })
            .collect();
        Ok((pilot, per_pass))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn config(id: &str, ratio: f64, significant: bool, gate: Verdict, sd: f64) -> TrialConfig {
        TrialConfig {
            id: id.to_owned(),
            ratio: Some(ratio),
            ci_low: Some(ratio * 0.95),
            ci_high: Some(ratio * 1.05),
            p_adjusted: if significant { 0.01 } else { 0.5 },
            gate_verdict: gate,
            significant,
            sd_log_ratio: Some(sd),
        }
    }

    fn trial(round: u32, effect: Option<f64>, configs: Vec<TrialConfig>) -> Trial {
        Trial {
            round,
            effect_pct: effect,
            any_gate_regression: configs.iter().any(|c| c.gate_verdict == Verdict::Regressed),
            any_significant_regression: configs.iter().any(|c| c.significant),
            configs,
            failed_runs: 0,
        }
    }

    /// Four rounds of A/A and +5% over configurations `a` (sd 0.1) and `b` (sd 0.02).
    pub(crate) fn fixture() -> Calibration {
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
        let pilot = vec![
            Pilot {
                id: "a".to_owned(),
                wall_ns_per_call: 14_000.0,
                inject_ns: vec![700],
            },
            Pilot {
                id: "b".to_owned(),
                wall_ns_per_call: 200.0,
                inject_ns: vec![10],
            },
        ];
        let family = Family {
            gated_pairs: 2,
            full_suite_gated_pairs: 102,
            alpha: 0.05,
            power: 0.8,
        };
        let (fs, fg, detection, mde) = summarise(&trials, &pilot, &[5.0], 10, family, 0.05);
        let sample = crate::model::results::tests::result_file(&[]);
        Calibration {
            kind: CALIBRATION_KIND.to_owned(),
            schema: CALIBRATION_SCHEMA,
            created: sample.created,
            host: sample.host,
            git: sample.git,
            settings: CalibrationSettings {
                only: vec!["*".to_owned()],
                ids: vec!["a".to_owned(), "b".to_owned()],
                trials: 4,
                blocks: 10,
                count: 5000,
                work: "zero".to_owned(),
                in_flight: 1,
                pin: true,
                effects_pct: vec![5.0],
                policy: crate::comparison::paired::tests::policy(),
            },
            pilot,
            false_alarms_significant: fs,
            false_alarms_gate: fg,
            detection,
            family,
            mde,
            seconds: 61.0,
            trials,
        }
    }

    #[test]
    fn summarise_counts_rates_and_the_mde() {
        let c = fixture();
        assert_eq!(
            (
                c.false_alarms_significant.count,
                c.false_alarms_significant.of
            ),
            (1, 4)
        );
        assert_eq!(c.false_alarms_gate.count, 0);
        let b = c.detection.iter().find(|d| d.id == "b").unwrap();
        assert_eq!((b.significant.count, b.gate.count, b.inject_ns), (4, 1, 10));
        assert_eq!(b.observed_ratio, Some(1.05));
        // a: pooled sd 0.1, n = 10, alpha' = 0.05 / 2: t(0.9875, 9) = 2.6850,
        // t(0.8, 9) = 0.8834 -> 3.5684 * 0.1 / sqrt(10) = 0.112843 -> +11.94%.
        let a = &c.mde[0];
        assert!((a.sd_log_ratio - 0.1).abs() < 1e-12);
        assert!((a.pct - 11.94).abs() < 0.02, "{}", a.pct);
        assert!((a.gate_confirms_pct - (5.0 + a.pct)).abs() < 1e-9);
        // Larger families need a larger effect; more blocks a smaller one.
        assert!(a.full_suite_at_blocks[0].1 > a.at_blocks[0].1);
        assert!(a.at_blocks[2].1 < a.at_blocks[0].1);
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

    #[test]
    fn the_significance_policy_zeroes_every_threshold() {
        let p = crate::comparison::paired::tests::policy();
        let s = significance_policy(&p);
        assert!(s.gates.values().all(|t| *t == 0.0));
        assert_eq!(s.gates.len(), p.gates.len());
        assert_eq!(s.alpha, p.alpha);
    }
}
