//! Change points in a series of values over commits: E-Divisive means (Matteson & James,
//! "A Nonparametric Approach for Multiple Change Point Analysis of Multivariate Data",
//! JASA 2014), the method MongoDB's performance CI and Apache Otava (formerly Hunter) use on
//! their histories.
//!
//! # How it works
//!
//! 1. A split `t` of a segment into `left = [start, t)` and `right = [t, end)` is scored by
//!    the energy statistic with exponent 1:
//!    `Q(t) = m r / (m + r) * (2 B / (m r) - 2 L / (m (m - 1)) - 2 R / (r (r - 1)))`,
//!    where `B` sums `|x_i - x_j|` over pairs across the split and `L`, `R` over pairs
//!    within each side (each pair once), `m` and `r` the sides' sizes. It is large when
//!    the two sides differ in distribution, whatever its shape; no normality is assumed.
//!    Prefix sums over the distance matrix give every split's score in O(1).
//! 2. The best split of the segment with the largest score is tested by permutation: the
//!    segment's values are shuffled [`PERMUTATIONS`] times (seeded ChaCha8, so a history
//!    gives the same answer on every machine), and `p = (1 + #{max Q of a shuffle >= Q}) /
//!    (PERMUTATIONS + 1)`. If `p <= alpha` the split is a change point and both halves
//!    become segments; otherwise the search ends (hierarchical, as in the paper).
//! 3. Each change point is reported with the commit it starts at, the step's size (the
//!    ratio of the medians of the segments on either side, between its neighbours) and its
//!    confidence `1 - p`.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::Samples;

/// Shuffles per significance test: the smallest p-value is 1/200.
pub const PERMUTATIONS: usize = 199;

/// A side of a split has at least this many values.
pub const MIN_SEGMENT: usize = 3;

/// One change point of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangePoint {
    /// Index of the first value after the change.
    pub index: usize,
    /// Median after / median before (segments bounded by the neighbouring change points).
    pub ratio: f64,
    /// `1 - p` of its permutation test.
    pub confidence: f64,
}

/// The change points of `values` in index order, with significance level `alpha`; `seed`
/// drives the permutations.
pub fn e_divisive(values: &[f64], alpha: f64, seed: u64) -> Vec<ChangePoint> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut splits: Vec<(usize, f64)> = Vec::new();
    let mut segments = vec![(0, values.len())];
    loop {
        let best = segments
            .iter()
            .enumerate()
            .filter_map(|(k, &(start, end))| {
                best_split(&values[start..end]).map(|(t, q)| (k, start + t, q))
            })
            .max_by(|a, b| a.2.total_cmp(&b.2));
        let Some((k, index, q)) = best else { break };
        let (start, end) = segments[k];
        let p = permutation_p(&values[start..end], q, &mut rng);
        if p > alpha {
            break;
        }
        splits.push((index, 1.0 - p));
        segments.splice(k..=k, [(start, index), (index, end)]);
    }
    splits.sort_by_key(|&(index, _)| index);
    let bounds: Vec<usize> = std::iter::once(0)
        .chain(splits.iter().map(|&(index, _)| index))
        .chain(std::iter::once(values.len()))
        .collect();
    splits
        .iter()
        .enumerate()
        .map(|(i, &(index, confidence))| ChangePoint {
            index,
            ratio: median(&values[index..bounds[i + 2]]) / median(&values[bounds[i]..index]),
            confidence,
        })
        .collect()
}

/// The split of `x` with the largest energy statistic, as (index, score); `None` when `x`
/// is too short for two sides of [`MIN_SEGMENT`].
fn best_split(x: &[f64]) -> Option<(usize, f64)> {
    let n = x.len();
    if n < 2 * MIN_SEGMENT {
        return None;
    }
    let sums = PairSums::new(x);
    (MIN_SEGMENT..=n - MIN_SEGMENT)
        .map(|t| (t, sums.score(t)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// The permutation p-value of the best score `observed` of segment `x`.
fn permutation_p(x: &[f64], observed: f64, rng: &mut ChaCha8Rng) -> f64 {
    let mut shuffled = x.to_vec();
    let as_large = (0..PERMUTATIONS)
        .filter(|_| {
            shuffled.shuffle(rng);
            best_split(&shuffled).is_some_and(|(_, q)| q >= observed)
        })
        .count();
    (1 + as_large) as f64 / (PERMUTATIONS + 1) as f64
}

/// Prefix sums of the distance matrix `|x_i - x_j|`: `prefix[a][b]` is the sum over
/// `i < a`, `j < b`.
struct PairSums {
    n: usize,
    prefix: Vec<f64>,
}

impl PairSums {
    fn new(x: &[f64]) -> Self {
        let n = x.len();
        let width = n + 1;
        let mut prefix = vec![0.0; width * width];
        for a in 1..=n {
            for b in 1..=n {
                prefix[a * width + b] = (x[a - 1] - x[b - 1]).abs()
                    + prefix[(a - 1) * width + b]
                    + prefix[a * width + b - 1]
                    - prefix[(a - 1) * width + b - 1];
            }
        }
        Self { n, prefix }
    }

    /// The sum of `|x_i - x_j|` over `i` in `rows`, `j` in `cols`.
    fn rect(&self, rows: (usize, usize), cols: (usize, usize)) -> f64 {
        let w = self.n + 1;
        let at = |a: usize, b: usize| self.prefix[a * w + b];
        at(rows.1, cols.1) - at(rows.0, cols.1) - at(rows.1, cols.0) + at(rows.0, cols.0)
    }

    /// The energy statistic of splitting at `t` (module docs).
    fn score(&self, t: usize) -> f64 {
        let (m, r) = (t as f64, (self.n - t) as f64);
        let between = self.rect((0, t), (t, self.n));
        // Each unordered pair appears twice in a square block.
        let left = self.rect((0, t), (0, t)) / 2.0;
        let right = self.rect((t, self.n), (t, self.n)) / 2.0;
        let energy =
            2.0 * between / (m * r) - 2.0 * left / (m * (m - 1.0)) - 2.0 * right / (r * (r - 1.0));
        m * r / (m + r) * energy
    }
}

fn median(values: &[f64]) -> f64 {
    Samples::new(values.to_vec()).map_or(f64::NAN, |s| s.median())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    /// A normal deviate (Box-Muller), keeping the tests free of rand_distr.
    fn normal(rng: &mut ChaCha8Rng) -> f64 {
        let u: f64 = rng.random_range(1e-12..1.0);
        let v: f64 = rng.random_range(0.0..1.0);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// 200 commits of an instruction count per call: 2,000 instructions with a relative
    /// noise of 1e-5 (what callgrind's counts vary by here), and steps at the given commits.
    fn counter_series(steps: &[(usize, f64)], seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..200)
            .map(|commit| {
                let level: f64 = steps
                    .iter()
                    .filter(|(at, _)| commit >= *at)
                    .map(|(_, ratio)| ratio)
                    .product();
                2_000.0 * level * (1.0 + 1e-5 * normal(&mut rng))
            })
            .collect()
    }

    #[test]
    fn steps_of_three_five_and_ten_percent_on_a_counter_are_found_at_their_commits() {
        for seed in 0..5 {
            let series = counter_series(&[(50, 1.03), (100, 1.05), (150, 1.10)], seed);
            let found = e_divisive(&series, 0.01, seed);
            let at: Vec<usize> = found.iter().map(|c| c.index).collect();
            assert_eq!(at, [50, 100, 150], "seed {seed}: {found:?}");
            for (point, ratio) in found.iter().zip([1.03, 1.05, 1.10]) {
                assert!((point.ratio - ratio).abs() < 1e-3, "{point:?}");
                assert!(point.confidence >= 0.99, "{point:?}");
            }
        }
    }

    #[test]
    fn each_step_alone_is_found_at_its_commit() {
        for (at, ratio) in [(37, 1.03), (120, 0.95), (181, 1.10)] {
            let series = counter_series(&[(at, ratio)], 11);
            let found = e_divisive(&series, 0.01, 11);
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].index, at, "{found:?}");
        }
    }

    #[test]
    fn an_unchanged_counter_series_has_no_change_point() {
        for seed in 0..20 {
            let series = counter_series(&[], 100 + seed);
            assert_eq!(e_divisive(&series, 0.01, seed), [], "seed {seed}");
        }
        // Identical counts (the common case): every split scores 0, nothing is significant.
        assert_eq!(e_divisive(&[2_000.0; 200], 0.01, 1), []);
    }

    /// 200 commits of wall time per call as a history of main holds it, one median of a
    /// run's processes per commit, with this machine's noise between such medians: log-normal
    /// with a standard deviation of 0.046 (the five medians of `floor/park` measured on 2
    /// December 2026 from separate runs, pinned and not, 91.6-103.2 us: 4.6%), and a step of
    /// `ratio` at commit `at`. With `bad_days`, one commit in 20 is also 40% slower (a host in
    /// a slow state for a whole run: not measured as such, a stress for the A/A test).
    fn timing_series(at: usize, ratio: f64, seed: u64, bad_days: bool) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..200)
            .map(|commit| {
                let step = if commit >= at { ratio } else { 1.0 };
                let slow = if bad_days && rng.random_range(0..20) == 0 {
                    1.4
                } else {
                    1.0
                };
                100.0 * step * slow * (0.046 * normal(&mut rng)).exp()
            })
            .collect()
    }

    #[test]
    fn a_twenty_percent_step_in_noisy_timing_is_found_within_two_commits() {
        for seed in 0..10 {
            let series = timing_series(90, 1.2, seed, false);
            let found = e_divisive(&series, 0.01, seed);
            let near: Vec<&ChangePoint> =
                found.iter().filter(|c| c.index.abs_diff(90) <= 2).collect();
            assert_eq!(near.len(), 1, "seed {seed}: {found:?}");
            assert!((near[0].ratio - 1.2).abs() < 0.05, "{found:?}");
            assert_eq!(
                found.len(),
                1,
                "no other change point, seed {seed}: {found:?}"
            );
        }
    }

    #[test]
    fn unchanged_noisy_timing_has_no_change_point() {
        // Each series is one family of tests at alpha = 0.01 (about 0.4 false points
        // expected in 40 series), here with bad days as well; these 40 seeded series have
        // none.
        let false_points: usize = (0..40)
            .map(|seed| e_divisive(&timing_series(200, 1.0, 500 + seed, true), 0.01, seed).len())
            .sum();
        assert_eq!(false_points, 0, "false change points in 40 A/A series");
    }

    #[test]
    fn the_statistic_matches_its_definition() {
        let x = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];
        let sums = PairSums::new(&x);
        for t in 2..=5 {
            let (left, right) = x.split_at(t);
            let pairs = |a: &[f64], b: &[f64]| -> f64 {
                a.iter()
                    .flat_map(|u| b.iter().map(move |v| (u - v).abs()))
                    .sum()
            };
            let (m, r) = (left.len() as f64, right.len() as f64);
            let expected = m * r / (m + r)
                * (2.0 * pairs(left, right) / (m * r)
                    - pairs(left, left) / (m * (m - 1.0))
                    - pairs(right, right) / (r * (r - 1.0)));
            assert!((sums.score(t) - expected).abs() < 1e-9, "t = {t}");
        }
    }
}
