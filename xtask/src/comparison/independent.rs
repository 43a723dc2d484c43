//! The independent-samples method: two result sets run at different times.
//!
//! Per pair: the ratio of medians with a seeded percentile-bootstrap interval
//! (`stats::bootstrap`) and a two-sided Mann-Whitney U p-value (`stats::mann_whitney`).
//! Each pair's bootstrap seed is derived from the comparison seed and the pair's name, so a
//! pair's interval does not depend on which other configurations were run.
//!
//! The two sets may come from different days: times and context switches (the metrics that
//! depend on the host's clock and scheduler, `Metric::depends_on_host`) are gated only when
//! both runs share one boot of one machine (`HostFingerprint::timings_comparable`), and are
//! otherwise reported, with the reason. Instruction counts are gated wherever the counting
//! fingerprint matches (`counters::not_gated`).
//!
//! A configuration of the baseline that the current run did not select (its `--only`, or
//! the default suite) is out of scope, not removed: only one the current run selected and
//! did not produce is listed as removed.

use std::collections::BTreeSet;

use crate::comparison::counters;
use crate::comparison::{
    AbsoluteChange, ChangeEstimate, Comparison, ComparisonContext, Method, NotGated, PairInput,
    VerdictPolicy, assemble_with,
};
use crate::model::metric::Metric;
use crate::model::results::ResultFile;
use crate::model::selection::Selection;
use crate::stats::bootstrap::{median_difference_interval, median_ratio_interval};
use crate::stats::mann_whitney::mann_whitney;
use crate::stats::{Samples, Summary};

/// Bootstrap settings of the independent method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndependentSettings {
    /// 5000 replicates put the Monte-Carlo error of a 2.5% quantile well below the
    /// run-to-run noise, at a few milliseconds per pair.
    pub resamples: u32,
    pub seed: u64,
}

impl Default for IndependentSettings {
    fn default() -> Self {
        IndependentSettings {
            resamples: 5000,
            seed: 0x68_61_6e_64_6f_66_66, // "handoff"
        }
    }
}

/// The change estimate of one pair of sample sets of `metric`: the ratio of medians, and
/// for a metric near zero on the baseline's side ([`Metric::near_zero`]) also the
/// difference of medians per call, which then decides the verdict.
pub fn estimate_metric(
    metric: Metric,
    baseline: &Samples,
    current: &Samples,
    resamples: u32,
    seed: u64,
) -> ChangeEstimate {
    let mut estimate = estimate(baseline, current, resamples, seed);
    if metric
        .near_zero()
        .is_some_and(|level| baseline.median() < level)
    {
        let (low, high) = median_difference_interval(baseline, current, resamples, seed);
        estimate.absolute = Some(AbsoluteChange {
            difference: current.median() - baseline.median(),
            low,
            high,
        });
    }
    estimate
}

/// The change estimate of one pair of sample sets, as a ratio.
pub fn estimate(
    baseline: &Samples,
    current: &Samples,
    resamples: u32,
    seed: u64,
) -> ChangeEstimate {
    let (b, c) = (baseline.median(), current.median());
    let ratio = match (b == 0.0, c == 0.0) {
        (true, true) => Some(1.0),
        (true, false) => None,
        (false, _) => Some(c / b),
    };
    let ratio_ci = ratio.and(median_ratio_interval(baseline, current, resamples, seed));
    ChangeEstimate {
        ratio,
        ratio_ci,
        p_value: mann_whitney(current, baseline).p_value,
        absolute: None,
    }
}

/// Compares every configuration present in both files, every metric; the gated times only
/// from the same boot (see the module docs).
pub fn compare<'a>(
    baseline: &'a ResultFile,
    current: &'a ResultFile,
    baseline_label: String,
    policy: VerdictPolicy,
    settings: IndependentSettings,
) -> Comparison {
    let baseline_ids: BTreeSet<&str> = baseline
        .configurations
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    let current_ids: BTreeSet<&str> = current
        .configurations
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    let mut inputs = Vec::new();
    for cur in &current.configurations {
        let Some(base) = baseline.find(&cur.id) else {
            continue;
        };
        for metric in Metric::TIMING {
            // Result files hold at least one sample per configuration (checked on load and
            // when built), so these cannot fail.
            let (Ok(b), Ok(c)) = (base.samples_of(metric), cur.samples_of(metric)) else {
                continue;
            };
            inputs.push(PairInput {
                id: cur.id.clone(),
                metric,
                estimate: estimate_metric(
                    metric,
                    &b,
                    &c,
                    settings.resamples,
                    pair_seed(settings.seed, &cur.id, metric),
                ),
                baseline: Summary::of(&b),
                current: Summary::of(&c),
                modes: None,
            });
        }
        inputs.extend(counters::pairs(base, cur));
    }
    let mut not_gated = host_metrics_not_gated(baseline, current, &policy);
    not_gated.extend(counters::not_gated(
        &baseline.host.diff(&current.host),
        &policy,
        &inputs,
    ));
    let context = ComparisonContext {
        method: Method::Independent {
            bootstrap_resamples: settings.resamples,
            seed: settings.seed,
        },
        baseline_label,
        policy,
        fingerprint: baseline.host.diff(&current.host),
        added: current_ids
            .difference(&baseline_ids)
            .map(|s| (*s).to_owned())
            .collect(),
        removed: {
            let selection = Selection::new(&current.settings.only);
            baseline_ids
                .difference(&current_ids)
                .filter(|id| selection.selects(id))
                .map(|s| (*s).to_owned())
                .collect()
        },
    };
    let mut comparison = assemble_with(context, not_gated, inputs);
    let profile = |file: &'a ResultFile, id: &str| {
        file.configurations
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.profile.as_ref())
    };
    comparison.explanation = crate::comparison::explain::explain(&comparison.pairs, |id| {
        (profile(baseline, id), profile(current, id))
    });
    comparison
}

/// The gated metrics that depend on the host's clock or scheduler (times, context
/// switches), taken out of the gate when the two runs come from different boots.
fn host_metrics_not_gated(
    baseline: &ResultFile,
    current: &ResultFile,
    policy: &VerdictPolicy,
) -> Vec<NotGated> {
    let Err(why) = baseline.host.timings_comparable(&current.host) else {
        return Vec::new();
    };
    let metrics: Vec<Metric> = Metric::TIMING
        .into_iter()
        .filter(|m| m.depends_on_host() && policy.is_gated(*m))
        .collect();
    if metrics.is_empty() {
        return Vec::new();
    }
    vec![NotGated { metrics, why }]
}

/// FNV-1a of the pair's name mixed into the seed: stable across platforms and versions.
pub(crate) fn pair_seed(seed: u64, id: &str, metric: Metric) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in id.bytes().chain([0]).chain(metric.key().bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    seed ^ hash
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::comparison::Verdict;
    use crate::model::results::ConfigurationResult;
    use crate::model::results::tests::result_file;

    const POLICY: VerdictPolicy = VerdictPolicy {
        alpha: 0.05,
        threshold: 0.05,
        gates: std::collections::BTreeMap::new(),
    };
    const FAST: IndependentSettings = IndependentSettings {
        resamples: 500,
        seed: 1,
    };

    /// The file as measured in the boot `boot`.
    fn in_boot(mut file: ResultFile, boot: &str) -> ResultFile {
        file.host.boot = Some(boot.to_owned());
        file
    }

    fn positive_samples() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(1.0..1e6_f64, 1..15)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn a_sample_set_compared_with_itself_is_never_a_change(values in positive_samples()) {
            let s = Samples::new(values).unwrap();
            let e = estimate(&s, &s, 500, 3);
            prop_assert_eq!(e.ratio, Some(1.0));
            let ci = e.ratio_ci.unwrap();
            prop_assert!(ci.low <= 1.0 && 1.0 <= ci.high);
            prop_assert!(e.p_value > 0.99);
            let v = crate::comparison::verdict(e.ratio_ci, e.p_value, 0.05, 0.05);
            prop_assert!(v == Verdict::Unchanged || v == Verdict::Inconclusive);
        }

        #[test]
        fn scaling_current_by_c_scales_the_ratio_by_c(
            base in positive_samples(),
            cur in positive_samples(),
            c in 0.1..10.0_f64,
        ) {
            let b = Samples::new(base).unwrap();
            let cur = Samples::new(cur).unwrap();
            let plain = estimate(&b, &cur, 300, 9);
            let scaled = estimate(&b, &cur.scaled(c).unwrap(), 300, 9);
            let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * y.abs().max(1.0);
            prop_assert!(close(scaled.ratio.unwrap(), c * plain.ratio.unwrap()));
            let (p, s) = (plain.ratio_ci.unwrap(), scaled.ratio_ci.unwrap());
            prop_assert!(close(s.low, c * p.low) && close(s.high, c * p.high));
        }
    }

    #[test]
    fn a_clear_slowdown_regresses_and_identical_data_is_unchanged() {
        let base: Vec<f64> = (0..10).map(|i| 14_000.0 + 50.0 * f64::from(i)).collect();
        let slow: Vec<f64> = base.iter().map(|v| v * 1.3).collect();
        let baseline = result_file(&[
            ("floor/park", &base),
            ("smol/dedicated", &base),
            ("gone/x", &base),
        ]);
        let current = result_file(&[
            ("floor/park", &slow),
            ("smol/dedicated", &base),
            ("new/y", &base),
        ]);
        let (baseline, current) = (in_boot(baseline, "b1"), in_boot(current, "b1"));
        let cmp = compare(&baseline, &current, "baseline test".into(), POLICY, FAST);
        assert!(cmp.not_gated.is_empty());
        assert_eq!(cmp.added, vec!["new/y"]);
        assert_eq!(cmp.removed, vec!["gone/x"]);
        // Left out by the current run's `--only`: out of scope, not removed.
        let mut narrowed = current.clone();
        narrowed.settings.only = vec!["floor/*".to_owned(), "smol/*".to_owned()];
        let out_of_scope = compare(&baseline, &narrowed, "baseline test".into(), POLICY, FAST);
        assert!(
            out_of_scope.removed.is_empty(),
            "{:?}",
            out_of_scope.removed
        );
        narrowed.settings.only = vec!["gone/*".to_owned(), "floor/*".to_owned()];
        let asked_for = compare(&baseline, &narrowed, "baseline test".into(), POLICY, FAST);
        assert_eq!(asked_for.removed, vec!["gone/x"]);
        assert_eq!(cmp.pairs.len(), 10);
        let park = cmp.pair("floor/park", Metric::Wall).unwrap();
        assert_eq!(park.verdict, Verdict::Regressed);
        assert!((park.estimate.ratio.unwrap() - 1.3).abs() < 1e-9);
        // The fixture's context switches are the same in both: all tied, p = 1.
        assert_eq!(
            cmp.pair("floor/park", Metric::Vcsw).unwrap().verdict,
            Verdict::Unchanged
        );
        assert_eq!(
            cmp.pair("smol/dedicated", Metric::Wall).unwrap().verdict,
            Verdict::Unchanged
        );
        assert!(cmp.has_regression());
        assert_eq!(cmp.tally().regressed, 4);
    }

    /// A baseline and a current run of two configurations, every time of the current 3x
    /// the baseline's (another day on these VMs), context switches the same.
    fn three_times_slower() -> (ResultFile, ResultFile) {
        let base: Vec<f64> = (0..10).map(|i| 14_000.0 + 50.0 * f64::from(i)).collect();
        let slow: Vec<f64> = base.iter().map(|v| v * 3.0).collect();
        let ids = ["floor/park", "smol/dedicated"];
        let baseline = result_file(&[(ids[0], &base), (ids[1], &base)]);
        let current = result_file(&[(ids[0], &slow), (ids[1], &slow)]);
        (baseline, current)
    }

    #[test]
    fn times_and_switches_from_another_boot_are_reported_not_gated() {
        let (baseline, current) = three_times_slower();
        let (baseline, current) = (in_boot(baseline, "b1"), in_boot(current, "b2"));
        let cmp = compare(&baseline, &current, "baseline test".into(), POLICY, FAST);
        assert!(!cmp.has_regression());
        let host = [
            Metric::Wall,
            Metric::CpuTotal,
            Metric::CpuLoop,
            Metric::CpuWorker,
            Metric::Vcsw,
        ];
        assert_eq!(cmp.not_gated.len(), 1);
        assert_eq!(cmp.not_gated[0].metrics, host);
        let why = cmp.not_gated_because(Metric::Vcsw).unwrap();
        assert!(why.reason.contains("different boots"), "{why}");
        assert_eq!(why.differences[0].to_string(), "boot: b1 -> b2");
        for metric in &host[..4] {
            let park = cmp.pair("floor/park", *metric).unwrap();
            assert!(!park.gated && !cmp.is_gated(*metric), "{metric}");
            // Still judged, as information, at the metric's threshold.
            assert_eq!(park.verdict, Verdict::Regressed, "{metric}");
            assert_eq!(park.threshold, 0.05);
        }
        let vcsw = cmp.pair("floor/park", Metric::Vcsw).unwrap();
        assert!(!vcsw.gated && !cmp.is_gated(Metric::Vcsw));
        // Nothing left in the gate: every pair reported, none gated.
        assert_eq!(cmp.gate_tally().total(), 0);
        assert_eq!(cmp.reported_tally().regressed, 8);
    }

    /// A fresh clone's first run against the committed baseline, measured in another boot:
    /// its context switches moved by a third (the scheduler's doing), its instruction counts
    /// did not on one configuration and did on the other.
    #[test]
    fn a_run_from_another_boot_gates_instruction_counts_only() {
        use crate::comparison::calibration::trials::tests::counted;
        let walls: Vec<f64> = (0..6).map(|i| 14_000.0 + 50.0 * f64::from(i)).collect();
        let ids = ["tokio-current/flume-oneshot", "smol/dedicated"];
        let mut baseline = result_file(&[(ids[0], &walls), (ids[1], &walls)]);
        // One toolchain, C library, valgrind and CPU feature set: counts comparable.
        baseline.host.glibc = Some("glibc 2.36".to_owned());
        baseline.host.valgrind = Some("valgrind-3.19.0".to_owned());
        baseline.host.cpu_flags = Some("b00453739d144cb9".to_owned());
        baseline.host.cpu_features = Some(vec!["avx2".to_owned()]);
        let mut current = baseline.clone();
        for config in &mut current.configurations {
            let mut samples = config.samples.clone();
            for m in &mut samples {
                m.vcsw_loop = m.vcsw_loop * 4 / 3;
            }
            *config = ConfigurationResult::from_samples(config.id.clone(), samples).unwrap();
        }
        let counts = |id: &str, worker: f64| (0..3).map(|_| counted(id, 1000.0, worker)).collect();
        for (file, worker) in [(&mut baseline, 500.0), (&mut current, 550.0)] {
            let configs = std::mem::take(&mut file.configurations);
            file.configurations = configs
                .into_iter()
                .map(|c| {
                    // Only smol/dedicated's worker got more expensive.
                    let w = if c.id == ids[1] { worker } else { 500.0 };
                    let counters = counts(&c.id, w);
                    ConfigurationResult::with_counters(c.id, c.samples, counters).unwrap()
                })
                .collect();
        }
        let (baseline, current) = (in_boot(baseline, "b1"), in_boot(current, "b2"));
        let cmp = compare(&baseline, &current, "baseline test".into(), POLICY, FAST);
        let vcsw = cmp.pair(ids[0], Metric::Vcsw).unwrap();
        assert!(!vcsw.gated, "{vcsw:?}");
        assert!(vcsw.estimate.ratio.unwrap() > 1.15, "{vcsw:?}");
        // The counts stay in the gate and find the real change.
        let worker = cmp.pair(ids[1], Metric::InstructionsWorker).unwrap();
        assert!(
            worker.gated && worker.verdict == Verdict::Regressed,
            "{worker:?}"
        );
        let unchanged = cmp.pair(ids[0], Metric::Instructions).unwrap();
        assert!(unchanged.gated && unchanged.verdict == Verdict::Unchanged);
        assert!(cmp.has_regression());
        assert_eq!(cmp.not_gated[0].metrics.last(), Some(&Metric::Vcsw));
    }

    #[test]
    fn times_from_the_same_boot_are_gated() {
        let (baseline, current) = three_times_slower();
        let (baseline, current) = (in_boot(baseline, "b1"), in_boot(current, "b1"));
        let cmp = compare(&baseline, &current, "baseline test".into(), POLICY, FAST);
        assert!(cmp.not_gated.is_empty());
        assert!(cmp.has_regression());
        assert_eq!(cmp.gate_tally().regressed, 8);
        assert!(cmp.pair("floor/park", Metric::Wall).unwrap().gated);
    }

    #[test]
    fn a_baseline_without_a_boot_id_never_gates_times() {
        let (baseline, current) = three_times_slower();
        // Both from the test helper, recording no boot id: as two files from before them.
        let cmp = compare(&baseline, &current, "baseline test".into(), POLICY, FAST);
        assert!(!cmp.has_regression());
        let why = cmp.not_gated_because(Metric::CpuTotal).unwrap();
        assert!(
            why.reason.contains("neither run records a boot id"),
            "{why}"
        );
        let current = in_boot(current, "b1");
        let cmp = compare(&baseline, &current, "baseline test".into(), POLICY, FAST);
        assert!(!cmp.has_regression());
        let why = cmp.not_gated_because(Metric::Wall).unwrap();
        assert!(
            why.reason.contains("the baseline records no boot id"),
            "{why}"
        );
    }

    #[test]
    fn only_gated_host_metrics_are_listed_as_taken_out_of_the_gate() {
        let (baseline, current) = three_times_slower();
        let policy = |gates: &[Metric]| VerdictPolicy {
            gates: gates.iter().map(|m| (*m, 0.05)).collect(),
            ..POLICY
        };
        let cmp = compare(
            &baseline,
            &current,
            "baseline test".into(),
            policy(&[Metric::Wall, Metric::Vcsw]),
            FAST,
        );
        assert_eq!(cmp.not_gated[0].metrics, [Metric::Wall, Metric::Vcsw]);
        assert_eq!(cmp.not_gated_because(Metric::CpuLoop), None);
        let cmp = compare(
            &baseline,
            &current,
            "baseline test".into(),
            policy(&[Metric::Instructions]),
            FAST,
        );
        // No instruction counts in these files: nothing gated, nothing taken out.
        assert!(cmp.not_gated.is_empty());
        assert!(!cmp.has_regression());
    }

    #[test]
    fn pair_seeds_differ_per_pair_and_are_stable() {
        assert_ne!(
            pair_seed(1, "a/b", Metric::Wall),
            pair_seed(1, "a/b", Metric::CpuTotal)
        );
        assert_eq!(
            pair_seed(0, "", Metric::Wall),
            pair_seed(0, "", Metric::Wall)
        );
    }

    #[test]
    fn switches_near_zero_are_compared_per_call() {
        // Three runs a side, as `--runs 3` gives: a ratio of medians says +127%, the
        // difference says +0.014 switches per call.
        let base = Samples::new(vec![0.011, 0.010, 0.012]).unwrap();
        let cur = Samples::new(vec![0.025, 0.020, 0.030]).unwrap();
        let e = estimate_metric(Metric::Vcsw, &base, &cur, 1000, 5);
        assert!((e.ratio.unwrap() - 25.0 / 11.0).abs() < 1e-9);
        let abs = e.absolute.expect("near zero");
        assert!((abs.difference - 0.014).abs() < 1e-9, "{abs:?}");
        assert!(
            abs.low <= 0.014 && 0.014 <= abs.high && abs.high <= 0.020,
            "{abs:?}"
        );
        let verdict = crate::comparison::absolute_verdict(abs, e.p_value, 0.05, 0.02);
        assert_eq!(verdict, Verdict::Unchanged);
        // Wall time, and switches of a blocking row, keep the ratio alone.
        assert!(
            estimate_metric(Metric::Wall, &base, &cur, 100, 5)
                .absolute
                .is_none()
        );
        let blocking = Samples::new(vec![2.0, 2.1, 1.9]).unwrap();
        assert!(
            estimate_metric(Metric::Vcsw, &blocking, &cur, 100, 5)
                .absolute
                .is_none()
        );
    }
}
