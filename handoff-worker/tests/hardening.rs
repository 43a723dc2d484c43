//! What a caller can do to the worker and what it gets back, each on every executor: panics
//! in `Drop`s the worker runs, a close that never blocks the executor, a fallible init,
//! flattened results. Every test here failed (or did not compile) before its fix.

use std::sync::mpsc;
use std::time::Instant;

mod common;

use common::{SCENARIO_LIMIT, gate, on_all, wait};
use handoff_worker::{Builder, CallError, CloseError, SpawnError, Worker};

/// A value whose `Drop` panics: what the worker must survive dropping.
struct PanicOnDrop(&'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("{}", self.0);
    }
}

#[test]
fn a_skipped_calls_closure_that_panics_when_dropped_leaves_the_worker_alive() {
    on_all(|| async {
        let worker = Worker::spawn(|| 7_u32).unwrap();
        let (open, started, busy) = gate(&worker);
        wait(&started);
        // Cancelled before it starts: the worker drops the closure unrun.
        let bomb = PanicOnDrop("closure dropped by the worker");
        drop(worker.call(move |n| {
            let _keep = &bomb;
            *n
        }));
        // Expired before it starts: dropped unrun too.
        let bomb = PanicOnDrop("expired closure dropped by the worker");
        let expired = worker.call_with_deadline(Instant::now(), move |n, _| {
            let _keep = &bomb;
            *n
        });
        open.send(()).unwrap();
        busy.await.unwrap();
        assert_eq!(expired.await, Err(CallError::TimedOut));
        assert_eq!(worker.call(|n| *n).await, Ok(7), "the worker died");
        let stats = worker.stats();
        assert_eq!(stats.drop_panics, 2, "{stats:?}");
        assert_eq!((stats.skipped_cancelled, stats.skipped_timed_out), (1, 1));
    });
}

#[test]
fn a_value_that_panics_when_dropped_after_its_caller_left_leaves_the_worker_alive() {
    on_all(|| async {
        let worker = Worker::spawn(|| 7_u32).unwrap();
        let (started_tx, started_rx) = mpsc::channel();
        let (left_tx, left_rx) = mpsc::channel::<()>();
        let running = worker.call(move |_| {
            started_tx.send(()).unwrap();
            // Returns only once the caller's future is gone, so the value has no taker.
            wait(&left_rx);
            PanicOnDrop("value dropped by the worker")
        });
        wait(&started_rx);
        // The caller leaves mid-call; the worker is left holding the value.
        drop(running);
        left_tx.send(()).unwrap();
        assert_eq!(worker.call(|n| *n).await, Ok(7), "the worker died");
        assert_eq!(worker.stats().drop_panics, 1);
    });
}

#[test]
fn a_panic_in_the_states_drop_at_shutdown_is_reported_not_hung() {
    on_all(|| async {
        let worker = Worker::spawn(|| PanicOnDrop("state dropped at shutdown")).unwrap();
        assert_eq!(worker.call(|_| 1).await, Ok(1));
        assert_eq!(
            worker.shutdown().await,
            Err(CloseError::ThreadPanicked(
                "state dropped at shutdown".into()
            ))
        );
    });
}

thread_local! {
    /// Set on the worker thread by a call; its destructor runs as the thread exits.
    static EXIT_GUARD: std::cell::RefCell<Option<ExitGuard>> = const { std::cell::RefCell::new(None) };
}

/// Waits, in the worker thread's exit, for the test to say "close resolved", and reports
/// whether it heard that.
struct ExitGuard {
    close_resolved: mpsc::Receiver<()>,
    report: mpsc::Sender<bool>,
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        let heard = self.close_resolved.recv_timeout(SCENARIO_LIMIT).is_ok();
        let _ = self.report.send(heard);
    }
}

#[test]
fn close_resolves_without_waiting_for_the_threads_exit() {
    on_all(|| async {
        let worker = Worker::spawn(|| 0_u8).unwrap();
        let (resolved_tx, resolved_rx) = mpsc::channel();
        let (report_tx, report_rx) = mpsc::channel();
        worker
            .call(move |_| {
                EXIT_GUARD.with(|guard| {
                    *guard.borrow_mut() = Some(ExitGuard {
                        close_resolved: resolved_rx,
                        report: report_tx,
                    });
                });
            })
            .await
            .unwrap();
        // If close joined the thread inside `poll`, it would wait for the exit, which
        // waits for us: the exit would time out and report `false`.
        assert_eq!(worker.close().await, Ok(0));
        resolved_tx.send(()).unwrap();
        assert_eq!(report_rx.recv_timeout(SCENARIO_LIMIT), Ok(true));
    });
}

#[test]
fn a_fallible_init_hands_its_error_to_the_spawner() {
    on_all(|| async {
        let failed = Builder::new()
            .try_spawn(|| Err::<u8, _>("unable to open database file"))
            .await;
        assert!(
            matches!(
                failed,
                Err(SpawnError::Init("unable to open database file"))
            ),
            "{failed:?}"
        );
        let panicked = Builder::new()
            .try_spawn(|| -> Result<u8, &str> { panic!("init panicked") })
            .await;
        assert!(
            matches!(&panicked, Err(SpawnError::InitPanicked(m)) if m == "init panicked"),
            "{panicked:?}"
        );
        let worker = Builder::new()
            .name("opened")
            .try_spawn(|| Ok::<_, &str>(41_u8))
            .await
            .expect("init succeeded");
        assert_eq!(worker.call(|n| *n + 1).await, Ok(42));
    });
}

/// A caller's error type, as a rusqlite user's would be.
#[derive(Debug, PartialEq)]
enum DbError {
    NoRows,
    Worker(CallError),
}

impl From<CallError> for DbError {
    fn from(error: CallError) -> Self {
        Self::Worker(error)
    }
}

#[test]
fn try_call_flattens_the_calls_error_and_the_workers_into_one() {
    on_all(|| async {
        let worker = Worker::spawn(|| vec![3_u8]).unwrap();
        assert_eq!(
            worker
                .try_call(|v| v.first().copied().ok_or(DbError::NoRows))
                .await,
            Ok(3)
        );
        assert_eq!(
            worker
                .try_call(|v| v.get(9).copied().ok_or(DbError::NoRows))
                .await,
            Err(DbError::NoRows)
        );
        let panicked = worker.try_call(|_| -> Result<u8, DbError> { panic!("query panicked") });
        assert_eq!(
            panicked.await,
            Err(DbError::Worker(CallError::Panicked(
                "query panicked".into()
            )))
        );
        worker.shutdown().await.unwrap();
        assert_eq!(
            worker
                .try_call(|v| v.first().copied().ok_or(DbError::NoRows))
                .await,
            Err(DbError::Worker(CallError::Closed))
        );
    });
}
