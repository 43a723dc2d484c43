//! [`Builder`]: a worker's settings, and the spawns that start its thread.

use std::io;
use std::num::NonZeroUsize;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use crate::adaptive::Priority;
use crate::caller_spin::{AdaptiveCallerSpin, CallerSpin, MAX_LATENCY_SPIN};
use crate::costs::Costs;
use crate::error::{SpawnError, panic_message};
use crate::gate::Gate;
use crate::handle::{Queue, Shared, Spins, Worker};
use crate::held_wakes::HeldWakes;
use crate::queue;
use crate::slot::Slot;
use crate::spawn::SpawnFuture;
use crate::stats::Counters;
use crate::strategy::{Policy, Strategy};
use crate::thread::{self, InitFailed, Parts};

/// Configures and spawns a [`Worker`].
///
/// ```
/// use handoff_worker::{Builder, Strategy};
/// let worker = Builder::new()
///     .name("sqlite")
///     .strategy(Strategy::Block)
///     .spawn(|| Vec::<u64>::new())
///     .expect("spawn the worker thread");
/// let len = futures::executor::block_on(worker.call(|v| { v.push(1); v.len() }));
/// assert_eq!(len, Ok(1));
/// ```
///
/// A builder holds settings only: every worker spawned from it (or from its clones) gets a
/// thread, a queue and, if [bounded](Builder::bounded), a capacity of its own.
#[derive(Debug, Clone, Default)]
pub struct Builder {
    name: Option<String>,
    strategy: Strategy,
    capacity: Option<NonZeroUsize>,
    stack_size: Option<usize>,
    busy_poll: Option<Duration>,
    batch_wakes: Option<NonZeroUsize>,
}

impl Builder {
    /// Defaults: unnamed thread, [`Strategy::Adaptive`], unbounded queue, std's stack size,
    /// no fixed caller-side spin.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the worker thread (shown by debuggers, `top -H`, panic messages).
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// How the worker thread waits on an empty queue (and, with the adaptive strategies,
    /// how its callers wait for their replies).
    #[must_use]
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Makes a call's future spin for up to `budget` (at most 100 us) inside its first
    /// `poll`, checking for the reply, before it registers its waker and returns `Pending`,
    /// on every call. `Duration::ZERO` turns caller-side spinning off.
    ///
    /// Without this setting, callers spin only with the adaptive strategies, and only as
    /// long as catching the reply costs less CPU than sleeping for it ([`Strategy`]). A
    /// fixed budget is for latency-critical callers that know their calls' length.
    ///
    /// **Cost**: up to `budget` of the polling thread's CPU on every call not answered
    /// within it, and on a current-thread executor every other task waits that long. Keep
    /// it to a few microseconds more than the calls take. Callers that poll this way do not
    /// tell the worker their CPU or time its wake-ups, so an adaptive worker prices a park
    /// at its own CPU only and does not step off a CPU it shares with them.
    #[must_use]
    pub fn busy_poll(mut self, budget: Duration) -> Self {
        self.busy_poll = Some(budget.min(MAX_LATENCY_SPIN));
        self
    }

    /// Bounds the queue to `capacity` calls not yet taken by the worker. A call made while
    /// it is full waits, in the order calls were made, behind the queue: its future resolves
    /// when it has run, as always, and dropping the future while it waits removes the call
    /// (counted in [`Stats::unqueued`](crate::Stats::unqueued)). Nothing blocks. A capacity
    /// of zero cannot be written:
    ///
    /// ```compile_fail
    /// handoff_worker::Builder::new().bounded(0);
    /// ```
    #[must_use]
    pub fn bounded(mut self, capacity: NonZeroUsize) -> Self {
        self.capacity = Some(capacity);
        self
    }

    /// While more calls are queued, wakes the callers of up to `calls` answered calls
    /// together instead of each as it is answered. An answer is still published at once (a
    /// caller that polls takes it); only the wake-up of a caller that stopped polling waits,
    /// until `calls` calls have run since the oldest one held, or the queue runs empty.
    /// `1`, the default, wakes every caller at once.
    ///
    /// With many calls in flight from one executor thread, that thread then wakes once for
    /// several answers instead of once per answer, which saves a system call on the worker
    /// and a wake-up of the executor each time (the guide's "Waiting strategies" page has
    /// measurements).
    ///
    /// **Cost**: an answer may wait for up to `calls - 1` calls queued behind it, however
    /// long they take. With one call at a time nothing is ever held.
    #[must_use]
    pub fn batch_wakes(mut self, calls: NonZeroUsize) -> Self {
        self.batch_wakes = Some(calls);
        self
    }

    /// The worker thread's stack size in bytes.
    #[must_use]
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// The caller side's waiting, from the settings and the CPUs the caller may use.
    pub(crate) fn caller_spin(&self, costs: &Arc<Costs>) -> CallerSpin {
        let priority = match self.strategy {
            Strategy::Adaptive => Priority::Cpu,
            Strategy::LowLatency => Priority::Latency,
            _ => return self.fixed_spin(),
        };
        match self.busy_poll {
            None if usable_cpus() >= 2 => {
                CallerSpin::Adaptive(AdaptiveCallerSpin::new(priority, costs.clone()))
            }
            _ => self.fixed_spin(),
        }
    }

    fn fixed_spin(&self) -> CallerSpin {
        match self.busy_poll {
            Some(budget) if !budget.is_zero() => CallerSpin::Fixed(budget),
            _ => CallerSpin::Off,
        }
    }

    /// Spawns the worker thread, which builds its state with `init` (so `T` need not be
    /// `Send`: it is created, used and, unless handed back by [`Worker::close`], dropped on
    /// that thread). Returns at once; a panic in `init` is reported by every call
    /// ([`CallError::InitPanicked`](crate::CallError::InitPanicked)) and by close. For an
    /// init that can fail, see [`Builder::try_spawn`].
    ///
    /// # Errors
    ///
    /// If the operating system refuses to create the thread.
    pub fn spawn<T, I>(self, init: I) -> io::Result<Worker<T>>
    where
        T: 'static,
        I: FnOnce() -> T + Send + 'static,
    {
        self.start(move || Ok(init()))
    }

    /// Spawns the worker thread and resolves once `init` has run there: to the worker if it
    /// returned `Ok(state)`, else to its error ([`SpawnError::Init`]), its panic, or the
    /// operating system's refusal to create the thread. The thread ends when init fails.
    ///
    /// ```
    /// use handoff_worker::{Builder, SpawnError};
    /// # futures::executor::block_on(async {
    /// let opened = Builder::new()
    ///     .try_spawn(|| std::fs::read_to_string("/no/such/config").map(|text| text.len()))
    ///     .await;
    /// let Err(SpawnError::Init(error)) = opened else { panic!("{opened:?}") };
    /// assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    /// # });
    /// ```
    pub fn try_spawn<T, E, I>(self, init: I) -> SpawnFuture<T, E>
    where
        T: 'static,
        E: Send + 'static,
        I: FnOnce() -> Result<T, E> + Send + 'static,
    {
        let outcome = Arc::new(Slot::new());
        let report = outcome.clone();
        let started = self.start(move || {
            let result = catch_unwind(AssertUnwindSafe(init));
            let (reply, state) = match result {
                Ok(Ok(state)) => (Ok(()), Ok(state)),
                Ok(Err(error)) => (Err(SpawnError::Init(error)), Err(InitFailed::Reported)),
                Err(payload) => (
                    Err(SpawnError::InitPanicked(panic_message(&*payload))),
                    Err(InitFailed::Reported),
                ),
            };
            // SAFETY: this closure is the slot's single completer and runs once.
            unsafe { report.complete(Some(reply)) };
            state
        });
        match started {
            Ok(worker) => SpawnFuture::new(worker, outcome),
            Err(error) => SpawnFuture::failed(SpawnError::Thread(error)),
        }
    }

    fn start<T, I>(self, init: I) -> io::Result<Worker<T>>
    where
        T: 'static,
        I: FnOnce() -> Result<T, InitFailed> + Send + 'static,
    {
        let (tx, rx) = queue::unbounded();
        let counters = Arc::new(Counters::default());
        let costs = Arc::new(Costs::default());
        // One gate per spawned worker: clones of a bounded builder share nothing.
        let (queue, gate) = match self.capacity {
            Some(capacity) => {
                let gate = Arc::new(Gate::new(tx, capacity));
                (Queue::Bounded(gate.clone()), Some(gate))
            }
            None => (Queue::Unbounded(tx), None),
        };
        let caller_spin = Arc::new(self.caller_spin(&costs));
        // Decided here, on the spawning thread: the worker inherits its CPU set.
        let policy = Policy::new(self.strategy, usable_cpus());
        let spins = Spins {
            worker: policy.spins(),
            callers_learn: matches!(*caller_spin, CallerSpin::Adaptive(_)),
        };
        let parts = Parts {
            rx,
            counters: counters.clone(),
            costs: costs.clone(),
            gate,
            policy,
            held_wakes: self.batch_wakes.and_then(HeldWakes::new),
        };
        thread::start(self.name.as_deref(), self.stack_size, move || {
            thread::run(init, parts);
        })?;
        Ok(Worker::new(Shared::new(
            queue,
            counters,
            costs,
            caller_spin,
            spins,
            self.name,
        )))
    }
}

/// The CPUs the calling thread may use (`available_parallelism`: its affinity mask and
/// cgroup quota), 1 if unknown. A thread inherits its parent's, so the spawning thread's
/// answer is the worker's.
pub(crate) fn usable_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn busy_poll_is_bounded_and_independent_of_the_strategy() {
        let costs = Arc::new(Costs::default());
        let long = Builder::new()
            .strategy(Strategy::Block)
            .busy_poll(Duration::from_secs(10));
        assert_eq!(long.strategy, Strategy::Block);
        assert!(matches!(long.caller_spin(&costs), CallerSpin::Fixed(d) if d == MAX_LATENCY_SPIN));
        let off = Builder::new().busy_poll(Duration::ZERO);
        assert!(matches!(off.caller_spin(&costs), CallerSpin::Off));
        // Unset: the adaptive caller spin goes with the adaptive strategies only.
        let block = Builder::new().strategy(Strategy::Block);
        assert!(matches!(block.caller_spin(&costs), CallerSpin::Off));
        if usable_cpus() >= 2 {
            let latency = Builder::new().strategy(Strategy::LowLatency);
            assert!(matches!(
                latency.caller_spin(&costs),
                CallerSpin::Adaptive(_)
            ));
        }
    }
}
