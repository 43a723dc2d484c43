//! The flags of `cargo xtask bench` and their validated form, [`Config`].

use std::path::PathBuf;
use std::time::Duration;

use crate::commands::flags::{GateArgs, OutputArgs, RunArgs, parse_duration};
use crate::comparison::VerdictPolicy;
use crate::engine::target::Target;
use crate::model::results::{HeadInjection, Settings};
use crate::model::shard::Shard;
use crate::model::store::{BaselineName, BaselineStore};

/// Defaults (besides the run flags', see [`RunArgs`]) are sized for the full suite (~34
/// configurations) on the project's 2-vCPU machines, within 3 minutes:
///
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
/// - `--min-blocks 60`: sixty blocks (each configuration's base and head side by side
///   once per block) before verdicts are looked at. The Hodges-Lehmann estimator's
///   signed-rank p-value cannot go below `2 / 2^n`, which Holm's correction over ~100
///   gated pairs needs below ~5e-4 (n >= 12 when every block agrees, ~17 with some
///   disagreement); and the MDE of the noisiest (spinning) rows is 9-10.5% at 40 blocks
///   and 7.4-7.8% at 60 (`docs/book/src/notes/2026-12-02-gate-calibration.md`). Sixty lock-step
///   blocks of the full suite take about 8.5 minutes here; bench.yml runs 30 to fit the
///   pull request's 10 minutes.
/// - `--max-time`: unset by default (exactly `--min-blocks` blocks, a predictable run).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Fresh processes per configuration; 10 is about the fewest that lets a clear change
    /// survive Holm's correction over the full suite.
    #[arg(long, default_value_t = 10, conflicts_with = "against", value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// Microseconds between calls, passed on only when given.
    #[arg(long, value_name = "US")]
    pub gap: Option<u64>,
    /// Calibration aid: N ns of busy work on the async side before every call (the
    /// binary's --inject-ns), to check that a known slowdown is detected; passed on only
    /// when given. `cargo xtask calibrate` uses it on one side.
    #[arg(long, value_name = "N")]
    pub inject_ns: Option<u64>,
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
    /// Paired: blocks that always run before verdicts are looked at (at least 2: a paired t
    /// needs two blocks).
    #[arg(long, value_name = "N", default_value_t = 60, value_parser = clap::value_parser!(u32).range(2..))]
    pub min_blocks: u32,
    /// Paired: after --min-blocks, keep adding blocks while a gated pair is inconclusive,
    /// starting a block only when it is expected to end within this budget (e.g. 90s, 10m,
    /// 1h). Counts the benchmarking only, not the builds. Unset: exactly --min-blocks.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "against")]
    pub max_time: Option<Duration>,
    /// Paired, a demonstration aid: NS ns of busy work before every call of the head's
    /// configurations matching GLOB only (the binary's --inject-ns on one side), to see how
    /// a known regression of one row is reported; repeatable.
    #[arg(long, value_name = "GLOB=NS", requires = "against")]
    pub inject_head: Vec<HeadInjection>,
    /// Paired: run only shard K of N of the configurations both builds have (contiguous
    /// slices of the head's list, balanced by count), so that N jobs together run the whole
    /// suite; `cargo xtask merge` and the pull-request comment merge their result files
    /// into one comparison. A shard runs exactly --min-blocks blocks (no --max-time).
    #[arg(
        long,
        value_name = "K/N",
        requires = "against",
        conflicts_with = "max_time"
    )]
    pub shard: Option<Shard>,
    #[command(flatten)]
    pub outputs: OutputArgs,
    #[command(flatten)]
    pub gate: GateArgs,
    /// Last of the shown flags: clap keeps the "Run options" heading for every flag after it.
    #[command(flatten)]
    pub run: RunArgs,
    /// Directory of the baselines (default: `baselines/` of the workspace; for tests).
    #[arg(long, hide = true, env = "HANDOFF_BENCH_BASELINES_DIR")]
    pub baselines_dir: Option<PathBuf>,
    /// Paired: use this executable as the base instead of building GIT_REF (tests, and the
    /// shards of `bench.yml`, whose build job built the base once).
    #[arg(long, hide = true, env = "HANDOFF_BENCH_BASE_BIN")]
    pub base_bench_bin: Option<PathBuf>,
}

/// The paired mode's settings.
#[derive(Debug, Clone)]
pub struct PairedSettings {
    pub against: String,
    pub exact_ref: bool,
    pub min_blocks: u32,
    pub max_time: Option<Duration>,
    pub base_bench_bin: Option<PathBuf>,
    pub inject_head: Vec<HeadInjection>,
    pub shard: Option<Shard>,
}

/// Validated settings of one `bench` invocation.
#[derive(Debug)]
pub struct Config {
    /// What runs: workspace, executable, `--only`, the binary's flags, the timeout.
    pub target: Target,
    /// Fresh processes per configuration (the independent mode).
    pub runs: u32,
    pub baseline: Option<BaselineName>,
    pub use_default_baseline: bool,
    pub save_baseline: Option<BaselineName>,
    pub outputs: OutputArgs,
    pub policy: VerdictPolicy,
    pub fail_on_regression: bool,
    pub store: BaselineStore,
    /// `--against` and friends; `None` for the independent mode.
    pub paired: Option<PairedSettings>,
}

impl TryFrom<Args> for Config {
    type Error = anyhow::Error;

    fn try_from(args: Args) -> anyhow::Result<Self> {
        let mut target = args.run.into_target();
        target.flags.gap_us = args.gap;
        target.flags.inject_ns = args.inject_ns;
        let name = |n: Option<String>| n.map(|s| s.parse::<BaselineName>()).transpose();
        let paired = args.against.map(|against| PairedSettings {
            against,
            exact_ref: args.exact_ref,
            min_blocks: args.min_blocks,
            max_time: args.max_time,
            base_bench_bin: args.base_bench_bin,
            inject_head: args.inject_head,
            shard: args.shard,
        });
        Ok(Config {
            runs: args.runs,
            baseline: name(args.baseline)?,
            use_default_baseline: !args.no_baseline,
            save_baseline: name(args.save_baseline)?,
            policy: args.gate.policy()?,
            fail_on_regression: args.gate.fail_on_regression,
            outputs: args.outputs,
            store: BaselineStore::new(
                args.baselines_dir
                    .unwrap_or_else(|| target.root.join("baselines")),
            ),
            paired,
            target,
        })
    }
}

impl Config {
    /// The settings recorded in the result file: `runs` processes (blocks, when paired) per
    /// configuration, pinned as `pin` says (confirmed by the samples); the run adds how it
    /// counted instructions.
    pub fn settings(&self, runs: u32, pin: bool) -> Settings {
        let flags = &self.target.flags;
        Settings {
            runs,
            count: flags.count,
            work: flags.work.to_string(),
            in_flight: flags.in_flight,
            only: self.target.only.clone(),
            gap_us: flags.gap_us,
            inject_ns: flags.inject_ns,
            inject_head: self
                .paired
                .iter()
                .flat_map(|paired| paired.inject_head.clone())
                .collect(),
            pin,
            counters: None,
        }
    }
}
