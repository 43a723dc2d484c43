//! Where the worker thread runs relative to its callers: it notices when it shares a CPU with
//! the caller it serves, and steps off that CPU.
//!
//! # Why
//!
//! On a machine with a spare CPU a spinning worker and its caller should run on two CPUs.
//! The scheduler sometimes puts them on one and keeps them there: measured on the 2-vCPU
//! VMs this crate is tuned on, a tokio current_thread caller unpinned beside an adaptive
//! worker shared one vCPU after 72-100% of its calls in most processes of a run, and
//! answered SQLite point reads in 9.4-11.4 us instead of 3.3-4.5 us, with the worker
//! preempted once per call and the other vCPU idle. Once both are busy on one CPU, neither
//! sleeps, so the scheduler's wake-up placement (which would pick the idle CPU) never runs,
//! and the load balancer leaves "cache-hot" threads where they are.
//!
//! # How
//!
//! 1. Every call carries the CPU its caller made it on; after running it, the worker reads
//!    its own (a few nanoseconds).
//! 2. After [`TOGETHER_LIMIT`] calls in a row on its caller's CPU, and at most once per
//!    [`STEP_INTERVAL`], the worker narrows its allowed CPUs to the others of its current
//!    set and widens them again ([`crate::os::step_off`]): the kernel moves it at once and
//!    leaves it there. Its set is what it was before (read at that moment, so a set the
//!    application gave the thread meanwhile is kept); a thread whose set holds one CPU
//!    never steps.
//! 3. After [`TOGETHER`] calls in a row on its caller's CPU, until a call comes from
//!    another, it does not spin, and tells its callers not to either
//!    ([`crate::caller_spin`]): a spin would only take the CPU from the thread it waits for.

use std::time::{Duration, Instant};

use crate::os::{self, Cpu, NO_CPU};
use crate::stats::Counters;

/// Calls in a row on the caller's CPU after which neither spins (one can be a coincidence
/// of the moment)...
pub(crate) const TOGETHER: u32 = 2;
/// ... and after which the worker steps off it.
pub(crate) const TOGETHER_LIMIT: u32 = 4;
/// The worker steps off a CPU at most this often.
pub(crate) const STEP_INTERVAL: Duration = Duration::from_millis(10);

/// The worker's view of where it runs (module docs).
pub(crate) struct Placement {
    /// The adaptive strategies watch where they run; the others never step.
    watches: bool,
    here: Cpu,
    together: u32,
    last_step: Option<Instant>,
}

impl Placement {
    /// For the calling (worker) thread; `watches` for the adaptive strategies.
    pub(crate) fn new(watches: bool) -> Self {
        Self {
            watches,
            here: NO_CPU,
            together: 0,
            last_step: None,
        }
    }

    /// Whether the worker keeps sharing its callers' CPU (step 3).
    pub(crate) fn together(&self) -> bool {
        self.together >= TOGETHER
    }

    /// Steps 1-2, after a call made on `caller_cpu`.
    pub(crate) fn after_call(&mut self, caller_cpu: Cpu, counters: &Counters) {
        self.after_call_at(caller_cpu, counters, Instant::now);
    }

    /// [`Placement::after_call`] with the clock `now`, read only when a step is considered.
    fn after_call_at(&mut self, caller_cpu: Cpu, counters: &Counters, now: impl Fn() -> Instant) {
        if !self.watches {
            return;
        }
        self.here = os::current_cpu();
        if !os::same_cpu(self.here, caller_cpu) {
            self.together = 0;
            return;
        }
        self.together += 1;
        if self.together < TOGETHER_LIMIT {
            return;
        }
        let now = now();
        if self
            .last_step
            .is_none_or(|last| now.saturating_duration_since(last) >= STEP_INTERVAL)
        {
            self.last_step = Some(now);
            if os::step_off(self.here) {
                counters.stepped_off();
                self.here = os::current_cpu();
                self.together = 0;
            }
        }
    }
}

impl std::fmt::Debug for Placement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Placement")
            .field("watches", &self.watches)
            .field("here", &self.here)
            .field("together", &self.together)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom), target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_worker_on_its_callers_cpu_steps_off_it_after_a_few_calls() {
        let counters = Counters::default();
        let mut placement = Placement::new(true);
        if std::thread::available_parallelism().map_or(1, usize::from) < 2 {
            return; // One CPU: nothing to step onto.
        }
        for call in 1..TOGETHER_LIMIT {
            placement.after_call(os::current_cpu(), &counters);
            assert_eq!(placement.together(), call >= TOGETHER, "after {call} calls");
        }
        let start = Instant::now();
        let before = os::current_cpu();
        placement.after_call_at(before, &counters, || start);
        assert!(!placement.together());
        assert_ne!(os::current_cpu(), before);
        assert_eq!(counters.snapshot_stepped_off(), 1);
        // Not again within the interval, however long they share a CPU ...
        let soon = start + STEP_INTERVAL / 2;
        for _ in 0..4 * TOGETHER_LIMIT {
            placement.after_call_at(os::current_cpu(), &counters, || soon);
        }
        assert_eq!(counters.snapshot_stepped_off(), 1);
        // ... and again after it.
        let later = start + STEP_INTERVAL;
        placement.after_call_at(os::current_cpu(), &counters, || later);
        assert_eq!(counters.snapshot_stepped_off(), 2);
    }

    #[test]
    fn a_worker_that_blocks_never_steps() {
        let counters = Counters::default();
        let mut placement = Placement::new(false);
        for _ in 0..100 {
            placement.after_call(os::current_cpu(), &counters);
        }
        assert_eq!(counters.snapshot_stepped_off(), 0);
        assert!(!placement.together());
    }
}
