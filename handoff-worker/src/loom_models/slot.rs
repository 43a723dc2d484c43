//! Loom models of the reply slot's protocol ([`crate::slot`], steps 1-5) under every
//! interleaving loom can find.

use std::task::{Context, Poll, Wake, Waker};

use loom::sync::Arc;
use loom::sync::atomic::AtomicBool;

use crate::slot::{Claim, Slot};
use crate::sync::Ordering;

/// A waker that records that it was woken, in a loom atomic.
struct Flag(AtomicBool);

impl Flag {
    fn new() -> Arc<Self> {
        Arc::new(Self(AtomicBool::new(false)))
    }

    fn woken(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// `std::task::Wake` needs `std::sync::Arc`; wrap the loom one.
struct FlagWaker(Arc<Flag>);

impl Wake for FlagWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.0.store(true, Ordering::SeqCst);
    }
}

fn waker(flag: &Arc<Flag>) -> Waker {
    Waker::from(std::sync::Arc::new(FlagWaker(flag.clone())))
}

/// A value completed on another thread by `complete` (which claims the slot and
/// completes it with 42, its single completer) is received, or the receiver's waker is
/// woken: the wake-up is never lost.
fn received_or_woken(complete: fn(&Slot<i32>)) {
    loom::model(move || {
        let slot = Arc::new(Slot::new());
        let worker = {
            let slot = slot.clone();
            loom::thread::spawn(move || complete(&slot))
        };
        let flag = Flag::new();
        let w = waker(&flag);
        // SAFETY: this thread is the single receiver.
        let first = unsafe { slot.poll_take(&mut Context::from_waker(&w)) };
        worker.join().unwrap();
        received(first, &slot, &flag, 42);
    });
}

/// After the completer finished: the receiver's poll got `value`, or was `Pending` and
/// then its waker (`flag`) was woken and `value` is in the slot.
fn received<V: PartialEq + std::fmt::Debug>(
    polled: Poll<Option<V>>,
    slot: &Slot<V>,
    flag: &Flag,
    value: V,
) {
    match polled {
        Poll::Ready(v) => assert_eq!(v, Some(value)),
        Poll::Pending => {
            assert!(flag.woken(), "the waker of the last poll was not woken");
            // SAFETY: single receiver, first Ready.
            assert_eq!(unsafe { slot.try_take() }, Some(Some(value)));
        }
    }
}

#[test]
fn completion_is_received_or_woken() {
    received_or_woken(|slot| {
        if slot.claim() == Claim::Started {
            // SAFETY: the model's single completer, once.
            unsafe { slot.complete(Some(42)) };
        }
    });
}

/// A wake held back by the completer ([`Slot::complete_later`]) and issued after it
/// published the value.
#[test]
fn a_held_back_wake_is_received_or_woken() {
    received_or_woken(|slot| {
        let mut later = Vec::new();
        if slot.claim() == Claim::Started {
            // SAFETY: the model's single completer, once.
            unsafe { slot.complete_later(Some(42), &mut later) };
        }
        later.into_iter().for_each(Waker::wake);
    });
}

/// Re-registering a different waker while the value arrives: the latest waker is woken
/// (or the value is taken directly), and no cell is accessed by both sides at once.
#[test]
fn reregistration_races_completion() {
    loom::model(|| {
        let slot = Arc::new(Slot::new());
        let first = Flag::new();
        let second = Flag::new();
        let (w1, w2) = (waker(&first), waker(&second));
        // SAFETY: this thread is the single receiver.
        let poll = unsafe { slot.poll_take(&mut Context::from_waker(&w1)) };
        assert!(poll.is_pending());
        let worker = {
            let slot = slot.clone();
            loom::thread::spawn(move || {
                assert_eq!(slot.claim(), Claim::Started);
                // SAFETY: single completer, once.
                unsafe { slot.complete(Some(1)) };
            })
        };
        // SAFETY: single receiver; not yet Ready.
        let second_poll = unsafe { slot.poll_take(&mut Context::from_waker(&w2)) };
        worker.join().unwrap();
        received(second_poll, &slot, &second, 1);
    });
}

/// Start versus cancel: exactly one side wins, and a call skipped never runs.
#[test]
fn start_and_cancel_are_exclusive() {
    loom::model(|| {
        let slot = Arc::new(Slot::<u8>::new());
        let ran = Arc::new(AtomicBool::new(false));
        let worker = {
            let (slot, ran) = (slot.clone(), ran.clone());
            loom::thread::spawn(move || match slot.claim() {
                Claim::Started => {
                    ran.store(true, Ordering::SeqCst);
                    let _seen = slot.flags().is_cancelled();
                    // SAFETY: single completer, once.
                    unsafe { slot.complete(Some(0)) };
                    true
                }
                Claim::Cancelled => false,
            })
        };
        let was_started = slot.cancel();
        let started = worker.join().unwrap();
        assert_eq!(started, was_started);
        assert_eq!(ran.load(Ordering::SeqCst), was_started);
        assert!(slot.flags().is_cancelled());
    });
}

/// A slot completed without a value (the call was abandoned) reads as `None`.
#[test]
fn abandoned_slot_wakes_with_none() {
    loom::model(|| {
        let slot = Arc::new(Slot::<u8>::new());
        let worker = {
            let slot = slot.clone();
            // SAFETY: single completer, once.
            loom::thread::spawn(move || unsafe { slot.complete(None) })
        };
        let flag = Flag::new();
        let w = waker(&flag);
        // SAFETY: single receiver.
        let first = unsafe { slot.poll_take(&mut Context::from_waker(&w)) };
        worker.join().unwrap();
        match first {
            Poll::Ready(v) => assert_eq!(v, None),
            Poll::Pending => {
                assert!(flag.woken());
                // SAFETY: single receiver, first Ready.
                assert_eq!(unsafe { slot.try_take() }, Some(None));
            }
        }
    });
}
