//! Running an independent benchmark: `runs x ids` fresh processes in the rotated schedule,
//! one at a time, with a progress line per process.
//!
//! A failing child is reported with its stderr tail and the rest still runs; a child
//! rejecting its arguments (exit 2) stops everything, since every other would too.

use crate::engine::progress::Progress;
use crate::engine::runner::{self, BenchCommand, ChildFailure, Measured};
use crate::engine::schedule;
use crate::model::measurement::Measurement;
use crate::model::metric::Metric;
use crate::model::profile::RoleProfiles;
use crate::model::results::RunFailure;
use crate::model::usage::UsageError;

/// What the processes produced.
#[derive(Debug)]
pub struct IndependentRun {
    /// Per id, in the order of the `ids` given, the samples in run order.
    pub samples: Vec<Vec<Measurement>>,
    /// Per id, the profiles of its first run that had one (counting runs only).
    pub profiles: Vec<Option<RoleProfiles>>,
    pub failures: Vec<RunFailure>,
}

/// Runs the schedule (see the module docs).
pub fn run_all(
    command: &BenchCommand,
    ids: &[String],
    runs: u32,
) -> anyhow::Result<IndependentRun> {
    let steps = schedule::rotated(ids, runs);
    let mut samples: Vec<Vec<Measurement>> = vec![Vec::new(); ids.len()];
    let mut profiles: Vec<Option<RoleProfiles>> = vec![None; ids.len()];
    let mut failures = Vec::new();
    let mut progress = Progress::new(steps.len() as u64);
    for step in &steps {
        let what = format!("run {}/{} {}", step.run + 1, runs, step.id);
        progress.start(&what);
        match runner::run_measured(command, &step.id) {
            Ok(Measured {
                measurement: m,
                profiles: profile,
            }) => {
                let shown = match m.instructions() {
                    Some(_) => format!("{:.1} instr/call", Metric::Instructions.per_call(&m)),
                    None => format!("{:.3} us/call", Metric::Wall.per_call(&m) / 1000.0),
                };
                progress.done(&what, &shown);
                let index = ids
                    .iter()
                    .position(|id| *id == step.id)
                    .expect("scheduled ids come from ids");
                samples[index].push(m);
                if profiles[index].is_none() {
                    profiles[index] = profile;
                }
            }
            Err(ChildFailure::BadUsage { stderr_tail }) => {
                progress.finish();
                return Err(UsageError(format!(
                    "{} rejected the arguments {:?} (exit status 2):\n{stderr_tail}",
                    command.program.display(),
                    command.args
                ))
                .into());
            }
            Err(failure) => {
                progress.done(&what, "FAILED");
                progress.message(&format!(
                    "FAILED {what}: {failure}\n--- stderr (tail) ---\n{}\n---",
                    failure.stderr_tail()
                ));
                failures.push(RunFailure {
                    id: step.id.clone(),
                    run: step.run,
                    side: None,
                    reason: failure.to_string(),
                    stderr_tail: failure.stderr_tail().to_owned(),
                });
            }
        }
    }
    progress.finish();
    Ok(IndependentRun {
        samples,
        profiles,
        failures,
    })
}
