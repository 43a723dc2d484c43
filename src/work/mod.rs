//! What one call does on the worker thread (python-async-bench's WORK knob): plain kinds here, SQL
//! kinds on a real SQLite database in [`sql`], and what a worker thread holds to run them in
//! [`session`].

pub mod session;
pub mod sql;

use std::time::{Duration, Instant};

pub use handoff_protocol::work::{Query, Work, WorkSpecError};
pub use session::{Session, Workload};

/// Performing a [`Work`] (the protocol's `--work` grammar) on the calling thread.
pub trait Perform {
    /// Performs the work, then answers `input + 2` (python-async-bench's warm-up checks
    /// `7 == send(lambda x: x + 2, 5)`; every call here is checked the same way).
    ///
    /// # Panics
    /// For [`Work::Sql`], which needs a connection ([`Perform::run_on`]).
    fn run(self, input: u64) -> u64;

    /// Performs the work with `connection` at hand: SQL kinds query it, the others ignore it.
    fn run_on(self, connection: &rusqlite::Connection, input: u64) -> u64;
}

impl Perform for Work {
    #[inline]
    fn run(self, input: u64) -> u64 {
        match self {
            Work::Sql(query) => panic!("`{query}` needs a database connection"),
            Work::Zero => {}
            Work::Yield => std::thread::yield_now(),
            Work::Spin(duration) => spin_for(duration),
            Work::Sleep(duration) => std::thread::sleep(duration),
            Work::Loops(iterations) => busy_loops(iterations),
        }
        answer(input)
    }

    #[inline]
    fn run_on(self, connection: &rusqlite::Connection, input: u64) -> u64 {
        match self {
            Work::Sql(query) => sql::run(query, connection, input),
            plain => plain.run(input),
        }
    }
}

/// The answer every call must give for `input`.
#[inline]
pub const fn answer(input: u64) -> u64 {
    input.wrapping_add(2)
}

/// Burns CPU on the calling thread for `duration` (without sleeping).
pub fn spin_for(duration: Duration) {
    if duration.is_zero() {
        return;
    }
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

/// Runs `iterations` rounds of arithmetic the optimiser cannot remove or fold: the same
/// instructions every run, whatever the machine's speed (`--work loops:N`,
/// `--inject-loops N`).
#[inline(never)]
pub fn busy_loops(iterations: u64) {
    let mut state = 0u64;
    for round in 0..iterations {
        state = std::hint::black_box(
            state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(round),
        );
    }
    std::hint::black_box(state);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_answers_input_plus_two() {
        for work in [
            Work::Zero,
            Work::Yield,
            Work::Spin(Duration::from_nanos(100)),
            Work::Loops(100),
        ] {
            assert_eq!(work.run(5), 7);
        }
    }
}
