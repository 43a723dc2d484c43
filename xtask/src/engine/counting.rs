//! The counting runs of a paired comparison: every configuration run under callgrind on
//! both sides, the sides alternating (base first in even runs, head first in odd ones), one
//! process at a time. Counts hardly vary, so each side's runs are independent draws and
//! need no blocks (`comparison::counters`). `bench --against --counters` and
//! `calibrate --counters` both count this way.

use std::collections::BTreeMap;

use crate::engine::progress::Progress;
use crate::engine::runner::{self, BenchCommand, Injections, Measured};
use crate::model::metric::Metric;
use crate::model::paired_record::{PairedSample, Side};
use crate::model::profile::RoleProfiles;
use crate::model::results::RunFailure;

/// What the counting runs of both sides produced: samples with `block` the run's index, and
/// per side and configuration the profiles of its first counting run that had one (counts
/// reproduce, so one run tells where the instructions went).
#[derive(Debug, Default)]
pub struct Counted {
    pub samples: Vec<PairedSample>,
    pub failures: Vec<RunFailure>,
    pub profiles: BTreeMap<(Side, String), RoleProfiles>,
}

/// `runs` counting runs per side and configuration of `ids` (see the module docs); one side
/// of one configuration may carry an injection.
pub fn count_sides(
    base: &BenchCommand,
    head: &BenchCommand,
    injections: &Injections,
    ids: &[String],
    runs: u32,
    progress: &mut Progress,
) -> Counted {
    let mut counted = Counted::default();
    for run in 0..runs {
        for (position, id) in ids.iter().enumerate() {
            let order = if run % 2 == 0 {
                [Side::Base, Side::Head]
            } else {
                [Side::Head, Side::Base]
            };
            for (turn, side) in order.into_iter().enumerate() {
                let command = match side {
                    Side::Base => base,
                    Side::Head => head,
                }
                .injected(injections.get(&(side, id.clone())).copied());
                let what = format!("count {} {} {id}", run + 1, side.as_str());
                progress.start(&what);
                match runner::run_measured(&command, id) {
                    Ok(Measured {
                        measurement,
                        profiles,
                    }) => {
                        if let Some(profiles) = profiles {
                            counted
                                .profiles
                                .entry((side, id.clone()))
                                .or_insert(profiles);
                        }
                        let per_call = Metric::Instructions.per_call(&measurement);
                        progress.done(&what, &format!("{per_call:.1} instr/call"));
                        counted.samples.push(PairedSample {
                            block: run,
                            side,
                            position: (position * 2 + turn) as u32,
                            slice: None,
                            measurement,
                        });
                    }
                    Err(failure) => {
                        progress.done(&what, "FAILED");
                        counted.failures.push(RunFailure {
                            id: id.clone(),
                            run,
                            side: Some(side),
                            reason: format!("counting: {failure}"),
                            stderr_tail: failure.stderr_tail().to_owned(),
                        });
                    }
                }
            }
        }
    }
    counted
}
