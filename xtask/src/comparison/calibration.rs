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

    #[test]
    fn the_kind_tells_the_instruments_apart() {
        assert_eq!(timing_fixture().kind, "handoff-bench-calibration");
        assert_eq!(counting_fixture().kind, "handoff-bench-counter-calibration");
    }
}
