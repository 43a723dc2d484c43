//! One JSON line of the `handoff-bench` binary (`docs/book/src/formats/json-line.md`), parsed
//! and checked.
//!
//! Required fields are typed; every other field (present or future: `gap_us`, `vcsw_other`,
//! `threads`, ...) is kept verbatim in `extra`, so a stored sample round-trips unchanged.
//! The golden line both sides test against: `tests/fixtures/json-line/` (here by
//! `xtask/tests/json_line.rs` and `xtask/tests/real_binary.rs`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

/// The version of the binary's JSON line this crate understands.
pub const MEASUREMENT_SCHEMA: u32 = 1;

/// One configuration measured in one process. Totals over the timed window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub schema: u32,
    pub id: String,
    pub runtime: String,
    pub handoff: String,
    /// Calls made in the timed window.
    pub count: u64,
    pub in_flight: u64,
    pub work: String,
    pub wall_ns: u64,
    pub cpu_total_ns: u64,
    pub cpu_loop_ns: u64,
    pub cpu_worker_ns: u64,
    pub cpu_other_ns: u64,
    pub vcsw_loop: u64,
    pub vcsw_worker: u64,
    pub ivcsw_loop: u64,
    pub ivcsw_worker: u64,
    /// Every other field of the line, kept as it came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Error)]
pub enum MeasurementError {
    #[error("not a valid measurement line: {0}")]
    Json(#[from] serde_json::Error),
    #[error("measurement schema {found}, this xtask understands schema {MEASUREMENT_SCHEMA}")]
    Schema { found: u32 },
    #[error("measurement of {id} has count 0, so nothing can be computed per call")]
    ZeroCount { id: String },
}

impl Measurement {
    /// Parses and checks one JSON line.
    pub fn parse_line(line: &str) -> Result<Self, MeasurementError> {
        let measurement: Measurement = serde_json::from_str(line)?;
        measurement.validate()?;
        Ok(measurement)
    }

    /// Checks what serde cannot: the schema version and a usable count.
    pub fn validate(&self) -> Result<(), MeasurementError> {
        if self.schema != MEASUREMENT_SCHEMA {
            return Err(MeasurementError::Schema { found: self.schema });
        }
        if self.count == 0 {
            return Err(MeasurementError::ZeroCount {
                id: self.id.clone(),
            });
        }
        Ok(())
    }

    /// Whether the binary reports its threads pinned by role (`"pinned": true`; binaries
    /// from before `--pin` report nothing, which counts as unpinned).
    pub fn pinned(&self) -> bool {
        self.extra.get("pinned").and_then(Value::as_bool) == Some(true)
    }

    /// The window's index in its serving process (`--serve`, lock-step sampling); `None`
    /// for a normal run's one window.
    pub fn slice(&self) -> Option<u64> {
        self.extra.get("slice").and_then(Value::as_u64)
    }

    /// Voluntary context switches of the whole process: loop + worker + `vcsw_other` when the
    /// binary reports it (it is optional in the JSON line).
    pub fn vcsw_total(&self) -> u64 {
        let other = self
            .extra
            .get("vcsw_other")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        self.vcsw_loop + self.vcsw_worker + other
    }
}

/// Instructions inside the window per role (the binary's `instructions_*` fields, present
/// when it ran under callgrind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instructions {
    pub loop_threads: u64,
    pub worker_threads: u64,
    pub other_threads: u64,
}

impl Instructions {
    pub fn total(&self) -> u64 {
        self.loop_threads + self.worker_threads + self.other_threads
    }
}

impl Measurement {
    /// The instruction counts, when the line has all three (a run under callgrind).
    pub fn instructions(&self) -> Option<Instructions> {
        let field = |name: &str| self.extra.get(name).and_then(Value::as_u64);
        Some(Instructions {
            loop_threads: field("instructions_loop")?,
            worker_threads: field("instructions_worker")?,
            other_threads: field("instructions_other")?,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const EXAMPLE: &str = r#"{"schema":1,"id":"tokio-current/dedicated","runtime":"tokio-current","handoff":"dedicated","count":250000,"in_flight":1,"work":"zero","gap_us":0,"inject_ns":0,"wall_ns":4100000000,"cpu_total_ns":5200000000,"cpu_loop_ns":2600000000,"cpu_worker_ns":2500000000,"cpu_other_ns":100000000,"cpu_process_ns":5199000000,"vcsw_loop":250000,"vcsw_worker":250000,"vcsw_other":3,"ivcsw_loop":10,"ivcsw_worker":12,"ivcsw_other":0,"threads":3}"#;

    #[test]
    fn parses_the_contract_example_and_keeps_unknown_fields() {
        let m = Measurement::parse_line(EXAMPLE).unwrap();
        assert_eq!(m.id, "tokio-current/dedicated");
        assert_eq!(m.extra["threads"], 3);
        assert_eq!(m.vcsw_total(), 500_003);
        let back: Value = serde_json::to_value(&m).unwrap();
        let original: Value = serde_json::from_str(EXAMPLE).unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn optional_fields_may_be_absent_but_required_ones_not() {
        let minimal = r#"{"schema":1,"id":"floor/park","runtime":"floor","handoff":"park","count":10,"in_flight":1,"work":"zero","wall_ns":1,"cpu_total_ns":1,"cpu_loop_ns":1,"cpu_worker_ns":0,"cpu_other_ns":0,"vcsw_loop":0,"vcsw_worker":0,"ivcsw_loop":0,"ivcsw_worker":0}"#;
        assert_eq!(Measurement::parse_line(minimal).unwrap().vcsw_total(), 0);
        let missing = minimal.replace(r#""wall_ns":1,"#, "");
        let err = Measurement::parse_line(&missing).unwrap_err().to_string();
        assert!(err.contains("missing field `wall_ns`"), "{err}");
        let v2 = minimal.replace(r#""schema":1"#, r#""schema":2"#);
        assert!(matches!(
            Measurement::parse_line(&v2),
            Err(MeasurementError::Schema { found: 2 })
        ));
    }
}
