//! The terminal report of `cargo xtask calibrate --counters`: per configuration and counter
//! metric the A/A false alarms, the MDE and whether the counts reproduce, then the
//! detection of each injected effect.

use std::fmt::Write as _;

use super::rate;
use crate::comparison::calibration::counter_findings::{CounterCalibration, CounterMetricFindings};
use crate::comparison::calibration::counter_trials::CounterTrial;
use crate::model::metric::Metric;
use crate::report::columns;

/// A ratio as a signed change with three decimals: `+1.043%`.
fn change(ratio: f64) -> String {
    let pct = (ratio - 1.0) * 100.0;
    let pct = if pct.abs() < 0.0005 { 0.0 } else { pct };
    format!("{pct:+.3}%")
}

/// `k/n`, the compact form of a rate for table cells.
fn count(r: &crate::comparison::calibration::Rate) -> String {
    format!("{}/{}", r.count, r.of)
}

/// One progress line per trial: the `instructions` ratio per configuration, `*` where it
/// changed significantly.
pub fn trial_line(trial: &CounterTrial, rounds: u32) -> String {
    let kind = match trial.effect_pct {
        None => "A/A".to_owned(),
        Some(e) => format!("+{e}%"),
    };
    let cells: Vec<String> = trial
        .configs
        .iter()
        .map(|c| {
            match c
                .metrics
                .iter()
                .find(|m| m.metric == Metric::Instructions)
                .and_then(|m| m.ratio.map(|r| (r, m.significant_verdict)))
            {
                Some((r, v)) => format!(
                    "{} {}{}",
                    c.id,
                    change(r),
                    if matches!(
                        v,
                        crate::comparison::Verdict::Regressed
                            | crate::comparison::Verdict::Improved
                    ) {
                        "*"
                    } else {
                        ""
                    }
                ),
                None => format!("{} n/a", c.id),
            }
        })
        .collect();
    format!(
        "counter trial {}/{rounds} {kind}: {}{}",
        trial.round + 1,
        cells.join(", "),
        if trial.any_gate_regression {
            " [gate: REGRESSED]"
        } else {
            ""
        }
    )
}

/// The counter metrics' gates and the others' thresholds, `Instr ±1%; reported: ...`.
fn rules(c: &CounterCalibration) -> String {
    let p = &c.settings.policy;
    let list = |gated: bool| {
        Metric::COUNTERS
            .iter()
            .filter(|m| p.is_gated(**m) == gated)
            .map(|m| format!("{} ±{}%", m.cli_name(), p.threshold_of(*m) * 100.0))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (gated, reported) = (list(true), list(false));
    format!(
        "gated {}; reported only {}",
        if gated.is_empty() { "none" } else { &gated },
        if reported.is_empty() {
            "none"
        } else {
            &reported
        }
    )
}

fn status(m: &CounterMetricFindings) -> String {
    match &m.not_reproducible {
        None => "reproduces".to_owned(),
        Some(why) => format!("NOT REPRODUCIBLE: {why}"),
    }
}

/// Where whole iterations cannot come within a quarter of an effect (a large offset, or a
/// configuration with few instructions per call), the injection actually made, in words.
fn coarse_injections(c: &CounterCalibration) -> Vec<String> {
    let mut notes = Vec::new();
    for (e, effect) in c.settings.effects_pct.iter().enumerate() {
        for p in &c.pilot {
            let Some(loops) = p.inject_loops.get(e) else {
                continue;
            };
            let expected = (p.expected_ratio(Metric::Instructions, *loops) - 1.0) * 100.0;
            if (expected - effect).abs() > effect / 4.0 {
                notes.push(format!(
                    "Note: on {} the smallest injection that reaches +{effect}% is {loops} iteration{}, {} (entering the loop adds {:.1} instructions, each iteration {:.3}).",
                    p.id,
                    if *loops == 1 { "" } else { "s" },
                    change(1.0 + expected / 100.0),
                    p.injection_offset,
                    p.instructions_per_loop
                ));
            }
        }
    }
    notes
}

pub fn render(c: &CounterCalibration) -> String {
    let mut out = String::new();
    let s = &c.settings;
    let _ = writeln!(
        out,
        "handoff-bench counter calibration: {} configurations, {} trials of each kind, {} runs a side x {} calls under callgrind ({}{}), work {}, in-flight {}; {} ({} cores), rev {}; {:.0} s",
        s.ids.len(),
        s.trials,
        s.counter_runs,
        s.counter_count,
        s.valgrind,
        if s.realtime {
            ", FIFO priority on one CPU"
        } else {
            ", without FIFO priority"
        },
        s.work,
        s.in_flight,
        c.host.cpu_model,
        c.host.cores,
        c.git.short(),
        c.seconds
    );
    let _ = writeln!(
        out,
        "Rules: Welch's t on log counts (each side's variance floored at the counting resolution), Holm over the gated pairs; significant = adjusted p <= {} and the interval excludes 1; gate = the gate's verdict ({}).\n",
        s.policy.alpha,
        rules(c)
    );
    let _ = writeln!(
        out,
        "A/A trials with any gated counter pair regressed: significant rule {}; gate rule {}\n",
        rate(&c.false_alarms_significant),
        rate(&c.false_alarms_gate)
    );

    let _ = writeln!(
        out,
        "Pilot ({} runs each without injection and with --inject-loops {} and {}): instructions per call; on the loop, per injected iteration and for entering the loop (offset):",
        s.pilot_runs,
        c.pilot.first().map_or(0, |p| p.probe_loops),
        c.pilot.first().map_or(0, |p| 2 * p.probe_loops)
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
    for p in &c.pilot {
        let mut row = vec![p.id.clone()];
        row.extend(Metric::COUNTERS.iter().map(|m| {
            p.per_call
                .get(m)
                .map_or("n/a".to_owned(), |v| format!("{v:.1}"))
        }));
        row.push(format!("{:.3}", p.instructions_per_loop));
        row.push(format!("{:.2}", p.injection_offset));
        rows.push(row);
    }
    out.push_str(&columns(&rows));

    let runs = s.counter_runs;
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
    let at_runs = c
        .configs
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
    for cfg in &c.configs {
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
    for (e, effect) in s.effects_pct.iter().enumerate() {
        for cfg in &c.configs {
            for m in &cfg.metrics {
                let Some(d) = m.detection.get(e) else {
                    continue;
                };
                rows.push(vec![
                    format!("+{effect}%"),
                    cfg.id.clone(),
                    m.metric.cli_name().to_owned(),
                    d.inject_loops.to_string(),
                    change(d.expected_ratio),
                    d.observed_ratio.map_or_else(|| "n/a".to_owned(), change),
                    count(&d.significant),
                    count(&d.gate),
                ]);
            }
        }
    }
    out.push_str(&columns(&rows));
    for note in coarse_injections(c) {
        let _ = writeln!(out, "{note}");
    }

    let not: Vec<&str> = c
        .configs
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

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(
            &crate::comparison::calibration::counter_findings::tests::fixture()
        ));
    }

    #[test]
    fn an_injection_far_from_its_effect_is_pointed_out() {
        let mut c = crate::comparison::calibration::counter_findings::tests::fixture();
        assert!(!render(&c).contains("Note:"));
        // As tokio-current/to-thread measured here: entering the loop costs 55 instructions.
        c.pilot[2].injection_offset = 54.84;
        let text = render(&c);
        assert!(
            text.contains(
                "Note: on c the smallest injection that reaches +1% is 6 iterations, +3.428% (entering the \
                 loop adds 54.8 instructions, each iteration 4.000)."
            ),
            "{text}"
        );
    }

    #[test]
    fn changes_read_with_three_decimals() {
        assert_eq!(change(1.010435), "+1.043%");
        assert_eq!(change(0.9999999), "+0.000%");
        assert_eq!(change(0.99), "-1.000%");
    }
}
