//! The calibration's pilot: a few runs of every configuration, whose median wall time per
//! call sizes each injected slowdown and whose duration gives the time estimate.

use std::time::Instant;

use crate::comparison::calibration::Pilot;
use crate::engine::runner::{self, BenchCommand, ChildFailure};
use crate::model::metric::Metric;
use crate::model::usage::UsageError;
use crate::stats::Samples;

/// What the pilot found.
#[derive(Debug)]
pub struct PilotRun {
    /// Per configuration, in `ids` order.
    pub pilot: Vec<Pilot>,
    /// Seconds one pass (each configuration once) took on average.
    pub seconds_per_pass: f64,
}

/// Runs every configuration `runs` times; `inject_ns = round(E/100 * w)` per effect `E`%,
/// `w` the median wall time per call. Any failed run stops the calibration: without its
/// pilot a configuration's injection is unknown.
pub fn run(
    command: &BenchCommand,
    ids: &[String],
    runs: u32,
    effects: &[f64],
) -> anyhow::Result<PilotRun> {
    let started = Instant::now();
    let mut walls: Vec<Vec<f64>> = vec![Vec::new(); ids.len()];
    for _ in 0..runs {
        for (i, id) in ids.iter().enumerate() {
            match runner::run_one(command, id) {
                Ok(m) => walls[i].push(Metric::Wall.per_call(&m)),
                Err(ChildFailure::BadUsage { stderr_tail }) => {
                    return Err(UsageError(format!(
                        "{} rejected the arguments (exit status 2):\n{stderr_tail}",
                        command.program.display()
                    ))
                    .into());
                }
                Err(f) => anyhow::bail!("pilot run of {id} failed: {f}\n{}", f.stderr_tail()),
            }
        }
    }
    let seconds_per_pass = started.elapsed().as_secs_f64() / f64::from(runs);
    let pilot = ids
        .iter()
        .zip(walls)
        .map(|(id, w)| {
            let wall = Samples::new(w).map_or(0.0, |s| s.median());
            Pilot {
                id: id.clone(),
                wall_ns_per_call: wall,
                inject_ns: effects
                    .iter()
                    .map(|e| (e / 100.0 * wall).round() as u64)
                    .collect(),
            }
        })
        .collect();
    Ok(PilotRun {
        pilot,
        seconds_per_pass,
    })
}
