//! Exit statuses (`docs/book/src/formats/exit-codes.md`) and which errors count as bad usage or bad input.
//!
//! 0: ran, no confirmed regression; 3: a confirmed regression with `--fail-on-regression`;
//! 2: bad usage or unreadable/invalid input (including a `--against` ref that names no
//! commit); 1: any other failure (e.g. a child failed, the base does not build).

use std::process::ExitCode;

use crate::engine::worktree::WorktreeError;
use crate::model::results::ResultsError;
use crate::model::store::BaselineNameError;
use crate::model::usage::UsageError;

/// How a subcommand that ran to the end went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to report as a failure.
    Clean,
    /// A confirmed regression, and the user asked to fail on one.
    Regressed,
    /// Something failed (a child crashed, a baseline could not be saved) though reports were
    /// written for what did run.
    Failed,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(match self {
            Outcome::Clean => 0,
            Outcome::Regressed => 3,
            Outcome::Failed => 1,
        })
    }
}

/// The exit status for an error: 2 when anything in its chain is bad usage or bad input.
pub fn code_for(error: &anyhow::Error) -> ExitCode {
    let bad_input = error.chain().any(|e| {
        e.is::<UsageError>()
            || e.is::<ResultsError>()
            || e.is::<BaselineNameError>()
            || matches!(
                e.downcast_ref::<WorktreeError>(),
                Some(WorktreeError::UnknownRef { .. } | WorktreeError::NoMergeBase { .. })
            )
    });
    ExitCode::from(if bad_input { 2 } else { 1 })
}
