//! Whether the worker thread is losing its CPU to other runnable work: then neither it nor
//! its callers spin, as under [`Strategy::Block`](crate::Strategy::Block), for a while.
//!
//! # Why
//!
//! A spin pays only while the spinning thread has a CPU to itself. Beside other CPU-bound
//! work (a build, a second service) there may be more runnable threads than CPUs, and a
//! spinning worker then holds, or waits for, a CPU that another thread needs. Measured on
//! the 2-vCPU VMs this crate is tuned on, with one CPU-bound process beside a SQLite reader
//! whose threads were not pinned: the worker shared the busy process's CPU, spent 88% of its
//! time runnable but waiting for that CPU (1.75 s of 2 s, preempted 6,714 times), never
//! slept, and answered in 40 us what takes 3.3, while its caller's CPU idled between calls.
//! A worker that sleeps between calls lets the kernel's wake-up placement put it on the idle
//! CPU instead, and answered in 8.7 us.
//!
//! # How
//!
//! 1. Every [`WINDOW`] or so (read after every [`CHECK_EVERY`] calls the worker notes,
//!    [`crate::thread`], and at the clock reads of a spin) the worker reads how long it has waited on a run queue: the kernel's
//!    `run_delay` ([`crate::os::RunDelay`], a file the worker keeps open while it runs), time
//!    runnable but not running, whatever the thread was doing (time a call spends asleep,
//!    on I/O say, is not in it).
//! 2. If that is more than two thirds of each of [`STREAK`] windows in a row, and the
//!    worker may run on another CPU, it is crowded: for
//!    [`MIN_HOLD`] it parks whenever its queue is empty, does not step off its caller's CPU
//!    ([`crate::placement`]: two threads that sleep in turn share one CPU well), and tells its
//!    callers not to spin ([`crate::costs`]).
//!    Not at half: a spinning thread that shares a CPU fairly with one other waits half the
//!    time, and answers sooner than one that sleeps (measured: a worker pinned beside a
//!    CPU-bound process, 6.6 us per read spinning, 30-55 us sleeping, as it must wake on
//!    that CPU). Not for a moment's crowd either (a second runtime thread spinning up to
//!    steal work): sleeping through it would cost more than it saves.
//! 3. Then it spins again. Crowded again within a hold of leaving, it doubles the hold (up
//!    to [`MAX_HOLD`]), so a host that stays busy costs one window of spinning per
//!    [`MAX_HOLD`]; crowded later than that, it starts again from [`MIN_HOLD`].
//!
//! Where the run delay cannot be read (not Linux, or a kernel without scheduler statistics)
//! the worker is never crowded.

use std::time::{Duration, Instant};

use crate::os::RunDelay;
use crate::stats::Counters;

/// Calls between two clock reads of the check.
pub(crate) const CHECK_EVERY: u32 = 8;
/// The shortest window the run delay is judged over.
pub(crate) const WINDOW: Duration = Duration::from_millis(4);
/// Windows in a row, each more than two thirds spent waiting for the CPU, that make a crowd.
pub(crate) const STREAK: u32 = 3;
/// The first hold without spinning ...
pub(crate) const MIN_HOLD: Duration = Duration::from_millis(100);
/// ... and the longest.
pub(crate) const MAX_HOLD: Duration = Duration::from_millis(3_200);

/// The worker's view of whether it is crowded (module docs).
#[derive(Debug)]
pub(crate) struct Crowding {
    run_delay: Option<RunDelay>,
    calls: u32,
    window: Window,
    /// Windows in a row that were more than two thirds spent waiting.
    streak: u32,
    state: State,
}

/// The window being measured: when it began and the run delay then.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    delayed: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Spinning as the policy says; the last hold was `hold`, ended at `left`.
    Free {
        hold: Duration,
        left: Option<Instant>,
    },
    /// Not spinning until `until`.
    Crowded { until: Instant, hold: Duration },
}

impl Crowding {
    /// For the calling (worker) thread; `watches` for the adaptive strategies (the others
    /// never spin, so are never crowded).
    pub(crate) fn new(watches: bool) -> Self {
        let run_delay = watches.then(RunDelay::open).flatten();
        Self::with(run_delay)
    }

    fn with(run_delay: Option<RunDelay>) -> Self {
        let delayed = run_delay
            .as_ref()
            .and_then(RunDelay::read)
            .unwrap_or_default();
        Self {
            run_delay,
            calls: 0,
            streak: 0,
            window: Window {
                start: Instant::now(),
                delayed,
            },
            state: State::Free {
                hold: MIN_HOLD,
                left: None,
            },
        }
    }

    /// Whether the worker should not spin now.
    pub(crate) fn crowded(&self) -> bool {
        matches!(self.state, State::Crowded { .. })
    }

    /// Step 1 after a noted call: every [`CHECK_EVERY`] of them, a check.
    pub(crate) fn after_call(&mut self, counters: &Counters) {
        if self.run_delay.is_none() {
            return;
        }
        self.calls += 1;
        if self.calls >= CHECK_EVERY {
            self.calls = 0;
            self.check(Instant::now(), counters);
        }
    }

    /// Steps 1-3 at `now` (a clock the caller read anyway).
    pub(crate) fn check(&mut self, now: Instant, counters: &Counters) {
        self.expire(now);
        if now.saturating_duration_since(self.window.start) < WINDOW {
            return;
        }
        if let Some(delayed) = self.run_delay.as_ref().and_then(RunDelay::read) {
            self.judge(now, delayed, crate::os::may_move, counters);
        }
    }

    /// Step 3: a hold that is over at `now` ends.
    fn expire(&mut self, now: Instant) {
        if let State::Crowded { until, hold } = self.state
            && now >= until
        {
            self.state = State::Free {
                hold,
                left: Some(now),
            };
        }
    }

    /// Steps 2-3: the window ending at `now`, when the thread's run delay reads `delayed`.
    fn judge(
        &mut self,
        now: Instant,
        delayed: Duration,
        may_move: impl FnOnce() -> bool,
        counters: &Counters,
    ) {
        let elapsed = now.saturating_duration_since(self.window.start);
        let waited = delayed.saturating_sub(self.window.delayed);
        self.window = Window {
            start: now,
            delayed,
        };
        self.streak = if waited * 3 > elapsed * 2 {
            self.streak + 1
        } else {
            0
        };
        if let State::Free { hold, left } = self.state
            && self.streak >= STREAK
            && may_move()
        {
            self.streak = 0;
            let again = left.is_some_and(|left| now.saturating_duration_since(left) <= hold);
            let hold = if again {
                (hold * 2).min(MAX_HOLD)
            } else {
                MIN_HOLD
            };
            self.state = State::Crowded {
                until: now + hold,
                hold,
            };
            counters.crowded();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A worker whose run delay the test feeds, window by window.
    struct Feed {
        crowding: Crowding,
        counters: Counters,
        now: Instant,
        delayed: Duration,
    }

    impl Feed {
        fn new() -> Self {
            let now = Instant::now();
            let mut crowding = Crowding::with(None);
            crowding.window = Window {
                start: now,
                delayed: Duration::ZERO,
            };
            Self {
                crowding,
                counters: Counters::default(),
                now,
                delayed: Duration::ZERO,
            }
        }

        /// `n` windows of [`WINDOW`], each `waited_percent` spent waiting, on a thread
        /// that may move (`may_move`) or not.
        fn windows_on(&mut self, n: u128, waited_percent: u32, may_move: bool) {
            for _ in 0..n {
                self.now += WINDOW;
                self.delayed += WINDOW * waited_percent / 100;
                self.crowding.expire(self.now);
                self.crowding
                    .judge(self.now, self.delayed, || may_move, &self.counters);
            }
        }

        fn windows(&mut self, n: u128, waited_percent: u32) {
            self.windows_on(n, waited_percent, true);
        }

        /// The state a crowd beginning now with `hold` leads to.
        fn crowded_for(&self, hold: Duration) -> State {
            State::Crowded {
                until: self.now + hold,
                hold,
            }
        }
    }

    /// Windows in a hold.
    fn windows_in(hold: Duration) -> u128 {
        hold.as_millis() / WINDOW.as_millis()
    }

    #[test]
    fn a_worker_that_keeps_waiting_for_its_cpu_is_crowded_and_holds_off_longer_each_time() {
        let streak = u128::from(STREAK);
        let mut feed = Feed::new();
        // Three fifths of every window: more than a CPU shared fairly with one other thread
        // costs, still not a crowd.
        feed.windows(10, 60);
        assert!(!feed.crowding.crowded());
        // Nine tenths, but not [`STREAK`] windows in a row.
        for _ in 0..5 {
            feed.windows(streak - 1, 90);
            feed.windows(1, 10);
        }
        assert!(!feed.crowding.crowded());
        feed.windows(streak, 90);
        assert_eq!(feed.crowding.state, feed.crowded_for(MIN_HOLD));
        assert_eq!(feed.counters.snapshot_crowded(), 1);
        // Still crowded within the hold, whatever the windows show ...
        feed.windows(5, 0);
        assert!(feed.crowding.crowded());
        // ... and spinning again after it.
        feed.windows(windows_in(MIN_HOLD) - 5, 0);
        assert!(!feed.crowding.crowded());
        // Crowded again within a hold of leaving, it holds twice as long, and so on up to
        // the longest hold.
        let mut hold = MIN_HOLD;
        for crowded in 2..10 {
            feed.windows(streak, 90);
            hold = (hold * 2).min(MAX_HOLD);
            assert_eq!(feed.crowding.state, feed.crowded_for(hold));
            assert_eq!(feed.counters.snapshot_crowded(), crowded);
            feed.windows(windows_in(hold), 0);
            assert!(!feed.crowding.crowded());
        }
        assert_eq!(hold, MAX_HOLD);
        // Crowded again only long after it left: the shortest hold again.
        feed.windows(windows_in(2 * MAX_HOLD), 0);
        feed.windows(streak, 90);
        assert_eq!(feed.crowding.state, feed.crowded_for(MIN_HOLD));
    }

    #[test]
    fn a_worker_that_may_not_move_is_never_crowded() {
        let mut feed = Feed::new();
        feed.windows_on(10, 100, false);
        assert!(!feed.crowding.crowded());
        assert_eq!(feed.counters.snapshot_crowded(), 0);
    }
}
