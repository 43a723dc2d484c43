//! [`Connection`]: a `rusqlite::Connection` on a thread of its own, and the calls made on it.

use std::fmt;
use std::path::Path;

use handoff_worker::{Builder, CallError, SpawnError, Worker};
use rusqlite::OpenFlags;

use crate::call::{Call, Reply};
use crate::{Error, Result};

/// What the connection's thread holds: the connection, until a close takes it.
type Slot = Option<rusqlite::Connection>;

/// A handle to an SQLite connection that lives on a thread of its own.
///
/// Cheap to clone (all clones share the connection and its thread), `Send + Sync`, usable
/// from any async runtime. Calls run one at a time, in the order they are made; a call
/// whose caller drops its future before it starts is skipped; a call that panics is
/// reported as [`Error::Panicked`], and the connection lives on. The thread ends, and the
/// connection is closed, after [`Connection::close`] or when the last handle is dropped.
#[derive(Clone)]
pub struct Connection {
    worker: Worker<Slot>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("closed", &self.worker.is_closed())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Opens the database at `path` (created if missing), read-write, on a new thread.
    ///
    /// # Errors
    ///
    /// SQLite's, if it cannot open the file (or `path` is not a valid C string); an
    /// `SQLITE_ERROR` [`rusqlite::Error::SqliteFailure`] naming the reason if the operating
    /// system refuses to start the thread.
    pub async fn open<P: AsRef<Path>>(path: P) -> rusqlite::Result<Self> {
        let path = path.as_ref().to_owned();
        Self::open_with(Builder::new(), move || rusqlite::Connection::open(path)).await
    }

    /// Opens a new in-memory database on a new thread.
    ///
    /// # Errors
    ///
    /// As [`Connection::open`].
    pub async fn open_in_memory() -> rusqlite::Result<Self> {
        Self::open_with(Builder::new(), rusqlite::Connection::open_in_memory).await
    }

    /// Opens the database at `path` with `flags` (see SQLite's `sqlite3_open_v2`).
    ///
    /// # Errors
    ///
    /// As [`Connection::open`].
    pub async fn open_with_flags<P: AsRef<Path>>(
        path: P,
        flags: OpenFlags,
    ) -> rusqlite::Result<Self> {
        let path = path.as_ref().to_owned();
        Self::open_with(Builder::new(), move || {
            rusqlite::Connection::open_with_flags(path, flags)
        })
        .await
    }

    /// Opens a new in-memory database with `flags`.
    ///
    /// # Errors
    ///
    /// As [`Connection::open`].
    pub async fn open_in_memory_with_flags(flags: OpenFlags) -> rusqlite::Result<Self> {
        Self::open_with(Builder::new(), move || {
            rusqlite::Connection::open_in_memory_with_flags(flags)
        })
        .await
    }

    /// Runs `open` on a new thread configured by `worker` (a thread name, a waiting
    /// strategy such as `Strategy::LowLatency`, a bounded queue) and keeps the connection it
    /// returns there. The other opens are this with `Builder::new()`.
    ///
    /// # Errors
    ///
    /// `open`'s error; a panic in `open` or the operating system's refusal to start the
    /// thread as an `SQLITE_ERROR` [`rusqlite::Error::SqliteFailure`] with the reason as its
    /// message.
    pub async fn open_with<F>(worker: Builder, open: F) -> rusqlite::Result<Self>
    where
        F: FnOnce() -> rusqlite::Result<rusqlite::Connection> + Send + 'static,
    {
        match worker.try_spawn(move || open().map(Some)).await {
            Ok(worker) => Ok(Self { worker }),
            Err(SpawnError::Init(error)) => Err(error),
            Err(other) => Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
                Some(other.to_string()),
            )),
        }
    }

    /// Runs `function` on the connection's thread and resolves to what it returned: its
    /// value, or its error as [`Error::Error`] (so `?` on rusqlite's errors works inside,
    /// and `?` on the call's answer works outside, into any error type with
    /// `From<handoff_sqlite::Error<E>>`).
    ///
    /// The call is queued at once, behind every call made before it. Dropping the future
    /// before the call starts skips it.
    ///
    /// # Errors
    ///
    /// [`Error::Error`] with the call's own error, [`Error::Panicked`] if it panicked (the
    /// connection lives on), [`Error::ConnectionClosed`] if the connection was closed before
    /// it ran.
    pub fn call<F, R, E>(&self, function: F) -> Call<R, E>
    where
        F: FnOnce(&mut rusqlite::Connection) -> std::result::Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: Send + 'static,
    {
        Call::new(
            self.worker
                .call(move |slot: &mut Slot| -> Reply<R, E> { slot.as_mut().map(function) }),
        )
    }

    /// Like [`Connection::call`] for a function that cannot fail, and panics if the
    /// connection was closed or the call panicked (tokio-rusqlite's `call_unwrap`).
    ///
    /// # Panics
    ///
    /// If the connection was closed before the call ran, or the call panicked.
    pub async fn call_unwrap<F, R>(&self, function: F) -> R
    where
        F: FnOnce(&mut rusqlite::Connection) -> R + Send + 'static,
        R: Send + 'static,
    {
        let answer = self
            .call(move |conn| Ok::<R, std::convert::Infallible>(function(conn)))
            .await;
        match answer {
            Ok(value) => value,
            Err(Error::Panicked(message)) => panic!("the call panicked: {message}"),
            Err(_) => panic!("the connection is closed"),
        }
    }

    /// Closes the connection once the calls made before run: SQLite's `sqlite3_close` on
    /// the connection's thread, which then ends. Later calls, from any handle, resolve to
    /// [`Error::ConnectionClosed`]; closing a connection that is already closed succeeds.
    ///
    /// # Errors
    ///
    /// [`Error::Close`] if SQLite refuses to close it (a statement is still open, for
    /// instance), with this handle back to retry; the connection stays open and usable.
    /// [`Error::Panicked`] if the close panicked.
    pub async fn close(self) -> Result<()> {
        let closing = self.worker.call(|slot: &mut Slot| match slot.take() {
            None => Ok(()),
            Some(conn) => conn.close().map_err(|(conn, error)| {
                *slot = Some(conn);
                error
            }),
        });
        match closing.await {
            Ok(Ok(())) => {
                // The thread holds nothing now; let it end. A concurrent close got there
                // first if this one is refused, which is as good.
                let _ = self.worker.shutdown().await;
                Ok(())
            }
            Ok(Err(error)) => Err(Error::Close((self, error))),
            Err(CallError::Panicked(message)) => Err(Error::Panicked(message)),
            // Closed by another handle before this close was queued.
            Err(_) => Ok(()),
        }
    }
}

impl From<rusqlite::Connection> for Connection {
    /// Moves an open connection to a new thread of its own.
    ///
    /// # Panics
    ///
    /// If the operating system refuses to start the thread (as `std::thread::spawn` does).
    fn from(conn: rusqlite::Connection) -> Self {
        let worker = Builder::new()
            .spawn(move || Some(conn))
            .expect("start the connection's thread");
        Self { worker }
    }
}
