//! A dedicated worker thread that owns a state and runs synchronous calls on it for async code.
//!
//! Some state must live on one thread: an SQLite connection, a non-thread-safe C library, a
//! cache that is cheaper unshared. A [`Worker`] owns such a state on a thread of its own
//! and runs the calls you send it one at a time, in order; each call's future resolves to
//! what the call returned. It works on any executor (tokio, async-std, smol,
//! `futures::executor`): the futures use nothing but the `Waker` they are polled with, and
//! the crate depends on no runtime.
//!
//! ```
//! use handoff_worker::{CallError, Worker};
//!
//! # futures::executor::block_on(async {
//! // The state is built on the worker thread, so it need not be `Send`.
//! let worker = Worker::spawn(|| std::rc::Rc::new(std::cell::Cell::new(0_u64))).unwrap();
//! let n = worker.call(|count| { count.set(count.get() + 1); count.get() }).await;
//! assert_eq!(n, Ok(1));
//!
//! // A panic becomes an error; the worker and its state live on.
//! let err = worker.call(|_| -> u64 { panic!("boom") }).await;
//! assert_eq!(err, Err(CallError::Panicked("boom".into())));
//! assert_eq!(worker.call(|count| count.get()).await, Ok(1));
//!
//! worker.shutdown().await.unwrap();
//! assert_eq!(worker.call(|count| count.get()).await, Err(CallError::Closed));
//! # });
//! ```
//!
//! # What it promises
//!
//! - **Every call is answered exactly once**: with its value, or with a [`CallError`] that
//!   says why there is none (it panicked, its deadline had passed, the worker was closed).
//! - **The worker and its state live on** whatever a call does: a panic inside a call, or in
//!   the `Drop` of a closure or of a value nobody is waiting for any more, is caught and
//!   counted ([`Stats`]).
//! - **A caller that gives up costs nothing**: dropping a call's future before the worker
//!   starts it skips the call; a running call can see that its caller is gone
//!   ([`CallContext::is_cancelled`]). So a runtime's own timeout is the caller-side
//!   deadline: `tokio::time::timeout(d, worker.call(f))` stops waiting at `d` and, if the
//!   call has not started, it never runs. [`Worker::call_with_deadline`] adds a deadline the
//!   worker itself checks before it starts a call, with no timer.
//! - **Calls run in the order they were made**, on every queue, a
//!   [bounded](Builder::bounded) one included.
//! - **Nothing blocks an executor thread**: making a call never blocks (a full bounded
//!   queue makes the call wait in line), and [`Worker::close`] resolves when the thread has
//!   done its last work, without joining it inside `poll`.
//! - **Fast when it matters, idle when not**: the default [`Strategy::Adaptive`] learns,
//!   while it runs, what a park and a wake-up cost on the machine and how long it waits for
//!   calls, and spins only where that costs less CPU than parking: through back-to-back
//!   calls (no wake-up at all), not through sparse ones. Its expected CPU per wait is never
//!   above [`Strategy::Block`]'s. [`Strategy::LowLatency`] trades CPU for latency.
//!
//! # Modules
//!
//! - `builder`, `handle`: [`Builder`] and [`Worker`], which queue calls and close the
//!   worker; `gate`: the bounded queue's order and capacity;
//! - `spawn`: [`Builder::try_spawn`]'s fallible start, [`SpawnFuture`];
//! - `future`: [`CallFuture`], [`TryCallFuture`] and [`CloseFuture`], what callers await;
//! - `job`: one call's closure, deadline and reply slot in one allocation, and
//!   [`CallContext`];
//! - `slot`: the lock-free reply slot and its start/cancel protocol (loom-checked in
//!   `loom_models`, with the other models);
//! - `thread`, `serving`, `queue`: the worker thread's start and shutdown, its loop
//!   (draining, waiting), and its channel; `held_wakes`: callers' wake-ups held while calls
//!   are queued ([`Builder::batch_wakes`]);
//! - `strategy`, `adaptive`, `caller_spin`, `caller_learning`, `histogram`, `costs`:
//!   [`Strategy`], the worker's and the callers' adaptive spins, and what they learn about
//!   waiting;
//! - `placement`, `crowding`, `os`: noticing that the worker shares its caller's CPU, and
//!   leaving it; noticing that it waits for its CPU behind other work, and not spinning;
//! - `hooks`: `WaitHooks`, for tools that must see or reshape the waits (feature
//!   `bench-hooks`);
//! - `stats`, `error`, `sync`: counters, error types, the std/loom shim.
//!
//! # Features
//!
//! - `bench-hooks` (**unstable**, for benchmarks and profilers; not covered by semantic
//!   versioning): `WaitHooks`, `Worker::wait_costs`, and the counters `parks`,
//!   `spin_hits`, `stepped_off` and `crowded` in [`Stats`].

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod adaptive;
mod builder;
mod caller_learning;
mod caller_spin;
mod costs;
mod crowding;
mod error;
mod future;
mod gate;
mod handle;
mod held_wakes;
mod histogram;
mod hooks;
mod job;
#[cfg(all(test, loom))]
mod loom_models;
mod os;
mod placement;
mod queue;
mod rounds;
mod serving;
mod slot;
mod spawn;
mod stats;
mod strategy;
mod sync;
mod thread;

/// The README's example, run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;

pub use builder::Builder;
pub use error::{CallError, CloseError, SpawnError};
pub use future::{CallFuture, CloseFuture, TryCallFuture};
pub use handle::Worker;
#[cfg(feature = "bench-hooks")]
#[cfg_attr(docsrs, doc(cfg(feature = "bench-hooks")))]
pub use hooks::WaitHooks;
pub use job::CallContext;
pub use spawn::SpawnFuture;
pub use stats::Stats;
pub use strategy::Strategy;

/// What the adaptive policy of one worker has learned that waiting costs
/// ([`Worker::wait_costs`]). Feature `bench-hooks` (unstable).
#[cfg(feature = "bench-hooks")]
#[cfg_attr(docsrs, doc(cfg(feature = "bench-hooks")))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitCosts {
    /// The worker thread's CPU per park (a moving average over sampled parks).
    pub park_cpu: std::time::Duration,
    /// A caller's CPU (wall time of the send) to wake a sleeping worker.
    pub wake_send: std::time::Duration,
    /// From a send to a sleeping worker to the worker running again.
    pub wake_latency: std::time::Duration,
    /// Whether the worker spins at all: `false` for [`Strategy::Block`], and for the
    /// adaptive strategies when the worker may use only one CPU (its thread's CPU set and
    /// cgroup quota, as `std::thread::available_parallelism` reads them at spawn).
    pub may_spin: bool,
}
