//! Deadlines inside a tokio application: the worker starts no other runtime's timer thread,
//! and tokio's own timeout is the caller-side deadline (dropping the future cancels the
//! call). A test binary of its own: the other tests run async-std and smol, whose threads
//! would be counted.

#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use futures::FutureExt;

mod common;

use common::{gate, wait};
use handoff_worker::{CallError, Worker};

/// The names of this process's threads.
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .expect("list /proc/self/task")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim_end().to_owned())
        .collect()
}

#[test]
fn deadlines_start_no_timer_thread_and_tokios_timeout_cancels_the_call() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let worker = Worker::spawn(|| 0_u32).unwrap();
        let (open, started, busy) = gate(&worker);
        wait(&started);
        // Worker-side deadlines: one already passed, one far away.
        let expired = worker.call_with_deadline(Instant::now(), |n, _| *n);
        let mut later = worker.call_with_timeout(Duration::from_secs(600), |n, _| *n + 1);
        // Polled once while it waits behind the gate: a future that kept a timer would
        // register it (and start its runtime's driver thread) now.
        assert!((&mut later).now_or_never().is_none());
        // Caller-side: tokio's timeout gives up on a call stuck behind the gate.
        let gave_up = tokio::time::timeout(Duration::from_millis(10), worker.call(|n| *n)).await;
        assert!(
            gave_up.is_err(),
            "the call behind the gate answered: {gave_up:?}"
        );
        let threads = thread_names();
        assert!(
            !threads.iter().any(|name| name.starts_with("async-io")),
            "a deadline started another runtime's timer thread: {threads:?}"
        );
        open.send(()).unwrap();
        busy.await.unwrap();
        assert_eq!(expired.await, Err(CallError::TimedOut));
        assert_eq!(later.await, Ok(1));
        // The abandoned call was skipped, never run.
        let stats = worker.stats();
        assert_eq!(
            (stats.skipped_cancelled, stats.skipped_timed_out),
            (1, 1),
            "{stats:?}"
        );
        assert_eq!(stats.ok, 2, "{stats:?}");
    });
}
