//! handoff-bench: what one async -> thread -> async round trip costs, per runtime and handoff.
pub mod worker;
