//! Shared by the worker's test binaries: the five executors every worker test runs on.
// Each test binary compiles its own copy of this module and uses only part of it.
#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use handoff_worker::{CallFuture, Worker};

/// The executors every scenario runs on.
#[derive(Debug, Clone, Copy)]
pub enum Exec {
    TokioCurrent,
    TokioMulti,
    AsyncStd,
    Smol,
    Futures,
}

pub const ALL: [Exec; 5] = [
    Exec::TokioCurrent,
    Exec::TokioMulti,
    Exec::AsyncStd,
    Exec::Smol,
    Exec::Futures,
];

impl Exec {
    /// Runs `fut` to completion on this executor (on tokio multi_thread, from a spawned
    /// task, as a server handler would).
    pub fn block_on<Fut>(self, fut: Fut) -> Fut::Output
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        match self {
            Self::TokioCurrent => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio current_thread runtime")
                .block_on(fut),
            // As a server handler would: from a task spawned on the runtime's workers.
            Self::TokioMulti => {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("tokio multi_thread runtime");
                rt.block_on(rt.spawn(fut)).expect("spawned task")
            }
            Self::AsyncStd => async_std::task::block_on(fut),
            Self::Smol => smol::block_on(fut),
            Self::Futures => futures::executor::block_on(fut),
        }
    }
}

/// A hang fails the test instead of stalling the run.
pub const SCENARIO_LIMIT: Duration = Duration::from_secs(60);

/// Runs `scenario` to completion on every executor, each on a fresh thread with a time limit.
pub fn on_all<F, Fut>(scenario: F)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let scenario = Arc::new(scenario);
    for exec in ALL {
        let (done_tx, done_rx) = mpsc::channel();
        let scenario = scenario.clone();
        let runner = std::thread::Builder::new()
            .name(format!("{exec:?}"))
            .spawn(move || {
                exec.block_on(scenario());
                let _ = done_tx.send(());
            })
            .expect("spawn scenario thread");
        match done_rx.recv_timeout(SCENARIO_LIMIT) {
            Ok(()) => runner.join().expect("scenario thread"),
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("scenario hung on {exec:?}"),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                eprintln!("scenario failed on {exec:?}");
                if let Err(panic) = runner.join() {
                    std::panic::resume_unwind(panic);
                }
            }
        }
    }
}

/// A call that keeps the worker busy until the returned sender is dropped or sent to.
pub fn gate<T: 'static>(
    worker: &Worker<T>,
) -> (mpsc::Sender<()>, mpsc::Receiver<()>, CallFuture<()>) {
    let (open_tx, open_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let fut = worker.call(move |_| {
        let _ = started_tx.send(());
        let _ = open_rx.recv_timeout(SCENARIO_LIMIT);
    });
    (open_tx, started_rx, fut)
}

pub fn wait(rx: &mpsc::Receiver<()>) {
    rx.recv_timeout(SCENARIO_LIMIT)
        .expect("signal from the worker");
}
