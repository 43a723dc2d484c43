//! `Summary`: the one descriptive summary computed for every metric of every configuration.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::median_interval::median_interval;
use super::quantile::quantile_type7;
use super::samples::median_of_sorted;
use super::{CONFIDENCE, Samples};

/// Descriptive statistics of one metric's samples. The unit is the metric's (the field names
/// of the result file carry it, e.g. `wall_ns_per_call`).
///
/// Nothing is ever dropped: outliers are flagged by index, and every statistic uses all data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub n: usize,
    pub median: f64,
    /// Distribution-free interval for the median (see `median_interval`).
    pub ci_low: f64,
    pub ci_high: f64,
    /// Coverage the median interval really has (may be below 95% for n <= 5).
    pub ci_coverage: f64,
    pub mean: f64,
    /// Student-t 95% interval for the mean; `None` when n < 2.
    pub mean_ci_low: Option<f64>,
    pub mean_ci_high: Option<f64>,
    /// Sample standard deviation (n - 1 denominator); `None` when n < 2.
    pub std_dev: Option<f64>,
    /// Median absolute deviation from the median, unscaled (R's `mad(x, constant = 1)`;
    /// multiply by 1.4826 for a normal-consistent estimate of sigma).
    pub mad: f64,
    pub min: f64,
    pub max: f64,
    /// Coefficient of variation `std_dev / mean`; `None` when n < 2 or the mean is 0.
    pub cv: Option<f64>,
    /// Run-order indices of values outside Tukey's fences `[Q1 - 1.5 IQR, Q3 + 1.5 IQR]`
    /// (quartiles of type 7). Flagged only, never removed.
    pub outliers: Vec<usize>,
}

impl Summary {
    pub fn of(samples: &Samples) -> Self {
        let n = samples.n();
        let values = samples.values();
        let sorted = samples.sorted();
        let median = samples.median();
        let ci = median_interval(samples, CONFIDENCE);
        let mean = values.iter().sum::<f64>() / n as f64;

        let std_dev = (n >= 2).then(|| {
            let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
            (squares / (n - 1) as f64).sqrt()
        });
        let mean_half_width = std_dev.map(|sd| {
            let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
                .expect("n - 1 >= 1 degrees of freedom are valid");
            t.inverse_cdf(0.5 + CONFIDENCE / 2.0) * sd / (n as f64).sqrt()
        });

        let mut deviations: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
        deviations.sort_by(f64::total_cmp);
        let mad = median_of_sorted(&deviations);

        let q1 = quantile_type7(sorted, 0.25);
        let q3 = quantile_type7(sorted, 0.75);
        let iqr = q3 - q1;
        let (fence_low, fence_high) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
        let outliers = values
            .iter()
            .enumerate()
            .filter(|(_, v)| **v < fence_low || **v > fence_high)
            .map(|(i, _)| i)
            .collect();

        Summary {
            n,
            median,
            ci_low: ci.low,
            ci_high: ci.high,
            ci_coverage: ci.coverage,
            mean,
            mean_ci_low: mean_half_width.map(|h| mean - h),
            mean_ci_high: mean_half_width.map(|h| mean + h),
            std_dev,
            mad,
            min: sorted[0],
            max: sorted[n - 1],
            cv: std_dev.filter(|_| mean != 0.0).map(|sd| sd / mean),
            outliers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn matches_hand_worked_reference() {
        // x = 2, 4, 4, 4, 5, 5, 7, 9, 30 (n = 9), each value worked by hand:
        // mean = 70 / 9 = 7.777...; median = 5;
        // sum of squared deviations = 5288 / 9 = 587.555..., sd = sqrt(587.555 / 8) = 8.56997...
        // t(0.975, 8) = 2.306004 (standard t table), half width = 2.306004 * 8.56997 / 3
        //   = 6.58746...
        // |x - 5| sorted = 0 0 1 1 1 2 3 4 25 -> MAD = 1 (R: mad(x, constant = 1) = 1)
        // type-7 quartiles: Q1 = x(3) = 4, Q3 = x(7) = 7, IQR = 3, fences [-0.5, 11.5]
        //   -> 30 (index 8) is the only outlier.
        // median CI for n = 9: ranks (2, 8) -> [4, 9], coverage 0.9609375.
        let s = Samples::new(vec![2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0, 30.0]).unwrap();
        let sum = Summary::of(&s);
        assert_eq!(sum.n, 9);
        assert_eq!(sum.median, 5.0);
        assert!(close(sum.mean, 70.0 / 9.0, 1e-12));
        let sd = sum.std_dev.unwrap();
        assert!(close(sd, (5288.0_f64 / 9.0 / 8.0).sqrt(), 1e-9), "{sd}");
        let half = sum.mean_ci_high.unwrap() - sum.mean;
        assert!(close(half, 2.306_004 * sd / 3.0, 1e-5), "{half}");
        assert!(close(sum.mean - sum.mean_ci_low.unwrap(), half, 1e-12));
        assert_eq!(sum.mad, 1.0);
        assert_eq!(sum.outliers, vec![8]);
        assert_eq!((sum.ci_low, sum.ci_high), (4.0, 9.0));
        assert!(close(sum.ci_coverage, 0.9609375, 1e-12));
        assert_eq!((sum.min, sum.max), (2.0, 30.0));
        assert!(close(sum.cv.unwrap(), sd / (70.0 / 9.0), 1e-12));
    }

    #[test]
    fn single_sample_has_no_spread_statistics() {
        let sum = Summary::of(&Samples::new(vec![42.0]).unwrap());
        assert_eq!(sum.median, 42.0);
        assert_eq!((sum.ci_low, sum.ci_high), (42.0, 42.0));
        assert_eq!(sum.std_dev, None);
        assert_eq!(sum.mean_ci_low, None);
        assert_eq!(sum.cv, None);
        assert!(sum.outliers.is_empty());
    }
}
