//! The configurations (`runtime/handoff` ids) and how each one is run.

use std::fmt;

use crate::driver::{self, Shape};
use crate::floors::{self, Floor};
use crate::handoff::dedicated::SeedWorker;
use crate::handoff::to_thread::{AsyncStdSpawnBlocking, SmolUnblock, TokioSpawnBlocking};
use crate::measure::{self, Usage};
use crate::measurement::Measurement;
use crate::runtime::Runtime;
use crate::work::Work;

/// How the async side hands its calls over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoffKind {
    /// The runtime's own pool primitive.
    ToThread,
    /// A dedicated worker thread.
    Dedicated,
}

impl HandoffKind {
    /// Every handoff, in report order.
    pub const ALL: [HandoffKind; 2] = [HandoffKind::ToThread, HandoffKind::Dedicated];

    /// The handoff's part of a configuration id.
    pub fn name(self) -> &'static str {
        match self {
            HandoffKind::ToThread => "to-thread",
            HandoffKind::Dedicated => "dedicated",
        }
    }
}

/// One row of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Configuration {
    /// A runtime with a handoff.
    Async {
        /// Polls the calling task.
        runtime: Runtime,
        /// Carries the call to another thread.
        handoff: HandoffKind,
    },
    /// Two plain threads, no runtime.
    Floor(Floor),
}

impl Configuration {
    /// Every configuration, in report order: runtimes first, floors last.
    pub fn all() -> Vec<Configuration> {
        let asynchronous = Runtime::ALL.into_iter().flat_map(|runtime| {
            HandoffKind::ALL
                .into_iter()
                .map(move |handoff| Configuration::Async { runtime, handoff })
        });
        asynchronous
            .chain(Floor::ALL.into_iter().map(Configuration::Floor))
            .collect()
    }

    /// `runtime/handoff`.
    pub fn id(self) -> String {
        format!("{}/{}", self.runtime_name(), self.handoff_name())
    }

    /// The runtime part of the id.
    pub fn runtime_name(self) -> &'static str {
        match self {
            Configuration::Async { runtime, .. } => runtime.name(),
            Configuration::Floor(_) => "floor",
        }
    }

    /// The handoff part of the id.
    pub fn handoff_name(self) -> &'static str {
        match self {
            Configuration::Async { handoff, .. } => handoff.name(),
            Configuration::Floor(floor) => floor.name(),
        }
    }

    /// Runs this configuration once: start-up, warm-up, the timed window, shutdown.
    pub fn run(self, work: Work, shape: Shape) -> Measurement {
        measure::begin_epoch();
        let usage = match self {
            Configuration::Floor(floor) => floors::run(floor, work, shape.count, shape.in_flight),
            Configuration::Async { runtime, handoff } => run_async(runtime, handoff, work, shape),
        };
        if std::env::var_os("HANDOFF_BENCH_DEBUG_THREADS").is_some() {
            for thread in &usage.per_thread {
                eprintln!(
                    "{self}: thread {} {:?} {:?}: cpu {:?}, {} voluntary / {} involuntary switches",
                    thread.tid,
                    thread.name,
                    thread.role,
                    thread.usage.cpu,
                    thread.usage.voluntary_switches,
                    thread.usage.involuntary_switches
                );
            }
        }
        Measurement::new(self, work, shape, &usage)
    }
}

impl fmt::Display for Configuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.runtime_name(), self.handoff_name())
    }
}

fn run_async(runtime: Runtime, handoff: HandoffKind, work: Work, shape: Shape) -> Usage {
    match (handoff, runtime) {
        (HandoffKind::ToThread, Runtime::TokioCurrent | Runtime::TokioMulti) => {
            runtime.block_on(driver::measure(runtime, TokioSpawnBlocking(work), shape))
        }
        (HandoffKind::ToThread, Runtime::AsyncStd) => {
            runtime.block_on(driver::measure(runtime, AsyncStdSpawnBlocking(work), shape))
        }
        (HandoffKind::ToThread, Runtime::Smol) => {
            runtime.block_on(driver::measure(runtime, SmolUnblock(work), shape))
        }
        (HandoffKind::Dedicated, _) => {
            runtime.block_on(async move {
                // Built inside the runtime's context, as an application would build it.
                let worker = SeedWorker::spawn(work);
                driver::measure(runtime, worker, shape).await
            })
        }
    }
}
