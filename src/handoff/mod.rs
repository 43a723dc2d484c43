//! Ways of handing a synchronous call to another thread and awaiting its answer.

pub mod dedicated;
pub mod patterns;
pub mod peers;
pub mod to_thread;

use std::future::Future;

use crate::measure::{self, Role};
use crate::work::Session;

/// One way of making a call on another thread from async code.
pub trait Handoff {
    /// Runs the work on the other thread for `input` and resolves to its answer. The future
    /// may borrow the handoff, as a call through a crate's `&self` method does.
    fn call(&self, input: u64) -> impl Future<Output = u64> + Send + '_;
}

/// What every handoff runs on the other side: mark the thread as a worker, then answer the
/// call from the thread's session.
#[inline]
pub fn job(session: &mut Session, input: u64) -> u64 {
    measure::register(Role::Worker);
    session.answer(input)
}
