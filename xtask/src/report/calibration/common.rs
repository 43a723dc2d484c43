//! What the two instruments' calibration reports share: the opening (what was calibrated
//! how, the rules, the A/A false alarms), rates, changes and the progress lines.

use std::fmt::Write as _;

use crate::comparison::Verdict;
use crate::comparison::calibration::Calibration;
use crate::comparison::calibration::findings::Rate;
use crate::comparison::calibration::settings::Instrument;
use crate::comparison::calibration::trials::Trial;
use crate::model::paired_record::{Sampling, Side};
use crate::model::results::RunFailure;

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

/// A ratio as a change, to the instrument's precision: `+3.1%` for times, `+1.043%` for
/// counts (which resolve 0.01%).
pub fn change(instrument: &Instrument, ratio: f64) -> String {
    match instrument {
        Instrument::Timing(_) => crate::report::percent(ratio),
        Instrument::Counters(_) => change_to_thousandths(ratio),
    }
}

/// `trial` or `counter trial`, `calibration` or `counter calibration`.
fn prefix(instrument: &Instrument) -> &'static str {
    match instrument {
        Instrument::Timing(_) => "",
        Instrument::Counters(_) => "counter ",
    }
}

/// One progress line per trial: the headline metric's change per configuration (Wall, or
/// instructions), `*` where the significant rule found a change.
pub fn trial_line(instrument: &Instrument, trial: &Trial, rounds: u32) -> String {
    let kind = match trial.effect_pct {
        None => "A/A".to_owned(),
        Some(e) => format!("+{e}%"),
    };
    let headline = instrument.metrics()[0];
    let cells: Vec<String> = trial
        .configs
        .iter()
        .map(|c| {
            let judged = c.judgement(headline);
            match judged.and_then(|j| Some((j.ratio?, j.significant_verdict))) {
                Some((ratio, verdict)) => format!(
                    "{} {}{}",
                    c.id,
                    change(instrument, ratio),
                    match verdict {
                        Verdict::Regressed | Verdict::Improved => "*",
                        _ => "",
                    }
                ),
                None => format!("{} n/a", c.id),
            }
        })
        .collect();
    format!(
        "{}trial {}/{rounds} {kind}: {}{}",
        prefix(instrument),
        trial.round + 1,
        cells.join(", "),
        if trial.any_gate_regression {
            " [gate: REGRESSED]"
        } else {
            ""
        }
    )
}

/// A failed run of a trial: `  FAILED floor/park side B block 3: ...`.
pub fn failure_line(instrument: &Instrument, f: &RunFailure) -> String {
    let side = match f.side {
        Some(Side::Base) => " side A",
        Some(Side::Head) => " side B",
        None => "",
    };
    let unit = match instrument {
        Instrument::Timing(_) => "block",
        Instrument::Counters(_) => "run",
    };
    let mut line = format!("  FAILED {}{side} {unit} {}: {}", f.id, f.run + 1, f.reason);
    if !f.stderr_tail.is_empty() {
        let _ = write!(line, "\n{}", f.stderr_tail);
    }
    line
}

/// The first line: what was calibrated how, where and how long it took.
pub fn header(c: &Calibration) -> String {
    let s = &c.settings;
    let (design, pinning) = match &s.instrument {
        Instrument::Timing(t) => (
            format!(
                "{} blocks per trial sampled as {}{}",
                t.blocks,
                match t.sampling {
                    Sampling::Processes => format!("processes of {} calls", t.count),
                    lockstep => lockstep.to_string(),
                },
                t.warm_up_ms
                    .map(|ms| format!(" after {ms} ms of warm-up"))
                    .unwrap_or_default(),
            ),
            format!(", {}", crate::report::pinning(t.pin)),
        ),
        Instrument::Counters(k) => (
            format!(
                "{} runs a side x {} calls under callgrind ({}{})",
                k.counter_runs,
                k.counter_count,
                k.valgrind,
                if k.realtime {
                    ", FIFO priority on one CPU"
                } else {
                    ", without FIFO priority"
                },
            ),
            String::new(),
        ),
    };
    format!(
        "handoff-bench {}calibration: {} configurations, {} trials of each kind, {design}, work {}, in-flight {}{pinning}; {} ({} cores), rev {}; {:.0} s",
        prefix(&s.instrument),
        s.ids.len(),
        s.trials,
        s.work,
        s.in_flight,
        c.host.cpu_model,
        c.host.cores,
        c.git.short(),
        c.seconds
    )
}

/// A ratio as a signed change with three decimals: `+1.043%`.
pub fn change_to_thousandths(ratio: f64) -> String {
    let pct = (ratio - 1.0) * 100.0;
    let pct = if pct.abs() < 0.0005 { 0.0 } else { pct };
    format!("{pct:+.3}%")
}

/// `k/n`, the compact form of a rate for table cells.
pub fn count(r: &Rate) -> String {
    format!("{}/{}", r.count, r.of)
}

/// The header, the `rules` and the A/A false alarms: how every report begins.
pub fn opening(c: &Calibration, rules: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", header(c));
    let _ = writeln!(out, "Rules: {rules}.\n");
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_well() {
        assert_eq!(rate(&Rate::new(0, 20)), "0/20 (0.0%, 95% CI 0.0-16.8%)");
    }

    #[test]
    fn trial_lines_show_the_headline_change_and_a_significant_one_starred() {
        use crate::comparison::calibration::tests::{counting_fixture, timing_fixture};
        let t = timing_fixture();
        // Round 3's A/A trial: `a` a false alarm of the significant rule, not of the gate's.
        let aa = trial_line(&t.settings.instrument, &t.trials[4], 4);
        assert_eq!(aa, "trial 3/4 A/A: a +1.0%*, b -1.0%");
        let c = counting_fixture();
        let injected = trial_line(&c.settings.instrument, &c.trials[1], 4);
        assert!(
            injected.starts_with("counter trial 1/4 +1%: a +1.043%*, b ")
                && injected.ends_with(" [gate: REGRESSED]"),
            "{injected}"
        );
    }

    #[test]
    fn a_failed_run_is_named_by_side_and_block_or_run() {
        use crate::comparison::calibration::tests::{counting_fixture, timing_fixture};
        let failure = RunFailure {
            id: "floor/park".to_owned(),
            run: 2,
            side: Some(Side::Head),
            reason: "exited with exit status: 101".to_owned(),
            stderr_tail: "boom".to_owned(),
        };
        let timing = timing_fixture().settings.instrument;
        assert_eq!(
            failure_line(&timing, &failure),
            "  FAILED floor/park side B block 3: exited with exit status: 101\nboom"
        );
        let counting = counting_fixture().settings.instrument;
        assert!(failure_line(&counting, &failure).starts_with("  FAILED floor/park side B run 3:"));
    }

    #[test]
    fn changes_read_with_three_decimals() {
        assert_eq!(change_to_thousandths(1.010435), "+1.043%");
        assert_eq!(change_to_thousandths(0.9999999), "+0.000%");
        assert_eq!(change_to_thousandths(0.99), "-1.000%");
    }
}
