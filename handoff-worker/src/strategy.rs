//! How the worker thread waits on an empty queue: [`Strategy`], and the [`Policy`] that
//! carries it out.

use std::time::Duration;

use crate::adaptive::{Adaptive, Caller, Plan, Priority, Waited};
use crate::costs::Costs;

/// How the worker thread waits on an empty queue (and, with the adaptive strategies, how a
/// caller waits for its reply).
///
/// Chosen with [`Builder::strategy`](crate::Builder::strategy); the default is
/// [`Strategy::Adaptive`]. A fixed caller-side spin is a setting of its own,
/// [`Builder::busy_poll`](crate::Builder::busy_poll).
///
/// | strategy | CPU | latency |
/// |---|---|---|
/// | `Block` | one park and wake-up per call that finds the worker idle | a wake-up per such call |
/// | `Adaptive` | per wait, expected no more than `Block`'s; far less for back-to-back calls | `Block`'s or better |
/// | `LowLatency` | more than `Block`'s where calls are a wake-up or two apart | lower than `Adaptive`'s there |
/// | `Spin(d)` | up to `d` of a CPU per idle period | no wake-up for gaps up to `d` |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Strategy {
    /// Park as soon as the queue is empty: no CPU burnt while idle, a futex wake per call
    /// that finds the worker parked.
    Block,
    /// Spin for up to this long on an empty queue, then park, whatever the machine.
    Spin(Duration),
    /// Spin where that costs less CPU than parking, park where it does not (the default).
    ///
    /// The worker learns, while it runs, what its parks and wake-ups cost in CPU and how
    /// long it waits for calls; it spins for as long as the expected CPU of a wait is lowest,
    /// which is never more than parking at once. So it spins through back-to-back calls (no
    /// wake-up, a fraction of a park's CPU), parks through sparse ones (as `Block` does),
    /// and notices by itself when traffic changes. Callers spin for their replies by the
    /// same rule. With one usable CPU it never spins, nor, for a while, when it keeps
    /// waiting for its CPU behind other runnable work. The policy in full is in the crate's
    /// source (`adaptive.rs`, `caller_spin.rs`, `placement.rs`, `crowding.rs`).
    #[default]
    Adaptive,
    /// Like [`Strategy::Adaptive`], with a park priced at its CPU *and* the wall time of a
    /// wake-up: the worker and its callers spin through waits up to a few wake-ups long.
    /// Calls that come a wake-up or two apart are answered sooner, for more CPU than
    /// `Block` would use; choose it when latency matters more than CPU.
    LowLatency,
}

/// The worker thread's decision maker: how long to spin before parking, fed back with what
/// happened. One per worker thread, which owns it: its size does not matter.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Policy {
    Block,
    Spin(Duration),
    Adaptive(Adaptive),
}

impl Policy {
    /// The policy for `strategy` on a thread that may use `cpus` CPUs.
    pub(crate) fn new(strategy: Strategy, cpus: usize) -> Self {
        match strategy {
            Strategy::Block => Self::Block,
            Strategy::Spin(d) => Self::Spin(d),
            Strategy::Adaptive | Strategy::LowLatency if cpus < 2 => Self::Block,
            Strategy::Adaptive => Self::Adaptive(Adaptive::new(Priority::Cpu)),
            Strategy::LowLatency => Self::Adaptive(Adaptive::new(Priority::Latency)),
        }
    }

    /// Whether this policy may spin at all.
    pub(crate) fn spins(&self) -> bool {
        !matches!(self, Self::Block)
    }

    /// The plan for the now-empty queue, after a call whose caller was `caller`.
    pub(crate) fn plan(&mut self, caller: Caller, costs: &Costs) -> Plan {
        match self {
            Self::Block => Plan {
                budget_ns: 0,
                probing: false,
            },
            Self::Spin(d) => Plan {
                budget_ns: crate::costs::nanos(*d),
                probing: false,
            },
            Self::Adaptive(a) => a.plan(caller, costs),
        }
    }

    /// How the idle period planned with `plan` ended.
    pub(crate) fn waited(&mut self, caller: Caller, plan: Plan, waited: Waited, costs: &Costs) {
        if let Self::Adaptive(a) = self {
            a.waited(caller, plan, waited, costs);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn strategies_map_to_policies_and_one_cpu_never_spins() {
        assert!(matches!(Policy::new(Strategy::Block, 4), Policy::Block));
        assert_eq!(Strategy::default(), Strategy::Adaptive);
        let d = Duration::from_micros(5);
        assert!(matches!(Policy::new(Strategy::Spin(d), 4), Policy::Spin(x) if x == d));
        assert!(matches!(Policy::new(Strategy::Adaptive, 1), Policy::Block));
        assert!(matches!(
            Policy::new(Strategy::LowLatency, 1),
            Policy::Block
        ));
        assert!(Policy::new(Strategy::LowLatency, 2).spins());
        let costs = Costs::default();
        assert_eq!(
            Policy::new(Strategy::Block, 4)
                .plan(Caller::Awake, &costs)
                .budget_ns,
            0
        );
    }
}
