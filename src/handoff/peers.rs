//! The real SQLite crates people use, through their public APIs, each on a
//! `rusqlite::Connection` of its own: `tokio-rusqlite` 0.8 (`Connection::call`),
//! `async-sqlite` 0.6 (`Client::conn`, and its `Pool` of several clients),
//! `deadpool-sqlite` 0.14 (`Pool::get` + `Object::interact`, per call, as a request handler
//! uses it), and this workspace's `handoff-sqlite` (`Connection::call`, tokio-rusqlite's API
//! over the project's worker). All share rusqlite 0.40 (Cargo allows one `libsqlite3-sys`
//! per build).
//!
//! For plain work (`zero`, `spin:NS`, ...) each opens a private in-memory database that the
//! work never touches: the crate's own overhead, beside the imitations in
//! [`super::patterns`]. For SQL work each opens the run's database file and configures every
//! connection like the project's own ([`sql::configure`]).

use crate::work::Perform as _;
use std::future::Future;
use std::num::NonZeroUsize;
use std::path::PathBuf;

use rusqlite::Connection;

use super::Handoff;
use crate::measure::{self, Role};
use crate::runtime::Runtime;
use crate::work::{Work, Workload, sql};

/// What every peer runs on its connection's thread: mark the thread as a worker, then work.
fn peer_job(work: Work, connection: &Connection, input: u64) -> u64 {
    measure::register(Role::Worker);
    work.run_on(connection, input)
}

/// How many connections the multi-connection peers hold: `async-sqlite`'s `Pool` default
/// (the machine's parallelism), which `dedicated-pool` matches with workers.
pub fn pool_size() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// `tokio-rusqlite`: one thread per connection, an unbounded crossbeam queue, a tokio oneshot
/// reply. Nothing in it needs tokio's runtime, so it runs on every runtime here.
#[derive(Debug)]
pub struct TokioRusqlite {
    work: Work,
    connection: tokio_rusqlite::Connection,
}

impl TokioRusqlite {
    /// Opens the connection (the crate starts its thread) and configures it.
    pub async fn open(workload: &Workload) -> Self {
        let connection = tokio_rusqlite::Connection::open(workload.connection_target())
            .await
            .expect("tokio-rusqlite opened its connection");
        connection
            .call(|connection| sql::configure(connection))
            .await
            .expect("tokio-rusqlite configured its connection");
        Self {
            work: workload.work(),
            connection,
        }
    }
}

impl Handoff for TokioRusqlite {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + '_ {
        let work = self.work;
        async move {
            self.connection
                .call(move |connection| Ok::<_, rusqlite::Error>(peer_job(work, connection, input)))
                .await
                .expect("tokio-rusqlite answered")
        }
    }
}

/// `handoff-sqlite`: the project's worker holding the connection, behind tokio-rusqlite's
/// API; runtime-agnostic.
#[derive(Debug)]
pub struct HandoffSqlite {
    work: Work,
    connection: handoff_sqlite::Connection,
}

/// The calls whose callers `handoff-sqlite-batched` wakes together: with SQLite writes of
/// 12-14 us at 64 in flight, 2 left the executor's wake-ups per call where they were, 4
/// halved them (the guide's "Waiting strategies" page).
pub const WAKE_BATCH: NonZeroUsize = NonZeroUsize::new(4).expect("4 is not zero");

impl HandoffSqlite {
    /// Opens the connection on a worker spawned from `worker` (the crate starts its thread)
    /// and configures it.
    pub async fn open(workload: &Workload, worker: handoff_worker::Builder) -> Self {
        let target = workload.connection_target();
        let connection = handoff_sqlite::Connection::open_with(worker, move || {
            rusqlite::Connection::open(target)
        })
        .await
        .expect("handoff-sqlite opened its connection");
        connection
            .call(|connection| sql::configure(connection))
            .await
            .expect("handoff-sqlite configured its connection");
        Self {
            work: workload.work(),
            connection,
        }
    }
}

impl Handoff for HandoffSqlite {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + '_ {
        let work = self.work;
        let answer = self
            .connection
            .call(move |connection| Ok::<_, rusqlite::Error>(peer_job(work, connection, input)));
        async move { answer.await.expect("handoff-sqlite answered") }
    }
}

/// `async-sqlite`'s `Client`: one thread per connection, a crossbeam queue, a futures
/// oneshot reply; runtime-agnostic.
pub struct AsyncSqlite {
    work: Work,
    client: async_sqlite::Client,
}

impl AsyncSqlite {
    /// Opens the client's connection and configures it.
    pub async fn open(workload: &Workload) -> Self {
        let client = async_sqlite::ClientBuilder::new()
            .path(workload.connection_target())
            .open()
            .await
            .expect("async-sqlite opened its client");
        client
            .conn(sql::configure)
            .await
            .expect("async-sqlite configured its connection");
        Self {
            work: workload.work(),
            client,
        }
    }
}

// The crate's types have no `Debug`.
impl std::fmt::Debug for AsyncSqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncSqlite")
            .field("work", &self.work)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for AsyncSqlitePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncSqlitePool")
            .field("work", &self.work)
            .finish_non_exhaustive()
    }
}

impl Handoff for AsyncSqlite {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + '_ {
        let work = self.work;
        async move {
            self.client
                .conn(move |connection| Ok(peer_job(work, connection, input)))
                .await
                .expect("async-sqlite answered")
        }
    }
}

/// `async-sqlite`'s `Pool`: [`pool_size`] clients, calls dealt round-robin.
pub struct AsyncSqlitePool {
    work: Work,
    pool: async_sqlite::Pool,
}

impl AsyncSqlitePool {
    /// Opens the pool's clients and configures every connection.
    pub async fn open(workload: &Workload) -> Self {
        let builder = async_sqlite::PoolBuilder::new().num_conns(pool_size());
        // The crate refuses several connections to one anonymous in-memory database; plain
        // work gets a named shared one, which it never touches either.
        let builder = match workload.database_path() {
            Some(path) => builder.path(path),
            None => builder.shared_memory(format!("handoff-bench-{}", std::process::id())),
        };
        let pool = builder.open().await.expect("async-sqlite opened its pool");
        for configured in pool.conn_for_each(sql::configure).await {
            configured.expect("async-sqlite configured a pool connection");
        }
        Self {
            work: workload.work(),
            pool,
        }
    }
}

impl Handoff for AsyncSqlitePool {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + '_ {
        let work = self.work;
        async move {
            self.pool
                .conn(move |connection| Ok(peer_job(work, connection, input)))
                .await
                .expect("async-sqlite's pool answered")
        }
    }
}

/// `deadpool-sqlite`: a pool of connections behind mutexes; every call takes one from the
/// pool (`get`) and runs on the runtime's blocking pool (`interact`), as a request handler
/// does. Runs on tokio and async-std, the runtimes deadpool supports.
#[derive(Debug)]
pub struct DeadpoolSqlite {
    work: Work,
    pool: deadpool_sqlite::Pool,
}

impl DeadpoolSqlite {
    /// Whether deadpool runs on `runtime`.
    pub fn supports(runtime: Runtime) -> bool {
        Self::pool_runtime(runtime).is_some()
    }

    fn pool_runtime(runtime: Runtime) -> Option<deadpool_sqlite::Runtime> {
        match runtime {
            Runtime::TokioCurrent | Runtime::TokioMulti => Some(deadpool_sqlite::Runtime::Tokio1),
            // Deprecated in deadpool (async-std itself is discontinued), still supported; the
            // benchmark measures async-std, so deadpool runs on it too.
            #[allow(deprecated)]
            Runtime::AsyncStd => Some(deadpool_sqlite::Runtime::AsyncStd1),
            Runtime::Smol => None,
        }
    }

    /// Builds the pool (its default size) with every new connection configured, and opens
    /// one connection before the run.
    ///
    /// # Panics
    /// On a runtime deadpool does not support ([`Self::supports`]).
    pub async fn open(workload: &Workload, runtime: Runtime) -> Self {
        let pool_runtime = Self::pool_runtime(runtime).expect("deadpool supports the runtime");
        let target: PathBuf = workload.connection_target();
        let pool = deadpool_sqlite::Config::new(target)
            .builder(pool_runtime)
            .expect("deadpool-sqlite's configuration")
            .post_create(deadpool_sqlite::Hook::async_fn(|object, _| {
                Box::pin(async move {
                    object
                        .interact(|connection| sql::configure(connection))
                        .await
                        .map_err(|error| deadpool_sqlite::HookError::message(error.to_string()))?
                        .map_err(deadpool_sqlite::HookError::Backend)
                })
            }))
            .build()
            .expect("deadpool-sqlite built its pool");
        drop(
            pool.get()
                .await
                .expect("deadpool-sqlite opened a connection"),
        );
        Self {
            work: workload.work(),
            pool,
        }
    }
}

impl Handoff for DeadpoolSqlite {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + '_ {
        let work = self.work;
        async move {
            let connection = self
                .pool
                .get()
                .await
                .expect("deadpool-sqlite lent a connection");
            connection
                .interact(move |connection| peer_job(work, connection, input))
                .await
                .expect("deadpool-sqlite answered")
        }
    }
}
