//! The minimum detectable effect (MDE) of the gate's counting comparison, from the spread
//! of the A/A counting runs of `calibrate --counters`, and the Holm families it assumes.
//!
//! `s` = pooled standard deviation of `ln(count per call)` over the A/A trials, within each
//! trial and side (sum of squares over sum of `n - 1`), raised to the gate's resolution
//! floor (`comparison::counters::RESOLUTION`). With `n` runs a side, Welch's standard error
//! is `s sqrt(2/n)` on `2(n - 1)` degrees of freedom, and
//! `MDE = (t_{1-a'/2, 2(n-1)} + t_{power, 2(n-1)}) s sqrt(2/n)`, `a' = alpha / m` (Holm's
//! first step over the `m` pairs of the metric's family in the gate: gated or reported-only),
//! shown as `exp(MDE) - 1`. The gate confirms a change of about `threshold + MDE`.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::counter_trials::CounterTrialMetric;
use crate::comparison::VerdictPolicy;
use crate::comparison::counters::RESOLUTION;
use crate::model::metric::Metric;

/// Runs a side the MDE is reported at besides the calibrated number.
pub const MDE_RUNS: [u32; 3] = [3, 5, 10];

/// The MDE of one configuration and metric (module docs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CounterMde {
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
    /// The same for the full suite's family.
    pub full_suite_pct: f64,
    /// What the gate confirms with the stated power: threshold + MDE, in percent.
    pub gate_confirms_pct: f64,
}

/// The sizes of the gate's Holm families, per metric kind, and the test's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CounterFamily {
    /// Gated pairs of the gate over the calibrated configurations (timing and counters).
    pub gated_pairs: usize,
    /// Reported-only pairs over the calibrated configurations.
    pub reported_pairs: usize,
    /// The same over every configuration of `--list`.
    pub full_suite_gated_pairs: usize,
    pub full_suite_reported_pairs: usize,
    pub alpha: f64,
    pub power: f64,
}

impl CounterFamily {
    /// The gate's families for `ids` of `all` configurations under `policy`.
    pub fn of(policy: &VerdictPolicy, ids: usize, all: usize, power: f64) -> Self {
        let gated = Metric::iter().filter(|m| policy.is_gated(*m)).count();
        let reported = Metric::iter().count() - gated;
        CounterFamily {
            gated_pairs: ids * gated,
            reported_pairs: ids * reported,
            full_suite_gated_pairs: all * gated,
            full_suite_reported_pairs: all * reported,
            alpha: policy.alpha,
            power,
        }
    }

    fn pairs(&self, gated: bool, full_suite: bool) -> usize {
        match (gated, full_suite) {
            (true, false) => self.gated_pairs,
            (false, false) => self.reported_pairs,
            (true, true) => self.full_suite_gated_pairs,
            (false, true) => self.full_suite_reported_pairs,
        }
    }
}

/// The MDE of a log-scale spread `sd` with `runs` runs a side, as a change in percent; NaN
/// below two runs.
pub fn mde_pct(sd: f64, runs: u32, alpha: f64, power: f64) -> f64 {
    if runs < 2 {
        return f64::NAN;
    }
    let df = 2.0 * f64::from(runs - 1);
    let Ok(t) = StudentsT::new(0.0, 1.0, df) else {
        return f64::NAN;
    };
    let log = (t.inverse_cdf(1.0 - alpha / 2.0) + t.inverse_cdf(power))
        * sd.max(RESOLUTION)
        * (2.0 / f64::from(runs)).sqrt();
    (log.exp() - 1.0) * 100.0
}

/// The pooled within-(trial, side) sd of the log counts and its degrees of freedom.
fn pooled_sd(records: &[&CounterTrialMetric]) -> Option<(f64, usize)> {
    let mut squares = 0.0;
    let mut df = 0;
    for r in records {
        for side in [&r.side_a, &r.side_b] {
            if side.len() < 2 || side.iter().any(|v| *v <= 0.0 || !v.is_finite()) {
                continue;
            }
            let logs: Vec<f64> = side.iter().map(|v| v.ln()).collect();
            let mean = logs.iter().sum::<f64>() / logs.len() as f64;
            squares += logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>();
            df += logs.len() - 1;
        }
    }
    (df > 0).then(|| ((squares / df as f64).sqrt(), df))
}

/// What [`estimate`] needs besides the runs.
#[derive(Debug, Clone, Copy)]
pub struct MdeSettings {
    pub family: CounterFamily,
    /// Whether the metric is gated (its Holm family).
    pub gated: bool,
    /// Runs a side (`--counter-runs`).
    pub runs: u32,
    /// The gate's threshold of the metric (a fraction), for "gate confirms".
    pub threshold: f64,
}

/// The MDE of one configuration and metric from its A/A records; `None` without a spread
/// (fewer than two runs on every side).
pub fn estimate(aa: &[&CounterTrialMetric], settings: MdeSettings) -> Option<CounterMde> {
    let MdeSettings {
        family,
        gated,
        runs,
        threshold,
    } = settings;
    let (sd, df) = pooled_sd(aa)?;
    let at = |n: u32, full_suite: bool| {
        let m = family.pairs(gated, full_suite).max(1);
        mde_pct(sd, n, family.alpha / m as f64, family.power)
    };
    let pct = at(runs, false);
    Some(CounterMde {
        sd_log: sd,
        sd_df: df,
        sd_used: sd.max(RESOLUTION),
        runs,
        family_pairs: family.pairs(gated, false),
        pct,
        at_runs: MDE_RUNS.iter().map(|&n| (n, at(n, false))).collect(),
        full_suite_pct: at(runs, true),
        gate_confirms_pct: threshold * 100.0 + pct,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mde_needs_two_runs_a_side() {
        assert!(mde_pct(0.01, 1, 0.05, 0.8).is_nan());
        assert!(
            mde_pct(0.0, 2, 0.05, 0.8) > 0.0,
            "the floor keeps it positive"
        );
    }
}
