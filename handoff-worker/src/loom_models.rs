//! Loom models of the crate's own code: the reply slot's protocol ([`slot`]), a call
//! cancelled while its future's waker is registered, and a close racing calls on the
//! unbounded and the bounded queue. The worker thread, its queue and the
//! bounded queue's lock are the crate's, on loom's threads and primitives ([`crate::sync`],
//! [`crate::queue`], [`crate::thread::start`]).
//!
//! `RUSTFLAGS="--cfg loom" cargo test -p handoff-worker --lib --target-dir target/loom`
//!
//! The models with the worker thread explore schedules with up to [`PREEMPTIONS`]
//! preemptions (loom's bound; without one they ran for more than 15 minutes): 5 and 19
//! seconds in a debug build on the 2-vCPU VMs this crate is measured on.

use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Wake, Waker};

use crate::caller_spin::CallerSpin;
use crate::error::CallError;
use crate::future::CallFuture;
use crate::job::{CallContext, JobRef, Packet, ReplyTo};
use crate::os::NO_CPU;
use crate::stats::Counters;
use crate::{Builder, Strategy};

mod slot;

/// Preemptions each schedule of the models with a worker thread may have.
const PREEMPTIONS: usize = 3;

/// Runs `model` under every schedule with up to [`PREEMPTIONS`] preemptions.
fn bounded_model(model: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(PREEMPTIONS);
    builder.check(model);
}

/// A value that counts its drops (in a plain atomic: the count is read after the threads
/// are joined).
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A waker that records its wakes in a loom atomic.
struct Flag(loom::sync::atomic::AtomicUsize);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, loom::sync::atomic::Ordering::SeqCst);
    }
}

/// A call whose future registered its waker is dropped while the worker claims, runs and
/// completes it: the call runs at most once, its value is dropped exactly once if it ran,
/// the counters say which, and the waker cell is never read and written at once (loom's
/// cell checks).
#[test]
fn cancelling_a_call_with_a_registered_waker_races_its_run() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let value = Tracked(drops.clone());
        let packet = Arc::new(Packet::new(
            move |runs: &mut u32, _: &CallContext<'_>| {
                *runs += 1;
                value
            },
            None,
            NO_CPU,
        ));
        let reply: Arc<dyn ReplyTo<Tracked>> = packet.clone();
        let job = JobRef::<u32>::new(packet);
        let mut call = CallFuture::new(reply, None, &Arc::new(CallerSpin::Off), false);
        let flag = Arc::new(Flag(loom::sync::atomic::AtomicUsize::new(0)));
        let waker = Waker::from(flag.clone());
        let polled = Pin::new(&mut call).poll(&mut Context::from_waker(&waker));
        assert!(polled.is_pending(), "answered before the worker ran");
        let counters = Arc::new(Counters::default());
        let worker = {
            let counters = counters.clone();
            loom::thread::spawn(move || {
                let mut runs = 0;
                job.run(&mut runs, &counters, None);
                runs
            })
        };
        drop(call);
        let runs = worker.join().unwrap();
        let stats = counters.snapshot();
        assert!(runs <= 1);
        assert_eq!(stats.ok, u64::from(runs));
        assert_eq!(stats.skipped_cancelled, u64::from(1 - runs));
        // Ran: its value was made and dropped once (by the slot, nobody took it). Skipped:
        // the closure, which owned the value, was dropped instead.
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

/// A call from another thread races `close`: it runs before the close (and the state
/// handed back counts it) or it is answered `Closed` and never runs; either way it is
/// answered, the close resolves, and the worker thread ends.
#[test]
fn close_racing_a_call_answers_both() {
    bounded_model(|| {
        let worker = Builder::new()
            .strategy(Strategy::Block)
            .spawn(|| 0_u32)
            .expect("a loom thread");
        let caller = {
            let worker = worker.clone();
            loom::thread::spawn(move || loom::future::block_on(worker.call(|n| *n += 1)))
        };
        let state = loom::future::block_on(worker.close()).expect("the state back");
        let answer = caller.join().unwrap();
        match answer {
            Ok(()) => assert_eq!(state, 1),
            Err(CallError::Closed) => assert_eq!(state, 0),
            other => panic!("{other:?}"),
        }
    });
}

/// On a bounded queue of one place, two calls from another thread (the second one waits
/// for a place when the first is still queued) race `close`: every call is answered, those
/// that ran are a prefix of the calls made, the state counts exactly them, and nothing
/// hangs.
#[test]
fn close_racing_calls_on_a_full_bounded_queue_answers_all() {
    bounded_model(|| {
        let worker = Builder::new()
            .strategy(Strategy::Block)
            .bounded(NonZeroUsize::MIN)
            .spawn(Vec::new)
            .expect("a loom thread");
        let caller = {
            let worker = worker.clone();
            loom::thread::spawn(move || {
                let first = worker.call(|ran: &mut Vec<u8>| ran.push(1));
                let second = worker.call(|ran: &mut Vec<u8>| ran.push(2));
                (
                    loom::future::block_on(first),
                    loom::future::block_on(second),
                )
            })
        };
        let ran = loom::future::block_on(worker.close()).expect("the state back");
        let (first, second) = caller.join().unwrap();
        let answered: Vec<u8> = [(1, first), (2, second)]
            .into_iter()
            .filter_map(|(n, answer)| match answer {
                Ok(()) => Some(n),
                Err(CallError::Closed) => None,
                Err(other) => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(ran, answered);
        assert!(answered.is_empty() || answered[0] == 1, "{answered:?}");
    });
}
