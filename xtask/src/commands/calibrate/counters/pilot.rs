//! The counter calibration's pilot: every configuration counted without and with two probe
//! injections, which measures its instructions per call, the size of one injected loop
//! iteration and what entering the loop costs, and from them each effect's `--inject-loops`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::comparison::calibration::counter_trials::{CounterPilot, ProbeMedians};
use crate::engine::runner::{self, BenchCommand, ChildFailure};
use crate::model::measurement::Measurement;
use crate::model::metric::Metric;
use crate::model::usage::UsageError;
use crate::stats::Samples;

/// The pilot's injections are this and twice this: large against the loop's own
/// instructions per call (hundreds to thousands) so the slope is exact, small enough to add
/// about a second to a run at the default --counter-count.
pub const PROBE_LOOPS: u64 = 1000;

/// `command` with `--inject-loops loops` (the binary's flag, on the async side).
pub fn injected(command: &BenchCommand, loops: u64) -> BenchCommand {
    command.injected(Some(crate::engine::runner::Injection::Loops(loops)))
}

/// What the pilot found.
#[derive(Debug)]
pub struct PilotRun {
    /// Per configuration, in `ids` order.
    pub pilot: Vec<CounterPilot>,
    /// Seconds one counting run without injection took on average (for the estimate).
    pub seconds_per_run: f64,
}

/// One counting run; any failure stops the calibration (without its pilot a
/// configuration's injection is unknown).
fn count(command: &BenchCommand, id: &str) -> anyhow::Result<Measurement> {
    match runner::run_one(command, id) {
        Ok(m) => Ok(m),
        Err(ChildFailure::BadUsage { stderr_tail }) => Err(UsageError(format!(
            "{} rejected the arguments (exit status 2):\n{stderr_tail}",
            command.program.display()
        ))
        .into()),
        Err(f) => anyhow::bail!(
            "pilot counting run of {id} failed: {f}\n{}",
            f.stderr_tail()
        ),
    }
}

fn median(values: Vec<f64>) -> f64 {
    Samples::new(values).map_or(f64::NAN, |s| s.median())
}

/// Counts every configuration `runs` times without injection, with [`PROBE_LOOPS`] and with
/// twice that, in turn; the loop's medians give one iteration's instructions (the slope
/// between the two injections) and what entering the loop adds (`CounterPilot::measured`).
pub fn run(
    command: &BenchCommand,
    ids: &[String],
    runs: u32,
    effects: &[f64],
) -> anyhow::Result<PilotRun> {
    let probes = [
        injected(command, PROBE_LOOPS),
        injected(command, 2 * PROBE_LOOPS),
    ];
    let mut plain_time = Duration::ZERO;
    let mut plain_runs = 0u32;
    let mut plain: Vec<Vec<Measurement>> = vec![Vec::new(); ids.len()];
    let mut probed: Vec<[Vec<Measurement>; 2]> = vec![Default::default(); ids.len()];
    for _ in 0..runs {
        for (i, id) in ids.iter().enumerate() {
            let started = Instant::now();
            plain[i].push(count(command, id)?);
            plain_time += started.elapsed();
            plain_runs += 1;
            for (k, probe) in probes.iter().enumerate() {
                probed[i][k].push(count(probe, id)?);
            }
        }
    }
    let loop_of = |runs: &[Measurement]| {
        median(
            runs.iter()
                .map(|m| Metric::InstructionsLoop.per_call(m))
                .collect(),
        )
    };
    let mut pilot = Vec::with_capacity(ids.len());
    for ((id, plain), [probe, double]) in ids.iter().zip(plain).zip(probed) {
        let per_call: BTreeMap<Metric, f64> = Metric::COUNTERS
            .into_iter()
            .map(|metric| {
                let values = plain.iter().map(|m| metric.per_call(m)).collect();
                (metric, median(values))
            })
            .collect();
        let medians = ProbeMedians {
            plain: loop_of(&plain),
            probe: loop_of(&probe),
            double: loop_of(&double),
        };
        let found = CounterPilot::measured(id, per_call, PROBE_LOOPS, medians, effects)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "the pilot of {id}: the loop's instructions per call were {:.1}, {:.1} and \
                     {:.1} with --inject-loops 0, {PROBE_LOOPS} and {}: the binary does not \
                     honour --inject-loops",
                    medians.plain,
                    medians.probe,
                    medians.double,
                    2 * PROBE_LOOPS
                )
            })?;
        pilot.push(found);
    }
    Ok(PilotRun {
        pilot,
        seconds_per_run: plain_time.as_secs_f64() / f64::from(plain_runs.max(1)),
    })
}
