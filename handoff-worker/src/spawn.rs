//! [`SpawnFuture`]: what [`Builder::try_spawn`](crate::Builder::try_spawn) returns, the worker
//! once its fallible init has run on the worker thread.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::error::SpawnError;
use crate::handle::Worker;
use crate::slot::Slot;

/// Where the worker thread reports how init went.
pub(crate) type InitReport<E> = Arc<Slot<Result<(), SpawnError<E>>>>;

/// Resolves to the [`Worker`] when its init succeeded on the worker thread, else to why not.
///
/// Dropping it before then is fine: the thread finishes init, finds no handle, runs no
/// calls and drops the state.
#[must_use = "the worker is only handed out through this future"]
pub struct SpawnFuture<T, E> {
    /// `None` once resolved.
    worker: Option<Worker<T>>,
    /// Init's outcome, completed by the worker thread.
    outcome: Option<InitReport<E>>,
    /// The thread could not even be started.
    early: Option<SpawnError<E>>,
}

impl<T, E> SpawnFuture<T, E> {
    pub(crate) fn new(worker: Worker<T>, outcome: InitReport<E>) -> Self {
        Self {
            worker: Some(worker),
            outcome: Some(outcome),
            early: None,
        }
    }

    pub(crate) fn failed(error: SpawnError<E>) -> Self {
        Self {
            worker: None,
            outcome: None,
            early: Some(error),
        }
    }
}

// The fields are only ever moved out whole, never pinned, so the future can move whatever
// `E` is.
impl<T, E> Unpin for SpawnFuture<T, E> {}

impl<T, E> Future for SpawnFuture<T, E> {
    type Output = Result<Worker<T>, SpawnError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some(error) = this.early.take() {
            return Poll::Ready(Err(error));
        }
        let Some(outcome) = &this.outcome else {
            panic!("SpawnFuture polled after it resolved");
        };
        // SAFETY: this future is the slot's single receiver; it drops the slot on `Ready`.
        let Poll::Ready(reply) = (unsafe { outcome.poll_take(cx) }) else {
            return Poll::Pending;
        };
        this.outcome = None;
        let worker = this.worker.take();
        Poll::Ready(match (reply, worker) {
            (Some(Ok(())), Some(worker)) => Ok(worker),
            (Some(Err(error)), _) => Err(error),
            // The init closure was dropped unrun, which only a thread that never started
            // does; `failed` covers that, so this is unreachable. Answer rather than panic.
            _ => Err(SpawnError::InitPanicked(
                "the worker thread ended before its init ran".into(),
            )),
        })
    }
}

impl<T, E> fmt::Debug for SpawnFuture<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnFuture")
            .field(
                "resolved",
                &(self.outcome.is_none() && self.early.is_none()),
            )
            .finish_non_exhaustive()
    }
}
