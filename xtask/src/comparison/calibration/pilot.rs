//! The calibration's pilot, per configuration: what a few runs before the trials measured,
//! and the injection into side B that it sizes for each effect of `E`%.
//!
//! - Timing: `inject_ns = round(E/100 * w)`, `w` the median wall time per call. The
//!   benchmark adds that much busy work before every call on the async side, so with one
//!   call in flight the wall time per call grows by about `E`% (the report shows the ratio
//!   actually observed).
//! - Counts: each configuration is also counted with injected loop iterations
//!   (`settings::PROBE_LOOPS`); the medians measure one iteration's instructions and those of entering the
//!   loop at all, and these the fewest whole iterations that reach the effect
//!   ([`inject_loops_for`]).

use std::collections::BTreeMap;

use serde::Serialize;

use super::settings::{Instrument, PROBE_LOOPS};
use crate::model::measurement::Measurement;
use crate::model::metric::Metric;
use crate::stats::Samples;

/// What the pilot found for one configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pilot {
    pub id: String,
    #[serde(flatten)]
    pub sizing: Sizing,
}

/// What the pilot measured and the injection of each `--effect` it sized, by instrument.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Sizing {
    /// Side B's `--inject-ns` from the median wall time per call.
    Wall {
        wall_ns_per_call: f64,
        inject_ns: Vec<u64>,
    },
    /// Side B's `--inject-loops` from the measured loop iteration.
    Loops(LoopSizing),
}

/// The counting pilot of one configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoopSizing {
    /// Median per call over the pilot's runs without injection, per counter metric.
    pub per_call: BTreeMap<Metric, f64>,
    /// The `--inject-loops` of the first probe; the second has twice as many.
    pub probe_loops: u64,
    /// Instructions on the loop per iteration of the injected loop: the slope between the
    /// medians of the two probes.
    pub instructions_per_loop: f64,
    /// Instructions on the loop that any injection adds besides its iterations (entering
    /// the loop at all): the first probe's runs minus those without, less the iterations'
    /// share. The real binary's is a few instructions; ignored, it would make an injection
    /// of three iterations 20% larger than planned.
    pub injection_offset: f64,
    /// Per `--effect`, side B's `--inject-loops`: see [`inject_loops_for`].
    pub inject_loops: Vec<u64>,
}

/// The loop's median instructions per call without injection and at the two probes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeMedians {
    pub plain: f64,
    pub probe: f64,
    pub double: f64,
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    Samples::new(values.collect()).map_or(f64::NAN, |s| s.median())
}

impl Pilot {
    /// The pilot of `id` from its runs without injection (`plain`) and, per
    /// [`Instrument::probe_loops`], with that many loop iterations (`probed`). An error says
    /// why the runs size no injection (a binary that ignores `--inject-loops`).
    pub fn from_runs(
        instrument: &Instrument,
        id: &str,
        plain: &[Measurement],
        probed: &[Vec<Measurement>],
        effects: &[f64],
    ) -> Result<Pilot, String> {
        let sizing = match instrument {
            Instrument::Timing(_) => {
                let wall = median(plain.iter().map(|m| Metric::Wall.per_call(m)));
                Sizing::Wall {
                    wall_ns_per_call: wall,
                    inject_ns: effects
                        .iter()
                        .map(|e| (e / 100.0 * wall).round() as u64)
                        .collect(),
                }
            }
            Instrument::Counters(_) => {
                let loop_of = |runs: Option<&Vec<Measurement>>| {
                    median(
                        runs.into_iter()
                            .flatten()
                            .map(|m| Metric::InstructionsLoop.per_call(m)),
                    )
                };
                let medians = ProbeMedians {
                    plain: median(plain.iter().map(|m| Metric::InstructionsLoop.per_call(m))),
                    probe: loop_of(probed.first()),
                    double: loop_of(probed.get(1)),
                };
                let per_call = Metric::COUNTERS
                    .into_iter()
                    .map(|metric| (metric, median(plain.iter().map(|m| metric.per_call(m)))))
                    .collect();
                let [probe, double] = PROBE_LOOPS;
                let sizing =
                    LoopSizing::measured(per_call, probe, medians, effects).ok_or_else(|| {
                        format!(
                            "the pilot of {id}: the loop's instructions per call were {:.1}, \
                             {:.1} and {:.1} with --inject-loops 0, {probe} and {double}: the \
                             binary does not honour --inject-loops",
                            medians.plain, medians.probe, medians.double
                        )
                    })?;
                Sizing::Loops(sizing)
            }
        };
        Ok(Pilot {
            id: id.to_owned(),
            sizing,
        })
    }

    /// Side B's injection for effect `e` (nanoseconds or loop iterations).
    pub fn injection(&self, e: usize) -> u64 {
        match &self.sizing {
            Sizing::Wall { inject_ns, .. } => inject_ns.get(e),
            Sizing::Loops(sizing) => sizing.inject_loops.get(e),
        }
        .copied()
        .unwrap_or(0)
    }

    /// The counting pilot's findings, `None` for timing.
    pub fn loops(&self) -> Option<&LoopSizing> {
        match &self.sizing {
            Sizing::Loops(sizing) => Some(sizing),
            Sizing::Wall { .. } => None,
        }
    }
}

impl LoopSizing {
    /// The sizing from the medians per call without injection (`per_call`) and the loop's
    /// at `0`, `probe_loops` and `2 probe_loops` injected iterations; `None` when the
    /// iterations add no instructions (a binary that ignores `--inject-loops`).
    pub fn measured(
        per_call: BTreeMap<Metric, f64>,
        probe_loops: u64,
        loop_medians: ProbeMedians,
        effects: &[f64],
    ) -> Option<Self> {
        let probe = probe_loops as f64;
        let per_loop = (loop_medians.double - loop_medians.probe) / probe;
        if !(per_loop.is_finite() && per_loop > 0.0) {
            return None;
        }
        let offset = loop_medians.probe - loop_medians.plain - per_loop * probe;
        let instructions = per_call.get(&Metric::Instructions).copied().unwrap_or(0.0);
        Some(LoopSizing {
            inject_loops: effects
                .iter()
                .map(|e| inject_loops_for(*e, instructions, per_loop, offset))
                .collect(),
            per_call,
            probe_loops,
            instructions_per_loop: per_loop,
            injection_offset: offset,
        })
    }

    /// The ratio an injection of `loops` iterations should give `metric` (the loop and the
    /// total grow by `offset + loops * instructions_per_loop`; the worker does not).
    pub fn expected_ratio(&self, metric: Metric, loops: u64) -> f64 {
        let base = self.per_call.get(&metric).copied().unwrap_or(0.0);
        if metric == Metric::InstructionsWorker || base <= 0.0 || loops == 0 {
            return 1.0;
        }
        1.0 + (self.injection_offset + loops as f64 * self.instructions_per_loop) / base
    }
}

/// Side B's `--inject-loops` for an effect of `effect_pct`% of `instructions` per call:
/// `max(1, ceil((E/100 * instructions - offset) / per_loop))`, the fewest whole iterations
/// that reach the effect. Rounded up, not to the nearest, because the gate confirms a
/// regression only when its whole interval lies above the threshold: an injection of 0.97%
/// against a 1% gate would measure the rule, not the gate's eyesight.
pub fn inject_loops_for(effect_pct: f64, instructions: f64, per_loop: f64, offset: f64) -> u64 {
    let loops = ((effect_pct / 100.0 * instructions - offset) / per_loop).ceil();
    if loops >= 1.0 { loops as u64 } else { 1 }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn fake_per_call() -> BTreeMap<Metric, f64> {
        [
            (Metric::Instructions, 2300.0),
            (Metric::InstructionsLoop, 2000.0),
            (Metric::InstructionsWorker, 300.0),
        ]
        .into()
    }

    /// The counting pilot of the fake benchmark: 4 instructions an iteration, no offset.
    pub(crate) fn fake_loops(id: &str) -> Pilot {
        Pilot {
            id: id.to_owned(),
            sizing: Sizing::Loops(LoopSizing {
                per_call: fake_per_call(),
                probe_loops: 1000,
                instructions_per_loop: 4.0,
                injection_offset: 0.0,
                inject_loops: vec![6],
            }),
        }
    }

    #[test]
    fn injections_are_sized_from_the_measured_iteration_and_never_zero() {
        // The fake: 2300 instructions per call, 4 per iteration, no offset: 1% = 23 = 5.75
        // iterations.
        assert_eq!(inject_loops_for(1.0, 2300.0, 4.0, 0.0), 6);
        assert_eq!(inject_loops_for(0.01, 100.0, 7.0, 0.0), 1);
        // 1% of 3264.8 with a 4-instruction entry is 4.09 iterations of 7: 5, not 4
        // (4 would inject 0.98%).
        assert_eq!(inject_loops_for(1.0, 3264.8, 7.0, 4.0), 5);
        let medians = ProbeMedians {
            plain: 2000.0,
            probe: 6000.0,
            double: 10_000.0,
        };
        let pilot = LoopSizing::measured(fake_per_call(), 1000, medians, &[1.0]).unwrap();
        assert_eq!(
            (pilot.instructions_per_loop, pilot.injection_offset),
            (4.0, 0.0)
        );
        assert_eq!(pilot.inject_loops, [6]);
        assert!((pilot.expected_ratio(Metric::Instructions, 6) - 2324.0 / 2300.0).abs() < 1e-12);
        assert!((pilot.expected_ratio(Metric::InstructionsLoop, 6) - 1.012).abs() < 1e-12);
        assert_eq!(pilot.expected_ratio(Metric::InstructionsWorker, 6), 1.0);
        assert_eq!(pilot.expected_ratio(Metric::Instructions, 0), 1.0);
    }

    #[test]
    fn the_offset_of_entering_the_loop_is_measured_and_sized_in() {
        // As the real binary measured here: 7 per iteration plus 4 for any injection.
        // 1% of 2192.4 = 21.9: (21.9 - 4) / 7 = 2.56 -> 3 iterations, 25 instructions;
        // without the offset it would be 3.13 -> 4, planned as 28 (+1.3%).
        let per_call: BTreeMap<Metric, f64> = [
            (Metric::Instructions, 2192.4),
            (Metric::InstructionsLoop, 1898.3),
            (Metric::InstructionsWorker, 294.1),
        ]
        .into();
        let medians = ProbeMedians {
            plain: 1898.3,
            probe: 1898.3 + 4.0 + 7000.0,
            double: 1898.3 + 4.0 + 14_000.0,
        };
        let pilot = LoopSizing::measured(per_call, 1000, medians, &[1.0, 5.0]).unwrap();
        assert!((pilot.instructions_per_loop - 7.0).abs() < 1e-9);
        assert!((pilot.injection_offset - 4.0).abs() < 1e-6);
        // 5% = 109.6: (109.6 - 4) / 7 = 15.09 -> 16 (15 would inject 4.98%).
        assert_eq!(pilot.inject_loops, [3, 16]);
        let expected = pilot.expected_ratio(Metric::Instructions, 3);
        assert!(
            (expected - (1.0 + 25.0 / 2192.4)).abs() < 1e-9,
            "{expected}"
        );
        // An injection that adds nothing per iteration has no pilot.
        let flat = ProbeMedians {
            plain: 1.0,
            probe: 5.0,
            double: 5.0,
        };
        assert!(LoopSizing::measured(fake_per_call(), 1000, flat, &[1.0]).is_none());
    }
}
