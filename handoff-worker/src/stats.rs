//! Counters the worker keeps about what it did, and their public snapshot [`Stats`].

use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_utils::CachePadded;

/// What a worker has done so far. Every call the worker thread took off its queue is counted
/// in exactly one of `ok`, `panicked`, `skipped_cancelled`, `skipped_timed_out` and
/// `refused`; a call whose caller gave up while it waited for a place in a full bounded
/// queue is counted in `unqueued`. So once all calls are answered, these six add up to the
/// calls made, except for calls answered [`CallError::Closed`](crate::CallError::Closed)
/// (made after a close, or still queued when the worker shut down), which are not counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Calls that ran and returned a value.
    pub ok: u64,
    /// Calls that ran and panicked.
    pub panicked: u64,
    /// Calls skipped because their caller was gone before they started.
    pub skipped_cancelled: u64,
    /// Calls skipped because their deadline had passed before they started.
    pub skipped_timed_out: u64,
    /// Calls answered with [`CallError::InitPanicked`](crate::CallError::InitPanicked)
    /// without running, because the worker's init panicked.
    pub refused: u64,
    /// Calls whose caller gave up while they waited for a place in a full bounded queue:
    /// they never reached the worker.
    pub unqueued: u64,
    /// Panics caught on the worker thread while dropping something of a caller's: the
    /// closure of a call that was skipped, or a value nobody was waiting for any more, or
    /// the state when the last handle is dropped. The worker lives on; the value is gone.
    /// (A panic in the state's `Drop` under [`Worker::shutdown`](crate::Worker::shutdown)
    /// is reported by it instead, as `CloseError::ThreadPanicked`.)
    pub drop_panics: u64,
    /// Times the worker thread gave up spinning on an empty queue and called the blocking
    /// receive (which parks it unless a call arrives within the channel's own short
    /// backoff). Feature `bench-hooks` (unstable).
    #[cfg(feature = "bench-hooks")]
    pub parks: u64,
    /// Times a spin on an empty queue ended with a new call, saving a park. Feature
    /// `bench-hooks` (unstable).
    #[cfg(feature = "bench-hooks")]
    pub spin_hits: u64,
    /// Times the worker moved itself off the CPU of the caller it served
    /// (`placement.rs`). Feature `bench-hooks` (unstable).
    #[cfg(feature = "bench-hooks")]
    pub stepped_off: u64,
    /// Times the worker found itself waiting for its CPU behind other runnable work and
    /// stopped spinning for a while (`crowding.rs`). Feature `bench-hooks` (unstable).
    #[cfg(feature = "bench-hooks")]
    pub crowded: u64,
}

/// The live counters, shared by the worker thread and the handles.
///
/// All but `unqueued` and `drop_panics` are written by the worker thread only, so they are
/// bumped with a plain load and store (no locked instruction on the hot path), and kept on
/// their own cache line. Those two are bumped from any thread, off the hot path.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    worker: CachePadded<WorkerCounters>,
    unqueued: CachePadded<AtomicU64>,
    drop_panics: AtomicU64,
}

#[derive(Debug, Default)]
struct WorkerCounters {
    ok: AtomicU64,
    panicked: AtomicU64,
    skipped_cancelled: AtomicU64,
    skipped_timed_out: AtomicU64,
    parks: AtomicU64,
    refused: AtomicU64,
    spin_hits: AtomicU64,
    stepped_off: AtomicU64,
    crowded: AtomicU64,
}

/// One worker-thread-only counter.
fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

impl Counters {
    pub(crate) fn ok(&self) {
        bump(&self.worker.ok);
    }
    pub(crate) fn panicked(&self) {
        bump(&self.worker.panicked);
    }
    pub(crate) fn skipped_cancelled(&self) {
        bump(&self.worker.skipped_cancelled);
    }
    pub(crate) fn skipped_timed_out(&self) {
        bump(&self.worker.skipped_timed_out);
    }
    pub(crate) fn park(&self) {
        bump(&self.worker.parks);
    }
    pub(crate) fn spin_hit(&self) {
        bump(&self.worker.spin_hits);
    }
    pub(crate) fn refused(&self) {
        bump(&self.worker.refused);
    }
    pub(crate) fn stepped_off(&self) {
        bump(&self.worker.stepped_off);
    }
    pub(crate) fn crowded(&self) {
        bump(&self.worker.crowded);
    }

    /// Any thread holding the bounded queue's lock, or the worker thread.
    pub(crate) fn unqueued(&self) {
        self.unqueued.fetch_add(1, Ordering::Relaxed);
    }

    /// Any thread (a skipped call's closure is dropped where the queue is dropped).
    pub(crate) fn drop_panicked(&self) {
        self.drop_panics.fetch_add(1, Ordering::Relaxed);
    }

    /// How often the worker stepped off its caller's CPU (for the crate's own tests).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn snapshot_stepped_off(&self) -> u64 {
        self.worker.stepped_off.load(Ordering::Relaxed)
    }

    /// How often the worker found itself crowded (for the crate's own tests).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn snapshot_crowded(&self) -> u64 {
        self.worker.crowded.load(Ordering::Relaxed)
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let w = &self.worker;
        Stats {
            ok: w.ok.load(Ordering::Relaxed),
            panicked: w.panicked.load(Ordering::Relaxed),
            skipped_cancelled: w.skipped_cancelled.load(Ordering::Relaxed),
            skipped_timed_out: w.skipped_timed_out.load(Ordering::Relaxed),
            refused: w.refused.load(Ordering::Relaxed),
            unqueued: self.unqueued.load(Ordering::Relaxed),
            drop_panics: self.drop_panics.load(Ordering::Relaxed),
            #[cfg(feature = "bench-hooks")]
            parks: w.parks.load(Ordering::Relaxed),
            #[cfg(feature = "bench-hooks")]
            spin_hits: w.spin_hits.load(Ordering::Relaxed),
            #[cfg(feature = "bench-hooks")]
            stepped_off: w.stepped_off.load(Ordering::Relaxed),
            #[cfg(feature = "bench-hooks")]
            crowded: w.crowded.load(Ordering::Relaxed),
        }
    }
}
