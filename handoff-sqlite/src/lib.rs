//! An async SQLite connection: a `rusqlite::Connection` on a thread of its own, called from
//! any async runtime (tokio, async-std, smol, `futures::executor`).
//!
//! Its API is tokio-rusqlite's (0.8), so switching is a short diff: the crate name in
//! `Cargo.toml` and in `use` lines; `Connection::open`, `open_in_memory`,
//! `open_with_flags`, `call`, `call_unwrap` and `close` read the same, and rusqlite is
//! re-exported (`handoff_sqlite::params`, `handoff_sqlite::rusqlite`). What it adds:
//!
//! - **A panic in a call is an error, not the end of the connection**
//!   ([`Error::Panicked`]; with tokio-rusqlite the thread dies, and every later call gets
//!   `ConnectionClosed`).
//! - **A call whose caller gave up is skipped**: dropping the future (a timeout, a
//!   cancelled request) before the call starts means it never runs.
//! - **Any runtime**: no tokio in its dependencies.
//! - **The worker of `handoff-worker`**: a call answered with no wake-up when calls come
//!   back to back, and no more CPU than a blocking thread when they are sparse.
//!
//! ```
//! use handoff_sqlite::{params, Connection, Result};
//!
//! # futures::executor::block_on(async {
//! let conn = Connection::open_in_memory().await?;
//! conn.call(|conn| {
//!     conn.execute_batch("CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")?;
//!     conn.execute("INSERT INTO person (name) VALUES (?1)", params!["Steven"])?;
//!     Ok(())
//! })
//! .await?;
//! let name: String = conn
//!     .call(|conn| conn.query_row("SELECT name FROM person WHERE id = 1", [], |row| row.get(0)))
//!     .await?;
//! assert_eq!(name, "Steven");
//!
//! // A panic is an error; the connection and its table live on.
//! let panicked = conn.call(|_| -> Result<()> { panic!("bug in a query") }).await;
//! assert!(matches!(panicked, Err(handoff_sqlite::Error::Panicked(m)) if m == "bug in a query"));
//! let count: i64 = conn
//!     .call(|conn| conn.query_row("SELECT count(*) FROM person", [], |row| row.get(0)))
//!     .await?;
//! assert_eq!(count, 1);
//!
//! conn.close().await?;
//! # Ok::<(), handoff_sqlite::Error>(())
//! # }).unwrap();
//! ```
//!
//! # Features
//!
//! - `bundled` (default): SQLite compiled in, rusqlite's `bundled`. Without it the system's
//!   libsqlite3 is linked.

#![deny(missing_docs)]

mod call;
mod connection;
mod error;

pub use call::Call;
pub use connection::Connection;
pub use error::{Error, Result};
/// The worker's settings, for [`Connection::open_with`] (`Builder::new().strategy(..)`).
pub use handoff_worker::{Builder, Strategy};
/// rusqlite, re-exported: `handoff_sqlite::params!`, `OpenFlags`, `OptionalExtension`, ...
/// (this crate's `Connection`, `Error` and `Result` take precedence over rusqlite's).
pub use rusqlite::{self, *};

/// The README's examples, run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;
