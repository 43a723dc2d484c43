//! The `cargo xtask` library: running the benchmark, statistics, comparison, result files,
//! baselines and reports. `main.rs` only parses the command line and dispatches here.
//!
//! Pipeline: `bench` (flags -> `Config`) -> `runner` (processes -> `Measurement`s) ->
//! `results` (`ResultFile` with `stats::Summary` per metric) -> `comparison` (verdicts) ->
//! `report` (text) -> `exit` (status).
//!
//! Paired mode (`bench --against`): `worktree` + `binary` (base and head builds) ->
//! `paired_run` (blocks from `schedule`, stopped by `sequential`) -> `paired_record` (both
//! sides' samples) -> `comparison::paired` (paired t on block log-ratios) -> the same
//! `assemble`, verdicts and reports. `calibrate` runs A/A and injected-slowdown trials
//! through the same `paired_run`. `github::publish` feeds the job summary and annotations.

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
