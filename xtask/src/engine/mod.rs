//! The engine: the machinery that produces measurements. Builds ([`binary`], the paired
//! run's [`base`] in its [`worktree`]), processes ([`target`]: which executable with which
//! flags; [`runner`]: one process, one JSON line), [`schedule`]s, the [`stop_rule`], and the
//! sessions that tie them together ([`independent_session`], [`paired_session`], the
//! [`paired_run`] and the [`calibration`]'s trials), with their [`progress`] output.
//! Imports `comparison` (a paired session looks at verdicts to decide when to stop),
//! `model` and `stats`; never a command or a renderer.

pub mod base;
pub mod binary;
pub mod calibration;
pub mod callgrind;
pub mod capabilities;
pub mod counting;
pub mod explain_run;
pub mod independent_session;
pub mod lockstep;
pub mod paired_run;
pub mod paired_session;
pub mod progress;
pub mod runner;
pub mod sampling;
pub mod schedule;
pub mod serve_client;
pub mod stop_rule;
pub mod target;
pub mod worktree;
