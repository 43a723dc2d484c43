//! `--pin`: loop threads on one CPU, every other thread on another, for repeatable numbers.
//!
//! On a machine with two CPUs the scheduler decides anew in every process whether the
//! caller and its worker share a CPU (a blocking hand-off then runs several times faster)
//! or run on two (a spinning hand-off needs that). Which placement a process draws is the
//! largest source of run-to-run variation here, and pairing base and head binaries cannot
//! cancel it, because each process draws its own. Pinning removes the draw: every process
//! measures the same, two-CPU placement. The price is realism for thread pools, whose
//! threads then never share the caller's CPU; the regression gate wants repeatability, a
//! user reading the table wants the unpinned default.
//!
//! # How it works
//!
//! 1. [`release`] starts every configuration: pinning is off, and the calling thread gets
//!    the machine's CPUs back, so threads it starts do not inherit an earlier
//!    configuration's narrowed mask.
//! 2. [`pin_if`] (after the first warm-up calls, and again just before the window) turns
//!    pinning on and pins every live thread by the role it has now.
//! 3. While it is on, every thread that registers a role (`measure::register`) pins
//!    itself, and every thread a tokio runtime starts goes to the other CPU first
//!    ([`on_thread_start`]): threads a pool starts later would otherwise inherit the CPU
//!    of the thread that started them, often the caller's.
//! 4. [`pinned`] says whether every pinning so far succeeded; the JSON line reports it.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::platform::{self, Tid};
use crate::roles::{self, Role};

/// Where pinned threads go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// CPU of the threads that poll futures (and the floors' calling thread).
    pub loop_cpu: usize,
    /// CPU of every other thread: workers, pools, runtime helpers.
    pub other_cpu: usize,
}

/// Pinning is on (step 2 until the next step 1).
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// A pinning failed since the last [`release`].
static FAILED: AtomicBool = AtomicBool::new(false);

/// The CPUs this process was allowed to use when it first asked. Read once: pinning
/// narrows threads' masks, which later runs in the same process must not mistake for the
/// machine's.
fn allowed_cpus() -> &'static [usize] {
    static ALLOWED: OnceLock<Vec<usize>> = OnceLock::new();
    ALLOWED.get_or_init(|| platform::thread_cpus(0))
}

impl Placement {
    /// The first two allowed CPUs, or `None` with fewer than two (nothing to separate).
    pub fn detect() -> Option<Self> {
        match allowed_cpus() {
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

/// Step 1: pinning off, the calling thread free to run on every allowed CPU again.
pub fn release() {
    ACTIVE.store(false, Ordering::Relaxed);
    FAILED.store(false, Ordering::Relaxed);
    let allowed = allowed_cpus();
    if !allowed.is_empty() {
        // Best effort: a thread that cannot widen its mask keeps running where it was.
        let _ = platform::set_thread_cpus(0, allowed);
    }
}

/// Step 2: with `pin`, and two CPUs to separate threads on, turns pinning on and pins
/// every live thread by its current role. Idempotent. Returns [`pinned`].
pub fn pin_if(pin: bool) -> bool {
    let Some(placement) = Placement::detect().filter(|_| pin) else {
        return false;
    };
    ACTIVE.store(true, Ordering::Relaxed);
    // Under the registry's lock, so a thread that registers meanwhile (and pins itself)
    // is not pinned again by the role its name implied a moment earlier.
    roles::for_each_live_role(|tid, role| pin_thread(tid, placement.cpu_for(role)));
    pinned()
}

/// Step 3 for threads a runtime starts (its thread-start hook): while pinning is on, a new
/// thread goes to the CPU of [`Role::Other`] until it registers a role. Without it, a pool
/// thread that never runs a call would stay on the CPU it inherited, often the caller's.
pub fn on_thread_start() {
    on_register(Role::Other);
}

/// Step 3, called by `measure::register` the first time a thread registers in an epoch.
pub(crate) fn on_register(role: Role) {
    if ACTIVE.load(Ordering::Relaxed)
        && let Some(placement) = Placement::detect()
    {
        pin_thread(0, placement.cpu_for(role));
    }
}

/// Step 4: pinning is on and every pinning since [`release`] took effect.
pub fn pinned() -> bool {
    ACTIVE.load(Ordering::Relaxed) && !FAILED.load(Ordering::Relaxed)
}

/// Pins `tid` (0: the calling thread); a thread that has exited meanwhile is no failure.
fn pin_thread(tid: Tid, cpu: usize) {
    match platform::set_thread_cpus(tid, &[cpu]) {
        Ok(()) => {}
        Err(error) if error.raw_os_error() == Some(libc::ESRCH) => {}
        Err(_) => FAILED.store(true, Ordering::Relaxed),
    }
}
