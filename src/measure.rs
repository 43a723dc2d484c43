//! Per-thread CPU and context-switch accounting over a timed window, attributed to thread
//! roles.
//!
//! # How it works
//!
//! 1. [`begin_epoch`] starts a measurement epoch and forgets every earlier role.
//! 2. Code that polls the benchmark's futures calls [`register`]`(Role::Loop)`; code that runs
//!    a call on a worker thread calls [`register`]`(Role::Worker)`. After the first call per
//!    thread and epoch this is one thread-local read and one relaxed atomic load, so it can
//!    sit on the hot path. Threads nobody registers (reactor, timer and other helper
//!    threads the runtimes start) are [`Role::Other`]. The registry itself, and the exit
//!    hook that keeps the share of a registered thread that exits inside a window, live in
//!    `roles`, below this module and `pinning`.
//! 3. A snapshot reads every live thread's exact CPU clock and context switches. A thread
//!    that never registered and exits inside the window loses its share of it: the runtimes'
//!    helper threads (reactor, timer) live for the whole process, and the `cpu_process`
//!    cross-check below (checked in the tests) would show such a loss.
//! 4. [`Window::finish`] subtracts the start snapshot from the end snapshot thread by thread
//!    and sums per role. The total is the sum over threads, so the roles add up to it by
//!    construction; `cpu_process` is the kernel's own process clock over the same window, an
//!    independent cross-check (it can lag by a tick for threads running on another core).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::counters::Dump;
use crate::pinning;
use crate::platform::{self, Tid};
use crate::roles::{self, Roster, ThreadCounters};
pub use crate::roles::{Role, begin_epoch};

/// Declares the calling thread's role for the current epoch. The first role a thread
/// declares in an epoch sticks; while `--pin` is in force the thread also pins itself to
/// that role's CPU ([`pinning`]).
#[inline]
pub fn register(role: Role) {
    if let Some(role) = roles::register(role) {
        pinning::on_register(role);
    }
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
    pub instructions: Option<RoleInstructions>,
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
        let roster = Roster::lock();
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
            let role = roster.role_of(*tid, &name);
            Share {
                tid: *tid,
                last: *last,
                role,
                name,
            }
        });
        let exited = roster
            .exited_since(self.start.wall, |tid| end.threads.contains_key(&tid))
            .into_iter()
            .map(|exit| Share {
                tid: exit.tid,
                last: exit.counters,
                role: exit.role,
                name: String::new(),
            });
        for share in alive.chain(exited) {
            let first = self
                .start
                .threads
                .get(&share.tid)
                .copied()
                .unwrap_or_default();
            let delta = share.last.since(first);
            if delta == ThreadCounters::default() {
                continue;
            }
            let mut thread_usage = RoleUsage::default();
            thread_usage.add(&delta);
            match share.role {
                Role::Loop => usage.loop_threads.add(&delta),
                Role::Worker => usage.worker_threads.add(&delta),
                Role::Other => usage.other_threads.add(&delta),
            }
            usage.per_thread.push(ThreadUsage {
                tid: share.tid,
                cpus: if share.name.is_empty() {
                    Vec::new()
                } else {
                    platform::thread_cpus(share.tid)
                },
                name: share.name,
                role: share.role,
                usage: thread_usage,
            });
        }
        usage.threads = usage.per_thread.len();
        usage.instructions = instructions
            .map(|dumps| RoleInstructions::attribute(&dumps, |tid| roster.role_of_any(tid)));
        usage
    }
}

/// Instructions executed inside the window per role, waiting excluded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoleInstructions {
    /// Loop threads.
    pub loop_threads: u64,
    /// Worker threads.
    pub worker_threads: u64,
    /// Every other thread.
    pub other_threads: u64,
}

impl RoleInstructions {
    /// Sums each dump's count into the role its tag names: the role the thread had as it
    /// dumped, which whoever reads the dump files later sees too. A dump without one (an
    /// older binary's tag) takes the role `role_of` gives its thread.
    pub fn attribute(dumps: &[Dump], mut role_of: impl FnMut(Tid) -> Role) -> Self {
        let mut per_role = Self::default();
        for dump in dumps {
            match dump.role.unwrap_or_else(|| role_of(dump.tid)) {
                Role::Loop => per_role.loop_threads += dump.instructions,
                Role::Worker => per_role.worker_threads += dump.instructions,
                Role::Other => per_role.other_threads += dump.instructions,
            }
        }
        per_role
    }

    /// All roles.
    pub fn total(&self) -> u64 {
        self.loop_threads + self.worker_threads + self.other_threads
    }
}

/// One thread's last reading in a window, and whom it is charged to.
#[derive(Debug)]
struct Share {
    tid: Tid,
    last: ThreadCounters,
    role: Role,
    /// Empty for a thread that has exited.
    name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(tid: Tid, role: Option<Role>, instructions: u64) -> Dump {
        Dump {
            window: 1,
            tid,
            role,
            instructions,
        }
    }

    #[test]
    fn dumps_are_summed_by_the_role_they_are_given() {
        // Threads 1, 2 and 4 tagged their dumps; 3 and 5 dumped as an older binary does,
        // and the registry knows 5 as a worker.
        let dumps = [
            dump(1, Some(Role::Loop), 100),
            dump(2, Some(Role::Worker), 20),
            dump(3, None, 3),
            dump(4, Some(Role::Worker), 4000),
            dump(5, None, 50_000),
        ];
        let registry = HashMap::from([(1, Role::Other), (5, Role::Worker)]);
        let per_role = RoleInstructions::attribute(&dumps, |tid| {
            registry.get(&tid).copied().unwrap_or(Role::Other)
        });
        assert_eq!(
            per_role,
            RoleInstructions {
                loop_threads: 100,
                worker_threads: 54_020,
                other_threads: 3
            },
            "a tag's role wins over the registry's"
        );
        assert_eq!(per_role.total(), 54_123);
    }
}
