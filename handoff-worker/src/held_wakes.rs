//! Wake-ups of callers held back while more calls are queued
//! ([`Builder::batch_wakes`](crate::Builder::batch_wakes); off by default).
//!
//! # Why
//!
//! With many calls in flight, a caller's executor thread has nothing to do between two
//! answers and goes to sleep, so every answer wakes it: a system call on the worker thread
//! and a wake-up of the executor per call. Woken once for several answers, it handles them
//! in one go and sleeps once.
//!
//! # How
//!
//! 1. An answer is published at once (a caller that polls takes it at once); only the wake
//!    of a caller that registered its waker is held, through a clone of the waker
//!    ([`Slot::complete_later`](crate::slot::Slot::complete_later)).
//! 2. The held wakes are issued when `calls` calls have run since the oldest of them, when
//!    the queue runs empty, before a close answers the calls behind it, and when the thread
//!    ends (on drop).
//!
//! So an answer's wake waits for at most `calls - 1` calls after it, however long they take:
//! that is the price, and why it is off by default.

use std::num::NonZeroUsize;
use std::task::Waker;

/// The wakes held back (module docs).
#[derive(Debug)]
pub(crate) struct HeldWakes {
    wakes: Vec<Waker>,
    /// Calls after which the oldest held wake is issued with the others.
    calls: usize,
    /// Calls run since the oldest held wake's, counting its own.
    since_oldest: usize,
}

impl HeldWakes {
    /// Holding up to `calls` calls' wakes; `None` for one (nothing is held).
    pub(crate) fn new(calls: NonZeroUsize) -> Option<Self> {
        (calls.get() > 1).then(|| Self {
            wakes: Vec::with_capacity(calls.get()),
            calls: calls.get(),
            since_oldest: 0,
        })
    }

    /// Where the next call's wake goes (step 1).
    pub(crate) fn later(&mut self) -> &mut Vec<Waker> {
        &mut self.wakes
    }

    /// Step 2 after a call ran.
    pub(crate) fn after_call(&mut self) {
        if self.wakes.is_empty() {
            return;
        }
        self.since_oldest += 1;
        if self.since_oldest >= self.calls {
            self.wake_all();
        }
    }

    /// Step 2: issues every held wake.
    pub(crate) fn wake_all(&mut self) {
        self.since_oldest = 0;
        for waker in self.wakes.drain(..) {
            waker.wake();
        }
    }
}

impl Drop for HeldWakes {
    fn drop(&mut self) {
        self.wake_all();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn held(calls: usize) -> HeldWakes {
        HeldWakes::new(NonZeroUsize::new(calls).unwrap()).expect("holds")
    }

    #[test]
    fn a_held_wake_waits_for_the_calls_after_it_and_no_more() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let woken = || count.0.load(Ordering::SeqCst);
        let mut held = held(4);
        held.after_call(); // a call whose caller was polling: nothing held, nothing counted
        held.later().push(Waker::from(count.clone()));
        held.after_call(); // the held call itself
        held.later().push(Waker::from(count.clone()));
        held.after_call();
        held.after_call();
        assert_eq!(woken(), 0, "woken before three calls after the oldest");
        held.after_call();
        assert_eq!(woken(), 2, "both held wakes issued after the fourth call");
        held.after_call();
        held.later().push(Waker::from(count.clone()));
        held.after_call();
        assert_eq!(woken(), 2, "a new batch counts from its own oldest call");
    }

    #[test]
    fn held_wakes_are_issued_when_dropped() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let mut held = held(8);
        held.later().push(Waker::from(count.clone()));
        held.after_call();
        drop(held);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn one_call_holds_nothing() {
        assert!(HeldWakes::new(NonZeroUsize::MIN).is_none());
    }
}
