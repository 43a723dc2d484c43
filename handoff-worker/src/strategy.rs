//! How the worker thread waits on an empty queue: [`Strategy`], and the [`Policy`] that
//! carries it out.

use std::time::Duration;

use crate::adaptive::{Adaptive, Tuning};
use crate::machine::Machine;

/// How the worker thread waits on an empty queue.
///
/// Chosen with [`Builder::strategy`](crate::Builder::strategy); the default is
/// [`Strategy::Adaptive`]. How the *caller* waits is a setting of its own,
/// [`Builder::busy_poll`](crate::Builder::busy_poll).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Strategy {
    /// Park as soon as the queue is empty: no CPU burnt while idle, a futex wake per call
    /// that finds the worker parked.
    Block,
    /// Spin for up to this long on an empty queue, then park, whatever the machine.
    Spin(Duration),
    /// Spin when calls come back-to-back, park when they are sparse (the default), with
    /// thresholds set from what a park/unpark round trip costs on this machine (measured
    /// once per process, by the first adaptive worker, in about 24 round trips), and no
    /// spinning at all when the worker may use only one CPU.
    ///
    /// A worker spins through an expected gap up to one park round trip (spinning that
    /// long costs no more CPU than the park it saves), for up to 5/3 of one per idle
    /// period while calls keep coming back-to-back; when calls are sparse it parks at once,
    /// and re-measures the gap with a short spin at most every 64 idle periods. The policy
    /// in full is in the crate's source (`adaptive.rs`).
    #[default]
    Adaptive,
}

/// The worker thread's decision maker: how long to spin before parking, fed back with what
/// happened.
#[derive(Debug, Clone)]
pub(crate) enum Policy {
    Block,
    Spin(Duration),
    Adaptive(Adaptive),
}

impl Policy {
    /// The policy for `strategy` on this machine. Call it on the worker thread: the
    /// adaptive one may measure a park round trip first (once per process).
    pub(crate) fn new(strategy: Strategy, cpus: usize) -> Self {
        match strategy {
            Strategy::Block => Self::Block,
            Strategy::Spin(d) => Self::Spin(d),
            Strategy::Adaptive if cpus < 2 => Self::Block,
            Strategy::Adaptive => {
                Self::Adaptive(Adaptive::new(Tuning::for_machine(Machine::here(cpus))))
            }
        }
    }

    /// How long to spin on the now-empty queue before parking (zero: park at once).
    pub(crate) fn spin_budget(&mut self) -> Duration {
        match self {
            Self::Block => Duration::ZERO,
            Self::Spin(d) => *d,
            Self::Adaptive(a) => Duration::from_nanos(a.spin_budget_ns()),
        }
    }

    /// A call arrived `gap` after the queue became empty, while spinning.
    pub(crate) fn caught(&mut self, gap: Duration) {
        if let Self::Adaptive(a) = self {
            a.caught(crate::adaptive::nanos(gap));
        }
    }

    /// The spin budget ran out and the worker's blocking receive returned after
    /// `receiving` (`since_empty` after the queue became empty).
    ///
    /// crossbeam's `recv` itself spins and yields briefly before it sleeps, so a call that
    /// arrives soon after the budget ran out is often caught without a real park. The
    /// policy hears what happened rather than what it planned: a receive that returned
    /// within the spin threshold is a (late) catch with `since_empty` as its gap (which may
    /// include a short park and its wake-up); only a longer wait counts as a park.
    pub(crate) fn received_after_spin(&mut self, since_empty: Duration, receiving: Duration) {
        if let Self::Adaptive(a) = self {
            if receiving <= a.spin_worth() {
                a.caught(crate::adaptive::nanos(since_empty));
            } else {
                a.parked();
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn vm_policy() -> Policy {
        Policy::Adaptive(Adaptive::new(Tuning::for_machine(Machine {
            park_round_trip: Duration::from_micros(30),
            cpus: 2,
        })))
    }

    fn spin_budget_after(policy: &mut Policy, rounds: usize, since: Duration, recv: Duration) {
        for _ in 0..rounds {
            policy.spin_budget();
            policy.received_after_spin(since, recv);
        }
    }

    #[test]
    fn a_quick_return_from_the_blocking_receive_is_a_late_catch_not_a_park() {
        let mut policy = vm_policy();
        // The 50 us budget ran out; crossbeam's own spin caught the call 2 us later.
        spin_budget_after(
            &mut policy,
            100,
            Duration::from_micros(52),
            Duration::from_micros(2),
        );
        let Policy::Adaptive(a) = &policy else {
            unreachable!()
        };
        // Late catches keep the hit rate up, but the gap it learns is the real one (52 us),
        // and at 52 us calls are not back-to-back: it parks at once now (probes aside).
        let mut a = a.clone();
        let budgets: Vec<u64> = (0..64).map(|_| a.spin_budget_ns()).collect();
        assert!(
            budgets.iter().filter(|&&b| b == 0).count() >= 60,
            "{budgets:?}"
        );
    }

    #[test]
    fn three_long_blocking_receives_switch_to_park_mode() {
        let mut policy = vm_policy();
        spin_budget_after(
            &mut policy,
            3,
            Duration::from_millis(2),
            Duration::from_millis(2),
        );
        let budgets: Vec<Duration> = (0..4)
            .map(|_| {
                let b = policy.spin_budget();
                policy.received_after_spin(Duration::from_millis(2), Duration::from_millis(2));
                b
            })
            .collect();
        assert!(budgets.contains(&Duration::ZERO), "{budgets:?}");
    }

    #[test]
    fn strategies_map_to_policies_and_one_cpu_never_spins() {
        assert!(matches!(Policy::new(Strategy::Block, 4), Policy::Block));
        assert_eq!(Strategy::default(), Strategy::Adaptive);
        let d = Duration::from_micros(5);
        assert!(matches!(Policy::new(Strategy::Spin(d), 4), Policy::Spin(x) if x == d));
        assert!(matches!(Policy::new(Strategy::Adaptive, 1), Policy::Block));
    }
}
