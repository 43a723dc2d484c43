//! The public face: [`Builder`] spawns a worker, [`Worker`] handles send calls and close it.

use std::fmt;
use std::future::Future;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use crate::caller_spin::{AdaptiveCallerSpin, CallerSpin};
use crate::capacity::Capacity;
use crate::error::{CallError, CloseError, panic_message};
use crate::future::{CallFuture, CloseFuture, TryCallFuture};
use crate::job::{CallContext, JobRef, Packet, ReplyTo};
use crate::machine;
use crate::slot::Slot;
use crate::spawn::SpawnFuture;
use crate::stats::{Counters, Stats};
use crate::strategy::Strategy;
use crate::thread::{self, Closer, InitFailed, Msg, Parts};

/// The longest caller-side spin [`Builder::busy_poll`] accepts.
///
/// The spin occupies the thread that polls the call's future: on a current-thread executor
/// no other task runs while it lasts, and on any executor it burns that thread's CPU. A
/// budget longer than this is cut to it.
pub const MAX_BUSY_POLL: Duration = Duration::from_micros(100);

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
#[derive(Debug, Clone, Default)]
pub struct Builder {
    name: Option<String>,
    strategy: Strategy,
    capacity: Capacity,
    stack_size: Option<usize>,
    busy_poll: Option<Duration>,
}

impl Builder {
    /// Defaults: unnamed thread, [`Strategy::Adaptive`], unbounded queue, std's stack size,
    /// no busy polling.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the worker thread (shown by debuggers, `top -H`, panic messages).
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// How the worker thread waits on an empty queue.
    #[must_use]
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Makes a call's future spin for up to `budget` (at most [`MAX_BUSY_POLL`]) inside its
    /// first `poll`, checking for the reply, before it registers its waker and returns
    /// `Pending`, on every call. `Duration::ZERO` turns caller-side spinning off.
    ///
    /// Without this setting, the caller spins only with [`Strategy::Adaptive`] and only
    /// while it pays: up to 4 us, while most such spins catch the reply (short calls to an
    /// awake worker), and never with one usable CPU. A fixed budget is for
    /// latency-critical callers whose calls take longer than that.
    ///
    /// **Cost**: up to `budget` of the polling thread's CPU on every call not answered
    /// within it, and on a current-thread executor every other task waits that long. Keep
    /// it to a few microseconds more than the calls take. It changes nothing on the
    /// worker's side.
    #[must_use]
    pub fn busy_poll(mut self, budget: Duration) -> Self {
        self.busy_poll = Some(budget.min(MAX_BUSY_POLL));
        self
    }

    /// The caller side's waiting, from the settings and the CPUs the caller may use.
    fn caller_spin(&self) -> CallerSpin {
        match self.busy_poll {
            Some(budget) if budget.is_zero() => CallerSpin::Off,
            Some(budget) => CallerSpin::Fixed(budget),
            None if self.strategy == Strategy::Adaptive && machine::usable_cpus() >= 2 => {
                CallerSpin::Adaptive(AdaptiveCallerSpin::default())
            }
            None => CallerSpin::Off,
        }
    }

    /// Bounds the queue to `capacity` calls not yet taken by the worker: a call made while
    /// it is full waits (asynchronously, inside its future) for space. A capacity of zero
    /// cannot be written:
    ///
    /// ```compile_fail
    /// handoff_worker::Builder::new().bounded(0);
    /// ```
    #[cfg(feature = "bounded")]
    #[must_use]
    pub fn bounded(mut self, capacity: std::num::NonZeroUsize) -> Self {
        self.capacity = Capacity::bounded(capacity);
        self
    }

    /// The worker thread's stack size in bytes.
    #[must_use]
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Spawns the worker thread, which builds its state with `init` (so `T` need not be
    /// `Send`: it is created, used and, unless handed back by [`Worker::close`], dropped on
    /// that thread). Returns at once; a panic in `init` is reported by every call
    /// ([`CallError::InitPanicked`]) and by close. For an init that can fail, see
    /// [`Builder::try_spawn`].
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
    /// returned `Ok(state)`, else to its error ([`SpawnError::Init`](crate::SpawnError)),
    /// its panic, or the operating system's refusal to create the thread. The thread ends
    /// when init fails.
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
                Ok(Err(error)) => (
                    Err(crate::SpawnError::Init(error)),
                    Err(InitFailed::Reported),
                ),
                Err(payload) => (
                    Err(crate::SpawnError::InitPanicked(panic_message(&*payload))),
                    Err(InitFailed::Reported),
                ),
            };
            // SAFETY: this closure is the slot's single completer and runs once.
            unsafe { report.complete(Some(reply)) };
            state
        });
        match started {
            Ok(worker) => SpawnFuture::new(worker, outcome),
            Err(error) => SpawnFuture::failed(crate::SpawnError::Thread(error)),
        }
    }

    fn start<T, I>(self, init: I) -> io::Result<Worker<T>>
    where
        T: 'static,
        I: FnOnce() -> Result<T, InitFailed> + Send + 'static,
    {
        let (tx, rx) = crossbeam_channel::unbounded();
        let counters = Arc::new(Counters::default());
        let parts = Parts {
            rx,
            counters: counters.clone(),
            capacity: self.capacity.clone(),
            strategy: self.strategy,
        };
        let mut thread = std::thread::Builder::new();
        if let Some(name) = &self.name {
            thread = thread.name(name.clone());
        }
        if let Some(bytes) = self.stack_size {
            thread = thread.stack_size(bytes);
        }
        let caller_spin = Arc::new(self.caller_spin());
        // Detached: the thread's last act answers a close (see `thread`), so nobody joins.
        thread.spawn(move || thread::run(init, parts))?;
        Ok(Worker {
            shared: Arc::new(Shared {
                tx,
                closed: AtomicBool::new(false),
                capacity: self.capacity,
                counters,
                caller_spin,
                name: self.name,
            }),
        })
    }
}

/// A handle to a dedicated worker thread that owns a state `T`.
///
/// Cheap to clone (one `Arc`), `Send + Sync` whatever `T` is. Calls are queued in order and
/// run one at a time on the worker thread. The thread ends after [`Worker::close`] or
/// [`Worker::shutdown`], or when the last handle (and the last future still waiting to
/// queue its call) is dropped; in that last case it first runs every call already queued,
/// then drops the state (nothing blocks on it).
///
/// A caller-side timeout is the runtime's own, because dropping a call's future cancels
/// the call: with tokio, `tokio::time::timeout(d, worker.call(f)).await` gives up at `d`,
/// and the call is skipped if it had not started (a running call sees
/// [`CallContext::is_cancelled`]).
pub struct Worker<T> {
    pub(crate) shared: Arc<Shared<T>>,
}

pub(crate) struct Shared<T> {
    pub(crate) tx: Sender<Msg<T>>,
    closed: AtomicBool,
    pub(crate) capacity: Capacity,
    pub(crate) counters: Arc<Counters>,
    caller_spin: Arc<CallerSpin>,
    name: Option<String>,
}

impl<T> Clone for Worker<T> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T> fmt::Debug for Worker<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("name", &self.shared.name)
            .field("closed", &self.shared.closed.load(Ordering::Relaxed))
            .field("bounded", &self.shared.capacity.is_bounded())
            .field("caller_spin", &self.shared.caller_spin)
            .finish_non_exhaustive()
    }
}

impl<T: 'static> Worker<T> {
    /// Spawns a worker with the default [`Builder`] settings.
    ///
    /// # Errors
    ///
    /// If the operating system refuses to create the thread.
    pub fn spawn<I>(init: I) -> io::Result<Self>
    where
        I: FnOnce() -> T + Send + 'static,
    {
        Builder::new().spawn(init)
    }

    /// Runs `f` on the worker's state and resolves to its value.
    ///
    /// The call is queued right away, not on first poll (like a spawn); dropping the future
    /// before the worker starts the call skips it. A panic in `f` resolves to
    /// [`CallError::Panicked`] and the worker carries on.
    pub fn call<F, R>(&self, f: F) -> CallFuture<R>
    where
        F: FnOnce(&mut T) -> R + Send + 'static,
        R: Send + 'static,
    {
        self.submit(None, move |state: &mut T, _: &CallContext<'_>| f(state))
    }

    /// Like [`Worker::call`] for a call that returns a `Result`, flattened: the call's own
    /// error and the worker's ([`CallError`], through `E: From<CallError>`) come back as
    /// one `E`.
    ///
    /// ```
    /// use handoff_worker::{CallError, Worker};
    ///
    /// #[derive(Debug, PartialEq)]
    /// enum DbError { NotFound, Worker(CallError) }
    /// impl From<CallError> for DbError {
    ///     fn from(e: CallError) -> Self { DbError::Worker(e) }
    /// }
    ///
    /// # futures::executor::block_on(async {
    /// let worker = Worker::spawn(|| vec![10_u64, 20]).unwrap();
    /// let get = |i: usize| move |rows: &mut Vec<u64>| rows.get(i).copied().ok_or(DbError::NotFound);
    /// assert_eq!(worker.try_call(get(1)).await, Ok(20));
    /// assert_eq!(worker.try_call(get(5)).await, Err(DbError::NotFound));
    /// worker.shutdown().await.unwrap();
    /// assert_eq!(worker.try_call(get(0)).await, Err(DbError::Worker(CallError::Closed)));
    /// # });
    /// ```
    pub fn try_call<F, R, E>(&self, f: F) -> TryCallFuture<R, E>
    where
        F: FnOnce(&mut T) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: From<CallError> + Send + 'static,
    {
        TryCallFuture::new(self.call(f))
    }

    /// Like [`Worker::call`], and `f` also gets a [`CallContext`] to see whether its caller
    /// is gone ([`CallContext::is_cancelled`]).
    pub fn call_with<F, R>(&self, f: F) -> CallFuture<R>
    where
        F: FnOnce(&mut T, &CallContext<'_>) -> R + Send + 'static,
        R: Send + 'static,
    {
        self.submit(None, f)
    }

    /// Like [`Worker::call_with`], with a deadline the worker checks: if it has passed when
    /// the worker gets to the call, the call is skipped and resolves to
    /// [`CallError::TimedOut`]. A call that has started runs on (it can read
    /// [`CallContext::deadline`] and stop early). No timer is involved: to stop *waiting*
    /// at the deadline, wrap the future in the runtime's timeout (see [`Worker`]).
    pub fn call_with_deadline<F, R>(&self, deadline: Instant, f: F) -> CallFuture<R>
    where
        F: FnOnce(&mut T, &CallContext<'_>) -> R + Send + 'static,
        R: Send + 'static,
    {
        self.submit(Some(deadline), f)
    }

    /// [`Worker::call_with_deadline`] with the deadline `timeout` from now.
    pub fn call_with_timeout<F, R>(&self, timeout: Duration, f: F) -> CallFuture<R>
    where
        F: FnOnce(&mut T, &CallContext<'_>) -> R + Send + 'static,
        R: Send + 'static,
    {
        self.submit(Instant::now().checked_add(timeout), f)
    }

    fn submit<F, R>(&self, deadline: Option<Instant>, f: F) -> CallFuture<R>
    where
        F: FnOnce(&mut T, &CallContext<'_>) -> R + Send + 'static,
        R: Send + 'static,
    {
        if self.is_closed() {
            return CallFuture::closed();
        }
        let packet = Arc::new(Packet::new(f, deadline));
        let reply: Arc<dyn ReplyTo<R>> = packet.clone();
        let job = JobRef::new(packet);
        let waiting_for_space = if self.shared.capacity.try_take() {
            self.shared.enqueue(job);
            None
        } else {
            Some(self.shared.clone().enqueue_when_space(job))
        };
        CallFuture::new(reply, &self.shared.caller_spin, waiting_for_space)
    }

    /// Whether [`Worker::close`] or [`Worker::shutdown`] was called on any handle.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Relaxed)
    }

    /// What the worker has done so far.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// Closes the worker like [`Worker::close`] but drops the state on the worker thread
    /// instead of handing it back (for a state that is not `Send`). A panic in the state's
    /// `Drop` resolves to [`CloseError::ThreadPanicked`].
    pub fn shutdown(&self) -> CloseFuture<()> {
        self.begin_close(|slot| {
            Box::new(move |outcome: Option<Result<T, String>>| {
                let outcome = outcome.map(|r| match r {
                    Ok(state) => catch_unwind(AssertUnwindSafe(move || drop(state)))
                        .map_err(|payload| CloseError::ThreadPanicked(panic_message(&*payload))),
                    Err(init_panic) => Err(CloseError::InitPanicked(init_panic)),
                });
                // SAFETY: the `Closer` calls this at most once: the single completer.
                unsafe { slot.complete(outcome) };
            })
        })
    }

    fn begin_close<V: Send + 'static>(
        &self,
        deliver: impl FnOnce(Arc<Slot<Result<V, CloseError>>>) -> Box<thread::CloseFn<T>>,
    ) -> CloseFuture<V> {
        if self.shared.closed.swap(true, Ordering::AcqRel) {
            return CloseFuture::failed(CloseError::AlreadyClosed);
        }
        let slot = Arc::new(Slot::new());
        let closer = Closer::new(deliver(slot.clone()));
        // If the worker is gone the message comes back and is dropped, answering the slot.
        let _ = self.shared.tx.send(Msg::Close(closer));
        CloseFuture::new(slot)
    }
}

impl<T: Send + 'static> Worker<T> {
    /// Closes the worker: later calls (from any handle) resolve to [`CallError::Closed`],
    /// the calls queued before run to the end, and the state is handed back. The future
    /// resolves when the worker thread has done its last work (it then only returns); it
    /// does not join the thread, so it never blocks the executor.
    ///
    /// Only the first close or shutdown gets the state; later ones resolve to
    /// [`CloseError::AlreadyClosed`]. Dropping the future does not undo the close.
    pub fn close(&self) -> CloseFuture<T> {
        self.begin_close(|slot| {
            Box::new(move |outcome: Option<Result<T, String>>| {
                let outcome = outcome.map(|r| r.map_err(CloseError::InitPanicked));
                // SAFETY: the `Closer` calls this at most once: the single completer.
                unsafe { slot.complete(outcome) };
            })
        })
    }
}

impl<T> Shared<T> {
    /// Queues a call that holds a permit (or needs none). If the worker is gone the
    /// message comes back and is dropped, which answers the call `Closed`.
    fn enqueue(&self, job: JobRef<T>) {
        let _ = self.tx.send(Msg::Call(job));
    }
}

impl<T: 'static> Shared<T> {
    /// Waits for a permit, then queues the call; dropping the future drops (and so answers)
    /// the call, and counts it as unqueued.
    fn enqueue_when_space(
        self: Arc<Self>,
        job: JobRef<T>,
    ) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        // Built outside the async block so that it counts even if the block never starts.
        let mut unsent = Unsent {
            job: Some(job),
            shared: self,
        };
        Box::pin(async move {
            unsent_take(&unsent.shared.capacity).await;
            if let Some(job) = unsent.job.take() {
                unsent.shared.enqueue(job);
            }
        })
    }
}

/// Waits for a queue permit (only reached for a bounded queue).
#[cfg(feature = "bounded")]
async fn unsent_take(capacity: &Capacity) {
    capacity.take().await;
}

/// Unbounded queues never wait for space.
#[cfg(not(feature = "bounded"))]
async fn unsent_take(_: &Capacity) {}

/// A call waiting for queue space; counted as unqueued if dropped there.
struct Unsent<T> {
    job: Option<JobRef<T>>,
    shared: Arc<Shared<T>>,
}

impl<T> Drop for Unsent<T> {
    fn drop(&mut self) {
        if self.job.take().is_some() {
            self.shared.counters.unqueued();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn busy_poll_is_bounded_and_independent_of_the_strategy() {
        let long = Builder::new()
            .strategy(Strategy::Block)
            .busy_poll(Duration::from_secs(10));
        assert_eq!(long.strategy, Strategy::Block);
        assert!(matches!(long.caller_spin(), CallerSpin::Fixed(d) if d == MAX_BUSY_POLL));
        let off = Builder::new().busy_poll(Duration::ZERO);
        assert!(matches!(off.caller_spin(), CallerSpin::Off));
        // Unset: the adaptive caller spin goes with the adaptive worker only.
        let block = Builder::new().strategy(Strategy::Block);
        assert!(matches!(block.caller_spin(), CallerSpin::Off));
    }
}
