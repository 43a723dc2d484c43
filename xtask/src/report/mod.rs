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
pub mod terminal;
pub mod trend;
pub mod untrusted;
mod verdict_words;

pub use verdict_words::{
    TIMES_NOT_GATED_NOTE, gates, headline, method_note, metric_list, mode_notes, not_gated_note,
    scope, worst,
};

use crate::comparison::PairComparison;
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

/// Aligned columns (comfy-table, no borders), two spaces apart, every column left-aligned,
/// trailing spaces trimmed: the terminal reports' tables.
pub fn columns(rows: &[Vec<String>]) -> String {
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::NOTHING)
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled);
    for row in rows {
        table.add_row(row);
    }
    for (index, column) in table.column_iter_mut().enumerate() {
        column.set_padding((if index == 0 { 0 } else { 2 }, 0));
    }
    let mut text = table.trim_fmt();
    if !text.is_empty() {
        text.push('\n');
    }
    text
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
        let entry = |metrics: Vec<Metric>| crate::comparison::NotGated {
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
