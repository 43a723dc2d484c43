//! The terminal report of `cargo xtask calibrate`: false alarms, detection per effect, MDE.
//! The counter calibration's (`--counters`) is its child [`counters`].

pub mod counters;

use std::fmt::Write as _;

use super::{columns, gates};
use crate::comparison::calibration::{Calibration, Rate, Trial};
use crate::comparison::{Comparison, ComparisonContext, Method, assemble};

/// `3/20 (15.0%, 95% CI 3.2-37.9%)`.
pub fn rate(r: &Rate) -> String {
    format!(
        "{}/{} ({:.1}%, 95% CI {:.1}-{:.1}%)",
        r.count,
        r.of,
        r.fraction() * 100.0,
        r.low * 100.0,
        r.high * 100.0
    )
}

/// One progress line per trial.
pub fn trial_line(trial: &Trial, rounds: u32) -> String {
    let kind = match trial.effect_pct {
        None => "A/A".to_owned(),
        Some(e) => format!("+{e}%"),
    };
    let walls: Vec<String> = trial
        .configs
        .iter()
        .map(|c| match c.ratio {
            Some(r) => format!(
                "{} {}{}",
                c.id,
                super::percent(r),
                if c.significant { "*" } else { "" }
            ),
            None => format!("{} n/a", c.id),
        })
        .collect();
    format!(
        "trial {}/{rounds} {kind}: {}{}",
        trial.round + 1,
        walls.join(", "),
        if trial.any_gate_regression {
            " [gate: REGRESSED]"
        } else {
            ""
        }
    )
}

/// The gate's wording of the policy, through an empty comparison.
fn gate_list(c: &Calibration) -> String {
    let empty: Comparison = assemble(
        ComparisonContext {
            method: Method::Paired {
                blocks: c.settings.blocks,
                min_blocks: c.settings.blocks,
                estimator: c.settings.estimator,
            },
            baseline_label: String::new(),
            policy: c.settings.policy.clone(),
            fingerprint: Default::default(),
            added: vec![],
            removed: vec![],
        },
        vec![],
    );
    gates(&empty)
}

pub fn render(c: &Calibration) -> String {
    let mut out = String::new();
    let s = &c.settings;
    let _ = writeln!(
        out,
        "handoff-bench calibration: {} configurations, {} trials of each kind, {} blocks per trial sampled as {}{}, work {}, in-flight {}, {}; {} ({} cores), rev {}; {:.0} s",
        s.ids.len(),
        s.trials,
        s.blocks,
        if s.sampling.starts_with("lockstep") {
            s.sampling.clone()
        } else {
            format!("processes of {} calls", s.count)
        },
        s.warm_up_ms
            .map(|ms| format!(" after {ms} ms of warm-up"))
            .unwrap_or_default(),
        s.work,
        s.in_flight,
        super::pinning(s.pin),
        c.host.cpu_model,
        c.host.cores,
        c.git.short(),
        c.seconds
    );
    let _ = writeln!(
        out,
        "Rules: significant = Holm-adjusted p <= {} over the {} gated pairs and the interval excludes 1; gate = the gate's verdict ({}).\n",
        s.policy.alpha,
        c.family.gated_pairs,
        gate_list(c)
    );
    let _ = writeln!(
        out,
        "False regressions in A/A trials (any gated pair regressed):"
    );
    let _ = writeln!(
        out,
        "  significant rule: {}",
        rate(&c.false_alarms_significant)
    );
    let _ = writeln!(out, "  gate rule:        {}\n", rate(&c.false_alarms_gate));

    let _ = writeln!(
        out,
        "Detection of injected slowdowns (Wall regressed, per trial):"
    );
    let mut rows = vec![
        [
            "Effect",
            "Configuration",
            "Pilot wall",
            "Injected",
            "Observed",
            "Significant",
            "Gate",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for d in &c.detection {
        let pilot = c.pilot.iter().find(|p| p.id == d.id);
        rows.push(vec![
            format!("+{}%", d.effect_pct),
            d.id.clone(),
            pilot.map_or_else(String::new, |p| {
                format!("{:.3} us", p.wall_ns_per_call / 1000.0)
            }),
            format!("{} ns", d.inject_ns),
            d.observed_ratio
                .map_or_else(|| "n/a".to_owned(), super::percent),
            rate(&d.significant),
            rate(&d.gate),
        ]);
    }
    out.push_str(&columns(&rows));

    let _ = writeln!(
        out,
        "\nMinimum detectable effect, Wall per call (power {:.0}%, two-sided alpha {} / m per pair, m = gated pairs; from the A/A block log-ratios):",
        c.family.power * 100.0,
        c.family.alpha
    );
    let mut header = vec![
        "Configuration".to_owned(),
        "sd(log-ratio)".to_owned(),
        format!("MDE@{} (m={})", s.blocks, c.family.gated_pairs),
    ];
    for (n, _) in c.mde.first().map_or(&[][..], |m| &m.at_blocks[..]) {
        header.push(format!("@{n}"));
    }
    for (n, _) in c
        .mde
        .first()
        .map_or(&[][..], |m| &m.full_suite_at_blocks[..])
    {
        header.push(format!("suite@{n} (m={})", c.family.full_suite_gated_pairs));
    }
    header.push("gate confirms".to_owned());
    let mut rows = vec![header];
    for m in &c.mde {
        let mut row = vec![
            m.id.clone(),
            format!("{:.4}", m.sd_log_ratio),
            format!("{:.1}%", m.pct),
        ];
        row.extend(m.at_blocks.iter().map(|(_, p)| format!("{p:.1}%")));
        row.extend(
            m.full_suite_at_blocks
                .iter()
                .map(|(_, p)| format!("{p:.1}%")),
        );
        row.push(format!(">= {:.1}%", m.gate_confirms_pct));
        rows.push(row);
    }
    out.push_str(&columns(&rows));
    let worst = c.mde.iter().map(|m| m.pct).fold(f64::NAN, f64::max);
    if worst.is_finite() {
        let threshold = s.policy.threshold_of(crate::model::metric::Metric::Wall) * 100.0;
        let _ = writeln!(
            out,
            "\nMDE = (t(1 - a'/2, n-1) + t(power, n-1)) * sd / sqrt(n), a' = alpha / m (Holm's first step), as a slowdown exp(MDE) - 1.\n\
             The gate confirms a slowdown only when its whole interval lies above 1 + threshold: about threshold + MDE\n\
             (now Wall ±{threshold}% + {worst:.1}% for the noisiest configuration here)."
        );
        for effect in &s.effects_pct {
            let room = effect - worst;
            if room > 0.0 {
                let _ = writeln!(
                    out,
                    "To confirm a {effect}% slowdown at {} blocks: --gate wall:{room:.1} or lower (but not below the MDE, {worst:.1}%, or changes just turn inconclusive).",
                    s.blocks
                );
            } else {
                let _ = writeln!(
                    out,
                    "A {effect}% slowdown cannot be confirmed at {} blocks (MDE {worst:.1}%): run more blocks (the MDE shrinks as 1/sqrt(blocks); see @20, @40) or use a quieter host.",
                    s.blocks
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&crate::comparison::calibration::tests::fixture()));
    }

    #[test]
    fn rates_read_well() {
        assert_eq!(rate(&Rate::new(0, 20)), "0/20 (0.0%, 95% CI 0.0-16.8%)");
    }
}
