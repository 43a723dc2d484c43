//! One configuration's result: the JSON line (`docs/book/src/formats/json-line.md`).

use serde::{Deserialize, Serialize};

use crate::driver::Shape;
use crate::measure::Usage;
use crate::work::Work;

/// The version of the JSON line format.
pub const SCHEMA: u32 = 1;

/// What one configuration cost over its timed window (totals, not per call).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measurement {
    /// Format version, [`SCHEMA`].
    pub schema: u32,
    /// `runtime/handoff`.
    pub id: String,
    /// The runtime part of the id (`floor` for the floors).
    pub runtime: String,
    /// The handoff part of the id.
    pub handoff: String,
    /// Calls inside the timed window.
    pub count: u64,
    /// Calls kept outstanding at once.
    pub in_flight: u64,
    /// The `--work` spec.
    pub work: String,
    /// Asynchronous wait before each call, microseconds.
    pub gap_us: u64,
    /// Busy work injected on the async side before each call, nanoseconds.
    pub inject_ns: u64,
    /// Whether the threads were pinned by role (`--pin` on a machine with two CPUs or more).
    pub pinned: bool,
    /// Wall time of the window.
    pub wall_ns: u64,
    /// CPU time of all threads (user + system): the sum of the three roles.
    pub cpu_total_ns: u64,
    /// CPU time of the threads that poll futures.
    pub cpu_loop_ns: u64,
    /// CPU time of the threads that run the calls.
    pub cpu_worker_ns: u64,
    /// CPU time of every other thread.
    pub cpu_other_ns: u64,
    /// The kernel's process CPU clock over the window: an independent cross-check of
    /// `cpu_total_ns` (it may lag by one tick for threads running on the other core).
    pub cpu_process_ns: u64,
    /// Voluntary context switches of loop threads.
    pub vcsw_loop: u64,
    /// Voluntary context switches of worker threads.
    pub vcsw_worker: u64,
    /// Voluntary context switches of other threads.
    pub vcsw_other: u64,
    /// Involuntary context switches of loop threads.
    pub ivcsw_loop: u64,
    /// Involuntary context switches of worker threads.
    pub ivcsw_worker: u64,
    /// Involuntary context switches of other threads.
    pub ivcsw_other: u64,
    /// Threads that ran during the window.
    pub threads: u64,
    /// Iterations of busy arithmetic injected on the async side before each call
    /// (`--inject-loops`); absent when zero, so lines of earlier versions read the same.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub inject_loops: u64,
    /// Instructions executed by loop threads inside the window, waiting excluded; only when
    /// run under callgrind ([`crate::counters`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions_loop: Option<u64>,
    /// The same for worker threads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions_worker: Option<u64>,
    /// The same for every other thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions_other: Option<u64>,
    /// In serve mode (`--serve`), the window's index in its process (0-based); absent in a
    /// normal run, whose one window is the whole process's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice: Option<u64>,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// The two parts of a configuration id, `runtime/handoff` (the caller's names: this module
/// sits below the configurations it describes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdParts<'a> {
    /// The runtime part (`floor` for the floors).
    pub runtime: &'a str,
    /// The handoff part.
    pub handoff: &'a str,
}

fn nanos(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

impl Measurement {
    /// The JSON line for the configuration named `id` run with `shape` and `work`.
    pub fn new(id: IdParts<'_>, work: Work, shape: Shape, usage: &Usage) -> Self {
        Self {
            schema: SCHEMA,
            id: format!("{}/{}", id.runtime, id.handoff),
            runtime: id.runtime.to_owned(),
            handoff: id.handoff.to_owned(),
            count: shape.count,
            in_flight: shape.in_flight,
            work: work.to_string(),
            gap_us: u64::try_from(shape.gap.as_micros()).unwrap_or(u64::MAX),
            inject_ns: nanos(shape.inject),
            pinned: shape.pin && crate::pinning::pinned(),
            wall_ns: nanos(usage.wall),
            cpu_total_ns: nanos(usage.cpu_total()),
            cpu_loop_ns: nanos(usage.loop_threads.cpu),
            cpu_worker_ns: nanos(usage.worker_threads.cpu),
            cpu_other_ns: nanos(usage.other_threads.cpu),
            cpu_process_ns: nanos(usage.cpu_process),
            vcsw_loop: usage.loop_threads.voluntary_switches,
            vcsw_worker: usage.worker_threads.voluntary_switches,
            vcsw_other: usage.other_threads.voluntary_switches,
            ivcsw_loop: usage.loop_threads.involuntary_switches,
            ivcsw_worker: usage.worker_threads.involuntary_switches,
            ivcsw_other: usage.other_threads.involuntary_switches,
            threads: usage.threads as u64,
            inject_loops: shape.inject_loops,
            instructions_loop: usage.instructions.map(|i| i.loop_threads),
            instructions_worker: usage.instructions.map(|i| i.worker_threads),
            instructions_other: usage.instructions.map(|i| i.other_threads),
            slice: None,
        }
    }

    /// Wall time per call, microseconds.
    pub fn wall_us_per_call(&self) -> f64 {
        self.wall_ns as f64 / 1e3 / self.count as f64
    }

    /// CPU time (all threads) per call, microseconds.
    pub fn cpu_us_per_call(&self) -> f64 {
        self.cpu_total_ns as f64 / 1e3 / self.count as f64
    }

    /// Voluntary context switches (all threads) per call.
    pub fn voluntary_switches_per_call(&self) -> f64 {
        (self.vcsw_loop + self.vcsw_worker + self.vcsw_other) as f64 / self.count as f64
    }

    /// Involuntary context switches (all threads) per call.
    pub fn involuntary_switches_per_call(&self) -> f64 {
        (self.ivcsw_loop + self.ivcsw_worker + self.ivcsw_other) as f64 / self.count as f64
    }
}
