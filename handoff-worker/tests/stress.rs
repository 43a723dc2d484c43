//! Stress: 10^6 calls across all executors and strategies, with seeded random panics,
//! deadlines and cancellations; every call must be accounted for exactly once.

use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::stream::{FuturesUnordered, StreamExt};
mod common;

use common::Exec;
use handoff_worker::{Builder, CallError, Stats, Strategy, Worker};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Calls per run; five runs make 10^6.
const CALLS: usize = 200_000;
/// Calls kept in flight by the caller.
const IN_FLIGHT: usize = 128;
/// A hung run fails the test instead of stalling it.
const RUN_LIMIT: Duration = Duration::from_secs(180);
const PANIC_PREFIX: &str = "stress panic";

/// What the caller asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Awaited to the end; must run and return its id.
    Plain,
    /// Panics on the worker; must come back as `Panicked`.
    Panic,
    /// Deadline already passed when sent; must not run.
    Expired,
    /// Deadline up to 200 us away; runs and returns, or times out.
    Short,
    /// Dropped after at most one poll; skipped, or ran with its value discarded.
    Dropped,
}

/// What the caller saw.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Value(usize),
    Panicked(String),
    TimedOut,
    Dropped,
    Other(CallError),
}

/// The worker's state: how many times each call id ran.
struct Ledger {
    ran: Vec<u8>,
}

/// One run's setup: executor, worker configuration, seed.
#[derive(Debug, Clone, Copy)]
struct Run {
    exec: Exec,
    strategy: Strategy,
    busy_poll: Duration,
    bound: Option<usize>,
    seed: u64,
}

const RUNS: [Run; 5] = [
    Run {
        exec: Exec::TokioCurrent,
        strategy: Strategy::Adaptive,
        busy_poll: Duration::ZERO,
        bound: None,
        seed: 1,
    },
    Run {
        exec: Exec::TokioMulti,
        strategy: Strategy::Block,
        busy_poll: Duration::ZERO,
        bound: Some(32),
        seed: 2,
    },
    Run {
        exec: Exec::AsyncStd,
        strategy: Strategy::Spin(Duration::from_micros(20)),
        busy_poll: Duration::ZERO,
        bound: None,
        seed: 3,
    },
    Run {
        exec: Exec::Smol,
        strategy: Strategy::Adaptive,
        busy_poll: Duration::from_micros(5),
        bound: None,
        seed: 4,
    },
    Run {
        exec: Exec::Futures,
        strategy: Strategy::Adaptive,
        busy_poll: Duration::ZERO,
        bound: Some(256),
        seed: 5,
    },
];

fn pick(rng: &mut ChaCha8Rng) -> Kind {
    match rng.random_range(0..100) {
        0..70 => Kind::Plain,
        70..78 => Kind::Panic,
        78..84 => Kind::Expired,
        84..90 => Kind::Short,
        _ => Kind::Dropped,
    }
}

type Pending = Pin<Box<dyn Future<Output = (usize, Outcome)> + Send>>;

fn outcome(result: Result<usize, CallError>) -> Outcome {
    match result {
        Ok(v) => Outcome::Value(v),
        Err(CallError::Panicked(m)) => Outcome::Panicked(m),
        Err(CallError::TimedOut) => Outcome::TimedOut,
        Err(other) => Outcome::Other(other),
    }
}

/// Sends one call of `kind`; either resolves it at once or returns its future.
fn send(
    worker: &Worker<Ledger>,
    id: usize,
    kind: Kind,
    rng: &mut ChaCha8Rng,
) -> Result<Outcome, Pending> {
    let run = move |ledger: &mut Ledger| {
        ledger.ran[id] += 1;
        id
    };
    match kind {
        Kind::Plain => {
            let fut = worker.call(run);
            Err(Box::pin(fut.map(move |r| (id, outcome(r)))))
        }
        Kind::Panic => {
            let fut = worker.call(move |ledger: &mut Ledger| -> usize {
                ledger.ran[id] += 1;
                panic!("{PANIC_PREFIX} {id}");
            });
            Err(Box::pin(fut.map(move |r| (id, outcome(r)))))
        }
        Kind::Expired => {
            let fut = worker.call_with_deadline(Instant::now(), move |l, _| run(l));
            Err(Box::pin(fut.map(move |r| (id, outcome(r)))))
        }
        Kind::Short => {
            let timeout = Duration::from_micros(rng.random_range(0..200));
            let fut = worker.call_with_timeout(timeout, move |l, _| run(l));
            Err(Box::pin(fut.map(move |r| (id, outcome(r)))))
        }
        Kind::Dropped => {
            let mut fut = worker.call(run);
            if rng.random_bool(0.5)
                && let Some(r) = (&mut fut).now_or_never()
            {
                return Ok(outcome(r));
            }
            drop(fut);
            Ok(Outcome::Dropped)
        }
    }
}

/// Everything one run produced.
struct Report {
    kinds: Vec<Kind>,
    outcomes: Vec<Option<Outcome>>,
    ran: Vec<u8>,
    stats: Stats,
}

async fn drive(run: Run) -> Report {
    let mut builder = Builder::new()
        .name("stress-worker")
        .strategy(run.strategy)
        .busy_poll(run.busy_poll);
    if let Some(bound) = run.bound.and_then(NonZeroUsize::new) {
        builder = builder.bounded(bound);
    }
    let worker = builder
        .spawn(|| Ledger {
            ran: vec![0; CALLS],
        })
        .expect("spawn worker");
    let mut rng = ChaCha8Rng::seed_from_u64(run.seed);
    let mut kinds = Vec::with_capacity(CALLS);
    let mut outcomes: Vec<Option<Outcome>> = vec![None; CALLS];
    let mut record = |id: usize, o: Outcome| {
        assert!(
            outcomes[id].replace(o).is_none(),
            "call {id} answered twice"
        );
    };
    let mut in_flight = FuturesUnordered::new();
    let mut next = 0;
    while next < CALLS || !in_flight.is_empty() {
        while next < CALLS && in_flight.len() < IN_FLIGHT {
            let kind = pick(&mut rng);
            kinds.push(kind);
            match send(&worker, next, kind, &mut rng) {
                Ok(o) => record(next, o),
                Err(fut) => in_flight.push(fut),
            }
            next += 1;
        }
        if let Some((id, o)) = in_flight.next().await {
            record(id, o);
        }
    }
    let ledger = worker.close().await.expect("close hands the ledger back");
    Report {
        kinds,
        outcomes,
        ran: ledger.ran,
        stats: worker.stats(),
    }
}

/// Checks that every call was accounted for exactly once, caller side against worker side.
fn check(run: Run, report: &Report) {
    let Report {
        kinds,
        outcomes,
        ran,
        stats,
    } = report;
    let (mut ran_total, mut skipped, mut value_discarded) = (0_u64, 0_u64, 0_u64);
    let (mut caller_values, mut caller_panics) = (0_u64, 0_u64);
    for (id, (kind, outcome)) in kinds.iter().zip(outcomes).enumerate() {
        let outcome = outcome
            .as_ref()
            .unwrap_or_else(|| panic!("call {id} never answered"));
        let times = ran[id];
        assert!(times <= 1, "{run:?}: call {id} ran {times} times");
        ran_total += u64::from(times);
        if times == 0 {
            skipped += 1;
        }
        let ok = match (kind, outcome) {
            (Kind::Plain, Outcome::Value(v)) => *v == id && times == 1,
            (Kind::Panic, Outcome::Panicked(m)) => {
                *m == format!("{PANIC_PREFIX} {id}") && times == 1
            }
            (Kind::Expired, Outcome::TimedOut) => times == 0,
            (Kind::Short | Kind::Dropped, Outcome::Value(v)) => *v == id && times == 1,
            // The worker checks deadlines only before it starts a call: a timed-out call
            // never ran.
            (Kind::Short, Outcome::TimedOut) => times == 0,
            (Kind::Dropped, Outcome::Dropped) => {
                value_discarded += u64::from(times);
                true
            }
            _ => false,
        };
        assert!(
            ok,
            "{run:?}: call {id} of kind {kind:?} ran {times} times, caller saw {outcome:?}"
        );
        match outcome {
            Outcome::Value(_) => caller_values += 1,
            Outcome::Panicked(_) => caller_panics += 1,
            _ => {}
        }
    }
    let calls = CALLS as u64;
    assert_eq!(
        stats.ok
            + stats.panicked
            + stats.skipped_cancelled
            + stats.skipped_timed_out
            + stats.unqueued,
        calls,
        "{run:?}: worker-side totals {stats:?}"
    );
    assert_eq!(stats.refused, 0, "{run:?}");
    assert_eq!(ran_total, stats.ok + stats.panicked, "{run:?}: {stats:?}");
    assert_eq!(
        skipped,
        stats.skipped_cancelled + stats.skipped_timed_out + stats.unqueued,
        "{run:?}: {stats:?}"
    );
    assert_eq!(caller_panics, stats.panicked, "{run:?}: {stats:?}");
    assert_eq!(
        caller_values + value_discarded,
        stats.ok,
        "{run:?}: {stats:?}"
    );
    let count = |k: Kind| kinds.iter().filter(|&&x| x == k).count();
    eprintln!(
        "{:?}/{:?}/busy poll {:?}: {} calls (plain {}, panic {}, expired {}, short {}, dropped {}) -> {stats:?}",
        run.exec,
        run.strategy,
        run.busy_poll,
        CALLS,
        count(Kind::Plain),
        count(Kind::Panic),
        count(Kind::Expired),
        count(Kind::Short),
        count(Kind::Dropped),
    );
}

#[test]
fn a_million_calls_with_panics_deadlines_and_cancellations_are_each_answered_once() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let quiet = info
            .payload()
            .downcast_ref::<String>()
            .is_some_and(|m| m.starts_with(PANIC_PREFIX));
        if !quiet {
            default_hook(info);
        }
    }));
    for run in RUNS {
        let (tx, rx) = mpsc::channel();
        let started = Instant::now();
        let runner = std::thread::spawn(move || {
            let report = run.exec.block_on(drive(run));
            let _ = tx.send(report);
        });
        let report = match rx.recv_timeout(RUN_LIMIT) {
            Ok(report) => report,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("{run:?} hung"),
            Err(mpsc::RecvTimeoutError::Disconnected) => match runner.join() {
                Err(panic) => std::panic::resume_unwind(panic),
                Ok(()) => unreachable!("the runner sends its report before ending"),
            },
        };
        check(run, &report);
        eprintln!("  took {:?}", started.elapsed());
    }
}
