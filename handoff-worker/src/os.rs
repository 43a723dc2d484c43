//! What the waiting policy asks the operating system: the CPU a thread runs on, the CPU time
//! the calling thread has used, and a way for the worker thread to step off a CPU it shares
//! with its caller. Linux only; elsewhere every answer is "unknown" and nothing moves.
//!
//! Hand-written over `libc` rather than a crate: three calls (`sched_getcpu`,
//! `clock_gettime(CLOCK_THREAD_CPUTIME_ID)`, `sched_{get,set}affinity`), and the crates that
//! wrap them (core_affinity, thread-priority) cover the affinity calls without the other two.

use std::time::Duration;

/// A CPU number, or [`NO_CPU`] when it is not known.
pub(crate) type Cpu = u32;

/// "Not known".
pub(crate) const NO_CPU: Cpu = u32::MAX;

#[cfg(target_os = "linux")]
mod imp {
    use super::{Cpu, Duration, NO_CPU};

    /// The CPU the calling thread runs on now. With glibc 2.35 or later this reads the
    /// kernel's restartable-sequences area (a few nanoseconds); otherwise the vDSO.
    pub(crate) fn current_cpu() -> Cpu {
        // SAFETY: `sched_getcpu` takes no arguments and only reads thread state.
        let cpu = unsafe { libc::sched_getcpu() };
        Cpu::try_from(cpu).unwrap_or(NO_CPU)
    }

    /// The CPU time the calling thread has used (user + system). A system call: about a
    /// microsecond under KVM, so the policy reads it only around the parks it samples.
    pub(crate) fn thread_cpu_time() -> Option<Duration> {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid, writable `timespec` for the duration of the call.
        let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut now) };
        if status != 0 {
            return None;
        }
        Some(Duration::new(
            u64::try_from(now.tv_sec).ok()?,
            u32::try_from(now.tv_nsec).ok()?,
        ))
    }

    /// The CPUs a thread may use, read when it starts, so that it can step off one of them
    /// and come back to exactly this set.
    pub(crate) struct Affinity {
        pub(super) allowed: libc::cpu_set_t,
    }

    impl Affinity {
        /// The calling thread's set, if it can be read and holds at least two CPUs.
        pub(crate) fn of_current_thread() -> Option<Self> {
            // SAFETY: `cpu_set_t` is plain data; all-zero is the empty set.
            let mut allowed: libc::cpu_set_t = unsafe { std::mem::zeroed() };
            // SAFETY: pid 0 is the calling thread; `allowed` is a writable set of the size
            // passed.
            let status = unsafe {
                libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &raw mut allowed)
            };
            // SAFETY: `allowed` was filled in by the kernel (or is still all-zero).
            let count = unsafe { libc::CPU_COUNT(&allowed) };
            (status == 0 && count >= 2).then_some(Self { allowed })
        }

        /// Moves the calling thread off `cpu` and gives it back its whole set: the kernel
        /// migrates a thread whose new set excludes the CPU it runs on at once, and widening
        /// the set again does not move it back. Returns whether it moved.
        pub(crate) fn step_off(&self, cpu: Cpu) -> bool {
            let Ok(index) = usize::try_from(cpu) else {
                return false;
            };
            if index >= 8 * size_of::<libc::cpu_set_t>() {
                return false;
            }
            let mut elsewhere = self.allowed;
            // SAFETY: `index` is within the set's bit range (checked above).
            unsafe { libc::CPU_CLR(index, &mut elsewhere) };
            // SAFETY: plain reads of a set we own.
            if unsafe { libc::CPU_COUNT(&elsewhere) } == 0 {
                return false;
            }
            let size = size_of::<libc::cpu_set_t>();
            // SAFETY: pid 0 is the calling thread; both sets are valid and of `size` bytes.
            unsafe {
                let moved = libc::sched_setaffinity(0, size, &raw const elsewhere) == 0;
                // Restoring can only fail if the set became invalid meanwhile (CPUs taken
                // offline); the thread then keeps the narrower set, which is still allowed.
                let _ = libc::sched_setaffinity(0, size, &raw const self.allowed);
                moved
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::{Cpu, Duration, NO_CPU};

    pub(crate) fn current_cpu() -> Cpu {
        NO_CPU
    }

    pub(crate) fn thread_cpu_time() -> Option<Duration> {
        None
    }

    pub(crate) struct Affinity;

    impl Affinity {
        pub(crate) fn of_current_thread() -> Option<Self> {
            None
        }

        pub(crate) fn step_off(&self, _cpu: Cpu) -> bool {
            false
        }
    }
}

pub(crate) use imp::{Affinity, current_cpu, thread_cpu_time};

/// Whether two CPU numbers are known and equal.
pub(crate) fn same_cpu(a: Cpu, b: Cpu) -> bool {
    a != NO_CPU && a == b
}

#[cfg(all(test, not(loom), target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_current_cpu_is_known_and_thread_time_moves() {
        assert_ne!(current_cpu(), NO_CPU);
        let before = thread_cpu_time().expect("a thread clock");
        let mut x = 0_u64;
        for i in 0..1_000_000_u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        assert!(thread_cpu_time().expect("a thread clock") > before);
    }

    #[test]
    fn stepping_off_a_cpu_moves_the_thread_and_keeps_its_set() {
        let Some(affinity) = Affinity::of_current_thread() else {
            // One CPU: nothing to step onto (the policy then never spins anyway).
            return;
        };
        let here = current_cpu();
        assert!(affinity.step_off(here));
        assert_ne!(current_cpu(), here, "still on the CPU it stepped off");
        // The whole set is back.
        let again = Affinity::of_current_thread().expect("the set, restored");
        // SAFETY: reading two sets we own.
        let same = unsafe { libc::CPU_EQUAL(&again.allowed, &affinity.allowed) };
        assert!(same);
    }
}
