//! The GitHub-flavoured Markdown summary (`--markdown`, the job summary, the pull-request
//! comment): headline verdict, the configurations that did not stay unchanged (regressions
//! first; the unchanged collapsed: `overview`), a Mermaid chart of their wall time
//! (`mermaid`), details collapsed.
//!
//! Every string that comes from the results or the comparison (ids, host fields, labels,
//! failure reasons) is written through [`code`], which makes it one inert code span (see
//! `report::untrusted`); numbers and the renderer's own words are the only other text.

use std::fmt::Write as _;

use super::untrusted::code;
use super::{
    change, headline, median_with_interval, method_note, metric_list, not_gated_note, p_value,
    scope, value,
};
use crate::comparison::{Comparison, Method, Verdict};
use crate::model::host::HostFingerprint;
use crate::model::metric::Metric;
use crate::model::paired_record::Sampling;
use crate::model::results::ResultFile;

/// Renders the summary for a pull request or a job summary.
pub fn render(results: &ResultFile, comparison: Option<&Comparison>) -> String {
    let mut out = String::new();
    match comparison {
        Some(cmp) => {
            let t = cmp.gate_tally();
            let title = if t.regressed > 0 {
                let ids = ids_with(cmp, Verdict::Regressed);
                format!(
                    ":x: Performance regressed in {} configuration{}: {}",
                    ids.len(),
                    if ids.len() == 1 { "" } else { "s" },
                    code_list(&ids)
                )
            } else if t.total() == 0 && !cmp.not_gated.is_empty() {
                ":information_source: Nothing gated against this baseline (reported only)"
                    .to_owned()
            } else if t.improved > 0 {
                ":white_check_mark: No confirmed regression (some configurations improved)"
                    .to_owned()
            } else {
                ":white_check_mark: No confirmed regression".to_owned()
            };
            let _ = writeln!(out, "## handoff-bench: {title}\n");
            if cmp.fingerprint.different_host() {
                out.push_str("> [!WARNING]\n> The baseline was measured on a **different host**; changes may reflect the machine, not the code.\n");
                for d in &cmp.fingerprint.host {
                    out.push_str(&difference_line(d));
                }
                out.push('\n');
            }
            let _ = writeln!(out, "{}\n", headline(cmp));
            if let Some(scope) = scope(cmp) {
                let _ = writeln!(out, "{scope}\n");
            }
            if !results.settings.inject_head.is_empty() {
                let _ = writeln!(
                    out,
                    "> [!NOTE]\n> A slowdown was injected into the head on purpose \
                     (`--inject-head`, ns of busy work per call): {}.\n",
                    code_list(
                        &results
                            .settings
                            .inject_head
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                    )
                );
            }
            out.push_str(&not_gated_notes(cmp));
            out.push_str(&super::explain::around_markdown(results, cmp));
            out.push_str(&super::explain::changed_markdown(cmp));
            let design = match cmp.method {
                Method::Paired { blocks, .. } => match results
                    .paired
                    .as_ref()
                    .and_then(|p| p.sampling)
                    .filter(|s| matches!(s, Sampling::Lockstep(_)))
                    .map(|s| s.to_string())
                {
                    Some(lockstep) => format!(
                        "{blocks} paired blocks (each configuration's base and head side by side per block), sampled {}",
                        code(&lockstep)
                    ),
                    None => format!(
                        "{blocks} paired blocks (each configuration once per side per block) × {} calls",
                        results.settings.count
                    ),
                },
                Method::Independent { .. } => format!(
                    "{} runs × {} calls per configuration",
                    results.settings.runs, results.settings.count
                ),
            };
            let _ = writeln!(
                out,
                "Compared with {}; {design}, commit {}.\n",
                code(&cmp.baseline_label),
                code(&results.git.short())
            );
            out.push_str(&super::overview::changed(results, cmp));
            out.push_str(&chart(results, cmp));
            out.push_str(&super::overview::unchanged(results, cmp));
            let modes = super::mode_notes(cmp);
            if !modes.is_empty() {
                out.push_str("\nTwo modes (a move between them is a change a median can hide):\n");
                for (id, note) in modes {
                    let _ = writeln!(out, "- {}: {note}", code(&id));
                }
            }
            if !cmp.added.is_empty() {
                let _ = writeln!(out, "\nAdded (no baseline): {}", code_list(&cmp.added));
            }
            if !cmp.removed.is_empty() {
                let _ = writeln!(
                    out,
                    "\nRemoved (baseline only): {}",
                    code_list(&cmp.removed)
                );
            }
            out.push_str("\n<details><summary>Every metric</summary>\n\n");
            out.push_str(&pairs_table(cmp));
            out.push_str("\n</details>\n");
        }
        None => {
            let _ = writeln!(out, "## handoff-bench results\n");
            let _ = writeln!(
                out,
                "No baseline to compare with; {} runs × {} calls per configuration, commit {}.\n",
                results.settings.runs,
                results.settings.count,
                code(&results.git.short())
            );
        }
    }
    out.push_str("\n<details><summary>Measurements per call</summary>\n\n");
    out.push_str(&summary_table(results));
    out.push_str("\n</details>\n");
    out.push_str("\n<details><summary>Method and environment</summary>\n\n");
    if let Some(cmp) = comparison {
        let _ = writeln!(out, "{}\n", method_note(cmp));
        for d in &cmp.fingerprint.toolchain {
            let _ = writeln!(
                out,
                "- toolchain change: {} {} → {}",
                code(&d.field),
                code(&d.baseline),
                code(&d.current)
            );
        }
        for d in cmp.fingerprint.unrecorded.iter().take(MAX_LISTED) {
            let _ = writeln!(
                out,
                "- not recorded by both runs: {} {} → {}",
                code(&d.field),
                code(&d.baseline),
                code(&d.current)
            );
        }
    }
    let h = &results.host;
    let _ = writeln!(
        out,
        "- host: {} ({} cores), kernel {}, {}{}\n- settings: work {}, in-flight {}, {}, created {}",
        code(&h.cpu_model),
        h.cores,
        code(&h.kernel),
        code(&h.rustc),
        recorded_extras(&results.host),
        code(&results.settings.work),
        results.settings.in_flight,
        super::pinning(results.settings.pin),
        code(&results.created)
    );
    out.push_str("\n</details>\n");
    if !results.failures.is_empty() {
        out.push_str("\n**Failed runs**\n\n");
        for f in results.failures.iter().take(MAX_LISTED) {
            let _ = writeln!(
                out,
                "- {} run {}: {}",
                code(&f.id),
                u64::from(f.run) + 1,
                code(&f.reason)
            );
        }
        if results.failures.len() > MAX_LISTED {
            let _ = writeln!(
                out,
                "- and {} more (see the results file)",
                results.failures.len() - MAX_LISTED
            );
        }
    }
    out
}

/// Why some gated metrics are only reported in this comparison (empty when none are).
fn not_gated_notes(cmp: &Comparison) -> String {
    let mut out = String::new();
    for not_gated in &cmp.not_gated {
        let _ = writeln!(
            out,
            "> [!NOTE]\n> **Reported, not gated: {}**: {}.{}",
            metric_list(not_gated),
            not_gated.why.reason,
            not_gated_note(not_gated).map_or_else(String::new, |note| format!(" {note}"))
        );
        for d in not_gated.why.differences.iter().take(MAX_LISTED) {
            out.push_str(&difference_line(d));
        }
        out.push('\n');
    }
    out
}

/// `, glibc …, valgrind …, CPU features …` for the optional host fields a file records.
fn recorded_extras(host: &HostFingerprint) -> String {
    let mut out = String::new();
    for value in [&host.glibc, &host.valgrind].into_iter().flatten() {
        let _ = write!(out, ", {}", code(value));
    }
    if let Some(features) = &host.cpu_features {
        let _ = write!(out, ", CPU features {}", code(&features.join(" ")));
    }
    out
}

/// The most ids of one list (added, removed, regressed) or failures shown; the rest are
/// counted, so that no line of the report grows without bound.
const MAX_LISTED: usize = 20;

fn code_list(ids: &[impl AsRef<str>]) -> String {
    let mut list = ids
        .iter()
        .take(MAX_LISTED)
        .map(|i| code(i.as_ref()))
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > MAX_LISTED {
        let _ = write!(list, " and {} more", ids.len() - MAX_LISTED);
    }
    list
}

fn ids_with(cmp: &Comparison, verdict: Verdict) -> Vec<&str> {
    let mut ids: Vec<&str> = cmp
        .gated()
        .filter(|p| p.verdict == verdict)
        .map(|p| p.id.as_str())
        .collect();
    ids.dedup();
    ids
}

/// The Mermaid chart of the changed rows' wall time (empty when nothing changed).
fn chart(results: &ResultFile, cmp: &Comparison) -> String {
    let bars: Vec<(&str, f64)> = super::overview::rows(results, cmp)
        .into_iter()
        .filter(|(_, status)| {
            matches!(status, super::overview::RowStatus::Gated(v) if *v != Verdict::Unchanged)
        })
        .filter_map(|(config, _)| {
            let ratio = cmp.pair(&config.id, Metric::Wall)?.estimate.ratio?;
            Some((config.id.as_str(), ratio))
        })
        .collect();
    super::mermaid::wall_changes(&bars).map_or_else(String::new, |chart| format!("\n{chart}"))
}

fn pairs_table(cmp: &Comparison) -> String {
    let paired = matches!(cmp.method, Method::Paired { .. });
    let mut out = String::from(
        "| Configuration | Metric | Baseline | Current | Change [95% CI] | Holm p | Gate | Verdict | Could confirm |",
    );
    out.push_str(if paired {
        " Blocks |\n|---|---|---:|---:|---:|---:|---|---|---:|---:|\n"
    } else {
        "\n|---|---|---:|---:|---:|---:|---|---|---:|\n"
    });
    for p in &cmp.pairs {
        let gate = if p.gated {
            super::gate_band(p)
        } else {
            "reported".to_owned()
        };
        let _ = write!(
            out,
            "| {} | {} | {} | {} | {} | {} | {gate} | {} | {} |",
            code(&p.id),
            p.metric.label(),
            value(p.metric, p.baseline.median),
            value(p.metric, p.current.median),
            change(p),
            p_value(p.p_adjusted).trim_start_matches("p="),
            p.verdict.as_str(),
            super::resolution(p)
        );
        if paired {
            let blocks = p
                .settled_after_blocks
                .map_or_else(|| "–".to_owned(), |b| b.to_string());
            let _ = write!(out, " {blocks} |");
        }
        out.push('\n');
    }
    if paired {
        out.push_str("\nBlocks: after how many blocks the verdict was reached and then kept.\n");
    }
    out.push_str(
        "\nCould confirm: the smallest change this run could have confirmed for the pair (its \
         threshold plus half its interval's width; Holm's correction makes it larger), which \
         is how to read `unchanged` and `inconclusive` on the day of the run.\n",
    );
    out
}

fn summary_table(results: &ResultFile) -> String {
    let mut out = String::from("| Configuration |");
    for m in Metric::TIMING {
        let _ = write!(out, " {} ({}) |", m.label(), super::unit(m));
    }
    out.push_str(" n |\n|---|");
    for _ in Metric::TIMING {
        out.push_str("---:|");
    }
    out.push_str("---:|\n");
    for c in &results.configurations {
        let _ = write!(out, "| {} |", code(&c.id));
        for m in Metric::TIMING {
            let _ = write!(out, " {} |", median_with_interval(m, &c.summary[&m]));
        }
        let _ = writeln!(out, " {} |", c.summary[&Metric::Wall].n);
    }
    out.push_str("\nMedian [95% interval of the median]; `*` marks an interval below 95% coverage (too few runs).\n");
    let counted = super::with_counters(results);
    if !counted.is_empty() {
        out.push_str(
            "\nInstructions per call, under callgrind (waiting not counted):\n\n| Configuration |",
        );
        for m in Metric::COUNTERS {
            let _ = write!(out, " {} |", m.label());
        }
        out.push_str(" n |\n|---|---:|---:|---:|---:|\n");
        for c in counted {
            let _ = write!(out, "| {} |", code(&c.id));
            for m in Metric::COUNTERS {
                let _ = write!(out, " {} |", median_with_interval(m, &c.summary[&m]));
            }
            let _ = writeln!(out, " {} |", c.summary[&Metric::Instructions].n);
        }
    }
    out
}

/// One fingerprint difference as a quoted list item, every value an inert code span.
fn difference_line(d: &crate::model::host::FieldDifference) -> String {
    format!(
        "> - {}: {} → {}\n",
        code(&d.field),
        code(&d.baseline),
        code(&d.current)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{fixture, fixture_comparison, other_host};

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
    fn without_baseline() {
        let (_, current) = fixture();
        insta::assert_snapshot!(render(&current, None));
    }

    #[test]
    fn another_boot_reports_times_without_gating_them() {
        let (baseline, current) = fixture();
        let current = crate::report::tests::another_boot(current);
        let cmp = fixture_comparison(&baseline, &current);
        let text = render(&current, Some(&cmp));
        // Nothing the host decides is gated, and the page says what it could not vouch for.
        assert!(
            text.starts_with("## handoff-bench: :information_source: Nothing gated"),
            "{text}"
        );
        assert!(
            text.contains(
                "This run vouches for no metric against this baseline; Wall, CpuTotal, Vcsw \
                 are reported, not gated: the two runs come from different boots, on another \
                 day or another machine."
            ),
            "{text}"
        );
        insta::assert_snapshot!(text);
    }

    #[test]
    fn different_host_warning() {
        let (baseline, current) = fixture();
        let current = other_host(current);
        let cmp = fixture_comparison(&baseline, &current);
        let text = render(&current, Some(&cmp));
        assert!(text.contains("> [!WARNING]"), "{text}");
        assert!(text.contains("> - `cores`: `2` → `4`"), "{text}");
    }
}
