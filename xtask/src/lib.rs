//! The `cargo xtask` library: running the benchmark, statistics, comparison, result files,
//! baselines and reports. `main.rs` only parses the command line and dispatches here.

pub mod comparison;
pub mod git;
pub mod host;
pub mod measurement;
pub mod metric;
pub mod results;
pub mod stats;
pub mod report;
