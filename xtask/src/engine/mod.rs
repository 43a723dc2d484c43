//! Layer 4, the engine: builds, worktrees, processes, schedules, stop rules, sessions.
pub mod binary;
pub mod paired_session;
pub mod progress;
pub mod runner;
pub mod schedule;
pub mod stop_rule;
pub mod worktree;
