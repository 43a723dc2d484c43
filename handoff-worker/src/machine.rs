//! What the adaptive policy needs to know about the machine: what a park/unpark round trip
//! costs here, and whether there is a CPU to spin on.
//!
//! A park round trip is measured once per process, by the first adaptive worker's thread
//! before it runs its init: [`ROUND_TRIPS`] wake-ups of a parked helper thread through
//! `std::thread::park`/`unpark` (the same futex path the worker's own blocking receive
//! takes), each after the helper has been left alone for 100 us: about 10 ms here. The
//! median is kept: a wake-up preempted by the host is an outlier, not the cost. Every later
//! worker reuses it.
//!
//! The measuring thread spins while it waits for the helper's answer, so the helper wakes on
//! another CPU, as a parked worker does when a running caller sends it a call. A ping-pong in
//! which both sides park measures something else on a VM: the scheduler soon runs both on
//! one CPU, where a switch costs 2-3 us, while waking a thread on another vCPU costs 50-100
//! us on this project's machines; a worker tuned to the first number parks between
//! back-to-back calls and pays the second every time. A round trip is two such wake-ups, so
//! the median wake-up counts twice.

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

/// Times [`ROUND_TRIPS`] calls of `wake_up` with `clock`; returns twice the median (a round
/// trip is two wake-ups).
pub(crate) fn measure_round_trip(clock: &impl Clock, mut wake_up: impl FnMut()) -> Duration {
    let mut samples: Vec<Duration> = (0..ROUND_TRIPS)
        .map(|_| {
            let start = clock.now();
            wake_up();
            clock.now().saturating_duration_since(start)
        })
        .collect();
    samples.sort_unstable();
    samples[samples.len() / 2] * 2
}

/// How long the measuring thread spins for the helper's answer before it parks instead (the
/// helper may have to share its CPU: a one-CPU affinity mask, or a preempted vCPU).
const SPIN_LIMIT: Duration = Duration::from_millis(1);

/// How long the measuring thread leaves the helper alone before each wake-up, so the helper
/// has parked (24 of them: a few milliseconds, once per process).
const HELPER_SETTLE: Duration = Duration::from_micros(100);

/// One wake-up of a parked helper per call of the returned closure (module docs), with a
/// helper thread that ends when the closure is dropped. If the helper cannot be started,
/// the closure returns at once and the measurement reads (about) zero, which the tuning
/// clamps.
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
        // The helper must be asleep in `park` when it is woken, not still on its way there
        // from the last answer (which a spinning caller sees at once).
        thread::sleep(HELPER_SETTLE);
        self.sent += 2;
        self.turn.store(self.sent - 1, Ordering::Release);
        helper.unpark();
        let start = Instant::now();
        while self.turn.load(Ordering::Acquire) != self.sent {
            if start.elapsed() < SPIN_LIMIT {
                std::hint::spin_loop();
            } else {
                thread::park();
            }
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
        // 24 wake-ups: mostly 20 us, a few preempted (5 ms) and a few lucky (2 us).
        let costs: Vec<u64> = (0..ROUND_TRIPS as u64)
            .map(|i| match i % 8 {
                0 => 5_000,
                3 => 2,
                _ => 20 + i % 3,
            })
            .collect();
        let mut next = costs.iter();
        let measured = measure_round_trip(&clock, || {
            let cost = Duration::from_micros(*next.next().expect("one cost per wake-up"));
            clock.offset.set(clock.offset.get() + cost);
        });
        let mut sorted = costs.clone();
        sorted.sort_unstable();
        // A round trip is two wake-ups.
        assert_eq!(measured, 2 * Duration::from_micros(sorted[ROUND_TRIPS / 2]));
        assert!((40..=44).contains(&measured.as_micros()), "{measured:?}");
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
