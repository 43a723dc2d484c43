//! The async side of a run: warm-up, the timed window, and the calls inside it.

use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use crate::handoff::Handoff;
use crate::measure::{self, Role, Usage, Window};
use crate::pinning;
use crate::runtime::Runtime;
use crate::work::{self, spin_for};

/// How long back-to-back calls run before the window opens. A fresh process starts with its threads
/// wherever the scheduler first put them: on a 2-core machine it often places the caller
/// beside a spinning worker on one core, and separates them only after some milliseconds
/// of load balancing. An application runs long; the window should see that steady state.
pub const WARM_UP: Duration = Duration::from_millis(100);

/// Under valgrind the warm-up is this many calls instead: valgrind runs the process 30-50
/// times slower and one thread at a time, so a warm-up by time would make a different
/// number of calls (and instructions) in every run, and there is no placement to settle.
pub const WARM_UP_CALLS_UNDER_VALGRIND: u64 = 1_000;

/// How the warm-up's steady flow ends: after [`WARM_UP`], or (counting instructions) after
/// [`WARM_UP_CALLS_UNDER_VALGRIND`] calls.
#[derive(Debug, Clone, Copy)]
pub struct Settle {
    /// Calls it may make.
    pub calls: u64,
    /// No call is issued after this.
    pub until: Option<Instant>,
}

impl Settle {
    /// The settle phase of `warm_up` (by time; by calls under valgrind) starting now.
    pub fn starting_now(warm_up: Duration) -> Self {
        if crate::counters::active() {
            Self {
                calls: WARM_UP_CALLS_UNDER_VALGRIND,
                until: None,
            }
        } else {
            Self {
                calls: u64::MAX,
                until: Some(Instant::now() + warm_up),
            }
        }
    }

    /// The phase's calls in the run's shape: back-to-back (no gap, no injected work), as
    /// many in flight as the run keeps.
    pub fn shape(&self, run: Shape) -> Shape {
        Shape {
            count: self.calls,
            gap: Duration::ZERO,
            inject: Duration::ZERO,
            inject_loops: 0,
            ..run
        }
    }
}

/// The timed windows of one run, after its warm-up: one window of `--count` calls in a
/// normal run ([`Single`]), or as many as asked for in serve mode (`crate::serve`).
pub trait Windows: Send + 'static {
    /// The number of calls of the next window; `None` ends the run. May block (serve mode
    /// waits for its next command here, outside any window).
    fn next_window(&mut self) -> Option<u64>;
    /// What the window of `count` calls that just closed cost.
    fn finished(&mut self, count: u64, usage: Usage);
}

/// One window of a fixed number of calls: a normal run.
#[derive(Debug)]
pub struct Single {
    count: u64,
    usage: Option<Usage>,
}

impl Single {
    /// One window of `count` calls.
    pub fn new(count: u64) -> Self {
        Self { count, usage: None }
    }

    /// What the window cost.
    ///
    /// # Panics
    /// If the run ended before its window (a driver bug).
    pub fn into_usage(self) -> Usage {
        self.usage.expect("the run measured its window")
    }
}

impl Windows for Single {
    fn next_window(&mut self) -> Option<u64> {
        self.usage.is_none().then_some(self.count)
    }

    fn finished(&mut self, _count: u64, usage: Usage) {
        self.usage = Some(usage);
    }
}

/// How the async side makes its calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Calls inside the timed window.
    pub count: u64,
    /// Calls kept outstanding at once (1: strictly sequential).
    pub in_flight: u64,
    /// Spacing of call arrivals (sparse traffic): call `i` is issued no earlier than `i`
    /// gaps after the window opened, waiting asynchronously; zero for back-to-back calls.
    pub gap: Duration,
    /// Busy work on the async side before each call (a calibration aid).
    pub inject: Duration,
    /// Iterations of [`work::busy_loops`] on the async side before each call (the
    /// calibration aid for instruction counts).
    pub inject_loops: u64,
    /// Pin threads by role after the first warm-up calls ([`crate::pinning`]), so every
    /// process measures the same placement.
    pub pin: bool,
    /// How long back-to-back calls run before the first window opens ([`WARM_UP`] by
    /// default; [`WARM_UP_CALLS_UNDER_VALGRIND`] calls instead under valgrind).
    pub warm_up: Duration,
}

/// Warms `handoff` up with `in_flight` checked calls and `shape.warm_up` of back-to-back
/// calls ([`Settle`]), then makes each window's calls inside a timed window and hands
/// `windows` what the window cost, until `windows` ends the run. The handoff is dropped
/// (shut down) after the last window closes.
pub async fn measure<H: Handoff, W: Windows>(
    runtime: Runtime,
    handoff: H,
    shape: Shape,
    mut windows: W,
) -> W {
    measure::register(Role::Loop);
    // Warm-up: as many concurrent calls as the run keeps in flight, so pools have started
    // the threads they need before the window opens. python-async-bench checks 7 == f(5).
    let warm_up: FuturesUnordered<_> = (0..shape.in_flight).map(|_| handoff.call(5)).collect();
    let answers: Vec<u64> = warm_up.collect().await;
    assert!(
        answers.iter().all(|&answer| answer == 7),
        "warm-up answered {answers:?}"
    );
    // Every thread the run needs exists now (pools have grown to `in_flight`), and the
    // settle phase below lets the threads warm up where they are pinned.
    pinning::pin_if(shape.pin);
    // Then back-to-back calls (no gap, no injected work), `in_flight` of them outstanding,
    // for `WARM_UP`, so the threads settle where the scheduler keeps them. A steady flow,
    // not rounds that drain to zero: the window must inherit the placement the run's own
    // traffic leads to. No call is issued after the deadline, so a slow call cannot stretch
    // the warm-up by more than the calls already outstanding.
    let phase = Settle::starting_now(shape.warm_up);
    calls(runtime, &handoff, phase.shape(shape), phase.until).await;
    // Again: threads started during the settle phase that never register a role (runtime
    // helpers) would otherwise stay wherever their parent ran.
    pinning::pin_if(shape.pin);
    while let Some(count) = windows.next_window() {
        let shape = Shape { count, ..shape };
        let window = Window::start();
        let answered = calls(runtime, &handoff, shape, None).await;
        let usage = window.finish();
        assert_eq!(answered, count, "every call answered exactly once");
        windows.finished(count, usage);
    }
    drop(handoff);
    windows
}

/// Makes `shape.count` calls, one at a time or `shape.in_flight` at once, issuing none
/// after `stop`; returns how many were answered.
async fn calls<H: Handoff>(
    runtime: Runtime,
    handoff: &H,
    shape: Shape,
    stop: Option<Instant>,
) -> u64 {
    if shape.in_flight == 1 {
        sequential(runtime, handoff, shape, stop).await
    } else {
        concurrent(runtime, handoff, shape, stop).await
    }
}

/// Whether another call may be issued: `stop` (the warm-up's deadline) has not passed.
fn may_issue(stop: Option<Instant>) -> bool {
    stop.is_none_or(|stop| Instant::now() < stop)
}

/// What precedes every call: waiting for its arrival time, then the injected work.
#[derive(Debug, Clone, Copy)]
struct Arrivals {
    runtime: Runtime,
    shape: Shape,
    start: Instant,
}

impl Arrivals {
    fn new(runtime: Runtime, shape: Shape) -> Self {
        Self {
            runtime,
            shape,
            start: Instant::now(),
        }
    }

    /// Waits until call `index` is due (a fixed schedule, so a timer that wakes late does
    /// not push every later call back), then burns the injected work.
    async fn before_call(&self, index: u64) {
        if !self.shape.gap.is_zero() {
            let due = self.start + self.shape.gap * u32::try_from(index).unwrap_or(u32::MAX);
            let wait = due.saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                self.runtime.sleep(wait).await;
            }
        }
        spin_for(self.shape.inject);
        work::busy_loops(self.shape.inject_loops);
    }
}

async fn sequential<H: Handoff>(
    runtime: Runtime,
    handoff: &H,
    shape: Shape,
    stop: Option<Instant>,
) -> u64 {
    let arrivals = Arrivals::new(runtime, shape);
    let mut answered = 0;
    while answered < shape.count && may_issue(stop) {
        let input = answered;
        arrivals.before_call(input).await;
        let answer = handoff.call(input).await;
        measure::register(Role::Loop);
        assert_eq!(answer, work::answer(input), "call {input} answered wrongly");
        answered += 1;
    }
    answered
}

async fn concurrent<H: Handoff>(
    runtime: Runtime,
    handoff: &H,
    shape: Shape,
    stop: Option<Instant>,
) -> u64 {
    let call = |input: u64| {
        let answer = handoff.call(input);
        async move { (input, answer.await) }
    };
    let arrivals = Arrivals::new(runtime, shape);
    let mut outstanding = FuturesUnordered::new();
    let mut next = 0;
    let mut answered = 0;
    while next < shape.count.min(shape.in_flight) && may_issue(stop) {
        arrivals.before_call(next).await;
        outstanding.push(call(next));
        next += 1;
    }
    while let Some((input, answer)) = outstanding.next().await {
        measure::register(Role::Loop);
        assert_eq!(answer, work::answer(input), "call {input} answered wrongly");
        answered += 1;
        if next < shape.count && may_issue(stop) {
            arrivals.before_call(next).await;
            outstanding.push(call(next));
            next += 1;
        }
    }
    answered
}
