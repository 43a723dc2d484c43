//! The reply slot: a lock-free one-shot that also settles the start/cancel race of one call.
//!
//! # How it works
//!
//! One `AtomicUsize` holds four flags; the value and the caller's waker live in two cells.
//! There is exactly one *completer* (the worker side, which writes the value) and exactly one
//! *receiver* (the awaiting future, which reads it); the `unsafe fn`s below state that
//! contract and [`super::job`] upholds it.
//!
//! 1. The worker claims a call with `fetch_or(STARTED)`. If `CANCELLED` was already set, the
//!    caller was gone first and the call is skipped, never run. The caller gives up with
//!    `fetch_or(CANCELLED)`. Both are read-modify-writes on one atomic, so exactly one of them
//!    is first: a call either ran (and its closure can see `CANCELLED` through
//!    [`Flags::is_cancelled`]) or was skipped, never both and never neither.
//! 2. The completer writes the value cell, then publishes it with `fetch_or(DONE)` (release).
//!    It never touches the value cell again.
//! 3. The receiver reads the value cell only after it has seen `DONE` (acquire), so the write
//!    happened-before the read, and it reads it once.
//! 4. The waker cell belongs to the receiver while `WAKER_SET` is clear, and is shared
//!    read-only while `WAKER_SET` is set. To (re)register, the receiver clears `WAKER_SET`
//!    (if `DONE` is already set at that moment it leaves the cell alone and takes the value),
//!    writes the waker, then sets `WAKER_SET` with `fetch_or`. If that `fetch_or` finds `DONE`
//!    already set, the completer did not see the flag and will not wake: the receiver takes
//!    the value itself. Otherwise the completer's `fetch_or(DONE)` comes later, sees
//!    `WAKER_SET`, and wakes through the cell, which the receiver no longer writes because
//!    every later re-registration first observes `DONE` in step 4's clear.
//! 5. The completer skips the wake when `CANCELLED` is set: nobody is waiting. It may also
//!    wake later ([`Slot::complete_later`]) through a clone of the waker, taken while the
//!    cell is shared read-only (step 4): the wake itself then touches nothing of the slot.
//! 6. Whatever is left in the cells (an untaken value, a waker) is dropped with the slot, by
//!    the last owner of the `Arc` that holds it.
//!
//! So a caller that is already waiting costs one `fetch_or` and one wake per call, a caller
//! that has not registered yet (busy polling) costs no wake at all, and nothing ever blocks.
//! The loom models of the slot (`loom_models/slot.rs`) check steps 1-5 under every
//! interleaving:
//! `RUSTFLAGS="--cfg loom" cargo test -p handoff-worker --lib --target-dir target/loom slot`.

use std::task::{Context, Poll, Waker};

use crate::sync::{AtomicUsize, Ordering, UnsafeCell};

/// The worker has claimed the call (step 1).
const STARTED: usize = 1;
/// The value cell is written and will not be written again (step 2).
const DONE: usize = 2;
/// The caller is gone or stopped waiting (step 1, step 5).
const CANCELLED: usize = 4;
/// The waker cell holds the waker to use (step 4).
const WAKER_SET: usize = 8;

/// The state word of a slot, on its own so that a running call can look at it without
/// knowing the reply type.
#[derive(Debug)]
pub(crate) struct Flags(AtomicUsize);

impl Flags {
    fn new() -> Self {
        Self(AtomicUsize::new(0))
    }

    /// Whether the caller has dropped its future or stopped waiting for it.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed) & CANCELLED != 0
    }
}

/// What the worker found when it tried to claim a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// The worker owns the call now: run it (or decide to skip it) and complete the slot.
    Started,
    /// The caller was gone first: skip the call and leave the slot alone.
    Cancelled,
}

/// A one-shot reply cell shared by one completer and one receiver.
#[derive(Debug)]
pub(crate) struct Slot<V> {
    flags: Flags,
    waker: UnsafeCell<Option<Waker>>,
    /// `Some(value)` once completed with a value; stays `None` if completed without one.
    value: UnsafeCell<Option<V>>,
}

// SAFETY: a `V` moves from the completer's thread to the receiver's, which `V: Send` allows;
// the two cells are only accessed as steps 2-6 allow, ordered by the atomic flags; a `Waker`
// is `Send + Sync`.
unsafe impl<V: Send> Send for Slot<V> {}
// SAFETY: as above: shared access to the cells follows the protocol.
unsafe impl<V: Send> Sync for Slot<V> {}

impl<V> Slot<V> {
    pub(crate) fn new() -> Self {
        Self {
            flags: Flags::new(),
            waker: UnsafeCell::new(None),
            value: UnsafeCell::new(None),
        }
    }

    pub(crate) fn flags(&self) -> &Flags {
        &self.flags
    }

    /// Step 1, worker side.
    pub(crate) fn claim(&self) -> Claim {
        if self.flags.0.fetch_or(STARTED, Ordering::Acquire) & CANCELLED != 0 {
            Claim::Cancelled
        } else {
            Claim::Started
        }
    }

    /// Step 1 and 5, receiver side: the caller stops waiting. Returns whether the worker had
    /// already claimed the call (so it may be running or done) when the caller gave up.
    pub(crate) fn cancel(&self) -> bool {
        self.flags.0.fetch_or(CANCELLED, Ordering::AcqRel) & STARTED != 0
    }

    /// Steps 2 and 5: stores `value` (`None`: completed without a value) and wakes the
    /// receiver if it is waiting. Returns whether it woke it: the receiver had registered a
    /// waker (it stopped polling, and its thread may be asleep).
    ///
    /// # Safety
    ///
    /// Only the slot's single completer may call this, at most once.
    pub(crate) unsafe fn complete(&self, value: Option<V>) -> bool {
        // SAFETY: forwarded.
        unsafe { self.complete_with(value, Waker::wake_by_ref) }
    }

    /// [`Slot::complete`], but the receiver's waker, if it is to be woken, is cloned into
    /// `later` for the completer to wake when it chooses. The value is published at once: a
    /// receiver that polls meanwhile takes it.
    ///
    /// # Safety
    ///
    /// As [`Slot::complete`].
    pub(crate) unsafe fn complete_later(&self, value: Option<V>, later: &mut Vec<Waker>) -> bool {
        // SAFETY: forwarded.
        unsafe { self.complete_with(value, |waker| later.push(waker.clone())) }
    }

    /// Steps 2 and 5, with `wake` applied to the receiver's waker if it is waiting.
    unsafe fn complete_with(&self, value: Option<V>, wake: impl FnOnce(&Waker)) -> bool {
        // SAFETY: the single completer is the only writer of the value cell and the receiver
        // reads it only after seeing DONE, which is set below (step 2 and 3).
        self.value.with_mut(|cell| unsafe { *cell = value });
        let prev = self.flags.0.fetch_or(DONE, Ordering::AcqRel);
        let waiting = prev & WAKER_SET != 0 && prev & CANCELLED == 0;
        if waiting {
            self.waker.with(|waker| {
                // SAFETY: WAKER_SET was set when DONE was published, so the receiver will not
                // write the waker cell again (step 4); shared reads are fine.
                if let Some(waker) = unsafe { &*waker } {
                    wake(waker);
                }
            });
        }
        waiting
    }

    /// Step 3 without registering: the reply if the slot is completed, else `None`.
    ///
    /// # Safety
    ///
    /// Only the slot's single receiver may call this, and not again after it returned `Some`.
    pub(crate) unsafe fn try_take(&self) -> Option<Option<V>> {
        if self.flags.0.load(Ordering::Acquire) & DONE != 0 {
            // SAFETY: DONE was observed with acquire; forwarded contract.
            Some(unsafe { self.take() })
        } else {
            None
        }
    }

    /// Steps 3 and 4: the reply if the slot is completed, else registers `cx`'s waker.
    ///
    /// # Safety
    ///
    /// Only the slot's single receiver may call this, and not again after it returned `Ready`.
    pub(crate) unsafe fn poll_take(&self, cx: &mut Context<'_>) -> Poll<Option<V>> {
        let state = self.flags.0.load(Ordering::Acquire);
        if state & DONE != 0 {
            // SAFETY: DONE observed with acquire; forwarded contract.
            return Poll::Ready(unsafe { self.take() });
        }
        if state & WAKER_SET != 0 {
            let same = self.waker.with(|waker| {
                // SAFETY: while WAKER_SET is set nobody writes the waker cell (step 4).
                unsafe { &*waker }
                    .as_ref()
                    .is_some_and(|w| w.will_wake(cx.waker()))
            });
            if same {
                return Poll::Pending;
            }
            if self.flags.0.fetch_and(!WAKER_SET, Ordering::AcqRel) & DONE != 0 {
                // SAFETY: DONE observed by an acquire RMW; the completer may still be reading
                // the waker cell, which we leave alone (step 4).
                return Poll::Ready(unsafe { self.take() });
            }
        }
        // SAFETY: WAKER_SET is clear and DONE was not set when we cleared it or looked, so the
        // completer will not read the waker cell until we set WAKER_SET again (step 4).
        self.waker
            .with_mut(|waker| unsafe { *waker = Some(cx.waker().clone()) });
        if self.flags.0.fetch_or(WAKER_SET, Ordering::AcqRel) & DONE != 0 {
            // SAFETY: DONE observed by an acquire RMW; forwarded contract.
            return Poll::Ready(unsafe { self.take() });
        }
        Poll::Pending
    }

    /// # Safety
    ///
    /// DONE must have been observed with acquire ordering by the single receiver, once.
    unsafe fn take(&self) -> Option<V> {
        // SAFETY: the completer wrote the cell before publishing DONE and never touches it
        // again; the caller observed DONE with acquire ordering (step 3).
        self.value.with_mut(|cell| unsafe { (*cell).take() })
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    use std::task::Wake;

    #[derive(Default)]
    struct Flag(AtomicBool);

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn value_completed_before_poll_is_ready_without_wake() {
        let slot = Slot::new();
        assert_eq!(slot.claim(), Claim::Started);
        // SAFETY: single completer, once.
        unsafe { slot.complete(Some(7)) };
        let flag = Arc::new(Flag::default());
        let waker = Waker::from(flag.clone());
        // SAFETY: single receiver, first Ready.
        let got = unsafe { slot.poll_take(&mut Context::from_waker(&waker)) };
        assert_eq!(got, Poll::Ready(Some(7)));
        assert!(!flag.0.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn registered_waker_is_woken_and_replaced_waker_is_used() {
        let slot = Slot::new();
        let first = Arc::new(Flag::default());
        let second = Arc::new(Flag::default());
        let (w1, w2) = (Waker::from(first.clone()), Waker::from(second.clone()));
        // SAFETY: single receiver; Pending so far.
        assert!(unsafe { slot.poll_take(&mut Context::from_waker(&w1)) }.is_pending());
        // SAFETY: as above.
        assert!(unsafe { slot.poll_take(&mut Context::from_waker(&w2)) }.is_pending());
        // SAFETY: single completer, once.
        unsafe { slot.complete(Some("x")) };
        assert!(second.0.load(std::sync::atomic::Ordering::SeqCst));
        assert!(!first.0.load(std::sync::atomic::Ordering::SeqCst));
        // SAFETY: single receiver, first Ready.
        assert_eq!(unsafe { slot.try_take() }, Some(Some("x")));
    }

    #[test]
    fn cancel_before_claim_skips_and_after_claim_is_visible() {
        let skipped = Slot::<()>::new();
        assert!(!skipped.cancel());
        assert_eq!(skipped.claim(), Claim::Cancelled);

        let running = Slot::<()>::new();
        assert_eq!(running.claim(), Claim::Started);
        assert!(!running.flags().is_cancelled());
        assert!(running.cancel());
        assert!(running.flags().is_cancelled());
    }

    #[test]
    fn completion_without_value_reads_as_none() {
        let slot = Slot::<u8>::new();
        // SAFETY: single completer, once.
        unsafe { slot.complete(None) };
        // SAFETY: single receiver, first Ready.
        assert_eq!(unsafe { slot.try_take() }, Some(None));
    }
}
