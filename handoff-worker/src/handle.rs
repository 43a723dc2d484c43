//! [`Worker`]: the handle that makes calls and closes the worker.

use std::fmt;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::builder::Builder;
use crate::caller_spin::CallerSpin;
use crate::costs::{Costs, Place};
use crate::error::{CallError, CloseError, panic_message};
use crate::future::{CallFuture, CloseFuture, TryCallFuture, call_id};
use crate::gate::Gate;
use crate::job::{CallContext, JobRef, Packet, ReplyTo};
use crate::os::{self, NO_CPU};
use crate::queue::Sender;
use crate::slot::Slot;
use crate::stats::{Counters, Stats};
use crate::sync::{AtomicBool, Ordering};
use crate::thread::{self, Closer, Msg};

/// A handle to a dedicated worker thread that owns a state `T`.
///
/// Cheap to clone (one `Arc`), `Send + Sync` whatever `T` is. Calls are queued in the order
/// they are made and run one at a time on the worker thread. The thread ends after
/// [`Worker::close`] or [`Worker::shutdown`], or when the last handle is dropped; in that
/// last case it first runs every call already made, then drops the state (nothing blocks
/// on it).
///
/// A caller-side timeout is the runtime's own, because dropping a call's future cancels
/// the call: with tokio, `tokio::time::timeout(d, worker.call(f)).await` gives up at `d`,
/// and the call is skipped if it had not started (a running call sees
/// [`CallContext::is_cancelled`]).
pub struct Worker<T> {
    shared: Arc<Shared<T>>,
}

/// Where calls go: the worker's channel, or the bounded queue's gate in front of it.
pub(crate) enum Queue<T> {
    Unbounded(Sender<Msg<T>>),
    Bounded(Arc<Gate<T>>),
}

/// How a message fared at the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    /// In the worker's queue.
    Queued,
    /// Waiting for a place in a full bounded queue.
    Waiting,
    /// The worker is gone; the message was dropped (which answers it).
    Refused,
}

/// Who spins: the worker, and whether its callers learn how long to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spins {
    pub(crate) worker: bool,
    pub(crate) callers_learn: bool,
}

/// What every handle of one worker shares.
pub(crate) struct Shared<T> {
    queue: Queue<T>,
    closed: AtomicBool,
    counters: Arc<Counters>,
    costs: Arc<Costs>,
    caller_spin: Arc<CallerSpin>,
    /// The adaptive policy learns: callers read the worker's place and time their wakes.
    learns: bool,
    /// The worker's policy spins at all.
    #[cfg_attr(not(feature = "bench-hooks"), allow(dead_code))]
    may_spin: bool,
    name: Option<String>,
}

impl<T> Shared<T> {
    pub(crate) fn new(
        queue: Queue<T>,
        counters: Arc<Counters>,
        costs: Arc<Costs>,
        caller_spin: Arc<CallerSpin>,
        spins: Spins,
        name: Option<String>,
    ) -> Self {
        Self {
            queue,
            closed: AtomicBool::new(false),
            counters,
            costs,
            caller_spin,
            learns: spins.callers_learn,
            may_spin: spins.worker,
            name,
        }
    }

    fn send(&self, msg: Msg<T>) -> Sent {
        let sent = match &self.queue {
            Queue::Unbounded(tx) => tx.send(msg).map(|()| Sent::Queued).map_err(|e| e.0),
            Queue::Bounded(gate) => gate
                .admit(msg)
                .map(|now| if now { Sent::Queued } else { Sent::Waiting }),
        };
        // A message that comes back is dropped here, which answers it `Closed`.
        sent.unwrap_or(Sent::Refused)
    }
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        if let Queue::Bounded(gate) = &self.queue {
            gate.handles_gone();
        }
    }
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
            .field("bounded", &matches!(self.shared.queue, Queue::Bounded(_)))
            .field("caller_spin", &self.shared.caller_spin)
            .finish_non_exhaustive()
    }
}

impl<T> Worker<T> {
    pub(crate) fn new(shared: Shared<T>) -> Self {
        Self {
            shared: Arc::new(shared),
        }
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
    /// The call is queued right away, not on first poll (like a spawn), behind every call
    /// made before it; dropping the future before the worker starts the call skips it. A
    /// panic in `f` resolves to [`CallError::Panicked`] and the worker carries on.
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
        let shared = &*self.shared;
        if self.is_closed() {
            return CallFuture::closed();
        }
        let caller_cpu = if shared.learns {
            os::current_cpu()
        } else {
            NO_CPU
        };
        let packet = Arc::new(Packet::new(f, deadline, caller_cpu));
        let reply: Arc<dyn ReplyTo<R>> = packet.clone();
        let id = call_id(&reply);
        // Where the worker is before the send: a sleeping one is woken by it, and the
        // send's cost and the wake-up's latency are what the adaptive policy prices.
        let place = shared.learns.then(|| shared.costs.place());
        let waking = place
            .filter(|place| place.sleeping)
            .map(|_| shared.costs.stamp_wake());
        let outstanding = shared.caller_spin.begin(id);
        let sent = shared.send(Msg::Call(JobRef::new(packet)));
        if let Some(stamp) = waking {
            shared.costs.woke(stamp);
        }
        let place = place.unwrap_or(Place::AWAKE);
        let spin = match sent {
            Sent::Queued => shared.caller_spin.plan(place, outstanding.alone),
            Sent::Waiting | Sent::Refused => None,
        };
        CallFuture::new(reply, spin, &shared.caller_spin, outstanding.counted)
    }

    /// Whether [`Worker::close`] or [`Worker::shutdown`] was called on any handle.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Relaxed)
    }

    /// What the worker has done so far.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// What the adaptive policy has learned waiting costs here, for benchmarks and logs.
    /// Feature `bench-hooks` (unstable).
    #[cfg(feature = "bench-hooks")]
    pub fn wait_costs(&self) -> crate::WaitCosts {
        let [park_cpu, wake_send, wake_latency] = self.shared.costs.estimates();
        crate::WaitCosts {
            park_cpu,
            wake_send,
            wake_latency,
            may_spin: self.shared.may_spin,
        }
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
        // Behind every call made before it (waiting ones too). If the worker is gone the
        // message comes back and is dropped, answering the slot.
        self.shared.send(Msg::Close(closer));
        CloseFuture::new(slot)
    }
}

impl<T: Send + 'static> Worker<T> {
    /// Closes the worker: later calls (from any handle) resolve to [`CallError::Closed`],
    /// the calls made before run to the end, and the state is handed back. The future
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
