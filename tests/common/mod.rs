//! Shared by the worker's test binaries: the five executors every worker test runs on.
// Each test binary compiles its own copy of this module and uses only part of it.
#![allow(dead_code)]

use std::future::Future;

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
