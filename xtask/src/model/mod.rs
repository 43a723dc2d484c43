//! Layer 1, the data model: measurements, metrics, result files, paired records, host.
pub mod files;
pub mod git;
pub mod host;
pub mod measurement;
pub mod metric;
pub mod paired_record;
pub mod results;
pub mod store;
pub mod usage;
