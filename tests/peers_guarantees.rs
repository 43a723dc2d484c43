//! What the real SQLite peers do when a call panics, when its caller gives up before or
//! while it runs, at a caller-side deadline, at close, and with a full queue: each cell of
//! the guarantees table (`docs/book/src/worker/guarantees.md`), tested against the crate
//! itself, beside the project's worker wrapping a `rusqlite::Connection` and `handoff-sqlite`
//! (the same worker behind tokio-rusqlite's API). All on tokio current_thread, which
//! every peer supports.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use futures::FutureExt;

/// A hang fails the test instead of stalling the run.
const LIMIT: Duration = Duration::from_secs(30);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A closure that keeps a worker busy: it says when it started and returns when released.
struct Gate {
    started: mpsc::Receiver<()>,
    release: mpsc::Sender<()>,
}

fn gate() -> (Gate, impl FnOnce() + Send + 'static) {
    let (started_tx, started) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let hold = move || {
        let _ = started_tx.send(());
        let _ = release_rx.recv_timeout(LIMIT);
    };
    (Gate { started, release }, hold)
}

impl Gate {
    fn wait_started(&self) {
        self.started
            .recv_timeout(LIMIT)
            .expect("the gate call started");
    }
    fn open(&self) {
        let _ = self.release.send(());
    }
}

/// Counts the runs of the calls that should not run.
fn counter() -> (Arc<AtomicUsize>, impl Fn() -> usize) {
    let runs = Arc::new(AtomicUsize::new(0));
    let read = {
        let runs = runs.clone();
        move || runs.load(Ordering::SeqCst)
    };
    (runs, read)
}

/// One peer as the shared scenarios see it: a call of `f` on its connection's thread, as a
/// `'static` future that fails the test if the peer reports an error.
trait Peer {
    fn run(&self, f: impl FnOnce() + Send + 'static) -> BoxedCall;
}

type BoxedCall = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Keeps the peer's thread busy with a gate call; returns the gate and the running call.
async fn occupy(peer: &impl Peer) -> (Gate, tokio::task::JoinHandle<()>) {
    let (gate, hold) = gate();
    let busy = tokio::spawn(peer.run(hold));
    tokio::task::yield_now().await;
    gate.wait_started();
    (gate, busy)
}

/// A call queued behind a busy thread (polled once), then dropped: how often it ran.
async fn runs_of_a_call_dropped_before_it_starts(peer: &impl Peer) -> usize {
    (dropped_before_it_starts(peer).await)()
}

/// Whether a call dropped before it started runs after all, waited for (at most [`LIMIT`]):
/// a peer that serialises calls on a lock rather than a queue (deadpool's `interact`) may run
/// it after the call that follows it.
async fn a_call_dropped_before_it_starts_runs(peer: &impl Peer) -> bool {
    runs_once_eventually(dropped_before_it_starts(peer).await).await
}

/// A call made while the peer is busy and dropped before it started, then the peer freed and
/// called once more: how often the dropped call has run, as a function to ask it later.
async fn dropped_before_it_starts(peer: &impl Peer) -> impl Fn() -> usize {
    let (gate, busy) = occupy(peer).await;
    let (runs, ran) = counter();
    let mut call = peer.run(move || {
        runs.fetch_add(1, Ordering::SeqCst);
    });
    assert!((&mut call).now_or_never().is_none());
    drop(call);
    gate.open();
    busy.await.unwrap();
    peer.run(|| ()).await;
    ran
}

/// A call behind a busy thread under `tokio::time::timeout`: how often it ran after the
/// caller gave up.
async fn runs_of_a_call_that_timed_out(peer: &impl Peer) -> usize {
    (timed_out_call(peer).await)()
}

/// Whether a call whose caller timed out runs after all, waited for (at most [`LIMIT`]): a
/// peer that serialises calls on a lock rather than a queue (deadpool's `interact`) may run
/// it after the call that follows it.
async fn a_call_that_timed_out_runs(peer: &impl Peer) -> bool {
    runs_once_eventually(timed_out_call(peer).await).await
}

/// Whether `ran` reaches exactly one run within [`LIMIT`].
async fn runs_once_eventually(ran: impl Fn() -> usize) -> bool {
    let deadline = std::time::Instant::now() + LIMIT;
    while ran() == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    ran() == 1
}

/// A call made while the peer is busy, given up after 10 ms, then the peer freed and called
/// once more: how often the given-up call has run, as a function to ask it later.
async fn timed_out_call(peer: &impl Peer) -> impl Fn() -> usize {
    let (gate, busy) = occupy(peer).await;
    let (runs, ran) = counter();
    let late = tokio::time::timeout(
        Duration::from_millis(10),
        peer.run(move || {
            runs.fetch_add(1, Ordering::SeqCst);
        }),
    )
    .await;
    assert!(late.is_err(), "answered behind the gate");
    gate.open();
    busy.await.unwrap();
    peer.run(|| ()).await;
    ran
}

/// A call whose caller leaves while it runs: whether it ran to the end.
async fn finished_after_the_caller_left_mid_call(peer: &impl Peer) -> usize {
    let (started, left, finished, call) = mid_call_probe();
    let mut running = peer.run(call);
    assert!((&mut running).now_or_never().is_none());
    started.recv_timeout(LIMIT).unwrap();
    drop(running);
    left.send(()).unwrap();
    peer.run(|| ()).await;
    finished.load(Ordering::SeqCst)
}

/// A call that says when it started, waits for the caller to say it left, then records that
/// it ran to the end.
fn mid_call_probe() -> (
    mpsc::Receiver<()>,
    mpsc::Sender<()>,
    Arc<AtomicUsize>,
    impl FnOnce() + Send + 'static,
) {
    let (started_tx, started) = mpsc::channel();
    let (left, left_rx) = mpsc::channel::<()>();
    let finished = Arc::new(AtomicUsize::new(0));
    let done = finished.clone();
    let call = move || {
        let _ = started_tx.send(());
        let _ = left_rx.recv_timeout(LIMIT);
        done.fetch_add(1, Ordering::SeqCst);
    };
    (started, left, finished, call)
}

mod tokio_rusqlite_peer {
    use super::*;
    use tokio_rusqlite::{Connection, Error};

    impl Peer for Connection {
        fn run(&self, f: impl FnOnce() + Send + 'static) -> BoxedCall {
            let conn = self.clone();
            Box::pin(async move { conn.call_raw(move |_| f()).await.unwrap() })
        }
    }

    #[test]
    fn a_panic_in_a_call_kills_the_connection() {
        runtime().block_on(async {
            let conn = Connection::open_in_memory().await.unwrap();
            let panicked = conn.call_raw(|_| -> u8 { panic!("query bug") }).await;
            assert!(
                matches!(panicked, Err(Error::ConnectionClosed)),
                "{panicked:?}"
            );
            let after = conn.call_raw(|_| 1_u8).await;
            assert!(matches!(after, Err(Error::ConnectionClosed)), "{after:?}");
        });
    }

    #[test]
    fn a_call_dropped_before_it_starts_still_runs() {
        runtime().block_on(async {
            let peer = Connection::open_in_memory().await.unwrap();
            assert_eq!(
                runs_of_a_call_dropped_before_it_starts(&peer).await,
                1,
                "the abandoned call was skipped"
            );
        });
    }

    #[test]
    fn a_timeout_gives_up_waiting_and_the_call_runs_anyway() {
        runtime().block_on(async {
            let peer = Connection::open_in_memory().await.unwrap();
            assert!(a_call_that_timed_out_runs(&peer).await);
        });
    }

    #[test]
    fn close_runs_the_calls_queued_before_it_then_refuses() {
        runtime().block_on(async {
            let conn = Connection::open_in_memory().await.unwrap();
            let (runs, ran) = counter();
            let queued: Vec<_> = (0..10)
                .map(|_| {
                    let runs = runs.clone();
                    let conn = conn.clone();
                    tokio::spawn(async move {
                        conn.call_raw(move |_| {
                            runs.fetch_add(1, Ordering::SeqCst);
                        })
                        .await
                    })
                })
                .collect();
            tokio::task::yield_now().await;
            conn.clone().close().await.unwrap();
            for call in queued {
                call.await.unwrap().unwrap();
            }
            assert_eq!(ran(), 10);
            let after = conn.call_raw(|_| ()).await;
            assert!(matches!(after, Err(Error::ConnectionClosed)), "{after:?}");
        });
    }
}

mod tokio_rusqlite_extra {
    use super::*;
    use tokio_rusqlite::Connection;

    #[test]
    fn a_call_dropped_while_it_runs_runs_to_the_end() {
        runtime().block_on(async {
            let peer = Connection::open_in_memory().await.unwrap();
            assert_eq!(finished_after_the_caller_left_mid_call(&peer).await, 1);
        });
    }

    #[test]
    fn the_queue_is_unbounded_it_never_refuses_nor_waits() {
        runtime().block_on(async {
            let conn = Connection::open_in_memory().await.unwrap();
            let (gate, hold) = gate();
            let busy = tokio::spawn({
                let conn = conn.clone();
                async move { conn.call_raw(move |_| hold()).await }
            });
            tokio::task::yield_now().await;
            gate.wait_started();
            let mut queued: Vec<_> = (0..10_000_u32)
                .map(|i| Box::pin(conn.call_raw(move |_| i)))
                .collect();
            for call in &mut queued {
                assert!(call.now_or_never().is_none());
            }
            gate.open();
            busy.await.unwrap().unwrap();
            for (i, call) in queued.into_iter().enumerate() {
                assert_eq!(call.await.unwrap(), u32::try_from(i).unwrap());
            }
        });
    }
}

mod async_sqlite_peer {
    use super::*;
    use async_sqlite::{Client, ClientBuilder, Error};

    impl Peer for Client {
        fn run(&self, f: impl FnOnce() + Send + 'static) -> BoxedCall {
            let client = self.clone();
            Box::pin(async move {
                client
                    .conn(move |_| {
                        f();
                        Ok(())
                    })
                    .await
                    .unwrap();
            })
        }
    }

    async fn open() -> Client {
        ClientBuilder::new().open().await.expect("in-memory client")
    }

    /// Occupies the client's thread until the gate opens.
    fn hold_client(
        client: &Client,
        hold: impl FnOnce() + Send + 'static,
    ) -> tokio::task::JoinHandle<Result<(), Error>> {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .conn(move |_| {
                    hold();
                    Ok(())
                })
                .await
        })
    }

    #[test]
    fn a_panic_in_a_call_is_an_error_and_the_connection_lives_on() {
        runtime().block_on(async {
            let client = open().await;
            let panicked = client
                .conn(|_| -> Result<u8, rusqlite::Error> { panic!("query bug") })
                .await;
            assert!(
                matches!(&panicked, Err(Error::Panic { message }) if message == "query bug"),
                "{panicked:?}"
            );
            assert_eq!(client.conn(|_| Ok(1_u8)).await.unwrap(), 1);
        });
    }

    #[test]
    fn a_call_dropped_before_it_starts_is_skipped() {
        runtime().block_on(async {
            let peer = open().await;
            assert_eq!(
                runs_of_a_call_dropped_before_it_starts(&peer).await,
                0,
                "the abandoned call ran"
            );
        });
    }

    #[test]
    fn a_call_dropped_while_it_runs_runs_to_the_end() {
        runtime().block_on(async {
            let peer = open().await;
            assert_eq!(finished_after_the_caller_left_mid_call(&peer).await, 1);
        });
    }

    #[test]
    fn a_timeout_gives_up_waiting_and_the_call_is_skipped() {
        runtime().block_on(async {
            let peer = open().await;
            assert_eq!(runs_of_a_call_that_timed_out(&peer).await, 0);
        });
    }

    #[test]
    fn close_runs_the_calls_queued_before_it_then_refuses() {
        runtime().block_on(async {
            let client = open().await;
            let (runs, ran) = counter();
            let queued: Vec<_> = (0..10)
                .map(|_| {
                    let runs = runs.clone();
                    let client = client.clone();
                    tokio::spawn(async move {
                        client
                            .conn(move |_| {
                                runs.fetch_add(1, Ordering::SeqCst);
                                Ok(())
                            })
                            .await
                    })
                })
                .collect();
            tokio::task::yield_now().await;
            client.close().await.unwrap();
            for call in queued {
                call.await.unwrap().unwrap();
            }
            assert_eq!(ran(), 10);
            let after = client.conn(|_| Ok(())).await;
            assert!(matches!(after, Err(Error::Closed)), "{after:?}");
        });
    }

    #[test]
    fn a_full_queue_refuses_the_call_at_once() {
        runtime().block_on(async {
            let client = ClientBuilder::new().queue_capacity(1).open().await.unwrap();
            let (gate, hold) = gate();
            let busy = hold_client(&client, hold);
            tokio::task::yield_now().await;
            gate.wait_started();
            let queued = tokio::spawn({
                let client = client.clone();
                async move { client.conn(|_| Ok(1_u8)).await }
            });
            tokio::task::yield_now().await;
            let refused = client.conn(|_| Ok(2_u8)).await;
            assert!(matches!(refused, Err(Error::QueueFull)), "{refused:?}");
            gate.open();
            busy.await.unwrap().unwrap();
            assert_eq!(queued.await.unwrap().unwrap(), 1);
        });
    }
}

mod deadpool_sqlite_peer {
    use super::*;
    use deadpool_sqlite::{Config, InteractError, Object, Pool, PoolConfig, PoolError, Runtime};

    impl Peer for Arc<Object> {
        fn run(&self, f: impl FnOnce() + Send + 'static) -> BoxedCall {
            let conn = self.clone();
            Box::pin(async move { conn.interact(move |_| f()).await.unwrap() })
        }
    }

    fn pool() -> Pool {
        let mut config = Config::new(":memory:");
        config.pool = Some(PoolConfig::new(1));
        config.create_pool(Runtime::Tokio1).expect("pool")
    }

    #[test]
    fn a_panic_in_a_call_is_an_error_and_poisons_that_connection() {
        runtime().block_on(async {
            let pool = pool();
            let conn = pool.get().await.unwrap();
            let panicked = conn.interact(|_| -> u8 { panic!("query bug") }).await;
            assert!(
                matches!(panicked, Err(InteractError::Panic(_))),
                "{panicked:?}"
            );
            // The object's mutex is poisoned: every later call on it panics too.
            let after = conn.interact(|_| 1_u8).await;
            assert!(matches!(after, Err(InteractError::Panic(_))), "{after:?}");
            // Returned to the pool, it fails its recycle check and is replaced: a new
            // connection (for `:memory:`, a new, empty database).
            drop(conn);
            let fresh = pool.get().await.unwrap();
            assert_eq!(fresh.interact(|_| 1_u8).await.unwrap(), 1);
        });
    }

    #[test]
    fn a_call_dropped_before_it_starts_still_runs() {
        runtime().block_on(async {
            let peer = Arc::new(pool().get().await.unwrap());
            assert!(
                a_call_dropped_before_it_starts_runs(&peer).await,
                "the abandoned call was skipped"
            );
        });
    }

    #[test]
    fn a_call_dropped_while_it_runs_runs_to_the_end() {
        runtime().block_on(async {
            let peer = Arc::new(pool().get().await.unwrap());
            assert_eq!(finished_after_the_caller_left_mid_call(&peer).await, 1);
        });
    }

    #[test]
    fn a_timeout_gives_up_waiting_and_the_call_runs_anyway() {
        runtime().block_on(async {
            let peer = Arc::new(pool().get().await.unwrap());
            assert!(a_call_that_timed_out_runs(&peer).await);
        });
    }

    #[test]
    fn close_lets_calls_in_progress_finish_then_refuses_new_connections() {
        runtime().block_on(async {
            let pool = pool();
            let conn = pool.get().await.unwrap();
            let (runs, ran) = counter();
            let queued = conn.interact(move |_| {
                runs.fetch_add(1, Ordering::SeqCst);
            });
            pool.close();
            queued.await.unwrap();
            assert_eq!(ran(), 1);
            drop(conn);
            let after = pool.get().await;
            assert!(matches!(after, Err(PoolError::Closed)), "{after:?}");
        });
    }

    #[test]
    fn a_full_pool_makes_the_caller_wait() {
        runtime().block_on(async {
            let pool = pool();
            let held = pool.get().await.unwrap();
            let waiting = tokio::time::timeout(Duration::from_millis(20), pool.get()).await;
            assert!(waiting.is_err(), "a second connection out of a pool of one");
            drop(held);
            assert!(pool.get().await.is_ok());
        });
    }
}

mod handoff_worker_peer {
    use std::num::NonZeroUsize;

    use super::*;
    use handoff_worker::{Builder, CallError, Worker};
    use rusqlite::Connection;

    impl Peer for Worker<Connection> {
        fn run(&self, f: impl FnOnce() + Send + 'static) -> BoxedCall {
            let call = self.call(move |_| f());
            Box::pin(async move { call.await.unwrap() })
        }
    }

    fn open() -> Worker<Connection> {
        Builder::new()
            .spawn(|| Connection::open_in_memory().expect("in-memory database"))
            .unwrap()
    }

    #[test]
    fn a_panic_in_a_call_is_an_error_and_the_connection_lives_on() {
        runtime().block_on(async {
            let db = open();
            db.call(|conn| conn.execute_batch("create table t (x)"))
                .await
                .unwrap()
                .unwrap();
            let panicked = db.call(|_| -> u8 { panic!("query bug") }).await;
            assert_eq!(panicked, Err(CallError::Panicked("query bug".into())));
            // The same connection, with its table.
            let rows = db
                .call(|conn| conn.query_row("select count(*) from t", [], |r| r.get::<_, i64>(0)))
                .await
                .unwrap();
            assert_eq!(rows.unwrap(), 0);
        });
    }

    #[test]
    fn a_call_dropped_before_it_starts_is_skipped() {
        runtime().block_on(async {
            let peer = open();
            assert_eq!(
                runs_of_a_call_dropped_before_it_starts(&peer).await,
                0,
                "the abandoned call ran"
            );
            assert_eq!(peer.stats().skipped_cancelled, 1);
        });
    }

    #[test]
    fn a_call_dropped_while_it_runs_sees_it() {
        runtime().block_on(async {
            let db = open();
            let (started_tx, started) = mpsc::channel();
            let (seen_tx, seen) = mpsc::channel();
            let running = db.call_with(move |_, ctx| {
                started_tx.send(()).unwrap();
                let until = std::time::Instant::now() + LIMIT;
                while !ctx.is_cancelled() && std::time::Instant::now() < until {
                    std::thread::yield_now();
                }
                seen_tx.send(ctx.is_cancelled()).unwrap();
            });
            started.recv_timeout(LIMIT).unwrap();
            drop(running);
            assert_eq!(seen.recv_timeout(LIMIT), Ok(true));
        });
    }

    #[test]
    fn a_timeout_gives_up_waiting_and_the_call_is_skipped() {
        runtime().block_on(async {
            let peer = open();
            assert_eq!(runs_of_a_call_that_timed_out(&peer).await, 0);
            // A worker-side deadline that has passed skips the call too, with an answer.
            let (gate, busy) = occupy(&peer).await;
            let expired = peer.call_with_deadline(std::time::Instant::now(), |_, _| ());
            gate.open();
            busy.await.unwrap();
            assert_eq!(expired.await, Err(CallError::TimedOut));
        });
    }

    #[test]
    fn close_runs_the_calls_queued_before_it_then_refuses() {
        runtime().block_on(async {
            let db = open();
            let (runs, ran) = counter();
            let queued: Vec<_> = (0..10)
                .map(|_| {
                    let runs = runs.clone();
                    db.call(move |_| {
                        runs.fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect();
            let conn = db.close().await.expect("the connection back");
            for call in queued {
                call.await.unwrap();
            }
            assert_eq!(ran(), 10);
            assert!(conn.is_autocommit());
            assert_eq!(db.call(|_| ()).await, Err(CallError::Closed));
        });
    }

    #[test]
    fn a_full_bounded_queue_makes_the_caller_wait() {
        runtime().block_on(async {
            let db = Builder::new()
                .bounded(NonZeroUsize::MIN)
                .spawn(|| Connection::open_in_memory().unwrap())
                .unwrap();
            let (gate, hold) = gate();
            let busy = db.call(move |_| hold());
            gate.wait_started();
            let queued = db.call(|_| 1_u8);
            let mut waiting = db.call(|_| 2_u8);
            assert!(
                (&mut waiting).now_or_never().is_none(),
                "sent past a full queue"
            );
            gate.open();
            busy.await.unwrap();
            assert_eq!(queued.await, Ok(1));
            assert_eq!(waiting.await, Ok(2));
        });
    }
}

mod handoff_sqlite_peer {
    use std::sync::mpsc;

    use super::*;
    use handoff_sqlite::{Connection, Error};

    impl Peer for Connection {
        fn run(&self, f: impl FnOnce() + Send + 'static) -> BoxedCall {
            let call = self.call(move |_| {
                f();
                Ok::<_, Error>(())
            });
            Box::pin(async move { call.await.unwrap() })
        }
    }

    async fn open() -> Connection {
        Connection::open_in_memory()
            .await
            .expect("in-memory database")
    }

    #[test]
    fn a_panic_in_a_call_is_an_error_and_the_connection_lives_on() {
        runtime().block_on(async {
            let db = open().await;
            db.call(|conn| conn.execute_batch("create table t (x)"))
                .await
                .unwrap();
            let panicked = db
                .call(|_| -> Result<u8, Error> { panic!("query bug") })
                .await;
            assert!(
                matches!(&panicked, Err(Error::Panicked(m)) if m == "query bug"),
                "{panicked:?}"
            );
            // The same connection, with its table.
            let rows: i64 = db
                .call(|conn| conn.query_row("select count(*) from t", [], |r| r.get(0)))
                .await
                .unwrap();
            assert_eq!(rows, 0);
        });
    }

    #[test]
    fn a_call_dropped_before_it_starts_is_skipped() {
        runtime().block_on(async {
            let peer = open().await;
            assert_eq!(
                runs_of_a_call_dropped_before_it_starts(&peer).await,
                0,
                "the abandoned call ran"
            );
        });
    }

    #[test]
    fn a_call_dropped_while_it_runs_runs_to_the_end() {
        runtime().block_on(async {
            let peer = open().await;
            assert_eq!(finished_after_the_caller_left_mid_call(&peer).await, 1);
        });
    }

    #[test]
    fn a_timeout_gives_up_waiting_and_the_call_is_skipped() {
        runtime().block_on(async {
            let peer = open().await;
            assert_eq!(runs_of_a_call_that_timed_out(&peer).await, 0);
        });
    }

    #[test]
    fn close_runs_the_calls_queued_before_it_then_refuses() {
        runtime().block_on(async {
            let db = open().await;
            let other = db.clone();
            let (runs, ran) = counter();
            let queued: Vec<_> = (0..10)
                .map(|_| {
                    let runs = runs.clone();
                    db.call(move |_| {
                        runs.fetch_add(1, Ordering::SeqCst);
                        Ok::<_, Error>(())
                    })
                })
                .collect();
            db.close().await.expect("closed");
            for call in queued {
                call.await.unwrap();
            }
            assert_eq!(ran(), 10);
            let after = other.call(|_| Ok::<_, Error>(())).await;
            assert!(matches!(after, Err(Error::ConnectionClosed)), "{after:?}");
        });
    }

    #[test]
    fn the_queue_is_unbounded_it_never_refuses_nor_waits() {
        runtime().block_on(async {
            let conn = open().await;
            let (gate, hold) = gate();
            let busy = conn.call(move |_| {
                hold();
                Ok::<_, Error>(())
            });
            gate.wait_started();
            let mut queued: Vec<_> = (0..10_000_u32)
                .map(|i| conn.call(move |_| Ok::<_, Error>(i)))
                .collect();
            for call in &mut queued {
                assert!(call.now_or_never().is_none());
            }
            gate.open();
            busy.await.unwrap();
            for (i, call) in queued.into_iter().enumerate() {
                assert_eq!(call.await.unwrap(), u32::try_from(i).unwrap());
            }
        });
    }

    #[test]
    fn a_close_sqlite_refuses_hands_the_connection_back() {
        runtime().block_on(async {
            let conn = open().await;
            conn.call(|conn| {
                Box::leak(Box::new(conn.prepare("select 1")?));
                Ok::<_, Error>(())
            })
            .await
            .unwrap();
            let Err(Error::Close((conn, _))) = conn.close().await else {
                panic!("SQLite closed a connection with an open statement");
            };
            let (tx, rx) = mpsc::channel();
            conn.call(move |c| {
                tx.send(c.is_autocommit()).unwrap();
                Ok::<_, Error>(())
            })
            .await
            .unwrap();
            assert_eq!(rx.recv_timeout(LIMIT), Ok(true));
        });
    }
}
