//! The minimum detectable effect (MDE) of a calibrated pair: the smallest change the gate's
//! test finds with the stated power, from the spread of the A/A trials, at Holm's first step
//! over the pair's family in the gate (`a' = alpha / m`, `m` its gated or reported-only
//! pairs: the strictest level a single real change has to pass when every other pair is
//! unchanged), as a change in percent, `exp(MDE) - 1`. The gate confirms a change of about
//! `threshold + MDE`. The instrument's `settings::Design` says which test, hence which
//! formula:
//!
//! - blocks (timing): the paired test over `n` blocks,
//!   `MDE = (t_{1-a'/2, n-1} + t_{power, n-1}) sd / sqrt(n)` (`stats::paired_t`), `sd` the
//!   spread of the A/A block log-ratios that governs the estimator's interval: the pooled sd
//!   (root mean of the per-trial variances) for the mean, [`hodges_lehmann_sd`] for
//!   Hodges-Lehmann;
//! - runs (counts): Welch's t over `n` runs a side, whose standard error is `s sqrt(2/n)` on
//!   `2(n - 1)` degrees of freedom: `MDE = (t_{1-a'/2, 2(n-1)} + t_{power, 2(n-1)}) s
//!   sqrt(2/n)`, `s` the pooled sd of `ln(count per call)` within each A/A trial and side
//!   (sum of squares over sum of `n - 1`), raised to the gate's resolution floor
//!   (`comparison::counters::RESOLUTION`).

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::settings::Design;
use super::trials::{Pairs, TrialConfig};
use crate::comparison::counters::RESOLUTION;
use crate::comparison::{PairedEstimator, VerdictPolicy};
use crate::model::metric::Metric;
use crate::stats::Samples;
use crate::stats::paired_t::minimum_detectable_effect;

/// Block counts a timing MDE is reported at besides the calibrated one.
pub const MDE_BLOCKS: [u32; 3] = [10, 20, 40];

/// Runs a side a count's MDE is reported at besides the calibrated number.
pub const MDE_RUNS: [u32; 3] = [3, 5, 10];

/// The sizes of the gate's Holm families over the instrument's metrics (gated, and
/// reported only: each is its own family), and the test's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Family {
    /// Over the calibrated configurations.
    pub gated_pairs: usize,
    pub reported_pairs: usize,
    /// Over every configuration of `--list`.
    pub full_suite_gated_pairs: usize,
    pub full_suite_reported_pairs: usize,
    pub alpha: f64,
    pub power: f64,
}

impl Family {
    /// The families of `metrics` for `ids` of `all` configurations under `policy`.
    pub fn of(
        policy: &VerdictPolicy,
        metrics: &[Metric],
        ids: usize,
        all: usize,
        power: f64,
    ) -> Self {
        let gated = metrics.iter().filter(|m| policy.is_gated(**m)).count();
        let reported = metrics.len() - gated;
        Family {
            gated_pairs: ids * gated,
            reported_pairs: ids * reported,
            full_suite_gated_pairs: all * gated,
            full_suite_reported_pairs: all * reported,
            alpha: policy.alpha,
            power,
        }
    }

    /// The family of a gated or reported-only pair.
    pub fn pairs(&self, gated: bool, full_suite: bool) -> usize {
        match (gated, full_suite) {
            (true, false) => self.gated_pairs,
            (false, false) => self.reported_pairs,
            (true, true) => self.full_suite_gated_pairs,
            (false, true) => self.full_suite_reported_pairs,
        }
    }
}

/// A spread of the A/A trials: the sd on the log scale and its degrees of freedom (`None`
/// where the estimator's spread has none to speak of).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub sd: f64,
    pub df: Option<usize>,
}

/// The MDE in percent of a spread `sd` over `n` blocks or runs a side at level `alpha`;
/// NaN below two.
pub fn pct(design: Design, sd: f64, n: u32, alpha: f64, power: f64) -> f64 {
    let log = match design {
        Design::Blocks(_) => minimum_detectable_effect(sd, n as usize, alpha, power),
        Design::Runs => welch_mde(sd.max(RESOLUTION), n, alpha, power),
    };
    log.map_or(f64::NAN, |log| (log.exp() - 1.0) * 100.0)
}

/// The spread of `metric` over the A/A trials' records of one configuration; `None`
/// without one (fewer than two blocks, or runs a side, anywhere).
pub fn spread(design: Design, aa: &[&TrialConfig], metric: Metric) -> Option<Spread> {
    match design {
        Design::Blocks(estimator) => {
            let walls = aa.iter().filter_map(|c| match &c.pairs {
                Pairs::Wall(wall) if metric == Metric::Wall => Some(wall),
                _ => None,
            });
            let sd = match estimator {
                PairedEstimator::Mean => {
                    pooled_sd(&walls.filter_map(|w| w.sd_log_ratio).collect::<Vec<_>>())?
                }
                PairedEstimator::HodgesLehmann => {
                    hodges_lehmann_sd(&walls.map(|w| w.log_ratios.as_slice()).collect::<Vec<_>>())?
                }
            };
            Some(Spread { sd, df: None })
        }
        Design::Runs => {
            let sides = aa.iter().filter_map(|c| match &c.pairs {
                Pairs::Counts { metrics, .. } => metrics.iter().find(|p| p.metric == metric),
                Pairs::Wall(_) => None,
            });
            let (sd, df) = pooled_within(sides.flat_map(|p| [&p.side_a, &p.side_b]))?;
            Some(Spread { sd, df: Some(df) })
        }
    }
}

/// `(t_{1-a/2, df} + t_{power, df}) s sqrt(2/n)`, `df = 2(n - 1)`, on the log scale.
fn welch_mde(sd: f64, runs: u32, alpha: f64, power: f64) -> Option<f64> {
    if runs < 2 {
        return None;
    }
    let t = StudentsT::new(0.0, 1.0, 2.0 * f64::from(runs - 1)).ok()?;
    Some(
        (t.inverse_cdf(1.0 - alpha / 2.0) + t.inverse_cdf(power))
            * sd
            * (2.0 / f64::from(runs)).sqrt(),
    )
}

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

/// The pooled sd of the log values within each group (a trial's side) and its degrees of
/// freedom; groups of fewer than two or with a value that has no log are left out.
fn pooled_within<'a>(groups: impl Iterator<Item = &'a Vec<f64>>) -> Option<(f64, usize)> {
    let mut squares = 0.0;
    let mut df = 0;
    for group in groups {
        if group.len() < 2 || group.iter().any(|v| *v <= 0.0 || !v.is_finite()) {
            continue;
        }
        let logs: Vec<f64> = group.iter().map(|v| v.ln()).collect();
        let mean = logs.iter().sum::<f64>() / logs.len() as f64;
        squares += logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>();
        df += logs.len() - 1;
    }
    (df > 0).then(|| ((squares / df as f64).sqrt(), df))
}

/// The MDE of Wall per call for one configuration (timing).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mde {
    pub id: String,
    /// The A/A spread the estimator's interval is governed by (module docs).
    pub sd_log_ratio: f64,
    /// At the calibrated blocks and family: a slowdown in percent.
    pub pct: f64,
    /// `(blocks, pct)` for the calibrated family.
    pub at_blocks: Vec<(u32, f64)>,
    /// `(blocks, pct)` for the full suite's family.
    pub full_suite_at_blocks: Vec<(u32, f64)>,
    /// What the gate confirms with the stated power: threshold + MDE, in percent.
    pub gate_confirms_pct: f64,
}

/// The MDE of one configuration and counter metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountMde {
    /// Pooled sd of the A/A runs' log counts within trial and side, before the floor.
    pub sd_log: f64,
    /// Degrees of freedom of that pool.
    pub sd_df: usize,
    /// The sd the MDE uses: `max(sd_log, RESOLUTION)`.
    pub sd_used: f64,
    /// Runs a side (`--counter-runs`).
    pub runs: u32,
    /// The metric's Holm family in the gate (`m`).
    pub family_pairs: usize,
    /// At `runs` runs a side: a change in percent.
    pub pct: f64,
    /// `(runs a side, pct)`.
    pub at_runs: Vec<(u32, f64)>,
    /// At `runs` for the full suite's family.
    pub full_suite_pct: f64,
    /// What the gate confirms with the stated power: threshold + MDE, in percent.
    pub gate_confirms_pct: f64,
}

/// What an MDE is computed for besides the spread.
#[derive(Debug, Clone, Copy)]
pub struct MdeSettings {
    pub design: Design,
    /// Blocks or runs a side per trial.
    pub n: u32,
    pub family: Family,
    /// Whether the metric is gated (its Holm family).
    pub gated: bool,
    /// The gate's threshold of the metric (a fraction), for "gate confirms".
    pub threshold: f64,
}

impl MdeSettings {
    /// The MDE in percent of `sd` at `n` for the calibrated or the full suite's family.
    pub fn pct(&self, sd: f64, n: u32, full_suite: bool) -> f64 {
        let m = self.family.pairs(self.gated, full_suite).max(1);
        let alpha = self.family.alpha / m as f64;
        pct(self.design, sd, n, alpha, self.family.power)
    }

    /// The timing MDE of configuration `id`.
    pub fn blocks(&self, id: &str, spread: Spread) -> Mde {
        let at = |full_suite: bool| {
            MDE_BLOCKS
                .iter()
                .map(|&n| (n, self.pct(spread.sd, n, full_suite)))
                .collect()
        };
        let pct = self.pct(spread.sd, self.n, false);
        Mde {
            id: id.to_owned(),
            sd_log_ratio: spread.sd,
            pct,
            at_blocks: at(false),
            full_suite_at_blocks: at(true),
            gate_confirms_pct: self.threshold * 100.0 + pct,
        }
    }

    /// The MDE of a count.
    pub fn runs(&self, spread: Spread) -> CountMde {
        let pct = self.pct(spread.sd, self.n, false);
        CountMde {
            sd_log: spread.sd,
            sd_df: spread.df.unwrap_or(0),
            sd_used: spread.sd.max(RESOLUTION),
            runs: self.n,
            family_pairs: self.family.pairs(self.gated, false),
            pct,
            at_runs: MDE_RUNS
                .iter()
                .map(|&n| (n, self.pct(spread.sd, n, false)))
                .collect(),
            full_suite_pct: self.pct(spread.sd, self.n, true),
            gate_confirms_pct: self.threshold * 100.0 + pct,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::paired_t::paired_t;

    #[test]
    fn the_mde_needs_two_runs_a_side() {
        assert!(pct(Design::Runs, 0.01, 1, 0.05, 0.8).is_nan());
        assert!(
            pct(Design::Runs, 0.0, 2, 0.05, 0.8) > 0.0,
            "the floor keeps it positive"
        );
    }

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
