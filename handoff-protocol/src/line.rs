//! The JSON line: what one configuration cost over one timed window (totals, not per call),
//! one JSON object a line on the binary's stdout (`--format json`, serve mode's windows).
//!
//! Fields of the line's first version are required; every field added since is optional
//! here, because the gate reads lines of older binaries (a paired run builds an older base)
//! as well as newer ones. A field this crate does not know (from a newer binary) is kept in
//! [`Measurement::unknown`] and written back unchanged, never read.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::id;

/// The version of the line's format.
pub const SCHEMA: u32 = 1;

/// One configuration measured over one timed window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Format version, [`SCHEMA`].
    pub schema: u32,
    /// `runtime/handoff` ([`crate::ConfigId`]).
    pub id: String,
    /// The runtime part of the id (`floor` for the floors).
    pub runtime: String,
    /// The handoff part of the id.
    pub handoff: String,
    /// Calls inside the timed window.
    pub count: u64,
    /// Calls kept outstanding at once.
    pub in_flight: u64,
    /// The `--work` spec ([`crate::Work`]).
    pub work: String,
    /// Asynchronous wait before each call, microseconds (`--gap`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap_us: Option<u64>,
    /// Busy work injected on the async side before each call, nanoseconds (`--inject-ns`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inject_ns: Option<u64>,
    /// Whether the threads were pinned by role (`--pin` on a machine with two CPUs or
    /// more); absent from binaries older than pinning, which never pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
    /// Wall time of the window, ns.
    pub wall_ns: u64,
    /// CPU time of all threads (user + system), ns: the sum of the three roles.
    pub cpu_total_ns: u64,
    /// CPU time of the threads that poll futures (role `loop`), ns.
    pub cpu_loop_ns: u64,
    /// CPU time of the threads that run the calls (role `worker`), ns.
    pub cpu_worker_ns: u64,
    /// CPU time of every other thread (role `other`), ns.
    pub cpu_other_ns: u64,
    /// The kernel's process CPU clock over the window, ns: an independent cross-check of
    /// `cpu_total_ns` (it may lag by one tick for threads running on the other core).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_process_ns: Option<u64>,
    /// Voluntary context switches of loop threads.
    pub vcsw_loop: u64,
    /// Voluntary context switches of worker threads.
    pub vcsw_worker: u64,
    /// Voluntary context switches of other threads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcsw_other: Option<u64>,
    /// Involuntary context switches of loop threads.
    pub ivcsw_loop: u64,
    /// Involuntary context switches of worker threads.
    pub ivcsw_worker: u64,
    /// Involuntary context switches of other threads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ivcsw_other: Option<u64>,
    /// Threads that ran during the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u64>,
    /// Iterations of busy arithmetic injected on the async side before each call
    /// (`--inject-loops`); absent when zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inject_loops: Option<u64>,
    /// Instructions executed by loop threads inside the window, waiting excluded; only when
    /// run under callgrind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions_loop: Option<u64>,
    /// The same for worker threads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions_worker: Option<u64>,
    /// The same for every other thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions_other: Option<u64>,
    /// In serve mode, the window's index in its process (0-based); absent in a normal run,
    /// whose one window is the whole process's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice: Option<u64>,
    /// Fields of a newer binary, kept as they came and written back unchanged; never read.
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

/// Why a line is refused.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error("not a valid measurement line: {0}")]
    Json(#[from] serde_json::Error),
    #[error("measurement schema {found}, this version understands schema {SCHEMA}")]
    Schema { found: u32 },
    #[error(transparent)]
    Id(#[from] id::IdError),
    #[error("measurement of {id}: its id is not its runtime {runtime:?} and handoff {handoff:?}")]
    IdParts {
        id: String,
        runtime: String,
        handoff: String,
    },
    #[error("measurement of {id} has count 0, so nothing can be computed per call")]
    ZeroCount { id: String },
    #[error("measurement of {id}: the {what} add up to more than a 64-bit count can hold")]
    Overflow { id: String, what: &'static str },
}

/// Instructions inside the window per role (present when the line was measured under
/// callgrind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instructions {
    pub loop_threads: u64,
    pub worker_threads: u64,
    pub other_threads: u64,
}

impl Instructions {
    /// Every role's instructions (a checked line's sum never overflows).
    pub fn total(&self) -> u64 {
        self.loop_threads
            .saturating_add(self.worker_threads)
            .saturating_add(self.other_threads)
    }
}

/// `a + b + c`, or `None` when it does not fit.
fn sum3(a: u64, b: u64, c: u64) -> Option<u64> {
    a.checked_add(b)?.checked_add(c)
}

impl Measurement {
    /// Parses and checks one JSON line.
    pub fn parse_line(line: &str) -> Result<Self, LineError> {
        let measurement: Measurement = serde_json::from_str(line)?;
        measurement.validate()?;
        Ok(measurement)
    }

    /// Checks what serde cannot: the schema version, the id, a usable count, and totals
    /// that fit (a hostile line's `u64::MAX` switches must not wrap the sum).
    pub fn validate(&self) -> Result<(), LineError> {
        if self.schema != SCHEMA {
            return Err(LineError::Schema { found: self.schema });
        }
        let id: crate::ConfigId = self.id.parse()?;
        if id.runtime() != self.runtime || id.handoff() != self.handoff {
            return Err(LineError::IdParts {
                id: self.id.clone(),
                runtime: self.runtime.chars().take(80).collect(),
                handoff: self.handoff.chars().take(80).collect(),
            });
        }
        if self.count == 0 {
            return Err(LineError::ZeroCount {
                id: self.id.clone(),
            });
        }
        let overflow = |what| LineError::Overflow {
            id: self.id.clone(),
            what,
        };
        let other = |value: Option<u64>| value.unwrap_or(0);
        sum3(self.vcsw_loop, self.vcsw_worker, other(self.vcsw_other))
            .ok_or_else(|| overflow("voluntary context switches"))?;
        sum3(self.ivcsw_loop, self.ivcsw_worker, other(self.ivcsw_other))
            .ok_or_else(|| overflow("involuntary context switches"))?;
        if let Some(i) = self.instructions() {
            sum3(i.loop_threads, i.worker_threads, i.other_threads)
                .ok_or_else(|| overflow("instruction counts"))?;
        }
        Ok(())
    }

    /// Whether the threads were pinned by role (binaries from before pinning say nothing,
    /// which counts as unpinned).
    pub fn pinned(&self) -> bool {
        self.pinned == Some(true)
    }

    /// Voluntary context switches of every role.
    pub fn vcsw_total(&self) -> u64 {
        self.vcsw_loop
            .saturating_add(self.vcsw_worker)
            .saturating_add(self.vcsw_other.unwrap_or(0))
    }

    /// Involuntary context switches of every role.
    pub fn ivcsw_total(&self) -> u64 {
        self.ivcsw_loop
            .saturating_add(self.ivcsw_worker)
            .saturating_add(self.ivcsw_other.unwrap_or(0))
    }

    /// The instruction counts, when the line has all three (a run under callgrind).
    pub fn instructions(&self) -> Option<Instructions> {
        Some(Instructions {
            loop_threads: self.instructions_loop?,
            worker_threads: self.instructions_worker?,
            other_threads: self.instructions_other?,
        })
    }

    /// Wall time per call, microseconds.
    pub fn wall_us_per_call(&self) -> f64 {
        self.wall_ns as f64 / 1e3 / self.count as f64
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A complete line of today's binary.
    pub const EXAMPLE: &str = r#"{"schema":1,"id":"tokio-current/dedicated","runtime":"tokio-current","handoff":"dedicated","count":250000,"in_flight":1,"work":"zero","gap_us":0,"inject_ns":0,"wall_ns":4100000000,"cpu_total_ns":5200000000,"cpu_loop_ns":2600000000,"cpu_worker_ns":2500000000,"cpu_other_ns":100000000,"cpu_process_ns":5199000000,"vcsw_loop":250000,"vcsw_worker":250000,"vcsw_other":3,"ivcsw_loop":10,"ivcsw_worker":12,"ivcsw_other":0,"threads":3}"#;

    /// The line of the first version: required fields only.
    const MINIMAL: &str = r#"{"schema":1,"id":"floor/park","runtime":"floor","handoff":"park","count":10,"in_flight":1,"work":"zero","wall_ns":1,"cpu_total_ns":1,"cpu_loop_ns":1,"cpu_worker_ns":0,"cpu_other_ns":0,"vcsw_loop":0,"vcsw_worker":0,"ivcsw_loop":0,"ivcsw_worker":0}"#;

    #[test]
    fn a_line_round_trips_with_a_newer_binarys_fields_kept_unread() {
        let newer = EXAMPLE.replace(r#""threads":3"#, r#""threads":3,"steal_ns":42"#);
        let m = Measurement::parse_line(&newer).unwrap();
        assert_eq!(m.threads, Some(3));
        assert_eq!(m.vcsw_total(), 500_003);
        assert_eq!(m.unknown["steal_ns"], 42);
        let back: Value = serde_json::to_value(&m).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(&newer).unwrap());
    }

    #[test]
    fn optional_fields_may_be_absent_but_required_ones_not() {
        let m = Measurement::parse_line(MINIMAL).unwrap();
        assert_eq!(
            (m.vcsw_total(), m.pinned(), m.instructions()),
            (0, false, None)
        );
        assert_eq!(serde_json::to_string(&m).unwrap(), MINIMAL);
        let missing = MINIMAL.replace(r#""wall_ns":1,"#, "");
        let err = Measurement::parse_line(&missing).unwrap_err().to_string();
        assert!(err.contains("missing field `wall_ns`"), "{err}");
        let v2 = MINIMAL.replace(r#""schema":1"#, r#""schema":2"#);
        assert!(matches!(
            Measurement::parse_line(&v2),
            Err(LineError::Schema { found: 2 })
        ));
    }

    #[test]
    fn hostile_numbers_and_ids_are_refused_not_wrapped() {
        let huge = MINIMAL.replace(
            r#""vcsw_loop":0,"vcsw_worker":0"#,
            r#""vcsw_loop":18446744073709551615,"vcsw_worker":1"#,
        );
        let err = Measurement::parse_line(&huge).unwrap_err().to_string();
        assert!(
            err.contains("voluntary context switches add up to more"),
            "{err}"
        );
        let counted = format!(
            "{},\"instructions_loop\":18446744073709551615,\"instructions_worker\":1,\"instructions_other\":0}}",
            MINIMAL.trim_end_matches('}')
        );
        assert!(matches!(
            Measurement::parse_line(&counted),
            Err(LineError::Overflow {
                what: "instruction counts",
                ..
            })
        ));
        let zero = MINIMAL.replace(r#""count":10"#, r#""count":0"#);
        assert!(matches!(
            Measurement::parse_line(&zero),
            Err(LineError::ZeroCount { .. })
        ));
        let bad_id = MINIMAL.replace(r#""id":"floor/park""#, r#""id":"<b>/park""#);
        assert!(matches!(
            Measurement::parse_line(&bad_id),
            Err(LineError::Id(_))
        ));
        let mismatch = MINIMAL.replace(r#""handoff":"park""#, r#""handoff":"spin""#);
        assert!(matches!(
            Measurement::parse_line(&mismatch),
            Err(LineError::IdParts { .. })
        ));
        let negative = MINIMAL.replace(r#""wall_ns":1"#, r#""wall_ns":-1"#);
        assert!(matches!(
            Measurement::parse_line(&negative),
            Err(LineError::Json(_))
        ));
    }
}
