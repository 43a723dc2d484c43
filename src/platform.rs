//! The platform layer: every `unsafe` block and libc call of the crate lives here.
//!
//! Linux only. Per-thread CPU time is read from the kernel's per-thread CPU clock
//! (`clock_gettime` on a clock id built from a thread id, the same encoding glibc's
//! `pthread_getcpuclockid` uses), because it is exact: unlike `/proc/<tid>/schedstat` or
//! `CLOCK_PROCESS_CPUTIME_ID`, it includes the time a thread has been running *right now* on
//! another core, which can otherwise lag by one scheduler tick (4 ms at HZ=250).

use std::time::Duration;

/// A kernel thread id (what `gettid(2)` returns and `/proc/self/task/` lists).
pub type Tid = libc::pid_t;

/// The kernel thread id of the calling thread.
pub fn current_tid() -> Tid {
    // SAFETY: gettid has no preconditions and cannot fail.
    unsafe { libc::gettid() }
}

/// The kernel's per-thread clock id for `tid`: `MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)`
/// from the kernel's `posix-timers.h`, which glibc also uses for `pthread_getcpuclockid`.
fn thread_cpu_clock(tid: Tid) -> libc::clockid_t {
    const CPUCLOCK_SCHED: libc::clockid_t = 2;
    const CPUCLOCK_PERTHREAD_MASK: libc::clockid_t = 4;
    (!(tid as libc::clockid_t) << 3) | CPUCLOCK_PERTHREAD_MASK | CPUCLOCK_SCHED
}

fn read_clock(clock: libc::clockid_t) -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; an invalid clock id only makes the call
    // return -1 (EINVAL), which we report as `None`.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    (rc == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// CPU time (user + system) consumed so far by thread `tid` of this process, or `None` if
/// that thread no longer exists.
pub fn thread_cpu_time(tid: Tid) -> Option<Duration> {
    read_clock(thread_cpu_clock(tid))
}

/// CPU time (user + system) consumed so far by the whole process, including threads that
/// have exited. Can lag by up to one tick for threads running on another core.
pub fn process_cpu_time() -> Duration {
    read_clock(libc::CLOCK_PROCESS_CPUTIME_ID).unwrap_or_default()
}

/// The kernel's scheduler tick (`1/HZ`), read as the resolution of `CLOCK_MONOTONIC_COARSE`,
/// a clock that advances once a tick. It bounds how far `CLOCK_PROCESS_CPUTIME_ID` can lag:
/// a thread running on another core has its CPU time folded into the process clock at
/// least once a tick, so the process clock misses at most one tick per such thread.
/// `None` if the kernel does not answer (it always does on Linux).
pub fn scheduler_tick() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and the clock id a constant the kernel
    // knows; a failure only makes the call return -1.
    let rc = unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    let tick = Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
    (rc == 0 && !tick.is_zero()).then_some(tick)
}

/// Context switches of the calling thread so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContextSwitches {
    /// Voluntary: the thread blocked (parked, slept, waited on I/O).
    pub voluntary: u64,
    /// Involuntary: the scheduler preempted the thread.
    pub involuntary: u64,
}

/// The calling thread's own context-switch counters (`getrusage(RUSAGE_THREAD)`).
pub fn current_thread_context_switches() -> ContextSwitches {
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage; RUSAGE_THREAD is supported on Linux
    // since 2.6.26, and the call has no other preconditions.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
    if rc != 0 {
        return ContextSwitches::default();
    }
    ContextSwitches {
        voluntary: usage.ru_nvcsw as u64,
        involuntary: usage.ru_nivcsw as u64,
    }
}

/// Context switches of thread `tid` of this process, from `/proc/self/task/<tid>/status`
/// (the same counters `getrusage` reports), or `None` if the thread is gone.
pub fn thread_context_switches(tid: Tid) -> Option<ContextSwitches> {
    let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).ok()?;
    parse_context_switches(&status)
}

fn parse_context_switches(status: &str) -> Option<ContextSwitches> {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().parse::<u64>().ok())
    };
    Some(ContextSwitches {
        voluntary: field("voluntary_ctxt_switches:")?,
        involuntary: field("nonvoluntary_ctxt_switches:")?,
    })
}

/// The name of thread `tid` of this process, or `None` if it is gone.
pub fn thread_name(tid: Tid) -> Option<String> {
    let comm = std::fs::read_to_string(format!("/proc/self/task/{tid}/comm")).ok()?;
    Some(comm.trim_end().to_owned())
}

/// The calling thread's name, read into `buffer` with `prctl(PR_GET_NAME)`: no file and no
/// allocation, so the counters' signal handler may call it (`prctl` takes no lock). Empty
/// when the call fails or the name is not UTF-8.
pub fn current_thread_name(buffer: &mut [u8; 16]) -> &str {
    // SAFETY: PR_GET_NAME writes at most 16 bytes, the terminating NUL included, to the
    // address it is given; `buffer` is 16 bytes long and lives across the call.
    let rc = unsafe { libc::prctl(libc::PR_GET_NAME, buffer.as_mut_ptr()) };
    if rc != 0 {
        return "";
    }
    let len = buffer
        .iter()
        .position(|&byte| byte == 0)
        .unwrap_or(buffer.len());
    std::str::from_utf8(&buffer[..len]).unwrap_or_default()
}

/// Restricts thread `tid` of this process (0: the calling thread) to the CPUs `cpus`.
///
/// # Errors
///
/// If a CPU is out of range or none of them is allowed to this process (`EINVAL`), or the
/// thread is gone (`ESRCH`).
pub fn set_thread_cpus(tid: Tid, cpus: &[usize]) -> std::io::Result<()> {
    // SAFETY: an all-zero `cpu_set_t` is the empty set, a valid value of this plain bit array.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &cpu in cpus {
        if cpu >= libc::CPU_SETSIZE as usize {
            return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
        }
        // SAFETY: `cpu` is below CPU_SETSIZE (checked above), so CPU_SET stays inside `set`.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: `set` is a valid cpu_set_t of the size passed; the kernel only reads it.
    let rc = unsafe { libc::sched_setaffinity(tid, std::mem::size_of_val(&set), &set) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The CPUs thread `tid` of this process may run on (0: the calling thread), in order;
/// empty if the thread is gone.
pub fn thread_cpus(tid: Tid) -> Vec<usize> {
    // SAFETY: as in `set_thread_cpus`, the all-zero set is valid.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid, writable cpu_set_t of the size passed.
    let rc = unsafe { libc::sched_getaffinity(tid, std::mem::size_of_val(&set), &mut set) };
    if rc != 0 {
        return Vec::new();
    }
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below CPU_SETSIZE, so CPU_ISSET reads inside `set`.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect()
}

/// The ids of every live thread of this process.
pub fn live_threads() -> Vec<Tid> {
    let Ok(entries) = std::fs::read_dir("/proc/self/task") else {
        return vec![current_tid()];
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// Valgrind's client-request mechanism: the magic instruction sequence of `valgrind.h`
/// (`VALGRIND_DO_CLIENT_REQUEST_EXPR` for amd64), which a real CPU executes as a no-op
/// (four rotations of `rdi` by 128 bits in all, then `xchg rbx, rbx`) and valgrind's
/// translator recognises: it reads the request from the array `rax` points at and leaves
/// its answer in `rdx`, which holds `default` on a real CPU.
///
/// Written here rather than taken from a crate on purpose: crabgrind 0.1 needs valgrind's
/// headers and a C compiler at build time, and crabgrind 0.2+ and valgrind-requests need
/// libclang (bindgen) too; the benchmark must build on a machine without any of them, and
/// the sequence is one documented, stable ABI (unchanged since valgrind 3.x on amd64).
#[cfg(target_arch = "x86_64")]
pub fn valgrind_client_request(default: usize, request: usize, args: [usize; 5]) -> usize {
    let block: [usize; 6] = [request, args[0], args[1], args[2], args[3], args[4]];
    let result: usize;
    // SAFETY: the sequence only rotates `rdi` back to its own value (declared clobbered)
    // and exchanges `rbx` with itself; on a real CPU nothing else happens. Under valgrind
    // the request reads `block`, which lives until the asm returns, and the pointers inside
    // it (a C string for `DUMP_STATS_AT`) are the caller's, valid for the call.
    unsafe {
        std::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            inout("rdx") default => result,
            in("rax") block.as_ptr(),
            inout("rdi") 0usize => _,
            options(nostack),
        );
    }
    result
}

/// Other architectures: never under valgrind, as far as this crate can tell.
#[cfg(not(target_arch = "x86_64"))]
pub fn valgrind_client_request(default: usize, _request: usize, _args: [usize; 5]) -> usize {
    default
}

/// The signal [`signal_thread`] sends: a real-time signal no runtime or library of this
/// process uses (glibc keeps the first two for itself below `SIGRTMIN`).
pub fn counter_signal() -> libc::c_int {
    libc::SIGRTMIN() + 4
}

/// Installs `handler` for [`counter_signal`], with `SA_RESTART` so interrupted system calls
/// resume (those that cannot, like `epoll_wait`, return `EINTR`, which every runtime here
/// retries).
pub fn install_counter_signal_handler(handler: extern "C" fn(libc::c_int)) -> std::io::Result<()> {
    // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value; we then set the
    // handler and flags; sigaction only reads it.
    let rc = unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler as usize;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(counter_signal(), &action, std::ptr::null_mut())
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Sends [`counter_signal`] to thread `tid` of this process; `false` if it no longer
/// exists.
pub fn signal_thread(tid: Tid) -> bool {
    // SAFETY: tgkill takes plain integers; a wrong tid only makes it fail with ESRCH.
    let rc = unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, counter_signal()) };
    rc == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_counters_from_a_status_file() {
        let status = "Name:\tx\nvoluntary_ctxt_switches:\t12\nnonvoluntary_ctxt_switches:\t3\n";
        assert_eq!(
            parse_context_switches(status),
            Some(ContextSwitches {
                voluntary: 12,
                involuntary: 3
            })
        );
        assert_eq!(parse_context_switches("Name:\tx\n"), None);
    }

    #[test]
    fn own_thread_is_listed_and_readable() {
        let me = current_tid();
        assert!(live_threads().contains(&me));
        assert!(thread_cpu_time(me).is_some());
        let from_proc = thread_context_switches(me).unwrap();
        let from_rusage = current_thread_context_switches();
        // Same kernel counters, read twice; they may only have grown in between.
        assert!(from_rusage.voluntary >= from_proc.voluntary);
    }

    #[test]
    fn the_tick_is_one_of_the_kernel_s_hz_choices() {
        // Linux offers HZ = 100, 250, 300 or 1000 (kernel/Kconfig.hz).
        let tick = scheduler_tick().expect("the coarse clock has a resolution");
        let hz = (Duration::from_secs(1).as_nanos() as f64 / tick.as_nanos() as f64).round();
        assert!([100.0, 250.0, 300.0, 1000.0].contains(&hz), "tick {tick:?}");
    }

    #[test]
    fn the_own_name_from_prctl_matches_the_one_in_proc() {
        let named = std::thread::Builder::new()
            .name("a-named-thread-longer-than-15".to_owned())
            .spawn(|| {
                let mut buffer = [0; 16];
                let own = current_thread_name(&mut buffer).to_owned();
                (own, thread_name(current_tid()).unwrap())
            })
            .unwrap()
            .join()
            .unwrap();
        // The kernel keeps 15 bytes of a name.
        assert_eq!(named.0, "a-named-thread-");
        assert_eq!(named.0, named.1);
    }

    #[test]
    fn a_thread_that_does_not_exist_reads_as_none() {
        // pid_max is at most 2^22 on Linux, so this id can never be one of our threads.
        assert_eq!(thread_cpu_time(1 << 23), None);
    }
}
