//! One dump of one thread in one window: our tag read from its trigger, its totals
//! checked against its costs, and its stacks and per-function costs.
//!
//! Inclusive costs come from the stacks when the dump has function contexts
//! (`--separate-callers`, [`super::stacks`]). Without them, from callgrind's call costs:
//! a call into `f` adds its cost to `f` unless `f` is already on the stack there (the
//! caller is `f`, or callgrind's recursion level of the callee is above 1), so direct
//! recursion is counted once; the same holds for its own calls to others, added to its
//! self cost, and the larger of the two is kept (a function nobody called inside the
//! window, like a thread's first frames, has only the second). Those figures are only as
//! good as callgrind's call costs, which are wrong for calls under way when the window
//! opened or closed (measured on the worker thread of `tokio-current/dedicated`: its
//! thread entry's calls read 392 instructions where the stacks give 51,200), and mutual
//! recursion is counted twice; [`InclusiveSource`] says which way a profile went.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::Role;
use super::callgrind::CallgrindDump;
use super::names;
use super::stacks::{Costs, ThreadStacks};

/// What every tag of the benchmark starts with (`src/counters/dumps.rs` writes it).
const TAG_START: &str = "Client Request: handoff-bench window=";

/// Where a profile's inclusive costs come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InclusiveSource {
    /// Whole stacks (`--separate-callers`): exact, but for stacks cut at the depth.
    Stacks,
    /// Callgrind's call costs: wrong for functions whose calls span the window's edges.
    Calls,
}

/// Our tag: `handoff-bench window=W tid=T role=R` (`role=` absent from older binaries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    /// The window's number in its process.
    pub window: u64,
    /// The kernel thread id that dumped.
    pub tid: u64,
    /// The thread's role as it dumped; `None` from a binary that did not tag roles.
    pub role: Option<Role>,
}

impl Tag {
    /// The tag in a dump's trigger text, if the dump is ours; an unknown role makes it
    /// not ours.
    pub fn parse(trigger: &str) -> Option<Self> {
        let rest = trigger.trim().strip_prefix(TAG_START)?;
        let (window, rest) = rest.split_once(" tid=")?;
        let (tid, role) = match rest.split_once(" role=") {
            Some((tid, role)) => (tid, Some(role.parse::<Role>().ok()?)),
            None => (rest, None),
        };
        Some(Self {
            window: window.parse().ok()?,
            tid: tid.parse().ok()?,
            role,
        })
    }
}

/// One thread's costs in one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadProfile {
    /// Its instructions: the dump's `totals:` line, checked against its costs.
    pub instructions: u64,
    /// Self and inclusive instructions per demangled function.
    pub functions: HashMap<String, Costs>,
    /// Its stacks (one-frame stacks without contexts).
    pub stacks: ThreadStacks,
    /// Where `functions`' inclusive costs come from.
    pub inclusive: InclusiveSource,
}

/// Self costs that do not add up to the dump's own `totals:` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inconsistent {
    /// The self costs summed.
    pub self_sum: u64,
    /// What `totals:` says.
    pub totals: u64,
}

impl ThreadProfile {
    /// The profile of one parsed dump.
    pub fn from_dump(dump: &CallgrindDump) -> Result<Self, Inconsistent> {
        let stacks = ThreadStacks::from_dump(dump);
        let self_sum = stacks.total();
        // Without a `totals:` line the self costs are the total by definition.
        let totals = dump.totals.unwrap_or(self_sum);
        if self_sum != totals {
            return Err(Inconsistent { self_sum, totals });
        }
        let (functions, inclusive) = if stacks.has_contexts {
            (stacks.function_costs(), InclusiveSource::Stacks)
        } else {
            (from_calls(dump), InclusiveSource::Calls)
        };
        Ok(Self {
            instructions: totals,
            functions,
            stacks,
            inclusive,
        })
    }
}

/// Per-function costs from a dump without contexts (see the module's documentation).
fn from_calls(dump: &CallgrindDump) -> HashMap<String, Costs> {
    let contexts: Vec<names::Context> = dump
        .functions
        .iter()
        .map(|function| names::context(&function.name))
        .collect();
    let mut costs: HashMap<String, Costs> = HashMap::new();
    let mut called: HashMap<&str, i64> = HashMap::new();
    let mut calling: HashMap<&str, i64> = HashMap::new();
    for (function, context) in dump.functions.iter().zip(&contexts) {
        costs
            .entry(context.function().to_owned())
            .or_default()
            .self_instructions += function.self_instructions;
    }
    for call in &dump.calls {
        let (caller, callee) = (&contexts[call.caller], &contexts[call.callee]);
        if callee.is_recursive() || caller.function() == callee.function() {
            continue;
        }
        *called.entry(callee.function()).or_insert(0) += call.inclusive_instructions;
        *calling.entry(caller.function()).or_insert(0) += call.inclusive_instructions;
    }
    for (name, cost) in &mut costs {
        let self_cost = i64::try_from(cost.self_instructions).unwrap_or(i64::MAX);
        // Both are lower bounds when callgrind's figures are right; the larger is kept, as
        // a wrong figure (a call spanning the window's edge) is most often too small.
        let incoming = called.get(name.as_str()).copied().unwrap_or(0);
        let outgoing = self_cost.saturating_add(calling.get(name.as_str()).copied().unwrap_or(0));
        let inclusive = incoming.max(outgoing).max(self_cost);
        cost.inclusive_instructions = u64::try_from(inclusive).unwrap_or(0);
    }
    costs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::profile::callgrind;

    #[test]
    fn tags_of_this_and_older_binaries_parse() {
        let tag = Tag::parse("Client Request: handoff-bench window=3 tid=4242 role=worker");
        assert_eq!(
            tag,
            Some(Tag {
                window: 3,
                tid: 4242,
                role: Some(Role::Worker)
            })
        );
        let old = Tag::parse("Client Request: handoff-bench window=3 tid=4242").unwrap();
        assert_eq!(old.role, None);
        for other in [
            "Program termination",
            "Client Request: someone-else window=3 tid=1",
            "Client Request: handoff-bench window=3 tid=1 role=boss",
            "Client Request: handoff-bench window=x tid=1 role=loop",
        ] {
            assert_eq!(Tag::parse(other), None, "{other}");
        }
    }

    #[test]
    fn self_costs_must_add_up_to_the_totals_line() {
        let dump = callgrind::parse("events: Ir\nfn=f\n0 3\ntotals: 4\n").unwrap();
        assert_eq!(
            ThreadProfile::from_dump(&dump),
            Err(Inconsistent {
                self_sum: 3,
                totals: 4
            })
        );
    }

    /// The reference example of the format (main -> func1 -> func2, main -> func2) with a
    /// directly recursive `func2` (callgrind's level 2 for the inner activations) and a
    /// call that was under way when counting began (`calls=0`, a wrong cost).
    #[test]
    fn without_contexts_inclusive_costs_come_from_calls_and_recursion_counts_once() {
        let text = "events: Ir\n\
            fn=(0) thread_start\ncfn=(1) main\ncalls=0 1\n0 392\n\
            fn=(1)\n16 20\ncfn=(2) func1\ncalls=1 50\n16 400\ncfn=(3) func2\ncalls=3 20\n16 400\n\
            fn=(2)\n51 100\ncfn=(3)\ncalls=2 20\n51 300\n\
            fn=(3)\n20 600\ncfn=(4) func2'2\ncalls=5 20\n20 100\n\
            fn=(4)\n20 100\ncfn=(4)\ncalls=1 20\n20 10\n\
            totals: 820\n";
        let profile = ThreadProfile::from_dump(&callgrind::parse(text).unwrap()).unwrap();
        assert_eq!(profile.inclusive, InclusiveSource::Calls);
        let of = |name: &str| {
            let c = profile.functions[name];
            (c.self_instructions, c.inclusive_instructions)
        };
        assert_eq!(of("func2"), (700, 700));
        assert_eq!(of("func1"), (100, 400));
        // `main`'s only incoming call spans the window's start: its cost (392) is below
        // what `main` itself called, which wins.
        assert_eq!(of("main"), (20, 820));
        // Nobody called `thread_start` in the window: its own (wrong) call is all there is.
        assert_eq!(of("thread_start"), (0, 392));
        assert_eq!(profile.instructions, 820);
    }

    #[test]
    fn with_contexts_inclusive_costs_come_from_the_stacks() {
        let known = include_str!("../../../tests/fixtures/callgrind/known-shape.out");
        let dump = callgrind::parse(known).unwrap();
        let profile = ThreadProfile::from_dump(&dump).unwrap();
        assert_eq!(profile.inclusive, InclusiveSource::Stacks);
        assert_eq!(profile.functions["a"].inclusive_instructions, 560);
        assert_eq!(profile.instructions, 815);
    }
}
