//! The paired t analysis of per-block log-ratios, and the minimum detectable effect.
//!
//! # How it works
//!
//! 1. Each block gives one log-ratio `d_i = ln(head_i / base_i)` per configuration and
//!    metric (the two runs of a block are adjacent in time, so slow drift of the machine
//!    cancels inside `d_i`). The blocks are the independent units; runs are never pooled.
//! 2. `mean = (1/n) sum d_i`, `sd` with the `n - 1` denominator, `se = sd / sqrt(n)`,
//!    `t = mean / se` with `n - 1` degrees of freedom (Student 1908; any text, e.g.
//!    Wasserman, *All of Statistics*, 10.4). The interval of the mean is
//!    `mean ± t_{(1+c)/2, n-1} se`; on the ratio scale both ends are `exp`-ed, so the
//!    estimate is the geometric mean of the per-block ratios and the interval stays positive.
//! 3. The p-value is two-sided: `2 (1 - F_t(|t|))`.
//! 4. Degenerate data (every `d_i` equal, as with a deterministic metric): the interval is
//!    the point; the p-value is 1 when that point is 0 and 0 otherwise.
//!
//! The minimum detectable effect ([`minimum_detectable_effect`]) is the usual power
//! approximation for a one-sample t test, `(t_{1-a/2, n-1} + t_{power, n-1}) sd / sqrt(n)`
//! (the central-t approximation of the non-central t; e.g. Cohen 1988, ch. 2).

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Spreads below this (on the log scale, ~1e-12 relative) are rounding, not noise.
const DEGENERATE: f64 = 1e-12;

/// The paired t estimate of one configuration-metric pair, on the log scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogRatioEstimate {
    /// Blocks (log-ratios) used.
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation of the log-ratios (n - 1 denominator).
    pub sd: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Two-sided, uncorrected.
    pub p_value: f64,
}

fn students_t(df: f64) -> StudentsT {
    StudentsT::new(0.0, 1.0, df).expect("degrees of freedom >= 1 are valid")
}

/// The paired t estimate at `confidence`; `None` with fewer than two log-ratios (no spread).
pub fn paired_t(log_ratios: &[f64], confidence: f64) -> Option<LogRatioEstimate> {
    let n = log_ratios.len();
    if n < 2 {
        return None;
    }
    let mean = log_ratios.iter().sum::<f64>() / n as f64;
    let sd = (log_ratios.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    if sd <= DEGENERATE {
        let mean = if mean.abs() <= DEGENERATE { 0.0 } else { mean };
        return Some(LogRatioEstimate {
            n,
            mean,
            sd: 0.0,
            ci_low: mean,
            ci_high: mean,
            p_value: if mean == 0.0 { 1.0 } else { 0.0 },
        });
    }
    let se = sd / (n as f64).sqrt();
    let t = students_t((n - 1) as f64);
    let half = t.inverse_cdf(0.5 + confidence / 2.0) * se;
    let p_value = (2.0 * (1.0 - t.cdf((mean / se).abs()))).clamp(0.0, 1.0);
    Some(LogRatioEstimate {
        n,
        mean,
        sd,
        ci_low: mean - half,
        ci_high: mean + half,
        p_value,
    })
}

/// The smallest true mean log-ratio that a two-sided paired t test at level `alpha` over
/// `blocks` blocks detects with probability `power`, given the spread `sd` of the block
/// log-ratios (see the module docs). `None` for fewer than two blocks.
pub fn minimum_detectable_effect(sd: f64, blocks: usize, alpha: f64, power: f64) -> Option<f64> {
    if blocks < 2 {
        return None;
    }
    let t = students_t((blocks - 1) as f64);
    let quantiles = t.inverse_cdf(1.0 - alpha / 2.0) + t.inverse_cdf(power);
    Some(quantiles * sd / (blocks as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn matches_a_hand_worked_example() {
        // d = 0.1, 0.2, 0.3, 0.4 (n = 4): mean 0.25, sd = sqrt(0.05 / 3) = 0.129099...,
        // se = 0.0645497, t = 3.872983 on 3 df: two-sided p = 0.030466 (R: t.test(d)),
        // t(0.975, 3) = 3.182446, half width = 0.205426, interval [0.044574, 0.455426].
        let e = paired_t(&[0.1, 0.2, 0.3, 0.4], 0.95).unwrap();
        assert_eq!(e.n, 4);
        assert!(close(e.mean, 0.25, 1e-12));
        assert!(close(e.sd, (0.05_f64 / 3.0).sqrt(), 1e-12));
        assert!(close(e.p_value, 0.030466, 1e-5), "{}", e.p_value);
        assert!(close(e.ci_low, 0.044574, 1e-5), "{}", e.ci_low);
        assert!(close(e.ci_high, 0.455426, 1e-5), "{}", e.ci_high);
    }

    #[test]
    fn degenerate_and_too_small_inputs() {
        assert_eq!(paired_t(&[0.3], 0.95), None);
        let zero = paired_t(&[0.0; 5], 0.95).unwrap();
        assert_eq!((zero.ci_low, zero.ci_high, zero.p_value), (0.0, 0.0, 1.0));
        let shifted = paired_t(&[0.2; 5], 0.95).unwrap();
        assert_eq!(
            (shifted.ci_low, shifted.ci_high, shifted.p_value),
            (0.2, 0.2, 0.0)
        );
    }

    #[test]
    fn mde_of_a_known_design() {
        // n = 10: t(0.975, 9) = 2.262157, t(0.80, 9) = 0.883428; sd 0.1 -> 0.0994757.
        let mde = minimum_detectable_effect(0.1, 10, 0.05, 0.8).unwrap();
        assert!(
            close(mde, (2.262157 + 0.883428) * 0.1 / 10_f64.sqrt(), 1e-6),
            "{mde}"
        );
        assert_eq!(minimum_detectable_effect(0.1, 1, 0.05, 0.8), None);
    }
}
