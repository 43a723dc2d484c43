//! The caller's side of waiting: whether a call's future spins for its reply inside its first
//! `poll` before it registers its waker and returns `Pending`.
//!
//! # Why the default worker spins on the caller's side too
//!
//! A sequential caller on a current-thread executor returns `Pending`, and the executor goes
//! to sleep unless the reply's wake comes first. With the worker spinning, the reply of a
//! short call comes a few hundred nanoseconds later, about as long as the executor takes to
//! reach its sleep: a race, decided anew in every process by details such as where the
//! allocator put the hot cache lines. A process that loses it loses it on every call, and
//! then every answer pays a futex wake and the caller's wake-up (10-20x the call). A short
//! spin on the caller's side turns the race into a sure catch.
//!
//! # Policy ([`CallerSpin::Adaptive`], the default with [`Strategy::Adaptive`](crate::Strategy))
//!
//! - Spin for up to [`ADAPTIVE_BUDGET`] while that pays: a running hit rate (the share of
//!   spins that caught the reply; weight 1/4 for the newest) is at least 1/2. A long call, or
//!   a worker that was parked, makes the spins miss, and then the caller stops spinning,
//!   but for a probe every [`PROBE_EVERY`] calls. So long calls cost at most one budget per
//!   16 calls, and a caught reply costs less CPU than the sleep and wake-up it replaces.
//! - Never with one usable CPU: the spin would keep the worker from running.
//!
//! Concurrent callers share the estimate through relaxed atomics: an update can be lost,
//! which only makes the estimate a little slower to move.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The adaptive caller's spin budget: several times a short call's reply latency when the
/// worker is awake (0.2-0.5 us on the VMs this was measured on), far below a wake-up.
pub(crate) const ADAPTIVE_BUDGET: Duration = Duration::from_micros(4);
/// When spinning does not pay, one call in this many still spins, to notice when it does
/// again.
pub(crate) const PROBE_EVERY: u32 = 16;

const ONE: u32 = 256;

/// How a call's future waits for its reply.
#[derive(Debug)]
pub(crate) enum CallerSpin {
    /// Registers its waker at once.
    Off,
    /// Spins for up to this long, every call ([`Builder::busy_poll`](crate::Builder::busy_poll)).
    Fixed(Duration),
    /// Spins for up to [`ADAPTIVE_BUDGET`] while that pays.
    Adaptive(AdaptiveCallerSpin),
}

impl CallerSpin {
    /// The budget for the next call's first poll (`None`: do not spin).
    pub(crate) fn budget(&self) -> Option<Duration> {
        match self {
            Self::Off => None,
            Self::Fixed(budget) => Some(*budget),
            Self::Adaptive(policy) => policy.spins().then_some(ADAPTIVE_BUDGET),
        }
    }

    /// What that spin found.
    pub(crate) fn record(&self, caught: bool) {
        if let Self::Adaptive(policy) = self {
            policy.record(caught);
        }
    }
}

/// The adaptive caller spin's shared state.
#[derive(Debug)]
pub(crate) struct AdaptiveCallerSpin {
    /// Share of spins that caught the reply, in 1/256ths.
    hit_rate: AtomicU32,
    /// Calls since the last probe, while not spinning.
    since_probe: AtomicU32,
}

impl Default for AdaptiveCallerSpin {
    fn default() -> Self {
        Self {
            hit_rate: AtomicU32::new(ONE * 3 / 4),
            since_probe: AtomicU32::new(0),
        }
    }
}

impl AdaptiveCallerSpin {
    /// Whether this call spins.
    fn spins(&self) -> bool {
        if self.hit_rate.load(Ordering::Relaxed) >= ONE / 2 {
            return true;
        }
        let since = self.since_probe.load(Ordering::Relaxed) + 1;
        let probe = since >= PROBE_EVERY;
        self.since_probe
            .store(if probe { 0 } else { since }, Ordering::Relaxed);
        probe
    }

    fn record(&self, caught: bool) {
        let old = self.hit_rate.load(Ordering::Relaxed);
        let new = if caught {
            old + (ONE - old) / 4
        } else {
            old - old / 4
        };
        // Saturated estimates do not change: skip the store, keep the line shared.
        if new != old {
            self.hit_rate.store(new, Ordering::Relaxed);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Runs `n` calls whose spins catch the reply as `caught(i)` says; returns which spun.
    fn feed(spin: &CallerSpin, n: usize, caught: impl Fn(usize) -> bool) -> Vec<bool> {
        (0..n)
            .map(|i| {
                let spun = spin.budget().is_some();
                if spun {
                    spin.record(caught(i));
                }
                spun
            })
            .collect()
    }

    #[test]
    fn short_calls_keep_the_caller_spinning() {
        let spin = CallerSpin::Adaptive(AdaptiveCallerSpin::default());
        assert!(feed(&spin, 1000, |_| true).iter().all(|&s| s));
        assert_eq!(spin.budget(), Some(ADAPTIVE_BUDGET));
    }

    #[test]
    fn long_calls_stop_the_spinning_but_for_one_probe_in_16() {
        let spin = CallerSpin::Adaptive(AdaptiveCallerSpin::default());
        let spun = feed(&spin, 1600, |_| false);
        let later = spun[100..].iter().filter(|&&s| s).count();
        assert!(later <= 1500 / 16 + 1, "{later} spins in 1500 long calls");
        assert!(later >= 1500 / 16 - 1, "{later}: the probes stopped");
    }

    #[test]
    fn after_a_run_of_long_calls_short_ones_bring_the_spinning_back() {
        let spin = CallerSpin::Adaptive(AdaptiveCallerSpin::default());
        feed(&spin, 1000, |_| false);
        let spun = feed(&spin, 200, |_| true);
        // Probes catch now: three catches in a row cross 1/2 again.
        assert!(spun[100..].iter().all(|&s| s), "{spun:?}");
    }

    #[test]
    fn one_miss_among_catches_does_not_stop_it() {
        let spin = CallerSpin::Adaptive(AdaptiveCallerSpin::default());
        let spun = feed(&spin, 1000, |i| i % 10 != 0);
        assert!(spun.iter().all(|&s| s));
    }

    #[test]
    fn off_and_fixed_do_what_they_say() {
        assert_eq!(CallerSpin::Off.budget(), None);
        let d = Duration::from_micros(7);
        let fixed = CallerSpin::Fixed(d);
        fixed.record(false);
        assert_eq!(fixed.budget(), Some(d));
    }
}
