//! The connection's promises, on every runtime: opening, calls and their errors, a panic
//! that leaves the connection alive, a call skipped because its caller gave up, and close,
//! including a close SQLite refuses.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use futures::FutureExt;
use handoff_sqlite::{Builder, Connection, Error, OpenFlags, Result, Strategy, params};

/// A hang fails the test instead of stalling the run.
const LIMIT: Duration = Duration::from_secs(60);

/// Runs `scenario` on tokio (both flavours), async-std, smol and `futures::executor`.
fn on_every_runtime<F, Fut>(scenario: F)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let scenario = Arc::new(scenario);
    for runtime in [
        "tokio-current",
        "tokio-multi",
        "async-std",
        "smol",
        "futures",
    ] {
        let scenario = scenario.clone();
        let (done_tx, done) = mpsc::channel();
        let runner = std::thread::spawn(move || {
            let fut = scenario();
            match runtime {
                "tokio-current" => tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(fut),
                "tokio-multi" => {
                    let rt = tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(rt.spawn(fut)).unwrap();
                }
                "async-std" => async_std::task::block_on(fut),
                "smol" => smol::block_on(fut),
                _ => futures::executor::block_on(fut),
            }
            let _ = done_tx.send(());
        });
        match done.recv_timeout(LIMIT) {
            Ok(()) => runner.join().unwrap(),
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("hung on {runtime}"),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                eprintln!("failed on {runtime}");
                if let Err(panic) = runner.join() {
                    std::panic::resume_unwind(panic);
                }
            }
        }
    }
}

async fn with_table(conn: &Connection) {
    conn.call(|conn| {
        conn.execute_batch("CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")?;
        conn.execute("INSERT INTO kv VALUES (1, 'one')", [])?;
        Ok::<_, rusqlite::Error>(())
    })
    .await
    .unwrap();
}

async fn count(conn: &Connection) -> i64 {
    conn.call(|conn| conn.query_row("SELECT count(*) FROM kv", [], |row| row.get(0)))
        .await
        .unwrap()
}

#[test]
fn calls_answer_values_and_their_own_errors() {
    on_every_runtime(|| async {
        let conn = Connection::open_in_memory().await.unwrap();
        with_table(&conn).await;
        let v: String = conn
            .call(|conn| conn.query_row("SELECT v FROM kv WHERE k = ?1", params![1], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(v, "one");
        let missing = conn
            .call(|conn| {
                conn.query_row("SELECT v FROM kv WHERE k = 2", [], |r| {
                    r.get::<_, String>(0)
                })
            })
            .await;
        assert!(
            matches!(
                missing,
                Err(Error::Error(rusqlite::Error::QueryReturnedNoRows))
            ),
            "{missing:?}"
        );
        // A call's own error type.
        let custom = conn.call(|_| Err::<(), _>("not today")).await;
        assert!(matches!(custom, Err(Error::Error("not today"))));
    });
}

/// An application's error type, converted into with `?`.
#[derive(Debug)]
enum AppError {
    Db(Error),
}

impl From<Error> for AppError {
    fn from(error: Error) -> Self {
        Self::Db(error)
    }
}

async fn read_one(conn: &Connection) -> std::result::Result<String, AppError> {
    let v = conn
        .call(|conn| conn.query_row("SELECT v FROM kv WHERE k = 1", [], |r| r.get(0)))
        .await?;
    Ok(v)
}

#[test]
fn errors_convert_with_the_question_mark_and_box_as_std_errors() {
    on_every_runtime(|| async {
        let conn = Connection::open_in_memory().await.unwrap();
        with_table(&conn).await;
        assert_eq!(read_one(&conn).await.unwrap(), "one");
        let conn2 = conn.clone();
        conn.close().await.unwrap();
        assert!(matches!(
            read_one(&conn2).await,
            Err(AppError::Db(Error::ConnectionClosed))
        ));
        let boxed: Box<dyn std::error::Error> = Box::new(
            conn2
                .call(|conn| conn.execute("SELECT 1", []))
                .await
                .unwrap_err(),
        );
        assert_eq!(boxed.to_string(), "the connection is closed");
    });
}

#[test]
fn a_panic_in_a_call_is_an_error_and_the_connection_lives_on() {
    on_every_runtime(|| async {
        let conn = Connection::open_in_memory().await.unwrap();
        with_table(&conn).await;
        let panicked = conn
            .call(|_| -> Result<()> { panic!("bug in a query") })
            .await;
        assert!(
            matches!(&panicked, Err(Error::Panicked(m)) if m == "bug in a query"),
            "{panicked:?}"
        );
        assert_eq!(count(&conn).await, 1, "the same connection, with its table");
    });
}

#[test]
fn a_call_whose_caller_gave_up_before_it_started_is_skipped() {
    on_every_runtime(|| async {
        let conn = Connection::open_in_memory().await.unwrap();
        with_table(&conn).await;
        let (started_tx, started) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let busy = conn.call(move |_| {
            started_tx.send(()).unwrap();
            let _ = released.recv_timeout(LIMIT);
            Ok::<_, Error>(())
        });
        started.recv_timeout(LIMIT).unwrap();
        let runs = Arc::new(AtomicUsize::new(0));
        let mut abandoned = {
            let runs = runs.clone();
            conn.call(move |conn| {
                runs.fetch_add(1, Ordering::SeqCst);
                conn.execute("INSERT INTO kv VALUES (2, 'two')", [])
            })
        };
        assert!((&mut abandoned).now_or_never().is_none());
        drop(abandoned);
        release.send(()).unwrap();
        busy.await.unwrap();
        assert_eq!(count(&conn).await, 1);
        assert_eq!(runs.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn open_with_flags_refuses_a_missing_file_read_only_and_opens_it_read_write() {
    on_every_runtime(|| async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        let refused = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).await;
        assert!(
            matches!(&refused, Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::CannotOpen),
            "{refused:?}"
        );
        let conn = Connection::open(&path).await.unwrap();
        with_table(&conn).await;
        conn.close().await.unwrap();
        let again = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .await
            .unwrap();
        assert_eq!(count(&again).await, 1, "the table is in the file");
        let ro = again.call(|conn| conn.execute("DELETE FROM kv", [])).await;
        assert!(matches!(ro, Err(Error::Error(_))), "{ro:?}");
    });
}

#[test]
fn close_waits_for_earlier_calls_and_later_calls_are_refused() {
    on_every_runtime(|| async {
        let conn = Connection::open_in_memory().await.unwrap();
        with_table(&conn).await;
        let other = conn.clone();
        let earlier = conn.call(|conn| conn.execute("INSERT INTO kv VALUES (2, 'two')", []));
        conn.close().await.unwrap();
        assert_eq!(earlier.await.unwrap(), 1);
        let later = other.call(|conn| conn.execute("SELECT 1", [])).await;
        assert!(matches!(later, Err(Error::ConnectionClosed)), "{later:?}");
        // Closing again, from another handle, succeeds.
        other.close().await.unwrap();
    });
}

#[test]
fn a_close_sqlite_refuses_hands_the_connection_back_usable() {
    on_every_runtime(|| async {
        let conn = Connection::open_in_memory().await.unwrap();
        with_table(&conn).await;
        conn.call(|conn| {
            // A statement left open makes sqlite3_close refuse (SQLITE_BUSY).
            let statement = Box::new(conn.prepare("SELECT v FROM kv")?);
            Box::leak(statement);
            Ok::<_, Error>(())
        })
        .await
        .unwrap();
        let Err(Error::Close((conn, error))) = conn.close().await else {
            panic!("SQLite closed a connection with an open statement");
        };
        assert_eq!(
            error.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy)
        );
        assert_eq!(count(&conn).await, 1, "the connection handed back works");
    });
}

#[test]
#[should_panic(expected = "the connection is closed")]
fn call_unwrap_panics_on_a_closed_connection() {
    futures::executor::block_on(async {
        let conn = Connection::open_in_memory().await.unwrap();
        let other = conn.clone();
        assert!(other.call_unwrap(|conn| conn.is_autocommit()).await);
        conn.close().await.unwrap();
        other.call_unwrap(|conn| conn.is_autocommit()).await;
    });
}

#[test]
fn an_open_connection_moves_to_a_thread_and_a_worker_can_be_configured() {
    on_every_runtime(|| async {
        let moved = Connection::from(rusqlite::Connection::open_in_memory().unwrap());
        with_table(&moved).await;
        assert_eq!(count(&moved).await, 1);
        let tuned = Connection::open_with(
            Builder::new().name("db").strategy(Strategy::LowLatency),
            rusqlite::Connection::open_in_memory,
        )
        .await
        .unwrap();
        let name = tuned
            .call(|_| Ok::<_, Error>(std::thread::current().name().map(str::to_owned)))
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("db"));
    });
}
