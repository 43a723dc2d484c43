//! The public face: [`Builder`] spawns a worker, [`Worker`] handles send calls and close it.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use async_lock::Semaphore;
use crossbeam_channel::Sender;

use super::error::CloseError;
use super::future::{CallFuture, CloseFuture};
use super::job::{CallContext, JobRef, Packet, ReplyTo};
use super::slot::Slot;
use super::stats::{Counters, Stats};
use super::strategy::Strategy;
use super::thread::{self, Closer, Msg, Parts};

/// Configures and spawns a [`Worker`].
///
/// ```
/// use handoff_bench::worker::{Builder, Strategy};
/// let worker = Builder::new()
///     .name("sqlite")
///     .strategy(Strategy::Block)
///     .bounded(128)
///     .spawn(|| Vec::<u64>::new())
///     .expect("spawn the worker thread");
/// let len = futures::executor::block_on(worker.call(|v| { v.push(1); v.len() }));
/// assert_eq!(len, Ok(1));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    name: Option<String>,
    strategy: Strategy,
    capacity: Option<usize>,
    stack_size: Option<usize>,
}

impl Builder {
    /// Defaults: unnamed thread, [`Strategy::Adaptive`], unbounded queue, std's stack size.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the worker thread (shown by debuggers, `top -H`, panic messages).
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// How the worker (and, for [`Strategy::BusyPoll`], the caller) waits.
    #[must_use]
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Bounds the queue to `capacity` calls not yet taken by the worker: a call made while
    /// it is full waits (asynchronously, inside its future) for space.
    ///
    /// # Panics
    ///
    /// If `capacity` is zero (a queue that can never hold a call).
    #[must_use]
    pub fn bounded(mut self, capacity: usize) -> Self {
        assert!(
            capacity > 0,
            "a worker queue needs a capacity of at least 1"
        );
        self.capacity = Some(capacity);
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
    /// ([`CallError::InitPanicked`](super::CallError::InitPanicked)) and by close.
    ///
    /// # Errors
    ///
    /// If the operating system refuses to create the thread.
    pub fn spawn<T, I>(self, init: I) -> io::Result<Worker<T>>
    where
        T: 'static,
        I: FnOnce() -> T + Send + 'static,
    {
        let (tx, rx) = crossbeam_channel::unbounded();
        let counters = Arc::new(Counters::default());
        let permits = self.capacity.map(|c| Arc::new(Semaphore::new(c)));
        let parts = Parts {
            rx,
            counters: counters.clone(),
            permits: permits.clone(),
            policy: self.strategy.policy(),
        };
        let mut thread = std::thread::Builder::new();
        if let Some(name) = &self.name {
            thread = thread.name(name.clone());
        }
        if let Some(bytes) = self.stack_size {
            thread = thread.stack_size(bytes);
        }
        let join = thread.spawn(move || thread::run(init, parts))?;
        Ok(Worker {
            shared: Arc::new(Shared {
                tx,
                closed: AtomicBool::new(false),
                permits,
                counters,
                busy_poll: self.strategy.busy_poll(),
                join: Mutex::new(Some(join)),
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
/// then drops the state, detached (nothing blocks on it).
pub struct Worker<T> {
    pub(crate) shared: Arc<Shared<T>>,
}

pub(crate) struct Shared<T> {
    pub(crate) tx: Sender<Msg<T>>,
    closed: AtomicBool,
    pub(crate) permits: Option<Arc<Semaphore>>,
    counters: Arc<Counters>,
    busy_poll: Option<Duration>,
    join: Mutex<Option<JoinHandle<()>>>,
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
            .field("bounded", &self.shared.permits.is_some())
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
    /// [`CallError::Panicked`](super::CallError::Panicked) and the worker carries on.
    pub fn call<F, R>(&self, f: F) -> CallFuture<R>
    where
        F: FnOnce(&mut T) -> R + Send + 'static,
        R: Send + 'static,
    {
        self.submit(None, move |state: &mut T, _: &CallContext<'_>| f(state))
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

    /// Like [`Worker::call_with`], with a deadline: if it has passed when the worker gets to
    /// the call, the call is skipped; if it passes while the caller waits, the future
    /// resolves to [`CallError::TimedOut`](super::CallError::TimedOut) at once, and the
    /// still-running call sees [`CallContext::is_cancelled`].
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
        let waiting_for_space = match &self.shared.permits {
            Some(permits) => match permits.try_acquire() {
                Some(permit) => {
                    permit.forget();
                    self.shared.enqueue(job);
                    None
                }
                None => Some(self.shared.clone().enqueue_when_space(job)),
            },
            None => {
                self.shared.enqueue(job);
                None
            }
        };
        CallFuture::new(reply, deadline, self.shared.busy_poll, waiting_for_space)
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
    /// instead of handing it back (for a state that is not `Send`).
    pub fn shutdown(&self) -> CloseFuture<()> {
        self.begin_close(|slot| {
            Box::new(move |outcome: Option<Result<T, String>>| {
                let outcome = outcome.map(|r| r.map(drop).map_err(CloseError::InitPanicked));
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
        let join = self
            .shared
            .join
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // If the worker is gone the message comes back and is dropped, answering the slot.
        let _ = self.shared.tx.send(Msg::Close(closer));
        CloseFuture::new(slot, join)
    }
}

impl<T: Send + 'static> Worker<T> {
    /// Closes the worker: later calls (from any handle) resolve to
    /// [`CallError::Closed`](super::CallError::Closed), the calls queued before run to the
    /// end, the thread is joined, and the state is handed back.
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
    ) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
        // Built outside the async block so that it counts even if the block never starts.
        let mut unsent = Unsent {
            job: Some(job),
            shared: self,
        };
        Box::pin(async move {
            if let Some(permits) = &unsent.shared.permits {
                permits.acquire().await.forget();
            }
            if let Some(job) = unsent.job.take() {
                unsent.shared.enqueue(job);
            }
        })
    }
}

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
