//! [`Call`]: the future of [`Connection::call`](crate::Connection::call).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use handoff_worker::{CallError, CallFuture};

use crate::Error;

/// What a call's closure returns on the connection's thread: its result, or nothing when the
/// connection had been closed by then.
pub(crate) type Reply<R, E> = Option<std::result::Result<R, E>>;

/// The answer of one call: its value, its own error, or why it did not run.
///
/// The call is queued when it is made; dropping this future before the connection's thread
/// starts it skips it (it never runs).
#[must_use = "the call is skipped when its future is dropped before it runs"]
pub struct Call<R, E> {
    inner: CallFuture<Reply<R, E>>,
}

impl<R, E> Call<R, E> {
    pub(crate) fn new(inner: CallFuture<Reply<R, E>>) -> Self {
        Self { inner }
    }
}

impl<R, E> Future for Call<R, E> {
    type Output = std::result::Result<R, Error<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.inner).poll(cx).map(answer)
    }
}

/// The worker's answer as this crate's.
pub(crate) fn answer<R, E>(
    reply: std::result::Result<Reply<R, E>, CallError>,
) -> std::result::Result<R, Error<E>> {
    match reply {
        Ok(Some(result)) => result.map_err(Error::Error),
        Ok(None) => Err(Error::ConnectionClosed),
        Err(CallError::Panicked(message)) => Err(Error::Panicked(message)),
        // Closed, or (unreachable here: no deadline, and the open is checked) a deadline or
        // a panicking open: the call did not run.
        Err(_) => Err(Error::ConnectionClosed),
    }
}

impl<R, E> fmt::Debug for Call<R, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Call").field(&self.inner).finish()
    }
}
