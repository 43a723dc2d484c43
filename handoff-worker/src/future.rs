//! The futures a caller awaits: [`CallFuture`] for a call's reply, [`CloseFuture`] for close.
//!
//! [`TryCallFuture`] flattens a call's `Result` into it. All are concrete, `Unpin` types that
//! use nothing of any runtime but the `Waker` they are polled with, so they work on tokio,
//! async-std, smol and `futures::executor` alike, and start no thread of their own.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::caller_spin::{CallerSpin, Plan};
use crate::error::{CallError, CloseError};
use crate::hooks;
use crate::job::ReplyTo;
use crate::rounds::Rounds;
use crate::slot::Slot;

/// How many empty checks between two clock reads while spinning for a reply.
const CHECKS_PER_CLOCK_READ: u32 = 32;

/// The reply of one call: resolves to the call's value or a [`CallError`].
///
/// Dropping it before the reply cancels the call: skipped if the worker has not started it,
/// otherwise the running call sees [`CallContext::is_cancelled`](crate::CallContext::is_cancelled)
/// and its value is discarded.
#[must_use = "the call is cancelled when its future is dropped"]
pub struct CallFuture<R> {
    /// `None` once resolved, and for a call refused when it was made.
    reply: Option<Arc<dyn ReplyTo<R>>>,
    /// Where the wait for the reply stands.
    wait: Wait,
    /// The adaptive caller spin, which notes this call as outstanding until it is answered
    /// or given up, and learns from what its spin found.
    policy: Option<Arc<CallerSpin>>,
}

/// A call's id while it is outstanding, for the caller spin ([`CallerSpin::begin`]): the
/// address of its packet, which the future holds anyway.
pub(crate) fn call_id<R>(reply: &Arc<dyn ReplyTo<R>>) -> usize {
    Arc::as_ptr(reply).cast::<()>().addr()
}

/// Where a caller's wait for its reply stands. One field for four states that exclude each
/// other keeps the future small: it is moved at least once into a runtime's task (and into
/// every future that awaits it), and a larger one costs more to move.
#[derive(Debug, Clone, Copy)]
enum Wait {
    /// Refused when it was made (the worker was closed): the first poll answers `Closed`.
    Refused,
    /// The first poll spins per this plan before it registers the waker
    /// ([`crate::caller_spin`]).
    Spin(Plan),
    /// A spin per this plan, begun then, missed: recorded when the reply comes.
    Missed(Plan, Instant),
    /// Waiting for the waker, with nothing to record.
    Waker,
}

impl<R> CallFuture<R> {
    /// A future for the call answered through `reply`; `counted` if `policy` noted it as
    /// outstanding ([`CallerSpin::begin`], under [`call_id`]).
    pub(crate) fn new(
        reply: Arc<dyn ReplyTo<R>>,
        spin: Option<Plan>,
        policy: &Arc<CallerSpin>,
        counted: bool,
    ) -> Self {
        Self {
            reply: Some(reply),
            wait: spin.map_or(Wait::Waker, Wait::Spin),
            policy: counted.then(|| policy.clone()),
        }
    }

    pub(crate) fn closed() -> Self {
        Self {
            reply: None,
            wait: Wait::Refused,
            policy: None,
        }
    }

    /// Resolves with what the slot held (`None`: the call was dropped unrun, so `Closed`).
    fn resolve(&mut self, reply: Option<Result<R, CallError>>) -> Poll<Result<R, CallError>> {
        if let (Some(policy), Some(slot)) = (self.policy.take(), &self.reply) {
            policy.end(call_id(slot));
        }
        self.reply = None;
        Poll::Ready(reply.unwrap_or(Err(CallError::Closed)))
    }

    /// Spins for up to `budget` waiting for the reply, without registering a waker. The
    /// clock is read only between rounds of checks, never after the reply came (a read costs
    /// tens of nanoseconds on a VM, and the call's answer would wait for it): a reply caught
    /// in the first two rounds is taken to have come at once (within a microsecond or so),
    /// a later one in the middle of its round ([`Rounds`]), which is all the policy needs to
    /// know of it.
    fn spin_for(reply: &dyn ReplyTo<R>, budget: Duration) -> Spun<R> {
        // A wait, for tools that leave waits out ([`hooks`]).
        let waiting = hooks::waiting();
        let mut rounds = Rounds::default();
        loop {
            for _ in 0..CHECKS_PER_CLOCK_READ {
                // SAFETY: this future is the slot's single receiver, and it drops the slot
                // as soon as this returns a value.
                if let Some(value) = unsafe { reply.slot().try_take() } {
                    return Spun::Caught(value, rounds.waited());
                }
                waiting.spin();
            }
            let (start, now) = rounds.read_clock();
            if now.saturating_duration_since(start) >= budget {
                return Spun::Missed(start);
            }
        }
    }
}

/// What a spin for the reply found.
enum Spun<R> {
    /// The reply, this long after the spin began.
    Caught(Option<Result<R, CallError>>, Duration),
    /// None within the budget; the spin began then.
    Missed(Instant),
}

impl<R> Future for CallFuture<R> {
    type Output = Result<R, CallError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Wait::Refused = this.wait {
            this.wait = Wait::Waker;
            return Poll::Ready(Err(CallError::Closed));
        }
        let Some(reply) = this.reply.as_deref() else {
            panic!("CallFuture polled after it resolved");
        };
        if let Wait::Spin(plan) = this.wait {
            this.wait = Wait::Waker;
            // The previous reply's lesson, while the worker runs this call.
            if let Some(policy) = &this.policy {
                policy.learn();
            }
            match Self::spin_for(reply, plan.budget) {
                Spun::Caught(value, waited) => {
                    if let Some(policy) = this.policy.as_ref().filter(|_| plan.learn) {
                        policy.replied(plan, waited, true);
                    }
                    return this.resolve(value);
                }
                Spun::Missed(start) if plan.learn => this.wait = Wait::Missed(plan, start),
                Spun::Missed(_) => {}
            }
        }
        // SAFETY: single receiver; the slot is dropped when this returns `Ready`.
        match unsafe { reply.slot().poll_take(cx) } {
            Poll::Ready(value) => {
                if let (Some(policy), Wait::Missed(plan, began)) = (&this.policy, this.wait) {
                    this.wait = Wait::Waker;
                    policy.replied(plan, began.elapsed(), false);
                }
                this.resolve(value)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<R> Drop for CallFuture<R> {
    fn drop(&mut self) {
        if let Some(reply) = self.reply.take() {
            reply.slot().cancel();
            if let Some(policy) = self.policy.take() {
                policy.end(call_id(&reply));
            }
        }
    }
}

impl<R> fmt::Debug for CallFuture<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallFuture")
            .field(
                "resolved",
                &(self.reply.is_none() && !matches!(self.wait, Wait::Refused)),
            )
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

/// The outcome of [`Worker::close`](crate::Worker::close) (the state) or
/// [`Worker::shutdown`](crate::Worker::shutdown) (`()`).
///
/// Resolves once every call queued before the close has run and the state was handed back
/// (or dropped): the worker thread's last act, after which it only returns. It never joins
/// the thread, so polling it never blocks.
#[must_use = "a close does its work anyway; await it to get the state back"]
pub struct CloseFuture<V> {
    slot: Option<Arc<Slot<Result<V, CloseError>>>>,
    early: Option<CloseError>,
}

impl<V> CloseFuture<V> {
    pub(crate) fn new(slot: Arc<Slot<Result<V, CloseError>>>) -> Self {
        Self {
            slot: Some(slot),
            early: None,
        }
    }

    pub(crate) fn failed(error: CloseError) -> Self {
        Self {
            slot: None,
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
        // `None`: the close message was dropped unprocessed, which happens only when the
        // worker thread ended without reading it (it was already gone).
        Poll::Ready(outcome.unwrap_or(Err(CloseError::AlreadyClosed)))
    }
}

impl<V> fmt::Debug for CloseFuture<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloseFuture")
            .field("resolved", &(self.slot.is_none() && self.early.is_none()))
            .finish_non_exhaustive()
    }
}

/// The reply of [`Worker::try_call`](crate::Worker::try_call): the call's `Result` with the
/// worker's own [`CallError`] folded into its error type.
#[must_use = "the call is cancelled when its future is dropped"]
pub struct TryCallFuture<R, E> {
    inner: CallFuture<Result<R, E>>,
    error: PhantomData<fn() -> E>,
}

impl<R, E> TryCallFuture<R, E> {
    pub(crate) fn new(inner: CallFuture<Result<R, E>>) -> Self {
        Self {
            inner,
            error: PhantomData,
        }
    }
}

impl<R, E: From<CallError>> Future for TryCallFuture<R, E> {
    type Output = Result<R, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.inner)
            .poll(cx)
            .map(|reply| reply.unwrap_or_else(|error| Err(E::from(error))))
    }
}

impl<R, E> fmt::Debug for TryCallFuture<R, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TryCallFuture").field(&self.inner).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_call_future_takes_eight_words_at_most() {
        // `Wait`: the reply, where the wait stands, the caller spin; nothing else.
        let words = std::mem::size_of::<CallFuture<u64>>() / std::mem::size_of::<usize>();
        assert!(words <= 8, "CallFuture<u64> takes {words} words");
    }
}
