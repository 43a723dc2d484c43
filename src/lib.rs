//! handoff-bench: what one async -> thread -> async round trip costs, per runtime and
//! handoff, measured per thread role beside the physical floors.
//!
//! The pipeline: [`cli::Cli`] -> [`cli::Config`] -> [`suite::Configuration::run`] (a
//! [`driver`] or a [`floors`] run inside a [`measure::Window`]) -> [`line::Measurement`]
//! (the protocol's JSON line) -> [`table`] or a JSON line. In serve mode ([`serve`]) one
//! configuration runs as many timed windows as its commands ask for.

pub mod allocator;
pub mod cli;
pub mod counters;
pub mod driver;
pub mod floors;
pub mod handoff;
pub mod line;
pub mod measure;
pub mod pinning;
pub mod platform;
pub mod roles;
pub mod runtime;
pub mod serve;
pub mod suite;
pub mod table;
pub mod work;

/// The project's worker, its own crate ([`handoff_worker`]); re-exported under the name the
/// benchmark has always used.
pub use handoff_worker as worker;
