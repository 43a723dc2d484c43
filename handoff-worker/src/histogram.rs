//! How long waits last, as a fading histogram, and the spin budget it makes cheapest.
//!
//! # The rule
//!
//! A wait (the worker's for its next call, a caller's for its reply) either ends while the
//! thread spins, costing the time spun, or outlasts the spin, costing the spin and then a
//! park (`park` nanoseconds of CPU, learned in [`crate::costs`]). For a spin budget `b` and
//! waits distributed as the histogram says, the expected cost of one wait is
//!
//! ```text
//! cost(b) = sum over waits w <= b of w  +  (share of waits > b) * (b + park)
//! ```
//!
//! and `cost(0) = park`: parking at once. [`best_budget`] finds the cheapest budget (a
//! bucket's upper edge, or 0), then returns the *longest* budget up to one park whose cost
//! is within a sixteenth of a park per wait of it, and never more than halfway from it to
//! parking at once. So the expected CPU of a wait is never above what parking costs: waits that a spin
//! would catch are caught only when catching them is cheaper. Where spinning is far cheaper
//! than parking (back-to-back calls) the slack buys a longer spin, which catches the
//! occasional longer wait instead of paying it with a wake-up's latency; where the two are
//! close (sparse calls) there is no slack. (The classic ski-rental bound, spin as long as a
//! park costs, is the rule for waits nothing is known about; this one uses what the
//! histogram knows.)
//!
//! # The histogram
//!
//! [`BUCKETS`] buckets, two per power of two from 512 ns (each octave split at one and a
//! half times its floor, so a budget is never more than 1.5 times the wait it is meant to
//! catch): bucket 0 holds waits under 512 ns, the last everything from 24 ms. Each wait
//! adds [`WEIGHT`]; every [`FADE_EVERY`] waits every bucket loses a quarter, so the
//! histogram remembers roughly the last 50-100 waits, and a change of traffic moves the
//! budget within a few hundred at most (about 150 from back-to-back calls to sparse ones).

/// Buckets of the histogram.
pub(crate) const BUCKETS: usize = 32;
/// What one wait adds to its bucket.
const WEIGHT: u32 = 16;
/// Every this many waits, every bucket loses a quarter of its weight.
pub(crate) const FADE_EVERY: u32 = 16;

/// The bucket of a wait of `ns` nanoseconds.
pub(crate) fn bucket(ns: u64) -> usize {
    // In units of 256 ns, a wait of 512 ns or more is at least 2: its highest bit gives
    // the octave, the bit below it the half (1.5 times the floor and up).
    let units = ns >> 8;
    if units < 2 {
        return 0;
    }
    let top = 63 - units.leading_zeros() as usize;
    let upper_half = (units >> (top - 1)) & 1 == 1;
    (2 * top - 1 + usize::from(upper_half)).min(BUCKETS - 1)
}

/// The lower edge of bucket `k`.
fn lower_edge(k: usize) -> u64 {
    if k == 0 {
        return 0;
    }
    let octave = (k - 1) / 2;
    let floor = 512_u64 << octave;
    if (k - 1).is_multiple_of(2) {
        floor
    } else {
        floor / 2 * 3
    }
}

/// The upper edge of bucket `k`: the budget that catches every wait in it.
pub(crate) fn upper_edge(k: usize) -> u64 {
    if k + 1 < BUCKETS {
        lower_edge(k + 1)
    } else {
        u64::MAX
    }
}

/// What a caught wait of bucket `k` is taken to have cost: the middle of the bucket.
fn typical(k: usize) -> u64 {
    let lower = lower_edge(k);
    lower + (upper_edge(k) - lower) / 2
}

/// The spin budget for waits weighted by `weights`, among bucket edges up to `max_ns`; 0
/// if parking at once is as cheap (module docs).
pub(crate) fn best_budget(weights: &[u32; BUCKETS], park_ns: u64, max_ns: u64) -> u64 {
    let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    if total == 0 {
        return 0;
    }
    // Costs in weight * nanoseconds: at most 2^32 * 16 weights of 2^40 ns; u128 is ample.
    let park = u128::from(park_ns);
    let parking = u128::from(total) * park;
    let mut costs = [(0_u64, parking); BUCKETS + 1];
    let mut caught_cost = 0_u128;
    let mut caught_weight = 0_u64;
    let mut candidates = 1;
    for (k, &w) in weights.iter().enumerate() {
        let edge = upper_edge(k);
        if edge > max_ns {
            break;
        }
        caught_weight += u64::from(w);
        caught_cost += u128::from(w) * u128::from(typical(k));
        let missed = u128::from(total - caught_weight);
        costs[candidates] = (edge, caught_cost + missed * (u128::from(edge) + park));
        candidates += 1;
    }
    let costs = &costs[..candidates];
    let (cheapest_edge, cheapest) = costs
        .iter()
        .copied()
        .min_by_key(|&(edge, cost)| (cost, edge))
        .unwrap_or((0, parking));
    // Within a sixteenth of a park per wait of the cheapest (and never more than halfway
    // to parking), the longest budget up to one park: a stray longer wait is then caught
    // rather than paid with a wake-up, for next to no CPU.
    let slack = (u128::from(total) * park / 16).min((parking - cheapest) / 2);
    let longest = cheapest_edge.max(park_ns);
    costs
        .iter()
        .rev()
        .find(|&&(edge, cost)| edge <= longest && cost <= cheapest + slack)
        .map_or(0, |&(edge, _)| edge)
}

/// A histogram one thread owns (the worker's).
#[derive(Debug, Clone, Default)]
pub(crate) struct Histogram {
    weights: [u32; BUCKETS],
    seen: u32,
}

impl Histogram {
    /// Counts a wait of `ns` nanoseconds.
    pub(crate) fn record(&mut self, ns: u64) {
        self.weights[bucket(ns)] += WEIGHT;
        self.seen = self.seen.wrapping_add(1);
        if self.seen.is_multiple_of(FADE_EVERY) {
            for w in &mut self.weights {
                *w -= *w / 4;
            }
        }
    }

    /// [`best_budget`] of this histogram.
    pub(crate) fn best_budget(&self, park_ns: u64, max_ns: u64) -> u64 {
        best_budget(&self.weights, park_ns, max_ns)
    }

    /// Waits counted so far.
    pub(crate) fn seen(&self) -> u32 {
        self.seen
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn of(waits: &[(u64, usize)]) -> Histogram {
        let mut h = Histogram::default();
        for &(ns, times) in waits {
            for _ in 0..times {
                h.record(ns);
            }
        }
        h
    }

    /// `rounds` repetitions of the pattern `waits` (as traffic repeats).
    fn repeated(waits: &[(u64, usize)], rounds: usize) -> Histogram {
        let mut h = Histogram::default();
        for _ in 0..rounds {
            for &(ns, times) in waits {
                for _ in 0..times {
                    h.record(ns);
                }
            }
        }
        h
    }

    #[test]
    fn buckets_split_each_power_of_two_from_512_ns_at_one_and_a_half() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(511), 0);
        assert_eq!(bucket(512), 1);
        assert_eq!(bucket(767), 1);
        assert_eq!(bucket(768), 2);
        assert_eq!(bucket(1023), 2);
        assert_eq!(bucket(1024), 3);
        assert_eq!(bucket(1536), 4);
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
        for k in 0..BUCKETS - 1 {
            assert_eq!(bucket(upper_edge(k) - 1), k, "{k}");
            assert_eq!(bucket(upper_edge(k)), k + 1, "{k}");
            assert!(upper_edge(k) <= lower_edge(k).max(512) / 2 * 3, "{k}");
        }
    }

    #[test]
    fn back_to_back_waits_are_spun_through_and_long_ones_parked() {
        let park = 15_000;
        // Calls 1 us apart: any budget catches them; the longest up to a park is kept, to
        // catch a stray longer wait too.
        assert_eq!(of(&[(1_000, 100)]).best_budget(park, 1_000_000), 12_288);
        // Calls 1 ms apart: nothing is worth spinning for.
        assert_eq!(of(&[(1_000_000, 100)]).best_budget(park, 1_000_000), 0);
        // Waits of 20 us against a 15 us park: parking is cheaper.
        assert_eq!(of(&[(20_000, 100)]).best_budget(park, 1_000_000), 0);
        // Waits of 6 us against a 15 us park: spinning is (8 us catches them; the longest
        // budget up to a park costs the same).
        assert_eq!(of(&[(6_000, 100)]).best_budget(park, 1_000_000), 12_288);
    }

    #[test]
    fn bursts_separated_by_long_pauses_spin_just_past_the_burst_gaps() {
        // A tokio timer at 1 ms resolution with calls due every 100 us: ten calls back to
        // back, then a millisecond's pause.
        // The cheapest budget is 1 us; within the slack, the worker spins 8 us before it
        // parks for the pause.
        let h = repeated(&[(1_000, 9), (1_000_000, 1)], 100);
        assert_eq!(h.best_budget(15_000, 1_000_000), 8_192);
        // Pairs (calls due every 500 us): half the waits short, half long.
        let pairs = repeated(&[(1_000, 1), (1_000_000, 1)], 100);
        assert_eq!(pairs.best_budget(15_000, 1_000_000), 2_048);
        // One short wait in twenty: a 1 us spin on every wait costs more than it saves.
        let rare = repeated(&[(1_000, 1), (1_000_000, 19)], 10);
        assert_eq!(rare.best_budget(1_000, 1_000_000), 0);
    }

    #[test]
    fn the_expected_cost_of_the_chosen_budget_never_exceeds_parking() {
        // Any mix of waits: the budget chosen costs at most what parking at once does.
        let park = 12_000;
        for seed in 0..200_u64 {
            let mut h = Histogram::default();
            let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut waits = Vec::new();
            for _ in 0..150 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let ns = 1 << (x % 22);
                waits.push(ns);
                h.record(ns);
            }
            let b = h.best_budget(park, 2 * park);
            let cost = |b: u64| -> u128 {
                h.weights
                    .iter()
                    .enumerate()
                    .map(|(k, &w)| {
                        let c = if b != 0 && upper_edge(k) <= b {
                            typical(k)
                        } else {
                            b + park
                        };
                        u128::from(w) * u128::from(c)
                    })
                    .sum()
            };
            assert!(cost(b) <= cost(0), "seed {seed}: budget {b}");
            assert!(b <= 2 * park);
        }
    }

    #[test]
    fn old_waits_fade_so_a_change_of_traffic_moves_the_budget() {
        let mut h = of(&[(1_000, 1_000)]);
        assert_eq!(h.best_budget(15_000, 1_000_000), 12_288);
        let mut switched_after = None;
        for i in 0..1_000 {
            h.record(1_000_000);
            if h.best_budget(15_000, 1_000_000) == 0 {
                switched_after = Some(i + 1);
                break;
            }
        }
        let n = switched_after.expect("the budget fell to zero");
        assert!(n <= 200, "took {n} sparse waits");
        assert_eq!(h.seen(), 1_000 + n);
    }

    #[test]
    fn an_empty_histogram_parks() {
        assert_eq!(Histogram::default().best_budget(15_000, 1_000_000), 0);
    }
}
