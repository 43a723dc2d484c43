//! How a paired session samples base and head: one whole process per side and block (the
//! design the gate started with), or lock-step slices of two serving processes
//! ([`super::lockstep`]). Both go through the same session, comparison and calibration.

use std::collections::BTreeMap;

use crate::engine::lockstep::{LockstepExecutor, SliceShape};
use crate::engine::paired_session::{Executor, ProcessExecutor};
use crate::engine::runner::BenchCommand;
use crate::model::paired_record::Side;

/// The sampling design of a paired session (`--sampling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// One process per side and block; its one timed window is the sample.
    Processes,
    /// Per block, two serving processes side by side, their slices alternating.
    Lockstep(SliceShape),
}

/// Extra flags per side and configuration (`calibrate` injects into side B this way).
pub type ExtraFlags = BTreeMap<(Side, String), Vec<String>>;

impl Sampling {
    /// The executor of this design for `base` and `head`.
    pub fn executor(
        self,
        base: BenchCommand,
        head: BenchCommand,
        extra: ExtraFlags,
    ) -> Box<dyn Executor> {
        match self {
            Sampling::Processes => Box::new(ProcessExecutor { base, head, extra }),
            Sampling::Lockstep(shape) => Box::new(LockstepExecutor {
                base,
                head,
                shape,
                extra,
            }),
        }
    }

    /// How reports and result files name the design: `processes`, or
    /// `lockstep (10 slices x 1000 calls)`.
    pub fn label(self) -> String {
        match self {
            Sampling::Processes => "processes".to_owned(),
            Sampling::Lockstep(shape) => {
                format!("lockstep ({} slices x {} calls)", shape.slices, shape.calls)
            }
        }
    }
}
