//! The metrics derived from each measurement, all per call and all smaller-is-better: the
//! timing metrics of every run ([`Metric::TIMING`]), and the instruction counts of the runs
//! under callgrind ([`Metric::COUNTERS`], from a result file's `counter_samples`);
//! [`Metric::iter`] gives all of them, in report order.
//!
//! Each metric has three names, declared once on its variant: its key in result files (with
//! its unit), its column label (python-async-bench's table), and its command-line name
//! (`--gate wall:5`, the variant in kebab case).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use strum::EnumProperty as _;

use crate::model::measurement::Measurement;

/// A per-call quantity computed from one measurement.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    strum::EnumIter,
    strum::IntoStaticStr,
    strum::EnumProperty,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Metric {
    /// Wall time per call, ns.
    #[strum(props(key = "wall_ns_per_call", label = "Wall"))]
    Wall,
    /// CPU time of every thread per call, ns.
    #[strum(props(key = "cpu_total_ns_per_call", label = "CpuTotal"))]
    CpuTotal,
    /// CPU time of the threads that poll futures per call, ns.
    #[strum(props(key = "cpu_loop_ns_per_call", label = "CpuEvtLoop"))]
    CpuLoop,
    /// CPU time of the threads that run the calls per call, ns.
    #[strum(props(key = "cpu_worker_ns_per_call", label = "CpuWorker"))]
    CpuWorker,
    /// Voluntary context switches of the whole process per call.
    #[strum(props(key = "vcsw_per_call", label = "Vcsw"))]
    Vcsw,
    /// Instructions of every thread inside the window, waiting excluded (under callgrind).
    #[strum(props(key = "instructions_per_call", label = "Instr"))]
    Instructions,
    /// Instructions of the threads that poll futures.
    #[strum(props(key = "instructions_loop_per_call", label = "InstrLoop"))]
    InstructionsLoop,
    /// Instructions of the threads that run the calls.
    #[strum(props(key = "instructions_worker_per_call", label = "InstrWorker"))]
    InstructionsWorker,
}

/// The unit of a metric's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    NanosPerCall,
    SwitchesPerCall,
    InstructionsPerCall,
}

impl Metric {
    /// The metrics of every (timing) run, in report order.
    pub const TIMING: [Metric; 5] = [
        Metric::Wall,
        Metric::CpuTotal,
        Metric::CpuLoop,
        Metric::CpuWorker,
        Metric::Vcsw,
    ];

    /// The metrics of the runs under callgrind (`bench --counters`), in report order.
    pub const COUNTERS: [Metric; 3] = [
        Metric::Instructions,
        Metric::InstructionsLoop,
        Metric::InstructionsWorker,
    ];

    /// Every metric, in report order: [`Metric::TIMING`], then [`Metric::COUNTERS`].
    pub fn iter() -> impl Iterator<Item = Metric> {
        <Metric as strum::IntoEnumIterator>::iter()
    }

    /// Whether the metric comes from the runs under callgrind.
    pub fn is_counter(self) -> bool {
        Metric::COUNTERS.contains(&self)
    }

    /// The field name in result files (with its unit).
    pub fn key(self) -> &'static str {
        self.get_str("key").unwrap_or_default()
    }

    /// The column header of python-async-bench's table.
    pub fn label(self) -> &'static str {
        self.get_str("label").unwrap_or_default()
    }

    /// Short name for the command line (`--gate wall:5`).
    pub fn cli_name(self) -> &'static str {
        self.into()
    }

    /// `wall, cpu-total, ...`: every command-line name, for help texts and errors.
    pub fn cli_names() -> String {
        Metric::iter()
            .map(Metric::cli_name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn unit(self) -> Unit {
        match self {
            Metric::Vcsw => Unit::SwitchesPerCall,
            Metric::Instructions | Metric::InstructionsLoop | Metric::InstructionsWorker => {
                Unit::InstructionsPerCall
            }
            _ => Unit::NanosPerCall,
        }
    }
    /// Below this per-call value (on the baseline's side) a change is compared as a
    /// difference per call, with [`Metric::resolution`] as its noise band, not as a ratio:
    /// 0.1 voluntary switches per call (one in ten calls) for Vcsw, where spinning
    /// hand-offs live (~0.0001-0.07) and a ratio of two tiny counts means nothing. Times and
    /// instruction counts are never that small.
    pub fn near_zero(self) -> Option<f64> {
        match self {
            Metric::Vcsw => Some(0.1),
            _ => None,
        }
    }

    /// The metric's resolution per call: added to both sides of a paired ratio, so that a
    /// value of zero stays usable and tiny values do not make huge ratios. 1 ns for times
    /// (below the clocks' per-call granularity); 0.02 voluntary switches per call (one
    /// switch in 50 calls) for Vcsw, so that spin configurations (~0.0001 switches per
    /// call) do not turn a handful of extra switches into a +100% "regression", while a
    /// blocking handoff (~2 per call) moves by 1% only.
    /// Instruction counts: one instruction per call.
    pub fn resolution(self) -> f64 {
        match self {
            Metric::Vcsw => 0.02,
            _ => 1.0,
        }
    }

    /// Parses a command-line name, a label or a result-file key, case-insensitively.
    pub fn from_name(name: &str) -> Option<Metric> {
        let name = name.trim().to_ascii_lowercase().replace('_', "-");
        Metric::iter().find(|m| {
            name == m.cli_name()
                || name == m.label().to_ascii_lowercase()
                || name == m.key().replace('_', "-")
        })
    }

    /// Whether the metric is a property of the host's clock or scheduler as much as of the
    /// code: times move with the machine's speed, and context switches with where the
    /// scheduler places the threads (on these VMs a spinning hand-off's switches per call
    /// moved by a third between two boots of an unchanged tree). Such a metric is gated
    /// against a stored baseline only from the same boot of the same machine
    /// (`HostFingerprint::timings_comparable`); instruction counts depend on the code, the
    /// toolchain and the CPU's features only (`FingerprintDiff::counts_comparable`).
    pub fn depends_on_host(self) -> bool {
        match self {
            Metric::Wall
            | Metric::CpuTotal
            | Metric::CpuLoop
            | Metric::CpuWorker
            | Metric::Vcsw => true,
            Metric::Instructions | Metric::InstructionsLoop | Metric::InstructionsWorker => false,
        }
    }

    /// The metric's value for one measurement (count > 0 is checked at parse time); NaN for
    /// an instruction count the line does not carry (a run not under callgrind), which
    /// [`crate::stats::Samples`] refuses.
    pub fn per_call(self, m: &Measurement) -> f64 {
        let total = match self {
            Metric::Wall => Some(m.wall_ns),
            Metric::CpuTotal => Some(m.cpu_total_ns),
            Metric::CpuLoop => Some(m.cpu_loop_ns),
            Metric::CpuWorker => Some(m.cpu_worker_ns),
            Metric::Vcsw => Some(m.vcsw_total()),
            Metric::Instructions => m.instructions().map(|i| i.total()),
            Metric::InstructionsLoop => m.instructions().map(|i| i.loop_threads),
            Metric::InstructionsWorker => m.instructions().map(|i| i.worker_threads),
        };
        total.map_or(f64::NAN, |total| total as f64 / m.count as f64)
    }
}

impl Serialize for Metric {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.key())
    }
}

impl<'de> Deserialize<'de> for Metric {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = String::deserialize(deserializer)?;
        Metric::iter().find(|m| m.key() == key).ok_or_else(|| {
            let shown: String = key.chars().take(80).collect();
            serde::de::Error::custom(format!("unknown metric {shown:?}"))
        })
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::measurement::tests::EXAMPLE;

    #[test]
    fn per_call_values_of_the_contract_example() {
        let m = Measurement::parse_line(EXAMPLE).unwrap();
        assert_eq!(Metric::Wall.per_call(&m), 16_400.0);
        assert_eq!(Metric::CpuTotal.per_call(&m), 20_800.0);
        assert_eq!(Metric::CpuLoop.per_call(&m), 10_400.0);
        assert_eq!(Metric::CpuWorker.per_call(&m), 10_000.0);
        assert_eq!(Metric::Vcsw.per_call(&m), 500_003.0 / 250_000.0);
    }

    #[test]
    fn instruction_counts_per_call_come_from_the_optional_fields() {
        let line = EXAMPLE.replace(
            r#""threads":3"#,
            r#""threads":3,"instructions_loop":500000000,"instructions_worker":250000000,"instructions_other":250000"#,
        );
        let m = Measurement::parse_line(&line).unwrap();
        assert_eq!(Metric::Instructions.per_call(&m), 3001.0);
        assert_eq!(Metric::InstructionsLoop.per_call(&m), 2000.0);
        assert_eq!(Metric::InstructionsWorker.per_call(&m), 1000.0);
        let timing_only = Measurement::parse_line(EXAMPLE).unwrap();
        assert!(Metric::Instructions.per_call(&timing_only).is_nan());
    }

    #[test]
    fn times_and_context_switches_depend_on_the_host_and_counts_do_not() {
        let host: Vec<Metric> = Metric::iter().filter(|m| m.depends_on_host()).collect();
        assert_eq!(
            host,
            [
                Metric::Wall,
                Metric::CpuTotal,
                Metric::CpuLoop,
                Metric::CpuWorker,
                Metric::Vcsw
            ]
        );
    }

    #[test]
    fn names_round_trip() {
        for m in Metric::iter() {
            assert_eq!(Metric::from_name(m.cli_name()), Some(m));
            assert_eq!(Metric::from_name(m.label()), Some(m));
            assert_eq!(Metric::from_name(m.key()), Some(m));
        }
        assert_eq!(Metric::from_name("CPU_TOTAL"), Some(Metric::CpuTotal));
        assert_eq!(Metric::from_name("cycles"), None);
        assert_eq!(Metric::iter().count(), 8);
        for m in Metric::iter() {
            assert!(!m.key().is_empty() && !m.label().is_empty(), "{m:?}");
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, format!("\"{}\"", m.key()));
            assert_eq!(serde_json::from_str::<Metric>(&json).unwrap(), m);
        }
        assert_eq!(
            Metric::cli_names(),
            "wall, cpu-total, cpu-loop, cpu-worker, vcsw, instructions, instructions-loop, \
             instructions-worker"
        );
        assert!(serde_json::from_str::<Metric>("\"cycles_per_call\"").is_err());
    }
}
