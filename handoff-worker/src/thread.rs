//! The dedicated thread: builds the state, drains the queue, waits per strategy, shuts down.
//!
//! # How it works
//!
//! 1. The thread runs `init`. If `init` panicked, it answers every call with
//!    [`CallError::InitPanicked`] and every close with
//!    [`CloseError::InitPanicked`](crate::CloseError::InitPanicked), so nobody hangs; if a
//!    fallible init failed ([`Builder::try_spawn`](crate::Builder::try_spawn)), nobody
//!    holds a handle and it just ends.
//! 2. Otherwise it serves ([`crate::serving`]): it runs the calls as they come, draining the
//!    queue, and waits per its strategy whenever the queue is empty: a spin, a park, or a
//!    spin then a park.
//! 3. Senders only issue a futex wake when the worker is registered as blocked in its
//!    receive, so calls sent to a spinning or busy worker cost no syscall.
//! 4. A `Close` message (queued behind every call made before it) ends the loop: the calls
//!    that raced in after it are answered [`CallError::Closed`] and the queue is dropped
//!    (so later sends fail and answer themselves `Closed`). When every handle is gone
//!    instead, `recv` reports the disconnection after the last queued call ran.
//! 5. On the way out the thread closes the bounded queue's gate, which answers the calls
//!    still waiting there `Closed`. Then, as its very last act, it hands the state to the
//!    closer ([`Worker::close`](crate::Worker::close)), or drops it and reports that
//!    ([`Worker::shutdown`](crate::Worker::shutdown)), or drops it unasked (disconnection).
//!    So a close resolves when the thread has nothing left to do but return: its future
//!    never has to join the thread, and never blocks an executor.
//!
//! Nothing a caller hands the thread can end it: panics in calls, and in the `Drop` of a
//! skipped call's closure, of a value nobody waits for, or of the state, are caught
//! ([`drop_catching`]).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crate::costs::Costs;
use crate::error::{CallError, panic_message};
use crate::gate::Gate;
use crate::held_wakes::HeldWakes;
use crate::job::{JobRef, drop_catching};
use crate::queue::Receiver;
use crate::serving::Serving;
use crate::stats::Counters;
use crate::strategy::Policy;

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
    pub(crate) costs: Arc<Costs>,
    /// The bounded queue's gate, if bounded.
    pub(crate) gate: Option<Arc<Gate<T>>>,
    pub(crate) policy: Policy,
    /// Wakes held back while calls are queued ([`crate::held_wakes`]), if any.
    pub(crate) held_wakes: Option<HeldWakes>,
}

/// Why there is no state.
pub(crate) enum InitFailed {
    /// `init` panicked with this message; calls and closes are told so.
    Panicked(String),
    /// A fallible init failed and already told the spawner; nobody holds a handle.
    Reported,
}

/// How the loop ended, and what is left to do with the state.
pub(crate) enum Ending<T> {
    /// A close: deliver this (the state, or why there is none) to its closer.
    Close(Closer<T>, Result<T, String>),
    /// Every handle is gone.
    Disconnected(Option<T>),
}

/// Step 5's gate closing, when dropped: on the way out, and also on unwinding (which
/// nothing a caller does can cause; a guard all the same).
struct CloseGateOnExit<T>(Option<Arc<Gate<T>>>);

impl<T> Drop for CloseGateOnExit<T> {
    fn drop(&mut self) {
        if let Some(gate) = &self.0 {
            gate.close();
        }
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
        costs,
        gate,
        policy,
        held_wakes,
    } = parts;
    let closing = CloseGateOnExit(gate.clone());
    let ending = match catching_init(init) {
        Ok(state) => {
            Serving::new(&counters, &costs, gate.as_deref(), policy, held_wakes).serve(state, rx)
        }
        Err(InitFailed::Panicked(message)) => refuse_all(&message, rx, &counters, gate.as_deref()),
        Err(InitFailed::Reported) => return,
    };
    drop(closing);
    match ending {
        // The last act: the closer may now resolve, and the thread only returns.
        Ending::Close(closer, outcome) => closer.deliver(outcome),
        Ending::Disconnected(state) => drop_catching(state, Some(&counters)),
    }
}

/// A call left the queue: a bounded queue's gate moves the oldest waiting call in.
pub(crate) fn taken<T>(gate: Option<&Gate<T>>, counters: &Counters) {
    if let Some(gate) = gate {
        gate.taken(counters);
    }
}

/// Step 1, after a panic in init.
fn refuse_all<T>(
    message: &str,
    rx: Receiver<Msg<T>>,
    counters: &Counters,
    gate: Option<&Gate<T>>,
) -> Ending<T> {
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Call(job) => {
                taken(gate, counters);
                counters.refused();
                job.refuse(Some(CallError::InitPanicked(message.to_owned())), counters);
            }
            Msg::Close(closer) => {
                close_queue(rx, counters, gate);
                return Ending::Close(closer, Err(message.to_owned()));
            }
        }
    }
    Ending::Disconnected(None)
}

/// Step 4: answers the calls queued behind the close `Closed`, then drops the queue.
pub(crate) fn close_queue<T>(rx: Receiver<Msg<T>>, counters: &Counters, gate: Option<&Gate<T>>) {
    if let Some(gate) = gate {
        gate.close();
    }
    while let Ok(msg) = rx.try_recv() {
        if let Msg::Call(job) = msg {
            job.refuse(None, counters);
        }
    }
}

/// Starts the worker thread with `body` (a `loom` thread in the loom models).
#[cfg(not(all(loom, test)))]
pub(crate) fn start(
    name: Option<&str>,
    stack_size: Option<usize>,
    body: impl FnOnce() + Send + 'static,
) -> std::io::Result<()> {
    let mut thread = std::thread::Builder::new();
    if let Some(name) = name {
        thread = thread.name(name.to_owned());
    }
    if let Some(bytes) = stack_size {
        thread = thread.stack_size(bytes);
    }
    // Detached: the thread's last act answers a close (module docs), so nobody joins.
    thread.spawn(body).map(drop)
}

/// Starts the worker thread with `body` (a `loom` thread in the loom models).
#[cfg(all(loom, test))]
pub(crate) fn start(
    _name: Option<&str>,
    _stack_size: Option<usize>,
    body: impl FnOnce() + Send + 'static,
) -> std::io::Result<()> {
    loom::thread::spawn(body);
    Ok(())
}
