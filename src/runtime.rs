//! The async runtimes under test: how the benchmark's task is polled, and how it sleeps.

use std::future::Future;
use std::time::Duration;

use crate::measure::{self, Role};
use crate::pinning;

/// An async runtime, configured the way the benchmark runs it; its name is the runtime part
/// of an id.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::EnumIter, strum::IntoStaticStr, strum::Display,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Runtime {
    /// tokio's `current_thread` flavour: the calling thread polls the task.
    TokioCurrent,
    /// tokio's `multi_thread` flavour with 2 workers; calls are made from a spawned task, as a
    /// server's request handler would make them.
    TokioMulti,
    /// async-std's `task::block_on`.
    AsyncStd,
    /// smol's `block_on`.
    Smol,
}

impl Runtime {
    /// The runtime part of a configuration id.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// Runs `task` to completion on this runtime. The runtime is built here and shut down
    /// before this returns, so neither is part of what `task` measures.
    pub fn block_on<F>(self, task: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Runtime::TokioCurrent => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                // Only threads that poll tasks park through the scheduler (blocking-pool
                // threads do not), so this marks exactly the loop threads.
                .on_thread_park(|| measure::register(Role::Loop))
                // tokio starts blocking-pool threads that may never run a call (another
                // pool thread takes it): with `--pin` they must not stay on the loop CPU.
                .on_thread_start(pinning::on_thread_start)
                .build()
                .expect("building a tokio current_thread runtime")
                .block_on(task),
            Runtime::TokioMulti => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .on_thread_park(|| measure::register(Role::Loop))
                    .on_thread_start(pinning::on_thread_start)
                    .build()
                    .expect("building a tokio multi_thread runtime");
                let handler = runtime.spawn(task);
                runtime
                    .block_on(handler)
                    .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()))
            }
            Runtime::AsyncStd => async_std::task::block_on(task),
            Runtime::Smol => smol::block_on(task),
        }
    }

    /// Waits `duration` with this runtime's own timer.
    pub async fn sleep(self, duration: Duration) {
        match self {
            Runtime::TokioCurrent | Runtime::TokioMulti => tokio::time::sleep(duration).await,
            Runtime::AsyncStd => async_std::task::sleep(duration).await,
            Runtime::Smol => {
                smol::Timer::after(duration).await;
            }
        }
    }
}
