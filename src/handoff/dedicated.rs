//! `dedicated*`: the project's own worker ([`crate::worker`], the `handoff-worker` crate) as a
//! benchmark handoff, one configuration per waiting strategy.

use std::future::Future;
use std::time::Duration;

use super::{Handoff, job};
use crate::work::{Session, Workload};
use crate::worker::{Builder, Worker};

/// How long `dedicated-spin` spins on an empty queue before it parks, and how long
/// `dedicated-busypoll`'s awaiting side checks for the reply before it returns `Pending`:
/// a few park round trips (~15 us here), so a back-to-back caller is always caught.
pub const SPIN_FOR: Duration = Duration::from_micros(50);

/// A [`Worker`] that owns its thread's [`Session`] (for SQL work, its
/// `rusqlite::Connection`, opened on the worker thread).
#[derive(Debug)]
pub struct Dedicated {
    worker: Worker<Session>,
}

impl Dedicated {
    /// Starts a worker thread configured by `worker`.
    pub fn spawn(workload: &Workload, worker: Builder) -> Self {
        let workload = workload.clone();
        let worker = worker
            .name("dedicated-worker")
            .spawn(move || workload.session())
            .expect("spawning the dedicated worker thread");
        Self { worker }
    }
}

/// With `HANDOFF_BENCH_DEBUG_THREADS` set, what the worker did and learned, on stderr (the
/// worker's counters: parks, spin hits, steps off the caller's CPU; and what its adaptive
/// policy measured a park and a wake-up to cost).
impl Drop for Dedicated {
    fn drop(&mut self) {
        if std::env::var_os("HANDOFF_BENCH_DEBUG_THREADS").is_some() {
            eprintln!(
                "dedicated worker: {:?}; {:?}",
                self.worker.stats(),
                self.worker.wait_costs()
            );
        }
    }
}

impl Handoff for Dedicated {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + '_ {
        let answer = self
            .worker
            .call(move |session: &mut Session| job(session, input));
        async move { answer.await.expect("the dedicated worker answered") }
    }
}

/// `dedicated-pool`: several [`Dedicated`] workers, each with its own session (for SQL work,
/// its own connection), calls dealt round-robin (async-sqlite's `Pool` deals its clients the
/// same way).
#[derive(Debug)]
pub struct DedicatedPool {
    workers: Vec<Dedicated>,
    next: std::sync::atomic::AtomicUsize,
}

impl DedicatedPool {
    /// Starts `size` workers configured by `worker`.
    pub fn spawn(workload: &Workload, worker: &Builder, size: usize) -> Self {
        let workers = (0..size.max(1))
            .map(|_| Dedicated::spawn(workload, worker.clone()))
            .collect();
        Self {
            workers,
            next: std::sync::atomic::AtomicUsize::new(0),
        }
    }
}

impl Handoff for DedicatedPool {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + '_ {
        // Relaxed: the counter only spreads calls; no other memory depends on it.
        let turn = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.workers[turn % self.workers.len()].call(input)
    }
}
