//! `to-thread`: each runtime's own "run this on a pool thread" primitive.

use std::future::Future;

use super::{Handoff, job};
use crate::work::Work;

/// `tokio::task::spawn_blocking`.
#[derive(Debug, Clone, Copy)]
pub struct TokioSpawnBlocking(pub Work);

impl Handoff for TokioSpawnBlocking {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + 'static {
        let work = self.0;
        let task = tokio::task::spawn_blocking(move || job(work, input));
        async move { task.await.expect("spawn_blocking task failed") }
    }
}

/// `async_std::task::spawn_blocking`.
#[derive(Debug, Clone, Copy)]
pub struct AsyncStdSpawnBlocking(pub Work);

impl Handoff for AsyncStdSpawnBlocking {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + 'static {
        let work = self.0;
        async_std::task::spawn_blocking(move || job(work, input))
    }
}

/// `smol::unblock`.
#[derive(Debug, Clone, Copy)]
pub struct SmolUnblock(pub Work);

impl Handoff for SmolUnblock {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + 'static {
        let work = self.0;
        smol::unblock(move || job(work, input))
    }
}
