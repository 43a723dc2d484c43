//! The bounded queue: every spawned worker has a capacity of its own, and calls made while
//! it is full run in the order they were made.

use std::num::NonZeroUsize;
use std::sync::mpsc;

use futures::FutureExt;

mod common;

use common::{SCENARIO_LIMIT, gate, wait};
use handoff_worker::{Builder, Worker};

/// Runs `scenario` with `futures::executor` on a thread of its own; a hang fails the test.
fn within_limit(scenario: impl Future<Output = ()> + Send + 'static) {
    let (done_tx, done_rx) = mpsc::channel();
    let runner = std::thread::spawn(move || {
        futures::executor::block_on(scenario);
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(SCENARIO_LIMIT) {
        Ok(()) => runner.join().expect("scenario thread"),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the scenario hung"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = runner.join() {
                std::panic::resume_unwind(panic);
            }
        }
    }
}

fn one() -> NonZeroUsize {
    NonZeroUsize::MIN
}

#[test]
fn clones_of_a_bounded_builder_give_each_worker_its_own_capacity() {
    within_limit(async {
        let builder = Builder::new().bounded(one());
        let busy = builder.clone().spawn(|| 0_u32).unwrap();
        let idle = builder.spawn(|| 0_u32).unwrap();
        // Fill the first worker's queue: one call running, one waiting in its queue.
        let (open, started, running) = gate(&busy);
        wait(&started);
        let queued = busy.call(|n| *n);
        // The second worker's queue is empty: its call runs while the first stays full.
        assert_eq!(idle.call(|n| *n + 1).await, Ok(1));
        open.send(()).unwrap();
        running.await.unwrap();
        assert_eq!(queued.await, Ok(0));
    });
}

#[test]
fn one_workers_end_does_not_lift_another_workers_bound() {
    within_limit(async {
        let builder = Builder::new().bounded(one());
        let ended = builder.clone().spawn(|| 0_u32).unwrap();
        let bounded = builder.spawn(|| 0_u32).unwrap();
        ended.close().await.unwrap();
        let (open, started, running) = gate(&bounded);
        wait(&started);
        let queued = bounded.call(|n| *n);
        // The queue (capacity 1) is full: this call waits behind it. Dropped while it
        // waits, it never reaches the worker.
        let mut third = bounded.call(|n| *n);
        assert!((&mut third).now_or_never().is_none());
        drop(third);
        open.send(()).unwrap();
        running.await.unwrap();
        assert_eq!(queued.await, Ok(0));
        bounded.close().await.unwrap();
        let stats = bounded.stats();
        assert_eq!(
            (stats.unqueued, stats.skipped_cancelled),
            (1, 0),
            "the third call reached the queue: the bound was lifted ({stats:?})"
        );
    });
}

/// Records the order in which the calls ran.
fn record(worker: &Worker<Vec<char>>, name: char) -> handoff_worker::CallFuture<()> {
    worker.call(move |ran| ran.push(name))
}

#[test]
fn calls_on_a_full_bounded_queue_run_in_the_order_they_were_made() {
    within_limit(async {
        let worker = Builder::new().bounded(one()).spawn(Vec::new).unwrap();
        let (open, started, running) = gate(&worker);
        wait(&started);
        // `a` fills the queue; `b` is made while it is full (and not polled yet).
        let (a_started_tx, a_started) = mpsc::channel();
        let a = worker.call(move |ran: &mut Vec<char>| {
            ran.push('a');
            let _ = a_started_tx.send(());
        });
        let b = record(&worker, 'b');
        open.send(()).unwrap();
        running.await.unwrap();
        // The worker has taken `a` off the queue, so a place is free again; `c`, made
        // now, must still run after `b`, which was made first.
        a_started.recv_timeout(SCENARIO_LIMIT).unwrap();
        let c = record(&worker, 'c');
        c.await.unwrap();
        b.await.unwrap();
        a.await.unwrap();
        assert_eq!(worker.close().await.unwrap(), ['a', 'b', 'c']);
    });
}
