//! What the adaptive policy needs to know about the machine: what a park/unpark round trip
//! costs here, and whether there is a CPU to spin on.
//!
//! A park round trip is measured once per process, by the first adaptive worker's thread
//! before it runs its init: [`ROUND_TRIPS`] ping-pongs with a helper thread through
//! `std::thread::park`/`unpark` (the same futex path the worker's own blocking receive
//! takes), about 1 ms on a VM where one costs 30 us. The median is kept: a round trip
//! preempted by the host is an outlier, not the cost. Every later worker reuses it.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// Round trips in the start-up measurement.
pub(crate) const ROUND_TRIPS: usize = 24;

/// The machine as the adaptive policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Machine {
    /// What one park/unpark round trip between two threads costs here (median).
    pub(crate) park_round_trip: Duration,
    /// CPUs the worker may run on (at least 1).
    pub(crate) cpus: usize,
}

/// The park round trip measured in this process, once the first adaptive worker has
/// measured it.
static ROUND_TRIP: OnceLock<Duration> = OnceLock::new();

/// What a park/unpark round trip between two threads costs on this machine, as the first
/// adaptive worker of this process measured it (the median of 24); `None` before one ran.
pub(crate) fn measured_park_round_trip() -> Option<Duration> {
    ROUND_TRIP.get().copied()
}

impl Machine {
    /// This machine: the round trip measured once per process, the CPUs the calling
    /// thread may use (the worker thread inherits that mask and any cgroup quota).
    pub(crate) fn here(cpus: usize) -> Self {
        let park_round_trip =
            *ROUND_TRIP.get_or_init(|| measure_round_trip(&SystemClock, park_unpark_pair()));
        Self {
            park_round_trip,
            cpus,
        }
    }
}

/// The CPUs the calling thread may use (`available_parallelism`: its affinity mask and
/// cgroup quota), 1 if unknown.
pub(crate) fn usable_cpus() -> usize {
    thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// A source of instants, so the measurement can be tested with a fake one.
pub(crate) trait Clock {
    fn now(&self) -> Instant;
}

/// The real clock.
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// Times [`ROUND_TRIPS`] calls of `round_trip` with `clock`; returns the median.
pub(crate) fn measure_round_trip(clock: &impl Clock, mut round_trip: impl FnMut()) -> Duration {
    let mut samples: Vec<Duration> = (0..ROUND_TRIPS)
        .map(|_| {
            let start = clock.now();
            round_trip();
            clock.now().saturating_duration_since(start)
        })
        .collect();
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// One park/unpark ping-pong per call of the returned closure, with a helper thread that
/// ends when the closure is dropped. If the helper cannot be started, the closure returns
/// at once and the measurement reads (about) zero, which the tuning clamps.
fn park_unpark_pair() -> impl FnMut() {
    let turn = Arc::new(AtomicU32::new(0));
    let me = thread::current();
    let helper = {
        let turn = turn.clone();
        thread::Builder::new()
            .name("handoff-worker-probe".into())
            .spawn(move || pong(&turn, &me))
            .ok()
    };
    let helper_thread: Option<Thread> = helper.as_ref().map(|h| h.thread().clone());
    let mut pair = PingPong {
        turn,
        helper: helper_thread,
        join: helper,
        sent: 0,
    };
    move || pair.ping()
}

/// The caller's side of the ping-pong: odd values of `turn` are the helper's turn.
struct PingPong {
    turn: Arc<AtomicU32>,
    helper: Option<Thread>,
    join: Option<thread::JoinHandle<()>>,
    sent: u32,
}

/// `turn` value that tells the helper to stop.
const STOP: u32 = u32::MAX;

impl PingPong {
    fn ping(&mut self) {
        let Some(helper) = &self.helper else { return };
        self.sent += 2;
        self.turn.store(self.sent - 1, Ordering::Release);
        helper.unpark();
        while self.turn.load(Ordering::Acquire) != self.sent {
            thread::park();
        }
    }
}

impl Drop for PingPong {
    fn drop(&mut self) {
        if let Some(helper) = &self.helper {
            self.turn.store(STOP, Ordering::Release);
            helper.unpark();
        }
        if let Some(join) = self.join.take() {
            let _ = join.join();
        }
    }
}

/// The helper's side: waits for an odd turn, answers with the next even one.
fn pong(turn: &AtomicU32, caller: &Thread) {
    loop {
        let seen = turn.load(Ordering::Acquire);
        if seen == STOP {
            return;
        }
        if seen % 2 == 1 {
            turn.store(seen + 1, Ordering::Release);
            caller.unpark();
        } else {
            thread::park();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// A clock that moves only when told to.
    struct FakeClock {
        start: Instant,
        offset: Cell<Duration>,
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            self.start + self.offset.get()
        }
    }

    #[test]
    fn the_measurement_keeps_the_median_round_trip_not_the_outliers() {
        let clock = FakeClock {
            start: Instant::now(),
            offset: Cell::new(Duration::ZERO),
        };
        // 24 round trips: mostly 20 us, a few preempted (5 ms) and a few lucky (2 us).
        let costs: Vec<u64> = (0..ROUND_TRIPS as u64)
            .map(|i| match i % 8 {
                0 => 5_000,
                3 => 2,
                _ => 20 + i % 3,
            })
            .collect();
        let mut next = costs.iter();
        let measured = measure_round_trip(&clock, || {
            let cost = Duration::from_micros(*next.next().expect("one cost per round trip"));
            clock.offset.set(clock.offset.get() + cost);
        });
        let mut sorted = costs.clone();
        sorted.sort_unstable();
        assert_eq!(measured, Duration::from_micros(sorted[ROUND_TRIPS / 2]));
        assert!((20..=22).contains(&measured.as_micros()), "{measured:?}");
    }

    #[test]
    fn the_real_ping_pong_completes_every_round_trip_and_stops_its_helper() {
        let mut pair = park_unpark_pair();
        for _ in 0..100 {
            pair();
        }
        // Dropping joins the helper; a hang here would mean a lost wake-up.
        drop(pair);
    }
}
