//! The worker's API promises, each checked on every executor: tokio (current_thread and
//! multi_thread), async-std, smol and `futures::executor::block_on`.

use std::num::NonZeroUsize;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::join_all;
mod common;

use common::{SCENARIO_LIMIT, gate, on_all, wait};
use handoff_worker::{
    Builder, CallContext, CallError, CallFuture, CloseError, CloseFuture, Strategy, Worker,
};

// Handles are cheap to clone and `Send + Sync` whatever the state; futures are `Send`.
const _: fn() = || {
    fn send_sync<T: Send + Sync + Clone>() {}
    fn send<T: Send + Unpin>() {}
    send_sync::<Worker<Rc<u8>>>();
    send::<CallFuture<u8>>();
    send::<CloseFuture<u8>>();
};

#[test]
fn calls_return_values_and_the_state_persists() {
    on_all(|| async {
        let worker = Worker::spawn(|| 0_u64).unwrap();
        for expected in 1..=3 {
            let got = worker
                .call(|n| {
                    *n += 1;
                    *n
                })
                .await;
            assert_eq!(got, Ok(expected));
        }
        assert_eq!(worker.stats().ok, 3);
    });
}

#[test]
fn a_panic_becomes_panicked_and_the_worker_keeps_its_state() {
    on_all(|| async {
        let worker = Worker::spawn(|| 0_u64).unwrap();
        let id = 7;
        let err = worker
            .call(move |n| -> u64 {
                *n += 1;
                panic!("boom {id}");
            })
            .await;
        assert_eq!(err, Err(CallError::Panicked("boom 7".into())));
        let err = worker.call(|_| -> () { panic!("static str") }).await;
        assert_eq!(err, Err(CallError::Panicked("static str".into())));
        assert_eq!(worker.call(|n| *n).await, Ok(1));
        assert_eq!(worker.stats().panicked, 2);
    });
}

#[test]
fn a_call_dropped_before_it_starts_never_runs() {
    on_all(|| async {
        let worker = Worker::spawn(|| 0_u64).unwrap();
        let (open, started, busy) = gate(&worker);
        wait(&started);
        let dropped = worker.call(|n| *n += 1);
        drop(dropped);
        open.send(()).unwrap();
        busy.await.unwrap();
        assert_eq!(worker.call(|n| *n).await, Ok(0), "the dropped call ran");
        assert_eq!(worker.stats().skipped_cancelled, 1);
    });
}

#[test]
fn the_cancellation_flag_turns_true_when_the_caller_drops_mid_call() {
    on_all(|| async {
        let worker = Worker::spawn(|| ()).unwrap();
        let (started_tx, started_rx) = mpsc::channel();
        let (seen_tx, seen_rx) = mpsc::channel();
        let fut = worker.call_with(move |(), ctx: &CallContext<'_>| {
            let before = ctx.is_cancelled();
            started_tx.send(()).unwrap();
            let limit = Instant::now() + SCENARIO_LIMIT;
            while !ctx.is_cancelled() && Instant::now() < limit {
                std::thread::yield_now();
            }
            seen_tx.send((before, ctx.is_cancelled())).unwrap();
        });
        wait(&started_rx);
        drop(fut);
        let (before, after) = seen_rx.recv_timeout(SCENARIO_LIMIT).unwrap();
        assert!(!before && after, "before drop: {before}, after: {after}");
        // The call had started, so it counts as run, not skipped.
        assert_eq!(worker.call(|()| ()).await, Ok(()));
        assert_eq!(worker.stats().ok, 2);
    });
}

#[test]
fn a_deadline_passed_before_start_skips_the_call_as_timed_out() {
    on_all(|| async {
        let worker = Worker::spawn(|| 0_u64).unwrap();
        let (open, started, busy) = gate(&worker);
        wait(&started);
        let deadline = Instant::now() + Duration::from_millis(20);
        let late = worker.call_with_deadline(deadline, |n, _| *n += 1);
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        open.send(()).unwrap();
        busy.await.unwrap();
        // FIFO: once this is answered, the worker has dealt with `late` itself.
        assert_eq!(worker.call(|n| *n).await, Ok(0), "the late call ran");
        assert_eq!(late.await, Err(CallError::TimedOut));
        assert_eq!(worker.stats().skipped_timed_out, 1);
        assert_eq!(worker.stats().skipped_cancelled, 0);
    });
}

#[test]
fn a_deadline_that_passes_while_the_call_runs_lets_it_finish_and_see_it() {
    on_all(|| async {
        let worker = Worker::spawn(|| ()).unwrap();
        let deadline = Instant::now() + Duration::from_millis(30);
        // No timer: the caller waits for the call, which can read its deadline and stop.
        let got = worker
            .call_with_deadline(deadline, move |(), ctx| {
                let deadline = ctx.deadline().expect("the call's deadline");
                while Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(1));
                }
                // A passed deadline is not a cancellation (`CallContext::is_cancelled`'s
                // documentation says so): the caller is still waiting for the answer.
                ("stopped at its deadline", ctx.is_cancelled())
            })
            .await;
        assert_eq!(got, Ok(("stopped at its deadline", false)));
        assert_eq!(worker.stats().skipped_timed_out, 0);
    });
}

#[test]
fn a_reply_already_there_wins_over_a_passed_deadline() {
    on_all(|| async {
        let worker = Worker::spawn(|| 5_u8).unwrap();
        let fut = worker.call_with_timeout(Duration::from_millis(10), |n, _| *n);
        // Wait past the deadline, with the reply long since delivered.
        assert_eq!(worker.call(|n| *n).await, Ok(5));
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(fut.await, Ok(5));
    });
}

#[test]
fn close_waits_for_queued_calls_and_hands_the_state_back() {
    on_all(|| async {
        let worker = Worker::spawn(Vec::<u32>::new).unwrap();
        let queued: Vec<_> = (0..100).map(|i| worker.call(move |v| v.push(i))).collect();
        let state = worker.close().await.expect("state handed back");
        assert_eq!(state, (0..100).collect::<Vec<_>>());
        for result in join_all(queued).await {
            assert_eq!(result, Ok(()));
        }
        assert!(worker.is_closed());
        assert_eq!(worker.call(|v| v.len()).await, Err(CallError::Closed));
        assert_eq!(worker.clone().close().await, Err(CloseError::AlreadyClosed));
        assert_eq!(worker.shutdown().await, Err(CloseError::AlreadyClosed));
    });
}

/// A state that is not `Send` and reports the thread it was dropped on.
struct Local {
    _not_send: Rc<()>,
    dropped_on: mpsc::Sender<Option<String>>,
}

impl Drop for Local {
    fn drop(&mut self) {
        let name = std::thread::current().name().map(str::to_owned);
        let _ = self.dropped_on.send(name);
    }
}

#[test]
fn shutdown_drops_a_non_send_state_on_the_named_worker_thread() {
    on_all(|| async {
        let (tx, rx) = mpsc::channel();
        let worker = Builder::new()
            .name("local-worker")
            .spawn(move || Local {
                _not_send: Rc::new(()),
                dropped_on: tx,
            })
            .unwrap();
        let name = worker
            .call(|_| std::thread::current().name().map(str::to_owned))
            .await;
        assert_eq!(name, Ok(Some("local-worker".to_owned())));
        worker.shutdown().await.unwrap();
        assert_eq!(rx.try_recv(), Ok(Some("local-worker".to_owned())));
    });
}

#[test]
fn dropping_the_last_handle_completes_queued_calls() {
    on_all(|| async {
        let (tx, rx) = mpsc::channel();
        let ran = Arc::new(AtomicUsize::new(0));
        let worker = Worker::spawn(move || Local {
            _not_send: Rc::new(()),
            dropped_on: tx,
        })
        .unwrap();
        let (open, started, busy) = gate(&worker);
        wait(&started);
        let queued: Vec<_> = (0..50)
            .map(|_| {
                let ran = ran.clone();
                worker.call(move |_| ran.fetch_add(1, Ordering::SeqCst))
            })
            .collect();
        drop(worker);
        open.send(()).unwrap();
        busy.await.unwrap();
        for result in join_all(queued).await {
            assert!(result.is_ok(), "{result:?}");
        }
        assert_eq!(ran.load(Ordering::SeqCst), 50);
        // The thread then ends by itself and drops the state.
        assert!(
            rx.recv_timeout(SCENARIO_LIMIT).is_ok(),
            "state never dropped"
        );
    });
}

#[test]
fn a_panic_in_init_is_reported_by_calls_and_close() {
    on_all(|| async {
        let worker = Worker::spawn(|| -> u32 { panic!("no database") }).unwrap();
        let err = worker.call(|n| *n).await;
        assert_eq!(err, Err(CallError::InitPanicked("no database".into())));
        let err = worker.close().await;
        assert_eq!(err, Err(CloseError::InitPanicked("no database".into())));
        assert_eq!(worker.call(|n| *n).await, Err(CallError::Closed));
    });
}

#[test]
fn a_full_bounded_queue_makes_the_sender_wait_without_blocking() {
    on_all(|| async {
        let worker = Builder::new()
            .bounded(NonZeroUsize::new(2).unwrap())
            .spawn(Vec::<u32>::new)
            .unwrap();
        let (open, started, busy) = gate(&worker);
        wait(&started);
        // The gate call has left the queue; two calls fill it.
        let first = worker.call(|v| v.push(1));
        let second = worker.call(|v| v.push(2));
        let mut third = worker.call(|v| v.push(3));
        assert!(
            (&mut third).now_or_never().is_none(),
            "third sent past a full queue"
        );
        assert!((&mut third).now_or_never().is_none());
        open.send(()).unwrap();
        busy.await.unwrap();
        assert_eq!(third.await, Ok(()));
        assert_eq!(first.await, Ok(()));
        assert_eq!(second.await, Ok(()));
        assert_eq!(worker.close().await, Ok(vec![1, 2, 3]));
    });
}

#[test]
fn a_call_waiting_for_a_place_runs_before_a_later_close() {
    on_all(|| async {
        let worker = Builder::new()
            .bounded(NonZeroUsize::MIN)
            .spawn(|| 0_u8)
            .unwrap();
        let (open, started, busy) = gate(&worker);
        wait(&started);
        let queued = worker.call(|n| *n);
        let mut waiting = worker.call(|n| *n);
        assert!((&mut waiting).now_or_never().is_none());
        let close = worker.close();
        let after = worker.call(|n| *n);
        open.send(()).unwrap();
        busy.await.unwrap();
        assert_eq!(queued.await, Ok(0));
        assert_eq!(close.await, Ok(0));
        assert_eq!(after.await, Err(CallError::Closed));
        // Made before the close, it waited in line and runs before the close; answered,
        // never hung.
        assert_eq!(waiting.await, Ok(0));
    });
}

#[test]
fn every_strategy_answers_sequential_and_concurrent_calls() {
    let strategies = [
        (Strategy::Block, Duration::ZERO),
        (Strategy::Spin(Duration::from_micros(50)), Duration::ZERO),
        (Strategy::Adaptive, Duration::ZERO),
        (Strategy::Adaptive, Duration::from_micros(20)),
        (Strategy::Block, Duration::from_micros(20)),
    ];
    for (strategy, busy_poll) in strategies {
        on_all(move || async move {
            let worker = Builder::new()
                .strategy(strategy)
                .busy_poll(busy_poll)
                .spawn(|| 0_u64)
                .unwrap();
            for i in 1..=200 {
                assert_eq!(
                    worker
                        .call(|n| {
                            *n += 1;
                            *n
                        })
                        .await,
                    Ok(i)
                );
            }
            let burst: Vec<_> = (0..64).map(|i| worker.call(move |_| i)).collect();
            let got: Vec<_> = join_all(burst)
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect();
            assert_eq!(got, (0..64).collect::<Vec<_>>());
            let stats = worker.stats();
            assert_eq!(stats.ok, 264, "{strategy:?}, busy poll {busy_poll:?}");
            #[cfg(feature = "bench-hooks")]
            if strategy == Strategy::Block {
                assert_eq!(stats.spin_hits, 0);
            }
        });
    }
}

#[cfg(feature = "bench-hooks")]
#[test]
fn one_wake_up_drains_everything_queued() {
    on_all(|| async {
        let worker = Builder::new()
            .strategy(Strategy::Block)
            .spawn(|| ())
            .unwrap();
        let (open, started, busy) = gate(&worker);
        wait(&started);
        let parks_before = worker.stats().parks;
        let burst: Vec<_> = (0..64).map(|i| worker.call(move |()| i)).collect();
        open.send(()).unwrap();
        busy.await.unwrap();
        assert_eq!(join_all(burst).await.len(), 64);
        // The 64 calls were all queued: the worker ran them back to back and can have
        // parked at most once, after the last.
        assert!(
            worker.stats().parks - parks_before <= 1,
            "{:?}",
            worker.stats()
        );
    });
}
