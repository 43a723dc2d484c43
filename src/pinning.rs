//! `--pin`: loop threads on one CPU, every other thread on another, for repeatable numbers.
//!
//! On a machine with two CPUs the scheduler decides anew in every process whether the
//! caller and its worker share a CPU (a blocking hand-off then runs several times faster)
//! or run on two (a spinning hand-off needs that). Which placement a process draws is the
//! largest source of run-to-run variation here, and pairing base and head binaries cannot
//! cancel it, because each process draws its own. Pinning removes the draw: every process
//! measures the same, two-CPU placement. The price is realism for thread pools, whose
//! threads then share one CPU; the regression gate wants repeatability, a user reading
//! the table wants the unpinned default.

use std::sync::OnceLock;

use crate::measure::{self, Role};
use crate::platform;

/// Where pinned threads go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// CPU of the threads that poll futures (and the floors' calling thread).
    pub loop_cpu: usize,
    /// CPU of every other thread: workers, pools, runtime helpers.
    pub other_cpu: usize,
}

impl Placement {
    /// The first two CPUs this process was allowed to use when it first asked, or `None`
    /// with fewer than two (nothing to separate). Read once: pinning narrows the calling
    /// thread's own mask, which later runs in the same process must not mistake for the
    /// machine's.
    pub fn detect() -> Option<Self> {
        static ALLOWED: OnceLock<Vec<usize>> = OnceLock::new();
        match ALLOWED.get_or_init(|| platform::thread_cpus(0)).as_slice() {
            [loop_cpu, other_cpu, ..] => Some(Self {
                loop_cpu: *loop_cpu,
                other_cpu: *other_cpu,
            }),
            _ => None,
        }
    }

    /// The CPU a thread of `role` is pinned to.
    pub fn cpu_for(self, role: Role) -> usize {
        match role {
            Role::Loop => self.loop_cpu,
            Role::Worker | Role::Other => self.other_cpu,
        }
    }
}

/// With `pin`, pins every live thread by its role ([`pin_live_threads`]) when the machine
/// has two CPUs to separate them on; returns whether it did.
pub fn pin_if(pin: bool) -> bool {
    match Placement::detect() {
        Some(placement) if pin => {
            pin_live_threads(placement);
            true
        }
        _ => false,
    }
}

/// Pins every live thread of the process by its current role; threads started later
/// inherit the CPU of the thread that starts them. Returns how many threads were pinned
/// (a thread that exits meanwhile is skipped).
pub fn pin_live_threads(placement: Placement) -> usize {
    measure::live_roles()
        .into_iter()
        .filter(|&(tid, role)| platform::pin_thread(tid, placement.cpu_for(role)).is_ok())
        .count()
}
