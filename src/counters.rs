//! Instruction counts per thread inside the timed window, when the binary runs under
//! valgrind's callgrind: the timing-free counterpart of the CPU clocks in [`crate::measure`].
//!
//! # How it works
//!
//! Callgrind keeps one set of counters per thread (`--separate-threads=yes`), and its client
//! requests act on the *calling* thread only: `ZERO_STATS` zeroes its counters,
//! `DUMP_STATS_AT` writes them to a file of their own (tagged with a text of ours) and
//! zeroes them, `TOGGLE_COLLECT` switches its collection off or on. So every thread has to
//! act for itself, and at the moments the window opens and closes it is usually asleep.
//! Hence:
//!
//! 1. [`init`] asks valgrind whether it is there (`RUNNING_ON_VALGRIND`); if so it installs a
//!    handler for a real-time signal ([`platform::counter_signal`]) and switches counting on.
//!    Off valgrind every function here is one relaxed load and returns.
//! 2. When the window opens ([`open`]), every other live thread of the process is sent the
//!    signal; its handler zeroes that thread's counters and acknowledges; the opener waits
//!    for every acknowledgement, then zeroes its own counters.
//! 3. Code that *waits* runs inside a [`waiting`] guard, which switches the calling thread's
//!    collection off and back on: the floors' spin and park loops, and (through the worker
//!    crate's `WaitHooks`, installed by [`init`]) the worker's spin and park on an empty
//!    queue and the busy-poll spin of the awaiting side. How long a wait lasts depends
//!    on scheduling, not on the code under test; without the guards counts vary by percent.
//! 4. When the window closes, the closer dumps its own counters first ([`close_caller`],
//!    before it reads any clock), then every other live thread is signalled and dumps its own
//!    ([`close_others`]); a thread that exits inside the window dumps on its way out
//!    ([`on_thread_exit`], from the exit hook of [`crate::measure`]). Every dump is tagged
//!    `handoff-bench window=W tid=T role=R` with the window's number, the kernel thread id
//!    and the thread's role as the window attributes it (`dumps` has the format).
//! 5. [`read`] finds the window's dumps among callgrind's output files
//!    (`callgrind.out.<pid>.<part>-<thread>`, in `$HANDOFF_BENCH_CALLGRIND_DIR` or the working
//!    directory, where `--callgrind-out-file=DIR/callgrind.out.%p` or callgrind's default puts
//!    them) and returns each dump's instructions; [`crate::measure`] sums them by the role in
//!    their tags, so the counts per role and the per-function profiles the xtask reads from
//!    the same files agree by construction.
//!
//! Required valgrind flags: `--tool=callgrind --separate-threads=yes` (without it a dump holds
//! every thread's counts) and, for counts that reproduce, `--fair-sched=yes`. Collection must
//! be on at start (callgrind's default), so threads that nobody registered (runtime helpers)
//! are counted too and land in the role `other`.

mod dumps;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use self::dumps::Tag;
pub use self::dumps::{Dump, parse_dump, read_dumps, read_window};
use crate::platform::{self, Tid};
use crate::roles::{self, Role};

/// `VG_USERREQ__RUNNING_ON_VALGRIND` from `valgrind.h`.
const RUNNING_ON_VALGRIND: usize = 0x1001;
/// `VG_USERREQ_TOOL_BASE('C', 'T')`: callgrind's requests from `callgrind.h`.
const CALLGRIND_BASE: usize = ((b'C' as usize) << 24) | ((b'T' as usize) << 16);
const ZERO_STATS: usize = CALLGRIND_BASE + 1;
const TOGGLE_COLLECT: usize = CALLGRIND_BASE + 2;
const DUMP_STATS_AT: usize = CALLGRIND_BASE + 3;

/// The environment variable naming the folder of callgrind's output files.
pub const DIR_VARIABLE: &str = "HANDOFF_BENCH_CALLGRIND_DIR";

/// Whether counting is on: set once by [`init`], read on hot paths.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// The current window's number; odd while a window is open.
static WINDOW: AtomicU64 = AtomicU64::new(0);
/// What the signal handler does: [`ZERO`] or [`DUMP`].
static ACTION: AtomicU8 = AtomicU8::new(ZERO);
const ZERO: u8 = 0;
const DUMP: u8 = 1;
/// Signal handlers that have done their action since the last signal round.
static ACKNOWLEDGED: AtomicUsize = AtomicUsize::new(0);

/// How long [`open`] and [`close_others`] wait for every signalled thread: generous,
/// because valgrind runs one thread at a time, tens of times slower than the CPU.
const ACKNOWLEDGE_WITHIN: Duration = Duration::from_secs(20);

/// Whether this process runs under valgrind (any tool).
pub fn running_on_valgrind() -> bool {
    platform::valgrind_client_request(0, RUNNING_ON_VALGRIND, [0; 5]) > 0
}

/// Step 1: switches counting on when running under valgrind. Call once, before any window.
pub fn init() -> std::io::Result<bool> {
    if !running_on_valgrind() {
        return Ok(false);
    }
    platform::install_counter_signal_handler(on_signal)?;
    ACTIVE.store(true, Ordering::Release);
    // The worker crate's waits get the same treatment as ours: not counted, and yielding.
    handoff_worker::WaitHooks::install(handoff_worker::WaitHooks {
        enter: enter_wait,
        leave: leave_wait,
        spin: spin_hint,
    });
    Ok(true)
}

/// Whether instructions are being counted (running under valgrind, after [`init`]).
#[inline]
pub fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

thread_local! {
    /// Nesting depth of [`waiting`] guards on this thread.
    static WAITING_DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Step 3: collection of the calling thread is off while the guard lives.
#[must_use = "collection resumes when the guard is dropped"]
#[derive(Debug)]
pub struct Waiting {
    armed: bool,
}

/// Step 3: switches the calling thread's collection off until the guard is dropped (nested
/// guards switch it once).
#[inline]
pub fn waiting() -> Waiting {
    if !active() {
        return Waiting { armed: false };
    }
    enter_wait();
    Waiting { armed: true }
}

impl Drop for Waiting {
    #[inline]
    fn drop(&mut self) {
        if self.armed {
            leave_wait();
        }
    }
}

/// A wait begins on this thread (the worker crate's `WaitHooks::enter`, installed while
/// counting).
fn enter_wait() {
    WAITING_DEPTH.with(|depth| {
        if depth.get() == 0 {
            toggle_collect();
        }
        depth.set(depth.get() + 1);
    });
}

/// That wait ends.
fn leave_wait() {
    WAITING_DEPTH.with(|depth| {
        depth.set(depth.get() - 1);
        if depth.get() == 0 {
            toggle_collect();
        }
    });
}

/// One turn of a spin-wait: the CPU's spin hint, or, while counting, a `sched_yield`.
/// Valgrind runs one thread at a time, so a thread spinning for another's store only burns
/// its whole time slice (a spinning row then took minutes); yielding hands the lock of
/// valgrind's scheduler to the thread it waits for. Only ever inside a [`waiting`] guard,
/// so it changes the time a wait takes, never what is counted.
#[inline]
pub fn spin_hint() {
    if active() {
        std::thread::yield_now();
    } else {
        std::hint::spin_loop();
    }
}

fn toggle_collect() {
    platform::valgrind_client_request(0, TOGGLE_COLLECT, [0; 5]);
}

fn zero_stats() {
    platform::valgrind_client_request(0, ZERO_STATS, [0; 5]);
}

/// Dumps the calling thread's counters tagged with `window`, its tid and `role`.
/// Allocation-free: it runs inside a signal handler.
fn dump(window: u64, tid: Tid, role: Role) {
    let tag = Tag::new(window, tid, role);
    platform::valgrind_client_request(0, DUMP_STATS_AT, [tag.as_c_ptr(), 0, 0, 0, 0]);
}

/// The signal handler of steps 2 and 4: async-signal-safe (atomics, a syscall, a client
/// request, a stack buffer).
extern "C" fn on_signal(_signal: libc::c_int) {
    match ACTION.load(Ordering::Acquire) {
        DUMP => dump(
            WINDOW.load(Ordering::Acquire),
            platform::current_tid(),
            roles::own_role(),
        ),
        _ => zero_stats(),
    }
    ACKNOWLEDGED.fetch_add(1, Ordering::AcqRel);
}

/// Sends every other live thread the signal for `action` and waits until each has
/// acknowledged; returns whether all did in time.
fn signal_others(action: u8) -> bool {
    ACTION.store(action, Ordering::Release);
    ACKNOWLEDGED.store(0, Ordering::Release);
    let me = platform::current_tid();
    let sent = platform::live_threads()
        .into_iter()
        .filter(|&tid| tid != me)
        .filter(|&tid| platform::signal_thread(tid))
        .count();
    let deadline = Instant::now() + ACKNOWLEDGE_WITHIN;
    while ACKNOWLEDGED.load(Ordering::Acquire) < sent {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    true
}

/// Step 2: the window opens; every thread's counters start from zero. Returns the window's
/// number, or `None` when not counting (or a thread did not answer in time).
pub fn open() -> Option<u64> {
    if !active() {
        return None;
    }
    let window = WINDOW.fetch_add(1, Ordering::AcqRel) + 1;
    let all_answered = signal_others(ZERO);
    zero_stats();
    all_answered.then_some(window)
}

/// Step 4, first half: the closing thread dumps its own counters, before it reads clocks.
pub fn close_caller(window: u64) {
    dump(window, platform::current_tid(), roles::own_role());
}

/// Step 4, second half: every other live thread dumps its counters; the window is closed
/// afterwards. Returns whether every thread answered in time.
pub fn close_others(window: u64) -> bool {
    let all_answered = signal_others(DUMP);
    // Even: closed. Exits from now on are after the window.
    WINDOW.fetch_add(1, Ordering::AcqRel);
    all_answered && WINDOW.load(Ordering::Acquire) == window + 1
}

/// Step 4's second half and step 5: every other thread dumps, then the window's dumps are
/// read. `None` (with the reason on stderr) when a thread did not answer or nothing was
/// dumped: then the JSON line carries no instruction counts rather than wrong ones.
pub fn close_and_read(window: u64) -> Option<Vec<Dump>> {
    let all_answered = close_others(window);
    match read(window) {
        Ok(dumps) if all_answered && !dumps.is_empty() => Some(dumps),
        Ok(_) => {
            eprintln!(
                "handoff-bench: under valgrind, but window {window} has no complete set of callgrind dumps \
                 (run it with --tool=callgrind --separate-threads=yes; dumps are read from ${DIR_VARIABLE} \
                 or the working directory)"
            );
            None
        }
        Err(error) => {
            eprintln!("handoff-bench: reading callgrind's dumps for window {window}: {error}");
            None
        }
    }
}

/// Step 4 for a thread that exits while a window is open.
pub fn on_thread_exit() {
    if !active() {
        return;
    }
    let window = WINDOW.load(Ordering::Acquire);
    if window % 2 == 1 {
        // An exited thread that did not register in this epoch is `other` to the window
        // (`Roster::role_of_any`), whatever its name.
        let role = roles::own_registered_role().unwrap_or(Role::Other);
        dump(window, platform::current_tid(), role);
    }
}

/// Step 5: the dumps of `window`, from callgrind's output files.
pub fn read(window: u64) -> std::io::Result<Vec<Dump>> {
    let dir = std::env::var_os(DIR_VARIABLE)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    read_window(&dir, std::process::id(), window)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_valgrind_nothing_is_counted() {
        assert!(!running_on_valgrind());
        assert!(!active());
        assert_eq!(open(), None);
        let _guard = waiting();
    }
}
