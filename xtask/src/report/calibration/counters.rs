//! The report of `cargo xtask calibrate --counters`: after the opening, the pilot, per
//! configuration and counter metric the A/A false alarms, the MDE and whether the counts
//! reproduce, then the detection of each injected effect.

use std::fmt::Write as _;

use super::common::{change_to_thousandths as change, count, opening};
use crate::comparison::calibration::Calibration;
use crate::comparison::calibration::findings::{Findings, MetricFindings};
use crate::model::metric::Metric;
use crate::report::columns;

/// The counting test, and the counter metrics' gates and the others' thresholds:
/// `gated instructions ±1%; reported only ...`.
fn rules(c: &Calibration) -> String {
    let p = &c.settings.policy;
    let list = |gated: bool| {
        let listed: Vec<String> = Metric::COUNTERS
            .iter()
            .filter(|m| p.is_gated(**m) == gated)
            .map(|m| format!("{} ±{}%", m.cli_name(), p.threshold_of(*m) * 100.0))
            .collect();
        if listed.is_empty() {
            "none".to_owned()
        } else {
            listed.join(", ")
        }
    };
    format!(
        "Welch's t on log counts (each side's variance floored at the counting resolution), Holm over the gated pairs; significant = adjusted p <= {} and the interval excludes 1; gate = the gate's verdict (gated {}; reported only {})",
        p.alpha,
        list(true),
        list(false)
    )
}

fn status(m: &MetricFindings) -> String {
    match &m.not_reproducible {
        None => "reproduces".to_owned(),
        Some(why) => format!("NOT REPRODUCIBLE: {why}"),
    }
}

/// Where whole iterations cannot come within a quarter of an effect (a large offset, or a
/// configuration with few instructions per call), the injection actually made, in words.
fn coarse_injections(c: &Calibration) -> Vec<String> {
    let mut notes = Vec::new();
    for (e, effect) in c.settings.effects_pct.iter().enumerate() {
        for (p, sizing) in c.pilot.iter().filter_map(|p| Some((p, p.loops()?))) {
            let loops = p.injection(e);
            let expected = (sizing.expected_ratio(Metric::Instructions, loops) - 1.0) * 100.0;
            if (expected - effect).abs() > effect / 4.0 {
                notes.push(format!(
                    "Note: on {} the smallest injection that reaches +{effect}% is {loops} iteration{}, {} (entering the loop adds {:.1} instructions, each iteration {:.3}).",
                    p.id,
                    if loops == 1 { "" } else { "s" },
                    change(1.0 + expected / 100.0),
                    sizing.injection_offset,
                    sizing.instructions_per_loop
                ));
            }
        }
    }
    notes
}

/// The counting calibration's report.
pub fn render(c: &Calibration) -> String {
    let (Findings::Counters { configs }, (_, runs)) = (&c.findings, c.settings.instrument.design())
    else {
        return String::new();
    };
    let mut out = opening(c, &rules(c));
    let first = c.pilot.iter().find_map(|p| p.loops());
    let probe = first.map_or(0, |s| s.probe_loops);
    let _ = writeln!(
        out,
        "Pilot ({} runs each without injection and with --inject-loops {probe} and {}): instructions per call; on the loop, per injected iteration and for entering the loop (offset):",
        c.settings.pilot_runs,
        2 * probe
    );
    let mut rows = vec![
        [
            "Configuration",
            "Instr",
            "InstrLoop",
            "InstrWorker",
            "Per iteration",
            "Offset",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for (p, sizing) in c.pilot.iter().filter_map(|p| Some((p, p.loops()?))) {
        let mut row = vec![p.id.clone()];
        row.extend(Metric::COUNTERS.iter().map(|m| {
            sizing
                .per_call
                .get(m)
                .map_or("n/a".to_owned(), |v| format!("{v:.1}"))
        }));
        row.push(format!("{:.3}", sizing.instructions_per_loop));
        row.push(format!("{:.2}", sizing.injection_offset));
        rows.push(row);
    }
    out.push_str(&columns(&rows));

    let _ = writeln!(
        out,
        "\nA/A trials per configuration and metric (false alarm: the pair claimed a change either way), MDE at power {:.0}%:",
        c.family.power * 100.0
    );
    let mut header = vec![
        "Configuration".to_owned(),
        "Metric".to_owned(),
        "False sig".to_owned(),
        "False gate".to_owned(),
        "sd(log)".to_owned(),
        format!("MDE@{runs}"),
    ];
    let at_runs: Vec<u32> = configs
        .iter()
        .flat_map(|cfg| &cfg.metrics)
        .find_map(|m| m.mde.as_ref())
        .map_or(Vec::new(), |m| {
            m.at_runs
                .iter()
                .map(|(n, _)| *n)
                .filter(|n| *n != runs)
                .collect()
        });
    header.extend(at_runs.iter().map(|n| format!("@{n}")));
    header.push(format!("suite@{runs}"));
    header.push("Gate confirms".to_owned());
    header.push("Status".to_owned());
    let mut rows = vec![header];
    for cfg in configs {
        for m in &cfg.metrics {
            let mut row = vec![
                cfg.id.clone(),
                m.metric.cli_name().to_owned(),
                count(&m.false_alarms_significant),
                count(&m.false_alarms_gate),
            ];
            match &m.mde {
                Some(mde) => {
                    row.push(format!("{:.4}%", mde.sd_log * 100.0));
                    row.push(format!("{:.3}%", mde.pct));
                    row.extend(
                        mde.at_runs
                            .iter()
                            .filter(|(n, _)| *n != runs)
                            .map(|(_, p)| format!("{p:.3}%")),
                    );
                    row.push(format!("{:.3}%", mde.full_suite_pct));
                    row.push(format!(">= {:.2}%", mde.gate_confirms_pct));
                }
                None => {
                    row.extend(std::iter::repeat_n("n/a".to_owned(), 4 + at_runs.len()));
                }
            }
            row.push(status(m));
            rows.push(row);
        }
    }
    out.push_str(&columns(&rows));
    let _ = writeln!(
        out,
        "MDE = (t(1 - a'/2, 2(n-1)) + t(power, 2(n-1))) * s * sqrt(2/n), n runs a side, s = pooled sd of the A/A runs' log counts within trial and side, at least the resolution {}, a' = alpha / m (m = {} gated or {} reported-only pairs in the gate, {} / {} for the full suite), as exp(MDE) - 1. The gate confirms about threshold + MDE.",
        crate::comparison::counters::RESOLUTION,
        c.family.gated_pairs,
        c.family.reported_pairs,
        c.family.full_suite_gated_pairs,
        c.family.full_suite_reported_pairs
    );

    let _ = writeln!(
        out,
        "\nDetection of injected instructions (side B with --inject-loops N on the loop; regressed, per trial; instructions-worker is not injected):"
    );
    let mut rows = vec![
        [
            "Effect",
            "Configuration",
            "Metric",
            "Loops",
            "Expected",
            "Observed",
            "Significant",
            "Gate",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for e in 0..c.settings.effects_pct.len() {
        for cfg in configs {
            for m in &cfg.metrics {
                let Some(d) = m.detection.get(e) else {
                    continue;
                };
                rows.push(vec![
                    format!("+{}%", d.rates.effect_pct),
                    cfg.id.clone(),
                    m.metric.cli_name().to_owned(),
                    d.inject_loops.to_string(),
                    change(d.expected_ratio),
                    d.rates
                        .observed_ratio
                        .map_or_else(|| "n/a".to_owned(), change),
                    count(&d.rates.significant),
                    count(&d.rates.gate),
                ]);
            }
        }
    }
    out.push_str(&columns(&rows));
    for note in coarse_injections(c) {
        let _ = writeln!(out, "{note}");
    }

    let not: Vec<&str> = configs
        .iter()
        .filter(|cfg| !cfg.reproducible)
        .map(|cfg| cfg.id.as_str())
        .collect();
    if not.is_empty() {
        let _ = writeln!(
            out,
            "\nEvery configuration's counts reproduce: the gate can hold them to its thresholds."
        );
    } else {
        let _ = writeln!(
            out,
            "\nNot reproducible: not gated on counters: {} (their counts differ between runs of the same binary by more than the gate can tell from a change; read their instruction verdicts as noise).",
            not.join(", ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comparison::calibration::pilot::Sizing;
    use crate::comparison::calibration::tests::counting_fixture;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&counting_fixture()));
    }

    #[test]
    fn an_injection_far_from_its_effect_is_pointed_out() {
        let mut c = counting_fixture();
        assert!(!render(&c).contains("Note:"));
        // As tokio-current/to-thread measured here: entering the loop costs 55 instructions.
        if let Sizing::Loops(sizing) = &mut c.pilot[2].sizing {
            sizing.injection_offset = 54.84;
        }
        let text = render(&c);
        assert!(
            text.contains(
                "Note: on c the smallest injection that reaches +1% is 6 iterations, +3.428% (entering the \
                 loop adds 54.8 instructions, each iteration 4.000)."
            ),
            "{text}"
        );
    }
}
