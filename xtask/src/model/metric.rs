//! The metrics derived from each measurement, all per call and all smaller-is-better: the
//! timing metrics of every run ([`Metric::ALL`]), and the instruction counts of the runs
//! under valgrind ([`Metric::COUNTERS`], from a result file's `counter_samples`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::measurement::Measurement;

/// A per-call quantity computed from one measurement. The serialized names carry the unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Metric {
    #[serde(rename = "wall_ns_per_call")]
    Wall,
    #[serde(rename = "cpu_total_ns_per_call")]
    CpuTotal,
    #[serde(rename = "cpu_loop_ns_per_call")]
    CpuLoop,
    #[serde(rename = "cpu_worker_ns_per_call")]
    CpuWorker,
    /// Voluntary context switches of the whole process per call.
    #[serde(rename = "vcsw_per_call")]
    Vcsw,
    /// Instructions of every thread inside the window, waiting excluded (under callgrind).
    #[serde(rename = "instructions_per_call")]
    Instructions,
    /// Instructions of the threads that poll futures.
    #[serde(rename = "instructions_loop_per_call")]
    InstructionsLoop,
    /// Instructions of the threads that run the calls.
    #[serde(rename = "instructions_worker_per_call")]
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
    pub const ALL: [Metric; 5] = [
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

    /// Every metric: [`Metric::ALL`], then [`Metric::COUNTERS`].
    pub const EVERY: [Metric; 8] = [
        Metric::Wall,
        Metric::CpuTotal,
        Metric::CpuLoop,
        Metric::CpuWorker,
        Metric::Vcsw,
        Metric::Instructions,
        Metric::InstructionsLoop,
        Metric::InstructionsWorker,
    ];

    /// Whether the metric comes from the runs under callgrind.
    pub fn is_counter(self) -> bool {
        Metric::COUNTERS.contains(&self)
    }

    /// The field name in result files (with its unit).
    pub fn key(self) -> &'static str {
        match self {
            Metric::Wall => "wall_ns_per_call",
            Metric::CpuTotal => "cpu_total_ns_per_call",
            Metric::CpuLoop => "cpu_loop_ns_per_call",
            Metric::CpuWorker => "cpu_worker_ns_per_call",
            Metric::Vcsw => "vcsw_per_call",
            Metric::Instructions => "instructions_per_call",
            Metric::InstructionsLoop => "instructions_loop_per_call",
            Metric::InstructionsWorker => "instructions_worker_per_call",
        }
    }

    /// The column header of python-async-bench's table.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Wall => "Wall",
            Metric::CpuTotal => "CpuTotal",
            Metric::CpuLoop => "CpuEvtLoop",
            Metric::CpuWorker => "CpuWorker",
            Metric::Vcsw => "Vcsw",
            Metric::Instructions => "Instr",
            Metric::InstructionsLoop => "InstrLoop",
            Metric::InstructionsWorker => "InstrWorker",
        }
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

    /// Short name for the command line (`--gate wall:5`).
    pub fn cli_name(self) -> &'static str {
        match self {
            Metric::Wall => "wall",
            Metric::CpuTotal => "cpu-total",
            Metric::CpuLoop => "cpu-loop",
            Metric::CpuWorker => "cpu-worker",
            Metric::Vcsw => "vcsw",
            Metric::Instructions => "instructions",
            Metric::InstructionsLoop => "instructions-loop",
            Metric::InstructionsWorker => "instructions-worker",
        }
    }

    /// Parses a command-line name, a label or a result-file key, case-insensitively.
    pub fn from_name(name: &str) -> Option<Metric> {
        let name = name.trim().to_ascii_lowercase().replace('_', "-");
        Metric::EVERY.into_iter().find(|m| {
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
        let host: Vec<Metric> = Metric::EVERY
            .into_iter()
            .filter(|m| m.depends_on_host())
            .collect();
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
        for m in Metric::EVERY {
            assert_eq!(Metric::from_name(m.cli_name()), Some(m));
            assert_eq!(Metric::from_name(m.label()), Some(m));
            assert_eq!(Metric::from_name(m.key()), Some(m));
        }
        assert_eq!(Metric::from_name("CPU_TOTAL"), Some(Metric::CpuTotal));
        assert_eq!(Metric::from_name("cycles"), None);
    }
}
