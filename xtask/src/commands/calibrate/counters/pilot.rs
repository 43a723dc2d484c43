//! The counter calibration's pilot: every configuration counted without and with a probe
//! injection, which measures its instructions per call and the size of one injected loop
//! iteration, and from them each effect's `--inject-loops`.

use std::time::{Duration, Instant};

use crate::comparison::calibration::counter_trials::{CounterPilot, inject_loops_for};
use crate::engine::runner::{self, BenchCommand, ChildFailure};
use crate::model::measurement::Measurement;
use crate::model::metric::Metric;
use crate::model::usage::UsageError;
use crate::stats::Samples;

/// The pilot's injection: large against the loop's own instructions per call (hundreds to
/// thousands) so the slope is exact, small enough to add well under a second to a run.
pub const PROBE_LOOPS: u64 = 1000;

/// `command` with `--inject-loops loops` (the binary's flag, on the async side).
pub fn injected(command: &BenchCommand, loops: u64) -> BenchCommand {
    let mut command = command.clone();
    command
        .args
        .extend(["--inject-loops".to_owned(), loops.to_string()]);
    command
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

/// Counts every configuration `runs` times without injection and `runs` times with
/// [`PROBE_LOOPS`], alternating; the slope of the loop's median count per call between
/// the two is one iteration's instructions.
pub fn run(
    command: &BenchCommand,
    ids: &[String],
    runs: u32,
    effects: &[f64],
) -> anyhow::Result<PilotRun> {
    let probe = injected(command, PROBE_LOOPS);
    let mut plain_time = Duration::ZERO;
    let mut pilot = Vec::with_capacity(ids.len());
    let mut plain_runs = 0u32;
    let mut plain: Vec<Vec<Measurement>> = vec![Vec::new(); ids.len()];
    let mut probed: Vec<Vec<Measurement>> = vec![Vec::new(); ids.len()];
    for _ in 0..runs {
        for (i, id) in ids.iter().enumerate() {
            let started = Instant::now();
            plain[i].push(count(command, id)?);
            plain_time += started.elapsed();
            plain_runs += 1;
            probed[i].push(count(&probe, id)?);
        }
    }
    for ((id, plain), probed) in ids.iter().zip(plain).zip(probed) {
        let per_call = Metric::COUNTERS
            .into_iter()
            .map(|metric| {
                let values = plain.iter().map(|m| metric.per_call(m)).collect();
                (metric, median(values))
            })
            .collect::<std::collections::BTreeMap<_, _>>();
        let loop_of = |runs: &[Measurement]| {
            median(
                runs.iter()
                    .map(|m| Metric::InstructionsLoop.per_call(m))
                    .collect(),
            )
        };
        let per_loop = (loop_of(&probed) - loop_of(&plain)) / PROBE_LOOPS as f64;
        if !(per_loop.is_finite() && per_loop > 0.0) {
            anyhow::bail!(
                "the pilot of {id}: --inject-loops {PROBE_LOOPS} changed the loop's instructions \
                 per call by {per_loop:.3} per iteration; the binary does not honour it"
            );
        }
        let instructions = per_call.get(&Metric::Instructions).copied().unwrap_or(0.0);
        pilot.push(CounterPilot {
            id: id.clone(),
            inject_loops: effects
                .iter()
                .map(|e| inject_loops_for(*e, instructions, per_loop))
                .collect(),
            per_call,
            probe_loops: PROBE_LOOPS,
            instructions_per_loop: per_loop,
        });
    }
    Ok(PilotRun {
        pilot,
        seconds_per_run: plain_time.as_secs_f64() / f64::from(plain_runs.max(1)),
    })
}
