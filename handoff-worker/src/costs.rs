//! What waiting costs, learned while the worker runs, and where the worker thread is: the
//! state the worker thread and its callers share to decide how long to spin.
//!
//! # What is measured, and by whom
//!
//! - **A park's CPU** (`park_cpu`): the worker thread's own CPU time across a blocking
//!   receive that really slept (its wall time exceeded its CPU time), on a sample of its
//!   parks (every one of the first [`ALWAYS_SAMPLED`], then one in [`SAMPLE_EVERY`]: the
//!   thread clock is a system call, about a microsecond under KVM). The futex wait, the
//!   switch out and back in, and the wake-up path all land there.
//! - **The waker's share** (`wake_send`): the wall time of a caller's send that found the
//!   worker asleep (the futex wake is a system call on the caller's thread, often an
//!   inter-processor interrupt under a hypervisor). Read by the sender itself, two clock
//!   reads on a path that costs a system call anyway.
//! - **A wake-up's latency** (`wake_latency`): from such a send to the worker running again.
//!   The sender stamps the time; the worker reads the stamp when it wakes.
//!
//! A park is priced at `park_cpu + wake_send` of CPU ([`Costs::park_cpu`]), and, for a
//! caller that prefers latency, at that plus `wake_latency` ([`Costs::park_latency`]). Each
//! is a moving average with weight 1/8 for the newest sample, so a host whose wake-ups
//! become 10x dearer is followed within a few dozen measured parks (after the first 16
//! parks, one park in 16 is measured).
//!
//! # The worker's place
//!
//! One word the worker writes only when something changes (so callers read it from their
//! own cache): whether it is about to sleep, whether it keeps finding itself on its
//! caller's CPU ([`crate::placement`]), and whether it waits for its CPU behind other work
//! ([`crate::crowding`]). A caller does not spin for the reply of a call it sent to a
//! sleeping worker (the wake-up alone takes longer than any spin worth making), to a worker
//! that shares its CPU (the spin would keep the worker from running), or to a crowded one
//! (the spin would hold a CPU that other threads wait for).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Parks whose CPU is always measured, so the estimate settles in the worker's first
/// milliseconds.
pub(crate) const ALWAYS_SAMPLED: u64 = 16;
/// After those, one park in this many is measured.
pub(crate) const SAMPLE_EVERY: u64 = 16;

/// What a park is assumed to cost before the worker has measured one: about what one costs
/// on the 2-vCPU VMs this was developed on (10-20 us of CPU). The first park (waiting for
/// the first call) replaces it.
const INITIAL_PARK_CPU: Duration = Duration::from_micros(10);

/// The bit of the place word that says the worker is about to sleep (or sleeps).
const SLEEPING: u32 = 1;
/// The bit that says the worker keeps running calls on its caller's CPU.
const TOGETHER: u32 = 2;
/// The bit that says the worker waits for its CPU behind other runnable work.
const CROWDED: u32 = 4;

/// The shared estimates and the worker's place (module docs).
#[derive(Debug)]
pub(crate) struct Costs {
    park_cpu_ns: AtomicU64,
    wake_send_ns: AtomicU64,
    wake_latency_ns: AtomicU64,
    /// When a sender found the worker asleep, in nanoseconds since `epoch` (0: no stamp).
    wake_sent_at: AtomicU64,
    /// [`SLEEPING`], [`TOGETHER`] and [`CROWDED`].
    place: AtomicU32,
    epoch: Instant,
}

impl Default for Costs {
    fn default() -> Self {
        Self {
            park_cpu_ns: AtomicU64::new(nanos(INITIAL_PARK_CPU)),
            wake_send_ns: AtomicU64::new(0),
            wake_latency_ns: AtomicU64::new(0),
            wake_sent_at: AtomicU64::new(0),
            place: AtomicU32::new(0),
            epoch: Instant::now(),
        }
    }
}

/// The worker's place, as a caller reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Place {
    /// The worker is about to sleep or sleeps: a call sent now wakes it.
    pub(crate) sleeping: bool,
    /// The worker keeps running calls on its caller's CPU.
    pub(crate) together: bool,
    /// The worker waits for its CPU behind other runnable work.
    pub(crate) crowded: bool,
}

impl Place {
    /// Awake, on a CPU of its own: what a caller assumes of a worker that does not learn.
    pub(crate) const AWAKE: Self = Self {
        sleeping: false,
        together: false,
        crowded: false,
    };

    /// Whether a caller should not spin for the reply of a call sent to a worker here.
    pub(crate) fn no_spin(self) -> bool {
        self.sleeping || self.together || self.crowded
    }
}

impl Costs {
    /// CPU a park costs, both threads' shares.
    pub(crate) fn park_cpu(&self) -> u64 {
        self.park_cpu_ns.load(Ordering::Relaxed) + self.wake_send_ns.load(Ordering::Relaxed)
    }

    /// A park priced for latency: its CPU and the wall time a wake-up takes.
    pub(crate) fn park_latency(&self) -> u64 {
        self.park_cpu() + self.wake_latency_ns.load(Ordering::Relaxed)
    }

    /// The separate estimates: a park's CPU on the worker's side, on the waker's side, and a
    /// wake-up's latency.
    pub(crate) fn estimates(&self) -> [Duration; 3] {
        [&self.park_cpu_ns, &self.wake_send_ns, &self.wake_latency_ns]
            .map(|estimate| Duration::from_nanos(estimate.load(Ordering::Relaxed)))
    }

    /// The worker's place.
    pub(crate) fn place(&self) -> Place {
        let word = self.place.load(Ordering::Relaxed);
        Place {
            sleeping: word & SLEEPING != 0,
            together: word & TOGETHER != 0,
            crowded: word & CROWDED != 0,
        }
    }

    /// Worker side: where it is now. Stores only on a change, so the callers' copies of the
    /// word stay valid.
    pub(crate) fn set_place(&self, place: Place) {
        let bit = |set, bit| if set { bit } else { 0 };
        let word = bit(place.sleeping, SLEEPING)
            | bit(place.together, TOGETHER)
            | bit(place.crowded, CROWDED);
        if self.place.load(Ordering::Relaxed) != word {
            self.place.store(word, Ordering::Relaxed);
        }
    }

    /// Worker side: a sampled park that slept used `cpu` of the worker thread's time.
    pub(crate) fn parked(&self, cpu: Duration) {
        ewma_into(&self.park_cpu_ns, nanos(cpu));
    }

    /// Caller side, before sending to a sleeping worker: the moment to stamp.
    pub(crate) fn stamp_wake(&self) -> Instant {
        let now = Instant::now();
        let since = nanos(now.saturating_duration_since(self.epoch)).max(1);
        // Only the first sender's stamp counts: it is the one whose send wakes the worker.
        let _ = self
            .wake_sent_at
            .compare_exchange(0, since, Ordering::Relaxed, Ordering::Relaxed);
        now
    }

    /// Caller side: the send stamped at `sent` has returned.
    pub(crate) fn woke(&self, sent: Instant) {
        ewma_into(&self.wake_send_ns, nanos(sent.elapsed()));
    }

    /// Worker side, after a sleep: reads (and clears) the stamp of the send that woke it.
    pub(crate) fn awoken(&self) {
        let stamp = self.wake_sent_at.swap(0, Ordering::Relaxed);
        if stamp != 0 {
            let now = nanos(self.epoch.elapsed());
            ewma_into(&self.wake_latency_ns, now.saturating_sub(stamp));
        }
    }
}

/// `estimate += (sample - estimate) / 8`, by load and store: the worker thread writes its
/// own estimates alone, and a lost update among concurrent senders only slows the average.
fn ewma_into(estimate: &AtomicU64, sample: u64) {
    let old = estimate.load(Ordering::Relaxed);
    let new = old - old / 8 + sample / 8;
    estimate.store(new, Ordering::Relaxed);
}

pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_estimates_follow_what_is_measured() {
        let costs = Costs::default();
        assert_eq!(costs.park_cpu(), 10_000, "the assumption before any park");
        for _ in 0..64 {
            costs.parked(Duration::from_micros(40));
        }
        let settled = costs.park_cpu();
        assert!((39_000..=40_000).contains(&settled), "{settled}");
        // A host whose parks get 10x cheaper is followed.
        for _ in 0..64 {
            costs.parked(Duration::from_micros(4));
        }
        assert!(costs.park_cpu() < 5_000, "{}", costs.park_cpu());
        assert_eq!(costs.park_latency(), costs.park_cpu());
    }

    #[test]
    fn a_stamped_send_prices_the_wakers_share_and_the_latency() {
        let costs = Costs::default();
        let sent = costs.stamp_wake();
        // A second sender while the worker still sleeps does not move the stamp.
        std::thread::sleep(Duration::from_millis(2));
        costs.stamp_wake();
        costs.woke(sent);
        costs.awoken();
        let [_, send, latency] = costs.estimates();
        assert!(send >= Duration::from_micros(250), "{send:?}");
        assert!(latency >= Duration::from_micros(250), "{latency:?}");
        // The stamp is consumed: a wake-up without one changes nothing.
        costs.awoken();
        assert_eq!(costs.estimates()[2], latency);
        assert!(costs.park_latency() > costs.park_cpu());
    }

    #[test]
    fn the_place_word_round_trips() {
        let costs = Costs::default();
        assert_eq!(costs.place(), Place::AWAKE);
        for word in 0..8_u8 {
            let place = Place {
                sleeping: word & 1 != 0,
                together: word & 2 != 0,
                crowded: word & 4 != 0,
            };
            costs.set_place(place);
            assert_eq!(costs.place(), place);
            assert_eq!(place.no_spin(), word != 0);
        }
    }
}
