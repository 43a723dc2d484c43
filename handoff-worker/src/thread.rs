//! The dedicated thread: builds the state, drains the queue, waits per strategy, shuts down.
//!
//! # How it works
//!
//! 1. The thread sets up its [`Policy`] (the adaptive one learns the machine first, once
//!    per process) and runs `init`. If `init` panicked, it answers every call with
//!    [`CallError::InitPanicked`] and every close with
//!    [`CloseError::InitPanicked`](crate::CloseError::InitPanicked), so nobody hangs; if a
//!    fallible init failed ([`Builder::try_spawn`](crate::Builder::try_spawn)), nobody
//!    holds a handle and it just ends.
//! 2. Otherwise it loops: `try_recv` until the queue is empty, running each call as it comes
//!    (so one wake-up drains everything queued, however many calls are in flight), and
//!    returning a queue permit (bounded queues) as soon as a call is taken off the queue.
//! 3. On an empty queue it asks its [`Policy`] for a spin budget, spins on `try_recv` for up
//!    to that long (no syscall, no store to shared memory), then falls back to the blocking
//!    `recv` of `crossbeam-channel`, which parks the thread. Senders only issue a futex wake
//!    when a receiver is registered as blocked, so calls sent to a spinning or busy worker
//!    cost no syscall.
//! 4. A `Close` message (queued behind every call sent before it) ends the loop: the calls
//!    that raced in after it are answered [`CallError::Closed`] and the queue is dropped
//!    (so later sends fail and answer themselves `Closed`). When every handle is gone
//!    instead, `recv` reports the disconnection after the last queued call ran.
//! 5. On the way out the thread opens the bounded queue's gate wide, so a sender waiting for
//!    space wakes up, finds the queue gone and answers itself `Closed`. Then, as its very
//!    last act, it hands the state to the closer ([`Worker::close`](crate::Worker::close)),
//!    or drops it and reports that ([`Worker::shutdown`](crate::Worker::shutdown)), or drops
//!    it unasked (disconnection). So a close resolves when the thread has nothing left to
//!    do but return: its future never has to join the thread, and never blocks an executor.
//!
//! Nothing a caller hands the thread can end it: panics in calls, and in the `Drop` of a
//! skipped call's closure, of a value nobody waits for, or of the state, are caught
//! ([`drop_catching`]).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, RecvError, TryRecvError};

use crate::capacity::Capacity;
use crate::error::{CallError, panic_message};
use crate::hooks;
use crate::job::{JobRef, drop_catching};
use crate::machine;
use crate::stats::Counters;
use crate::strategy::{Policy, Strategy};

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
    pub(crate) capacity: Capacity,
    pub(crate) strategy: Strategy,
}

/// Why there is no state.
pub(crate) enum InitFailed {
    /// `init` panicked with this message; calls and closes are told so.
    Panicked(String),
    /// A fallible init failed and already told the spawner; nobody holds a handle.
    Reported,
}

/// How the loop ended, and what is left to do with the state.
enum Ending<T> {
    /// A close: deliver this (the state, or why there is none) to its closer.
    Close(Closer<T>, Result<T, String>),
    /// Every handle is gone.
    Disconnected(Option<T>),
}

/// Step 5's gate, opened when dropped: on the way out, and also on unwinding (which nothing a
/// caller does can cause; a guard all the same).
struct OpenWideOnExit(Capacity);

impl Drop for OpenWideOnExit {
    fn drop(&mut self) {
        self.0.open_wide();
    }
}

/// Runs `init` under `catch_unwind`, mapping a panic to [`InitFailed::Panicked`].
pub(crate) fn catching_init<T>(
    init: impl FnOnce() -> Result<T, InitFailed>,
) -> Result<T, InitFailed> {
    catch_unwind(AssertUnwindSafe(init))
        .unwrap_or_else(|payload| Err(InitFailed::Panicked(panic_message(&*payload))))
}

/// The thread's body.
pub(crate) fn run<T>(init: impl FnOnce() -> Result<T, InitFailed>, parts: Parts<T>) {
    let Parts {
        rx,
        counters,
        capacity,
        strategy,
    } = parts;
    let gate = OpenWideOnExit(capacity.clone());
    let policy = Policy::new(strategy, machine::usable_cpus());
    let ending = match catching_init(init) {
        Ok(state) => serve(state, rx, &counters, &capacity, policy),
        Err(InitFailed::Panicked(message)) => refuse_all(&message, rx, &counters, &capacity),
        Err(InitFailed::Reported) => return,
    };
    drop(gate);
    match ending {
        // The last act: the closer may now resolve, and the thread only returns.
        Ending::Close(closer, outcome) => closer.deliver(outcome),
        Ending::Disconnected(state) => drop_catching(state, Some(&counters)),
    }
}

/// Steps 2-4.
fn serve<T>(
    mut state: T,
    rx: Receiver<Msg<T>>,
    counters: &Counters,
    capacity: &Capacity,
    mut policy: Policy,
) -> Ending<T> {
    loop {
        let msg = match rx.try_recv() {
            Ok(msg) => msg,
            Err(TryRecvError::Empty) => match wait(&rx, &mut policy, counters) {
                Ok(msg) => msg,
                Err(RecvError) => return Ending::Disconnected(Some(state)),
            },
            Err(TryRecvError::Disconnected) => return Ending::Disconnected(Some(state)),
        };
        match msg {
            Msg::Call(job) => {
                capacity.give_back();
                job.run(&mut state, counters);
            }
            Msg::Close(closer) => {
                close_queue(rx, counters, capacity);
                return Ending::Close(closer, Ok(state));
            }
        }
    }
}

/// Step 1, after a panic in init.
fn refuse_all<T>(
    message: &str,
    rx: Receiver<Msg<T>>,
    counters: &Counters,
    capacity: &Capacity,
) -> Ending<T> {
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Call(job) => {
                capacity.give_back();
                counters.refused();
                job.refuse(Some(CallError::InitPanicked(message.to_owned())), counters);
            }
            Msg::Close(closer) => {
                close_queue(rx, counters, capacity);
                return Ending::Close(closer, Err(message.to_owned()));
            }
        }
    }
    Ending::Disconnected(None)
}

/// Step 4: answers the calls queued behind the close `Closed`, then drops the queue.
fn close_queue<T>(rx: Receiver<Msg<T>>, counters: &Counters, capacity: &Capacity) {
    while let Ok(msg) = rx.try_recv() {
        if let Msg::Call(job) = msg {
            capacity.give_back();
            job.refuse(None, counters);
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
    let waiting = hooks::waiting();
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
                    Err(TryRecvError::Empty) => waiting.spin(),
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
