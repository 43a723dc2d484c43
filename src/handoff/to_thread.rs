//! `to-thread`: each runtime's own "run this on a pool thread" primitive. SQL work runs on
//! the pool thread's own connection ([`Workload::run_here`]).

use std::future::Future;

use crate::measure::{self, Role};
use crate::work::Workload;

/// What a pool thread runs: mark it as a worker, then answer.
fn pool_job(workload: &Workload, input: u64) -> u64 {
    measure::register(Role::Worker);
    workload.run_here(input)
}

/// `tokio::task::spawn_blocking`.
#[derive(Debug, Clone)]
pub struct TokioSpawnBlocking(pub Workload);

impl super::Handoff for TokioSpawnBlocking {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + '_ {
        let workload = self.0.clone();
        let task = tokio::task::spawn_blocking(move || pool_job(&workload, input));
        async move { task.await.expect("spawn_blocking task failed") }
    }
}

/// `async_std::task::spawn_blocking`.
#[derive(Debug, Clone)]
pub struct AsyncStdSpawnBlocking(pub Workload);

impl super::Handoff for AsyncStdSpawnBlocking {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + '_ {
        let workload = self.0.clone();
        async_std::task::spawn_blocking(move || pool_job(&workload, input))
    }
}

/// `smol::unblock`.
#[derive(Debug, Clone)]
pub struct SmolUnblock(pub Workload);

impl super::Handoff for SmolUnblock {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + '_ {
        let workload = self.0.clone();
        smol::unblock(move || pool_job(&workload, input))
    }
}
