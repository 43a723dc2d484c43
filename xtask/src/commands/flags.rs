//! Flags shared by the subcommands, declared once: the run flags of every command that runs
//! the benchmark ([`RunArgs`]: `bench`, `calibrate`), the verdict policy (gated metrics,
//! thresholds, alpha) and the report files. Ranges are checked by clap's value parsers, so a
//! bad value is a usage error (exit 2) naming the flag before anything runs.
//!
//! # Default gate
//!
//! Gated by default: `wall` and `cpu-total` per call at `--threshold` (5%), and `vcsw`
//! (voluntary context switches per call) at 2%. Wall and CPU time of a blocking handoff
//! move by several percent between runs even when paired; the number of context switches
//! per call is nearly deterministic (about 2 per blocking round trip), so a 2% change in it
//! is already a change of behaviour (one extra switch every 25-50 calls). CPU on the loop
//! and on the worker are reported but do not gate (they are parts of `cpu-total`).
//! `instructions` per call (all roles, from the runs under callgrind) is gated at 1% where
//! it was measured: counts reproduce to 0.001-0.1% here, so 1% is a change of the code path,
//! never noise; the loop's and the worker's shares are reported.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use handoff_protocol::Work;

use crate::comparison::{Comparison, PairedEstimator, VerdictPolicy};
use crate::engine::runner::BinaryFlags;
use crate::engine::target::{CounterSettings, CountersRequest, Target};
use crate::model::files::write_atomically;
use crate::model::metric::Metric;
use crate::model::paired_record::{Sampling, SliceShape};
use crate::model::results::ResultFile;
use crate::model::usage::UsageError;
use crate::report;

/// The warm-up of pinned processes, in milliseconds: measured with `--serve` and slices of
/// 100 calls from the first call on, pinned `tokio-current` rows are within 10% of their
/// steady per-call time from the first slice (`dedicated-spin` after about 4 ms), so the
/// binary's 100 ms (for unpinned threads, which the scheduler separates only after some
/// milliseconds of load balancing) would spend most of a lock-step block warming up.
pub const PINNED_WARM_UP_MS: u64 = 20;

/// The default threshold of the `vcsw` gate, in percent (see the module docs).
pub const DEFAULT_VCSW_THRESHOLD_PCT: f64 = 2.0;
/// The default threshold of the `instructions` gate, in percent (see the module docs).
pub const DEFAULT_INSTRUCTIONS_THRESHOLD_PCT: f64 = 1.0;

/// The run flags: which configurations, what the binary is handed, how long a process may
/// take, and (hidden, for tests) which executable and workspace.
///
/// Defaults are sized for the full suite (~34 configurations) on the project's 2-vCPU
/// machines: `--count 10000`: a blocking round trip costs 15-40 us here, so a blocking
/// configuration's timed window is 0.15-0.4 s, long against the 4 ms scheduler tick and
/// clock granularity (CPU is read from exact per-thread clocks anyway), short enough for
/// ten runs of every configuration; spin rows take a few ms. Each process also spends
/// 100 ms warming up (the binary's `WARM_UP`), outside its window.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Run options")]
pub struct RunArgs {
    /// Calls per process, passed to the binary.
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub count: u64,
    /// What each call does on the worker, passed on (the benchmark's `--work` grammar).
    #[arg(long, value_name = "SPEC", default_value = "zero", help = work_help())]
    pub work: Work,
    /// Calls kept in flight at once, passed on.
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub in_flight: u64,
    /// Only configurations whose id matches (`*` wildcard); repeatable. Default: every
    /// configuration but the real SQLite crates' and the pools (`*/dedicated-pool`,
    /// `*/tokio-rusqlite`, `*/async-sqlite*`, `*/deadpool-sqlite`, `*/handoff-sqlite`);
    /// `--only '*'` runs all.
    #[arg(long, value_name = "GLOB")]
    pub only: Vec<String>,
    /// Do not pass `--pin` to the benchmark. By default its threads are pinned by role (loop
    /// threads on one CPU, all others on another), which removes the largest source of
    /// run-to-run variation on small machines: whether a process's threads share a CPU.
    #[arg(long)]
    pub no_pin: bool,
    /// Seconds one process may run before it is killed and reported.
    #[arg(long, value_name = "SECONDS", default_value = "120", value_parser = parse_seconds)]
    pub timeout: Duration,
    /// Also count instructions per call and thread role: every configuration runs
    /// --counter-runs more times under valgrind's callgrind. Exits 2 when valgrind is not
    /// installed. Default for `bench`: on where valgrind is installed.
    #[arg(long, conflicts_with = "no_counters")]
    pub counters: bool,
    /// Do not count instructions, even where valgrind is installed.
    #[arg(long, env = "HANDOFF_BENCH_NO_COUNTERS")]
    pub no_counters: bool,
    /// Runs under callgrind per configuration (and side); at least 2, so the counts' spread
    /// is measured.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(2..))]
    pub counter_runs: u32,
    /// Calls per run under callgrind (counts hardly vary, so few suffice: the full suite's
    /// counting takes about 2 minutes here at the defaults).
    #[arg(long, value_name = "N", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub counter_count: u64,
    /// How a paired run (`bench --against`, `calibrate`) samples base and head: `processes`
    /// (one process per side and block) or `lockstep` (per block, two serving processes
    /// side by side, their slices alternating A B B A ...). `docs/book/src/gate/paired.md`.
    #[arg(long, value_enum, default_value_t = SamplingArg::Lockstep)]
    pub sampling: SamplingArg,
    /// How a paired run turns its per-block log-ratios into an estimate: `hodges-lehmann`
    /// (signed-rank; robust to blocks where one side fell into a slow mode, but its p-value
    /// cannot go below 2/2^blocks, so it needs ~20 blocks or more) or `mean` (paired t).
    /// `docs/book/src/gate/paired.md`.
    #[arg(long, value_enum, default_value_t = EstimatorArg::HodgesLehmann)]
    pub estimator: EstimatorArg,
    /// Lock-step sampling: slice pairs per block.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    pub slices: u32,
    /// Lock-step sampling: calls per slice.
    #[arg(long, value_name = "N", default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub slice_calls: u64,
    /// Warm-up of every process before its first timed window, in milliseconds, passed to
    /// the binary (`--warm-up-ms`) [default: 20 with pinned threads, the binary's 100 ms
    /// with --no-pin].
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub warm_up: Option<u64>,
    /// Use this benchmark executable instead of building one (tests, and the shards of
    /// `bench.yml`, whose build job built it once).
    #[arg(long, hide = true, env = "HANDOFF_BENCH_BIN")]
    pub bench_bin: Option<PathBuf>,
    /// The workspace to build and benchmark (default: the one this xtask belongs to; for
    /// tests).
    #[arg(long, hide = true, env = "HANDOFF_BENCH_WORKSPACE")]
    pub workspace: Option<PathBuf>,
}

impl RunArgs {
    /// The validated target; `--gap` and `--inject-ns` are the caller's to add.
    pub fn into_target(self) -> Target {
        Target {
            root: self.workspace.unwrap_or_else(crate::workspace_root),
            bench_bin: self.bench_bin,
            only: self.only,
            flags: BinaryFlags {
                count: self.count,
                work: self.work,
                in_flight: self.in_flight,
                gap_us: None,
                inject_ns: None,
                pin: !self.no_pin,
                warm_up_ms: self.warm_up.or((!self.no_pin).then_some(PINNED_WARM_UP_MS)),
            },
            timeout: self.timeout,
            counters: CounterSettings {
                request: match (self.counters, self.no_counters) {
                    (true, _) => CountersRequest::Required,
                    (_, true) => CountersRequest::Off,
                    _ => CountersRequest::WhereAvailable,
                },
                runs: self.counter_runs,
                count: self.counter_count,
            },
            estimator: match self.estimator {
                EstimatorArg::Mean => PairedEstimator::Mean,
                EstimatorArg::HodgesLehmann => PairedEstimator::HodgesLehmann,
            },
            sampling: match self.sampling {
                SamplingArg::Processes => Sampling::Processes,
                SamplingArg::Lockstep => Sampling::Lockstep(SliceShape {
                    slices: self.slices,
                    calls: self.slice_calls,
                }),
            },
        }
    }
}

/// `--estimator`'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EstimatorArg {
    Mean,
    HodgesLehmann,
}

/// `--sampling`'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SamplingArg {
    Processes,
    Lockstep,
}

/// `--gate`'s help: every metric it accepts.
fn gate_help() -> String {
    format!(
        "A gated metric ({}), optionally with its own threshold in percent; repeatable, and \
         replaces the default gate (`wall`, `cpu-total` at --threshold, `vcsw:2`, \
         `instructions:1`). Only gated metrics can fail the gate; the others are reported.",
        Metric::cli_names()
    )
}

/// `--work`'s help: every kind the benchmark's grammar accepts.
fn work_help() -> String {
    format!(
        "What each call does on the worker, passed on: {}",
        handoff_protocol::work::kinds_sentence()
    )
}

/// A positive, finite number of seconds (`0.5`, `120`); a clap value parser.
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{text:?} is not a positive number of seconds"))
}

/// A positive, finite percentage (`5`, `2.5`); a clap value parser.
pub fn parse_positive_pct(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|p| p.is_finite() && *p > 0.0)
        .ok_or_else(|| format!("{text:?} is not a positive percentage"))
}

/// A probability strictly between 0 and 1 (`0.8`); a clap value parser.
pub fn parse_probability(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|p| *p > 0.0 && *p < 1.0)
        .ok_or_else(|| format!("{text:?} does not lie strictly between 0 and 1"))
}

/// When a change counts: gated metrics, thresholds, alpha.
#[derive(Debug, Clone, clap::Args)]
pub struct PolicyArgs {
    /// Noise threshold in percent of every metric without its own: a change counts only when
    /// its whole interval lies beyond it, and is "unchanged" when its whole interval lies
    /// within it.
    #[arg(long, value_name = "PCT", default_value_t = 5.0)]
    pub threshold: f64,
    /// A gated metric, optionally with its own threshold in percent; repeatable, and
    /// replaces the default gate (`wall`, `cpu-total` at --threshold, `vcsw:2`,
    /// `instructions:1`). Only gated metrics can fail the gate; the others are reported.
    #[arg(long = "gate", value_name = "METRIC[:PCT]", long_help = gate_help())]
    pub gates: Vec<String>,
    /// Family-wise error rate over the gated configuration-metric pairs (Holm-corrected).
    #[arg(long, value_name = "A", default_value_t = 0.05)]
    pub alpha: f64,
}

/// The verdict policy, and whether a regression fails the command.
#[derive(Debug, Clone, clap::Args)]
pub struct GateArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Exit with status 3 when any gated pair is a confirmed regression.
    #[arg(long)]
    pub fail_on_regression: bool,
}

impl GateArgs {
    pub fn policy(&self) -> Result<VerdictPolicy, UsageError> {
        self.policy.policy()
    }
}

impl PolicyArgs {
    pub fn policy(&self) -> Result<VerdictPolicy, UsageError> {
        if !(self.threshold.is_finite() && (0.0..100.0).contains(&self.threshold)) {
            return Err(UsageError(format!(
                "--threshold must be a percentage in [0, 100), got {}",
                self.threshold
            )));
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(UsageError(format!(
                "--alpha must lie strictly between 0 and 1, got {}",
                self.alpha
            )));
        }
        let threshold = self.threshold / 100.0;
        let gates = if self.gates.is_empty() {
            BTreeMap::from([
                (Metric::Wall, threshold),
                (Metric::CpuTotal, threshold),
                (Metric::Vcsw, DEFAULT_VCSW_THRESHOLD_PCT / 100.0),
                (
                    Metric::Instructions,
                    DEFAULT_INSTRUCTIONS_THRESHOLD_PCT / 100.0,
                ),
            ])
        } else {
            self.gates
                .iter()
                .map(|spec| parse_gate(spec, threshold))
                .collect::<Result<_, _>>()?
        };
        Ok(VerdictPolicy {
            alpha: self.alpha,
            threshold,
            gates,
        })
    }
}

/// `METRIC[:PCT]` into a metric and a threshold fraction (`default` without `:PCT`).
fn parse_gate(spec: &str, default: f64) -> Result<(Metric, f64), UsageError> {
    let (name, pct) = match spec.split_once(':') {
        Some((name, pct)) => (name, Some(pct)),
        None => (spec, None),
    };
    let metric = Metric::from_name(name).ok_or_else(|| {
        UsageError(format!(
            "--gate {spec}: unknown metric {name:?}; one of {}",
            Metric::cli_names()
        ))
    })?;
    let threshold = match pct {
        None => default,
        Some(pct) => {
            let value: f64 =
                pct.trim().trim_end_matches('%').parse().map_err(|_| {
                    UsageError(format!("--gate {spec}: {pct:?} is not a percentage"))
                })?;
            if !(value.is_finite() && (0.0..100.0).contains(&value)) {
                return Err(UsageError(format!(
                    "--gate {spec}: the threshold must be a percentage in [0, 100)"
                )));
            }
            value / 100.0
        }
    };
    Ok((metric, threshold))
}

/// Parses a duration such as `90s`, `10m`, `1h`, `1m30s`, `250ms` (humantime's syntax, so
/// also `1h 30m` or `2min`) or plain seconds (`45`, `2.5`, which humantime would refuse for
/// want of a unit); used as a clap value parser, so clap's error names the flag.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let parsed = match text.parse::<f64>() {
        Ok(secs) => Duration::try_from_secs_f64(secs).map_err(|e| e.to_string()),
        Err(_) => humantime::parse_duration(text).map_err(|e| e.to_string()),
    };
    parsed.map_err(|why| format!("{text:?} is not a duration (e.g. 90s, 10m, 1h30m): {why}"))
}

/// Report files to write besides the terminal table.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OutputArgs {
    /// Write the result file, plus the comparison when there is one, as JSON.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Write a GitHub-flavoured Markdown summary.
    #[arg(long, value_name = "PATH")]
    pub markdown: Option<PathBuf>,
    /// Write Bencher Metric Format JSON.
    #[arg(long, value_name = "PATH")]
    pub bmf: Option<PathBuf>,
    /// Write github-action-benchmark `customSmallerIsBetter` JSON.
    #[arg(long, value_name = "PATH")]
    pub gab: Option<PathBuf>,
    /// Write a self-contained HTML report with SVG charts (`cargo xtask report` makes one
    /// from a result file later).
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
}

impl OutputArgs {
    /// Renders and writes every requested report (each atomically).
    pub fn write(
        &self,
        results: &ResultFile,
        comparison: Option<&Comparison>,
    ) -> anyhow::Result<()> {
        // Each report is rendered only when it is asked for (the HTML draws charts).
        type Render = fn(&ResultFile, Option<&Comparison>) -> String;
        let outputs: [(&Option<PathBuf>, Render); 5] = [
            (&self.json, report::json::render),
            (&self.markdown, report::markdown::render),
            (&self.bmf, report::bmf::render),
            (&self.gab, report::gab::render),
            (&self.html, report::html::render),
        ];
        for (path, render) in outputs {
            if let Some(path) = path {
                write_atomically(path, &render(results, comparison))
                    .with_context(|| format!("cannot write report {}", path.display()))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(threshold: f64, gates: &[&str]) -> Result<VerdictPolicy, UsageError> {
        PolicyArgs {
            threshold,
            gates: gates.iter().map(|s| (*s).to_owned()).collect(),
            alpha: 0.05,
        }
        .policy()
    }

    #[test]
    fn durations() {
        let s = Duration::from_secs;
        assert_eq!(parse_duration("90s"), Ok(s(90)));
        assert_eq!(parse_duration("10m"), Ok(s(600)));
        assert_eq!(parse_duration("1h30m"), Ok(s(5400)));
        assert_eq!(parse_duration("1m30s"), Ok(s(90)));
        assert_eq!(parse_duration("45"), Ok(s(45)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2.5"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_duration("1.5m"), Ok(s(90)));
        assert_eq!(parse_duration(" 5m "), Ok(s(300)));
        for bad in ["", "m", "10x", "5m3", "-1s", "1..2s", "-1", "soon"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains("is not a duration"), "{bad}: {err}");
        }
    }

    #[test]
    fn default_gate_and_overrides() {
        let p = gate(5.0, &[]).unwrap();
        assert_eq!(
            p.gates,
            BTreeMap::from([
                (Metric::Wall, 0.05),
                (Metric::CpuTotal, 0.05),
                (Metric::Vcsw, 0.02),
                (Metric::Instructions, 0.01)
            ])
        );
        assert!(!p.is_gated(Metric::CpuLoop));
        assert!(!p.is_gated(Metric::InstructionsWorker));
        assert_eq!(p.threshold_of(Metric::CpuLoop), 0.05);
        let p = gate(3.0, &["wall:1.5", "CpuWorker"]).unwrap();
        assert_eq!(
            p.gates,
            BTreeMap::from([(Metric::Wall, 0.015), (Metric::CpuWorker, 0.03)])
        );
        let err = gate(5.0, &["cycles:3"]).unwrap_err().to_string();
        assert!(
            err.contains("unknown metric") && err.contains("cpu-total"),
            "{err}"
        );
        assert!(gate(5.0, &["wall:x"]).is_err());
        assert!(gate(5.0, &["wall:100"]).is_err());
    }
}
