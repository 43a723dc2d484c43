//! Detection of a fast and a slow mode in the pooled per-sample values of one
//! configuration, and the share of a set of values in the slow mode.
//!
//! A handoff benchmark often has two regimes (the woken thread was spinning, or it had
//! gone to sleep). When one side lands in the slow regime more often, the comparison sees a
//! "regression" that is really a change of mix; reporting the modes and each side's share
//! in the slow one says which it is.
//!
//! # How it works
//!
//! 1. Work on `ln(values)`: regimes differ by a ratio, and on the log scale the rule is the
//!    same for nanoseconds and for seconds. Non-positive or non-finite values have no log,
//!    so they give `None`, as do fewer than [`MIN_VALUES`] values.
//! 2. Sort, and consider every split between consecutive sorted values that leaves at least
//!    `max(3, ceil(10%))` of the values on each side (a mode needs a few members; a handful of
//!    stragglers is a tail, not a mode). Splits inside a run of equal values are skipped:
//!    the split point would be one of them and could not say on which side it belongs.
//! 3. Score each split by the gap between the groups' centres in units of their spread,
//!    `(median(right) - median(left)) / (MAD(left) + MAD(right) + 1e-3)`, with the raw
//!    (unscaled) median absolute deviation: medians and MADs ignore the other mode's tail,
//!    where means and standard deviations would be dragged by it. The `1e-3` (0.1% on the
//!    log scale, about a timer tick) keeps two very tight groups from scoring infinity.
//! 4. Declare two modes when the best split scores at least [`MIN_SCORE`] = 4 *and* its
//!    medians differ by at least 10% (`ln 1.10`). A single normal scores about 2.3 at best
//!    (its halves have centres 1.35 sd apart and MADs of ~0.3 sd each), and below 3 for
//!    200 values in simulations, so 4 is out of its reach while two clearly separated
//!    regimes score in the tens. The 10% floor is because smaller differences are noise,
//!    not modes, however tight the groups.
//! 5. The best-scoring split finds the modes but is a poor place to cut them: medians
//!    and MADs barely notice a few members of the other mode, and cutting the tighter half
//!    off a mode shrinks its MAD, so the best score can lie *inside* the slow mode (on 70%
//!    at 10 / 30% at 30 with 2% noise it cut at 29.9, below the slow median, putting ~40%
//!    of the slow mode in the fast one). So the split is then moved to the widest gap
//!    between consecutive values that lies between the two groups' medians (the emptiest
//!    place between the modes), and the moved groups must pass step 4 again.
//! 6. `split` is `exp` of the midpoint between the largest value of the fast group and the
//!    smallest of the slow group; the medians are `exp` of the log medians (for an even
//!    count the geometric mean of the two middle values, which keeps them scale free).
//!
//! Small samples are the weak spot: from one log-normal (sd 0.1 or 0.3, 1000 seeds), the
//! groups of 3 to 5 at the ends have small MADs by chance and the rule declares two modes
//! in 14-17% of samples of 8 values, 10-12% of 12, ~5% of 20, under 1% of 50 and none of
//! 100. Use it on the pooled samples of a whole configuration, not per block.

/// Fewer values than this give no modes: the smallest groups would be under 3 values.
pub const MIN_VALUES: usize = 8;
/// The smallest score (gap over spread) that counts as two modes; see the module docs.
pub const MIN_SCORE: f64 = 4.0;
/// The smallest ratio between the two modes' medians that counts as two modes.
pub const MIN_RATIO: f64 = 1.10;
/// Added to the spreads so that tight groups keep a finite score (log scale).
const SPREAD_FLOOR: f64 = 1e-3;

/// Two modes found in pooled log values: where they split, and their centres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Modes {
    /// The split on the original scale: values below are the fast mode.
    pub split: f64,
    /// Median of the fast mode, on the original scale.
    pub fast_median: f64,
    /// Median of the slow mode, on the original scale.
    pub slow_median: f64,
}

/// Looks for two modes in `values` (positive numbers, e.g. wall time per call of every
/// sample of both sides); `None` when the values are unimodal by the rule of the module
/// docs ("How it works"), and also for fewer than [`MIN_VALUES`] values or any value that
/// is not positive and finite.
pub fn two_modes(values: &[f64]) -> Option<Modes> {
    if values.len() < MIN_VALUES || values.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        return None;
    }
    let mut logs: Vec<f64> = values.iter().map(|v| v.ln()).collect();
    logs.sort_by(f64::total_cmp);
    let min_side = min_side(logs.len());
    let best = best_split(&logs, min_side)?;
    if !is_two_modes(&logs, best) {
        return None;
    }
    let index = widest_gap_between_medians(&logs, best.index, min_side);
    let moved = Split {
        index,
        score: score_at(&logs, index),
    };
    // The reported groups must pass the rule themselves, not only the split that found them.
    if !is_two_modes(&logs, moved) {
        return None;
    }
    // Both groups are non-empty: every split leaves at least 3 values on each side.
    let (fast, slow) = logs.split_at(moved.index);
    Some(Modes {
        split: ((fast[fast.len() - 1] + slow[0]) / 2.0).exp(),
        fast_median: median_of_sorted(fast).exp(),
        slow_median: median_of_sorted(slow).exp(),
    })
}

/// The share (0..=1) of `values` at or above `modes.split` (in the slow mode).
///
/// 0 for no values (nothing is in the slow mode).
pub fn slow_share(modes: &Modes, values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let slow = values.iter().filter(|&&v| v >= modes.split).count();
    slow as f64 / values.len() as f64
}

/// A candidate split of the sorted log values: `sorted[..index]` is the fast group.
#[derive(Debug, Clone, Copy)]
struct Split {
    index: usize,
    score: f64,
}

/// The fewest values either group may have: `max(3, ceil(10%))`.
fn min_side(n: usize) -> usize {
    n.div_ceil(10).max(3)
}

/// The rule of the module docs (step 4) for one split of the sorted log values.
fn is_two_modes(sorted: &[f64], split: Split) -> bool {
    let (fast, slow) = sorted.split_at(split.index);
    split.score >= MIN_SCORE && median_of_sorted(slow) - median_of_sorted(fast) >= MIN_RATIO.ln()
}

/// Gap between the centres of `sorted[..index]` and `sorted[index..]` over their spread.
fn score_at(sorted: &[f64], index: usize) -> f64 {
    let (left, right) = sorted.split_at(index);
    let gap = median_of_sorted(right) - median_of_sorted(left);
    let spread = mad_of_sorted(left) + mad_of_sorted(right);
    gap / (spread + SPREAD_FLOOR)
}

/// The highest-scoring admissible split of `sorted` (ascending), if any is admissible.
fn best_split(sorted: &[f64], min_side: usize) -> Option<Split> {
    let n = sorted.len();
    if n < 2 * min_side {
        return None;
    }
    (min_side..=n - min_side)
        .filter(|&i| sorted[i - 1] < sorted[i])
        .map(|index| Split {
            index,
            score: score_at(sorted, index),
        })
        .max_by(|a, b| a.score.total_cmp(&b.score))
}

/// The admissible split with the widest gap between consecutive values that lies between
/// the medians of the two groups of the split at `index` (`index` itself qualifies).
fn widest_gap_between_medians(sorted: &[f64], index: usize, min_side: usize) -> usize {
    let n = sorted.len();
    // The gap before position j lies above the left median when j - 1 >= index / 2, and
    // below the right median when j <= index + (n - index - 1) / 2.
    let low = (index / 2 + 1).max(min_side);
    let high = (index + (n - index - 1) / 2).min(n - min_side);
    (low..=high)
        .map(|j| (j, sorted[j] - sorted[j - 1]))
        .filter(|&(_, gap)| gap > 0.0)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(index, |(j, _)| j)
}

/// Median of a non-empty ascending slice.
fn median_of_sorted(sorted: &[f64]) -> f64 {
    let m = sorted.len();
    (sorted[(m - 1) / 2] + sorted[m / 2]) / 2.0
}

/// The raw (unscaled) median absolute deviation of a non-empty ascending slice.
fn mad_of_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    let centre = median_of_sorted(sorted);
    // `sorted[..n / 2]` lie at or below the centre and the rest at or above, so walking
    // outwards from the middle meets the deviations in ascending order (a merge of two
    // sorted runs): the middle ones are reached in n / 2 + 1 steps, with no sort.
    let (mut below, mut above) = (n / 2, n / 2);
    let mut next_deviation = || {
        if below > 0 && (above == n || centre - sorted[below - 1] <= sorted[above] - centre) {
            below -= 1;
            centre - sorted[below]
        } else {
            above += 1;
            sorted[above - 1] - centre
        }
    };
    for _ in 0..(n - 1) / 2 {
        next_deviation();
    }
    let lower_middle = next_deviation();
    if n % 2 == 1 {
        lower_middle
    } else {
        (lower_middle + next_deviation()) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use statrs::distribution::{ContinuousCDF as _, Normal};

    use super::*;

    /// A normal deviate by inverse-CDF sampling, as the comparison tests do (no rand_distr).
    fn normal(rng: &mut ChaCha8Rng, sd: f64) -> f64 {
        let u: f64 = rng.random_range(1e-12..1.0 - 1e-12);
        Normal::new(0.0, sd).unwrap().inverse_cdf(u)
    }

    /// `n` values, a share `slow` of them around `slow_centre`, the rest around
    /// `fast_centre`, each with log-normal noise `sd`.
    fn mixture(seed: u64, n: usize, slow: f64, centres: (f64, f64), sd: f64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let centre = if rng.random_bool(slow) {
                    centres.1
                } else {
                    centres.0
                };
                centre * normal(&mut rng, sd).exp()
            })
            .collect()
    }

    fn within(value: f64, target: f64, relative: f64) -> bool {
        (value / target - 1.0).abs() <= relative
    }

    #[test]
    fn a_clear_bimodal_sample_is_found() {
        let values = mixture(1, 200, 0.3, (10.0, 30.0), 0.02);
        let modes = two_modes(&values).expect("two modes");
        assert!(within(modes.fast_median, 10.0, 0.05), "{modes:?}");
        assert!(within(modes.slow_median, 30.0, 0.05), "{modes:?}");
        // The split lies in the empty gap, so it separates the two groups exactly.
        let fast_max = values
            .iter()
            .copied()
            .filter(|&v| v < 20.0)
            .fold(0.0, f64::max);
        let slow_min = values
            .iter()
            .copied()
            .filter(|&v| v > 20.0)
            .fold(f64::INFINITY, f64::min);
        assert!(
            fast_max < modes.split && modes.split < slow_min,
            "{modes:?}"
        );
        let share = slow_share(&modes, &values);
        let expected = values.iter().filter(|&&v| v > 20.0).count() as f64 / 200.0;
        assert_eq!(share, expected);
        assert!((0.2..0.4).contains(&share), "{share}");
    }

    #[test]
    fn unimodal_log_normal_samples_are_rarely_split() {
        for sd in [0.1, 0.3] {
            let detections = (0..200)
                .filter(|&seed| two_modes(&mixture(seed, 200, 0.0, (10.0, 10.0), sd)).is_some())
                .count();
            println!("sd {sd}: {detections} of 200 unimodal samples declared bimodal");
            assert!(
                detections <= 4,
                "sd {sd}: {detections} of 200 false detections"
            );
        }
    }

    #[test]
    fn a_five_percent_separation_is_not_a_mode() {
        // Groups so tight that the score alone would call them two modes: the 10% floor
        // is what rejects them.
        let values = mixture(5, 200, 0.5, (10.0, 10.5), 0.002);
        let mut logs: Vec<f64> = values.iter().map(|v| v.ln()).collect();
        logs.sort_by(f64::total_cmp);
        let score = best_split(&logs, min_side(200)).unwrap().score;
        assert!(score >= MIN_SCORE, "{score}");
        assert_eq!(two_modes(&values), None);
    }

    #[test]
    fn slow_share_of_a_known_vector() {
        let modes = Modes {
            split: 2.0,
            fast_median: 1.0,
            slow_median: 4.0,
        };
        // At the split counts as slow: 2, 3 and 5 of 6.
        assert_eq!(slow_share(&modes, &[1.0, 1.5, 2.0, 3.0, 0.5, 5.0]), 0.5);
        assert_eq!(slow_share(&modes, &[]), 0.0);
    }

    #[test]
    fn too_few_or_unloggable_values_give_none() {
        let clear = [1.0, 1.01, 0.99, 1.0, 10.0, 10.1, 9.9];
        assert_eq!(two_modes(&clear), None);
        let mut eight = clear.to_vec();
        eight.push(10.0);
        assert!(two_modes(&eight).is_some());
        eight[0] = 0.0;
        assert_eq!(two_modes(&eight), None);
        eight[0] = f64::NAN;
        assert_eq!(two_modes(&eight), None);
    }

    #[test]
    fn mad_walk_matches_the_definition() {
        // Median 3, deviations 2, 1, 1, 5 -> 1.5; median 4, deviations 3, 2, 0, 4, 5 -> 3.
        assert_eq!(mad_of_sorted(&[1.0, 2.0, 4.0, 8.0]), 1.5);
        assert_eq!(mad_of_sorted(&[1.0, 2.0, 4.0, 8.0, 9.0]), 3.0);
        assert_eq!(mad_of_sorted(&[7.0]), 0.0);
    }
}
