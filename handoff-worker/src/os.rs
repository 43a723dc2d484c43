//! What the waiting policy asks the operating system: the CPU a thread runs on, the CPU time
//! the calling thread has used, how long it has waited for a CPU, and a way for the worker
//! thread to step off a CPU it shares with its caller. Linux only; elsewhere every answer is
//! "unknown" and nothing moves.
//!
//! Hand-written over `libc` and `std` rather than a crate: three calls (`sched_getcpu`,
//! `clock_gettime(CLOCK_THREAD_CPUTIME_ID)`, `sched_{get,set}affinity`) and one number of a
//! `/proc` file, and the crates that wrap them (core_affinity, thread-priority, procfs)
//! cover some of these each, procfs with a whole parser for one number.

use std::time::Duration;

/// A CPU number, or [`NO_CPU`] when it is not known.
pub(crate) type Cpu = u32;

/// "Not known".
pub(crate) const NO_CPU: Cpu = u32::MAX;

#[cfg(target_os = "linux")]
mod imp {
    use super::{Cpu, Duration, NO_CPU};
    use std::fs::File;
    use std::os::unix::fs::FileExt;

    /// The calling thread's scheduler statistics, kept open: how long it has waited on a run
    /// queue, runnable but not running (the second of the three numbers of
    /// `/proc/thread-self/schedstat`, in nanoseconds). One `pread` per reading.
    #[derive(Debug)]
    pub(crate) struct RunDelay(File);

    impl RunDelay {
        /// For the calling thread; `None` where the kernel keeps no scheduler statistics.
        pub(crate) fn open() -> Option<Self> {
            let file = File::open("/proc/thread-self/schedstat").ok()?;
            let run_delay = Self(file);
            run_delay.read().map(|_| run_delay)
        }

        /// The thread's total wait so far.
        pub(crate) fn read(&self) -> Option<Duration> {
            let mut text = [0_u8; 96];
            let len = self.0.read_at(&mut text, 0).ok()?;
            let text = std::str::from_utf8(text.get(..len)?).ok()?;
            let waited = text.split_ascii_whitespace().nth(1)?.parse().ok()?;
            Some(Duration::from_nanos(waited))
        }
    }

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

    /// Whether the calling thread may run on more than one CPU (`false` if its set cannot
    /// be read).
    pub(crate) fn may_move() -> bool {
        // SAFETY: a plain read of a set we own.
        allowed_cpus().is_some_and(|allowed| unsafe { libc::CPU_COUNT(&allowed) } > 1)
    }

    /// The calling thread's CPU set, if it can be read.
    fn allowed_cpus() -> Option<libc::cpu_set_t> {
        // SAFETY: `cpu_set_t` is plain data; all-zero is the empty set.
        let mut allowed: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        let size = size_of::<libc::cpu_set_t>();
        // SAFETY: pid 0 is the calling thread; `allowed` is a writable set of `size` bytes.
        let read = unsafe { libc::sched_getaffinity(0, size, &raw mut allowed) } == 0;
        read.then_some(allowed)
    }

    /// Moves the calling thread off `cpu`, onto the other CPUs of its current set, and gives
    /// it back that whole set: the kernel migrates a thread whose new set excludes the CPU it
    /// runs on at once, and widening the set again does not move it back. Returns whether it
    /// moved (not if its set holds no other CPU, or cannot be read).
    pub(crate) fn step_off(cpu: Cpu) -> bool {
        let size = size_of::<libc::cpu_set_t>();
        let Ok(index) = usize::try_from(cpu) else {
            return false;
        };
        if index >= 8 * size {
            return false;
        }
        let Some(allowed) = allowed_cpus() else {
            return false;
        };
        let mut elsewhere = allowed;
        // SAFETY: `index` is within the set's bit range (checked above).
        unsafe { libc::CPU_CLR(index, &mut elsewhere) };
        // SAFETY: plain reads of a set we own.
        if unsafe { libc::CPU_COUNT(&elsewhere) } == 0 {
            return false;
        }
        // SAFETY: pid 0 is the calling thread; both sets are valid and of `size` bytes.
        unsafe {
            let moved = libc::sched_setaffinity(0, size, &raw const elsewhere) == 0;
            // Restoring can only fail if the set became invalid meanwhile (CPUs taken
            // offline); the thread then keeps the narrower set, which is still allowed.
            let _ = libc::sched_setaffinity(0, size, &raw const allowed);
            moved
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::{Cpu, Duration, NO_CPU};

    /// Not known here.
    #[derive(Debug)]
    pub(crate) struct RunDelay;

    impl RunDelay {
        pub(crate) fn open() -> Option<Self> {
            None
        }

        pub(crate) fn read(&self) -> Option<Duration> {
            None
        }
    }

    pub(crate) fn current_cpu() -> Cpu {
        NO_CPU
    }

    pub(crate) fn thread_cpu_time() -> Option<Duration> {
        None
    }

    pub(crate) fn step_off(_cpu: Cpu) -> bool {
        false
    }

    pub(crate) fn may_move() -> bool {
        false
    }
}

pub(crate) use imp::{RunDelay, current_cpu, may_move, step_off, thread_cpu_time};

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
    fn the_run_delay_counts_waiting_for_a_cpu_and_not_sleeping() {
        let Some(run_delay) = RunDelay::open() else {
            return; // A kernel without scheduler statistics.
        };
        let read = || run_delay.read().expect("a run delay");
        let before = read();
        std::thread::sleep(Duration::from_millis(50));
        let slept = read().saturating_sub(before);
        assert!(slept < Duration::from_millis(10), "{slept:?} while asleep");
        // Seven busy threads per CPU beside this one: it waits most of the time.
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let busy = Duration::from_millis(100);
        let until = std::time::Instant::now() + busy;
        let spin = move || {
            while std::time::Instant::now() < until {
                std::hint::spin_loop();
            }
        };
        let before = read();
        let hogs: Vec<_> = (0..7 * cpus).map(|_| std::thread::spawn(spin)).collect();
        spin();
        let waited = read().saturating_sub(before);
        for hog in hogs {
            hog.join().expect("a hog");
        }
        assert!(
            waited >= busy / 4,
            "{waited:?} of {busy:?} among {} threads",
            7 * cpus + 1
        );
    }

    /// The calling thread's CPU set.
    fn allowed() -> libc::cpu_set_t {
        // SAFETY: plain data, filled in by the kernel for the calling thread.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            assert_eq!(
                libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &raw mut set),
                0
            );
            set
        }
    }

    #[test]
    fn stepping_off_a_cpu_moves_the_thread_and_keeps_its_set() {
        let before = allowed();
        // SAFETY: reading a set we own.
        if unsafe { libc::CPU_COUNT(&before) } < 2 {
            // One CPU: nothing to step onto, and nothing moves.
            assert!(!step_off(current_cpu()));
            return;
        }
        let here = current_cpu();
        assert!(step_off(here));
        assert_ne!(current_cpu(), here, "still on the CPU it stepped off");
        let after = allowed();
        // SAFETY: reading two sets we own.
        let same = unsafe { libc::CPU_EQUAL(&before, &after) };
        assert!(same, "the set changed");
    }
}
