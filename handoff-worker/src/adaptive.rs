//! The [`Strategy::Adaptive`](crate::Strategy::Adaptive) policy: spin for back-to-back calls,
//! park for sparse ones, with thresholds set from the machine it runs on ([`Tuning`]).
//!
//! # Policy
//!
//! Two running estimates, both exponentially weighted moving averages with weight 1/4 for
//! the newest observation:
//!
//! - the **gap**: time from "the queue became empty" to "the next call arrived", observed
//!   whenever a call arrives during a spin, or when the worker's blocking receive returns
//!   within the spin threshold (a late catch: crossbeam's own short spin caught it; the gap
//!   may then include a short real park and its wake-up); each observation is clamped to
//!   twice the threshold, so one stray long gap cannot flip the mode (three in a row can);
//! - the **hit rate**: the share of idle periods in which the next call came within that
//!   reach (a catch counts 1, a park counts 0).
//!
//! Decision on each empty queue:
//!
//! 1. **Spin mode** when the hit rate is at least 1/2 and the expected gap is at most the
//!    **spin threshold**, one park round trip on this machine (a park costs about that much
//!    CPU across both threads, so spinning through a gap up to that long burns no more CPU
//!    than parking would, and answers sooner): spin up to 5/3 of a round trip. Back-to-back
//!    calls (gaps of 1-5 us: the caller's own round trip) stay here and never park; the
//!    budget is spent once at the end of a burst. It is generous because a worker that
//!    parks while its caller is merely late (preempted, polling its reactor) pays a wake-up
//!    of a round trip, and on a 2-core machine the wake often lands both threads on one
//!    core for a long while.
//! 2. Otherwise **park mode**: park at once, except that every `n`-th idle period is a
//!    *probe* that spins 4/3 of a round trip to re-measure the gap. A probe that catches a
//!    call within the threshold resets `n` to 1 (the next idle probes again, so three quick
//!    catches in a row climb back to spin mode); a probe that misses doubles `n` up to
//!    [`MAX_PROBE_INTERVAL`] (64). Sparse calls therefore cost at most one probe per 64
//!    calls (with a 30 us round trip, 40 us per 64 calls: 0.6 us of CPU per call, next to
//!    the ~20 us of CPU each park/unpark costs anyway).
//! 3. **No spare CPU** (the worker may use only one): never spin. A spinning worker would
//!    take the only CPU from the caller it waits for.
//!
//! From spin mode, two or three parks in a row (the hit rate falls by 1/4 of itself each
//! time) switch to park mode; a new worker starts in spin mode with an expected gap of 2 us.

use std::time::Duration;

use crate::machine::Machine;

/// In park mode, probes are at most this many idle periods apart.
pub(crate) const MAX_PROBE_INTERVAL: u32 = 64;
/// The spin threshold never goes below this (a measurement that read ~0, a very fast host:
/// spinning a microsecond or two still catches a caller that answers at once) ...
const MIN_SPIN_WORTH: Duration = Duration::from_micros(2);
/// ... nor above this (a host where a park takes longer than this is overloaded: the
/// measurement saw the host's scheduling, and spinning longer would add to it).
const MAX_SPIN_WORTH: Duration = Duration::from_micros(100);

/// The policy's thresholds, from what a park costs where it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tuning {
    /// Expected gaps at or below this are worth spinning for (one park round trip).
    pub(crate) spin_worth_ns: u64,
    /// In spin mode, every idle period spins this long before parking (5/3 round trip).
    pub(crate) spin_mode_budget_ns: u64,
    /// In park mode, probes spin exactly this long (4/3 round trip).
    pub(crate) probe_ns: u64,
    /// Whether there is a spare CPU to spin on at all.
    pub(crate) may_spin: bool,
}

impl Tuning {
    /// The thresholds for `machine`. On the 2-vCPU VM this was first tuned on (a 30 us round
    /// trip) they come to 30 us, 50 us and 40 us.
    pub(crate) fn for_machine(machine: Machine) -> Self {
        let worth = machine
            .park_round_trip
            .clamp(MIN_SPIN_WORTH, MAX_SPIN_WORTH);
        let worth_ns = nanos(worth);
        Self {
            spin_worth_ns: worth_ns,
            spin_mode_budget_ns: worth_ns * 5 / 3,
            probe_ns: worth_ns * 4 / 3,
            may_spin: machine.cpus >= 2,
        }
    }
}

/// What the [`Strategy::Adaptive`](crate::Strategy::Adaptive) policy set itself to on this
/// machine ([`adaptive_tuning`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct AdaptiveTuning {
    /// What a park/unpark round trip between two threads costs here (the median of 24,
    /// measured once per process by the first adaptive worker).
    pub park_round_trip: Duration,
    /// Expected gaps between calls up to this are spun through (the round trip, clamped
    /// to 2-100 us).
    pub spin_threshold: Duration,
    /// While calls come back-to-back, each idle period spins up to this long.
    pub spin_budget: Duration,
    /// While calls are sparse, a probe spins this long at most every 64 idle periods.
    pub probe: Duration,
}

/// The adaptive policy's thresholds on this machine, once the first adaptive worker of this
/// process has measured a park round trip (`None` before). For logs and benchmarks.
pub fn adaptive_tuning() -> Option<AdaptiveTuning> {
    let park_round_trip = crate::machine::measured_park_round_trip()?;
    let tuning = Tuning::for_machine(Machine {
        park_round_trip,
        cpus: 2,
    });
    Some(AdaptiveTuning {
        park_round_trip,
        spin_threshold: Duration::from_nanos(tuning.spin_worth_ns),
        spin_budget: Duration::from_nanos(tuning.spin_mode_budget_ns),
        probe: Duration::from_nanos(tuning.probe_ns),
    })
}

/// The state of the adaptive policy (documented in the module).
#[derive(Debug, Clone)]
pub(crate) struct Adaptive {
    tuning: Tuning,
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
    /// A fresh policy, in spin mode (if it may spin at all).
    pub(crate) fn new(tuning: Tuning) -> Self {
        Self {
            tuning,
            gap_ns: 2_000,
            hit_rate: ONE * 3 / 4,
            probe_interval: 1,
            since_probe: 0,
            probing: false,
        }
    }

    /// The spin threshold.
    pub(crate) fn spin_worth(&self) -> Duration {
        Duration::from_nanos(self.tuning.spin_worth_ns)
    }

    fn spinning(&self) -> bool {
        self.hit_rate >= ONE / 2 && self.gap_ns <= self.tuning.spin_worth_ns
    }

    /// Spin budget for this idle period, in nanoseconds (0: park at once).
    pub(crate) fn spin_budget_ns(&mut self) -> u64 {
        self.probing = false;
        if !self.tuning.may_spin {
            return 0;
        }
        if self.spinning() {
            return self.tuning.spin_mode_budget_ns;
        }
        self.since_probe += 1;
        if self.since_probe >= self.probe_interval {
            self.since_probe = 0;
            self.probing = true;
            self.tuning.probe_ns
        } else {
            0
        }
    }

    /// A spin caught a call `gap_ns` after the queue became empty.
    pub(crate) fn caught(&mut self, gap_ns: u64) {
        let worth = self.tuning.spin_worth_ns;
        // One long gap (the caller's thread preempted, its runtime polling its reactor)
        // must not flip a worker that is catching back-to-back calls into park mode: clamp
        // each observation, so only a run of long gaps moves the average past the threshold.
        self.gap_ns = ewma(self.gap_ns, gap_ns.min(2 * worth));
        self.hit_rate += (ONE - self.hit_rate) / 4;
        if self.probing {
            self.probe_interval = if gap_ns <= worth {
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

pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// The 2-vCPU VM the constants were first measured on.
    const VM: Machine = Machine {
        park_round_trip: Duration::from_micros(30),
        cpus: 2,
    };

    fn on(machine: Machine) -> Adaptive {
        Adaptive::new(Tuning::for_machine(machine))
    }

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
    fn the_tuning_scales_with_the_measured_round_trip_and_keeps_the_vm_constants() {
        let vm = Tuning::for_machine(VM);
        assert_eq!(
            (vm.spin_worth_ns, vm.spin_mode_budget_ns, vm.probe_ns),
            (30_000, 50_000, 40_000)
        );
        let metal = Tuning::for_machine(Machine {
            park_round_trip: Duration::from_micros(6),
            cpus: 8,
        });
        assert_eq!(
            (
                metal.spin_worth_ns,
                metal.spin_mode_budget_ns,
                metal.probe_ns
            ),
            (6_000, 10_000, 8_000)
        );
        // A measurement of ~0 or of an overloaded host is clamped.
        let zero = Tuning::for_machine(Machine {
            park_round_trip: Duration::ZERO,
            cpus: 2,
        });
        assert_eq!(zero.spin_worth_ns, 2_000);
        let slow = Tuning::for_machine(Machine {
            park_round_trip: Duration::from_millis(3),
            cpus: 2,
        });
        assert_eq!(slow.spin_worth_ns, 100_000);
    }

    #[test]
    fn gaps_worth_spinning_for_on_a_slow_vm_are_parked_through_on_bare_metal() {
        // Calls 15 us apart: on the VM (30 us park) a spin is cheaper than a park; on
        // bare metal (6 us park) it is not.
        let mut vm = on(VM);
        let vm_budgets = feed(&mut vm, 1_000, 15_000);
        assert!(vm_budgets[100..].iter().all(|&b| b == 50_000));
        let mut metal = on(Machine {
            park_round_trip: Duration::from_micros(6),
            cpus: 8,
        });
        let metal_budgets = feed(&mut metal, 1_000, 15_000);
        let spins = metal_budgets[100..].iter().filter(|&&b| b > 0).count();
        assert!(
            spins <= 900 / 64 + 1,
            "{spins} spins for 15 us gaps at 6 us"
        );
    }

    #[test]
    fn without_a_spare_cpu_it_never_spins_even_for_back_to_back_calls() {
        let mut single = on(Machine {
            park_round_trip: Duration::from_micros(30),
            cpus: 1,
        });
        assert!(feed(&mut single, 1_000, 1_000).iter().all(|&b| b == 0));
    }

    #[test]
    fn back_to_back_calls_keep_spinning() {
        let mut a = on(VM);
        let budgets = feed(&mut a, 1000, 3_000);
        assert!(budgets.iter().all(|&b| b == 50_000), "{budgets:?}");
        assert!(a.spinning());
    }

    #[test]
    fn one_long_gap_among_short_ones_does_not_stop_the_spinning() {
        let mut a = on(VM);
        feed(&mut a, 100, 1_000);
        // A call caught after 40 us (the caller was preempted), then short gaps again.
        a.spin_budget_ns();
        a.caught(40_000);
        assert!(a.spinning(), "one long gap flipped the policy: {a:?}");
        let budgets = feed(&mut a, 10, 1_000);
        assert!(budgets.iter().all(|&b| b == 50_000));
    }

    #[test]
    fn sparse_calls_park_and_probe_at_most_once_per_64_idles() {
        let mut a = on(VM);
        let budgets = feed(&mut a, 10_000, 1_000_000);
        let spins = budgets[1000..].iter().filter(|&&b| b > 0).count();
        assert!(spins <= 9000 / 64 + 1, "{spins} spins in 9000 sparse idles");
        assert!(budgets[1000..].iter().all(|&b| b == 0 || b == 40_000));
    }

    #[test]
    fn returns_to_spinning_after_a_sparse_phase() {
        let mut a = on(VM);
        feed(&mut a, 10_000, 1_000_000);
        // Within two probe intervals the probes catch the back-to-back calls again.
        let budgets = feed(&mut a, 200, 3_000);
        assert!(budgets[130..].iter().all(|&b| b == 50_000));
        assert!(a.spinning());
    }

    #[test]
    fn gaps_above_the_spin_threshold_do_not_keep_it_spinning() {
        let mut a = on(VM);
        let budgets = feed(&mut a, 10_000, 45_000);
        let spins = budgets[1000..].iter().filter(|&&b| b > 0).count();
        assert!(spins <= 9000 / 64 + 1, "{spins} spins for 45 us gaps");
    }
}
