//! A comparison's verdict in the reports' own words: the headline, what the run vouches for,
//! the gated metrics, why some are only reported, the method in one sentence, and notes on
//! pairs with two modes. Shared by the terminal, markdown and HTML reports.

use super::value;
use crate::comparison::{Comparison, NotGated, PairComparison, Verdict};

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
