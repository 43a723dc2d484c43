//! True call stacks of one dump, from the function contexts callgrind records with
//! `--separate-callers=N`, and the self and inclusive cost per function they give.
//!
//! Callgrind's call lines give caller-callee pairs; folding them into stacks guesses
//! which caller a callee's cost came through whenever it has several, and draws stacks
//! that never ran. With `--separate-callers=N` callgrind keeps each function's cost apart
//! per chain of its last N callers (`f'g'h`), so a context whose chain reaches the thread's
//! first frame *is* a whole stack and its self cost belongs to that stack alone.
//!
//! # How it works
//!
//! 1. Every function of the dump is split into its frames ([`names::context`]).
//! 2. The roots are the functions that appear with no callers: a thread's first frame
//!    (`clone`, or the entry point for the main thread) and a signal handler's frame.
//! 3. A context whose deepest caller is a root is whole: its stack is its frames, root
//!    first. A context with callers whose deepest caller is not a root was cut at the
//!    depth N: it is kept as what it is (the innermost N+1 frames), marked cut, and its
//!    instructions are counted in [`ThreadStacks::cut_instructions`], so a depth too small
//!    for the benchmark's call chains shows instead of drawing wrong stacks.
//! 4. Self cost of a function = the costs of the stacks it is the innermost frame of;
//!    inclusive cost = the costs of the stacks it appears in, once per stack however often
//!    it recurs there, so recursion never counts a cost twice.
//!
//! A dump recorded without `--separate-callers` has no callers in its names: every stack
//! is then one frame, [`ThreadStacks::has_contexts`] is false, and inclusive costs have to
//! come from elsewhere.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::callgrind::CallgrindDump;
use super::names;

/// One call stack, outermost frame first, and whether it was cut at the recorded depth.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StackKey {
    /// Whether its outermost frames are missing (the chain was longer than the depth).
    pub cut: bool,
    /// Demangled function names, outermost first.
    pub frames: Vec<String>,
}

/// The instructions of one dump per call stack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadStacks {
    /// Self instructions per stack (each stack's innermost frame executed them).
    pub stacks: BTreeMap<StackKey, u64>,
    /// Whether the dump's names carry callers (recorded with `--separate-callers`).
    pub has_contexts: bool,
    /// Instructions of stacks cut at the recorded depth.
    pub cut_instructions: u64,
}

/// Self and inclusive instructions of one function.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Costs {
    /// Executed in the function itself.
    pub self_instructions: u64,
    /// Executed while it was on the stack: itself and everything it called.
    pub inclusive_instructions: u64,
}

impl ThreadStacks {
    /// Steps 1 to 3 on one dump.
    pub fn from_dump(dump: &CallgrindDump) -> Self {
        let contexts: Vec<names::Context> = dump
            .functions
            .iter()
            .map(|function| names::context(&function.name))
            .collect();
        let roots: HashSet<&str> = contexts
            .iter()
            .filter(|context| context.frames.len() == 1)
            .map(names::Context::function)
            .collect();
        let mut result = Self {
            has_contexts: contexts.iter().any(|context| context.frames.len() > 1),
            ..Self::default()
        };
        for (function, context) in dump.functions.iter().zip(&contexts) {
            if function.self_instructions == 0 {
                continue;
            }
            let deepest = context
                .frames
                .last()
                .map(String::as_str)
                .unwrap_or_default();
            let cut = context.frames.len() > 1 && !roots.contains(deepest);
            let key = StackKey {
                cut,
                frames: context.frames.iter().rev().cloned().collect(),
            };
            *result.stacks.entry(key).or_insert(0) += function.self_instructions;
            if cut {
                result.cut_instructions += function.self_instructions;
            }
        }
        result
    }

    /// Adds another thread's stacks (threads of one role are summed).
    pub fn add(&mut self, other: &Self) {
        for (key, instructions) in &other.stacks {
            *self.stacks.entry(key.clone()).or_insert(0) += instructions;
        }
        self.has_contexts |= other.has_contexts;
        self.cut_instructions += other.cut_instructions;
    }

    /// Step 4: each function's self and inclusive instructions.
    pub fn function_costs(&self) -> HashMap<String, Costs> {
        let mut costs: HashMap<String, Costs> = HashMap::new();
        for (key, &instructions) in &self.stacks {
            let Some(innermost) = key.frames.last() else {
                continue;
            };
            costs
                .entry(innermost.clone())
                .or_default()
                .self_instructions += instructions;
            let mut seen = HashSet::new();
            for frame in &key.frames {
                if seen.insert(frame.as_str()) {
                    costs
                        .entry(frame.clone())
                        .or_default()
                        .inclusive_instructions += instructions;
                }
            }
        }
        costs
    }

    /// All instructions of the stacks (equal to the dump's self costs summed).
    pub fn total(&self) -> u64 {
        self.stacks.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::profile::callgrind;

    /// The hand-written fixture's call graph (its comments describe it): `leaf` runs under
    /// three different stacks, `a` under two, and chains through `rec` are cut at depth 4.
    const KNOWN_SHAPE: &str = include_str!("../../../tests/fixtures/callgrind/known-shape.out");

    fn known() -> ThreadStacks {
        ThreadStacks::from_dump(&callgrind::parse(KNOWN_SHAPE).unwrap())
    }

    fn stack(frames: &str) -> StackKey {
        StackKey {
            cut: false,
            frames: frames.split(';').map(str::to_owned).collect(),
        }
    }

    #[test]
    fn whole_contexts_are_the_stacks_that_ran() {
        let stacks = known();
        assert!(stacks.has_contexts);
        let whole: Vec<(String, u64)> = stacks
            .stacks
            .iter()
            .filter(|(key, _)| !key.cut)
            .map(|(key, n)| (key.frames.join(";"), *n))
            .collect();
        assert_eq!(
            whole,
            [
                ("clone".to_owned(), 1),
                ("clone;start".to_owned(), 2),
                ("clone;start;run".to_owned(), 10),
                ("clone;start;run;a".to_owned(), 20),
                ("clone;start;run;a;leaf".to_owned(), 100),
                ("clone;start;run;b".to_owned(), 30),
                ("clone;start;run;b;leaf".to_owned(), 200),
                ("clone;start;run;b;rec".to_owned(), 5),
            ]
        );
        assert_eq!(stacks.stacks[&stack("clone;start;run;b;leaf")], 200);
        assert_eq!(stacks.total(), 815);
    }

    #[test]
    fn contexts_deeper_than_the_depth_are_cut_and_counted() {
        let stacks = known();
        // `rec'2'rec'b'run'start` has 4 callers after its level: its deepest caller
        // `start` is not a root, so the chain beyond it is missing; likewise below it.
        let cut: Vec<(String, u64)> = stacks
            .stacks
            .iter()
            .filter(|(key, _)| key.cut)
            .map(|(key, n)| (key.frames.join(";"), *n))
            .collect();
        assert_eq!(
            cut,
            [
                ("b;rec;rec;a;leaf".to_owned(), 400),
                ("run;b;rec;rec;a".to_owned(), 40),
                ("start;run;b;rec;rec".to_owned(), 7),
            ]
        );
        assert_eq!(stacks.cut_instructions, 447);
    }

    #[test]
    fn inclusive_costs_count_each_stack_once_however_often_a_function_recurs() {
        let costs = known().function_costs();
        let of = |name: &str| {
            let c = costs[name];
            (c.self_instructions, c.inclusive_instructions)
        };
        assert_eq!(of("leaf"), (700, 700));
        assert_eq!(of("a"), (60, 20 + 100 + 40 + 400));
        // `rec` appears twice in the stacks under it: counted once.
        assert_eq!(of("rec"), (12, 5 + 7 + 40 + 400));
        assert_eq!(of("b"), (30, 30 + 200 + 5 + 7 + 40 + 400));
        // The cut stacks lack their outer frames, so `clone` misses them.
        assert_eq!(of("clone"), (1, 815 - 447));
        assert_eq!(of("run"), (10, 815 - 400 - 1 - 2));
    }

    #[test]
    fn a_dump_without_contexts_has_one_frame_stacks() {
        let dump =
            callgrind::parse("events: Ir\nfn=f\n0 3\ncfn=g\ncalls=1 0\n0 4\nfn=g\n0 4\n").unwrap();
        let stacks = ThreadStacks::from_dump(&dump);
        assert!(!stacks.has_contexts);
        assert_eq!(stacks.cut_instructions, 0);
        assert_eq!(stacks.stacks.len(), 2);
        assert_eq!(stacks.stacks[&stack("g")], 4);
    }

    #[test]
    fn threads_add_up() {
        let mut sum = known();
        sum.add(&known());
        assert_eq!(sum.total(), 2 * 815);
        assert_eq!(sum.cut_instructions, 2 * 447);
        assert_eq!(sum.stacks[&stack("clone;start;run;b;leaf")], 400);
    }
}
