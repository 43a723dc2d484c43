//! The clock reads of a spin: only between rounds of checks, never after the awaited thing
//! came, and what they say of how long it took.
//!
//! A spin (the worker's for its next call, a caller's for its reply) checks many times
//! between two reads of the clock, because a read costs tens of nanoseconds on a VM
//! (`clock_gettime` through kvm-clock) and a check a few. Reading the clock once more when
//! the spin catches what it waits for would put one read on the path of every answer;
//! instead the wait is estimated from the reads already made: from the first to the middle
//! of the round that caught it, taking a round to last about as long as the one before. A catch before the second read counts as
//! at once (within a round or two: about a microsecond), which is all the adaptive policies
//! need to know of it.

use std::time::{Duration, Instant};

/// The clock reads between rounds of checks of a spin, and what they say of a wait that ended
/// in the round after the last: from the first read to the middle of that round (a round
/// lasts about as long as the one before it).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Rounds {
    first: Option<Instant>,
    last: Option<Instant>,
    waited: Duration,
}

impl Rounds {
    /// Reads the clock after a round: returns the first read and this one.
    pub(crate) fn read_clock(&mut self) -> (Instant, Instant) {
        self.read_clock_at(Instant::now())
    }

    /// [`Rounds::read_clock`] with the clock reading `now`.
    pub(crate) fn read_clock_at(&mut self, now: Instant) -> (Instant, Instant) {
        let first = *self.first.get_or_insert(now);
        if let Some(last) = self.last {
            let round = now.saturating_duration_since(last);
            self.waited = now.saturating_duration_since(first) + round / 2;
        }
        self.last = Some(now);
        (first, now)
    }

    /// The first read, if the clock was read.
    pub(crate) fn first(&self) -> Option<Instant> {
        self.first
    }

    /// How long after the first read the wait ended, for a wait that ends now.
    pub(crate) fn waited(&self) -> Duration {
        self.waited
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_catch_before_the_second_read_counts_as_at_once() {
        let t0 = Instant::now();
        let mut rounds = Rounds::default();
        assert_eq!(rounds.waited(), Duration::ZERO);
        assert_eq!(rounds.read_clock_at(t0), (t0, t0));
        assert_eq!(rounds.waited(), Duration::ZERO);
    }

    #[test]
    fn a_later_catch_counts_to_the_middle_of_its_round() {
        let t0 = Instant::now();
        let us = Duration::from_micros;
        let mut rounds = Rounds::default();
        rounds.read_clock_at(t0);
        assert_eq!(rounds.read_clock_at(t0 + us(400)), (t0, t0 + us(400)));
        assert_eq!(rounds.waited(), us(600));
        // Rounds that slow down (the thread was preempted) count by the last one.
        rounds.read_clock_at(t0 + us(1_000));
        assert_eq!(rounds.waited(), us(1_300));
    }
}
