//! The dedicated thread: builds the state, drains the queue, waits per strategy, shuts down.
//!
//! # How it works
//!
//! 1. The thread runs `init` under `catch_unwind`. If it panics, the thread answers every
//!    call it receives with [`CallError::InitPanicked`] and every close with
//!    [`CloseError::InitPanicked`](super::CloseError::InitPanicked), so nobody hangs.
//! 2. Otherwise it loops: `try_recv` until the queue is empty, running each call as it comes
//!    (so one wake-up drains everything queued, however many calls are in flight), and
//!    returning a queue permit (bounded queues) as soon as a call is taken off the queue.
//! 3. On an empty queue it asks its [`Policy`] for a spin budget, spins on `try_recv` for up
//!    to that long (no syscall, no store to shared memory), then falls back to the blocking
//!    `recv` of `crossbeam-channel`, which parks the thread. Senders only issue a futex wake
//!    when a receiver is registered as blocked, so calls sent to a spinning or busy worker
//!    cost no syscall.
//! 4. A `Close` message (queued behind every call sent before it) ends the loop: the queue
//!    is dropped first, which answers any call that raced in after it with
//!    [`CallError::Closed`], then the state is handed to the closer (or dropped here, for
//!    `shutdown`). When every handle is gone instead, `recv` reports the disconnection after
//!    the last queued call ran, and the state is dropped here.
//! 5. On the way out (also when unwinding) the thread opens the bounded queue's gate wide, so
//!    a sender waiting for space wakes up, finds the queue gone and answers itself `Closed`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

use async_lock::Semaphore;
use crossbeam_channel::{Receiver, RecvError, TryRecvError};

use super::error::{CallError, panic_message};
use super::job::JobRef;
use super::stats::Counters;
use super::strategy::Policy;

/// What travels on the queue.
pub(crate) enum Msg<T> {
    Call(JobRef<T>),
    Close(Closer<T>),
}

/// How a close hands the state back: `Some(Ok(state))`, `Some(Err(init panic message))`,
/// or `None` when the message is dropped unprocessed. Called exactly once (on drop if
/// never delivered), so the closer is always answered.
pub(crate) struct Closer<T>(Option<Box<CloseFn<T>>>);

pub(crate) type CloseFn<T> = dyn FnOnce(Option<Result<T, String>>) + Send;

impl<T> Closer<T> {
    pub(crate) fn new(deliver: Box<CloseFn<T>>) -> Self {
        Self(Some(deliver))
    }

    fn deliver(mut self, outcome: Result<T, String>) {
        if let Some(deliver) = self.0.take() {
            deliver(Some(outcome));
        }
    }
}

impl<T> Drop for Closer<T> {
    fn drop(&mut self) {
        if let Some(deliver) = self.0.take() {
            deliver(None);
        }
    }
}

/// Everything the thread takes with it.
pub(crate) struct Parts<T> {
    pub(crate) rx: Receiver<Msg<T>>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) permits: Option<Arc<Semaphore>>,
    pub(crate) policy: Policy,
}

/// Step 5: opens the gate for good when the thread ends, however it ends.
struct OpenGateOnExit(Option<Arc<Semaphore>>);

impl Drop for OpenGateOnExit {
    fn drop(&mut self) {
        if let Some(permits) = &self.0 {
            permits.add_permits(usize::MAX / 4);
        }
    }
}

/// The thread's body.
pub(crate) fn run<T, I: FnOnce() -> T>(init: I, parts: Parts<T>) {
    let _gate = OpenGateOnExit(parts.permits.clone());
    match catch_unwind(AssertUnwindSafe(init)) {
        Ok(state) => serve(state, parts),
        Err(payload) => refuse_all(&panic_message(&*payload), parts),
    }
}

/// Steps 2-4.
fn serve<T>(mut state: T, parts: Parts<T>) {
    let Parts {
        rx,
        counters,
        permits,
        mut policy,
    } = parts;
    loop {
        let msg = match rx.try_recv() {
            Ok(msg) => msg,
            Err(TryRecvError::Empty) => match wait(&rx, &mut policy, &counters) {
                Ok(msg) => msg,
                Err(RecvError) => return,
            },
            Err(TryRecvError::Disconnected) => return,
        };
        match msg {
            Msg::Call(job) => {
                if let Some(permits) = &permits {
                    permits.add_permits(1);
                }
                job.run(&mut state, &counters);
            }
            Msg::Close(closer) => {
                drop(rx);
                closer.deliver(Ok(state));
                return;
            }
        }
    }
}

/// Step 1, after a panic in init.
fn refuse_all<T>(message: &str, parts: Parts<T>) {
    let Parts {
        rx,
        counters,
        permits,
        ..
    } = parts;
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Call(job) => {
                if let Some(permits) = &permits {
                    permits.add_permits(1);
                }
                counters.refused();
                job.refuse(CallError::InitPanicked(message.to_owned()));
            }
            Msg::Close(closer) => {
                drop(rx);
                closer.deliver(Err(message.to_owned()));
                return;
            }
        }
    }
}

/// How many empty `try_recv`s between two clock reads while spinning.
const SPINS_PER_CLOCK_READ: u32 = 16;

/// Step 3: spin per policy, then block.
fn wait<T>(
    rx: &Receiver<Msg<T>>,
    policy: &mut Policy,
    counters: &Counters,
) -> Result<Msg<T>, RecvError> {
    // Under valgrind the wait is not counted: how long it spins, and whether it parks,
    // depends on scheduling, not on the code ([`crate::counters`]).
    let _waiting = crate::counters::waiting();
    let budget = policy.spin_budget();
    let empty_since = Instant::now();
    if !budget.is_zero() {
        loop {
            for _ in 0..SPINS_PER_CLOCK_READ {
                match rx.try_recv() {
                    Ok(msg) => {
                        policy.caught(empty_since.elapsed());
                        counters.spin_hit();
                        return Ok(msg);
                    }
                    Err(TryRecvError::Empty) => crate::counters::spin_hint(),
                    Err(TryRecvError::Disconnected) => return Err(RecvError),
                }
            }
            if empty_since.elapsed() >= budget {
                break;
            }
        }
    }
    counters.park();
    let receiving_since = Instant::now();
    let msg = rx.recv();
    policy.received_after_spin(empty_since.elapsed(), receiving_since.elapsed());
    msg
}
