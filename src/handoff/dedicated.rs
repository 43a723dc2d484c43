//! `dedicated*`: the project's own worker ([`crate::worker`], the `handoff-worker` crate) as a
//! benchmark handoff, one configuration per waiting strategy.

use std::future::Future;
use std::time::Duration;

use super::{Handoff, job};
use crate::work::Work;
use crate::worker::{Builder, Worker};

/// How long `dedicated-spin` spins on an empty queue before it parks, and how long
/// `dedicated-busypoll`'s awaiting side checks for the reply before it returns `Pending`:
/// a few park round trips (~15 us here), so a back-to-back caller is always caught.
pub const SPIN_FOR: Duration = Duration::from_micros(50);

/// A [`Worker`] whose state counts the calls it ran.
#[derive(Debug, Clone)]
pub struct Dedicated {
    work: Work,
    worker: Worker<u64>,
}

impl Dedicated {
    /// Starts a worker thread configured by `worker`.
    pub fn spawn(work: Work, worker: Builder) -> Self {
        let worker = worker
            .name("dedicated-worker")
            .spawn(|| 0u64)
            .expect("spawning the dedicated worker thread");
        Self { work, worker }
    }
}

impl Handoff for Dedicated {
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + 'static {
        let work = self.work;
        let answer = self.worker.call(move |calls: &mut u64| {
            *calls += 1;
            job(work, input)
        });
        async move { answer.await.expect("the dedicated worker answered") }
    }
}
