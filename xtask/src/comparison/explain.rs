//! What a comparison found and where: per configuration, whether its instruction counts
//! changed (per thread role, including changes below the gate's threshold), whether only its
//! waiting moved, and which functions' instructions moved most; and, per gated pair, the
//! smallest change this run could have confirmed.
//!
//! # Rules
//!
//! 1. A count **changed** when its pair's interval excludes no change and the change
//!    exceeds the counting's resolution ([`counters::RESOLUTION`]), whatever the gate's
//!    threshold: counts of one binary reproduce to a few thousandths of a percent, so
//!    `+0.8% [+0.5%, +1.0%]` is a real change below a 1% threshold, not "unchanged". Where
//!    a side's counting runs spread more than that (rows with pool threads), the change
//!    must exceed ten times the wider side's spread ([`count_resolution`]).
//! 2. The roles: `loop` and `worker` from their own instruction pairs; `other` is what the
//!    total adds to them (per call, from the pairs' medians).
//! 3. A **shift**: loop and worker both changed, in opposite directions, and the total did
//!    not change (rule 1): instructions moved from one thread to the other.
//! 4. The **kind**: code (a count changed), waiting (counted, no count changed, but a gated
//!    timing or context-switch pair regressed or improved: the same instructions, waited for
//!    differently), or both. A configuration counted without instructions is not
//!    explained: its moved times cannot be told code from waiting.
//! 5. **Functions** only for configurations whose counts changed: the two sides' profiles
//!    diffed per role ([`ProfileDiff`]), the largest changes of a function's own
//!    instructions first, over every role.
//! 6. **Resolution** of a gated pair: the change at which its interval, as wide as this
//!    run measured it, would have cleared the threshold (`threshold + half the interval's
//!    width`, on the log scale): what a reader needs to judge `unchanged` and `inconclusive`.
//!    It ignores Holm's correction across pairs, so it is a lower bound.

use serde::{Deserialize, Serialize};

use crate::comparison::counters;
use crate::comparison::profile_diff::{FunctionChange, ProfileDiff};
use crate::comparison::{PairComparison, Verdict};
use crate::model::metric::Metric;
use crate::model::profile::{Role, RoleProfiles};

/// Functions listed per configuration.
pub const TOP_FUNCTIONS: usize = 5;

/// Below this many instructions per call, a function's change is not listed: timing-driven
/// code (a runtime's timer) moves by a few instructions per window between two runs of one
/// binary, which is far below one per call.
pub const MIN_FUNCTION_CHANGE: f64 = 0.5;

/// What kind of change a configuration shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// Its instruction counts changed.
    Code,
    /// Counts unchanged; a gated timing or context-switch pair moved.
    Waiting,
    /// Both.
    Both,
}

/// One instruction count of a configuration that changed (rule 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountChange {
    /// [`Metric::Instructions`], [`Metric::InstructionsLoop`] or
    /// [`Metric::InstructionsWorker`].
    pub metric: Metric,
    /// Instructions per call, base and head (medians).
    pub base: f64,
    pub head: f64,
    /// head / base, and its interval.
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
    /// Whether the pair decides the gate (false: reported only).
    pub gated: bool,
    /// Gated, and within the gate's threshold: changed, but the gate does not confirm it.
    pub below_threshold: bool,
    /// The gate's threshold for this metric (a fraction).
    pub threshold: f64,
}

/// One function's change, with its role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleFunction {
    pub role: Role,
    #[serde(flatten)]
    pub change: FunctionChange,
}

/// What one configuration's change is and where it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigExplanation {
    pub id: String,
    pub kind: ChangeKind,
    /// The counts that changed, total first.
    pub counts: Vec<CountChange>,
    /// Loop and worker moved in opposite directions with the total unchanged (rule 3).
    pub shift: bool,
    /// Gated timing and context-switch metrics that regressed or improved.
    pub waiting: Vec<Metric>,
    /// The functions whose own instructions moved most, every role (rule 5).
    pub functions: Vec<RoleFunction>,
    /// Counts changed, but a side has no profile (an older base, or counted without one).
    pub no_profile: bool,
}

/// Whether `pair` (an instruction pair) changed by rule 1.
pub fn count_changed(pair: &PairComparison) -> bool {
    let (Some(ratio), Some(ci)) = (pair.estimate.ratio, pair.estimate.ratio_ci) else {
        return false;
    };
    let excludes_no_change = ci.low > 1.0 || ci.high < 1.0;
    excludes_no_change && ratio.ln().abs() > count_resolution(pair)
}

/// How far a configuration's counting runs on one side may spread before its counts are
/// treated as unsteady (rule 1): [`counters::RESOLUTION`].
///
/// Counts of rows with pool threads (`to-thread`, `pool-mutex`) depend on how often a pool
/// thread's timed wait wakes, so they jump by whole wake-ups from run to run, and two or
/// three runs a side understate that. Measured in an A/A run of the default suite on a
/// 2-vCPU AMD EPYC (`cargo xtask bench --against HEAD --counters --counter-runs 2
/// --min-blocks 10`, revision 4d14779): `smol/to-thread`'s base runs spread by 0.04%, its
/// head runs not at all, and the medians differed by 0.17%, four times the spread.
const UNSTEADY_FACTOR: f64 = 10.0;

/// The smallest change of `pair`'s count that rule 1 takes as real: the counting's
/// resolution where both sides' runs reproduce within it, else [`UNSTEADY_FACTOR`] times
/// the wider side's spread (on the log scale).
pub fn count_resolution(pair: &PairComparison) -> f64 {
    let spread = |s: &crate::stats::Summary| {
        if s.min > 0.0 && s.max >= s.min {
            (s.max / s.min).ln()
        } else {
            0.0
        }
    };
    let widest = spread(&pair.baseline).max(spread(&pair.current));
    if widest <= counters::RESOLUTION {
        counters::RESOLUTION
    } else {
        UNSTEADY_FACTOR * widest
    }
}

/// The explanation of every configuration that changed, in the pairs' order;
/// `profiles(id)` gives the base's and the head's profiles of a configuration.
pub fn explain<'a>(
    pairs: &[PairComparison],
    profiles: impl Fn(&str) -> (Option<&'a RoleProfiles>, Option<&'a RoleProfiles>),
) -> Vec<ConfigExplanation> {
    let mut ids: Vec<&str> = Vec::new();
    for pair in pairs {
        if !ids.contains(&pair.id.as_str()) {
            ids.push(&pair.id);
        }
    }
    ids.into_iter()
        .filter_map(|id| {
            let of = |metric: Metric| pairs.iter().find(|p| p.id == id && p.metric == metric);
            explain_one(id, &of, profiles(id))
        })
        .collect()
}

fn explain_one<'a>(
    id: &str,
    of: &dyn Fn(Metric) -> Option<&'a PairComparison>,
    (base, head): (Option<&RoleProfiles>, Option<&RoleProfiles>),
) -> Option<ConfigExplanation> {
    let counts: Vec<CountChange> = Metric::COUNTERS
        .into_iter()
        .filter_map(of)
        .filter(|pair| count_changed(pair))
        .filter_map(|pair| {
            let ci = pair.estimate.ratio_ci?;
            Some(CountChange {
                metric: pair.metric,
                base: pair.baseline.median,
                head: pair.current.median,
                ratio: pair.estimate.ratio?,
                low: ci.low,
                high: ci.high,
                gated: pair.gated,
                below_threshold: pair.gated
                    && matches!(pair.verdict, Verdict::Unchanged | Verdict::Inconclusive),
                threshold: pair.threshold,
            })
        })
        .collect();
    let waiting: Vec<Metric> = Metric::TIMING
        .into_iter()
        .filter_map(of)
        .filter(|pair| pair.gated && matches!(pair.verdict, Verdict::Regressed | Verdict::Improved))
        .map(|pair| pair.metric)
        .collect();
    // Without instruction counts, a moved time cannot be told code from waiting: such a
    // configuration is left to the verdict table.
    let counted = Metric::COUNTERS.into_iter().any(|m| of(m).is_some());
    let kind = match (counts.is_empty(), waiting.is_empty() || !counted) {
        (true, true) => return None,
        (false, true) => ChangeKind::Code,
        (true, false) => ChangeKind::Waiting,
        (false, false) => ChangeKind::Both,
    };
    let moved = |metric: Metric| counts.iter().find(|c| c.metric == metric);
    let shift = match (
        moved(Metric::InstructionsLoop),
        moved(Metric::InstructionsWorker),
    ) {
        (Some(l), Some(w)) => {
            moved(Metric::Instructions).is_none() && (l.ratio > 1.0) != (w.ratio > 1.0)
        }
        _ => false,
    };
    let (functions, no_profile) = if counts.is_empty() {
        (Vec::new(), false)
    } else {
        match (base, head) {
            (Some(base), Some(head)) => (top_functions(&ProfileDiff::between(base, head)), false),
            _ => (Vec::new(), true),
        }
    };
    Some(ConfigExplanation {
        id: id.to_owned(),
        kind,
        counts,
        shift,
        waiting,
        functions,
        no_profile,
    })
}

/// The [`TOP_FUNCTIONS`] largest changes of a function's own instructions, over every role.
fn top_functions(diff: &ProfileDiff) -> Vec<RoleFunction> {
    let mut all: Vec<RoleFunction> = diff
        .roles
        .iter()
        .flat_map(|(role, role_diff)| {
            role_diff.functions.iter().map(|change| RoleFunction {
                role: *role,
                change: change.clone(),
            })
        })
        .filter(|f| f.change.self_instructions.change().abs() >= MIN_FUNCTION_CHANGE)
        .collect();
    all.sort_by(|a, b| {
        let size = |f: &RoleFunction| f.change.self_instructions.change().abs();
        size(b)
            .partial_cmp(&size(a))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.change.name.cmp(&b.change.name))
    });
    all.truncate(TOP_FUNCTIONS);
    all
}

/// The smallest change `pair` could have confirmed in this run (rule 6): a fraction for a
/// ratio (`0.087`: 8.7%), or a difference per call for a pair compared near zero; `None`
/// without an interval.
pub fn resolution(pair: &PairComparison) -> Option<f64> {
    if let Some(absolute) = pair.estimate.absolute {
        let half = (absolute.high - absolute.low) / 2.0;
        return Some(pair.metric.resolution() + half);
    }
    let ci = pair.estimate.ratio_ci?;
    if !(ci.low > 0.0 && ci.high >= ci.low) {
        return None;
    }
    let half = (ci.high.ln() - ci.low.ln()) / 2.0;
    Some(((1.0 + pair.threshold).ln() + half).exp() - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comparison::ChangeEstimate;
    use crate::stats::bootstrap::RatioInterval;
    use crate::stats::{Samples, Summary};

    fn pair(
        id: &str,
        metric: Metric,
        base: f64,
        ratio: f64,
        half: f64,
        verdict: Verdict,
    ) -> PairComparison {
        let summary = |v: f64| Summary::of(&Samples::new(vec![v, v]).unwrap());
        PairComparison {
            id: id.to_owned(),
            metric,
            baseline: summary(base),
            current: summary(base * ratio),
            estimate: ChangeEstimate {
                ratio: Some(ratio),
                ratio_ci: Some(RatioInterval {
                    low: ratio * (-half).exp(),
                    high: ratio * half.exp(),
                }),
                p_value: 0.0,
                absolute: None,
            },
            p_adjusted: 0.0,
            verdict,
            gated: true,
            threshold: if metric.is_counter() { 0.01 } else { 0.05 },
            settled_after_blocks: None,
            modes: None,
        }
    }

    /// A count pair whose sides' runs are `base` and `head` (instructions per call).
    fn runs(base: &[f64], head: &[f64], ratio: f64, ci: (f64, f64)) -> PairComparison {
        let mut p = pair(
            "t/a",
            Metric::Instructions,
            base[0],
            ratio,
            0.0,
            Verdict::Unchanged,
        );
        p.baseline = Summary::of(&Samples::new(base.to_vec()).unwrap());
        p.current = Summary::of(&Samples::new(head.to_vec()).unwrap());
        p.estimate.ratio_ci = Some(RatioInterval {
            low: ci.0,
            high: ci.1,
        });
        p
    }

    #[test]
    fn counts_that_jump_from_run_to_run_need_a_change_beyond_their_spread() {
        // The A/A run's smol/to-thread: base runs 0.04% apart, head runs equal, medians
        // 0.17% apart with an interval that excludes no change: not a change.
        let aa = runs(
            &[2093.1, 2092.3],
            &[2089.2, 2089.2],
            0.99833,
            (0.99700, 0.99995),
        );
        assert!(!count_changed(&aa));
        assert!((count_resolution(&aa) - 10.0 * (2093.1_f64 / 2092.3).ln()).abs() < 1e-12);
        // A dependency bump on a row whose runs spread 0.02%: +0.8% is still a change.
        let bump = runs(&[3173.9, 3174.6], &[3199.3, 3200.0], 1.008, (1.005, 1.010));
        assert!(count_changed(&bump));
        // Runs that reproduce: the counting's resolution, however small the change.
        let steady = runs(
            &[2000.0, 2000.0],
            &[2001.0, 2001.0],
            1.0005,
            (1.0004, 1.0006),
        );
        assert_eq!(count_resolution(&steady), counters::RESOLUTION);
        assert!(count_changed(&steady));
    }

    #[test]
    fn a_shift_from_loop_to_worker_below_the_threshold_is_named_as_such() {
        use Verdict::*;
        let pairs = [
            // 17 instructions moved from the loop (1700) to the worker (315): total unchanged.
            pair("t/a", Metric::Instructions, 2015.0, 1.0, 0.0001, Unchanged),
            pair(
                "t/a",
                Metric::InstructionsLoop,
                1700.0,
                0.99,
                0.0005,
                Unchanged,
            ),
            pair(
                "t/a",
                Metric::InstructionsWorker,
                315.0,
                1.054,
                0.0005,
                Regressed,
            ),
            // +0.8% [+0.5%, +1.0%]: a real change, below the 1% threshold.
            pair(
                "t/b",
                Metric::Instructions,
                3000.0,
                1.008,
                0.002,
                Inconclusive,
            ),
            // Nothing moved.
            pair(
                "t/c",
                Metric::Instructions,
                3000.0,
                1.00002,
                0.00001,
                Unchanged,
            ),
            pair("t/c", Metric::Wall, 14_000.0, 1.001, 0.01, Unchanged),
        ];
        let found = explain(&pairs, |_| (None, None));
        let ids: Vec<&str> = found.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["t/a", "t/b"]);
        let a = &found[0];
        assert!(a.shift && a.kind == ChangeKind::Code && a.no_profile);
        assert_eq!(a.counts.len(), 2, "loop and worker, not the total");
        assert!(a.counts[0].below_threshold && !a.counts[1].below_threshold);
        let b = &found[1];
        assert!(!b.shift && b.counts[0].below_threshold);
        assert!(b.counts[0].ratio > 1.0);
    }

    #[test]
    fn moved_waiting_with_the_same_instructions_is_waiting() {
        let pairs = [
            pair(
                "t/a",
                Metric::Instructions,
                3000.0,
                1.0,
                0.00001,
                Verdict::Unchanged,
            ),
            pair("t/a", Metric::Vcsw, 2.0, 1.3, 0.05, Verdict::Regressed),
            // Not counted: a moved time is not explained.
            pair("t/b", Metric::Wall, 2.0, 1.3, 0.05, Verdict::Regressed),
        ];
        let found = explain(&pairs, |_| (None, None));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, ChangeKind::Waiting);
        assert_eq!(found[0].waiting, [Metric::Vcsw]);
        assert!(found[0].functions.is_empty() && !found[0].no_profile);
    }

    #[test]
    fn resolution_is_the_threshold_plus_half_the_interval() {
        // An interval of ±3% (log) around no change, with a 5% threshold: about 8.2%.
        let p = pair("t/a", Metric::Wall, 100.0, 1.0, 0.03, Verdict::Inconclusive);
        let r = resolution(&p).unwrap();
        assert!((r - ((1.05_f64).ln() + 0.03).exp_m1()).abs() < 1e-12, "{r}");
        let exact = pair(
            "t/a",
            Metric::Instructions,
            100.0,
            1.0,
            0.0,
            Verdict::Unchanged,
        );
        assert!((resolution(&exact).unwrap() - 0.01).abs() < 1e-12);
    }
}
