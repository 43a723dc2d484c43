//! Which role each thread plays in the current measurement epoch, and the last counters of
//! registered threads that exited: the registry that both the accounting
//! (`measure`) and the pinning (`pinning`) read. It sits below both, so neither has to
//! reach up into the other.
//!
//! # How it works
//!
//! 1. [`begin_epoch`] starts a measurement epoch and forgets every earlier role and exit.
//! 2. [`register`] records the calling thread's role the first time it is called in an
//!    epoch (and says so, so that the caller can pin the thread); after that it is one
//!    thread-local read and one relaxed atomic load, so it can sit on the hot path.
//! 3. A thread that ever registered (in any epoch) records its final counters and the time
//!    from a thread-local destructor as it exits, so that a window it exits inside still
//!    gets its share ([`Roster::exited_since`]).
//! 4. A thread that never registered gets its role from its name ([`Roster::role_of`]):
//!    [`Role::Other`], except runtime threads known to poll futures.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::platform::{self, ContextSwitches, Tid};

/// What a thread does for the benchmark: the protocol's vocabulary (loop, worker, other).
pub use handoff_protocol::Role;

/// One thread's counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ThreadCounters {
    /// CPU time, user + system.
    pub(crate) cpu: Duration,
    /// Context switches so far.
    pub(crate) switches: ContextSwitches,
}

impl ThreadCounters {
    /// Thread `tid`'s counters, or `None` if it is gone.
    pub(crate) fn read(tid: Tid) -> Option<Self> {
        Some(Self {
            cpu: platform::thread_cpu_time(tid)?,
            switches: platform::thread_context_switches(tid)?,
        })
    }

    /// The calling thread's counters (readable even while it is being torn down).
    fn read_current() -> Self {
        let tid = platform::current_tid();
        Self {
            cpu: platform::thread_cpu_time(tid).unwrap_or_default(),
            switches: platform::current_thread_context_switches(),
        }
    }

    /// What changed from `first` to `self` (counters only grow; a reused tid saturates).
    pub(crate) fn since(self, first: Self) -> Self {
        Self {
            cpu: self.cpu.saturating_sub(first.cpu),
            switches: ContextSwitches {
                voluntary: self
                    .switches
                    .voluntary
                    .saturating_sub(first.switches.voluntary),
                involuntary: self
                    .switches
                    .involuntary
                    .saturating_sub(first.switches.involuntary),
            },
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

/// A thread that exited inside a window: its last counters and the role it is charged to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Exited {
    /// Its kernel thread id.
    pub(crate) tid: Tid,
    /// Its counters as it exited.
    pub(crate) counters: ThreadCounters,
    /// Its role in this epoch, [`Role::Other`] if it declared none.
    pub(crate) role: Role,
}

/// The current epoch, bumped (under the registry lock) by [`begin_epoch`]; 0 means "never
/// registered" in the thread-local below.
static EPOCH: AtomicU64 = AtomicU64::new(1);
static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);

fn lock_registry() -> MutexGuard<'static, Option<Registry>> {
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

thread_local! {
    /// The epoch in which this thread last registered.
    static REGISTERED_IN: Cell<u64> = const { Cell::new(0) };
    /// The role it registered then. Plain cells with a constant initialiser and no
    /// destructor, so a signal handler may read them ([`own_role`]).
    static REGISTERED_ROLE: Cell<Role> = const { Cell::new(Role::Other) };
    /// Records this thread's final counters when it exits.
    static EXIT_HOOK: ExitHook = const { ExitHook };
}

/// Installed on every thread that ever registers, in any epoch: pool threads left over
/// from an earlier configuration may exit inside a later window, and their share of it
/// must not vanish with them.
struct ExitHook;

impl Drop for ExitHook {
    fn drop(&mut self) {
        // Under callgrind, a thread leaving inside the window dumps its own counts.
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

/// Step 1: starts a new measurement epoch; every role registered and every exit seen
/// before is forgotten.
pub fn begin_epoch() {
    let mut registry = lock_registry();
    EPOCH.fetch_add(1, Ordering::Relaxed);
    *registry = Some(Registry::default());
}

/// Step 2: declares the calling thread's role for the current epoch. The first role a
/// thread declares in an epoch sticks; that first call returns it, every later one `None`.
#[inline]
pub(crate) fn register(role: Role) -> Option<Role> {
    if REGISTERED_IN.with(Cell::get) == EPOCH.load(Ordering::Relaxed) {
        None
    } else {
        Some(register_slow(role))
    }
}

#[cold]
fn register_slow(role: Role) -> Role {
    // Touch the exit hook so its destructor runs when this thread exits.
    EXIT_HOOK.with(|_| {});
    let tid = platform::current_tid();
    let mut registry = lock_registry();
    // Read under the lock that `begin_epoch` bumps it under: the role and the thread-local
    // then always name the same epoch.
    let epoch = EPOCH.load(Ordering::Relaxed);
    let role = *registry
        .get_or_insert_with(Registry::default)
        .roles
        .entry(tid)
        .or_insert(role);
    // The role first, then the epoch: a signal arriving in between finds no registration
    // in this epoch (and falls back to the name), never an earlier epoch's role as current.
    REGISTERED_ROLE.with(|cell| cell.set(role));
    REGISTERED_IN.with(|cell| cell.set(epoch));
    role
}

/// The role the calling thread registered in the current epoch, if it did: the thread's
/// own view of what [`Roster::role_of`] reads from the registry.
pub(crate) fn own_registered_role() -> Option<Role> {
    (REGISTERED_IN.with(Cell::get) == EPOCH.load(Ordering::Relaxed))
        .then(|| REGISTERED_ROLE.with(Cell::get))
}

/// The calling live thread's role as a window attributes it ([`Roster::role_of`]): the role
/// it registered in this epoch, else the one its name implies. Async-signal-safe (two
/// thread-local cells, an atomic load, one `prctl`; no lock, no allocation), so the
/// counters' signal handler tags each thread's dump with it.
pub(crate) fn own_role() -> Role {
    own_registered_role().unwrap_or_else(|| {
        let mut name = [0; 16];
        role_by_name(platform::current_thread_name(&mut name))
    })
}

/// The registry held locked: no thread registers or exits while a reader looks at it.
#[derive(Debug)]
pub(crate) struct Roster {
    guard: MutexGuard<'static, Option<Registry>>,
}

impl Roster {
    /// Locks the registry.
    pub(crate) fn lock() -> Self {
        Self {
            guard: lock_registry(),
        }
    }

    /// Step 4: the role of live thread `tid` named `name`: the one it registered in this
    /// epoch, else the one its name implies.
    pub(crate) fn role_of(&self, tid: Tid, name: &str) -> Role {
        self.registered(tid).unwrap_or_else(|| role_by_name(name))
    }

    /// The role of thread `tid`, live or exited in this epoch: the one it registered, else the
    /// one its name implies (an exited thread that never registered is [`Role::Other`]).
    pub(crate) fn role_of_any(&self, tid: Tid) -> Role {
        self.registered(tid)
            .or_else(|| {
                self.guard
                    .as_ref()
                    .and_then(|registry| registry.exits.get(&tid))
                    .map(|exit| exit.role.unwrap_or(Role::Other))
            })
            .unwrap_or_else(|| role_by_name(&platform::thread_name(tid).unwrap_or_default()))
    }

    /// The role thread `tid` registered in this epoch, if it did.
    fn registered(&self, tid: Tid) -> Option<Role> {
        self.guard
            .as_ref()
            .and_then(|registry| registry.roles.get(&tid).copied())
    }

    /// Step 3: the threads that exited at or after `start` and are not in `alive` (a tid
    /// the kernel has already reused belongs to the live thread).
    pub(crate) fn exited_since(&self, start: Instant, alive: impl Fn(Tid) -> bool) -> Vec<Exited> {
        let Some(registry) = self.guard.as_ref() else {
            return Vec::new();
        };
        registry
            .exits
            .iter()
            .filter(|(tid, exit)| exit.at >= start && !alive(**tid))
            .map(|(tid, exit)| Exited {
                tid: *tid,
                counters: exit.counters,
                role: exit.role.unwrap_or(Role::Other),
            })
            .collect()
    }
}

/// Calls `f` with every live thread of the process and its role in the current epoch (the
/// role it registered, else the one its name implies, as a window attributes it), under
/// the registry's lock: no thread registers meanwhile. `f` must not register.
pub fn for_each_live_role(mut f: impl FnMut(Tid, Role)) {
    let roster = Roster::lock();
    for tid in platform::live_threads() {
        // The name is read only for threads that did not register: one file read fewer.
        let role = roster
            .registered(tid)
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
