//! An SQLite connection on its own thread, called from a tokio application: the connection
//! is opened on the worker thread, every call runs there, a panic in one is an error, and a
//! request that times out skips its query if it has not started.
//!
//! `cargo run -p handoff-worker --example sqlite`

use std::time::Duration;

use handoff_worker::{Builder, CallError, CloseError, SpawnError, Worker};
use rusqlite::{Connection, params};

/// What `main` reports if something fails (printed with `Debug`).
#[derive(Debug)]
#[allow(dead_code)] // The fields are read by `Debug`, which the lint does not count.
enum DbError {
    Sqlite(rusqlite::Error),
    Worker(CallError),
    Open(String),
    Close(CloseError),
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

impl From<CallError> for DbError {
    fn from(e: CallError) -> Self {
        Self::Worker(e)
    }
}

async fn open() -> Result<Worker<Connection>, DbError> {
    Builder::new()
        .name("sqlite")
        .try_spawn(|| {
            let conn = Connection::open_in_memory()?;
            conn.execute_batch(
                "CREATE TABLE visits (page TEXT PRIMARY KEY, count INTEGER NOT NULL)",
            )?;
            Ok(conn)
        })
        .await
        .map_err(|error| match error {
            SpawnError::Init(e) => DbError::Sqlite(e),
            other => DbError::Open(other.to_string()),
        })
}

async fn visit(db: &Worker<Connection>, page: &'static str) -> Result<i64, DbError> {
    db.try_call(move |conn| {
        conn.prepare_cached(
            "INSERT INTO visits VALUES (?1, 1)
             ON CONFLICT (page) DO UPDATE SET count = count + 1",
        )?
        .execute(params![page])?;
        let count = conn
            .prepare_cached("SELECT count FROM visits WHERE page = ?1")?
            .query_row(params![page], |row| row.get(0))?;
        Ok(count)
    })
    .await
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), DbError> {
    let db = open().await?;
    for _ in 0..3 {
        visit(&db, "/").await?;
    }
    println!("/ visited {} times", visit(&db, "/").await?);

    // A bug in a query is an error; the connection and its table live on.
    let bug = db.call(|_| -> i64 { panic!("a bug in a query") }).await;
    println!("a panicking query: {bug:?}");

    // A request that gives up: the query queued behind a slow one never runs.
    let slow = db.call(|_| std::thread::sleep(Duration::from_millis(50)));
    let gave_up = tokio::time::timeout(Duration::from_millis(10), visit(&db, "/late")).await;
    slow.await?;
    println!("a request that timed out: {gave_up:?}");
    let late: Option<i64> = db
        .try_call(|conn| -> Result<_, DbError> {
            use rusqlite::OptionalExtension;
            Ok(conn
                .query_row("SELECT count FROM visits WHERE page = '/late'", [], |r| {
                    r.get(0)
                })
                .optional()?)
        })
        .await?;
    assert_eq!(late, None, "the abandoned query never ran");

    let conn = db.close().await.map_err(DbError::Close)?;
    println!(
        "closed; the connection is back: autocommit {}",
        conn.is_autocommit()
    );
    Ok(())
}
