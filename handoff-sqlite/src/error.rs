//! [`Error`]: what a call or a close reports instead of a value.

use std::fmt;

use crate::Connection;

/// Why a call or a close produced no value. The variants of tokio-rusqlite's `Error`, and
/// one more: a call that panicked (the connection lives on).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error<E = rusqlite::Error> {
    /// The connection was closed (by [`Connection::close`] on any handle) before the call
    /// ran; the call did not run.
    ConnectionClosed,
    /// SQLite refused to close the connection (statements still open, for instance): the
    /// handle, to retry with, and SQLite's error.
    Close((Connection, rusqlite::Error)),
    /// The call's own error.
    Error(E),
    /// The call panicked on the connection's thread; the message is the panic's. The
    /// connection and everything in it live on.
    Panicked(String),
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ConnectionClosed => f.write_str("the connection is closed"),
            Self::Close((_, error)) => write!(f, "SQLite refused to close the connection: {error}"),
            Self::Error(error) => error.fmt(f),
            Self::Panicked(message) => {
                write!(f, "the call panicked on the connection's thread: {message}")
            }
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Error<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Close((_, error)) => Some(error),
            Self::Error(error) => Some(error),
            Self::ConnectionClosed | Self::Panicked(_) => None,
        }
    }
}

/// So that `?` on a rusqlite result works inside a call whose error type is [`Error`].
impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        Self::Error(error)
    }
}

/// What calls and closes return, with rusqlite's error: `Result<T, Error>`.
pub type Result<T> = std::result::Result<T, Error>;
