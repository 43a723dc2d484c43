//! `Builder::batch_wakes`: while calls are queued, a waiting caller's wake-up waits for the
//! calls behind its own (at most `calls - 1` of them), and none is ever lost: not when the
//! queue runs empty, not at a close.

use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};
use std::time::{Duration, Instant};

use handoff_worker::{Builder, CallFuture, Strategy, Worker};

/// What the worker thread did, in order: `ran k` after call `k`, `woke k` when the waker
/// of call `k`'s future was woken (both happen on the worker thread).
type Log = Arc<Mutex<Vec<String>>>;

struct Logged {
    log: Log,
    call: usize,
}

impl Wake for Logged {
    fn wake(self: Arc<Self>) {
        self.log.lock().unwrap().push(format!("woke {}", self.call));
    }
}

/// Makes `calls` calls on `worker`, the first held until the returned sender sends (so the
/// others queue behind it), and polls each future once with a waker that logs its wake.
fn queued_calls(
    worker: &Worker<()>,
    calls: usize,
    log: &Log,
) -> (Vec<CallFuture<usize>>, mpsc::Sender<()>) {
    let (release, held) = mpsc::channel::<()>();
    let held = Arc::new(Mutex::new(held));
    let mut futures: Vec<CallFuture<usize>> = (0..calls)
        .map(|call| {
            let log = log.clone();
            let held = (call == 0).then(|| held.clone());
            worker.call(move |()| {
                if let Some(held) = held {
                    held.lock().unwrap().recv().unwrap();
                }
                log.lock().unwrap().push(format!("ran {call}"));
                call
            })
        })
        .collect();
    for (call, future) in futures.iter_mut().enumerate() {
        let waker = Waker::from(Arc::new(Logged {
            log: log.clone(),
            call,
        }));
        let polled = Pin::new(future).poll(&mut Context::from_waker(&waker));
        assert!(
            polled.is_pending(),
            "call {call} answered before the first was released"
        );
    }
    (futures, release)
}

/// [`queued_calls`] on a worker spawned from `builder`, released; returns once every
/// waker was woken.
fn run_calls(builder: Builder, calls: usize) -> (Vec<CallFuture<usize>>, Vec<String>) {
    let worker = builder
        .strategy(Strategy::Block)
        .spawn(|| ())
        .expect("spawn");
    let log: Log = Arc::default();
    let (futures, release) = queued_calls(&worker, calls, &log);
    release.send(()).unwrap();
    wait_for(|| woken(&log) == calls);
    let log = log.lock().unwrap().clone();
    (futures, log)
}

fn woken(log: &Log) -> usize {
    log.lock()
        .unwrap()
        .iter()
        .filter(|e| e.starts_with("woke"))
        .count()
}

/// Waits (without a time limit on the outcome: a generous deadline only turns a hang into
/// a failure) until `done`.
fn wait_for(done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "a wake-up was lost");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn answers(futures: Vec<CallFuture<usize>>) -> Vec<usize> {
    futures
        .into_iter()
        .map(|f| futures::executor::block_on(f).expect("answered"))
        .collect()
}

#[test]
fn a_wake_waits_for_the_calls_queued_behind_it() {
    let batch = NonZeroUsize::new(4).unwrap();
    let (futures, log) = run_calls(Builder::new().batch_wakes(batch), 5);
    assert_eq!(
        log,
        [
            "ran 0", "ran 1", "ran 2", "ran 3", "woke 0", "woke 1", "woke 2", "woke 3", "ran 4",
            "woke 4"
        ],
        "four calls' wakes together, the last when the queue ran empty"
    );
    assert_eq!(answers(futures), [0, 1, 2, 3, 4]);
}

#[test]
fn by_default_every_caller_is_woken_as_its_call_is_answered() {
    let (futures, log) = run_calls(Builder::new(), 3);
    assert_eq!(
        log,
        ["ran 0", "woke 0", "ran 1", "woke 1", "ran 2", "woke 2"]
    );
    assert_eq!(answers(futures), [0, 1, 2]);
}

#[test]
fn a_close_wakes_the_held_callers_first() {
    let batch = NonZeroUsize::new(8).unwrap();
    let worker = Builder::new()
        .batch_wakes(batch)
        .strategy(Strategy::Block)
        .spawn(|| ())
        .expect("spawn");
    let log: Log = Arc::default();
    let (futures, release) = queued_calls(&worker, 3, &log);
    let close = worker.close();
    release.send(()).unwrap();
    futures::executor::block_on(close).expect("closed");
    let log = log.lock().unwrap().clone();
    assert_eq!(
        log,
        ["ran 0", "ran 1", "ran 2", "woke 0", "woke 1", "woke 2"],
        "held, then woken before the close resolved"
    );
    assert_eq!(answers(futures), [0, 1, 2]);
}
