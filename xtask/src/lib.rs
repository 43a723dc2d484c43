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

pub mod against;
pub mod baseline;
pub mod bench;
pub mod binary;
pub mod calibrate;
pub mod comment;
pub mod compare;
pub mod comparison;
pub mod exit;
pub mod fsutil;
pub mod git;
pub mod github;
pub mod host;
pub mod measurement;
pub mod metric;
pub mod options;
pub mod paired_record;
pub mod paired_run;
pub mod progress;
pub mod report;
pub mod results;
pub mod runner;
pub mod schedule;
pub mod sequential;
pub mod stats;
pub mod store;
pub mod worktree;

use std::path::{Path, PathBuf};

/// The workspace root (the parent of the xtask package).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_owned()
}
