//! Lock-step sampling: within a block, a configuration's base and head run as two serving
//! processes side by side ([`super::serve_client`]), and their timed slices alternate
//! A B B A A B ... at a period of milliseconds, far below the seconds the host's state
//! persists (`docs/book/src/gate/paired.md`), so both sides see the same host. Every block
//! starts a fresh pair of processes, so the processes' own draws (a process settling into
//! a fast or a slow mode) are sampled too.
//!
//! # How it works
//!
//! 1. The side the schedule puts first (`schedule::first_side`) is started and warmed up,
//!    then the other: warm-ups never overlap, so neither disturbs the other's settling.
//! 2. Slice pair `k` runs the first side then the other when `k` is even, the other way
//!    round when odd: A B | B A | A B ..., so a "second slice of a pair is faster" effect
//!    cancels over the pairs.
//! 3. Both processes quit. A failure of either side ends the pair's slices; the slices
//!    already run are kept (the comparison pairs slices by index and drops an unmatched
//!    one), the failure is reported for its side.

use crate::engine::paired_session::{Executor, SideRun};
use crate::engine::runner::{BenchCommand, ChildFailure, Injections};
use crate::engine::serve_client::Server;
use crate::model::measurement::Measurement;
use crate::model::paired_record::{Side, SliceShape};

/// Runs base and head in lock-step (see the module docs).
#[derive(Debug, Clone)]
pub struct LockstepExecutor {
    pub base: BenchCommand,
    pub head: BenchCommand,
    pub shape: SliceShape,
    /// Injections per side and configuration, as for processes.
    pub injections: Injections,
}

impl LockstepExecutor {
    fn command(&self, side: Side, id: &str) -> BenchCommand {
        let command = match side {
            Side::Base => &self.base,
            Side::Head => &self.head,
        };
        command.injected(self.injections.get(&(side, id.to_owned())).copied())
    }
}

impl Executor for LockstepExecutor {
    fn run(&mut self, side: Side, id: &str) -> Result<Measurement, ChildFailure> {
        let mut server = Server::start(&self.command(side, id), id)?;
        let measurement = server.slice(self.shape.calls)?;
        server.finish()?;
        Ok(measurement)
    }

    fn run_pair(&mut self, id: &str, first: Side) -> Vec<SideRun> {
        let order = [first, first.other()];
        let mut servers: Vec<(Side, Server)> = Vec::with_capacity(2);
        for side in order {
            match Server::start(&self.command(side, id), id) {
                Ok(server) => servers.push((side, server)),
                // The other server, if started, is killed when dropped.
                Err(failure) => return vec![SideRun::failed(side, failure)],
            }
        }
        let mut runs = Vec::new();
        'slices: for k in 0..self.shape.slices {
            // A B | B A | A B ...
            let turn = if k % 2 == 0 { [0, 1] } else { [1, 0] };
            for i in turn {
                let (side, server) = &mut servers[i];
                match server.slice(self.shape.calls) {
                    Ok(measurement) => runs.push(SideRun {
                        side: *side,
                        slice: Some(k),
                        outcome: Ok(measurement),
                    }),
                    Err(failure) => {
                        runs.push(SideRun::failed(*side, failure));
                        servers.remove(i);
                        break 'slices;
                    }
                }
            }
        }
        for (side, server) in servers {
            if let Err(failure) = server.finish() {
                runs.push(SideRun::failed(side, failure));
            }
        }
        runs
    }
}
