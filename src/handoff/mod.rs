//! Ways of handing a synchronous call to another thread and awaiting its answer.

pub mod dedicated;
pub mod patterns;
pub mod to_thread;

use std::future::Future;

use crate::measure::{self, Role};
use crate::work::Work;

/// One way of making a call on another thread from async code.
pub trait Handoff {
    /// Runs `work` on the other thread for `input` and resolves to its answer.
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + 'static;
}

/// What every handoff runs on the other side: mark the thread as a worker, then work.
#[inline]
pub fn job(work: Work, input: u64) -> u64 {
    measure::register(Role::Worker);
    work.run(input)
}
