//! The physical floors: two plain threads and no runtime, handing calls back and forth
//! through two atomic counters, either busy-spinning or with `park`/`unpark`.
//!
//! # How it works
//!
//! 1. The caller owns `requested`, the partner owns `completed`; both only grow.
//! 2. The caller may issue call `i` while fewer than `in_flight` calls are outstanding
//!    (`i - completed < in_flight`); it publishes it with a release store of `i + 1`.
//! 3. The partner runs every call below `requested` in order, writes call `i`'s answer to
//!    slot `i % in_flight` of a ring, and publishes the completion with a release store;
//!    acquire loads on the other side make the stores (and the answer) visible. The caller
//!    checks every answer before it issues the call that would reuse its slot (`i +
//!    in_flight` needs `completed > i`), so an answer is never overwritten unread.
//! 4. `Spin` waits by spinning on the other counter. `Park` waits with `thread::park`, and
//!    each side `unpark`s the other after publishing; park/unpark keeps a wake-up token, so
//!    a wake-up sent before the other side parks is not lost. With one call in flight each
//!    round trip then blocks each thread once: two voluntary context switches per call.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use crate::driver::{self, Shape, Windows};
use crate::measure::{self, Role, Window};
use crate::work::{self, Session, Workload, spin_for};

/// How the two threads wait for each other; its name is the handoff part of `floor/<name>`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::EnumIter, strum::IntoStaticStr, strum::Display,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Floor {
    /// Busy-spin: the cross-core limit.
    Spin,
    /// `park`/`unpark`: the limit of any handoff that blocks.
    Park,
}

impl Floor {
    /// The floor's part of a configuration id (`floor/<name>`).
    pub fn name(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug)]
struct Counters {
    requested: CachePadded<AtomicU64>,
    completed: CachePadded<AtomicU64>,
    /// Call `i`'s answer lives in slot `i % len` until the caller has checked it.
    answers: Box<[CachePadded<AtomicU64>]>,
    stop: AtomicBool,
}

impl Counters {
    fn new(in_flight: u64) -> Self {
        Self {
            requested: CachePadded::default(),
            completed: CachePadded::default(),
            answers: (0..in_flight).map(|_| CachePadded::default()).collect(),
            stop: AtomicBool::new(false),
        }
    }

    fn slot(&self, call: u64) -> &AtomicU64 {
        &self.answers[(call % self.answers.len() as u64) as usize]
    }
}

struct Side {
    floor: Floor,
    other: Thread,
}

impl Side {
    /// Waits (spinning or parked) until `ready` answers, and returns its answer. Under
    /// valgrind the waiting is not counted ([`crate::counters::waiting`]): how many times the
    /// loop turns depends on scheduling. Checking once before counting is switched off keeps
    /// a call that is already there on the counted path.
    fn wait_until<T>(&self, mut ready: impl FnMut() -> Option<T>) -> T {
        if let Some(value) = ready() {
            return value;
        }
        let _waiting = crate::counters::waiting();
        loop {
            if let Some(value) = ready() {
                return value;
            }
            match self.floor {
                Floor::Spin => crate::counters::spin_hint(),
                Floor::Park => thread::park(),
            }
        }
    }

    fn notify(&self) {
        if self.floor == Floor::Park {
            self.other.unpark();
        }
    }
}

/// Runs `shape.count` calls through the floor (after the warm-up) and returns
/// what the timed window cost. `shape.in_flight` calls may be outstanding at once; the gap
/// (a plain sleep: there is no runtime) and the injected work precede every call.
pub fn run<W: Windows>(floor: Floor, workload: &Workload, shape: Shape, mut windows: W) -> W {
    let counters = Arc::new(Counters::new(shape.in_flight));
    let workload = workload.clone();
    let caller = thread::current();
    let partner = {
        let counters = Arc::clone(&counters);
        thread::Builder::new()
            .name(format!("floor-{}", floor.name()))
            .spawn(move || {
                serve(
                    &counters,
                    &Side {
                        floor,
                        other: caller,
                    },
                    workload.session(),
                )
            })
            .expect("spawning the floor's partner thread")
    };
    measure::register(Role::Loop);
    let side = Side {
        floor,
        other: partner.thread().clone(),
    };

    // Warm-up outside the window, as on the async side: a checked call, then a steady flow
    // of back-to-back calls with the run's in-flight count for `driver::WARM_UP`.
    let one = Shape {
        count: 1,
        in_flight: 1,
        gap: Duration::ZERO,
        inject: Duration::ZERO,
        inject_loops: 0,
        pin: false,
        warm_up: Duration::ZERO,
    };
    issue_calls(&counters, &side, 0, one, None);
    crate::pinning::pin_if(shape.pin);
    let phase = driver::Settle::starting_now(shape.warm_up);
    let mut next = issue_calls(&counters, &side, 1, phase.shape(shape), phase.until);
    crate::pinning::pin_if(shape.pin);
    while let Some(count) = windows.next_window() {
        let window = Window::start();
        next = issue_calls(&counters, &side, next, Shape { count, ..shape }, None);
        windows.finished(count, window.finish());
    }

    counters.stop.store(true, Ordering::Release);
    side.notify();
    let answered = partner.join().expect("floor partner thread panicked");
    assert_eq!(answered, next, "every call answered exactly once");
    windows
}

/// Caller side: issues `shape.count` calls numbered from `first` (none after `stop`), and
/// returns when all issued calls have completed and their answers have been checked, with
/// the number of the next call.
fn issue_calls(
    counters: &Counters,
    side: &Side,
    first: u64,
    shape: Shape,
    stop: Option<Instant>,
) -> u64 {
    let mut end = first.saturating_add(shape.count);
    let start = Instant::now();
    let mut checked = first;
    let mut check_completed = |completed: u64| {
        for call in checked..completed {
            let answer = counters.slot(call).load(Ordering::Relaxed);
            assert_eq!(
                answer,
                work::answer(call),
                "floor call {call} answered wrongly"
            );
        }
        checked = checked.max(completed);
    };
    for (index, call) in (first..end).enumerate() {
        if stop.is_some_and(|stop| Instant::now() >= stop) {
            end = call;
            break;
        }
        if !shape.gap.is_zero() {
            // Arrivals keep to a fixed schedule however long each call took.
            let due = start + shape.gap * u32::try_from(index).unwrap_or(u32::MAX);
            thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        spin_for(shape.inject);
        work::busy_loops(shape.inject_loops);
        // Wait for a free slot: until `call - completed < in_flight`.
        let completed = side.wait_until(|| {
            let completed = counters.completed.load(Ordering::Acquire);
            (call - completed < shape.in_flight).then_some(completed)
        });
        check_completed(completed);
        counters.requested.store(call + 1, Ordering::Release);
        side.notify();
    }
    side.wait_until(|| (counters.completed.load(Ordering::Acquire) == end).then_some(()));
    check_completed(end);
    end
}

/// Partner side: runs calls until told to stop; returns how many it ran.
fn serve(counters: &Counters, side: &Side, mut session: Session) -> u64 {
    measure::register(Role::Worker);
    let mut done = 0;
    loop {
        let more = side.wait_until(|| {
            if done < counters.requested.load(Ordering::Acquire) {
                Some(true)
            } else {
                counters.stop.load(Ordering::Acquire).then_some(false)
            }
        });
        if !more {
            return done;
        }
        counters
            .slot(done)
            .store(session.answer(done), Ordering::Relaxed);
        done += 1;
        counters.completed.store(done, Ordering::Release);
        side.notify();
    }
}
