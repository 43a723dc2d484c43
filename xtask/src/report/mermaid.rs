//! A small chart for GitHub, which renders Mermaid in comments: the wall-time change of the
//! configurations that did not stay unchanged, as an `xychart-beta` bar chart in percent.
//!
//! Ids come from an untrusted results file; inside a code block [`super::untrusted::code`]
//! cannot protect them, so they pass through [`label`] (nothing outside `[A-Za-z0-9/._:-]`)
//! and are quoted: nothing can end the label, the chart or the block.

use std::fmt::Write as _;

use super::untrusted::label;

/// At most this many bars (the rest are in the tables).
const MAX_BARS: usize = 20;
/// At most this many characters of a label.
const MAX_LABEL: usize = 40;

/// The chart of `(id, wall ratio head/base)` pairs, `None` when there is nothing to show.
pub fn wall_changes(bars: &[(&str, f64)]) -> Option<String> {
    let bars: Vec<(String, f64)> = bars
        .iter()
        .filter(|(_, ratio)| ratio.is_finite())
        .take(MAX_BARS)
        .map(|(id, ratio)| (label(id, MAX_LABEL), (ratio - 1.0) * 100.0))
        .collect();
    if bars.is_empty() {
        return None;
    }
    // A symmetric axis, so the sign of a bar reads at once; at least ±10%.
    let reach = bars
        .iter()
        .map(|(_, pct)| pct.abs())
        .fold(10.0_f64, f64::max)
        * 1.1;
    let reach = reach.ceil();
    let labels: Vec<String> = bars.iter().map(|(l, _)| format!("\"{l}\"")).collect();
    let values: Vec<String> = bars.iter().map(|(_, pct)| format!("{pct:.1}")).collect();
    let mut out = String::from("```mermaid\nxychart-beta\n");
    let _ = writeln!(out, "    title \"Wall time per call, head vs base (%)\"");
    let _ = writeln!(out, "    x-axis [{}]", labels.join(", "));
    let _ = writeln!(out, "    y-axis \"change %\" {} --> {reach}", -reach);
    let _ = writeln!(out, "    bar [{}]", values.join(", "));
    out.push_str("```\n");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_percent_changes_on_a_symmetric_axis() {
        let chart = wall_changes(&[("tokio-current/dedicated", 1.25), ("floor/park", 0.97)])
            .expect("a chart");
        assert_eq!(
            chart,
            "```mermaid\nxychart-beta\n    title \"Wall time per call, head vs base (%)\"\n    \
             x-axis [\"tokio-current/dedicated\", \"floor/park\"]\n    \
             y-axis \"change %\" -28 --> 28\n    bar [25.0, -3.0]\n```\n"
        );
        assert_eq!(wall_changes(&[]), None);
        assert_eq!(wall_changes(&[("x/y", f64::NAN)]), None);
    }

    #[test]
    fn an_id_cannot_leave_its_label_or_the_block() {
        let chart = wall_changes(&[("a\"]\n```\n<b>@x", 1.5)]).unwrap();
        assert!(chart.contains("x-axis [\"a________b__x\"]"), "{chart}");
        assert_eq!(chart.matches("```").count(), 2, "{chart}");
        assert_eq!(chart.lines().count(), 7, "{chart}");
    }
}
