//! The worker thread's serving loop: runs calls as they come, notes what they tell the
//! adaptive policy, and waits per strategy on an empty queue ([`crate::thread`] starts and
//! ends it).
//!
//! # How it works
//!
//! 1. It loops: `try_recv` until the queue is empty, running each call as it comes (so one
//!    wake-up drains everything queued, however many calls are in flight). For a bounded
//!    queue it tells the gate as soon as a call is taken off, which moves the oldest
//!    waiting call in ([`crate::gate`]). If asked to, it holds back the wake-ups of callers
//!    while more calls are queued ([`crate::held_wakes`]).
//! 2. When the queue runs empty (and every [`NOTE_EVERY`] calls of a longer run of queued
//!    calls) it notes, of the last call it ran, what the caller did (still polling, or
//!    asleep) and where it ran ([`crate::placement`]), now and then whether it waits for its
//!    CPU behind other work ([`crate::crowding`]), and what the idle period before the run
//!    taught the policy. Not after every call: while calls are queued the worker neither
//!    spins nor parks, so what the notes decide waits until the queue runs empty (but for a
//!    step off the caller's CPU, which every [`NOTE_EVERY`] calls still catches), and the
//!    calls waiting in the queue would wait for them.
//! 3. On an empty queue it asks its [`Policy`] for a spin budget (none while it shares its
//!    caller's CPU or is crowded), spins on `try_recv` for up to that long (no syscall, no
//!    store to shared memory), then falls back to the blocking `recv` of
//!    `crossbeam-channel`, which parks the thread. Around a park it tells its callers it
//!    sleeps and, on a sample of parks, measures the CPU the park used ([`crate::costs`]).
//! 4. A `Close` message ends the loop ([`crate::thread`], step 4), and so does the
//!    disconnection of every handle.

use std::time::{Duration, Instant};

use crate::adaptive::{Caller, Plan, Waited};
use crate::costs::{ALWAYS_SAMPLED, Costs, Place, SAMPLE_EVERY, nanos};
use crate::crowding::Crowding;
use crate::gate::Gate;
use crate::held_wakes::HeldWakes;
use crate::hooks;
use crate::job::Ran;
use crate::os;
use crate::placement::Placement;
use crate::queue::{Receiver, RecvError, TryRecvError};
use crate::rounds::Rounds;
use crate::stats::Counters;
use crate::strategy::Policy;
use crate::thread::{Ending, Msg, close_queue, taken};

/// The serving loop's state.
pub(crate) struct Serving<'a, T> {
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

impl<'a, T> Serving<'a, T> {
    /// For the calling (worker) thread.
    pub(crate) fn new(
        counters: &'a Counters,
        costs: &'a Costs,
        gate: Option<&'a Gate<T>>,
        policy: Policy,
        held_wakes: Option<HeldWakes>,
    ) -> Self {
        let adaptive = matches!(policy, Policy::Adaptive(_));
        Self {
            counters,
            costs,
            gate,
            placement: Placement::new(adaptive),
            crowding: Crowding::new(adaptive),
            policy,
            caller: Caller::Awake,
            idle: None,
            unnoted: None,
            run_length: 0,
            held_wakes,
            parks: 0,
        }
    }

    /// Serves `state` until a close or the disconnection of every handle.
    pub(crate) fn serve(mut self, state: T, rx: Receiver<Msg<T>>) -> Ending<T> {
        // Two loops, so that a worker that holds no wakes pays nothing for the option.
        if self.held_wakes.is_some() {
            self.serve_holding::<true>(state, rx)
        } else {
            self.serve_holding::<false>(state, rx)
        }
    }

    /// Steps 1-4; `HOLDS`: whether `held_wakes` is set.
    fn serve_holding<const HOLDS: bool>(
        &mut self,
        mut state: T,
        rx: Receiver<Msg<T>>,
    ) -> Ending<T> {
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
