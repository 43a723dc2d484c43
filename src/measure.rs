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
//! 3. A snapshot reads every live thread's exact CPU clock and context switches. A thread
//!    that ever registered (in any epoch) records its final counters and the time from a
//!    thread-local destructor as it exits, so its share is not lost when it exits inside
//!    the timed window, and an exit before the window is not charged to it. A thread that
//!    never registered and exits inside the window loses its share of it: the runtimes'
//!    helper threads (reactor, timer) live for the whole process, and the `cpu_process`
//!    cross-check below (checked in the tests) would show such a loss.
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

/// Roles of the current epoch and the exits seen since it began.
#[derive(Debug, Default)]
struct Registry {
    /// The role each live thread declared in this epoch.
    roles: HashMap<Tid, Role>,
    /// Final counters of threads that exited since the epoch began, by their exit hook.
    exits: HashMap<Tid, Exit>,
}

/// A thread's last reading, taken by itself on its way out.
#[derive(Debug, Clone, Copy)]
struct Exit {
    at: Instant,
    counters: ThreadCounters,
    /// Its role in this epoch, if it declared one.
    role: Option<Role>,
}

/// The current epoch, bumped (under the registry lock) by [`begin_epoch`]; 0 means "never
/// registered" in the thread-local below.
static EPOCH: AtomicU64 = AtomicU64::new(1);
static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);

fn lock_registry() -> std::sync::MutexGuard<'static, Option<Registry>> {
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

thread_local! {
    /// The epoch in which this thread last registered.
    static REGISTERED_IN: Cell<u64> = const { Cell::new(0) };
    /// Records this thread's final counters when it exits.
    static EXIT_HOOK: ExitHook = const { ExitHook };
}

/// Installed on every thread that ever registers, in any epoch: pool threads left over
/// from an earlier configuration may exit inside a later window, and their share of it
/// must not vanish with them.
struct ExitHook;

impl Drop for ExitHook {
    fn drop(&mut self) {
        crate::counters::on_thread_exit();
        let tid = platform::current_tid();
        let counters = ThreadCounters::read_current();
        let at = Instant::now();
        let mut registry = lock_registry();
        let registry = registry.get_or_insert_with(Registry::default);
        // The role leaves with the thread, so a later thread reusing the tid starts afresh.
        let role = registry.roles.remove(&tid);
        registry.exits.insert(tid, Exit { at, counters, role });
    }
}

/// Starts a new measurement epoch: every role registered and every exit seen before is
/// forgotten.
pub fn begin_epoch() {
    let mut registry = lock_registry();
    EPOCH.fetch_add(1, Ordering::Relaxed);
    *registry = Some(Registry::default());
}

/// Declares the calling thread's role for the current epoch. The first role a thread
/// declares in an epoch sticks; while `--pin` is in force the thread also pins itself to
/// that role's CPU ([`crate::pinning`]).
#[inline]
pub fn register(role: Role) {
    if REGISTERED_IN.with(Cell::get) != EPOCH.load(Ordering::Relaxed) {
        register_slow(role);
    }
}

#[cold]
fn register_slow(role: Role) {
    // Touch the exit hook so its destructor runs when this thread exits.
    EXIT_HOOK.with(|_| {});
    let tid = platform::current_tid();
    let mut registry = lock_registry();
    // Read under the lock that `begin_epoch` bumps it under: the role and the thread-local
    // then always name the same epoch.
    let epoch = EPOCH.load(Ordering::Relaxed);
    REGISTERED_IN.with(|cell| cell.set(epoch));
    let role = *registry
        .get_or_insert_with(Registry::default)
        .roles
        .entry(tid)
        .or_insert(role);
    drop(registry);
    crate::pinning::on_register(role);
}

/// Counters of every live thread, and the process clocks, at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The callgrind window this snapshot opened or closed ([`crate::counters`]), if counting.
    counting: Option<u64>,
    wall: Instant,
    process_cpu: Duration,
    threads: HashMap<Tid, ThreadCounters>,
}

impl Snapshot {
    /// Reads every live thread of the process, then the wall clock: what reading costs
    /// happens before the window it opens.
    fn take_start() -> Self {
        let process_cpu = platform::process_cpu_time();
        let threads = Self::read_threads();
        let counting = crate::counters::open();
        Self {
            counting,
            wall: Instant::now(),
            process_cpu,
            threads,
        }
    }

    /// Reads the wall clock, then every live thread: what reading costs happens after the
    /// window it closes.
    fn take_end(counting: Option<u64>) -> Self {
        let wall = Instant::now();
        if let Some(window) = counting {
            crate::counters::close_caller(window);
        }
        let threads = Self::read_threads();
        Self {
            counting,
            wall,
            process_cpu: platform::process_cpu_time(),
            threads,
        }
    }

    fn read_threads() -> HashMap<Tid, ThreadCounters> {
        platform::live_threads()
            .into_iter()
            .filter_map(|tid| Some((tid, ThreadCounters::read(tid)?)))
            .collect()
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
    /// Instructions per role, when running under callgrind ([`crate::counters`]).
    pub instructions: Option<crate::counters::RoleInstructions>,
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
    /// The CPUs it was allowed to run on when the window closed (empty if it has exited).
    pub cpus: Vec<usize>,
}

impl Usage {
    /// CPU time of all threads: the sum of the three roles.
    pub fn cpu_total(&self) -> Duration {
        self.loop_threads.cpu + self.worker_threads.cpu + self.other_threads.cpu
    }
}

/// Calls `f` with every live thread of the process and its role in the current epoch (the
/// role it registered, else the one its name implies, as the window attributes it), under
/// the registry's lock: no thread registers meanwhile. `f` must not register.
pub fn for_each_live_role(mut f: impl FnMut(Tid, Role)) {
    let registry = lock_registry();
    for tid in platform::live_threads() {
        let registered = registry.as_ref().and_then(|r| r.roles.get(&tid).copied());
        let role = registered
            .unwrap_or_else(|| role_by_name(&platform::thread_name(tid).unwrap_or_default()));
        f(tid, role);
    }
}

/// The role of a thread that never registered, from its name. Runtime threads that poll
/// futures without ever polling the benchmark's own task are still loop threads: async-std's
/// `spawn_blocking` runs a helper task on its executor threads (`async-std/runtime`, which
/// the kernel truncates to 15 bytes) that awaits the pool thread. The rule applies in every
/// configuration's window; once started (by an async-std configuration), those threads
/// stay idle in the others. Everything else is [`Role::Other`].
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
            start: Snapshot::take_start(),
        }
    }

    /// Closes the window now and attributes what it cost.
    pub fn finish(self) -> Usage {
        let end = Snapshot::take_end(self.start.counting);
        let instructions = self
            .start
            .counting
            .and_then(crate::counters::close_and_read);
        let registry = lock_registry();
        let empty = Registry::default();
        let registry = registry.as_ref().unwrap_or(&empty);
        let mut usage = Usage {
            wall: end.wall.duration_since(self.start.wall),
            loop_threads: RoleUsage::default(),
            worker_threads: RoleUsage::default(),
            other_threads: RoleUsage::default(),
            cpu_process: end.process_cpu.saturating_sub(self.start.process_cpu),
            threads: 0,
            per_thread: Vec::new(),
            instructions: None,
        };
        // Threads alive at the end, then threads that exited inside the window (an exit
        // before the window opened is none of its business).
        let alive = end.threads.iter().map(|(tid, last)| {
            let name = platform::thread_name(*tid).unwrap_or_default();
            let role = registry
                .roles
                .get(tid)
                .copied()
                .unwrap_or_else(|| role_by_name(&name));
            (*tid, *last, role, name)
        });
        let exited = registry
            .exits
            .iter()
            .filter(|(tid, exit)| exit.at >= self.start.wall && !end.threads.contains_key(tid))
            .map(|(tid, exit)| {
                (
                    *tid,
                    exit.counters,
                    exit.role.unwrap_or(Role::Other),
                    String::new(),
                )
            });
        for (tid, last, role, name) in alive.chain(exited) {
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
            let mut share = RoleUsage::default();
            share.add(&delta);
            match role {
                Role::Loop => usage.loop_threads.add(&delta),
                Role::Worker => usage.worker_threads.add(&delta),
                Role::Other => usage.other_threads.add(&delta),
            }
            usage.per_thread.push(ThreadUsage {
                tid,
                cpus: if name.is_empty() {
                    Vec::new()
                } else {
                    platform::thread_cpus(tid)
                },
                name,
                role,
                usage: share,
            });
        }
        usage.threads = usage.per_thread.len();
        usage.instructions = instructions.map(|counts| {
            crate::counters::RoleInstructions::attribute(counts, |tid| {
                registry
                    .roles
                    .get(&tid)
                    .copied()
                    .or_else(|| registry.exits.get(&tid).and_then(|exit| exit.role))
                    .unwrap_or_else(|| {
                        role_by_name(&platform::thread_name(tid).unwrap_or_default())
                    })
            })
        });
        usage
    }
}
