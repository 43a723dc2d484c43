//! Pairs compared near zero (`Metric::near_zero`): the change as a difference per call and
//! its verdict, with the metric's resolution per call as the noise band.

use serde::{Deserialize, Serialize};

use super::Verdict;

/// A change stated as `current - baseline` per call, with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AbsoluteChange {
    pub difference: f64,
    pub low: f64,
    pub high: f64,
}

/// The verdict of a pair compared by its difference per call: the same rule as
/// [`verdict`], with `tolerance` (the metric's resolution, per call) as the noise band.
pub fn absolute_verdict(
    change: AbsoluteChange,
    p_adjusted: f64,
    alpha: f64,
    tolerance: f64,
) -> Verdict {
    let significant = p_adjusted <= alpha;
    if significant && change.low > tolerance {
        Verdict::Regressed
    } else if significant && change.high < -tolerance {
        Verdict::Improved
    } else if change.low >= -tolerance && change.high <= tolerance {
        Verdict::Unchanged
    } else {
        Verdict::Inconclusive
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(low: f64, high: f64) -> AbsoluteChange {
        AbsoluteChange {
            difference: (low + high) / 2.0,
            low,
            high,
        }
    }

    #[test]
    fn the_band_is_per_call_and_significance_is_needed_to_move() {
        let v = |low, high, p| absolute_verdict(change(low, high), p, 0.05, 0.02);
        assert_eq!(v(0.05, 0.30, 0.01), Verdict::Regressed);
        assert_eq!(v(0.05, 0.30, 0.20), Verdict::Inconclusive);
        assert_eq!(v(-0.30, -0.05, 0.01), Verdict::Improved);
        assert_eq!(v(-0.01, 0.015, 0.50), Verdict::Unchanged);
        assert_eq!(v(0.01, 0.05, 0.01), Verdict::Inconclusive);
    }
}
