//! When to stop adding blocks: `--min-blocks`, `--max-time` and "every gated pair resolved".
//!
//! # How it works
//!
//! 1. The first `min_blocks` blocks always run (verdicts are not looked at before).
//! 2. After that, no further block starts when no gated pair is inconclusive, or when no
//!    `--max-time` was given (a fixed-size run).
//! 3. With `--max-time`, the next block starts only if it is expected to finish within the
//!    budget: the elapsed time plus the longest block so far (a conservative estimate; the
//!    blocks run the same configurations, so they differ only by noise) must not exceed it.
//! 4. A hard cap of [`MAX_BLOCKS`] stops a runaway loop.
//!
//! The clock is a trait so the rule can be tested with a fake one. The budget counts the
//! benchmarking only (blocks), not the builds before it.
//!
//! Caveat (optional stopping): looking at the verdicts after every block and stopping once
//! they are resolved raises the chance of a false "regressed" somewhat above the nominal
//! alpha, as with any sequential look without alpha spending. Two things keep it small: a
//! regression needs the whole interval above `1 + threshold`, not merely above 1, and an A/A
//! pair's interval tends to shrink around 1, i.e. towards "unchanged". `calibrate` measures
//! fixed-size trials (`--blocks`); run it with the gate's `--min-blocks`.

use std::time::{Duration, Instant};

pub use crate::model::paired_record::StopReason;

/// No run ever needs more blocks than this.
pub const MAX_BLOCKS: u32 = 10_000;

/// Time since the paired run started.
pub trait Clock {
    fn elapsed(&self) -> Duration;
}

/// The real clock.
#[derive(Debug)]
pub struct MonotonicClock(Instant);

impl MonotonicClock {
    pub fn start() -> Self {
        MonotonicClock(Instant::now())
    }
}

impl Clock for MonotonicClock {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// `--min-blocks` and `--max-time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopRule {
    pub min_blocks: u32,
    pub max_time: Option<Duration>,
}

impl StopRule {
    /// `None`: start another block; `Some(reason)`: stop. `durations` are the blocks run so
    /// far, `unresolved` the gated pairs still inconclusive after them.
    pub fn decide(
        &self,
        durations: &[Duration],
        elapsed: Duration,
        unresolved: usize,
    ) -> Option<StopReason> {
        let done = durations.len() as u32;
        if done >= MAX_BLOCKS {
            return Some(StopReason::BlockCap);
        }
        if done < self.min_blocks {
            return None;
        }
        if unresolved == 0 {
            return Some(StopReason::Resolved);
        }
        let Some(budget) = self.max_time else {
            return Some(StopReason::FixedBlocks);
        };
        let next = durations.iter().max().copied().unwrap_or_default();
        (elapsed + next > budget).then_some(StopReason::Budget)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::Cell;

    use super::*;

    /// A clock that moves only when told.
    #[derive(Debug, Default)]
    pub(crate) struct FakeClock(pub Cell<Duration>);

    impl FakeClock {
        pub(crate) fn advance(&self, by: Duration) {
            self.0.set(self.0.get() + by);
        }
    }

    impl Clock for FakeClock {
        fn elapsed(&self) -> Duration {
            self.0.get()
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// Runs blocks of the given durations (cycled) until the rule stops; returns how many
    /// ran and why they stopped. `resolved_after`: blocks after which nothing is unresolved.
    fn simulate(
        rule: StopRule,
        block_secs: &[u64],
        resolved_after: Option<u32>,
    ) -> (u32, StopReason) {
        let clock = FakeClock::default();
        let mut durations = Vec::new();
        loop {
            let unresolved = match resolved_after {
                Some(k) if durations.len() as u32 >= k => 0,
                _ => 3,
            };
            if let Some(reason) = rule.decide(&durations, clock.elapsed(), unresolved) {
                return (durations.len() as u32, reason);
            }
            let d = secs(block_secs[durations.len() % block_secs.len()]);
            clock.advance(d);
            durations.push(d);
        }
    }

    #[test]
    fn min_blocks_then_the_budget_with_the_longest_block_as_estimate() {
        let rule = StopRule {
            min_blocks: 3,
            max_time: Some(secs(55)),
        };
        // 10 s blocks: after 3 (30 s) 40 <= 55 runs, after 4 (40 s) 50 <= 55 runs, after 5
        // (50 s) 60 > 55 stops.
        assert_eq!(simulate(rule, &[10], None), (5, StopReason::Budget));
        // A 20 s block among them makes the estimate 20 s: 10+20+10 = 40, 40 + 20 > 55.
        assert_eq!(
            simulate(rule, &[10, 20, 10, 5], None),
            (3, StopReason::Budget)
        );
        // Exactly on budget is allowed: 5 x 11 = 55.
        let exact = StopRule {
            min_blocks: 1,
            max_time: Some(secs(55)),
        };
        assert_eq!(simulate(exact, &[11], None), (5, StopReason::Budget));
    }

    #[test]
    fn min_blocks_run_even_past_the_budget() {
        let rule = StopRule {
            min_blocks: 4,
            max_time: Some(secs(5)),
        };
        assert_eq!(simulate(rule, &[10], None), (4, StopReason::Budget));
    }

    #[test]
    fn stops_as_soon_as_everything_is_resolved() {
        let rule = StopRule {
            min_blocks: 3,
            max_time: Some(secs(1000)),
        };
        assert_eq!(simulate(rule, &[10], Some(7)), (7, StopReason::Resolved));
        // Resolved before min_blocks: min_blocks still run.
        assert_eq!(simulate(rule, &[10], Some(1)), (3, StopReason::Resolved));
    }

    #[test]
    fn without_max_time_the_run_has_min_blocks() {
        let rule = StopRule {
            min_blocks: 6,
            max_time: None,
        };
        assert_eq!(simulate(rule, &[10], None), (6, StopReason::FixedBlocks));
        assert_eq!(simulate(rule, &[10], Some(0)), (6, StopReason::Resolved));
    }
}
