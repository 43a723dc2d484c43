//! The `cargo xtask` library: running the benchmark, statistics, comparison, result files,
//! baselines and reports. `main.rs` only parses the command line and dispatches to
//! [`commands`].
//!
//! # Layers
//!
//! Each folder is one layer and imports only the layers below it (`tests/module_layers.rs`
//! checks this, and that no modules import each other round a loop):
//!
//! ```text
//! commands/    the subcommands, one module each: flags -> validated config -> run
//!   |          (bench/, calibrate, compare, baseline, comment; flags, exit statuses)
//!   +------------------+
//!   v                  v
//! engine/            github/   the GitHub API: sticky comment, job summary, annotations
//!   |                  v
//!   |                report/   pure renderers: terminal table, markdown, JSON, exports
//!   +------------------+
//!   v
//! comparison/  verdicts: independent (Mann-Whitney) and paired (paired t), calibration
//!   v
//! model/       the data: measurements, metrics, result files, paired records, host, git,
//!   v          the baseline store, atomic files, UsageError
//! stats/       samples, summaries, intervals, tests, Holm
//! ```
//!
//! Why a test and not a crate per layer: the protocol the benchmark and the gate share is a
//! crate of its own (`handoff-protocol`), because two binaries meet there and Cargo must
//! build it for both. Inside the gate, seven crates would enforce the same arrows as
//! `tests/module_layers.rs` does, at the price of seven manifests, a public API at every
//! boundary that is today `pub(crate)`, and slower incremental builds of the one binary
//! everybody runs; the test also checks what Cargo cannot (no cycles inside a layer, and no
//! module over 400 lines).
//!
//! `engine/` is the machinery that produces data: builds (`binary`, `base`, `worktree`),
//! processes (`target`, `runner`), schedules (`schedule`), stop rules (`stop_rule`) and the
//! independent and paired sessions, with their progress output.
//!
//! # Pipeline
//!
//! Cli -> Config -> Measurement -> Samples -> Summary -> Comparison -> Verdict -> Report:
//!
//! 1. `commands::bench` parses flags into its `Config` (`commands::flags::RunArgs` becomes
//!    an `engine::target::Target`).
//! 2. `engine::independent_session` runs fresh processes (`engine::runner`), each printing a
//!    `model::measurement::Measurement`.
//! 3. `model::results` collects them into a `ResultFile`, a `stats::Summary` per metric.
//! 4. `comparison::independent` compares with a stored baseline (`model::store`): verdicts.
//! 5. `report` renders them; `github::publish` feeds the job summary and annotations;
//!    `commands::exit` turns the outcome into the exit status.
//!
//! Paired mode (`bench --against`): `engine::base` (the base build in its worktree) ->
//! `engine::paired_session` (blocks from `engine::schedule`, stopped by
//! `engine::stop_rule`) -> `model::paired_record` (both sides' samples) ->
//! `comparison::paired` (paired t on block log-ratios) -> the same reports. `calibrate`
//! (`engine::calibration`) runs A/A and injected trials through the same paired session, or
//! with `--counters` the same counting runs, and judges them with `comparison::calibration`.

pub mod commands;
pub mod comparison;
pub mod engine;
pub mod github;
pub mod model;
pub mod report;
pub mod stats;

use std::path::{Path, PathBuf};

/// The workspace root (the parent of the xtask package).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_owned()
}
