//! Reports: pure functions from results (and an optional comparison) to text.
//!
//! Each renderer is snapshot-tested; none of them reads files, the clock or the environment.
//! Strings from a results file reach markdown only through [`untrusted::code`].

pub mod bmf;
pub mod calibration;
pub mod docs;
pub mod explain;
pub mod gab;
pub mod html;
pub mod json;
pub mod markdown;
pub mod mermaid;
pub mod overview;
pub mod table;
pub mod trend;
pub mod untrusted;

use crate::comparison::{Comparison, NotGated, PairComparison, Verdict};
pub use crate::model::files::pretty_json;
use crate::model::metric::{Metric, Unit};
use crate::stats::{CONFIDENCE, Summary};

/// A per-call value in the metric's display unit (us for times, switches otherwise), with
/// three significant digits or at least two decimals.
pub fn value(metric: Metric, v: f64) -> String {
    match metric.unit() {
        Unit::NanosPerCall => {
            let us = v / 1000.0;
            if us.abs() >= 100.0 {
                format!("{us:.1}")
            } else if us.abs() >= 1.0 {
                format!("{us:.2}")
            } else {
                format!("{us:.3}")
            }
        }
        Unit::SwitchesPerCall => format!("{v:.3}"),
        Unit::InstructionsPerCall => format!("{v:.1}"),
    }
}

/// The display unit of a metric.
pub fn unit(metric: Metric) -> &'static str {
    match metric.unit() {
        Unit::NanosPerCall => "us",
        Unit::SwitchesPerCall => "sw",
        Unit::InstructionsPerCall => "instr",
    }
}

/// The configurations that have instruction counts, for the reports' second table.
pub fn with_counters(
    results: &crate::model::results::ResultFile,
) -> Vec<&crate::model::results::ConfigurationResult> {
    results
        .configurations
        .iter()
        .filter(|c| c.has_counters())
        .collect()
}

/// `median [low, high]` in display units; a `*` marks an interval below 95% coverage.
pub fn median_with_interval(metric: Metric, s: &Summary) -> String {
    let mark = if s.ci_coverage + 1e-9 < CONFIDENCE {
        "*"
    } else {
        ""
    };
    format!(
        "{} [{}, {}]{mark}",
        value(metric, s.median),
        value(metric, s.ci_low),
        value(metric, s.ci_high)
    )
}

/// How the benchmark's threads were placed, for report headers.
pub fn pinning(pin: bool) -> &'static str {
    if pin {
        "threads pinned by role"
    } else {
        "threads unpinned"
    }
}

/// A ratio as a signed percent change, `+3.1%`.
pub fn percent(ratio: f64) -> String {
    let pct = (ratio - 1.0) * 100.0;
    // Avoid "-0.0%".
    let pct = if pct.abs() < 0.05 { 0.0 } else { pct };
    format!("{pct:+.1}%")
}

/// A p-value with three decimals, or `<0.001`.
pub fn p_value(p: f64) -> String {
    if p < 0.001 {
        "p<0.001".to_owned()
    } else {
        format!("p={p:.3}")
    }
}

/// `+3.1% [+1.2%, +5.0%]`; `+0.012 [-0.003, +0.040] sw/call` near zero; `n/a` for an
/// undefined ratio.
pub fn change(pair: &PairComparison) -> String {
    if let Some(abs) = pair.estimate.absolute {
        // Near zero: a difference per call (`Metric::near_zero`), in the metric's unit.
        let signed = |v: f64| {
            let v = if v.abs() < 0.0005 { 0.0 } else { v };
            format!("{v:+.3}")
        };
        return format!(
            "{} [{}, {}] {}/call",
            signed(abs.difference),
            signed(abs.low),
            signed(abs.high),
            unit(pair.metric)
        );
    }
    match (pair.estimate.ratio, pair.estimate.ratio_ci) {
        (Some(r), Some(ci)) => {
            format!("{} [{}, {}]", percent(r), percent(ci.low), percent(ci.high))
        }
        (Some(r), None) => format!("{} [n/a]", percent(r)),
        _ => "n/a (zero baseline)".to_owned(),
    }
}

/// The smallest change a gated pair could have confirmed in this run
/// (`comparison::explain::resolution`): `±8.7%`, `±0.031 sw/call`, or `–` for a pair that is
/// not gated or has no interval.
pub fn resolution(pair: &PairComparison) -> String {
    if !pair.gated {
        return "–".to_owned();
    }
    match crate::comparison::explain::resolution(pair) {
        Some(r) if pair.estimate.absolute.is_some() => {
            format!("±{r:.3} {}/call", unit(pair.metric))
        }
        Some(r) => format!("±{:.1}%", r * 100.0),
        None => "–".to_owned(),
    }
}

/// The noise band a pair's verdict used: `±5%`, or `±0.02 sw/call` for a pair compared
/// per call near zero.
pub fn gate_band(pair: &PairComparison) -> String {
    if pair.estimate.absolute.is_some() {
        format!("±{} {}/call", pair.metric.resolution(), unit(pair.metric))
    } else {
        format!("±{}%", pair.threshold * 100.0)
    }
}

/// `+3.1% [+1.2%, +5.0%] p=0.004 regressed`: the change column of every report.
pub fn change_with_verdict(pair: &PairComparison) -> String {
    format!(
        "{} {} {}",
        change(pair),
        p_value(pair.p_adjusted),
        pair.verdict.as_str()
    )
}

/// The most important verdict among some pairs: regressed, improved, inconclusive, unchanged.
pub fn worst<'a>(pairs: impl IntoIterator<Item = &'a PairComparison>) -> Option<Verdict> {
    let rank = |v: Verdict| match v {
        Verdict::Regressed => 3,
        Verdict::Improved => 2,
        Verdict::Inconclusive => 1,
        Verdict::Unchanged => 0,
    };
    pairs
        .into_iter()
        .map(|p| p.verdict)
        .max_by_key(|v| rank(*v))
}

/// One-line headline of a comparison: the gated pairs decide, the others are counted after.
pub fn headline(comparison: &Comparison) -> String {
    let t = comparison.gate_tally();
    let r = comparison.reported_tally();
    if t.total() == 0 && !comparison.not_gated.is_empty() {
        return format!(
            "nothing gated: {} configuration-metric pairs reported only ({} regressed, {} \
             improved, {} unchanged, {} inconclusive)",
            r.total(),
            r.regressed,
            r.improved,
            r.unchanged,
            r.inconclusive
        );
    }
    let lead = if t.regressed > 0 {
        "REGRESSED"
    } else if t.improved > 0 {
        "improved, no confirmed regression"
    } else {
        "no confirmed regression"
    };
    let mut line = format!(
        "{lead}: {} regressed, {} improved, {} unchanged, {} inconclusive (of {} gated configuration-metric pairs)",
        t.regressed,
        t.improved,
        t.unchanged,
        t.inconclusive,
        t.total()
    );
    if r.total() > 0 {
        line.push_str(&format!(
            "; not gated: {} regressed, {} improved, {} unchanged, {} inconclusive",
            r.regressed, r.improved, r.unchanged, r.inconclusive
        ));
    }
    line
}

/// What the run can and cannot vouch for, when the comparison took metrics out of the gate:
/// `This run vouches for Instr, InstrLoop only; Wall, Vcsw are reported, not gated: the two
/// runs come from different boots, ...` `None` when every gated metric was gated.
pub fn scope(comparison: &Comparison) -> Option<String> {
    use crate::model::metric::Metric;
    if comparison.not_gated.is_empty() {
        return None;
    }
    let labels = |metrics: &mut dyn Iterator<Item = Metric>| {
        metrics.map(|m| m.label()).collect::<Vec<_>>().join(", ")
    };
    let vouched =
        labels(&mut Metric::iter().filter(|m| {
            comparison.is_gated(*m) && comparison.pairs.iter().any(|p| p.metric == *m)
        }));
    let lead = if vouched.is_empty() {
        "This run vouches for no metric against this baseline".to_owned()
    } else {
        format!("This run vouches for {vouched} only")
    };
    let reasons: Vec<String> = comparison
        .not_gated
        .iter()
        .map(|entry| {
            let are = if entry.metrics.len() == 1 {
                "is"
            } else {
                "are"
            };
            format!(
                "{} {are} reported, not gated: {}",
                labels(&mut entry.metrics.iter().copied()),
                entry.why.reason
            )
        })
        .collect();
    Some(format!("{lead}; {}.", reasons.join("; ")))
}

/// The gated metrics and their thresholds, `Wall ±5%, CpuTotal ±5%, Vcsw ±2%` (without
/// those this comparison took out of the gate).
pub fn gates(comparison: &Comparison) -> String {
    let policy = &comparison.policy;
    // Instruction metrics are listed only where the comparison has them.
    let gated: Vec<String> = crate::model::metric::Metric::iter()
        .filter(|m| comparison.is_gated(*m))
        .filter(|m| !m.is_counter() || comparison.pairs.iter().any(|p| p.metric == *m))
        .map(|m| format!("{} ±{}%", m.label(), policy.threshold_of(m) * 100.0))
        .collect();
    if gated.is_empty() {
        "nothing (every metric reported only)".to_owned()
    } else {
        gated.join(", ")
    }
}

/// What a [`NotGated`] entry of host-dependent metrics means, after its reason (the
/// renderer's own words).
pub const TIMES_NOT_GATED_NOTE: &str = "Times and context switches are properties of the \
     host's clock and scheduler as much as of the code, so they are gated against a stored \
     baseline only when both runs come from the same boot of the same machine (on these VMs \
     times move up to 3x, and a hand-off's context switches by a third, from one boot to the \
     next); `--against` gates them, measuring both sides in one run.";

/// The explanation shown after a [`NotGated`] entry's reason, if its metrics have one.
pub fn not_gated_note(not_gated: &NotGated) -> Option<&'static str> {
    not_gated
        .metrics
        .iter()
        .any(|m| m.depends_on_host())
        .then_some(TIMES_NOT_GATED_NOTE)
}

/// `Wall, CpuTotal`: the labels of the metrics of one [`NotGated`] entry.
pub fn metric_list(not_gated: &NotGated) -> String {
    not_gated
        .metrics
        .iter()
        .map(|m| m.label())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The method in one sentence, for report footers.
pub fn method_note(comparison: &Comparison) -> String {
    let how = match &comparison.method {
        crate::comparison::Method::Independent {
            bootstrap_resamples,
            seed,
        } => format!(
            "ratio of medians (current / baseline) with a 95% percentile-bootstrap interval \
             ({bootstrap_resamples} resamples, seed {seed}); p from a two-sided Mann-Whitney U test"
        ),
        crate::comparison::Method::Paired {
            blocks,
            min_blocks,
            estimator,
        } => format!(
            "paired: base and head ran interleaved in {blocks} blocks (ABBA/BAAB order, at \
             least {min_blocks}); {}",
            estimator.describe()
        ),
    };
    let t = comparison.gate_tally();
    let mut note = format!(
        "{how}, Holm-adjusted over the {} gated pairs (the {} others among themselves). \
         Gated: {}. A change counts when adjusted p <= {} and the whole interval lies beyond \
         the metric's noise threshold; unchanged when it lies within it.",
        t.total(),
        comparison.pairs.len() - t.total(),
        gates(comparison),
        comparison.policy.alpha,
    );
    if let Some(floor) = too_few_blocks_for_signed_ranks(comparison) {
        note.push_str(&floor);
    }
    note
}

/// With Hodges-Lehmann, a warning when the blocks are too few for anything to be confirmed:
/// the signed-rank p-value cannot go below `2 / 2^blocks`, and Holm multiplies the smallest
/// one by the number of gated pairs.
fn too_few_blocks_for_signed_ranks(comparison: &Comparison) -> Option<String> {
    let crate::comparison::Method::Paired {
        blocks,
        estimator: crate::comparison::PairedEstimator::HodgesLehmann,
        ..
    } = comparison.method
    else {
        return None;
    };
    let gated = comparison.gate_tally().total();
    let floor = crate::stats::signed_rank::minimum_p_value(blocks as usize);
    (floor * gated as f64 > comparison.policy.alpha).then(|| {
        format!(
            " With {blocks} blocks the signed-rank p-value cannot go below {floor:.2e}, so after \
             Holm over {gated} gated pairs no change can be confirmed: run more blocks \
             (--min-blocks) or use --estimator mean."
        )
    })
}

/// One line per gated pair whose samples have two modes (`comparison::ModeShares`):
/// `(id, "wall: fast 12.1 us, slow 35.0 us; in the slow mode: base 20%, head 80%")`.
pub fn mode_notes(comparison: &Comparison) -> Vec<(String, String)> {
    comparison
        .pairs
        .iter()
        .filter(|pair| pair.gated)
        .filter_map(|pair| {
            let m = pair.modes?;
            let share = |s: f64| format!("{:.0}%", s * 100.0);
            Some((
                pair.id.clone(),
                format!(
                    "{}: fast {}, slow {}; in the slow mode: base {}, head {}",
                    pair.metric.label(),
                    value(pair.metric, m.fast),
                    value(pair.metric, m.slow),
                    share(m.baseline_slow_share),
                    share(m.current_slow_share)
                ),
            ))
        })
        .collect()
}

/// Pads `cells` into aligned columns (first column left-aligned, the rest too), separated by
/// two spaces, trailing spaces trimmed.
pub fn columns(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows.iter().map(Vec::len).max().unwrap_or(0))
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = widths[i]))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::comparison::Comparison;
    use crate::comparison::independent::{IndependentSettings, compare};
    use crate::model::host::HostFingerprint;
    use crate::model::results::ResultFile;
    use crate::model::results::tests::result_file;

    /// `file` with every optional host field recorded, all from one boot.
    pub(crate) fn recorded_host(mut file: ResultFile) -> ResultFile {
        file.host = HostFingerprint {
            machine: Some("5e1f0c2a9d3b7e64".to_owned()),
            boot: Some("9a4c1e7f0b2d8c35".to_owned()),
            glibc: Some("glibc 2.36".to_owned()),
            cpu_flags: Some("b00453739d144cb9".to_owned()),
            cpu_features: Some(vec!["sse4_2".to_owned(), "avx2".to_owned()]),
            valgrind: Some("valgrind-3.19.0".to_owned()),
            ..file.host
        };
        file
    }

    /// The file as measured in another boot.
    pub(crate) fn another_boot(mut file: ResultFile) -> ResultFile {
        file.host.boot = Some("07d2b9e45c1a3f68".to_owned());
        file
    }

    /// Baseline and current result files with one regression, one improvement, one
    /// unchanged configuration and one on each side only, from one boot.
    pub(crate) fn fixture() -> (ResultFile, ResultFile) {
        let base: Vec<f64> = (0..8).map(|i| 14_000.0 + 40.0 * f64::from(i)).collect();
        let spin: Vec<f64> = (0..8).map(|i| 210.0 + 3.0 * f64::from(i)).collect();
        let slower: Vec<f64> = base.iter().map(|v| v * 1.3).collect();
        let faster: Vec<f64> = spin.iter().map(|v| v * 0.7).collect();
        let baseline = result_file(&[
            ("floor/park", &base),
            ("floor/spin", &spin),
            ("tokio-current/dedicated", &base),
            ("smol/to-thread", &base),
        ]);
        let current = result_file(&[
            ("floor/park", &base),
            ("floor/spin", &faster),
            ("tokio-current/dedicated", &slower),
            ("async-std/dedicated", &base[..3]),
        ]);
        (recorded_host(baseline), recorded_host(current))
    }

    pub(crate) fn fixture_comparison(baseline: &ResultFile, current: &ResultFile) -> Comparison {
        let policy = crate::comparison::paired::tests::policy();
        let settings = IndependentSettings {
            resamples: 1000,
            seed: 42,
        };
        compare(
            baseline,
            current,
            "baseline reference".into(),
            policy,
            settings,
        )
    }

    /// A paired run of two configurations over 8 seeded blocks, one 20% slower in the head,
    /// and its comparison.
    pub(crate) fn paired_fixture() -> (ResultFile, Comparison) {
        use crate::comparison::paired::{compare, tests::context, tests::synthetic};
        use crate::model::paired_record::Side;
        let ids = ["floor/park", "tokio-current/dedicated"];
        let samples = synthetic(
            &[
                ("floor/park", 14_000.0, 1.0),
                ("tokio-current/dedicated", 16_000.0, 1.2),
            ],
            8,
            0.02,
            3,
        );
        let cmp = compare(&samples, &context(&ids, 4));
        let mut current = result_file(&[]);
        current.configurations = ids
            .iter()
            .map(|id| {
                let head = samples
                    .iter()
                    .filter(|s| s.side == Side::Head && s.measurement.id == *id)
                    .map(|s| s.measurement.clone())
                    .collect();
                crate::model::results::ConfigurationResult::from_samples((*id).to_owned(), head)
                    .unwrap()
            })
            .collect();
        current.settings.runs = 8;
        (current, cmp)
    }

    /// The fixture compared across different machines.
    pub(crate) fn other_host(mut file: ResultFile) -> ResultFile {
        file.host = HostFingerprint {
            cpu_model: "Other CPU @ 3.0GHz".to_owned(),
            cores: 4,
            ..file.host
        };
        file
    }

    #[test]
    fn only_host_metrics_taken_out_of_the_gate_get_the_note_on_the_host() {
        let entry = |metrics: Vec<Metric>| NotGated {
            metrics,
            why: crate::model::host::Incomparable {
                reason: "because".to_owned(),
                differences: vec![],
            },
        };
        assert_eq!(
            not_gated_note(&entry(vec![Metric::Wall])),
            Some(TIMES_NOT_GATED_NOTE)
        );
        assert_eq!(
            not_gated_note(&entry(vec![Metric::Vcsw])),
            Some(TIMES_NOT_GATED_NOTE)
        );
        assert_eq!(not_gated_note(&entry(vec![Metric::Instructions])), None);
        assert_eq!(
            metric_list(&entry(vec![Metric::Wall, Metric::CpuTotal])),
            "Wall, CpuTotal"
        );
    }

    /// With Hodges-Lehmann and too few blocks for Holm to let anything through, the method
    /// note says so; with enough blocks it does not.
    #[test]
    fn the_method_note_warns_when_signed_ranks_have_too_few_blocks() {
        use crate::comparison::PairedEstimator;
        use crate::comparison::paired::{self, tests::context, tests::synthetic};
        let note = |blocks: u32| {
            let samples = synthetic(&[("floor/park", 14_000.0, 1.0)], blocks, 0.01, 3);
            let mut ctx = context(&["floor/park"], 2);
            ctx.estimator = PairedEstimator::HodgesLehmann;
            method_note(&paired::compare(&samples, &ctx))
        };
        let few = note(6);
        assert!(
            few.contains("With 6 blocks the signed-rank p-value cannot go below 3.1"),
            "{few}"
        );
        assert!(few.contains("Wilcoxon signed-rank"), "{few}");
        assert!(!note(30).contains("cannot go below"));
    }

    /// Two modes in a gated pair are named with both shares.
    #[test]
    fn two_modes_are_named_with_each_sides_share() {
        use crate::comparison::paired::{self, tests::context, tests::fast_to_slow_mode};
        let cmp = paired::compare(&fast_to_slow_mode(), &context(&["floor/park"], 2));
        let notes = mode_notes(&cmp);
        let (id, note) = &notes[0];
        assert_eq!(id, "floor/park");
        assert!(note.starts_with("Wall: fast 10.0"), "{note}");
        assert!(note.contains("slow 30."), "{note}");
        assert!(
            note.ends_with("in the slow mode: base 20%, head 60%"),
            "{note}"
        );
    }

    #[test]
    fn formatting_helpers() {
        assert_eq!(value(Metric::Wall, 14_203.0), "14.20");
        assert_eq!(value(Metric::Wall, 231.4), "0.231");
        assert_eq!(value(Metric::Wall, 123_456.0), "123.5");
        assert_eq!(value(Metric::Vcsw, 2.0), "2.000");
        assert_eq!(percent(1.031), "+3.1%");
        assert_eq!(percent(0.9), "-10.0%");
        assert_eq!(percent(0.9999), "+0.0%");
        assert_eq!(p_value(0.0042), "p=0.004");
        assert_eq!(p_value(0.00001), "p<0.001");
    }
}
