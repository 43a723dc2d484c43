//! The dedicated thread: builds the state, drains the queue, waits per strategy, shuts down.
//!
//! # How it works
//!
//! 1. The thread runs `init`. If `init` panicked, it answers every call with
//!    [`CallError::InitPanicked`] and every close with
//!    [`CloseError::InitPanicked`](crate::CloseError::InitPanicked), so nobody hangs; if a
//!    fallible init failed ([`Builder::try_spawn`](crate::Builder::try_spawn)), nobody
//!    holds a handle and it just ends.
//! 2. Otherwise it loops: `try_recv` until the queue is empty, running each call as it comes
//!    (so one wake-up drains everything queued, however many calls are in flight). For a
//!    bounded queue it tells the gate as soon as a call is taken off, which moves the oldest
//!    waiting call in ([`crate::gate`]). If asked to, it holds back the wake-ups of
//!    callers while more calls are queued ([`crate::held_wakes`]). When the queue runs
//!    empty (and every [`NOTE_EVERY`] calls of a longer run of queued calls) it notes, of
//!    the last call it ran, what the caller did (still polling, or asleep) and where it ran
//!    ([`crate::placement`]), now and then whether it waits for its CPU behind other work
//!    ([`crate::crowding`]), and what the idle period before the run taught the policy. Not
//!    after every call: while calls are queued the worker neither spins nor parks, so what
//!    the notes decide waits until the queue runs empty (but for a step off the caller's
//!    CPU, which every [`NOTE_EVERY`] calls still catches), and the calls waiting in the
//!    queue would wait for them.
//! 3. On an empty queue it asks its [`Policy`] for a spin budget (none while it shares its
//!    caller's CPU or is crowded), spins on `try_recv` for up
//!    to that long (no syscall, no store to shared memory), then falls back to the blocking
//!    `recv` of `crossbeam-channel`, which parks the thread. Senders only issue a futex wake
//!    when a receiver is registered as blocked, so calls sent to a spinning or busy worker
//!    cost no syscall. Around a park it tells its callers it sleeps and, on a sample of
//!    parks, measures the CPU the park used ([`crate::costs`]).
//! 4. A `Close` message (queued behind every call made before it) ends the loop: the calls
//!    that raced in after it are answered [`CallError::Closed`] and the queue is dropped
//!    (so later sends fail and answer themselves `Closed`). When every handle is gone
//!    instead, `recv` reports the disconnection after the last queued call ran.
//! 5. On the way out the thread closes the bounded queue's gate, which answers the calls
//!    still waiting there `Closed`. Then, as its very last act, it hands the state to the
//!    closer ([`Worker::close`](crate::Worker::close)), or drops it and reports that
//!    ([`Worker::shutdown`](crate::Worker::shutdown)), or drops it unasked (disconnection).
//!    So a close resolves when the thread has nothing left to do but return: its future
//!    never has to join the thread, and never blocks an executor.
//!
//! Nothing a caller hands the thread can end it: panics in calls, and in the `Drop` of a
//! skipped call's closure, of a value nobody waits for, or of the state, are caught
//! ([`drop_catching`]).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::adaptive::{Caller, Plan, Waited};
use crate::costs::{ALWAYS_SAMPLED, Costs, Place, SAMPLE_EVERY, nanos};
use crate::crowding::Crowding;
use crate::error::{CallError, panic_message};
use crate::gate::Gate;
use crate::held_wakes::HeldWakes;
use crate::hooks;
use crate::job::{JobRef, Ran, drop_catching};
use crate::os;
use crate::placement::Placement;
use crate::queue::{Receiver, RecvError, TryRecvError};
use crate::rounds::Rounds;
use crate::stats::Counters;
use crate::strategy::Policy;

/// What travels on the queue.
pub(crate) enum Msg<T> {
    Call(JobRef<T>),
    Close(Closer<T>),
}

/// How a close hands the state back: `Some(Ok(state))`, `Some(Err(init panic message))`,
/// or `None` when the message is dropped unprocessed. Called exactly once (on drop if
/// never delivered), so the closer is always answered.
pub(crate) struct Closer<T>(Option<Box<CloseFn<T>>>);

pub(crate) type CloseFn<T> = dyn FnOnce(Option<Result<T, String>>) + Send;

impl<T> Closer<T> {
    pub(crate) fn new(deliver: Box<CloseFn<T>>) -> Self {
        Self(Some(deliver))
    }

    fn deliver(mut self, outcome: Result<T, String>) {
        if let Some(deliver) = self.0.take() {
            deliver(Some(outcome));
        }
    }
}

impl<T> Drop for Closer<T> {
    fn drop(&mut self) {
        if let Some(deliver) = self.0.take() {
            deliver(None);
        }
    }
}

/// Everything the thread takes with it.
pub(crate) struct Parts<T> {
    pub(crate) rx: Receiver<Msg<T>>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) costs: Arc<Costs>,
    /// The bounded queue's gate, if bounded.
    pub(crate) gate: Option<Arc<Gate<T>>>,
    pub(crate) policy: Policy,
    /// Wakes held back while calls are queued ([`crate::held_wakes`]), if any.
    pub(crate) held_wakes: Option<HeldWakes>,
}

/// Why there is no state.
pub(crate) enum InitFailed {
    /// `init` panicked with this message; calls and closes are told so.
    Panicked(String),
    /// A fallible init failed and already told the spawner; nobody holds a handle.
    Reported,
}

/// How the loop ended, and what is left to do with the state.
enum Ending<T> {
    /// A close: deliver this (the state, or why there is none) to its closer.
    Close(Closer<T>, Result<T, String>),
    /// Every handle is gone.
    Disconnected(Option<T>),
}

/// Step 5's gate closing, when dropped: on the way out, and also on unwinding (which
/// nothing a caller does can cause; a guard all the same).
struct CloseGateOnExit<T>(Option<Arc<Gate<T>>>);

impl<T> Drop for CloseGateOnExit<T> {
    fn drop(&mut self) {
        if let Some(gate) = &self.0 {
            gate.close();
        }
    }
}

/// Runs `init` under `catch_unwind`, mapping a panic to [`InitFailed::Panicked`].
pub(crate) fn catching_init<T>(
    init: impl FnOnce() -> Result<T, InitFailed>,
) -> Result<T, InitFailed> {
    catch_unwind(AssertUnwindSafe(init))
        .unwrap_or_else(|payload| Err(InitFailed::Panicked(panic_message(&*payload))))
}

/// The thread's body.
pub(crate) fn run<T>(init: impl FnOnce() -> Result<T, InitFailed>, parts: Parts<T>) {
    let Parts {
        rx,
        counters,
        costs,
        gate,
        policy,
        held_wakes,
    } = parts;
    let closing = CloseGateOnExit(gate.clone());
    let ending = match catching_init(init) {
        Ok(state) => {
            let mut serving = Serving {
                counters: &counters,
                costs: &costs,
                gate: gate.as_deref(),
                placement: Placement::new(matches!(policy, Policy::Adaptive(_))),
                crowding: Crowding::new(matches!(policy, Policy::Adaptive(_))),
                policy,
                caller: Caller::Awake,
                idle: None,
                unnoted: None,
                run_length: 0,
                held_wakes,
                parks: 0,
            };
            // Two loops, so that a worker that holds no wakes pays nothing for the option.
            if serving.held_wakes.is_some() {
                serving.serve::<true>(state, rx)
            } else {
                serving.serve::<false>(state, rx)
            }
        }
        Err(InitFailed::Panicked(message)) => refuse_all(&message, rx, &counters, gate.as_deref()),
        Err(InitFailed::Reported) => return,
    };
    drop(closing);
    match ending {
        // The last act: the closer may now resolve, and the thread only returns.
        Ending::Close(closer, outcome) => closer.deliver(outcome),
        Ending::Disconnected(state) => drop_catching(state, Some(&counters)),
    }
}

/// Step 2: a call left the queue.
fn taken<T>(gate: Option<&Gate<T>>, counters: &Counters) {
    if let Some(gate) = gate {
        gate.taken(counters);
    }
}

/// The serving loop's state (steps 2-4).
struct Serving<'a, T> {
    counters: &'a Counters,
    costs: &'a Costs,
    gate: Option<&'a Gate<T>>,
    placement: Placement,
    crowding: Crowding,
    policy: Policy,
    /// What the caller of the last call did when it was answered.
    caller: Caller,
    /// How the last idle period ended, told to the policy (and counted) once the call that
    /// ended it has been answered, so that neither is on that call's path.
    idle: Option<Idle>,
    /// The last call run, until it is noted (step 2).
    unnoted: Option<Ran>,
    /// Calls run since the queue was last found empty.
    run_length: u32,
    held_wakes: Option<HeldWakes>,
    /// Parks so far (the sampling of their CPU counts them).
    parks: u64,
}

/// An idle period for the policy: what the caller had done, the plan, how it ended.
struct Idle {
    caller: Caller,
    plan: Plan,
    waited: Waited,
}

impl<T> Serving<'_, T> {
    /// The loop; `HOLDS`: whether `held_wakes` is set.
    fn serve<const HOLDS: bool>(&mut self, mut state: T, rx: Receiver<Msg<T>>) -> Ending<T> {
        loop {
            let msg = match rx.try_recv() {
                Ok(msg) => msg,
                Err(TryRecvError::Empty) => match self.wait::<HOLDS>(&rx) {
                    Ok(msg) => msg,
                    Err(RecvError) => return Ending::Disconnected(Some(state)),
                },
                Err(TryRecvError::Disconnected) => return Ending::Disconnected(Some(state)),
            };
            match msg {
                Msg::Call(job) => {
                    taken(self.gate, self.counters);
                    let later = if HOLDS {
                        self.held_wakes.as_mut().map(HeldWakes::later)
                    } else {
                        None
                    };
                    self.unnoted = Some(job.run(&mut state, self.counters, later));
                    if HOLDS && let Some(held) = &mut self.held_wakes {
                        held.after_call();
                    }
                    self.run_length += 1;
                    if self.run_length.is_multiple_of(NOTE_EVERY) {
                        self.note();
                    }
                }
                Msg::Close(closer) => {
                    if let Some(held) = &mut self.held_wakes {
                        held.wake_all();
                    }
                    close_queue(rx, self.counters, self.gate);
                    return Ending::Close(closer, Ok(state));
                }
            }
        }
    }

    /// Step 2's notes, on the last call run (if not noted yet) and the idle period before it.
    // Inlined into both callers: as a function of its own, the registers it saved and
    // restored cost a sequential call more than its notes.
    #[inline(always)]
    fn note(&mut self) {
        let Some(ran) = self.unnoted.take() else {
            return;
        };
        self.caller = if ran.woke_caller {
            Caller::Asleep
        } else {
            Caller::Awake
        };
        self.crowding.after_call(self.counters);
        // Two threads that sleep in turn share a CPU well: a crowded worker stays where it is.
        if !self.crowding.crowded() {
            self.placement.after_call(ran.caller_cpu, self.counters);
        }
        // Callers compare their CPU with the worker's: keep it current (stored only when it
        // changed).
        self.costs.set_place(self.place(false));
        if let Some(idle) = self.idle.take() {
            if let Waited::Caught(_) = idle.waited {
                self.counters.spin_hit();
            }
            self.policy
                .waited(idle.caller, idle.plan, idle.waited, self.costs);
        }
    }

    /// Where the worker is, as its callers see it.
    fn place(&self, sleeping: bool) -> Place {
        Place {
            sleeping,
            together: self.placement.together(),
            crowded: self.crowding.crowded(),
        }
    }

    /// Step 3: spin per policy, then block.
    fn wait<const HOLDS: bool>(&mut self, rx: &Receiver<Msg<T>>) -> Result<Msg<T>, RecvError> {
        if HOLDS && let Some(held) = &mut self.held_wakes {
            held.wake_all();
        }
        self.note();
        self.run_length = 0;
        let waiting = hooks::waiting();
        let plan = if self.placement.together() || self.crowding.crowded() {
            // Sharing the caller's CPU, or waiting for its own behind other work: a spin
            // would take a CPU another thread needs.
            Plan {
                budget_ns: 0,
                probing: false,
            }
        } else {
            self.policy.plan(self.caller, self.costs)
        };
        // The clock is read only between rounds of checks ([`Rounds`]): a call caught is
        // answered without one more read.
        let mut rounds = Rounds::default();
        if plan.budget_ns > 0 {
            let budget = Duration::from_nanos(plan.budget_ns);
            loop {
                for _ in 0..SPINS_PER_CLOCK_READ {
                    match rx.try_recv() {
                        Ok(msg) => {
                            self.ended(plan, Waited::Caught(nanos(rounds.waited())));
                            return Ok(msg);
                        }
                        Err(TryRecvError::Empty) => waiting.spin(),
                        Err(TryRecvError::Disconnected) => return Err(RecvError),
                    }
                }
                let (since, now) = rounds.read_clock();
                self.crowding.check(now, self.counters);
                if now.saturating_duration_since(since) >= budget || self.crowding.crowded() {
                    break;
                }
            }
        }
        let empty_since = rounds.first().unwrap_or_else(Instant::now);
        let msg = self.park(rx);
        let now = Instant::now();
        self.crowding.check(now, self.counters);
        self.ended(
            plan,
            Waited::Parked(nanos(now.saturating_duration_since(empty_since))),
        );
        msg
    }

    /// An idle period ended: the policy learns of it after the call that ended it.
    fn ended(&mut self, plan: Plan, waited: Waited) {
        self.idle = Some(Idle {
            caller: self.caller,
            plan,
            waited,
        });
    }

    /// The blocking receive, told to the callers and, on a sample, measured.
    fn park(&mut self, rx: &Receiver<Msg<T>>) -> Result<Msg<T>, RecvError> {
        self.counters.park();
        let learns = self.policy.spins();
        if !learns {
            return rx.recv();
        }
        let sampled = self.parks < ALWAYS_SAMPLED || self.parks.is_multiple_of(SAMPLE_EVERY);
        self.parks += 1;
        self.costs.set_place(self.place(true));
        let cpu_before = if sampled { os::thread_cpu_time() } else { None };
        let since = Instant::now();
        let msg = rx.recv();
        let wall = since.elapsed();
        if let Some(before) = cpu_before
            && let Some(after) = os::thread_cpu_time()
        {
            let cpu = after.saturating_sub(before);
            // It slept if it spent a while off the CPU; a receive that caught the call in
            // crossbeam's own short spin is not a park.
            if wall > cpu + SLEPT_MARGIN {
                self.costs.parked(cpu);
            }
        }
        self.costs.set_place(self.place(false));
        self.costs.awoken();
        msg
    }
}

/// In a run of calls found queued one after another, every this many calls are noted (step
/// 2), so that a worker that never finds its queue empty still sees where it runs.
const NOTE_EVERY: u32 = 16;

/// How many empty `try_recv`s between two clock reads while spinning.
const SPINS_PER_CLOCK_READ: u32 = 16;

/// A receive that spent at least this much more wall time than CPU time slept.
const SLEPT_MARGIN: Duration = Duration::from_micros(2);

/// Step 1, after a panic in init.
fn refuse_all<T>(
    message: &str,
    rx: Receiver<Msg<T>>,
    counters: &Counters,
    gate: Option<&Gate<T>>,
) -> Ending<T> {
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Call(job) => {
                taken(gate, counters);
                counters.refused();
                job.refuse(Some(CallError::InitPanicked(message.to_owned())), counters);
            }
            Msg::Close(closer) => {
                close_queue(rx, counters, gate);
                return Ending::Close(closer, Err(message.to_owned()));
            }
        }
    }
    Ending::Disconnected(None)
}

/// Step 4: answers the calls queued behind the close `Closed`, then drops the queue.
fn close_queue<T>(rx: Receiver<Msg<T>>, counters: &Counters, gate: Option<&Gate<T>>) {
    if let Some(gate) = gate {
        gate.close();
    }
    while let Ok(msg) = rx.try_recv() {
        if let Msg::Call(job) = msg {
            job.refuse(None, counters);
        }
    }
}

/// Starts the worker thread with `body` (a `loom` thread in the loom models).
#[cfg(not(all(loom, test)))]
pub(crate) fn start(
    name: Option<&str>,
    stack_size: Option<usize>,
    body: impl FnOnce() + Send + 'static,
) -> std::io::Result<()> {
    let mut thread = std::thread::Builder::new();
    if let Some(name) = name {
        thread = thread.name(name.to_owned());
    }
    if let Some(bytes) = stack_size {
        thread = thread.stack_size(bytes);
    }
    // Detached: the thread's last act answers a close (module docs), so nobody joins.
    thread.spawn(body).map(drop)
}

/// Starts the worker thread with `body` (a `loom` thread in the loom models).
#[cfg(all(loom, test))]
pub(crate) fn start(
    _name: Option<&str>,
    _stack_size: Option<usize>,
    body: impl FnOnce() + Send + 'static,
) -> std::io::Result<()> {
    loom::thread::spawn(body);
    Ok(())
}
