//! What the adaptive caller spin ([`crate::caller_spin`]) shares between a worker's callers
//! and learns: the newest outstanding call, the last reply until it is learned, the fading
//! histogram of reply times, and the budget and probes drawn from it (steps 1-4 there).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use crate::adaptive::{LEARNING, MAX_PROBE_INTERVAL, MIN_PROBE_INTERVAL, Priority};
#[cfg(doc)]
use crate::caller_spin::CallerSpin;
use crate::caller_spin::{MAX_CPU_SPIN, MAX_LATENCY_SPIN, Plan};
use crate::costs::{Costs, Place, nanos};
use crate::histogram::{BUCKETS, FADE_EVERY, best_budget, bucket};

/// The budget is recomputed after this many recorded replies.
const RECOMPUTE_EVERY: u32 = 32;

/// The adaptive caller spin's shared state ([`crate::caller_spin`]'s module docs).
#[derive(Debug)]
pub(crate) struct AdaptiveCallerSpin {
    priority: Priority,
    /// The newest call made and not yet answered or given up (0: none), a hint for step 1
    /// ([`CallerSpin::begin`]).
    newest: AtomicUsize,
    /// The last reply, until it is learned ([`Kept`], 0: none).
    kept: AtomicU64,
    costs: Arc<Costs>,
    weights: [AtomicU32; BUCKETS],
    seen: AtomicU32,
    budget_ns: AtomicU64,
    probe_interval: AtomicU32,
    until_probe: AtomicU32,
}

impl AdaptiveCallerSpin {
    pub(crate) fn new(priority: Priority, costs: Arc<Costs>) -> Self {
        Self {
            priority,
            newest: AtomicUsize::new(0),
            kept: AtomicU64::new(0),
            costs,
            weights: Default::default(),
            seen: AtomicU32::new(0),
            budget_ns: AtomicU64::new(0),
            probe_interval: AtomicU32::new(MIN_PROBE_INTERVAL),
            until_probe: AtomicU32::new(MIN_PROBE_INTERVAL),
        }
    }

    /// Notes the call `id` as the newest outstanding one ([`CallerSpin::begin`]); returns
    /// whether no other call was outstanding.
    pub(crate) fn begin(&self, id: usize) -> bool {
        let alone = self.newest.load(Ordering::Relaxed) == 0;
        self.newest.store(id, Ordering::Relaxed);
        alone
    }

    /// The call `id` was answered or given up ([`CallerSpin::end`]).
    pub(crate) fn end(&self, id: usize) {
        if self.newest.load(Ordering::Relaxed) == id {
            self.newest.store(0, Ordering::Relaxed);
        }
    }

    /// Keeps a reply for [`AdaptiveCallerSpin::learn`] ([`CallerSpin::replied`]).
    pub(crate) fn keep(&self, plan: Plan, waited: Duration, caught: bool) {
        let kept = Kept::new(nanos(waited), caught, plan.probing);
        self.kept.store(kept.0, Ordering::Relaxed);
    }

    /// Learns the kept reply, if any ([`CallerSpin::learn`]).
    pub(crate) fn learn(&self) {
        if let Some(kept) = Kept::taken(&self.kept) {
            self.replied(kept);
        }
    }

    /// Replies learned so far.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn seen(&self) -> u32 {
        self.seen.load(Ordering::Relaxed)
    }

    /// The longest spin: twice a park's price, within the executor's cap.
    fn longest_ns(&self) -> u64 {
        let cap = match self.priority {
            Priority::Cpu => MAX_CPU_SPIN,
            Priority::Latency => MAX_LATENCY_SPIN,
        };
        (2 * self.priority.park_price(&self.costs)).min(nanos(cap))
    }

    /// Steps 1, 2 and 4.
    pub(crate) fn plan(&self, place: Place) -> Option<Plan> {
        if place.no_spin() {
            return None;
        }
        let longest = self.longest_ns();
        let longest_plan = |probing| Plan {
            budget: Duration::from_nanos(longest),
            learn: true,
            probing,
        };
        if self.seen.load(Ordering::Relaxed) < LEARNING {
            return Some(longest_plan(true));
        }
        let budget = self.budget_ns.load(Ordering::Relaxed).min(longest);
        if budget < longest {
            let until = self.until_probe.load(Ordering::Relaxed).saturating_sub(1);
            if until == 0 {
                let interval = self.probe_interval.load(Ordering::Relaxed);
                self.until_probe.store(interval, Ordering::Relaxed);
                return Some(longest_plan(true));
            }
            self.until_probe.store(until, Ordering::Relaxed);
        }
        (budget > 0).then_some(Plan {
            budget: Duration::from_nanos(budget),
            learn: true,
            probing: false,
        })
    }

    /// Steps 3 and 4.
    fn replied(&self, kept: Kept) {
        let waited_ns = kept.waited_ns();
        let k = bucket(waited_ns);
        let w = &self.weights[k];
        w.store(w.load(Ordering::Relaxed) + 16, Ordering::Relaxed);
        let seen = self.seen.load(Ordering::Relaxed).wrapping_add(1);
        self.seen.store(seen, Ordering::Relaxed);
        if seen.is_multiple_of(FADE_EVERY) {
            for w in &self.weights {
                let old = w.load(Ordering::Relaxed);
                w.store(old - old / 4, Ordering::Relaxed);
            }
        }
        if kept.probing() && seen > LEARNING {
            // A probe pays if it caught a reply sooner than a sleep would have cost.
            let paid = kept.caught() && waited_ns < self.priority.park_price(&self.costs);
            let interval = self.probe_interval.load(Ordering::Relaxed);
            let interval = if paid {
                (interval / 2).max(MIN_PROBE_INTERVAL)
            } else {
                (interval * 2).min(MAX_PROBE_INTERVAL)
            };
            self.probe_interval.store(interval, Ordering::Relaxed);
            self.until_probe.store(interval, Ordering::Relaxed);
        }
        if seen.is_multiple_of(RECOMPUTE_EVERY) || seen == LEARNING {
            let weights = self.weights.each_ref().map(|w| w.load(Ordering::Relaxed));
            let park = self.priority.park_price(&self.costs);
            let budget = best_budget(&weights, park, self.longest_ns());
            self.budget_ns.store(budget, Ordering::Relaxed);
        }
    }
}

/// A reply kept for step 3 in one word: its wait in nanoseconds (to 2^32, about 4.3 s, far
/// above any budget), whether the spin caught it, whether the spin probed, and a bit that
/// says a reply is kept at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Kept(u64);

impl Kept {
    const THERE: u64 = 1 << 63;
    const CAUGHT: u64 = 1 << 62;
    const PROBING: u64 = 1 << 61;

    fn new(waited_ns: u64, caught: bool, probing: bool) -> Self {
        let waited = waited_ns.min(u64::from(u32::MAX));
        let flag = |set: bool, bit: u64| if set { bit } else { 0 };
        Self(Self::THERE | flag(caught, Self::CAUGHT) | flag(probing, Self::PROBING) | waited)
    }

    /// The kept reply, leaving none. A plain load and store, like the histogram's: two
    /// callers may both learn one reply, which only weighs it twice.
    fn taken(word: &AtomicU64) -> Option<Self> {
        let kept = word.load(Ordering::Relaxed);
        if kept & Self::THERE == 0 {
            return None;
        }
        word.store(0, Ordering::Relaxed);
        Some(Self(kept))
    }

    fn waited_ns(self) -> u64 {
        self.0 & u64::from(u32::MAX)
    }

    fn caught(self) -> bool {
        self.0 & Self::CAUGHT != 0
    }

    fn probing(self) -> bool {
        self.0 & Self::PROBING != 0
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_kept_reply_keeps_its_wait_and_flags() {
        for (waited, caught, probing) in [(0, false, false), (3_000, true, false), (7, false, true)]
        {
            let kept = Kept::new(waited, caught, probing);
            assert_eq!(
                (kept.waited_ns(), kept.caught(), kept.probing()),
                (waited, caught, probing)
            );
        }
        // A wait beyond 32 bits is kept as the longest, never wrapped to a short one.
        assert_eq!(
            Kept::new(u64::MAX, true, true).waited_ns(),
            u64::from(u32::MAX)
        );
        assert!(Kept::new(u64::MAX, false, false).0 & Kept::CAUGHT == 0);
    }
}
