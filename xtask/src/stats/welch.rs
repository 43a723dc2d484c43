//! Welch's two-sample t on log values with a resolution floor: the comparison of instruction
//! counts, which are nearly deterministic.
//!
//! # How it works
//!
//! 1. Each side's runs are logged (`ln x`); the estimate is the difference of the means
//!    `d = mean(ln head) - mean(ln base)`, i.e. the log of the ratio of geometric means.
//! 2. Each side's variance (n - 1 denominator) is raised to at least `floor_sd^2`: counts of
//!    one binary often agree to the instruction, and a zero spread would make every
//!    difference, however small, infinitely significant. The floor is the counting's
//!    resolution (measured: `docs/book/src/notes/2026-12-01-instruction-counts.md`), so a difference below it is never
//!    significant and a difference well above it is.
//! 3. `se = sqrt(var_b / n_b + var_h / n_h)`, Welch-Satterthwaite degrees of freedom
//!    `df = se^4 / ((var_b/n_b)^2 / (n_b - 1) + (var_h/n_h)^2 / (n_h - 1))`; the interval is
//!    `d ± t_{(1+c)/2, df} se`, the p-value `2 (1 - F_t(|d| / se))` (Welch 1947; e.g.
//!    Wasserman, *All of Statistics*, 10.4).

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::stats::Samples;
use crate::stats::paired_t::LogRatioEstimate;

/// Welch's t of `ln head` against `ln base` at `confidence`; `None` with fewer than two runs
/// on a side or a non-positive value (no logarithm).
pub fn welch_log_ratio(
    base: &Samples,
    head: &Samples,
    floor_sd: f64,
    confidence: f64,
) -> Option<LogRatioEstimate> {
    let moments = |s: &Samples| -> Option<(f64, f64, f64)> {
        let n = s.n();
        if n < 2 || s.values().iter().any(|v| *v <= 0.0) {
            return None;
        }
        let logs: Vec<f64> = s.values().iter().map(|v| v.ln()).collect();
        let mean = logs.iter().sum::<f64>() / n as f64;
        let var = logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        Some((n as f64, mean, var.max(floor_sd * floor_sd)))
    };
    let (n_b, mean_b, var_b) = moments(base)?;
    let (n_h, mean_h, var_h) = moments(head)?;
    let (a, b) = (var_b / n_b, var_h / n_h);
    let se = (a + b).sqrt();
    let df = (a + b).powi(2) / (a * a / (n_b - 1.0) + b * b / (n_h - 1.0));
    let t = StudentsT::new(0.0, 1.0, df).ok()?;
    let mean = mean_h - mean_b;
    let half = t.inverse_cdf(0.5 + confidence / 2.0) * se;
    Some(LogRatioEstimate {
        n: (n_b + n_h) as usize,
        mean,
        sd: (var_b + var_h).sqrt(),
        ci_low: mean - half,
        ci_high: mean + half,
        p_value: (2.0 * (1.0 - t.cdf((mean / se).abs()))).clamp(0.0, 1.0),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn samples(values: &[f64]) -> Samples {
        Samples::new(values.to_vec()).unwrap()
    }

    const FLOOR: f64 = 1e-4;

    #[test]
    fn identical_counts_are_no_change() {
        let s = samples(&[2195.26, 2195.26, 2195.26]);
        let e = welch_log_ratio(&s, &s, FLOOR, 0.95).unwrap();
        assert_eq!(e.mean, 0.0);
        assert_eq!(e.p_value, 1.0);
        // The interval is the floor's: a fraction of a percent.
        assert!(e.ci_high < 0.001 && e.ci_low > -0.001, "{e:?}");
    }

    #[test]
    fn a_one_percent_step_on_exact_counts_is_very_significant() {
        let base = samples(&[2000.0, 2000.0, 2000.0]);
        let head = samples(&[2020.0, 2020.0, 2020.0]);
        let e = welch_log_ratio(&base, &head, FLOOR, 0.95).unwrap();
        assert!((e.mean - (1.01f64).ln()).abs() < 1e-12);
        // Significant after Holm over a few hundred pairs.
        assert!(e.p_value < 1e-4, "{e:?}");
        assert!(e.ci_low > (1.009f64).ln() && e.ci_high < (1.011f64).ln());
    }

    #[test]
    fn a_step_below_the_floor_is_not_significant() {
        let base = samples(&[2000.0, 2000.0]);
        let head = samples(&[2000.1, 2000.1]);
        let e = welch_log_ratio(&base, &head, FLOOR, 0.95).unwrap();
        assert!(e.p_value > 0.05, "{e:?}");
    }

    #[test]
    fn one_run_a_side_or_a_zero_has_no_estimate() {
        assert!(welch_log_ratio(&samples(&[1.0]), &samples(&[1.0, 1.0]), FLOOR, 0.95).is_none());
        assert!(
            welch_log_ratio(&samples(&[0.0, 1.0]), &samples(&[1.0, 1.0]), FLOOR, 0.95).is_none()
        );
    }

    proptest! {
        #[test]
        fn the_interval_holds_the_estimate_and_swapping_sides_negates_it(
            base in prop::collection::vec(1.0..1e6f64, 2..6),
            head in prop::collection::vec(1.0..1e6f64, 2..6),
        ) {
            let (b, h) = (samples(&base), samples(&head));
            let e = welch_log_ratio(&b, &h, FLOOR, 0.95).unwrap();
            prop_assert!(e.ci_low <= e.mean && e.mean <= e.ci_high);
            let swapped = welch_log_ratio(&h, &b, FLOOR, 0.95).unwrap();
            prop_assert!((swapped.mean + e.mean).abs() < 1e-9);
            prop_assert!((swapped.p_value - e.p_value).abs() < 1e-9);
        }
    }
}
