//! Layer 4, the engine: builds, worktrees, processes, schedules, stop rules, sessions.
pub mod base;
pub mod binary;
pub mod independent_session;
pub mod paired_session;
pub mod progress;
pub mod runner;
pub mod schedule;
pub mod stop_rule;
pub mod target;
pub mod worktree;
