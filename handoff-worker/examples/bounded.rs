//! A bounded queue: a producer that makes calls faster than the worker runs them holds at
//! most `capacity` of them in the worker's queue; the others wait in line, in order, and a
//! call whose caller gives up while it waits never reaches the worker.
//!
//! `cargo run -p handoff-worker --example bounded`

use std::num::NonZeroUsize;
use std::time::Duration;

use futures::FutureExt;
use futures::future::join_all;
use handoff_worker::Builder;

fn main() {
    futures::executor::block_on(async {
        let capacity = NonZeroUsize::new(4).expect("four");
        let worker = Builder::new()
            .bounded(capacity)
            .spawn(Vec::<u32>::new)
            .expect("start the worker");
        // Twenty slow calls at once: four queued, the rest waiting in line.
        let calls: Vec<_> = (0..20)
            .map(|i| {
                worker.call(move |done: &mut Vec<u32>| {
                    std::thread::sleep(Duration::from_millis(1));
                    done.push(i);
                })
            })
            .collect();
        // One more, given up at once: it never reaches the worker.
        let mut abandoned = worker.call(|done: &mut Vec<u32>| done.push(999));
        assert!((&mut abandoned).now_or_never().is_none());
        drop(abandoned);
        for answer in join_all(calls).await {
            answer.expect("ran");
        }
        let done = worker.close().await.expect("the state back");
        assert_eq!(
            done,
            (0..20).collect::<Vec<_>>(),
            "in the order they were made"
        );
        println!(
            "20 calls ran in order through a queue of {capacity}; {} given up while waiting",
            worker.stats().unqueued
        );
    });
}
