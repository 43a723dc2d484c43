//! `cargo xtask bench`: build the benchmark once, run every selected configuration in fresh
//! processes, summarise, compare with a baseline, report.
//!
//! # How it works
//!
//! 1. Flags are validated into a [`Config`] (bad ones exit 2 before anything runs), and the
//!    baseline is loaded first, so an unreadable baseline fails in a second, not after the
//!    whole suite.
//! 2. The binary is built once (`$CARGO build --release --bin handoff-bench`), or taken from
//!    `--bench-bin` (tests substitute a deterministic fake there).
//! 3. `BIN --list` gives the ids; `--only` globs filter them.
//! 4. `runs x ids` processes run one at a time in a rotated order (`runner::schedule`).
//!    A failing child is reported with its stderr tail and the rest still runs; a child
//!    rejecting its arguments (exit 2) stops everything, since every other would too.
//! 5. Samples become a result file (summaries per metric), compared with the baseline,
//!    rendered to stdout and to the requested report files; `--save-baseline` writes
//!    `baselines/NAME.json` atomically, and only from a run where nothing failed.
//! 6. On GitHub Actions the markdown report is appended to the job summary and every gated
//!    regression (inconclusive pair) is printed as an `::error::` (`::warning::`) command.
//!
//! With `--against GIT_REF`, steps 2-5 are the paired run of [`crate::commands::bench::paired`] instead:
//! base and head built side by side and run interleaved in blocks.

pub mod paired;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;

use crate::commands::exit::Outcome;
use crate::commands::flags::{GateArgs, OutputArgs, parse_duration};
use crate::comparison::independent::{self, IndependentSettings};
use crate::comparison::{Comparison, VerdictPolicy};
use crate::engine::binary::build_release;
use crate::engine::progress::Progress;
use crate::engine::runner::{self, BenchCommand, ChildFailure, PIN_FLAG};
use crate::model::git::GitRevision;
use crate::model::host::HostFingerprint;
use crate::model::measurement::Measurement;
use crate::model::metric::Metric;
use crate::model::results::{
    ConfigurationResult, RESULTS_KIND, RESULTS_SCHEMA, ResultFile, RunFailure, Settings,
    confirm_pinned, pin_mismatch,
};
use crate::model::store::{BaselineName, BaselineStore, DEFAULT_BASELINE};
use crate::model::usage::UsageError;
use crate::report;

/// Defaults are sized for the full suite (~34 configurations) on the project's 2-vCPU
/// machines, within 3 minutes:
///
/// - `--count 10000`: a blocking round trip costs 15-40 us here, so a blocking
///   configuration's timed window is 0.15-0.4 s, long against the 4 ms scheduler tick and
///   clock granularity (CPU is read from exact per-thread clocks anyway), short enough for
///   ten runs of every configuration; spin rows take a few ms. Each process also spends
///   100 ms warming up (the binary's `WARM_UP`), outside its window.
/// - `--runs 10`: the statistics need it. With Holm's correction over 34 x 5 = 170 pairs, the
///   smallest adjusted p-value is 170 times the raw one; the exact Mann-Whitney p-value for
///   completely separated samples is `2 / C(2n, n)`, which is 5.8e-4 for n = 7 (never
///   significant after correction), 1.6e-4 for n = 8 and 1.1e-5 for n = 10 (significant even
///   with a few overlapping runs). Ten runs also give a 97.9% median interval of ranks (2, 9).
///   Budget: 34 x 10 processes at ~0.1 s of warm-up plus up to ~0.4 s of window each:
///   about 2-2.5 minutes measured on this machine class (20000 calls took 3 minutes).
///
/// Paired mode (`--against`):
///
/// - `--min-blocks 10`: ten blocks (each configuration once per side per block) before
///   verdicts are looked at. With fewer, the t quantile (2.26 at 9 degrees of freedom,
///   2.78 at 4) widens the intervals so much that little resolves, and one odd block
///   weighs too much. Ten blocks of the full suite take about 2-4 minutes here.
/// - `--max-time`: unset by default (exactly `--min-blocks` blocks, a predictable run).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Fresh processes per configuration; 10 is about the fewest that lets a clear change
    /// survive Holm's correction over the full suite.
    #[arg(long, default_value_t = 10, conflicts_with = "against")]
    pub runs: u32,
    /// Calls per process, passed to the binary.
    #[arg(long, default_value_t = 10_000)]
    pub count: u64,
    /// What each call does on the worker (`zero`, `yield`, `spin:NS`, `sleep:US`), passed on.
    #[arg(long, default_value = "zero")]
    pub work: String,
    /// Calls kept in flight at once, passed on.
    #[arg(long, default_value_t = 1)]
    pub in_flight: u64,
    /// Only configurations whose id matches (`*` wildcard); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub only: Vec<String>,
    /// Microseconds between calls, passed on only when given.
    #[arg(long, value_name = "US")]
    pub gap: Option<u64>,
    /// Calibration aid: N ns of busy work on the async side before every call (the
    /// binary's --inject-ns), to check that a known slowdown is detected; passed on only
    /// when given. `cargo xtask calibrate` uses it on one side.
    #[arg(long, value_name = "N")]
    pub inject_ns: Option<u64>,
    /// Do not pass `--pin` to the benchmark. By default its threads are pinned by role (loop
    /// threads on one CPU, all others on another), which removes the largest source of
    /// run-to-run variation on small machines: whether a process's threads share a CPU.
    #[arg(long)]
    pub no_pin: bool,
    /// Compare with `baselines/NAME.json` (default: `reference` when that file exists).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["no_baseline", "against"])]
    pub baseline: Option<String>,
    /// Do not compare with any baseline, not even the default one.
    #[arg(long)]
    pub no_baseline: bool,
    /// Save this run as `baselines/NAME.json` (atomically; refused if a run failed).
    #[arg(long, value_name = "NAME", conflicts_with = "against")]
    pub save_baseline: Option<String>,
    /// Paired mode: build GIT_REF (its merge-base with HEAD unless --exact-ref) in a git
    /// worktree under target/xtask-against/, build HEAD's working tree, and run both
    /// interleaved in blocks (ABBA/BAAB); the comparison is per block, head/base.
    #[arg(long, value_name = "GIT_REF")]
    pub against: Option<String>,
    /// Build GIT_REF itself, not its merge-base with HEAD.
    #[arg(long, requires = "against")]
    pub exact_ref: bool,
    /// Paired: blocks that always run before verdicts are looked at (at least 2).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub min_blocks: u32,
    /// Paired: after --min-blocks, keep adding blocks while a gated pair is inconclusive,
    /// starting a block only when it is expected to end within this budget (e.g. 90s, 10m,
    /// 1h). Counts the benchmarking only, not the builds. Unset: exactly --min-blocks.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "against")]
    pub max_time: Option<Duration>,
    #[command(flatten)]
    pub outputs: OutputArgs,
    #[command(flatten)]
    pub gate: GateArgs,
    /// Seconds one process may run before it is killed and reported.
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0)]
    pub timeout: f64,
    /// Use this benchmark executable instead of building one (for tests).
    #[arg(long, hide = true, env = "HANDOFF_BENCH_BIN")]
    pub bench_bin: Option<PathBuf>,
    /// Directory of the baselines (default: `baselines/` of the workspace; for tests).
    #[arg(long, hide = true, env = "HANDOFF_BENCH_BASELINES_DIR")]
    pub baselines_dir: Option<PathBuf>,
    /// Paired: use this executable as the base instead of building GIT_REF (for tests).
    #[arg(long, hide = true, env = "HANDOFF_BENCH_BASE_BIN")]
    pub base_bench_bin: Option<PathBuf>,
    /// The workspace to build and benchmark (default: the one this xtask belongs to; for
    /// tests).
    #[arg(long, hide = true, env = "HANDOFF_BENCH_WORKSPACE")]
    pub workspace: Option<PathBuf>,
}

/// The paired mode's settings.
#[derive(Debug, Clone)]
pub struct PairedSettings {
    pub against: String,
    pub exact_ref: bool,
    pub min_blocks: u32,
    pub max_time: Option<Duration>,
    pub base_bench_bin: Option<PathBuf>,
}

/// Validated settings of one `bench` invocation.
#[derive(Debug)]
pub struct Config {
    pub settings: Settings,
    pub baseline: Option<BaselineName>,
    pub use_default_baseline: bool,
    pub save_baseline: Option<BaselineName>,
    pub outputs: OutputArgs,
    pub policy: VerdictPolicy,
    pub fail_on_regression: bool,
    pub timeout: Duration,
    pub bench_bin: Option<PathBuf>,
    pub store: BaselineStore,
    /// `--against` and friends; `None` for the independent mode.
    pub paired: Option<PairedSettings>,
    /// The workspace to build and benchmark.
    pub root: PathBuf,
}

impl TryFrom<Args> for Config {
    type Error = anyhow::Error;

    fn try_from(args: Args) -> anyhow::Result<Self> {
        let positive = |name: &str, v: u64| {
            if v == 0 {
                Err(UsageError(format!("{name} must be at least 1")))
            } else {
                Ok(())
            }
        };
        positive("--runs", u64::from(args.runs))?;
        positive("--count", args.count)?;
        positive("--in-flight", args.in_flight)?;
        if !(args.timeout.is_finite() && args.timeout > 0.0) {
            return Err(
                UsageError(format!("--timeout must be positive, got {}", args.timeout)).into(),
            );
        }
        if args.min_blocks < 2 {
            return Err(UsageError(format!(
                "--min-blocks must be at least 2 (a paired t needs two blocks), got {}",
                args.min_blocks
            ))
            .into());
        }
        let root = args.workspace.unwrap_or_else(crate::workspace_root);
        let name = |n: Option<String>| n.map(|s| s.parse::<BaselineName>()).transpose();
        let paired = args.against.map(|against| PairedSettings {
            against,
            exact_ref: args.exact_ref,
            min_blocks: args.min_blocks,
            max_time: args.max_time,
            base_bench_bin: args.base_bench_bin,
        });
        Ok(Config {
            settings: Settings {
                runs: args.runs,
                count: args.count,
                work: args.work,
                in_flight: args.in_flight,
                only: args.only,
                gap_us: args.gap,
                inject_ns: args.inject_ns,
                pin: !args.no_pin,
            },
            baseline: name(args.baseline)?,
            use_default_baseline: !args.no_baseline,
            save_baseline: name(args.save_baseline)?,
            policy: args.gate.policy()?,
            fail_on_regression: args.gate.fail_on_regression,
            outputs: args.outputs,
            timeout: Duration::from_secs_f64(args.timeout),
            bench_bin: args.bench_bin,
            store: BaselineStore::new(args.baselines_dir.unwrap_or_else(|| root.join("baselines"))),
            paired,
            root,
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
        if let Some(paired) = &self.paired {
            let run = crate::commands::bench::paired::run(&self, paired)?;
            let planned = run.planned_runs;
            return self.finish(&run.results, Some(&run.comparison), planned);
        }
        let root = self.root.clone();
        let baseline = self.load_baseline()?;
        let program = self.head_program()?;
        let ids = runner::list_ids(&program, &self.settings.only)?;
        if ids.is_empty() {
            return Err(UsageError(format!(
                "no configuration of {} matches --only {:?}",
                program.display(),
                self.settings.only
            ))
            .into());
        }
        let command = BenchCommand {
            program,
            args: self.pass_through_args(),
            timeout: self.timeout,
        };
        let (samples, failures) = self.run_all(&command, &ids)?;

        let mut settings = self.settings.clone();
        settings.pin = confirm_pinned(settings.pin, samples.iter().flatten());
        let configurations = ids
            .iter()
            .zip(samples)
            .filter(|(_, s)| !s.is_empty())
            .map(|(id, s)| ConfigurationResult::from_samples(id.clone(), s))
            .collect::<Result<Vec<_>, _>>()
            .context("summarising samples")?;
        let results = ResultFile {
            schema: RESULTS_SCHEMA,
            kind: RESULTS_KIND.to_owned(),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            host: HostFingerprint::detect(&root),
            git: GitRevision::detect(&root),
            settings,
            configurations,
            failures,
            paired: None,
        };
        if let Some((label, file)) = &baseline
            && let Some(warning) = pin_mismatch(label, file.settings.pin, results.settings.pin)
        {
            eprintln!("{warning}");
        }
        let comparison = baseline.map(|(label, file)| {
            independent::compare(
                &file,
                &results,
                label,
                self.policy.clone(),
                IndependentSettings::default(),
            )
        });
        if comparison
            .as_ref()
            .is_some_and(|c| c.fingerprint.different_host())
        {
            eprintln!("WARNING: the baseline comes from a different host; see the report.");
        }
        self.finish(
            &results,
            comparison.as_ref(),
            ids.len() * self.settings.runs as usize,
        )
    }

    /// The head's benchmark executable: `--bench-bin`, or a release build of the workspace.
    pub(crate) fn head_program(&self) -> anyhow::Result<PathBuf> {
        Ok(match &self.bench_bin {
            Some(path) => path.clone(),
            None => {
                eprintln!("building {} (release)", crate::engine::binary::BENCH_BIN);
                build_release(&self.root)?
            }
        })
    }

    /// Reports (terminal, files, GitHub), the baseline save, and the outcome.
    fn finish(
        &self,
        results: &ResultFile,
        comparison: Option<&Comparison>,
        planned_runs: usize,
    ) -> anyhow::Result<Outcome> {
        print!("{}", report::table::render(results, comparison));
        self.outputs.write(results, comparison)?;
        let (_, annotations) = crate::github::publish::publish(
            &report::markdown::render(results, comparison),
            comparison,
        )
        .context("cannot append to the GitHub step summary")?;
        for line in annotations {
            println!("{line}");
        }

        let failed = !results.failures.is_empty();
        if failed {
            let mut failed_ids: Vec<&str> =
                results.failures.iter().map(|f| f.id.as_str()).collect();
            failed_ids.sort_unstable();
            failed_ids.dedup();
            eprintln!(
                "error: {} of {} runs failed ({}); see the FAILED lines above",
                results.failures.len(),
                planned_runs,
                failed_ids.join(", ")
            );
        }
        if let Some(name) = &self.save_baseline {
            if failed {
                eprintln!(
                    "error: not saving baseline {}: {} run(s) failed; an incomplete run must not replace a baseline",
                    name.as_str(),
                    results.failures.len()
                );
            } else {
                let path = self.store.save(name, results)?;
                eprintln!("saved baseline {}", path.display());
            }
        }
        // A failed child makes the run incomplete: that outranks a regression verdict.
        Ok(if failed {
            Outcome::Failed
        } else if self.fail_on_regression && comparison.is_some_and(|c| c.has_regression()) {
            Outcome::Regressed
        } else {
            Outcome::Clean
        })
    }

    /// The named baseline, or `reference` when it exists and none was named.
    fn load_baseline(&self) -> anyhow::Result<Option<(String, ResultFile)>> {
        let name = match &self.baseline {
            Some(name) => name.clone(),
            None if self.use_default_baseline => {
                let default: BaselineName = DEFAULT_BASELINE.parse()?;
                if !self.store.exists(&default) {
                    return Ok(None);
                }
                default
            }
            None => return Ok(None),
        };
        let file = self
            .store
            .load(&name)
            .with_context(|| format!("cannot use baseline {}", name.as_str()))?;
        Ok(Some((format!("baseline {}", name.as_str()), file)))
    }

    pub(crate) fn pass_through_args(&self) -> Vec<String> {
        let s = &self.settings;
        let mut args = vec![
            "--count".to_owned(),
            s.count.to_string(),
            "--work".to_owned(),
            s.work.clone(),
            "--in-flight".to_owned(),
            s.in_flight.to_string(),
        ];
        if let Some(gap) = s.gap_us {
            args.extend(["--gap".to_owned(), gap.to_string()]);
        }
        if let Some(inject) = s.inject_ns {
            args.extend(["--inject-ns".to_owned(), inject.to_string()]);
        }
        if s.pin {
            args.push(PIN_FLAG.to_owned());
        }
        args
    }

    /// Runs the schedule; samples per id (in `ids` order) and the failures.
    fn run_all(
        &self,
        command: &BenchCommand,
        ids: &[String],
    ) -> anyhow::Result<(Vec<Vec<Measurement>>, Vec<RunFailure>)> {
        let steps = runner::schedule(ids, self.settings.runs);
        let mut samples: Vec<Vec<Measurement>> = vec![Vec::new(); ids.len()];
        let mut failures = Vec::new();
        let mut progress = Progress::new(steps.len() as u64);
        for step in &steps {
            let what = format!("run {}/{} {}", step.run + 1, self.settings.runs, step.id);
            progress.start(&what);
            match runner::run_one(command, &step.id) {
                Ok(m) => {
                    let wall_us = Metric::Wall.per_call(&m) / 1000.0;
                    progress.done(&what, &format!("{wall_us:.3} us/call"));
                    let index = ids
                        .iter()
                        .position(|id| *id == step.id)
                        .expect("scheduled ids come from ids");
                    samples[index].push(m);
                }
                Err(ChildFailure::BadUsage { stderr_tail }) => {
                    progress.finish();
                    return Err(UsageError(format!(
                        "{} rejected the arguments {:?} (exit status 2):\n{stderr_tail}",
                        command.program.display(),
                        command.args
                    ))
                    .into());
                }
                Err(failure) => {
                    progress.done(&what, "FAILED");
                    progress.message(&format!(
                        "FAILED {what}: {failure}\n--- stderr (tail) ---\n{}\n---",
                        failure.stderr_tail()
                    ));
                    failures.push(RunFailure {
                        id: step.id.clone(),
                        run: step.run,
                        side: None,
                        reason: failure.to_string(),
                        stderr_tail: failure.stderr_tail().to_owned(),
                    });
                }
            }
        }
        progress.finish();
        Ok((samples, failures))
    }
}
