//! Running a paired session: blocks of base and head runs, in the ABBA/BAAB schedule,
//! until the stop rule says so. Shared by `bench --against` and `calibrate`.
//!
//! # How it works
//!
//! 1. Before each block, `stop_rule::StopRule::decide` looks at the block durations so far,
//!    the clock and the number of gated pairs still inconclusive.
//! 2. A block runs every configuration's pair through an [`Executor`], the side
//!    `schedule::first_side` names first (real processes, serving processes in lock-step,
//!    or a mock in tests). A failed run is recorded with its block and side and only drops that block's
//!    pair; a run rejecting its arguments (exit 2) stops everything, since every other would
//!    too.
//! 3. From `min_blocks` on, the comparison of the blocks so far gives the unresolved count.
//! 4. The samples and failures are the session's outcome; the caller compares them
//!    (`comparison::paired_run::compare_run` for `bench --against`).

use std::time::Duration;

use crate::comparison::paired::{self, PairedContext};
use crate::engine::runner::{self, BenchCommand, ChildFailure, Injections};
use crate::engine::schedule::{self, PairedStep};
use crate::engine::stop_rule::{Clock, StopReason, StopRule};
use crate::model::measurement::Measurement;
use crate::model::paired_record::{PairedSample, Side};
use crate::model::results::RunFailure;
use crate::model::usage::UsageError;

/// Runs one configuration on one side, and both sides of a block.
pub trait Executor {
    /// One sample of `id` on `side`.
    fn run(&mut self, side: Side, id: &str) -> Result<Measurement, ChildFailure>;

    /// Every sample of `id` in one block, `first` first: by default one process per side
    /// ([`ProcessExecutor`]); the lock-step sampler runs slices of two serving processes
    /// (`engine::lockstep`).
    fn run_pair(&mut self, id: &str, first: Side) -> Vec<SideRun> {
        [first, first.other()]
            .into_iter()
            .map(|side| SideRun {
                side,
                slice: None,
                outcome: self.run(side, id),
            })
            .collect()
    }
}

/// One sample (or its failure) of a block, in the order they ran.
#[derive(Debug)]
pub struct SideRun {
    pub side: Side,
    /// The slice index in its serving process (lock-step); `None` for a whole process.
    pub slice: Option<u32>,
    pub outcome: Result<Measurement, ChildFailure>,
}

impl SideRun {
    /// A failure of `side`.
    pub fn failed(side: Side, failure: ChildFailure) -> Self {
        SideRun {
            side,
            slice: None,
            outcome: Err(failure),
        }
    }
}

/// Fresh processes of two benchmark binaries; optional injections per side and
/// configuration (`calibrate` injects a slowdown into one side this way).
#[derive(Debug, Clone)]
pub struct ProcessExecutor {
    pub base: BenchCommand,
    pub head: BenchCommand,
    pub injections: Injections,
}

impl ProcessExecutor {
    pub fn new(base: BenchCommand, head: BenchCommand) -> Self {
        ProcessExecutor {
            base,
            head,
            injections: Injections::new(),
        }
    }
}

impl Executor for ProcessExecutor {
    fn run(&mut self, side: Side, id: &str) -> Result<Measurement, ChildFailure> {
        let command = match side {
            Side::Base => &self.base,
            Side::Head => &self.head,
        };
        match self.injections.get(&(side, id.to_owned())) {
            None => runner::run_one(command, id),
            Some(injection) => runner::run_one(&command.injected(Some(*injection)), id),
        }
    }
}

/// What happened, for progress output.
#[derive(Debug)]
pub enum Event<'a> {
    Run {
        step: &'a PairedStep,
        outcome: Result<&'a Measurement, &'a ChildFailure>,
    },
    BlockDone {
        block: u32,
        duration: Duration,
        unresolved: Option<usize>,
    },
}

/// The result of a session.
#[derive(Debug)]
pub struct SessionOutcome {
    pub samples: Vec<PairedSample>,
    pub failures: Vec<RunFailure>,
    pub blocks: u32,
    pub stop: StopReason,
}

/// Runs blocks until `rule` stops (see the module docs).
pub fn run_session(
    executor: &mut dyn Executor,
    context: &PairedContext,
    rule: StopRule,
    clock: &dyn Clock,
    observe: &mut dyn FnMut(Event<'_>),
) -> Result<SessionOutcome, UsageError> {
    let mut samples = Vec::new();
    let mut failures = Vec::new();
    let mut durations: Vec<Duration> = Vec::new();
    let mut unresolved = usize::MAX;
    let stop = loop {
        if let Some(reason) = rule.decide(&durations, clock.elapsed(), unresolved) {
            break reason;
        }
        let block = durations.len() as u32;
        let started = clock.elapsed();
        let mut position = 0u32;
        for (index, id) in context.ids.iter().enumerate() {
            let first = schedule::first_side(index, block);
            for run in executor.run_pair(id, first) {
                let step = PairedStep {
                    block,
                    position,
                    id: id.clone(),
                    side: run.side,
                };
                position += 1;
                match run.outcome {
                    Ok(measurement) => {
                        // Progress shows one step per side and block, not every slice.
                        if run.slice.is_none_or(|k| k == 0) {
                            observe(Event::Run {
                                step: &step,
                                outcome: Ok(&measurement),
                            });
                        }
                        samples.push(PairedSample {
                            block,
                            side: step.side,
                            position: step.position,
                            slice: run.slice,
                            measurement,
                        });
                    }
                    Err(ChildFailure::BadUsage { stderr_tail }) => {
                        return Err(UsageError(format!(
                            "the {} binary rejected the arguments for {} (exit status 2):\n{stderr_tail}",
                            step.side.as_str(),
                            step.id
                        )));
                    }
                    Err(failure) => {
                        observe(Event::Run {
                            step: &step,
                            outcome: Err(&failure),
                        });
                        failures.push(RunFailure {
                            id: step.id.clone(),
                            run: block,
                            side: Some(step.side),
                            reason: failure.to_string(),
                            stderr_tail: failure.stderr_tail().to_owned(),
                        });
                    }
                }
            }
        }
        let duration = clock.elapsed().saturating_sub(started);
        durations.push(duration);
        let looked = durations.len() as u32 >= rule.min_blocks;
        if looked {
            unresolved = paired::unresolved(&paired::compare_first(&samples, block + 1, context));
        }
        observe(Event::BlockDone {
            block,
            duration,
            unresolved: looked.then_some(unresolved),
        });
    };
    Ok(SessionOutcome {
        blocks: durations.len() as u32,
        samples,
        failures,
        stop,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comparison::Verdict;
    use crate::comparison::paired::tests::context;
    use crate::engine::stop_rule::tests::FakeClock;
    use crate::model::metric::Metric;
    use crate::model::results::tests::measurement;

    /// Head is `ratio` times base; every run takes one second on the fake clock; the k-th
    /// run of a side is off by a small deterministic wobble.
    struct Mock<'a> {
        clock: &'a FakeClock,
        ratio: f64,
        calls: u32,
        fail: Option<(u32, Side)>,
    }

    impl Executor for Mock<'_> {
        fn run(&mut self, side: Side, id: &str) -> Result<Measurement, ChildFailure> {
            self.clock.advance(Duration::from_secs(1));
            let call = self.calls;
            self.calls += 1;
            if self.fail == Some((call, side)) {
                return Err(ChildFailure::Exit {
                    status: "exit status: 101".to_owned(),
                    stderr_tail: "boom".to_owned(),
                });
            }
            let wobble = 1.0 + f64::from(call % 7) * 0.004 - 0.012;
            let r = if side == Side::Head { self.ratio } else { 1.0 };
            Ok(measurement(id, 14_000.0 * r * wobble))
        }
    }

    #[test]
    fn a_resolved_slowdown_stops_at_min_blocks_and_a_null_uses_the_budget() {
        let clock = FakeClock::default();
        let ctx = context(&["floor/park", "floor/spin"], 4);
        let rule = StopRule {
            min_blocks: 4,
            max_time: Some(Duration::from_secs(40)),
        };
        let mut mock = Mock {
            clock: &clock,
            ratio: 1.3,
            calls: 0,
            fail: None,
        };
        let out = run_session(&mut mock, &ctx, rule, &clock, &mut |_| {}).unwrap();
        assert_eq!((out.blocks, out.stop), (4, StopReason::Resolved));
        assert_eq!(out.samples.len(), 16);
        let comparison = paired::compare(&out.samples, &ctx);
        let wall = comparison.pair("floor/park", Metric::Wall).unwrap();
        assert_eq!(wall.verdict, Verdict::Regressed);
        assert_eq!(wall.settled_after_blocks, Some(4));

        // Blocks of 4 s (2 configurations x 2 sides): 40 s allow 10 blocks.
        let clock = FakeClock::default();
        let mut mock = Mock {
            clock: &clock,
            ratio: 1.04,
            calls: 0,
            fail: Some((4, Side::Head)),
        };
        let mut events = 0;
        let out = run_session(&mut mock, &ctx, rule, &clock, &mut |e| {
            if matches!(e, Event::BlockDone { .. }) {
                events += 1;
            }
        })
        .unwrap();
        assert_eq!(events, out.blocks);
        assert_eq!(out.failures.len(), 1);
        assert_eq!(out.failures[0].side, Some(Side::Head));
        assert!(out.stop == StopReason::Budget || out.stop == StopReason::Resolved);
        assert!(out.blocks >= 4 && out.blocks <= 10, "{}", out.blocks);
    }
}
