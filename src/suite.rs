//! The configurations (`runtime/handoff` ids) and how each one is run.

use std::fmt;

use crate::driver::{self, Shape, Single, Windows};
use crate::floors::{self, Floor};
use crate::handoff::dedicated::{Dedicated, SPIN_FOR};
use crate::handoff::patterns::{CrossbeamOneshot, FlumeOneshot, PoolMutex};
use crate::handoff::to_thread::{AsyncStdSpawnBlocking, SmolUnblock, TokioSpawnBlocking};
use crate::measure::{self, Usage};
use crate::measurement::{IdParts, Measurement};
use crate::pinning;
use crate::runtime::Runtime;
use crate::work::Work;
use crate::worker::{Builder, Strategy};

/// How the async side hands its calls over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoffKind {
    /// The runtime's own pool primitive.
    ToThread,
    /// The project's worker with its default strategy ([`Strategy::Adaptive`]).
    Dedicated,
    /// The project's worker, parking as soon as its queue is empty.
    DedicatedBlock,
    /// The project's worker, spinning up to [`SPIN_FOR`] before it parks.
    DedicatedSpin,
    /// The project's worker (adaptive), and the awaiting side polls up to [`SPIN_FOR`] for the
    /// reply ([`Builder::busy_poll`]).
    DedicatedBusyPoll,
    /// tokio-rusqlite's shape: crossbeam channel + tokio oneshot.
    CrossbeamOneshot,
    /// sqlx-sqlite's shape: bounded flume channel + futures oneshot.
    FlumeOneshot,
    /// deadpool-sync's shape: the runtime's pool primitive + `Arc<Mutex<T>>`.
    PoolMutex,
}

impl HandoffKind {
    /// Every handoff, in report order.
    pub const ALL: [HandoffKind; 8] = [
        HandoffKind::ToThread,
        HandoffKind::Dedicated,
        HandoffKind::DedicatedBlock,
        HandoffKind::DedicatedSpin,
        HandoffKind::DedicatedBusyPoll,
        HandoffKind::CrossbeamOneshot,
        HandoffKind::FlumeOneshot,
        HandoffKind::PoolMutex,
    ];

    /// The handoff's part of a configuration id.
    pub fn name(self) -> &'static str {
        match self {
            HandoffKind::ToThread => "to-thread",
            HandoffKind::Dedicated => "dedicated",
            HandoffKind::DedicatedBlock => "dedicated-block",
            HandoffKind::DedicatedSpin => "dedicated-spin",
            HandoffKind::DedicatedBusyPoll => "dedicated-busypoll",
            HandoffKind::CrossbeamOneshot => "crossbeam-oneshot",
            HandoffKind::FlumeOneshot => "flume-oneshot",
            HandoffKind::PoolMutex => "pool-mutex",
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
        self.to_string()
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
        let usage = self
            .run_windows(work, shape, Single::new(shape.count))
            .into_usage();
        self.debug_threads(&usage);
        Measurement::new(self.id_parts(), work, shape, &usage)
    }

    /// Runs this configuration with the timed windows `windows` asks for: start-up,
    /// warm-up, the windows, shutdown. Returns `windows`, which has seen every window.
    pub fn run_windows<W: Windows>(self, work: Work, shape: Shape, windows: W) -> W {
        // No thread of this configuration inherits an earlier one's pinned mask.
        pinning::release();
        measure::begin_epoch();
        match self {
            Configuration::Floor(floor) => floors::run(floor, work, shape, windows),
            Configuration::Async { runtime, handoff } => {
                run_async(runtime, handoff, work, shape, windows)
            }
        }
    }

    /// The two parts of the id, for [`Measurement::new`].
    pub fn id_parts(self) -> IdParts<'static> {
        IdParts {
            runtime: self.runtime_name(),
            handoff: self.handoff_name(),
        }
    }

    /// With `HANDOFF_BENCH_DEBUG_THREADS` set, every thread's share of the window on stderr.
    fn debug_threads(self, usage: &Usage) {
        if std::env::var_os("HANDOFF_BENCH_DEBUG_THREADS").is_some() {
            for thread in &usage.per_thread {
                eprintln!(
                    "{self}: thread {} {:?} {:?} on cpus {:?}: cpu {:?}, {} voluntary / {} involuntary switches",
                    thread.tid,
                    thread.name,
                    thread.role,
                    thread.cpus,
                    thread.usage.cpu,
                    thread.usage.voluntary_switches,
                    thread.usage.involuntary_switches
                );
            }
        }
    }
}

impl fmt::Display for Configuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.runtime_name(), self.handoff_name())
    }
}

fn run_async<W: Windows>(
    runtime: Runtime,
    handoff: HandoffKind,
    work: Work,
    shape: Shape,
    windows: W,
) -> W {
    // Worker threads are started inside the runtime's context, as an application would.
    let dedicated = |worker: Builder, windows: W| {
        runtime.block_on(async move {
            driver::measure(runtime, Dedicated::spawn(work, worker), shape, windows).await
        })
    };
    let with = |strategy: Strategy| Builder::new().strategy(strategy);
    match handoff {
        HandoffKind::ToThread => match runtime {
            Runtime::TokioCurrent | Runtime::TokioMulti => runtime.block_on(driver::measure(
                runtime,
                TokioSpawnBlocking(work),
                shape,
                windows,
            )),
            Runtime::AsyncStd => runtime.block_on(driver::measure(
                runtime,
                AsyncStdSpawnBlocking(work),
                shape,
                windows,
            )),
            Runtime::Smol => {
                runtime.block_on(driver::measure(runtime, SmolUnblock(work), shape, windows))
            }
        },
        HandoffKind::Dedicated => dedicated(with(Strategy::Adaptive), windows),
        HandoffKind::DedicatedBlock => dedicated(with(Strategy::Block), windows),
        HandoffKind::DedicatedSpin => dedicated(with(Strategy::Spin(SPIN_FOR)), windows),
        HandoffKind::DedicatedBusyPoll => {
            dedicated(with(Strategy::Adaptive).busy_poll(SPIN_FOR), windows)
        }
        HandoffKind::CrossbeamOneshot => runtime.block_on(async move {
            driver::measure(runtime, CrossbeamOneshot::spawn(work), shape, windows).await
        }),
        HandoffKind::FlumeOneshot => runtime.block_on(async move {
            driver::measure(runtime, FlumeOneshot::spawn(work), shape, windows).await
        }),
        HandoffKind::PoolMutex => runtime.block_on(driver::measure(
            runtime,
            PoolMutex::new(runtime, work),
            shape,
            windows,
        )),
    }
}
