//! A dedicated worker thread that owns a state and runs synchronous calls on it for async code.
//!
//! ```
//! use handoff_bench::worker::{CallError, Worker};
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
//! Runtime-agnostic: the futures use only the `Waker` they are polled with (plus `async-io`'s
//! timer for deadlines). Modules, one job each:
//!
//! - `handle`: [`Builder`] and [`Worker`], which queue calls and close the worker;
//! - `future`: [`CallFuture`] and [`CloseFuture`], what callers await;
//! - `job`: one call's closure, deadline and reply slot in one allocation, and
//!   [`CallContext`];
//! - `slot`: the lock-free reply slot and its start/cancel protocol (loom-checked);
//! - `thread`: the worker thread's loop, draining, waiting and shutdown;
//! - `strategy`: [`Strategy`] and the adaptive spin policy;
//! - `stats`, `error`, `sync`: counters, error types, the std/loom shim.

mod error;
mod future;
mod handle;
mod job;
mod slot;
mod stats;
mod strategy;
mod sync;
mod thread;

pub use error::{CallError, CloseError};
pub use future::{CallFuture, CloseFuture};
pub use handle::{Builder, Worker};
pub use job::CallContext;
pub use stats::Stats;
pub use strategy::Strategy;
