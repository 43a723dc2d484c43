//! The report of `cargo xtask calibrate` for the timing: after the opening, the detection
//! of each injected slowdown and the MDE of Wall, and what it means for the gate's threshold.

use std::fmt::Write as _;

use super::common::{opening, rate};
use crate::comparison::calibration::Calibration;
use crate::comparison::calibration::findings::Findings;
use crate::comparison::calibration::pilot::Sizing;
use crate::comparison::calibration::settings::{Instrument, Timing};
use crate::comparison::{Comparison, ComparisonContext, Method, assemble};
use crate::model::metric::Metric;
use crate::report::{columns, gates, percent};

/// The gate's wording of the policy, through an empty comparison.
fn gate_list(c: &Calibration, t: &Timing) -> String {
    let empty: Comparison = assemble(
        ComparisonContext {
            method: Method::Paired {
                blocks: t.blocks,
                min_blocks: t.blocks,
                estimator: t.estimator,
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

/// The timing calibration's report.
pub fn render(c: &Calibration) -> String {
    let (Findings::Timing { detection, mde }, Instrument::Timing(t)) =
        (&c.findings, &c.settings.instrument)
    else {
        return String::new();
    };
    let s = &c.settings;
    let rules = format!(
        "significant = Holm-adjusted p <= {} over the {} gated pairs and the interval excludes 1; gate = the gate's verdict ({})",
        s.policy.alpha,
        c.family.gated_pairs,
        gate_list(c, t)
    );
    let mut out = opening(c, &rules);
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
    for d in detection {
        let pilot = c.pilot.iter().find(|p| p.id == d.id);
        rows.push(vec![
            format!("+{}%", d.rates.effect_pct),
            d.id.clone(),
            match pilot.map(|p| &p.sizing) {
                Some(Sizing::Wall {
                    wall_ns_per_call, ..
                }) => format!("{:.3} us", wall_ns_per_call / 1000.0),
                _ => String::new(),
            },
            format!("{} ns", d.inject_ns),
            d.rates
                .observed_ratio
                .map_or_else(|| "n/a".to_owned(), percent),
            rate(&d.rates.significant),
            rate(&d.rates.gate),
        ]);
    }
    out.push_str(&columns(&rows));

    let wall_gated = s.policy.is_gated(Metric::Wall);
    let _ = writeln!(
        out,
        "\nMinimum detectable effect, Wall per call (power {:.0}%, two-sided alpha {} / m per pair, m = gated pairs; from the A/A block log-ratios):",
        c.family.power * 100.0,
        c.family.alpha
    );
    let mut header = vec![
        "Configuration".to_owned(),
        "sd(log-ratio)".to_owned(),
        format!("MDE@{} (m={})", t.blocks, c.family.pairs(wall_gated, false)),
    ];
    for (n, _) in mde.first().map_or(&[][..], |m| &m.at_blocks[..]) {
        header.push(format!("@{n}"));
    }
    for (n, _) in mde.first().map_or(&[][..], |m| &m.full_suite_at_blocks[..]) {
        header.push(format!(
            "suite@{n} (m={})",
            c.family.pairs(wall_gated, true)
        ));
    }
    header.push("gate confirms".to_owned());
    let mut rows = vec![header];
    for m in mde {
        let mut row = vec![
            m.id.clone(),
            format!("{:.4}", m.sd_log_ratio),
            format!("{:.1}%", m.pct),
        ];
        let at = m.at_blocks.iter().chain(&m.full_suite_at_blocks);
        row.extend(at.map(|(_, p)| format!("{p:.1}%")));
        row.push(format!(">= {:.1}%", m.gate_confirms_pct));
        rows.push(row);
    }
    out.push_str(&columns(&rows));
    let worst = mde.iter().map(|m| m.pct).fold(f64::NAN, f64::max);
    if !worst.is_finite() {
        return out;
    }
    let threshold = s.policy.threshold_of(Metric::Wall) * 100.0;
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
                t.blocks
            );
        } else {
            let _ = writeln!(
                out,
                "A {effect}% slowdown cannot be confirmed at {} blocks (MDE {worst:.1}%): run more blocks (the MDE shrinks as 1/sqrt(blocks); see @20, @40) or use a quieter host.",
                t.blocks
            );
        }
    }
    out
}
