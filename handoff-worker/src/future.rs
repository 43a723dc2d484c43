//! The futures a caller awaits: [`CallFuture`] for a call's reply, [`CloseFuture`] for close.
//!
//! Both are concrete, `Unpin` types that use nothing of any runtime but the `Waker` they are
//! polled with (and `async-io`'s runtime-agnostic timer for deadlines), so they work on
//! tokio, async-std, smol and `futures::executor` alike.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use async_io::Timer;

use super::error::{CallError, CloseError, panic_message};
use super::job::ReplyTo;
use super::slot::Slot;

/// How many empty checks between two clock reads while busy polling.
const CHECKS_PER_CLOCK_READ: u32 = 32;

/// The reply of one call: resolves to the call's value or a [`CallError`].
///
/// Dropping it before the reply cancels the call: skipped if the worker has not started it,
/// otherwise the running call sees [`CallContext::is_cancelled`](super::CallContext::is_cancelled)
/// and its value is discarded.
#[must_use = "the call is cancelled when its future is dropped"]
pub struct CallFuture<R> {
    /// `None` once resolved (or if resolved at creation).
    reply: Option<Arc<dyn ReplyTo<R>>>,
    /// Resolved at creation (the worker was closed).
    early: Option<CallError>,
    /// Fires at the call's deadline.
    timer: Option<Timer>,
    /// Busy-poll budget, spent by the first poll.
    busy_poll: Option<Duration>,
    /// A bounded queue was full: waits for space, then queues the call.
    waiting_for_space: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl<R> CallFuture<R> {
    pub(crate) fn new(
        reply: Arc<dyn ReplyTo<R>>,
        deadline: Option<Instant>,
        busy_poll: Option<Duration>,
        waiting_for_space: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    ) -> Self {
        Self {
            reply: Some(reply),
            early: None,
            timer: deadline.map(Timer::at),
            busy_poll,
            waiting_for_space,
        }
    }

    pub(crate) fn closed() -> Self {
        Self {
            reply: None,
            early: Some(CallError::Closed),
            timer: None,
            busy_poll: None,
            waiting_for_space: None,
        }
    }

    /// Resolves with what the slot held (`None`: the call was dropped unrun, so `Closed`).
    fn resolve(&mut self, reply: Option<Result<R, CallError>>) -> Poll<Result<R, CallError>> {
        self.reply = None;
        self.timer = None;
        Poll::Ready(reply.unwrap_or(Err(CallError::Closed)))
    }

    /// Spins for up to `budget` waiting for the reply, without registering a waker.
    fn busy_poll(reply: &dyn ReplyTo<R>, budget: Duration) -> Option<Option<Result<R, CallError>>> {
        // Not counted under valgrind: how long it spins depends on scheduling.
        let _waiting = crate::counters::waiting();
        let start = Instant::now();
        loop {
            for _ in 0..CHECKS_PER_CLOCK_READ {
                // SAFETY: this future is the slot's single receiver, and it drops the slot
                // as soon as this returns `Some`.
                if let Some(value) = unsafe { reply.slot().try_take() } {
                    return Some(value);
                }
                crate::counters::spin_hint();
            }
            if start.elapsed() >= budget {
                return None;
            }
        }
    }
}

impl<R> Future for CallFuture<R> {
    type Output = Result<R, CallError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some(error) = this.early.take() {
            return Poll::Ready(Err(error));
        }
        let Some(reply) = this.reply.as_deref() else {
            panic!("CallFuture polled after it resolved");
        };
        if let Some(waiting) = &mut this.waiting_for_space
            && waiting.as_mut().poll(cx).is_ready()
        {
            this.waiting_for_space = None;
        }
        if this.waiting_for_space.is_none()
            && let Some(budget) = this.busy_poll.take()
            && let Some(value) = Self::busy_poll(reply, budget)
        {
            return this.resolve(value);
        }
        if let Some(timer) = &mut this.timer {
            // A reply that is already there wins over a deadline that has also passed.
            // SAFETY: single receiver; the slot is dropped when this returns `Some`.
            if let Some(value) = unsafe { reply.slot().try_take() } {
                return this.resolve(value);
            }
            if Pin::new(timer).poll(cx).is_ready() {
                reply.slot().cancel();
                this.reply = None;
                this.timer = None;
                this.waiting_for_space = None;
                return Poll::Ready(Err(CallError::TimedOut));
            }
        }
        // SAFETY: single receiver; the slot is dropped when this returns `Ready`.
        match unsafe { reply.slot().poll_take(cx) } {
            Poll::Ready(value) => this.resolve(value),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<R> Drop for CallFuture<R> {
    fn drop(&mut self) {
        if let Some(reply) = self.reply.take() {
            reply.slot().cancel();
        }
    }
}

impl<R> fmt::Debug for CallFuture<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallFuture")
            .field("resolved", &(self.reply.is_none() && self.early.is_none()))
            .field("has_deadline", &self.timer.is_some())
            .field("waiting_for_space", &self.waiting_for_space.is_some())
            .finish_non_exhaustive()
    }
}

/// The outcome of [`Worker::close`](super::Worker::close) (the state) or
/// [`Worker::shutdown`](super::Worker::shutdown) (`()`).
///
/// Resolves once every call queued before the close has run and the worker thread has
/// finished; it then joins the thread, which by then has nothing left to do but return.
#[must_use = "a close does its work anyway; await it to get the state back and join the thread"]
pub struct CloseFuture<V> {
    slot: Option<Arc<Slot<Result<V, CloseError>>>>,
    join: Option<JoinHandle<()>>,
    early: Option<CloseError>,
}

impl<V> CloseFuture<V> {
    pub(crate) fn new(
        slot: Arc<Slot<Result<V, CloseError>>>,
        join: Option<JoinHandle<()>>,
    ) -> Self {
        Self {
            slot: Some(slot),
            join,
            early: None,
        }
    }

    pub(crate) fn failed(error: CloseError) -> Self {
        Self {
            slot: None,
            join: None,
            early: Some(error),
        }
    }
}

impl<V> Future for CloseFuture<V> {
    type Output = Result<V, CloseError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some(error) = this.early.take() {
            return Poll::Ready(Err(error));
        }
        let Some(slot) = &this.slot else {
            panic!("CloseFuture polled after it resolved");
        };
        // SAFETY: this future is the slot's single receiver; it drops the slot on `Ready`.
        let Poll::Ready(outcome) = (unsafe { slot.poll_take(cx) }) else {
            return Poll::Pending;
        };
        this.slot = None;
        let joined = this.join.take().and_then(join_unless_current);
        Poll::Ready(match (outcome, joined) {
            (Some(outcome), _) => outcome,
            (None, Some(message)) => Err(CloseError::ThreadPanicked(message)),
            (None, None) => Err(CloseError::AlreadyClosed),
        })
    }
}

/// Joins the worker thread (unless this is it); the panic message if it panicked.
fn join_unless_current(join: JoinHandle<()>) -> Option<String> {
    if join.thread().id() == std::thread::current().id() {
        return None;
    }
    join.join().err().map(|payload| panic_message(&*payload))
}

impl<V> fmt::Debug for CloseFuture<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloseFuture")
            .field("resolved", &(self.slot.is_none() && self.early.is_none()))
            .finish_non_exhaustive()
    }
}
