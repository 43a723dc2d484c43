//! What a calibration was asked to do: the settings `--json` records, and the instrument,
//! all that differs between calibrating the timing and the instruction counts (the module
//! docs of `comparison::calibration`).

use serde::Serialize;

use crate::comparison::{PairedEstimator, VerdictPolicy};
use crate::model::metric::Metric;
use crate::model::paired_record::Sampling;

/// The `--inject-loops` of the counting pilot's probing runs: large against the loop's own
/// instructions per call (hundreds to thousands) so the slope between them is exact, small
/// enough to add about a second to a run at the default --counter-count.
pub const PROBE_LOOPS: [u64; 2] = [1000, 2000];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationSettings {
    pub only: Vec<String>,
    pub ids: Vec<String>,
    pub trials: u32,
    pub work: String,
    pub in_flight: u64,
    pub effects_pct: Vec<f64>,
    pub pilot_runs: u32,
    pub policy: VerdictPolicy,
    #[serde(flatten)]
    pub instrument: Instrument,
}

/// The test whose minimum detectable effect a calibration reports (`mde`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Design {
    /// The paired test over blocks, with the estimator whose spread it uses.
    Blocks(PairedEstimator),
    /// Welch's t over runs a side.
    Runs,
}

/// How a calibration's trials measure: all that differs between calibrating the timing and
/// the instruction counts (module docs), recorded in the settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Instrument {
    Timing(Timing),
    Counters(Counting),
}

/// Paired sessions, as `bench --against` runs them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timing {
    /// Blocks per trial (`--blocks`).
    pub blocks: u32,
    /// Calls per process (`--count`).
    pub count: u64,
    /// Threads pinned by role (`--pin`, unless `--no-pin`).
    pub pin: bool,
    /// The sampling design (`--sampling`).
    pub sampling: Sampling,
    /// `--warm-up` in milliseconds, when given (the binary's default is 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warm_up_ms: Option<u64>,
    /// The paired estimator (`--estimator`).
    pub estimator: PairedEstimator,
}

/// Counting runs under callgrind, as `bench --against --counters` makes them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counting {
    /// `--counter-runs`: runs a side per trial.
    pub counter_runs: u32,
    /// `--counter-count`: calls per counting run.
    pub counter_count: u64,
    /// `valgrind --version` (or the test's stand-in), and whether runs had FIFO priority.
    pub valgrind: String,
    pub realtime: bool,
}

impl Instrument {
    /// The record's `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Instrument::Timing(_) => "handoff-bench-calibration",
            Instrument::Counters(_) => "handoff-bench-counter-calibration",
        }
    }

    /// The metrics a trial judges per configuration, the headline first.
    pub fn metrics(&self) -> &'static [Metric] {
        match self {
            Instrument::Timing(_) => &[Metric::Wall],
            Instrument::Counters(_) => &Metric::COUNTERS,
        }
    }

    /// The metrics whose pairs make the Holm families the MDE assumes: a timing trial
    /// compares the timing metrics, and a count's family in the gate holds every metric.
    pub fn family_metrics(&self) -> Vec<Metric> {
        match self {
            Instrument::Timing(_) => Metric::TIMING.to_vec(),
            Instrument::Counters(_) => Metric::iter().collect(),
        }
    }

    /// The test whose MDE is computed, and its size per trial (blocks, or runs a side).
    pub fn design(&self) -> (Design, u32) {
        match self {
            Instrument::Timing(t) => (Design::Blocks(t.estimator), t.blocks),
            Instrument::Counters(c) => (Design::Runs, c.counter_runs),
        }
    }

    /// The `--inject-loops` of the pilot's probing runs besides its plain ones.
    pub fn probe_loops(&self) -> &'static [u64] {
        match self {
            Instrument::Timing(_) => &[],
            Instrument::Counters(_) => &PROBE_LOOPS,
        }
    }
}
