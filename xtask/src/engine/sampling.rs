//! How a paired session samples base and head: one whole process per side and block (the
//! design the gate started with), or lock-step slices of two serving processes
//! ([`super::lockstep`]). Both go through the same session, comparison and calibration.

use std::collections::BTreeMap;
use std::path::Path;

use crate::engine::lockstep::{LockstepExecutor, SliceShape};
use crate::engine::paired_session::{Executor, ProcessExecutor};
use crate::engine::runner::{self, BenchCommand};
use crate::engine::serve_client::{SERVE_FLAG, WARM_UP_FLAG};
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

    /// The design both binaries can run: lock-step needs `--serve` on both sides (a base
    /// from before it came runs whole processes, with a warning on stderr).
    pub fn both_can_run(self, base: &Path, head: &Path) -> Sampling {
        if self == Sampling::Processes {
            return self;
        }
        let cannot = lacking(SERVE_FLAG, base, head);
        if cannot.is_empty() {
            return self;
        }
        eprintln!(
            "warning: {} has no {SERVE_FLAG} flag; sampling whole processes instead of lock-step",
            cannot.join(" and ")
        );
        Sampling::Processes
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

/// `--warm-up-ms` for both sides, or for neither: it came with `--serve`, and both sides
/// must be measured alike (a warning on stderr when one binary lacks it).
pub fn warm_up_both_know(warm_up_ms: Option<u64>, base: &Path, head: &Path) -> Option<u64> {
    warm_up_ms?;
    let cannot = lacking(WARM_UP_FLAG, base, head);
    if cannot.is_empty() {
        return warm_up_ms;
    }
    eprintln!(
        "warning: {} has no {WARM_UP_FLAG} flag; --warm-up ignored on both sides",
        cannot.join(" and ")
    );
    None
}

/// The sides whose binary lacks `flag`, named for a warning.
fn lacking(flag: &str, base: &Path, head: &Path) -> Vec<String> {
    [("base", base), ("head", head)]
        .into_iter()
        .filter(|(_, program)| !runner::supports_flag(program, flag))
        .map(|(side, program)| format!("the {side} binary {}", program.display()))
        .collect()
}
