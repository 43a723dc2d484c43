//! How a paired session samples base and head ([`Sampling`]): one whole process per side and
//! block (the design the gate started with), or lock-step slices of two serving processes
//! ([`super::lockstep`]). Both go through the same session, comparison and calibration.

use handoff_protocol::Flag;

use crate::engine::capabilities::PairCapabilities;
use crate::engine::lockstep::LockstepExecutor;
use crate::engine::paired_session::{Executor, ProcessExecutor};
use crate::engine::runner::{BenchCommand, Injections};
pub use crate::model::paired_record::{Sampling, SliceShape};

/// The executor of `sampling` for `base` and `head`, with `injections` per side and
/// configuration.
pub fn executor(
    sampling: Sampling,
    base: BenchCommand,
    head: BenchCommand,
    injections: Injections,
) -> Box<dyn Executor> {
    match sampling {
        Sampling::Processes => Box::new(ProcessExecutor {
            base,
            head,
            injections,
        }),
        Sampling::Lockstep(shape) => Box::new(LockstepExecutor {
            base,
            head,
            shape,
            injections,
        }),
    }
}

/// The design both binaries can run: lock-step needs serve mode on both sides (a base from
/// before it runs whole processes, with a warning on stderr).
pub fn both_can_run(sampling: Sampling, capabilities: &PairCapabilities) -> Sampling {
    let lockstep = matches!(sampling, Sampling::Lockstep(_));
    if capabilities.both_or_warn(
        lockstep,
        Flag::Serve,
        "sampling whole processes instead of lock-step",
    ) || !lockstep
    {
        sampling
    } else {
        Sampling::Processes
    }
}

/// `--warm-up-ms` for both sides, or for neither: it came with serve mode, and both sides
/// must be measured alike (a warning on stderr when one binary lacks it).
pub fn warm_up_both_know(warm_up_ms: Option<u64>, capabilities: &PairCapabilities) -> Option<u64> {
    capabilities
        .both_or_warn(
            warm_up_ms.is_some(),
            Flag::WarmUpMs,
            "--warm-up ignored on both sides",
        )
        .then_some(warm_up_ms)
        .flatten()
}
