//! The physical floors: two plain threads and no runtime, handing calls back and forth
//! through two atomic counters, either busy-spinning or with `park`/`unpark`.
//!
//! # How it works
//!
//! 1. The caller owns `requested`, the partner owns `completed`; both only grow.
//! 2. The caller may issue call `i` while fewer than `in_flight` calls are outstanding
//!    (`i - completed < in_flight`); it publishes it with a release store of `i + 1`.
//! 3. The partner runs every call below `requested` in order and publishes each completion
//!    with a release store; acquire loads on the other side make the stores visible.
//! 4. `Spin` waits by spinning on the other counter. `Park` waits with `thread::park`, and
//!    each side `unpark`s the other after publishing; park/unpark keeps a wake-up token, so
//!    a wake-up sent before the other side parks is not lost. With one call in flight each
//!    round trip then blocks each thread once: two voluntary context switches per call.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, Thread};

use crossbeam_utils::CachePadded;

use crate::measure::{self, Role, Usage, Window};
use crate::work::{self, Work};

/// How the two threads wait for each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Floor {
    /// Busy-spin: the cross-core limit.
    Spin,
    /// `park`/`unpark`: the limit of any handoff that blocks.
    Park,
}

impl Floor {
    /// Both floors, in report order.
    pub const ALL: [Floor; 2] = [Floor::Spin, Floor::Park];

    /// The floor's part of a configuration id (`floor/<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Floor::Spin => "spin",
            Floor::Park => "park",
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    requested: CachePadded<AtomicU64>,
    completed: CachePadded<AtomicU64>,
    stop: AtomicBool,
}

struct Side {
    floor: Floor,
    other: Thread,
}

impl Side {
    fn wait(&self) {
        match self.floor {
            Floor::Spin => std::hint::spin_loop(),
            Floor::Park => thread::park(),
        }
    }

    fn notify(&self) {
        if self.floor == Floor::Park {
            self.other.unpark();
        }
    }
}

/// Runs `count` calls through the floor (after one checked warm-up call) and returns what
/// the timed window cost. `in_flight` calls may be outstanding at once.
pub fn run(floor: Floor, work: Work, count: u64, in_flight: u64) -> Usage {
    let counters = Arc::new(Counters::default());
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
                    work,
                )
            })
            .expect("spawning the floor's partner thread")
    };
    measure::register(Role::Loop);
    let side = Side {
        floor,
        other: partner.thread().clone(),
    };

    // Warm-up: one call, outside the window.
    issue_calls(&counters, &side, 0..1, 1);
    let window = Window::start();
    issue_calls(&counters, &side, 1..1 + count, in_flight);
    let usage = window.finish();

    counters.stop.store(true, Ordering::Release);
    side.notify();
    let answered = partner.join().expect("floor partner thread panicked");
    assert_eq!(answered, count + 1, "every call answered exactly once");
    usage
}

/// Caller side: issues calls `range` and returns when all of them have completed.
fn issue_calls(counters: &Counters, side: &Side, range: std::ops::Range<u64>, in_flight: u64) {
    let end = range.end;
    for call in range {
        while call - counters.completed.load(Ordering::Acquire) >= in_flight {
            side.wait();
        }
        counters.requested.store(call + 1, Ordering::Release);
        side.notify();
    }
    while counters.completed.load(Ordering::Acquire) < end {
        side.wait();
    }
}

/// Partner side: runs calls until told to stop; returns how many it ran.
fn serve(counters: &Counters, side: &Side, work: Work) -> u64 {
    measure::register(Role::Worker);
    let mut done = 0;
    loop {
        if done < counters.requested.load(Ordering::Acquire) {
            let answer = std::hint::black_box(work.run(done));
            debug_assert_eq!(answer, work::answer(done));
            done += 1;
            counters.completed.store(done, Ordering::Release);
            side.notify();
        } else if counters.stop.load(Ordering::Acquire) {
            return done;
        } else {
            side.wait();
        }
    }
}
