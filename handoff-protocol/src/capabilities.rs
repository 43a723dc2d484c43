//! What a binary supports: its flags, work kinds and JSON-line fields, printed as one JSON
//! object by `handoff-bench --capabilities`. The gate asks each binary once (a paired run's
//! base may be older than any flag) instead of guessing from its `--help`.

use serde::{Deserialize, Serialize};
use strum::IntoEnumIterator as _;

use crate::line::{Measurement, SCHEMA};
use crate::work::KINDS;

/// A flag of the binary that the gate may hand it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    strum::Display,
    strum::EnumIter,
    strum::IntoStaticStr,
)]
pub enum Flag {
    #[strum(serialize = "--count")]
    Count,
    #[strum(serialize = "--work")]
    Work,
    #[strum(serialize = "--in-flight")]
    InFlight,
    #[strum(serialize = "--gap")]
    Gap,
    #[strum(serialize = "--inject-ns")]
    InjectNs,
    /// Came with instruction counting: a binary without it cannot count.
    #[strum(serialize = "--inject-loops")]
    InjectLoops,
    #[strum(serialize = "--pin")]
    Pin,
    #[strum(serialize = "--only")]
    Only,
    #[strum(serialize = "--format")]
    Format,
    #[strum(serialize = "--list")]
    List,
    /// Came with serve mode.
    #[strum(serialize = "--warm-up-ms")]
    WarmUpMs,
    #[strum(serialize = "--serve")]
    Serve,
    #[strum(serialize = "--capabilities")]
    Capabilities,
}

/// What one binary supports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// The JSON line's schema ([`SCHEMA`]).
    pub schema: u32,
    /// The flags it accepts (strings, so a newer binary's flags read fine).
    pub flags: Vec<String>,
    /// The `--work` kinds it performs, by syntax (`spin:NS`).
    pub work: Vec<String>,
    /// The JSON-line fields it may write (optional ones only when it measures them).
    pub fields: Vec<String>,
}

impl Capabilities {
    /// What a binary built with this version of the protocol supports.
    pub fn of_this_version() -> Self {
        Capabilities {
            schema: SCHEMA,
            flags: Flag::iter().map(|f| f.to_string()).collect(),
            work: KINDS.iter().map(|k| k.syntax.to_owned()).collect(),
            fields: Measurement::field_names(),
        }
    }

    /// Whether the binary accepts `flag`.
    pub fn supports(&self, flag: Flag) -> bool {
        let name: &str = flag.into();
        self.flags.iter().any(|f| f == name)
    }

    /// Whether, run under callgrind, its lines carry instruction counts per role.
    pub fn counts_instructions(&self) -> bool {
        self.supports(Flag::InjectLoops) && self.fields.iter().any(|f| f == "instructions_loop")
    }

    /// What both of two binaries support (a paired run hands both sides the same flags).
    pub fn common(&self, other: &Capabilities) -> Capabilities {
        let both = |a: &[String], b: &[String]| -> Vec<String> {
            a.iter().filter(|x| b.contains(x)).cloned().collect()
        };
        Capabilities {
            schema: self.schema.min(other.schema),
            flags: both(&self.flags, &other.flags),
            work: both(&self.work, &other.work),
            fields: both(&self.fields, &other.fields),
        }
    }
}

impl Measurement {
    /// Every field name a line of this version may hold, sorted.
    pub fn field_names() -> Vec<String> {
        let full = Measurement {
            schema: SCHEMA,
            id: "a/b".into(),
            runtime: "a".into(),
            handoff: "b".into(),
            count: 1,
            in_flight: 1,
            work: "zero".into(),
            gap_us: Some(0),
            inject_ns: Some(0),
            pinned: Some(false),
            wall_ns: 0,
            cpu_total_ns: 0,
            cpu_loop_ns: 0,
            cpu_worker_ns: 0,
            cpu_other_ns: 0,
            cpu_process_ns: Some(0),
            vcsw_loop: 0,
            vcsw_worker: 0,
            vcsw_other: Some(0),
            ivcsw_loop: 0,
            ivcsw_worker: 0,
            ivcsw_other: Some(0),
            threads: Some(0),
            inject_loops: Some(0),
            instructions_loop: Some(0),
            instructions_worker: Some(0),
            instructions_other: Some(0),
            slice: Some(0),
            unknown: Default::default(),
        };
        match serde_json::to_value(full) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => unreachable!("a measurement serializes to an object"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_version_supports_every_flag_kind_and_field() {
        let caps = Capabilities::of_this_version();
        assert!(Flag::iter().all(|f| caps.supports(f)));
        assert!(caps.counts_instructions());
        assert_eq!(caps.work.len(), KINDS.len());
        assert!(caps.fields.iter().any(|f| f == "schema"));
        assert!(caps.fields.iter().any(|f| f == "slice"));
        assert!(!caps.fields.iter().any(|f| f == "unknown"));
        let json = serde_json::to_string(&caps).unwrap();
        assert_eq!(serde_json::from_str::<Capabilities>(&json).unwrap(), caps);
    }

    #[test]
    fn two_binaries_share_what_both_support() {
        let new = Capabilities::of_this_version();
        let old = Capabilities {
            schema: 1,
            flags: vec!["--count".into(), "--pin".into(), "--future".into()],
            work: vec!["zero".into()],
            fields: vec!["schema".into()],
        };
        let both = new.common(&old);
        assert!(both.supports(Flag::Pin) && both.supports(Flag::Count));
        assert!(!both.supports(Flag::Serve) && !both.counts_instructions());
        assert_eq!(both.work, ["zero"]);
        assert_eq!(Flag::WarmUpMs.to_string(), "--warm-up-ms");
    }
}
