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
//! - **Nothing blocks an executor thread**: queueing a call never blocks (a full
//!   [bounded](Builder::bounded) queue makes the future wait), and [`Worker::close`]
//!   resolves when the thread has done its last work, without joining it inside `poll`.
//! - **Fast when it matters, idle when not**: the default [`Strategy::Adaptive`] spins
//!   briefly for back-to-back calls (no wake-up: a sequential call costs well below one
//!   park round trip) and parks when calls are sparse; it measures what a park costs on
//!   the machine it runs on and never spins without a spare CPU. Its callers spin a few
//!   microseconds for a short call's reply while that catches it, so the executor does not
//!   go to sleep for a reply that is a few hundred nanoseconds away.
//!
//! # Modules
//!
//! - `handle`: [`Builder`] and [`Worker`], which queue calls and close the worker;
//! - `spawn`: [`Builder::try_spawn`]'s fallible start, [`SpawnFuture`];
//! - `future`: [`CallFuture`], [`TryCallFuture`] and [`CloseFuture`], what callers await;
//! - `job`: one call's closure, deadline and reply slot in one allocation, and
//!   [`CallContext`];
//! - `slot`: the lock-free reply slot and its start/cancel protocol (loom-checked);
//! - `thread`: the worker thread's loop, draining, waiting and shutdown;
//! - `strategy`, `adaptive`, `machine`: [`Strategy`], the adaptive spin policy, and what it
//!   learns about the machine (park cost, spare CPUs);
//! - `caller_spin`: the caller side's waiting (the adaptive caller spin,
//!   [`Builder::busy_poll`]);
//! - `capacity`: the bounded queue's permits (feature `bounded`);
//! - `hooks`: [`WaitHooks`], for tools that must see or reshape the worker's waits;
//! - `stats`, `error`, `sync`: counters, error types, the std/loom shim.
//!
//! # Features
//!
//! - `bounded`: [`Builder::bounded`], a queue with a capacity (pulls in `async-lock` for
//!   its asynchronous semaphore).

#![deny(missing_docs)]

mod adaptive;
mod caller_spin;
mod capacity;
mod error;
mod future;
mod handle;
mod hooks;
mod job;
mod machine;
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

pub use adaptive::{AdaptiveTuning, adaptive_tuning};
pub use error::{CallError, CloseError, SpawnError};
pub use future::{CallFuture, CloseFuture, TryCallFuture};
pub use handle::{Builder, MAX_BUSY_POLL, Worker};
pub use hooks::WaitHooks;
pub use job::CallContext;
pub use spawn::SpawnFuture;
pub use stats::Stats;
pub use strategy::Strategy;
