//! The terminal report: python-async-bench's table per call, then the comparison with a baseline.

use std::fmt::Write as _;

use super::{
    change_with_verdict, columns, headline, median_with_interval, method_note, metric_list,
    not_gated_note, value,
};
use crate::comparison::{Comparison, Method};
use crate::model::metric::Metric;
use crate::model::results::ResultFile;
use crate::stats::CONFIDENCE;

/// Renders the results, and the comparison when there is one.
pub fn render(results: &ResultFile, comparison: Option<&Comparison>) -> String {
    let mut out = String::new();
    let s = &results.settings;
    let design = match &results.paired {
        Some(p) => format!(
            "{} paired blocks against base {} (the head's runs shown)",
            p.blocks,
            p.base.commit.chars().take(7).collect::<String>()
        ),
        None => format!("{} runs", s.runs),
    };
    let _ = writeln!(
        out,
        "handoff-bench: {} configurations, {design} x {} calls, work {}, in-flight {}, {}; {} ({} cores), rev {}",
        results.configurations.len(),
        s.count,
        s.work,
        s.in_flight,
        super::pinning(s.pin),
        results.host.cpu_model,
        results.host.cores,
        results.git.short()
    );
    let _ = writeln!(
        out,
        "Per call: median [95% interval of the median] over the runs; times in us, Vcsw in voluntary context switches.\n"
    );
    let mut rows = vec![
        ["Framework"]
            .into_iter()
            .map(str::to_owned)
            .chain(Metric::TIMING.iter().map(|m| m.label().to_owned()))
            .chain(["n".to_owned(), "outliers".to_owned()])
            .collect::<Vec<_>>(),
    ];
    let mut low_coverage = false;
    for config in &results.configurations {
        let mut row = vec![config.id.clone()];
        for metric in Metric::TIMING {
            let summary = &config.summary[&metric];
            low_coverage |= summary.ci_coverage + 1e-9 < CONFIDENCE;
            row.push(median_with_interval(metric, summary));
        }
        let wall = &config.summary[&Metric::Wall];
        row.push(wall.n.to_string());
        let outliers: usize = config.summary.values().map(|s| s.outliers.len()).sum();
        row.push(if outliers == 0 {
            "-".to_owned()
        } else {
            format!("{outliers} flagged")
        });
        rows.push(row);
    }
    out.push_str(&columns(&rows));
    out.push_str(&counters_table(results));
    if low_coverage {
        out.push_str(
            "* too few runs for 95%: the interval is min..max and covers the median with lower probability (see the JSON's ci_coverage).\n",
        );
    }
    for failure in &results.failures {
        let _ = writeln!(
            out,
            "FAILED {} (run {}): {}",
            failure.id,
            failure.run + 1,
            failure.reason
        );
    }
    if let Some(comparison) = comparison {
        out.push('\n');
        out.push_str(&render_comparison(comparison));
    }
    out
}

/// The comparison part of the terminal report.
pub fn render_comparison(comparison: &Comparison) -> String {
    let mut out = String::new();
    if comparison.fingerprint.different_host() {
        out.push_str("!!! WARNING: the baseline was measured on a DIFFERENT HOST; changes may reflect the machine, not the code:\n");
        for d in &comparison.fingerprint.host {
            let _ = writeln!(out, "!!!   {}: {} -> {}", d.field, d.baseline, d.current);
        }
    }
    if !comparison.fingerprint.toolchain.is_empty() {
        let changes: Vec<String> = comparison
            .fingerprint
            .toolchain
            .iter()
            .map(|d| format!("{} {} -> {}", d.field, d.baseline, d.current))
            .collect();
        let _ = writeln!(out, "Toolchain changes: {}", changes.join(", "));
    }
    if !comparison.fingerprint.unrecorded.is_empty() {
        let fields: Vec<String> = comparison
            .fingerprint
            .unrecorded
            .iter()
            .map(ToString::to_string)
            .collect();
        let _ = writeln!(
            out,
            "Not recorded by both runs (a file from before these fields, or unreadable): {}",
            fields.join(", ")
        );
    }
    let _ = writeln!(out, "Compared with {}:", comparison.baseline_label);
    let paired = matches!(comparison.method, Method::Paired { .. });
    let mut header = vec![
        "Framework",
        "Metric",
        "Gate",
        "Baseline",
        "Current",
        "Change",
    ];
    if paired {
        header.push("Blocks");
    }
    let mut rows = vec![header.into_iter().map(str::to_owned).collect::<Vec<_>>()];
    for pair in &comparison.pairs {
        let mut row = vec![
            pair.id.clone(),
            pair.metric.label().to_owned(),
            if pair.gated {
                super::gate_band(pair)
            } else {
                "-".to_owned()
            },
            value(pair.metric, pair.baseline.median),
            value(pair.metric, pair.current.median),
            change_with_verdict(pair),
        ];
        if paired {
            row.push(
                pair.settled_after_blocks
                    .map_or_else(|| "-".to_owned(), |b| b.to_string()),
            );
        }
        rows.push(row);
    }
    out.push_str(&columns(&rows));
    if !comparison.added.is_empty() {
        let _ = writeln!(out, "Added (no baseline): {}", comparison.added.join(", "));
    }
    if !comparison.removed.is_empty() {
        let _ = writeln!(
            out,
            "Removed (baseline only): {}",
            comparison.removed.join(", ")
        );
    }
    if paired {
        let _ = writeln!(
            out,
            "Blocks: after how many blocks each verdict was reached and then kept. Gate -: reported only."
        );
    }
    let _ = writeln!(out, "{}", method_note(comparison));
    for (id, note) in super::mode_notes(comparison) {
        let _ = writeln!(out, "Two modes: {id} {note}.");
    }
    for not_gated in &comparison.not_gated {
        let _ = writeln!(
            out,
            "Reported, not gated: {}: {}.",
            metric_list(not_gated),
            not_gated.why,
        );
        if let Some(note) = not_gated_note(not_gated) {
            let _ = writeln!(out, "  {note}");
        }
    }
    let changed = super::explain::changed_markdown(comparison);
    if !changed.is_empty() {
        out.push_str(&changed);
    }
    let _ = writeln!(out, "Verdict: {}", headline(comparison));
    if let Some(scope) = super::scope(comparison) {
        let _ = writeln!(out, "{scope}");
    }
    out
}

/// Instruction counts, when the run has them: a table of its own, because they come from
/// other runs (under callgrind) than the timing columns.
fn counters_table(results: &ResultFile) -> String {
    let configs = super::with_counters(results);
    if configs.is_empty() {
        return String::new();
    }
    let mut rows = vec![
        ["Instructions per call"]
            .into_iter()
            .map(str::to_owned)
            .chain(Metric::COUNTERS.iter().map(|m| m.label().to_owned()))
            .chain(["n".to_owned()])
            .collect::<Vec<_>>(),
    ];
    for config in configs {
        let mut row = vec![config.id.clone()];
        for metric in Metric::COUNTERS {
            row.push(median_with_interval(metric, &config.summary[&metric]));
        }
        row.push(config.summary[&Metric::Instructions].n.to_string());
        rows.push(row);
    }
    format!(
        "\nUnder callgrind (waiting not counted), median [interval] over the counting runs:\n{}",
        columns(&rows)
    )
}

#[cfg(test)]
mod tests {

    /// The terminal report names a gated pair's two modes.
    #[test]
    fn two_modes_are_named_in_the_terminal_report() {
        use crate::comparison::paired::{self, tests::context, tests::fast_to_slow_mode};
        let cmp = paired::compare(&fast_to_slow_mode(), &context(&["floor/park"], 2));
        let table = render_comparison(&cmp);
        assert!(
            table.contains("Two modes: floor/park Wall: fast"),
            "{table}"
        );
    }

    use super::*;
    use crate::report::tests::{fixture, fixture_comparison, other_host};

    #[test]
    fn results_only() {
        let (_, current) = fixture();
        insta::assert_snapshot!(render(&current, None));
    }

    #[test]
    fn paired_comparison() {
        let (current, cmp) = crate::report::tests::paired_fixture();
        insta::assert_snapshot!(render(&current, Some(&cmp)));
    }

    #[test]
    fn with_comparison() {
        let (baseline, current) = fixture();
        let cmp = fixture_comparison(&baseline, &current);
        insta::assert_snapshot!(render(&current, Some(&cmp)));
    }

    #[test]
    fn failures_are_listed() {
        let (_, mut current) = fixture();
        current.failures.push(crate::model::results::RunFailure {
            id: "smol/to-thread".to_owned(),
            run: 2,
            side: None,
            reason: "exited with exit status: 101".to_owned(),
            stderr_tail: "thread 'main' panicked".to_owned(),
        });
        insta::assert_snapshot!(render(&current, None));
    }

    #[test]
    fn another_boot_reports_times_without_gating_them() {
        let (baseline, current) = fixture();
        let current = crate::report::tests::another_boot(current);
        let cmp = fixture_comparison(&baseline, &current);
        insta::assert_snapshot!(render_comparison(&cmp));
    }

    #[test]
    fn a_baseline_from_before_the_boot_id_is_said_so() {
        let (mut baseline, current) = fixture();
        baseline.host = crate::model::host::HostFingerprint {
            cpu_model: baseline.host.cpu_model,
            cores: baseline.host.cores,
            kernel: baseline.host.kernel,
            rustc: baseline.host.rustc,
            crates: baseline.host.crates,
            ..Default::default()
        };
        let cmp = fixture_comparison(&baseline, &current);
        let text = render_comparison(&cmp);
        assert!(
            text.contains("Not recorded by both runs (a file from before these fields, or unreadable): cpu_flags: not recorded -> b00453739d144cb9, "),
            "{text}"
        );
        assert!(
            text.contains(
                "Reported, not gated: Wall, CpuTotal, Vcsw: the baseline records no boot id"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "Verdict: nothing gated: 15 configuration-metric pairs reported only \
                 (4 regressed, 4 improved, 7 unchanged, 0 inconclusive)\n\
                 This run vouches for no metric against this baseline; Wall, CpuTotal, Vcsw are \
                 reported, not gated: the baseline records no boot id"
            ),
            "{text}"
        );
    }

    #[test]
    fn different_host_is_prominent() {
        let (baseline, current) = fixture();
        let current = other_host(current);
        let cmp = fixture_comparison(&baseline, &current);
        insta::assert_snapshot!(render_comparison(&cmp));
    }
}
