//! Distribution-free confidence interval for the median from order statistics.
//!
//! # How it works
//!
//! 1. For `n` observations the number below the true median is Binomial(n, 1/2), whatever
//!    the distribution (continuous case). So the interval between the order statistics
//!    `x(j)` and `x(n+1-j)` (1-based ranks) covers the median with probability
//!    `1 - 2 * P(B <= j - 1)`, `B ~ Binomial(n, 1/2)`
//!    (Conover, *Practical Nonparametric Statistics*, 3rd ed., section 3.2; Hollander & Wolfe).
//! 2. We take the largest `j` (the narrowest symmetric interval) whose coverage still reaches
//!    the target.
//! 3. When even `j = 1` (min..max) cannot reach it (`n <= 5` for 95%), we report min..max and
//!    the coverage actually achieved, flagged as below target, instead of pretending.

use serde::{Deserialize, Serialize};
use statrs::distribution::{Binomial, DiscreteCDF};

use super::Samples;

/// An interval for the median, with the coverage it really has.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MedianInterval {
    pub low: f64,
    pub high: f64,
    /// Exact coverage probability of `[low, high]` under the binomial argument.
    pub coverage: f64,
    /// 1-based rank of `low` in the sorted sample (`high` has rank `n + 1 - lower_rank`).
    pub lower_rank: usize,
    /// Whether `coverage` reaches the requested level.
    pub reaches_target: bool,
}

/// Coverage of the symmetric order-statistic interval with lower rank `j` (1-based).
fn coverage(binomial: &Binomial, lower_rank: usize) -> f64 {
    1.0 - 2.0 * binomial.cdf(lower_rank as u64 - 1)
}

/// The narrowest symmetric order-statistic interval covering the median with probability
/// at least `target`, or min..max with its (lower) coverage when `n` is too small.
pub fn median_interval(samples: &Samples, target: f64) -> MedianInterval {
    let n = samples.n();
    let sorted = samples.sorted();
    let binomial = Binomial::new(0.5, n as u64).expect("p = 0.5 and n >= 1 are valid");
    let mut lower_rank = 1;
    let mut achieved = coverage(&binomial, 1);
    // Ranks above (n + 1) / 2 would cross the middle.
    while lower_rank < n.div_ceil(2) {
        let next = coverage(&binomial, lower_rank + 1);
        if next < target {
            break;
        }
        lower_rank += 1;
        achieved = next;
    }
    MedianInterval {
        low: sorted[lower_rank - 1],
        high: sorted[n - lower_rank],
        coverage: achieved.max(0.0),
        lower_rank,
        reaches_target: achieved >= target,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn the_median_lies_in_its_interval(values in prop::collection::vec(-1e9..1e9_f64, 1..60)) {
            let s = Samples::new(values).unwrap();
            let ci = median_interval(&s, 0.95);
            prop_assert!(ci.low <= s.median() && s.median() <= ci.high);
            prop_assert!(ci.low >= s.sorted()[0] && ci.high <= s.sorted()[s.n() - 1]);
            prop_assert_eq!(ci.reaches_target, s.n() >= 6);
            prop_assert!((0.0..=1.0).contains(&ci.coverage));
        }
    }

    /// The interval of `1..=n`, whose bounds are their own ranks.
    fn ranks_for(n: usize) -> MedianInterval {
        let s = Samples::new((1..=n).map(|i| i as f64).collect()).unwrap();
        let ci = median_interval(&s, 0.95);
        assert_eq!(ci.low, ci.lower_rank as f64);
        assert_eq!(ci.high, (n + 1 - ci.lower_rank) as f64);
        ci
    }

    #[test]
    fn small_n_falls_back_to_min_max_with_honest_coverage() {
        // n = 5: coverage of min..max = 1 - 2 / 2^5 = 0.9375 (worked by hand), below 95%.
        let ci = ranks_for(5);
        assert_eq!(ci.lower_rank, 1);
        assert!((ci.coverage - 0.9375).abs() < 1e-12);
        assert!(!ci.reaches_target);
        // n = 1: a single point covers nothing.
        let ci = ranks_for(1);
        assert_eq!(ci.lower_rank, 1);
        assert!(!ci.reaches_target);
        assert!(ci.coverage.abs() < 1e-12);
    }

    #[test]
    fn ranks_match_the_sign_test_table() {
        // Ranks of the 95% distribution-free median interval, as tabulated for the sign test
        // (e.g. Conover table A3; each coverage worked by hand from binomial sums):
        // n = 6: (1, 6), 1 - 2/64 = 0.96875
        // n = 8: (1, 8), 1 - 2/256 = 0.9921875; rank 2 would give 1 - 18/256 = 0.9297
        // n = 9: (2, 8), 1 - 2 * 10/512 = 0.9609375
        // n = 10: (2, 9), 1 - 2 * 11/1024 = 0.978515625
        // n = 20: (6, 15), 1 - 2 * P(B <= 5) = 1 - 2 * 21700/1048576 = 0.958610535
        let cases = [
            (6, 1, 0.96875),
            (8, 1, 0.9921875),
            (9, 2, 0.9609375),
            (10, 2, 0.978515625),
            (20, 6, 1.0 - 2.0 * 21700.0 / 1048576.0),
        ];
        for (n, rank, cov) in cases {
            let ci = ranks_for(n);
            assert_eq!(ci.lower_rank, rank, "n = {n}");
            assert!(
                (ci.coverage - cov).abs() < 1e-9,
                "n = {n}: {} vs {cov}",
                ci.coverage
            );
            assert!(ci.reaches_target);
        }
    }
}
