//! The bounded queue ([`Builder::bounded`](crate::Builder::bounded)): at most `capacity`
//! calls in the worker's queue, the ones made while it is full waiting in order behind it.
//!
//! # How it works
//!
//! 1. One [`Gate`] per spawned worker (built by the spawn, never shared by cloned
//!    builders) holds the queue's only sender, the number of free places, and a FIFO of
//!    messages made while the queue was full.
//! 2. A message is admitted under the gate's lock: sent at once if a place is free and
//!    nobody waits, else appended to the FIFO. Sending under the lock keeps the order in
//!    which callers took the lock, so calls are queued in the order they were made, and a
//!    later call never overtakes a waiting one.
//! 3. Each time the worker takes a call off its queue it moves the oldest waiting message
//!    into the queue (the place it freed goes to it), or frees the place. A waiting call
//!    whose future was dropped is not moved: it never reaches the worker, and is counted as
//!    unqueued.
//! 4. When the last handle is gone, the gate drops its sender as soon as nothing waits, so
//!    the worker sees the queue disconnect after the last call made (waiting ones too).
//! 5. When the worker ends it closes the gate: later messages are refused (and answer
//!    themselves `Closed`), and the waiting ones are dropped, which answers them `Closed`.
//!
//! Everything that may run a caller's code (dropping a closure) happens outside the lock.

use std::collections::VecDeque;
use std::num::NonZeroUsize;

use crate::queue::Sender;
use crate::stats::Counters;
use crate::sync::Mutex;
use crate::thread::Msg;

/// The bounded queue's admission (module docs).
pub(crate) struct Gate<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    /// `None` once closed, or once every handle is gone and nothing waits.
    tx: Option<Sender<Msg<T>>>,
    free: usize,
    waiting: VecDeque<Msg<T>>,
    handles_gone: bool,
}

impl<T> Gate<T> {
    pub(crate) fn new(tx: Sender<Msg<T>>, capacity: NonZeroUsize) -> Self {
        Self {
            state: Mutex::new(State {
                tx: Some(tx),
                free: capacity.get(),
                waiting: VecDeque::new(),
                handles_gone: false,
            }),
        }
    }

    fn lock(&self) -> crate::sync::MutexGuard<'_, State<T>> {
        // The lock is never held while a caller's code runs, so it cannot be poisoned by
        // one; recover anyway rather than cascade a panic.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Step 2: queues `msg` (`Ok(true)`) or makes it wait (`Ok(false)`); hands it back if
    /// the gate is closed.
    pub(crate) fn admit(&self, msg: Msg<T>) -> Result<bool, Msg<T>> {
        let mut state = self.lock();
        let State {
            tx, free, waiting, ..
        } = &mut *state;
        let Some(tx) = tx else { return Err(msg) };
        if *free > 0 && waiting.is_empty() {
            *free -= 1;
            tx.send(msg).map(|()| true).map_err(|error| error.0)
        } else {
            waiting.push_back(msg);
            Ok(false)
        }
    }

    /// Step 3, on the worker thread: a call left the queue.
    pub(crate) fn taken(&self, counters: &Counters) {
        let mut unqueued = Vec::new();
        {
            let mut state = self.lock();
            let State {
                tx,
                free,
                waiting,
                handles_gone,
            } = &mut *state;
            loop {
                match waiting.pop_front() {
                    Some(Msg::Call(job)) if job.is_cancelled() => unqueued.push(job),
                    Some(msg) => {
                        if let Some(tx) = tx {
                            // The worker holds the receiver while it calls this.
                            let _ = tx.send(msg);
                        }
                        break;
                    }
                    None => {
                        *free += 1;
                        break;
                    }
                }
            }
            if *handles_gone && waiting.is_empty() {
                *tx = None;
            }
        }
        for job in unqueued {
            counters.unqueued();
            job.drop_unqueued(counters);
        }
    }

    /// Step 4: the last handle is gone.
    pub(crate) fn handles_gone(&self) {
        let mut state = self.lock();
        state.handles_gone = true;
        if state.waiting.is_empty() {
            state.tx = None;
        }
    }

    /// Step 5, on the worker thread as it ends.
    pub(crate) fn close(&self) {
        let waiting = {
            let mut state = self.lock();
            state.tx = None;
            std::mem::take(&mut state.waiting)
        };
        drop(waiting);
    }

    /// Whether calls wait for a place (for `Debug`).
    pub(crate) fn waiting(&self) -> usize {
        self.lock().waiting.len()
    }
}

impl<T> std::fmt::Debug for Gate<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("waiting", &self.waiting())
            .finish_non_exhaustive()
    }
}
