//! The worker thread's side of [`Strategy::Adaptive`](crate::Strategy::Adaptive) and
//! [`Strategy::LowLatency`](crate::Strategy::LowLatency): how long to spin on an empty queue
//! before parking, learned from the waits it sees and what its own parks cost.
//!
//! # Policy
//!
//! 1. **What a wait costs.** A wait for the next call ends during the spin (it cost the time
//!    spun) or after it (the spin, plus a park). A park is priced from the worker's own
//!    parks and wake-ups, measured while it runs ([`crate::costs`]): their CPU for
//!    `Adaptive`, their CPU plus a wake-up's latency for `LowLatency`.
//! 2. **What waits look like.** Every wait goes into a fading histogram
//!    ([`crate::histogram`]): exactly when a spin caught the call, as the whole time to the
//!    call when the worker parked (an overestimate by the wake-up, which only makes spinning
//!    look less worth it). The budget is the one with the lowest expected cost over the
//!    histogram, so an `Adaptive` worker's expected CPU per wait is never above parking at
//!    once, as `Strategy::Block` does; and at most twice a park's price (beyond that,
//!    spinning through a wait costs more than the wait's park would).
//! 3. **Two histograms, by what the caller did.** How long the next call takes depends on
//!    whether the last answer woke its caller: a caller that went to sleep first has to wake
//!    up before it can send again. Each kind of wait has its own histogram and budget. So a
//!    worker whose callers spin for their answers spins for their next calls, and one whose
//!    callers sleep does not pay for their wake-ups unless those are cheap; neither kind
//!    drags the other. After a sleeping caller, parking is priced at two parks: the caller's
//!    next call would find the worker asleep, so the caller would not spin for its reply but
//!    sleep as well, and both would keep sleeping on every call of a burst. A worker that
//!    stays awake through the caller's wake-up (when that costs less than two parks) lets
//!    the next call find it awake, and the pair spins through the rest of the burst.
//! 4. **Probes.** A histogram only sees exactly what the budget lets it see. So while a
//!    budget is below the probe's (twice a park, plus a wake-up when the caller slept), every
//!    `n`-th wait of that kind spins the probe's length: a probe that pays halves `n` (down
//!    to [`MIN_PROBE_INTERVAL`]), one that does not doubles it (up to
//!    [`MAX_PROBE_INTERVAL`]). A probe pays when it catches a call sooner than a park would
//!    cost, or, after a sleeping caller, when it catches the call at all: that caller then
//!    finds the worker awake, spins for its reply, and both leave the mode in which each
//!    sleeps on every call. This is how a worker leaves a mode that stopped paying by
//!    itself: after a sparse phase, probes see the calls come back-to-back again. They cost
//!    at most one probe per 256 waits while nothing changes.
//! 5. Until a histogram has seen [`LEARNING`] waits its budget is the probe's, so a new
//!    worker learns from exact waits.
//!
//! A worker that keeps running on its caller's CPU ([`crate::placement`]) or keeps waiting
//! for its CPU behind other work ([`crate::crowding`]) does not spin at all (the thread loop
//! checks, [`crate::thread`]), and one that may use only one CPU is a `Block` worker from the
//! start.

use crate::costs::Costs;
use crate::histogram::Histogram;

/// Probes are at least this many waits apart ...
pub(crate) const MIN_PROBE_INTERVAL: u32 = 8;
/// ... and at most this many.
pub(crate) const MAX_PROBE_INTERVAL: u32 = 256;
/// Waits a histogram sees at the probe's budget before its own budget is used.
pub(crate) const LEARNING: u32 = 8;
/// No spin lasts longer than this, whatever the prices (a host that takes longer than this
/// to wake a thread is overloaded; spinning would add to the load).
pub(crate) const MAX_SPIN_NS: u64 = 1_000_000;
/// The budget is recomputed after this many waits of its kind.
const RECOMPUTE_EVERY: u32 = 16;

/// What a park is priced at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Priority {
    /// Its CPU: spin only where that burns less CPU than parking.
    Cpu,
    /// Its CPU and the wall time of a wake-up: spin longer, answer sooner.
    Latency,
}

impl Priority {
    /// A park's price in nanoseconds.
    pub(crate) fn park_price(self, costs: &Costs) -> u64 {
        match self {
            Self::Cpu => costs.park_cpu(),
            Self::Latency => costs.park_latency(),
        }
    }
}

/// What the caller of the last answered call did when the answer came (step 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caller {
    /// It was still polling or spinning: it can send its next call at once.
    Awake,
    /// It had registered its waker: it must wake up before it sends again.
    Asleep,
}

/// One idle period's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Spin for up to this long (0: park at once).
    pub(crate) budget_ns: u64,
    /// This spin is a probe (step 4).
    pub(crate) probing: bool,
}

/// How an idle period ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Waited {
    /// A spin caught the next call this long after the queue became empty (to the middle of
    /// the round of checks that caught it, [`crate::rounds`]).
    Caught(u64),
    /// The worker parked; the call came (and the worker woke) this long after the queue
    /// became empty.
    Parked(u64),
}

/// One kind of wait's histogram, budget and probes.
#[derive(Debug, Clone)]
struct Kind {
    histogram: Histogram,
    budget_ns: u64,
    probe_interval: u32,
    until_probe: u32,
    since_recompute: u32,
}

impl Default for Kind {
    fn default() -> Self {
        Self {
            histogram: Histogram::default(),
            budget_ns: 0,
            probe_interval: MIN_PROBE_INTERVAL,
            until_probe: MIN_PROBE_INTERVAL,
            since_recompute: 0,
        }
    }
}

/// The worker's adaptive policy (module docs).
#[derive(Debug, Clone)]
pub(crate) struct Adaptive {
    priority: Priority,
    kinds: [Kind; 2],
}

impl Adaptive {
    pub(crate) fn new(priority: Priority) -> Self {
        Self {
            priority,
            kinds: [Kind::default(), Kind::default()],
        }
    }

    fn kind(&mut self, caller: Caller) -> &mut Kind {
        &mut self.kinds[caller as usize]
    }

    /// What parking costs after a caller that was `caller` (step 3): a park, or after a
    /// sleeping caller two, because a call sent to a sleeping worker finds it asleep, and its
    /// caller does not spin for the reply but sleeps too ([`crate::caller_spin`]); a worker
    /// that stays awake through the caller's wake-up lets the caller's next call be caught
    /// by both sides' spins.
    fn park_price(&self, caller: Caller, costs: &Costs) -> u64 {
        let park = self.priority.park_price(costs);
        match caller {
            Caller::Awake => park,
            Caller::Asleep => 2 * park,
        }
    }

    /// The longest spin worth making for a wait after a caller that was `caller`.
    fn probe_ns(&self, caller: Caller, costs: &Costs) -> u64 {
        let park = self.park_price(caller, costs);
        let wake_up = match caller {
            Caller::Awake => 0,
            // The caller's own wake-up is in the wait: roughly one more wake-up's latency.
            Caller::Asleep => costs.estimates()[2].as_nanos().try_into().unwrap_or(0),
        };
        (2 * park + wake_up).min(MAX_SPIN_NS)
    }

    /// Steps 4-5: the plan for an idle period after a caller that was `caller`.
    pub(crate) fn plan(&mut self, caller: Caller, costs: &Costs) -> Plan {
        let probe_ns = self.probe_ns(caller, costs);
        let kind = self.kind(caller);
        if kind.histogram.seen() < LEARNING {
            return Plan {
                budget_ns: probe_ns,
                probing: true,
            };
        }
        let budget_ns = kind.budget_ns.min(probe_ns);
        if budget_ns < probe_ns {
            kind.until_probe -= 1;
            if kind.until_probe == 0 {
                kind.until_probe = kind.probe_interval;
                return Plan {
                    budget_ns: probe_ns,
                    probing: true,
                };
            }
        }
        Plan {
            budget_ns,
            probing: false,
        }
    }

    /// Steps 2 and 4: how the idle period planned with `plan` ended.
    pub(crate) fn waited(&mut self, caller: Caller, plan: Plan, waited: Waited, costs: &Costs) {
        let park = self.park_price(caller, costs);
        let max = (2 * park).min(MAX_SPIN_NS);
        let kind = self.kind(caller);
        let ns = match waited {
            Waited::Caught(ns) | Waited::Parked(ns) => ns,
        };
        kind.histogram.record(ns);
        if plan.probing && kind.histogram.seen() > LEARNING {
            // A probe pays if it caught a wait worth spinning for (shorter than a park), or,
            // after a sleeping caller, any wait: a caller that finds the worker awake spins
            // for its reply, and the pair leaves the mode in which both sleep.
            let paid = match (waited, caller) {
                (Waited::Caught(ns), Caller::Awake) => ns < park,
                (Waited::Caught(_), Caller::Asleep) => true,
                (Waited::Parked(_), _) => false,
            };
            kind.probe_interval = if paid {
                (kind.probe_interval / 2).max(MIN_PROBE_INTERVAL)
            } else {
                (kind.probe_interval * 2).min(MAX_PROBE_INTERVAL)
            };
            kind.until_probe = kind.probe_interval;
        }
        kind.since_recompute += 1;
        if kind.since_recompute >= RECOMPUTE_EVERY || kind.histogram.seen() == LEARNING {
            kind.since_recompute = 0;
            kind.budget_ns = kind.histogram.best_budget(park, max);
        }
    }

    /// The budget for each kind of wait (`[awake, asleep]`).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn budgets(&self) -> [u64; 2] {
        [self.kinds[0].budget_ns, self.kinds[1].budget_ns]
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Costs as measured on a machine whose parks cost `park_us` of CPU.
    fn machine(park_us: u64) -> Costs {
        let costs = Costs::default();
        for _ in 0..100 {
            costs.parked(Duration::from_micros(park_us));
        }
        costs
    }

    /// Feeds `n` waits of `gap_ns` after a caller that was `caller`; returns the CPU the
    /// worker spent on them (spins, and `park_ns` per park) and how many were caught.
    fn feed(
        a: &mut Adaptive,
        costs: &Costs,
        caller: Caller,
        n: usize,
        gap_ns: u64,
    ) -> (u64, usize) {
        let park_ns = costs.park_cpu();
        let (mut cpu, mut caught) = (0, 0);
        for _ in 0..n {
            let plan = a.plan(caller, costs);
            let waited = if gap_ns <= plan.budget_ns {
                cpu += gap_ns;
                caught += 1;
                Waited::Caught(gap_ns)
            } else {
                cpu += plan.budget_ns + park_ns;
                Waited::Parked(gap_ns)
            };
            a.waited(caller, plan, waited, costs);
        }
        (cpu, caught)
    }

    #[test]
    fn back_to_back_calls_are_spun_through() {
        let costs = machine(15);
        let mut a = Adaptive::new(Priority::Cpu);
        let (_, caught) = feed(&mut a, &costs, Caller::Awake, 1_000, 800);
        assert!(caught >= 999, "{caught}");
        // Every budget catches them; the longest up to a park is kept.
        assert_eq!(a.budgets()[0], 12_288);
    }

    #[test]
    fn sparse_calls_cost_no_more_than_parking_every_time() {
        let costs = machine(15);
        for gap_ns in [40_000, 200_000, 1_000_000, 5_000_000] {
            let mut a = Adaptive::new(Priority::Cpu);
            feed(&mut a, &costs, Caller::Awake, 200, gap_ns);
            let (cpu, _) = feed(&mut a, &costs, Caller::Awake, 10_000, gap_ns);
            let block = 10_000 * costs.park_cpu();
            assert!(
                cpu * 100 <= block * 103,
                "gap {gap_ns}: {cpu} against {block}"
            );
        }
    }

    #[test]
    fn waits_just_beyond_a_park_are_not_spun_through() {
        // The old policy's worst case: gaps a little longer than its threshold, spun
        // through and then parked anyway on every call.
        let costs = machine(15);
        let mut a = Adaptive::new(Priority::Cpu);
        feed(&mut a, &costs, Caller::Awake, 200, 20_000);
        let (cpu, caught) = feed(&mut a, &costs, Caller::Awake, 10_000, 20_000);
        assert!(caught < 200, "{caught}");
        assert!(cpu <= 10_000 * costs.park_cpu() * 103 / 100);
    }

    #[test]
    fn it_leaves_a_sparse_phase_by_itself_when_calls_come_back_to_back() {
        let costs = machine(15);
        let mut a = Adaptive::new(Priority::Cpu);
        feed(&mut a, &costs, Caller::Awake, 10_000, 1_000_000);
        assert_eq!(a.budgets()[0], 0);
        let (_, caught) = feed(&mut a, &costs, Caller::Awake, 1_000, 800);
        assert!(caught >= 900, "{caught} of 1000 caught after the switch");
        assert!(a.budgets()[0] > 0);
    }

    #[test]
    fn callers_that_sleep_and_callers_that_spin_are_learned_apart() {
        // Callers that slept send their next call 120 us later (their wake-up); those that
        // spun, 1 us later. With a 15 us park, only the second are worth spinning for.
        let costs = machine(15);
        let mut a = Adaptive::new(Priority::Cpu);
        for _ in 0..200 {
            feed(&mut a, &costs, Caller::Awake, 5, 1_000);
            feed(&mut a, &costs, Caller::Asleep, 5, 120_000);
        }
        assert!(a.budgets()[0] >= 1_024, "{:?}", a.budgets());
        assert_eq!(a.budgets()[1], 0);
    }

    #[test]
    fn preferring_latency_spins_through_waits_cpu_alone_would_park() {
        // Parks of 15 us of CPU, wake-ups of at least 60 us from send to running.
        let costs = machine(15);
        for _ in 0..100 {
            costs.stamp_wake();
            std::thread::sleep(Duration::from_micros(60));
            costs.awoken();
        }
        let mut cpu_first = Adaptive::new(Priority::Cpu);
        feed(&mut cpu_first, &costs, Caller::Awake, 500, 20_000);
        assert_eq!(cpu_first.budgets()[0], 0);
        // Priced with the wake-up, 20 us waits are worth spinning for.
        let mut latency_first = Adaptive::new(Priority::Latency);
        feed(&mut latency_first, &costs, Caller::Awake, 500, 20_000);
        assert!(
            latency_first.budgets()[0] >= 20_000,
            "{:?}",
            latency_first.budgets()
        );
    }

    #[test]
    fn probes_back_off_while_they_miss() {
        let costs = machine(15);
        let mut a = Adaptive::new(Priority::Cpu);
        let mut spins = 0;
        for _ in 0..20_000 {
            let plan = a.plan(Caller::Awake, &costs);
            if plan.budget_ns > 0 {
                spins += 1;
            }
            a.waited(Caller::Awake, plan, Waited::Parked(2_000_000), &costs);
        }
        assert!(
            spins <= 20_000 / 256 + 20,
            "{spins} spins in 20000 sparse waits"
        );
    }
}
