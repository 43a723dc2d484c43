//! [`WaitHooks`] see every wait of the worker thread and of a busy-polling caller, in pairs.
//! A test binary of its own: the hooks are process-wide.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use handoff_worker::{Builder, Strategy, WaitHooks};

static ENTERED: AtomicU64 = AtomicU64::new(0);
static LEFT: AtomicU64 = AtomicU64::new(0);
static SPUN: AtomicU64 = AtomicU64::new(0);

fn enter() {
    ENTERED.fetch_add(1, Ordering::SeqCst);
}
fn leave() {
    LEFT.fetch_add(1, Ordering::SeqCst);
}
fn spin() {
    SPUN.fetch_add(1, Ordering::SeqCst);
    std::thread::yield_now();
}

#[test]
fn every_wait_enters_and_leaves_once_and_spins_through_the_hook() {
    assert!(WaitHooks::install(WaitHooks { enter, leave, spin }));
    assert!(
        !WaitHooks::install(WaitHooks { enter, leave, spin }),
        "installed twice"
    );
    futures::executor::block_on(async {
        // The worker parks on every empty queue: each of its waits is one park.
        let worker = Builder::new()
            .strategy(Strategy::Block)
            .spawn(|| 0_u32)
            .unwrap();
        // Nothing is queued yet, so the worker's first wait is a park: at least one wait
        // whatever the scheduler does later (on a loaded machine a caller can send each next
        // call before the worker looks, and then the worker never waits).
        while worker.stats().parks == 0 {
            std::thread::yield_now();
        }
        for _ in 0..50 {
            worker.call(|n| *n += 1).await.unwrap();
        }
        let stats = worker.stats();
        assert_eq!(worker.shutdown().await, Ok(()));
        let waits = worker.stats().parks;
        assert!(waits >= stats.parks && waits >= 1, "{stats:?}");
        assert_eq!(ENTERED.load(Ordering::SeqCst), waits);
        assert_eq!(LEFT.load(Ordering::SeqCst), waits);
        assert_eq!(SPUN.load(Ordering::SeqCst), 0, "a blocking worker spun");

        // A busy-polling caller's waits go through the hooks too: one per call it polls,
        // and its spin steps call the hook (the call answers only once the caller spun).
        let polled = Builder::new()
            .strategy(Strategy::Block)
            .busy_poll(Duration::from_micros(50))
            .spawn(|| ())
            .unwrap();
        let before = (ENTERED.load(Ordering::SeqCst), SPUN.load(Ordering::SeqCst));
        let spun_before = before.1;
        polled
            .call(move |()| {
                while SPUN.load(Ordering::SeqCst) == spun_before {
                    std::thread::yield_now();
                }
            })
            .await
            .unwrap();
        polled.shutdown().await.unwrap();
        let worker_waits = polled.stats().parks;
        assert_eq!(
            ENTERED.load(Ordering::SeqCst) - before.0,
            worker_waits + 1,
            "the caller's busy poll is one wait"
        );
        assert_eq!(ENTERED.load(Ordering::SeqCst), LEFT.load(Ordering::SeqCst));
        assert!(
            SPUN.load(Ordering::SeqCst) > before.1,
            "the busy poll did not spin"
        );
    });
}
