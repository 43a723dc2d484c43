//! The spread of the A/A block log-ratios that a timing calibration's MDE is computed from,
//! one per paired estimator: the pooled sd for the mean, a robust equivalent for
//! Hodges-Lehmann, over the A/A trials.

use crate::stats::Samples;

/// The root mean of the per-trial variances of the block log-ratios (the mean's spread),
/// from each trial's standard deviation.
pub fn pooled_sd(trial_sds: &[f64]) -> Option<f64> {
    (!trial_sds.is_empty())
        .then(|| (trial_sds.iter().map(|sd| sd * sd).sum::<f64>() / trial_sds.len() as f64).sqrt())
}

/// The spread that governs a Hodges-Lehmann interval, as an sd to put into the mean's MDE
/// formula: at the normal, HL's standard error is `sqrt(pi/3) sigma / sqrt(n)` (asymptotic
/// relative efficiency 3/pi against the mean; Hollander, Wolfe & Chicken, *Nonparametric
/// Statistical Methods*, 3rd ed., 3.2), and `sigma` is estimated robustly, as `1.4826 MAD`
/// of every A/A trial's block log-ratios about that trial's median, pooled: the few blocks
/// in a slow mode that HL disregards then do not inflate its MDE either, as they would the
/// pooled sd.
pub fn hodges_lehmann_sd(trials: &[&[f64]]) -> Option<f64> {
    let mut deviations = Vec::new();
    for d in trials {
        let Ok(samples) = Samples::new(d.to_vec()) else {
            continue;
        };
        let centre = samples.median();
        deviations.extend(d.iter().map(|x| (x - centre).abs()));
    }
    let mad = Samples::new(deviations).ok()?.median();
    Some(1.4826 * mad * (std::f64::consts::PI / 3.0).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::paired_t::paired_t;

    /// HL's MDE spread comes from a robust scale: one A/A trial whose blocks are -0.01,
    /// -0.01, 0, 0, 0.01, 0.01 plus one wild block has median 0 and MAD 0.01, so its sd is
    /// 1.4826 * 0.01 * sqrt(pi/3) whatever the wild block's size, while the pooled sd grows.
    #[test]
    fn the_hodges_lehmann_spread_ignores_a_wild_block_and_the_mean_does_not() {
        let with_wild = |wild: f64| vec![-0.01, -0.01, 0.0, 0.0, 0.01, 0.01, wild];
        let (small, large) = (with_wild(0.03), with_wild(0.9));
        let expected = 1.4826 * 0.01 * (std::f64::consts::PI / 3.0).sqrt();
        for d in [&small, &large] {
            let sd = hodges_lehmann_sd(&[d.as_slice()]).unwrap();
            assert!((sd - expected).abs() < 1e-12, "{sd}");
        }
        let sd = |d: &[f64]| paired_t(d, 0.95).unwrap().sd;
        let p_small = pooled_sd(&[sd(&small)]).unwrap();
        let p_large = pooled_sd(&[sd(&large)]).unwrap();
        assert!(p_large > 10.0 * p_small, "{p_small} {p_large}");
        assert!(pooled_sd(&[]).is_none() && hodges_lehmann_sd(&[]).is_none());
    }
}
