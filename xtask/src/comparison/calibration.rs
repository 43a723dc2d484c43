//! How well the gate works on this host, as data: the record `cargo xtask calibrate` writes
//! (its `--json`, the input of `report::calibration`) and the pure analysis of its trials,
//! for both instruments it calibrates, the timing of paired sessions and the instruction
//! counts of counting runs. `engine::calibration` runs the trials; the children hold what
//! was asked for ([`settings`], with the [`settings::Instrument`]), the pilot's sizing of
//! each injection ([`pilot`]), each trial judged ([`trials`]), the minimum detectable
//! effect ([`mde`]) and what the trials add up to ([`findings`]).
//!
//! # One calibration, two instruments
//!
//! Everything but the instrument is shared: a pilot sizes side B's injection of each
//! `--effect`; `--trials` rounds each run one A/A trial and one trial per effect,
//! interleaved so slow drift of the host touches every kind alike; every trial is judged by
//! the same two rules through the gate's own comparison; the trials become false alarms,
//! detections and MDEs. The instrument says what differs:
//!
//! | | timing (`settings::Timing`) | counters (`settings::Counting`) |
//! |---|---|---|
//! | a trial samples both sides | one paired session of exactly `--blocks` blocks, as `bench --against` runs it | `--counter-runs` runs a side under callgrind, the sides alternating, as `bench --against --counters` counts |
//! | side B's injection | `--inject-ns`, from the median wall time per call | `--inject-loops`, from the measured instructions of one loop iteration |
//! | metrics judged per configuration | Wall | the three instruction counts |
//! | MDE | paired t over the blocks | Welch's t over the runs a side |
//!
//! # How a trial is judged
//!
//! 1. The trial's samples go through `comparison::paired::compare_first`: a session's blocks
//!    as the paired method compares them; counting runs through `comparison::counters`
//!    (Welch's t on log values, each side's variance floored at the counting resolution).
//!    Holm's family holds the calibrated configurations' pairs; a count's family in the
//!    gate also holds the timing pairs, which only makes it stricter, and its MDE assumes
//!    the gate's family.
//! 2. Two rules on the same data:
//!    - *significant*: the gated pair's Holm-adjusted p <= alpha and its interval excludes 1
//!      (the gate's rule with every threshold 0): what the test itself can detect;
//!    - *gate*: the gate's rule with its thresholds (`--threshold`, `--gate`).
//! 3. An A/A trial is a false alarm when any gated pair "regressed"; an injected trial
//!    detects the effect for a configuration and metric when that pair "regressed".
//!
//! # The threshold interplay
//!
//! The gate confirms a regression only when the whole interval lies above `1 + threshold`,
//! so with the default Wall threshold of 5% an injected 5% slowdown is, by design, almost
//! never "regressed" under the gate rule: its interval straddles 1.05. The slowdown the
//! gate confirms with the stated power is about `threshold + MDE`. That is why the
//! detection of the test itself is calibrated with the *significant* rule, and the gate
//! rule's rates are shown beside it: set the gate's Wall threshold to at most `E - MDE` to
//! confirm an `E`% slowdown, and never below the MDE itself (a threshold the design cannot
//! resolve only turns changes into "inconclusive"). The significant rule's false alarm
//! rate bounds the gate's: the gate's rule is stricter on the same data.

pub mod findings;
pub mod mde;
pub mod pilot;
pub mod settings;
pub mod trials;

use serde::Serialize;

use crate::model::git::GitRevision;
use crate::model::host::HostFingerprint;
use findings::{Findings, Rate, summarise};
use mde::Family;
use pilot::Pilot;
use settings::CalibrationSettings;
use trials::Trial;

/// The version of the record; 2 since one schema holds both instruments (every field of
/// the two schemas 1 kept).
pub const CALIBRATION_SCHEMA: u64 = 2;

/// The whole calibration; what `--json` writes and the terminal report renders.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    /// `Instrument::kind`: which instrument was calibrated.
    pub kind: &'static str,
    pub schema: u64,
    pub created: String,
    pub host: HostFingerprint,
    pub git: GitRevision,
    pub settings: CalibrationSettings,
    pub pilot: Vec<Pilot>,
    pub family: Family,
    /// A/A trials with any gated pair regressed, per rule.
    pub false_alarms_significant: Rate,
    pub false_alarms_gate: Rate,
    #[serde(flatten)]
    pub findings: Findings,
    /// Wall-clock seconds the trials took.
    pub seconds: f64,
    pub trials: Vec<Trial>,
}

/// Where and when a calibration ran.
#[derive(Debug, Clone)]
pub struct Provenance {
    pub created: String,
    pub host: HostFingerprint,
    pub git: GitRevision,
    /// Wall-clock seconds the trials took.
    pub seconds: f64,
}

impl Calibration {
    /// The record of `trials` run with `settings`, with what they add up to.
    pub fn new(
        settings: CalibrationSettings,
        pilot: Vec<Pilot>,
        family: Family,
        trials: Vec<Trial>,
        provenance: Provenance,
    ) -> Self {
        let summary = summarise(&trials, &pilot, &settings, family);
        Calibration {
            kind: settings.instrument.kind(),
            schema: CALIBRATION_SCHEMA,
            created: provenance.created,
            host: provenance.host,
            git: provenance.git,
            settings,
            pilot,
            family,
            false_alarms_significant: summary.false_alarms_significant,
            false_alarms_gate: summary.false_alarms_gate,
            findings: summary.findings,
            seconds: provenance.seconds,
            trials,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn fixture(inputs: (CalibrationSettings, Vec<Pilot>, Family, Vec<Trial>)) -> Calibration {
        let (settings, pilot, family, trials) = inputs;
        let sample = crate::model::results::tests::result_file(&[]);
        let provenance = Provenance {
            created: sample.created,
            host: sample.host,
            git: sample.git,
            seconds: 61.0,
        };
        Calibration::new(settings, pilot, family, trials, provenance)
    }

    /// `findings::tests::timing`'s trials as a calibration.
    pub(crate) fn timing_fixture() -> Calibration {
        fixture(findings::tests::timing())
    }

    /// `findings::tests::counting_trials` as a calibration.
    pub(crate) fn counting_fixture() -> Calibration {
        fixture(findings::tests::counting_trials())
    }

    /// Every field the two schemas 1 wrote is still written, where it was (rates and the
    /// policy stand for their fields); `kind` tells the instruments apart.
    #[test]
    fn both_records_keep_every_field_of_their_first_schema() {
        let common = [
            "/schema",
            "/created",
            "/host",
            "/git",
            "/settings/only",
            "/settings/ids/0",
            "/settings/trials",
            "/settings/work",
            "/settings/in_flight",
            "/settings/effects_pct/0",
            "/settings/policy",
            "/pilot/0/id",
            "/family/gated_pairs",
            "/family/full_suite_gated_pairs",
            "/family/alpha",
            "/family/power",
            "/false_alarms_significant/count",
            "/false_alarms_gate/high",
            "/seconds",
            "/trials/0/round",
            "/trials/0/effect_pct",
            "/trials/0/configs/0/id",
            "/trials/0/any_gate_regression",
            "/trials/0/any_significant_regression",
            "/trials/0/failed_runs",
        ];
        let timing = [
            "/settings/blocks",
            "/settings/count",
            "/settings/pin",
            "/settings/sampling",
            "/settings/estimator",
            "/pilot/0/wall_ns_per_call",
            "/pilot/0/inject_ns/0",
            "/detection/0/effect_pct",
            "/detection/0/id",
            "/detection/0/inject_ns",
            "/detection/0/observed_ratio",
            "/detection/0/significant/of",
            "/detection/0/gate/low",
            "/mde/0/id",
            "/mde/0/sd_log_ratio",
            "/mde/0/pct",
            "/mde/0/at_blocks/0/1",
            "/mde/0/full_suite_at_blocks/0/1",
            "/mde/0/gate_confirms_pct",
            "/trials/0/configs/0/ratio",
            "/trials/0/configs/0/ci_low",
            "/trials/0/configs/0/ci_high",
            "/trials/0/configs/0/p_adjusted",
            "/trials/0/configs/0/gate_verdict",
            "/trials/0/configs/0/significant",
            "/trials/0/configs/0/sd_log_ratio",
            "/trials/0/configs/0/log_ratios/0",
        ];
        let counting = [
            "/settings/counter_runs",
            "/settings/counter_count",
            "/settings/pilot_runs",
            "/settings/valgrind",
            "/settings/realtime",
            "/pilot/0/per_call/instructions_per_call",
            "/pilot/0/probe_loops",
            "/pilot/0/instructions_per_loop",
            "/pilot/0/injection_offset",
            "/pilot/0/inject_loops/0",
            "/family/reported_pairs",
            "/family/full_suite_reported_pairs",
            "/configs/0/id",
            "/configs/0/reproducible",
            "/configs/0/metrics/0/metric",
            "/configs/0/metrics/0/per_call",
            "/configs/0/metrics/0/gated",
            "/configs/0/metrics/0/threshold",
            "/configs/0/metrics/0/false_alarms_significant/of",
            "/configs/0/metrics/0/false_alarms_gate/count",
            "/configs/0/metrics/0/detection/0/effect_pct",
            "/configs/0/metrics/0/detection/0/inject_loops",
            "/configs/0/metrics/0/detection/0/expected_ratio",
            "/configs/0/metrics/0/detection/0/observed_ratio",
            "/configs/0/metrics/0/detection/0/significant/count",
            "/configs/0/metrics/0/detection/0/gate/high",
            "/configs/0/metrics/0/mde/sd_log",
            "/configs/0/metrics/0/mde/sd_df",
            "/configs/0/metrics/0/mde/sd_used",
            "/configs/0/metrics/0/mde/runs",
            "/configs/0/metrics/0/mde/family_pairs",
            "/configs/0/metrics/0/mde/pct",
            "/configs/0/metrics/0/mde/at_runs/0/1",
            "/configs/0/metrics/0/mde/full_suite_pct",
            "/configs/0/metrics/0/mde/gate_confirms_pct",
            "/configs/0/metrics/0/not_reproducible",
            "/trials/0/configs/0/inject_loops",
            "/trials/0/configs/0/metrics/0/metric",
            "/trials/0/configs/0/metrics/0/side_a/0",
            "/trials/0/configs/0/metrics/0/side_b/0",
            "/trials/0/configs/0/metrics/0/ratio",
            "/trials/0/configs/0/metrics/0/ci_low",
            "/trials/0/configs/0/metrics/0/ci_high",
            "/trials/0/configs/0/metrics/0/p_adjusted",
            "/trials/0/configs/0/metrics/0/gate_verdict",
            "/trials/0/configs/0/metrics/0/significant_verdict",
        ];
        for (record, kind, own) in [
            (timing_fixture(), "handoff-bench-calibration", &timing[..]),
            (
                counting_fixture(),
                "handoff-bench-counter-calibration",
                &counting[..],
            ),
        ] {
            let json = serde_json::to_value(&record).unwrap();
            assert_eq!(
                (json["kind"].as_str(), json["schema"].as_u64()),
                (Some(kind), Some(2))
            );
            let missing: Vec<&str> = common
                .iter()
                .chain(own)
                .filter(|p| json.pointer(p).is_none())
                .copied()
                .collect();
            assert!(missing.is_empty(), "{kind} lacks {missing:?}");
        }
    }
}
