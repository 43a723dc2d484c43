//! The caller's side of waiting: whether a call's future spins for its reply inside its first
//! `poll` before it registers its waker and returns `Pending`, and for how long.
//!
//! # Why callers spin at all
//!
//! A sequential caller on a current-thread executor returns `Pending`, and the executor goes
//! to sleep unless the reply's wake comes first; then every answer pays a wake-up of the
//! caller's thread (tens of microseconds on a VM) on top of the worker's. A short spin on
//! the caller's side catches a short call's reply instead, and costs less CPU than the sleep
//! and wake-up it replaces.
//!
//! # Policy ([`CallerSpin::Adaptive`], the default with the adaptive strategies)
//!
//! The worker's rule ([`crate::adaptive`]) from the caller's side, over the time from making
//! a call to its reply:
//!
//! 1. No spin for a call made while another call to the same worker is outstanding (its
//!    reply comes after the others', and the executor thread has their answers to handle
//!    meanwhile: spinning would hold it from them, and not spinning costs no sleep, since
//!    those answers keep it busy), for a call sent to a sleeping worker (its wake-up alone
//!    takes longer than a spin worth making), to a worker on the caller's own CPU (the spin
//!    would keep it from running), or to a crowded one ([`crate::crowding`]: the spin would
//!    hold a CPU other threads wait for); no spin with one usable CPU.
//! 2. Otherwise the budget with the lowest expected cost over a fading histogram of reply
//!    times ([`crate::histogram`]), a sleep and wake-up priced like a park of the worker's
//!    ([`crate::costs`]), and at most [`MAX_CPU_SPIN`] ([`MAX_LATENCY_SPIN`] preferring
//!    latency): the spin holds the executor thread, and other tasks on it wait that long.
//! 3. A reply caught by the spin is recorded to the middle of its round of checks
//!    ([`crate::rounds`]); one that was not, as the time until
//!    the future was polled again (an overestimate by the caller's wake-up). The record is
//!    kept in one word and learned when the next call's spin begins ([`CallerSpin::learn`]),
//!    while that spin waits for the worker anyway: nothing of the learning is on the path
//!    from a reply to the caller's next call.
//! 4. While the budget is below its longest, every `n`-th call probes with the longest
//!    budget; `n` halves when a probe catches the reply sooner than a sleep would cost, and
//!    doubles (to 256) otherwise.
//!    So calls that take longer, or many calls in flight, cost at most one probe per 256
//!    calls, and calls that become short again are noticed.
//!
//! Concurrent callers share the histogram through relaxed loads and stores: an update can
//! be lost, which only makes it a little slower to move, and no locked instruction is on
//! the path of a call.

use std::time::Duration;

pub(crate) use crate::caller_learning::AdaptiveCallerSpin;
use crate::costs::Place;

/// The longest adaptive caller spin when a park is priced by its CPU.
pub(crate) const MAX_CPU_SPIN: Duration = Duration::from_micros(50);
/// The longest adaptive caller spin when preferring latency (also the cap of a fixed
/// [`Builder::busy_poll`](crate::Builder::busy_poll)).
pub(crate) const MAX_LATENCY_SPIN: Duration = Duration::from_micros(100);

/// How a call's future waits for its reply.
#[derive(Debug)]
pub(crate) enum CallerSpin {
    /// Registers its waker at once.
    Off,
    /// Spins for up to this long, every call ([`Builder::busy_poll`](crate::Builder::busy_poll)).
    Fixed(Duration),
    /// Learns how long to spin (module docs).
    Adaptive(AdaptiveCallerSpin),
}

/// One call's spin, decided when it is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) budget: Duration,
    /// Tell the policy what the spin found.
    pub(crate) learn: bool,
    pub(crate) probing: bool,
}

impl CallerSpin {
    /// The call `id` (non-zero, unique while it is outstanding) is made: the adaptive spin
    /// notes it as the newest outstanding call, until [`CallerSpin::end`]. Returns whether
    /// it was noted and whether no other call was outstanding.
    ///
    /// One word holds the newest outstanding call, set and cleared by plain loads and stores
    /// (no locked instruction on a call's path): a call clears it only if it still holds its
    /// own id. Calls answered in the order they were made (one worker's) leave it set until
    /// the newest is answered; a race between two threads can make one call look alone, or
    /// not, but the word is never left holding an answered call: of the stores to it, the
    /// last is a clear or the id of a call not yet answered.
    pub(crate) fn begin(&self, id: usize) -> Outstanding {
        match self {
            Self::Adaptive(policy) => Outstanding {
                counted: true,
                alone: policy.begin(id),
            },
            _ => Outstanding {
                counted: false,
                alone: true,
            },
        }
    }

    /// The call `id` noted by [`CallerSpin::begin`] was answered or given up.
    pub(crate) fn end(&self, id: usize) {
        if let Self::Adaptive(policy) = self {
            policy.end(id);
        }
    }

    /// The spin for a call made while the worker was at `place` and other calls were
    /// (`!alone`) or were not outstanding (`None`: register the waker at once).
    pub(crate) fn plan(&self, place: Place, alone: bool) -> Option<Plan> {
        match self {
            Self::Off => None,
            Self::Fixed(budget) => Some(Plan {
                budget: *budget,
                learn: false,
                probing: false,
            }),
            Self::Adaptive(policy) if alone => policy.plan(place),
            Self::Adaptive(_) => None,
        }
    }

    /// Step 3: the reply of a call planned with `plan` came `waited` after the spin began;
    /// kept for [`CallerSpin::learn`] (a newer reply replaces it).
    pub(crate) fn replied(&self, plan: Plan, waited: Duration, caught: bool) {
        if let (Self::Adaptive(policy), true) = (self, plan.learn) {
            policy.keep(plan, waited, caught);
        }
    }

    /// Step 3: learns the reply kept by [`CallerSpin::replied`], if any. Called as a spin
    /// begins.
    pub(crate) fn learn(&self) {
        if let Self::Adaptive(policy) = self {
            policy.learn();
        }
    }
}

/// What [`CallerSpin::begin`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outstanding {
    /// The call is counted: [`CallerSpin::end`] must follow.
    pub(crate) counted: bool,
    /// No other call to the worker was outstanding.
    pub(crate) alone: bool,
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::adaptive::Priority;
    use crate::costs::Costs;

    const AWAKE: Place = Place::AWAKE;

    fn spin(park_us: u64) -> CallerSpin {
        let costs = Arc::new(Costs::default());
        for _ in 0..100 {
            costs.parked(Duration::from_micros(park_us));
        }
        CallerSpin::Adaptive(AdaptiveCallerSpin::new(Priority::Cpu, costs))
    }

    /// Makes `n` calls whose replies come `reply` after the spin begins; returns how many
    /// spun and how many of those caught the reply.
    fn feed(spin: &CallerSpin, n: usize, reply: Duration) -> (usize, usize) {
        let (mut spun, mut caught) = (0, 0);
        for _ in 0..n {
            if let Some(plan) = spin.plan(AWAKE, true) {
                spun += 1;
                spin.learn();
                let hit = reply <= plan.budget;
                caught += usize::from(hit);
                spin.replied(plan, reply, hit);
            }
        }
        (spun, caught)
    }

    #[test]
    fn short_replies_are_spun_for() {
        let spin = spin(15);
        let (spun, caught) = feed(&spin, 1_000, Duration::from_micros(4));
        assert_eq!((spun, caught), (1_000, 1_000));
    }

    #[test]
    fn replies_slower_than_a_park_stop_the_spinning_but_for_rare_probes() {
        let spin = spin(15);
        feed(&spin, 100, Duration::from_micros(200));
        let (spun, _) = feed(&spin, 10_000, Duration::from_micros(200));
        assert!(spun <= 10_000 / 256 + 8, "{spun} spins for 200 us replies");
    }

    #[test]
    fn after_long_replies_short_ones_bring_the_spinning_back() {
        let spin = spin(15);
        feed(&spin, 5_000, Duration::from_micros(200));
        feed(&spin, 2_000, Duration::from_micros(3));
        let (spun, caught) = feed(&spin, 100, Duration::from_micros(3));
        assert_eq!((spun, caught), (100, 100));
    }

    #[test]
    fn a_sleeping_crowded_or_cpu_sharing_worker_is_never_spun_for() {
        let spin = spin(15);
        feed(&spin, 100, Duration::from_micros(2));
        let asleep = Place {
            sleeping: true,
            ..AWAKE
        };
        assert_eq!(spin.plan(asleep, true), None);
        let together = Place {
            together: true,
            ..AWAKE
        };
        assert_eq!(
            spin.plan(together, true),
            None,
            "worker and caller on one CPU"
        );
        let crowded = Place {
            crowded: true,
            ..AWAKE
        };
        assert_eq!(spin.plan(crowded, true), None, "a crowded worker");
        assert!(spin.plan(AWAKE, true).is_some());
    }

    #[test]
    fn the_spin_never_exceeds_the_executor_cap() {
        // Parks of 1 ms: twice that is far above what an executor thread may spin.
        let spin = spin(1_000);
        let plan = spin.plan(AWAKE, true).expect("a learning spin");
        assert_eq!(plan.budget, MAX_CPU_SPIN);
    }

    #[test]
    fn a_call_made_while_another_is_outstanding_is_not_spun_for() {
        let spin = spin(15);
        feed(&spin, 100, Duration::from_micros(2));
        let first = spin.begin(1);
        assert_eq!(
            first,
            Outstanding {
                counted: true,
                alone: true
            }
        );
        let second = spin.begin(2);
        assert!(!second.alone);
        assert_eq!(spin.plan(AWAKE, second.alone), None);
        // Answered in order: the first leaves the second noted.
        spin.end(1);
        assert!(!spin.begin(3).alone);
        spin.end(2);
        spin.end(3);
        assert!(spin.begin(4).alone, "all answered: the next call is alone");
        spin.end(4);
    }

    #[test]
    fn a_reply_is_learned_when_the_next_spin_begins_not_when_it_comes() {
        let spin = spin(15);
        let CallerSpin::Adaptive(policy) = &spin else {
            unreachable!("an adaptive spin");
        };
        let plan = spin.plan(AWAKE, true).expect("a learning spin");
        spin.replied(plan, Duration::from_micros(3), true);
        assert_eq!(policy.seen(), 0, "learned on the reply's path");
        spin.learn();
        assert_eq!(policy.seen(), 1);
        spin.learn();
        assert_eq!(policy.seen(), 1, "one reply learned twice");
    }

    #[test]
    fn off_and_fixed_do_what_they_say() {
        assert_eq!(CallerSpin::Off.plan(AWAKE, true), None);
        assert!(!CallerSpin::Off.begin(1).counted);
        let d = Duration::from_micros(7);
        let fixed = CallerSpin::Fixed(d);
        let plan = fixed.plan(
            Place {
                sleeping: true,
                together: true,
                crowded: true,
            },
            false,
        );
        assert_eq!(plan.map(|p| p.budget), Some(d));
    }
}
