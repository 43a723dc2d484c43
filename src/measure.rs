//! Per-thread CPU and context-switch accounting, attributed to thread roles.
//!
//! # How it works
//!
//! 1. [`begin_epoch`] starts a measurement epoch and forgets every earlier role.
//! 2. Code that polls the benchmark's futures calls [`register`]`(Role::Loop)`; code that runs
//!    a call on a worker thread calls [`register`]`(Role::Worker)`. After the first call per
//!    thread and epoch this is one thread-local read and one relaxed atomic load, so it can
//!    sit on the hot path. Threads nobody registers (reactor, timer and other helper
//!    threads the runtimes start) are [`Role::Other`].
//! 3. [`Snapshot::take`] reads every live thread's exact CPU clock and context switches.
//!    A registered thread that exits records its final counters from a thread-local
//!    destructor, so its share is not lost when it exits inside the timed window. A thread
//!    that nobody registered and that both starts and exits inside the window is not seen
//!    at all; the runtimes' helper threads live for the whole run, and the `cpu_process`
//!    cross-check below would show such a loss.
//! 4. [`Window::finish`] subtracts the start snapshot from the end snapshot thread by thread
//!    and sums per role. The total is the sum over threads, so the roles add up to it by
//!    construction; `cpu_process` is the kernel's own process clock over the same window, an
//!    independent cross-check (it can lag by a tick for threads running on another core).

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::platform::{self, ContextSwitches, Tid};

/// What a thread does for the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Polls futures: runtime threads; for the floors, the calling thread.
    Loop,
    /// Executes the synchronous calls: the dedicated thread or blocking-pool threads.
    Worker,
    /// Every other thread of the process.
    Other,
}

/// One thread's counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ThreadCounters {
    cpu: Duration,
    switches: ContextSwitches,
}

impl ThreadCounters {
    fn read(tid: Tid) -> Option<Self> {
        Some(Self {
            cpu: platform::thread_cpu_time(tid)?,
            switches: platform::thread_context_switches(tid)?,
        })
    }

    fn read_current() -> Self {
        let tid = platform::current_tid();
        Self {
            cpu: platform::thread_cpu_time(tid).unwrap_or_default(),
            switches: platform::current_thread_context_switches(),
        }
    }
}

#[derive(Debug)]
struct Registered {
    role: Role,
    epoch: u64,
    /// Final counters, written by the thread's exit hook.
    at_exit: Option<ThreadCounters>,
}

/// The current epoch; 0 means "never registered" in the thread-locals below.
static EPOCH: AtomicU64 = AtomicU64::new(1);
static REGISTRY: Mutex<Option<HashMap<Tid, Registered>>> = Mutex::new(None);

thread_local! {
    /// The epoch in which this thread last registered.
    static REGISTERED_IN: Cell<u64> = const { Cell::new(0) };
    /// Records this thread's final counters when it exits.
    static EXIT_HOOK: ExitHook = const { ExitHook };
}

struct ExitHook;

impl Drop for ExitHook {
    fn drop(&mut self) {
        let tid = platform::current_tid();
        let counters = ThreadCounters::read_current();
        let epoch = EPOCH.load(Ordering::Relaxed);
        let mut registry = REGISTRY
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(entry) = registry.as_mut().and_then(|map| map.get_mut(&tid))
            && entry.epoch == epoch
        {
            entry.at_exit = Some(counters);
        }
    }
}

/// Starts a new measurement epoch: every role registered before is forgotten.
pub fn begin_epoch() {
    let mut registry = REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    EPOCH.fetch_add(1, Ordering::Relaxed);
    *registry = Some(HashMap::new());
}

/// Declares the calling thread's role for the current epoch. The first role a thread
/// declares in an epoch sticks.
#[inline]
pub fn register(role: Role) {
    let epoch = EPOCH.load(Ordering::Relaxed);
    if REGISTERED_IN.with(Cell::get) != epoch {
        register_slow(role, epoch);
    }
}

#[cold]
fn register_slow(role: Role, epoch: u64) {
    REGISTERED_IN.with(|cell| cell.set(epoch));
    // Touch the exit hook so its destructor runs when this thread exits.
    EXIT_HOOK.with(|_| {});
    let tid = platform::current_tid();
    let mut registry = REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    registry
        .get_or_insert_with(HashMap::new)
        .entry(tid)
        .or_insert(Registered {
            role,
            epoch,
            at_exit: None,
        });
}

/// Counters of every live thread, and the process clocks, at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    wall: Instant,
    process_cpu: Duration,
    threads: HashMap<Tid, ThreadCounters>,
}

impl Snapshot {
    /// Reads every live thread of the process.
    pub fn take() -> Self {
        let threads = platform::live_threads()
            .into_iter()
            .filter_map(|tid| Some((tid, ThreadCounters::read(tid)?)))
            .collect();
        Self {
            wall: Instant::now(),
            process_cpu: platform::process_cpu_time(),
            threads,
        }
    }
}

/// Totals of one role over a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoleUsage {
    /// CPU time, user + system.
    pub cpu: Duration,
    /// Voluntary context switches.
    pub voluntary_switches: u64,
    /// Involuntary context switches.
    pub involuntary_switches: u64,
}

impl RoleUsage {
    fn add(&mut self, delta: &ThreadCounters) {
        self.cpu += delta.cpu;
        self.voluntary_switches += delta.switches.voluntary;
        self.involuntary_switches += delta.switches.involuntary;
    }
}

/// What a timed window cost, split by role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// Wall time of the window (monotonic clock).
    pub wall: Duration,
    /// Loop threads.
    pub loop_threads: RoleUsage,
    /// Worker threads.
    pub worker_threads: RoleUsage,
    /// Every other thread.
    pub other_threads: RoleUsage,
    /// The kernel's process CPU clock over the window (cross-check for the sum of roles).
    pub cpu_process: Duration,
    /// Threads that ran at some point of the window.
    pub threads: usize,
    /// Each of those threads' share, for diagnosis.
    pub per_thread: Vec<ThreadUsage>,
}

/// One thread's share of a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadUsage {
    /// Kernel thread id.
    pub tid: Tid,
    /// The thread's name (`/proc/self/task/<tid>/comm`), empty if it has exited.
    pub name: String,
    /// The role it was attributed to.
    pub role: Role,
    /// Its CPU time and context switches in the window.
    pub usage: RoleUsage,
}

impl Usage {
    /// CPU time of all threads: the sum of the three roles.
    pub fn cpu_total(&self) -> Duration {
        self.loop_threads.cpu + self.worker_threads.cpu + self.other_threads.cpu
    }
}

/// The role of a thread that never registered, from its name. Runtime threads that poll
/// futures without ever polling the benchmark's own task are still loop threads: async-std's
/// `spawn_blocking` runs a helper task on its executor threads (`async-std/runtime`, which
/// the kernel truncates to 15 bytes) that awaits the pool thread. Everything else is
/// [`Role::Other`].
fn role_by_name(name: &str) -> Role {
    const LOOP_THREAD_PREFIXES: [&str; 1] = ["async-std/runti"];
    if LOOP_THREAD_PREFIXES
        .iter()
        .any(|prefix| name.starts_with(prefix))
    {
        Role::Loop
    } else {
        Role::Other
    }
}

/// A timed window: a start snapshot waiting for its end.
#[derive(Debug)]
pub struct Window {
    start: Snapshot,
}

impl Window {
    /// Opens the window now.
    pub fn start() -> Self {
        Self {
            start: Snapshot::take(),
        }
    }

    /// Closes the window now and attributes what it cost.
    pub fn finish(self) -> Usage {
        let end = Snapshot::take();
        let epoch = EPOCH.load(Ordering::Relaxed);
        let registry = REGISTRY
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let registered = |tid: &Tid| {
            registry
                .as_ref()
                .and_then(|map| map.get(tid))
                .filter(|entry| entry.epoch == epoch)
        };
        let mut usage = Usage {
            wall: end.wall.duration_since(self.start.wall),
            loop_threads: RoleUsage::default(),
            worker_threads: RoleUsage::default(),
            other_threads: RoleUsage::default(),
            cpu_process: end.process_cpu.saturating_sub(self.start.process_cpu),
            threads: 0,
            per_thread: Vec::new(),
        };
        let exited = registry
            .iter()
            .flat_map(|map| map.iter())
            .filter(|(tid, entry)| entry.epoch == epoch && !end.threads.contains_key(tid))
            .filter_map(|(tid, entry)| Some((*tid, entry.at_exit?)));
        let finals: Vec<(Tid, ThreadCounters)> = end
            .threads
            .iter()
            .map(|(tid, c)| (*tid, *c))
            .chain(exited)
            .collect();
        for (tid, last) in finals {
            let first = self.start.threads.get(&tid).copied().unwrap_or_default();
            let delta = ThreadCounters {
                cpu: last.cpu.saturating_sub(first.cpu),
                switches: ContextSwitches {
                    voluntary: last
                        .switches
                        .voluntary
                        .saturating_sub(first.switches.voluntary),
                    involuntary: last
                        .switches
                        .involuntary
                        .saturating_sub(first.switches.involuntary),
                },
            };
            if delta == ThreadCounters::default() {
                continue;
            }
            usage.threads += 1;
            let name = platform::thread_name(tid).unwrap_or_default();
            let role = registered(&tid).map_or_else(|| role_by_name(&name), |entry| entry.role);
            match role {
                Role::Loop => usage.loop_threads.add(&delta),
                Role::Worker => usage.worker_threads.add(&delta),
                Role::Other => usage.other_threads.add(&delta),
            }
            let mut share = RoleUsage::default();
            share.add(&delta);
            usage.per_thread.push(ThreadUsage {
                tid,
                name,
                role,
                usage: share,
            });
        }
        usage
    }
}
