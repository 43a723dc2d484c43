//! How the worker waits on an empty queue ([`Strategy`]), and the adaptive spin policy.

use std::time::Duration;

/// How the worker thread (and, for [`Strategy::BusyPoll`], the awaiting side) waits.
///
/// Chosen with [`Builder::strategy`](super::Builder::strategy); the default is
/// [`Strategy::Adaptive`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Strategy {
    /// Park as soon as the queue is empty: no CPU burnt while idle, a futex wake per call
    /// that finds the worker parked.
    Block,
    /// Spin for up to this long on an empty queue, then park.
    Spin(Duration),
    /// Spin when calls come back-to-back, park when they are sparse (the default).
    ///
    /// # Policy
    ///
    /// Two running estimates, both exponentially weighted moving averages with weight 1/4 for
    /// the newest observation:
    ///
    /// - the **gap**: time from "the queue became empty" to "the next call arrived", observed
    ///   whenever a call arrives during a spin, or when the worker's blocking receive
    ///   returns within `SPIN_WORTH` (a late catch: crossbeam's own short spin caught it;
    ///   the gap may then include a short real park and its wake-up); each observation is
    ///   clamped to
    ///   2 x `SPIN_WORTH`, so one stray long gap cannot flip the mode (three in a row can);
    /// - the **hit rate**: the share of idle periods in which the next call came within
    ///   that reach (a catch counts 1, a park counts 0).
    ///
    /// Decision on each empty queue:
    ///
    /// 1. **Spin mode** when the hit rate is at least 1/2 and the expected gap is at most
    ///    `SPIN_WORTH` (a park round trip, ~30 us here: a park costs about that much CPU
    ///    across both threads, so spinning for a gap up to that long burns no more CPU
    ///    than parking would, and answers sooner): spin up to
    ///    `SPIN_MODE_BUDGET` (50 us). Back-to-back calls (gaps of 1-5 us: the caller's own
    ///    round trip) stay here and never park; the budget is spent once at the end of a
    ///    burst. It is generous because a worker that parks while its caller is merely late
    ///    (preempted, polling its reactor) pays a wake-up of tens of microseconds, and on a
    ///    2-core machine the wake often lands both threads on one core for a long while.
    /// 2. Otherwise **park mode**: park at once, except that every `n`-th idle period is a
    ///    *probe* that spins `MAX_SPIN` (40 us) to re-measure the gap. A probe that
    ///    catches a call within `SPIN_WORTH` resets `n` to 1 (the next idle probes again, so
    ///    three quick catches in a row climb back to spin mode); a probe that misses doubles `n`
    ///    up to `MAX_PROBE_INTERVAL` (64). Sparse calls therefore cost at most one 40 us probe
    ///    per 64 calls, about 0.6 us of CPU per call, next to the ~20 microseconds of CPU
    ///    that each park/unpark costs anyway.
    ///
    /// From spin mode, two or three parks in a row (the hit rate falls by 1/4 of itself each
    /// time) switch to park mode; a new worker starts in spin mode with an expected gap of 2 us.
    #[default]
    Adaptive,
    /// For latency-critical callers: the worker waits as in [`Strategy::Adaptive`], and the
    /// awaiting future also spins for up to this long inside its first `poll`, checking for
    /// the reply before it registers its waker and returns `Pending`. That spin occupies the
    /// executor thread, so keep it short (a few microseconds).
    BusyPoll(Duration),
}

impl Strategy {
    /// The caller-side spin budget, for [`Strategy::BusyPoll`].
    pub(crate) fn busy_poll(self) -> Option<Duration> {
        match self {
            Self::BusyPoll(d) if !d.is_zero() => Some(d),
            _ => None,
        }
    }

    /// The worker-side policy.
    pub(crate) fn policy(self) -> Policy {
        match self {
            Self::Block => Policy::Block,
            Self::Spin(d) => Policy::Spin(d),
            Self::Adaptive | Self::BusyPoll(_) => Policy::Adaptive(Adaptive::new()),
        }
    }
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
            a.caught(u64::try_from(gap.as_nanos()).unwrap_or(u64::MAX));
        }
    }

    /// The spin budget ran out (or was zero) and the worker parks.
    pub(crate) fn parked(&mut self) {
        if let Self::Adaptive(a) = self {
            a.parked();
        }
    }

    /// The spin budget ran out and the worker's blocking receive returned after
    /// `receiving` (`since_empty` after the queue became empty).
    ///
    /// crossbeam's `recv` itself spins and yields briefly before it sleeps, so a call that
    /// arrives soon after the budget ran out is often caught without a real park. The
    /// policy hears what happened rather than what it planned: a receive that returned
    /// within `SPIN_WORTH` is a (late) catch with `since_empty` as its gap (which may include
    /// a short park and its wake-up); only a longer wait counts as a park.
    pub(crate) fn received_after_spin(&mut self, since_empty: Duration, receiving: Duration) {
        if receiving <= SPIN_WORTH {
            self.caught(since_empty);
        } else {
            self.parked();
        }
    }
}

/// Round trip of a park/unpark hand-off on the machines this was tuned on (2 vCPUs under
/// KVM: `floor/park` measures 20-35 us, and about 24 us of CPU per round trip).
pub(crate) const PARK_ROUND_TRIP: Duration = Duration::from_micros(30);
/// Expected gaps at or below this are worth spinning for: spinning through such a gap
/// costs no more CPU than the park it replaces, and answers without a wake-up.
pub(crate) const SPIN_WORTH: Duration = PARK_ROUND_TRIP;
/// In spin mode, every idle period spins this long before parking. Generous on purpose: a
/// worker that parks while its caller is merely slow for a moment (preempted, polling its
/// reactor) costs a futex wake, a wake-up latency of tens of microseconds, and often the
/// scheduler then places both threads on one core, where a spinning worker and a blocking
/// caller take turns for thousands of calls. It is spent once at the end of each burst.
pub(crate) const SPIN_MODE_BUDGET: Duration = Duration::from_micros(50);
/// In park mode, probes spin exactly this long.
pub(crate) const MAX_SPIN: Duration = Duration::from_micros(40);
/// In park mode, probes are at most this many idle periods apart.
pub(crate) const MAX_PROBE_INTERVAL: u32 = 64;

/// The state of the [`Strategy::Adaptive`] policy (documented there).
#[derive(Debug, Clone)]
pub(crate) struct Adaptive {
    /// EWMA of caught gaps, in nanoseconds.
    gap_ns: u64,
    /// EWMA of catches, in 1/256ths.
    hit_rate: u32,
    /// Park mode: idle periods between probes.
    probe_interval: u32,
    /// Park mode: idle periods since the last probe.
    since_probe: u32,
    /// Whether the current idle period is a probe.
    probing: bool,
}

const ONE: u32 = 256;

impl Adaptive {
    /// A fresh policy, in spin mode.
    pub(crate) fn new() -> Self {
        Self {
            gap_ns: 2_000,
            hit_rate: ONE * 3 / 4,
            probe_interval: 1,
            since_probe: 0,
            probing: false,
        }
    }

    fn spinning(&self) -> bool {
        self.hit_rate >= ONE / 2 && self.gap_ns <= nanos(SPIN_WORTH)
    }

    /// Spin budget for this idle period, in nanoseconds (0: park at once).
    pub(crate) fn spin_budget_ns(&mut self) -> u64 {
        self.probing = false;
        if self.spinning() {
            return nanos(SPIN_MODE_BUDGET);
        }
        self.since_probe += 1;
        if self.since_probe >= self.probe_interval {
            self.since_probe = 0;
            self.probing = true;
            nanos(MAX_SPIN)
        } else {
            0
        }
    }

    /// A spin caught a call `gap_ns` after the queue became empty.
    pub(crate) fn caught(&mut self, gap_ns: u64) {
        // One long gap (the caller's thread preempted, its runtime polling its reactor)
        // must not flip a worker that is catching back-to-back calls into park mode: clamp
        // each observation, so only a run of long gaps moves the average past SPIN_WORTH.
        self.gap_ns = ewma(self.gap_ns, gap_ns.min(2 * nanos(SPIN_WORTH)));
        self.hit_rate += (ONE - self.hit_rate) / 4;
        if self.probing {
            self.probe_interval = if gap_ns <= nanos(SPIN_WORTH) {
                1
            } else {
                (self.probe_interval * 2).min(MAX_PROBE_INTERVAL)
            };
        }
    }

    /// The spin (if any) missed and the worker parks.
    pub(crate) fn parked(&mut self) {
        self.hit_rate -= self.hit_rate / 4;
        if self.probing {
            self.probe_interval = (self.probe_interval * 2).min(MAX_PROBE_INTERVAL);
        }
    }
}

fn ewma(old: u64, new: u64) -> u64 {
    // old + (new - old) / 4, without signed arithmetic.
    (old * 3 + new) / 4
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `n` idle periods whose next call arrives after `gap_ns`; returns the budgets.
    fn feed(a: &mut Adaptive, n: usize, gap_ns: u64) -> Vec<u64> {
        (0..n)
            .map(|_| {
                let budget = a.spin_budget_ns();
                if budget >= gap_ns {
                    a.caught(gap_ns);
                } else {
                    a.parked();
                }
                budget
            })
            .collect()
    }

    #[test]
    fn back_to_back_calls_keep_spinning() {
        let mut a = Adaptive::new();
        let budgets = feed(&mut a, 1000, 3_000);
        assert!(
            budgets.iter().all(|&b| b == nanos(SPIN_MODE_BUDGET)),
            "{budgets:?}"
        );
        assert!(a.spinning());
    }

    #[test]
    fn one_long_gap_among_short_ones_does_not_stop_the_spinning() {
        let mut a = Adaptive::new();
        feed(&mut a, 100, 1_000);
        // A call caught after 40 us (the caller was preempted), then short gaps again.
        a.spin_budget_ns();
        a.caught(40_000);
        assert!(a.spinning(), "one long gap flipped the policy: {a:?}");
        let budgets = feed(&mut a, 10, 1_000);
        assert!(budgets.iter().all(|&b| b == nanos(SPIN_MODE_BUDGET)));
    }

    #[test]
    fn sparse_calls_park_and_probe_at_most_once_per_64_idles() {
        let mut a = Adaptive::new();
        let budgets = feed(&mut a, 10_000, 1_000_000);
        let spins = budgets[1000..].iter().filter(|&&b| b > 0).count();
        assert!(spins <= 9000 / 64 + 1, "{spins} spins in 9000 sparse idles");
        assert!(
            budgets[1000..]
                .iter()
                .all(|&b| b == 0 || b == nanos(MAX_SPIN))
        );
    }

    #[test]
    fn returns_to_spinning_after_a_sparse_phase() {
        let mut a = Adaptive::new();
        feed(&mut a, 10_000, 1_000_000);
        // Within two probe intervals the probes catch the back-to-back calls again.
        let budgets = feed(&mut a, 200, 3_000);
        assert!(budgets[130..].iter().all(|&b| b == nanos(SPIN_MODE_BUDGET)));
        assert!(a.spinning());
    }

    #[test]
    fn gaps_above_the_spin_threshold_do_not_keep_it_spinning() {
        let mut a = Adaptive::new();
        let budgets = feed(&mut a, 10_000, 45_000);
        let spins = budgets[1000..].iter().filter(|&&b| b > 0).count();
        assert!(spins <= 9000 / 64 + 1, "{spins} spins for 45 us gaps");
    }

    #[test]
    fn a_quick_return_from_the_blocking_receive_is_a_late_catch_not_a_park() {
        let mut policy = Policy::Adaptive(Adaptive::new());
        for _ in 0..100 {
            policy.spin_budget();
            // The 50 us budget ran out; crossbeam's own spin caught the call 2 us later.
            policy.received_after_spin(Duration::from_micros(52), Duration::from_micros(2));
        }
        let Policy::Adaptive(a) = &policy else {
            unreachable!()
        };
        assert!(
            a.hit_rate > ONE * 9 / 10,
            "late catches lowered the hit rate: {a:?}"
        );
        // The gap it learns is the real one, measured from when the queue became empty
        // (the integer average settles a hair low), and at 52 us calls are not back-to-back.
        assert!((51_990..=52_000).contains(&a.gap_ns), "{a:?}");
        assert!(!a.spinning());
    }

    #[test]
    fn a_long_blocking_receive_is_a_park() {
        let mut policy = Policy::Adaptive(Adaptive::new());
        for _ in 0..3 {
            policy.spin_budget();
            policy.received_after_spin(Duration::from_millis(2), Duration::from_millis(2));
        }
        let Policy::Adaptive(a) = &mut policy else {
            unreachable!()
        };
        assert!(
            !a.spinning(),
            "three real parks in a row keep it spinning: {a:?}"
        );
    }

    #[test]
    fn strategies_map_to_policies() {
        assert!(matches!(Strategy::Block.policy(), Policy::Block));
        assert_eq!(Strategy::default(), Strategy::Adaptive);
        let d = Duration::from_micros(5);
        assert!(matches!(Strategy::Spin(d).policy(), Policy::Spin(x) if x == d));
        assert!(matches!(
            Strategy::BusyPoll(d).policy(),
            Policy::Adaptive(_)
        ));
        assert_eq!(Strategy::BusyPoll(d).busy_poll(), Some(d));
        assert_eq!(Strategy::Adaptive.busy_poll(), None);
    }
}
