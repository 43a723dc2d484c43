//! One call on its way to the worker: closure, deadline and reply slot in one allocation.
//!
//! The caller keeps an `Arc<dyn ReplyTo<R>>` view of the packet (it knows the reply type),
//! the queue carries a [`JobRef<T>`] view (it knows the state type). The `JobRef` is the
//! slot's single completer: it either runs the call, refuses it, or, if it is dropped
//! unused (the queue was torn down), completes the slot without a value, which the caller
//! reads as [`CallError::Closed`]. So a call that was queued is always answered.

use std::any::Any;
use std::cell::UnsafeCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::task::Waker;
use std::time::Instant;

use super::error::{CallError, panic_message};
use super::os::{Cpu, NO_CPU};
use super::slot::{Claim, Flags, Slot};
use super::stats::Counters;

/// What a running call can learn about itself, passed to the closures of
/// [`Worker::call_with`](crate::Worker::call_with) and the deadline variants.
#[derive(Debug)]
pub struct CallContext<'a> {
    flags: &'a Flags,
    deadline: Option<Instant>,
}

impl CallContext<'_> {
    /// Whether the caller has dropped the call's future (it stopped waiting, for instance at
    /// its runtime's timeout). A long call may poll this and return early; the value it
    /// returns is then discarded. A deadline of [`Worker::call_with_deadline`] does not set
    /// it: compare [`CallContext::deadline`] with the clock for that.
    ///
    /// [`Worker::call_with_deadline`]: crate::Worker::call_with_deadline
    pub fn is_cancelled(&self) -> bool {
        self.flags.is_cancelled()
    }

    /// The call's deadline, if it has one.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
}

/// The reply slot of a call returning `R`.
pub(crate) type Reply<R> = Slot<Result<R, CallError>>;

/// The single allocation behind one call.
pub(crate) struct Packet<F, R> {
    slot: Reply<R>,
    /// Taken out exactly once, by the `JobRef` (the only code that touches it).
    func: UnsafeCell<Option<F>>,
    deadline: Option<Instant>,
    /// The CPU the caller ran on when it made the call ([`NO_CPU`] if not known): the
    /// worker compares it with its own to notice that both share one.
    caller_cpu: Cpu,
}

// SAFETY: the closure moves from the caller's thread to the worker's, which `F: Send` allows
// (the slot is `Send + Sync` for `R: Send` on its own). Shared access to `func` is sound
// because only the single `JobRef` touches it, once (it is neither `Clone` nor shared).
unsafe impl<F: Send, R: Send> Send for Packet<F, R> {}
// SAFETY: as above.
unsafe impl<F: Send, R: Send> Sync for Packet<F, R> {}

impl<F, R> Packet<F, R> {
    pub(crate) fn new(func: F, deadline: Option<Instant>, caller_cpu: Cpu) -> Self {
        Self {
            slot: Slot::new(),
            func: UnsafeCell::new(Some(func)),
            deadline,
            caller_cpu,
        }
    }

    /// # Safety
    ///
    /// Only the packet's `JobRef` may call this, once.
    unsafe fn take_func(&self) -> Option<F> {
        // SAFETY: forwarded contract: no other access to `func` exists.
        unsafe { (*self.func.get()).take() }
    }
}

/// The caller's view of a packet.
pub(crate) trait ReplyTo<R>: Send + Sync {
    fn slot(&self) -> &Reply<R>;
}

impl<F: Send, R: Send> ReplyTo<R> for Packet<F, R> {
    fn slot(&self) -> &Reply<R> {
        &self.slot
    }
}

/// What running a call told the worker about its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ran {
    /// The CPU the caller made the call on.
    pub(crate) caller_cpu: Cpu,
    /// The answer woke the caller: it had stopped polling (and may have gone to sleep).
    pub(crate) woke_caller: bool,
}

/// The queue's view of a packet.
pub(crate) trait Job<T>: Send + Sync {
    /// Claims, then runs or skips the call, and completes the slot unless skipped. With
    /// `later`, the caller's waker (if it waits) goes there instead of being woken
    /// ([`Slot::complete_later`](super::slot::Slot::complete_later)).
    ///
    /// # Safety
    ///
    /// Only the packet's `JobRef` may call this, once, and no other method of this trait
    /// but [`Job::is_cancelled`].
    unsafe fn run(&self, state: &mut T, counters: &Counters, later: Option<&mut Vec<Waker>>)
    -> Ran;

    /// Whether the caller has dropped its future.
    fn is_cancelled(&self) -> bool;

    /// Completes the slot with `error` without running the call (`None`: without a value,
    /// which the caller reads as [`CallError::Closed`]). A panic from the closure's `Drop`
    /// is caught (and counted, given `counters`).
    ///
    /// # Safety
    ///
    /// As for [`Job::run`].
    unsafe fn answer(&self, error: Option<CallError>, counters: Option<&Counters>);
}

impl<T, F, R> Job<T> for Packet<F, R>
where
    F: FnOnce(&mut T, &CallContext<'_>) -> R + Send,
    R: Send,
{
    unsafe fn run(
        &self,
        state: &mut T,
        counters: &Counters,
        later: Option<&mut Vec<Waker>>,
    ) -> Ran {
        let mut ran = Ran {
            caller_cpu: self.caller_cpu,
            woke_caller: false,
        };
        // SAFETY: forwarded contract: we are the single `JobRef`, once.
        let func = unsafe { self.take_func() };
        if self.slot.claim() == Claim::Cancelled {
            counters.skipped_cancelled();
            drop_catching(func, Some(counters));
            ran.caller_cpu = NO_CPU;
            return ran;
        }
        let Some(func) = func else {
            // Unreachable by construction (the closure is taken once); answer rather than hang.
            // SAFETY: single completer, once.
            unsafe { self.slot.complete(None) };
            return ran;
        };
        let reply = if self.deadline.is_some_and(|d| Instant::now() >= d) {
            counters.skipped_timed_out();
            drop_catching(func, Some(counters));
            Err(CallError::TimedOut)
        } else {
            let ctx = CallContext {
                flags: self.slot.flags(),
                deadline: self.deadline,
            };
            match catch_unwind(AssertUnwindSafe(|| func(state, &ctx))) {
                Ok(value) => {
                    counters.ok();
                    Ok(value)
                }
                Err(payload) => {
                    counters.panicked();
                    let message = panic_message(&*payload);
                    drop_payload(payload);
                    Err(CallError::Panicked(message))
                }
            }
        };
        ran.woke_caller = match later {
            // SAFETY: the `JobRef` is the single completer and calls `run` once.
            Some(later) => unsafe { self.slot.complete_later(Some(reply), later) },
            // SAFETY: as above.
            None => unsafe { self.slot.complete(Some(reply)) },
        };
        ran
    }

    fn is_cancelled(&self) -> bool {
        self.slot.flags().is_cancelled()
    }

    unsafe fn answer(&self, error: Option<CallError>, counters: Option<&Counters>) {
        // SAFETY: forwarded contract: single `JobRef`, once. The closure is dropped here,
        // on the answering thread.
        drop_catching(unsafe { self.take_func() }, counters);
        // SAFETY: single completer, once.
        unsafe { self.slot.complete(error.map(Err)) };
    }
}

/// Drops `value`, catching a panic from its `Drop` (counted, given `counters`): a caller's
/// closure or value must not take the worker thread down with it.
pub(crate) fn drop_catching<V>(value: V, counters: Option<&Counters>) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        if let Some(counters) = counters {
            counters.drop_panicked();
        }
        drop_payload(payload);
    }
}

/// Drops a panic payload, swallowing (and leaking) a panic from its own `Drop`.
fn drop_payload(payload: Box<dyn Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
}

/// The queue's owning handle of one call: its single completer.
pub(crate) struct JobRef<T>(Option<Arc<dyn Job<T>>>);

impl<T> JobRef<T> {
    pub(crate) fn new(job: Arc<dyn Job<T>>) -> Self {
        Self(Some(job))
    }

    /// Runs (or skips) the call on the worker's state. If the caller is gone, the packet
    /// (and the value in it) is dropped here, with a panic from its `Drop` caught.
    // Inlined into both of the worker's loops ([`crate::serving`]): a call of its own on every
    // call costs more than the body.
    #[inline(always)]
    pub(crate) fn run(
        mut self,
        state: &mut T,
        counters: &Counters,
        later: Option<&mut Vec<Waker>>,
    ) -> Ran {
        let Some(job) = self.0.take() else {
            return Ran {
                caller_cpu: NO_CPU,
                woke_caller: false,
            };
        };
        // SAFETY: `self` is consumed: this is the one call on the packet.
        let ran = unsafe { job.run(state, counters, later) };
        drop_catching(job, Some(counters));
        ran
    }

    /// Whether the caller has dropped its future.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.0.as_ref().is_some_and(|job| job.is_cancelled())
    }

    /// Drops a call that never reached the worker (its caller left while it waited for a
    /// place in a bounded queue), with a panic from its closure's `Drop` caught and counted.
    pub(crate) fn drop_unqueued(mut self, counters: &Counters) {
        if let Some(job) = self.0.take() {
            // SAFETY: `self` is consumed: this is the one call on the packet.
            unsafe { job.answer(None, Some(counters)) };
            drop_catching(job, Some(counters));
        }
    }

    /// Answers the call with `error` (`None`: [`CallError::Closed`]) without running it.
    pub(crate) fn refuse(mut self, error: Option<CallError>, counters: &Counters) {
        if let Some(job) = self.0.take() {
            // SAFETY: `self` is consumed: this is the one call on the packet.
            unsafe { job.answer(error, Some(counters)) };
            drop_catching(job, Some(counters));
        }
    }
}

impl<T> Drop for JobRef<T> {
    /// Dropped unrun (the queue was torn down, or a send found the worker gone): answered
    /// without a value, which the caller reads as [`CallError::Closed`].
    fn drop(&mut self) {
        if let Some(job) = self.0.take() {
            // SAFETY: the `JobRef` is going away without having run: the one call.
            unsafe { job.answer(None, None) };
            drop_catching(job, None);
        }
    }
}

impl<T> std::fmt::Debug for JobRef<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobRef").finish_non_exhaustive()
    }
}
