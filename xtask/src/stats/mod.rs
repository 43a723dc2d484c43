//! Statistics on repeated measurements: the `Samples` invariant type, one summary for every
//! metric, and the tests and estimators the comparison uses.
//!
//! Distributions (binomial, Student's t, normal) come from `statrs`; nothing here evaluates a
//! special function by hand. The methods and their references are documented per module.

pub mod bootstrap;
pub mod change_points;
pub mod holm;
pub mod mann_whitney;
pub mod median_interval;
pub mod modes;
pub mod paired_t;
pub mod quantile;
pub mod samples;
pub mod signed_rank;
pub mod summary;
pub mod welch;

pub use samples::{Samples, SamplesError};
pub use summary::Summary;

/// The confidence level of every interval this crate reports.
pub const CONFIDENCE: f64 = 0.95;
