//! Seeded percentile bootstrap of the ratio of two medians (and of their difference, for
//! metrics compared per call near zero).
//!
//! # How it works
//!
//! 1. Each replicate resamples the baseline and the current samples independently, with
//!    replacement, each at its own size, and records `median(current*) / median(baseline*)`.
//! 2. The 95% interval is the 2.5% and 97.5% type-7 quantiles of the replicates (the
//!    percentile method, Efron & Tibshirani 1993, ch. 13).
//! 3. The generator is ChaCha8 seeded from a caller-given seed, so the same data and seed give
//!    the same interval on every machine (the comparison derives one seed per pair).
//! 4. A replicate whose baseline median is 0 makes the ratio undefined; then no interval is
//!    returned (the caller reports the pair as inconclusive), unless both replicated medians
//!    are 0, which counts as a ratio of 1.
//!
//! With few runs the bootstrap distribution of a median is lumpy (it can only take values of
//! order statistics), so the interval is approximate; it is used for the size of a change,
//! while significance comes from the rank test.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::quantile::quantile_type7;
use super::samples::median_of_sorted;
use super::{CONFIDENCE, Samples};

/// A closed interval of a ratio.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RatioInterval {
    pub low: f64,
    pub high: f64,
}

/// Percentile-bootstrap 95% interval of `median(current) / median(baseline)`.
pub fn median_ratio_interval(
    baseline: &Samples,
    current: &Samples,
    resamples: u32,
    seed: u64,
) -> Option<RatioInterval> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut base_buf = vec![0.0; baseline.n()];
    let mut cur_buf = vec![0.0; current.n()];
    let mut ratios = Vec::with_capacity(resamples as usize);
    for _ in 0..resamples {
        let base_median = resampled_median(&mut rng, baseline.values(), &mut base_buf);
        let cur_median = resampled_median(&mut rng, current.values(), &mut cur_buf);
        let ratio = match (base_median == 0.0, cur_median == 0.0) {
            (true, true) => 1.0,
            (true, false) => return None,
            (false, _) => cur_median / base_median,
        };
        ratios.push(ratio);
    }
    ratios.sort_by(f64::total_cmp);
    let tail = (1.0 - CONFIDENCE) / 2.0;
    Some(RatioInterval {
        low: quantile_type7(&ratios, tail),
        high: quantile_type7(&ratios, 1.0 - tail),
    })
}

/// Percentile-bootstrap 95% interval of `median(current) - median(baseline)`, resampled as
/// [`median_ratio_interval`] does; always defined.
pub fn median_difference_interval(
    baseline: &Samples,
    current: &Samples,
    resamples: u32,
    seed: u64,
) -> (f64, f64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut base_buf = vec![0.0; baseline.n()];
    let mut cur_buf = vec![0.0; current.n()];
    let mut differences: Vec<f64> = (0..resamples)
        .map(|_| {
            let base_median = resampled_median(&mut rng, baseline.values(), &mut base_buf);
            resampled_median(&mut rng, current.values(), &mut cur_buf) - base_median
        })
        .collect();
    differences.sort_by(f64::total_cmp);
    let tail = (1.0 - CONFIDENCE) / 2.0;
    (
        quantile_type7(&differences, tail),
        quantile_type7(&differences, 1.0 - tail),
    )
}

fn resampled_median(rng: &mut ChaCha8Rng, values: &[f64], buf: &mut [f64]) -> f64 {
    for slot in buf.iter_mut() {
        *slot = values[rng.random_range(0..values.len())];
    }
    buf.sort_by(f64::total_cmp);
    median_of_sorted(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_difference_interval_covers_a_shift_and_is_exact_for_constants() {
        let base = Samples::new(vec![0.010, 0.012, 0.011, 0.013, 0.009, 0.011]).unwrap();
        let shifted = Samples::new(vec![0.060, 0.062, 0.061, 0.063, 0.059, 0.061]).unwrap();
        let (low, high) = median_difference_interval(&base, &shifted, 2000, 3);
        assert!(low <= 0.05 && 0.05 <= high, "[{low}, {high}]");
        assert!(low > 0.04 && high < 0.06, "[{low}, {high}]");
        let zero = Samples::new(vec![0.0; 4]).unwrap();
        assert_eq!(median_difference_interval(&zero, &zero, 100, 1), (0.0, 0.0));
    }

    #[test]
    fn same_seed_same_interval_and_constants_are_exact() {
        let a = Samples::new(vec![10.0, 11.0, 12.0, 13.0, 9.0]).unwrap();
        let b = Samples::new(vec![20.0, 22.0, 21.0, 19.0, 23.0]).unwrap();
        let first = median_ratio_interval(&a, &b, 2000, 7).unwrap();
        assert_eq!(first, median_ratio_interval(&a, &b, 2000, 7).unwrap());
        assert!(first.low <= 2.0 && 2.0 / 1.1 <= first.high);
        let c = Samples::new(vec![3.0; 4]).unwrap();
        let d = Samples::new(vec![6.0; 6]).unwrap();
        assert_eq!(
            median_ratio_interval(&c, &d, 100, 1),
            Some(RatioInterval {
                low: 2.0,
                high: 2.0
            })
        );
    }

    #[test]
    fn zero_baseline_is_undefined_unless_both_zero() {
        let zeros = Samples::new(vec![0.0; 5]).unwrap();
        let ones = Samples::new(vec![1.0; 5]).unwrap();
        assert_eq!(median_ratio_interval(&zeros, &ones, 100, 1), None);
        assert_eq!(
            median_ratio_interval(&zeros, &zeros, 100, 1),
            Some(RatioInterval {
                low: 1.0,
                high: 1.0
            })
        );
    }
}
