//! The configurations (`runtime/handoff` ids) and how each one is run.

use std::fmt;

use strum::IntoEnumIterator as _;

use crate::driver::{self, Shape, Single, Windows};
use crate::floors::{self, Floor};
use crate::handoff::dedicated::{Dedicated, DedicatedPool, SPIN_FOR};
use crate::handoff::patterns::{CrossbeamOneshot, FlumeOneshot, PoolMutex};
use crate::handoff::peers::{
    self, AsyncSqlite, AsyncSqlitePool, DeadpoolSqlite, HandoffSqlite, TokioRusqlite,
};
use crate::handoff::to_thread::{AsyncStdSpawnBlocking, SmolUnblock, TokioSpawnBlocking};
use crate::line::{self, ConfigId, Measurement};
use crate::measure::{self, Usage};
use crate::pinning;
use crate::runtime::Runtime;
use crate::work::{Work, Workload};
use crate::worker::{Builder, Strategy};

/// How the async side hands its calls over; its name is the handoff part of an id.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::EnumIter, strum::IntoStaticStr, strum::Display,
)]
#[strum(serialize_all = "kebab-case")]
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
    #[strum(serialize = "dedicated-busypoll")]
    DedicatedBusyPoll,
    /// tokio-rusqlite's shape: crossbeam channel + tokio oneshot.
    CrossbeamOneshot,
    /// sqlx-sqlite's shape: bounded flume channel + futures oneshot.
    FlumeOneshot,
    /// deadpool-sync's shape: the runtime's pool primitive + `Arc<Mutex<T>>`.
    PoolMutex,
    /// The project's worker (adaptive), [`peers::pool_size`] of them, calls dealt
    /// round-robin: the counterpart of `async-sqlite-pool`.
    DedicatedPool,
    /// The real `tokio-rusqlite` ([`TokioRusqlite`]).
    TokioRusqlite,
    /// The real `async-sqlite` `Client` ([`AsyncSqlite`]).
    AsyncSqlite,
    /// The real `async-sqlite` `Pool` ([`AsyncSqlitePool`]).
    AsyncSqlitePool,
    /// The real `deadpool-sqlite` ([`DeadpoolSqlite`]); tokio and async-std only.
    DeadpoolSqlite,
    /// This workspace's `handoff-sqlite` ([`HandoffSqlite`]): the project's worker behind
    /// tokio-rusqlite's API.
    HandoffSqlite,
    /// `handoff-sqlite` on a worker that wakes the callers of up to [`peers::WAKE_BATCH`]
    /// answered calls together while more are queued (`Builder::batch_wakes`).
    HandoffSqliteBatched,
}

impl HandoffKind {
    /// The handoff part of a configuration id.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// Whether this handoff runs on `runtime` (deadpool supports tokio and async-std only).
    pub fn runs_on(self, runtime: Runtime) -> bool {
        self != HandoffKind::DeadpoolSqlite || DeadpoolSqlite::supports(runtime)
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
        let asynchronous = Runtime::iter().flat_map(|runtime| {
            HandoffKind::iter()
                .filter(move |handoff| handoff.runs_on(runtime))
                .map(move |handoff| Configuration::Async { runtime, handoff })
        });
        asynchronous
            .chain(Floor::iter().map(Configuration::Floor))
            .collect()
    }

    /// `runtime/handoff`.
    pub fn id(self) -> ConfigId {
        ConfigId::new(self.runtime_name(), self.handoff_name())
            .expect("the configurations' names follow the id grammar (tested)")
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
        line::of_run(&self.id(), work, shape, &usage)
    }

    /// Runs this configuration with the timed windows `windows` asks for: start-up,
    /// warm-up, the windows, shutdown. Returns `windows`, which has seen every window.
    pub fn run_windows<W: Windows>(self, work: Work, shape: Shape, windows: W) -> W {
        // No thread of this configuration inherits an earlier one's pinned mask.
        pinning::release();
        // Set-up, outside every window: SQL work's database is created here.
        let workload = Workload::prepare(work);
        measure::begin_epoch();
        match self {
            Configuration::Floor(floor) => floors::run(floor, &workload, shape, windows),
            Configuration::Async { runtime, handoff } => {
                run_async(runtime, handoff, workload, shape, windows)
            }
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
    workload: Workload,
    shape: Shape,
    windows: W,
) -> W {
    // Worker threads and connections are started inside the runtime's context, as an
    // application would start them.
    // One arm runs, so each may move `windows`.
    macro_rules! measure {
        ($handoff:expr) => {
            driver::measure(runtime, $handoff, shape, windows).await
        };
    }
    let adaptive = Builder::new().strategy(Strategy::Adaptive);
    let with = |strategy: Strategy| Builder::new().strategy(strategy);
    runtime.block_on(async move {
        match handoff {
            HandoffKind::ToThread => match runtime {
                Runtime::TokioCurrent | Runtime::TokioMulti => {
                    measure!(TokioSpawnBlocking(workload))
                }
                Runtime::AsyncStd => measure!(AsyncStdSpawnBlocking(workload)),
                Runtime::Smol => measure!(SmolUnblock(workload)),
            },
            HandoffKind::Dedicated => measure!(Dedicated::spawn(&workload, adaptive)),
            HandoffKind::DedicatedBlock => {
                measure!(Dedicated::spawn(&workload, with(Strategy::Block)))
            }
            HandoffKind::DedicatedSpin => {
                measure!(Dedicated::spawn(&workload, with(Strategy::Spin(SPIN_FOR))))
            }
            HandoffKind::DedicatedBusyPoll => {
                measure!(Dedicated::spawn(&workload, adaptive.busy_poll(SPIN_FOR)))
            }
            HandoffKind::CrossbeamOneshot => measure!(CrossbeamOneshot::spawn(&workload)),
            HandoffKind::FlumeOneshot => measure!(FlumeOneshot::spawn(&workload)),
            HandoffKind::PoolMutex => measure!(PoolMutex::new(runtime, &workload)),
            HandoffKind::DedicatedPool => {
                let size = peers::pool_size();
                measure!(DedicatedPool::spawn(&workload, &adaptive, size))
            }
            HandoffKind::TokioRusqlite => measure!(TokioRusqlite::open(&workload).await),
            HandoffKind::AsyncSqlite => measure!(AsyncSqlite::open(&workload).await),
            HandoffKind::AsyncSqlitePool => {
                measure!(AsyncSqlitePool::open(&workload).await)
            }
            HandoffKind::DeadpoolSqlite => {
                measure!(DeadpoolSqlite::open(&workload, runtime).await)
            }
            HandoffKind::HandoffSqlite => {
                measure!(HandoffSqlite::open(&workload, handoff_worker::Builder::new()).await)
            }
            HandoffKind::HandoffSqliteBatched => {
                let worker = handoff_worker::Builder::new().batch_wakes(peers::WAKE_BATCH);
                measure!(HandoffSqlite::open(&workload, worker).await)
            }
        }
    })
}
