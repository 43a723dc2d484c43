//! Where a counted window's instructions went: per thread role, per function (self and
//! inclusive) and per call stack, read from the callgrind dumps of one counting process.
//!
//! # How it works
//!
//! 1. The benchmark dumps every thread's counters at the window's end, each dump tagged
//!    `handoff-bench window=W tid=T role=R` (`src/counters/dumps.rs`), in files named
//!    `callgrind.out.<pid>.<part>-<thread>` ([`read_window_profiles`] finds them).
//! 2. Each dump is parsed ([`callgrind`]), its self costs checked against its own
//!    `totals:` line, and turned into stacks and per-function costs ([`thread`],
//!    [`stacks`]), names demangled without hashes ([`names`]).
//! 3. The dumps of one role are summed into that role's [`Profile`]: its instructions equal
//!    the binary's `instructions_<role>` for the window, since both read the same files.
//! 4. [`Profile::bounded`] keeps a result file small: at most [`Caps::functions`]
//!    functions (the rest summed into [`OtherFunctions`], so self costs still add up to
//!    the total), [`Caps::stacks`] stacks (likewise) and names of at most
//!    [`Caps::name_chars`] characters. Names are kept as data: they come from the code
//!    under test, and whoever renders them escapes them.
//!
//! A binary from before the role tags writes dumps without a role: such a window has no
//! profile ([`ProfileError::Untagged`]), which is no failure of the run.

pub mod callgrind;
mod check;
mod folded;
pub mod names;
mod read;
pub mod stacks;
pub mod thread;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use self::check::MAX_INSTRUCTIONS_PER_CALL;
pub use self::folded::{CUT_FRAME, FoldedStack, OTHER_STACKS_FRAME, OtherStacks, Stacks};
pub use self::read::{ProfileError, read_window_profiles};
pub use self::thread::InclusiveSource;

/// The depth of function contexts counting runs should record, as valgrind's
/// `--separate-callers=32`, for whole stacks ([`stacks`]). Measured on a 2-vCPU KVM guest
/// at revision b52b847, every configuration once under the xtask's callgrind flags plus
/// `--separate-callers=100` (`handoff-bench --only ID --count 200`): the deepest chain in
/// any window had 25 callers (`async-std/deadpool-sqlite`; `tokio-current/dedicated` 23),
/// so 32 leaves 7 frames to spare, and a deeper chain shows as
/// [`Profile::cut_instructions`] rather than as a wrong stack. A context is only as long
/// as its stack, so 32 and 64 cost the same here. Against no contexts, at the counting
/// runs' `--count 5000` (three runs each): the callgrind process took 0.86 s instead of
/// 0.75 s for `tokio-current/dedicated` and 2.05 s instead of 1.71 s for
/// `async-std/deadpool-sqlite`; the window's dumps grew from 38 KB to 94 KB and from
/// 129 KB to 350 KB. Callgrind counts the same with contexts (the floors and
/// `tokio-current/dedicated`'s worker to the instruction), but code whose work depends on
/// how much time passed does other work when valgrind runs slower: `tokio-current`'s loop
/// moved by 12 to 40 of 8.63 M instructions (tokio's timer processing), and
/// `async-std/deadpool-sqlite`'s worker by -0.007% and its `other` threads by +7% of their
/// 20 K (timed condvar and park waits, as `comparison::profile_diff` of the two sides'
/// profiles shows).
/// Both sides of a comparison must therefore be counted with the same depth.
pub const CONTEXT_DEPTH: u32 = 32;

/// A thread's role: the protocol's vocabulary, as the JSON line and the dump tags name it.
pub use handoff_protocol::Role;

/// How much of a profile a result file keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caps {
    /// Functions per role.
    pub functions: usize,
    /// Call stacks per role.
    pub stacks: usize,
    /// Characters per function name (longer names are cut, with [`names::CUT_MARK`]).
    pub name_chars: usize,
}

impl Default for Caps {
    /// At most about 25 KB of JSON per role and side. The loop thread of
    /// `tokio-current/dedicated` runs 74 functions in 94 stacks in its window (17 KB of
    /// JSON bounded), its worker 22 in 18 (4 KB): `tests/fixtures/callgrind/dedicated`.
    fn default() -> Self {
        Self {
            functions: 60,
            stacks: 120,
            name_chars: 160,
        }
    }
}

/// Every role's profile of one window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleProfiles {
    /// The window's number in its process (1 in a normal run).
    pub window: u64,
    /// Only the roles that had a thread in the window.
    pub roles: BTreeMap<Role, Profile>,
}

impl RoleProfiles {
    /// Every role's profile within `caps` ([`Profile::bounded`]).
    pub fn bounded(self, caps: &Caps) -> Self {
        RoleProfiles {
            window: self.window,
            roles: self
                .roles
                .into_iter()
                .map(|(role, profile)| (role, profile.bounded(caps)))
                .collect(),
        }
    }
}

/// One role's instructions in one window, per function and per stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Calls in the window: every per-call figure is a total divided by it.
    pub count: u64,
    /// Threads of the role that dumped.
    pub threads: u32,
    /// The role's instructions in the window (the dumps' `totals:`, summed).
    pub instructions: u64,
    /// Where the inclusive costs come from.
    pub inclusive: InclusiveSource,
    /// Instructions in stacks deeper than the recorded depth: their outer frames are
    /// missing, and those frames' inclusive costs lack them.
    pub cut_instructions: u64,
    /// Functions, largest first ([`Profile::bounded`]).
    pub functions: Vec<FunctionCost>,
    /// What [`Profile::bounded`] left out of `functions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_functions: Option<OtherFunctions>,
    /// Call stacks, when the dumps have contexts (`--separate-callers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stacks: Option<Stacks>,
}

/// One function's instructions in a window (totals; per call: [`Profile::per_call`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionCost {
    /// Demangled, without hash; untrusted text from the code under test.
    pub name: String,
    /// Executed in the function itself.
    pub self_instructions: u64,
    /// Executed while it was on the stack, itself included.
    pub inclusive_instructions: u64,
}

/// Functions a bounded profile leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherFunctions {
    /// How many.
    pub functions: u64,
    /// Their self instructions, summed (their inclusive costs overlap and do not add).
    pub self_instructions: u64,
}

impl Profile {
    /// `instructions` in the window, per call.
    pub fn per_call(&self, instructions: u64) -> f64 {
        instructions as f64 / self.count as f64
    }

    /// The profile within `caps` (see the module's step 4). Functions are kept by turns
    /// from the largest by inclusive and the largest by self cost, so that both the
    /// frames everything runs under and the functions that execute most stay; names cut
    /// to the same text are merged (their costs summed).
    pub fn bounded(mut self, caps: &Caps) -> Self {
        let mut by_inclusive: Vec<usize> = (0..self.functions.len()).collect();
        by_inclusive.sort_by(|&a, &b| order(&self.functions[a], &self.functions[b], true));
        let mut by_self = by_inclusive.clone();
        by_self.sort_by(|&a, &b| order(&self.functions[a], &self.functions[b], false));
        let mut keep = vec![false; self.functions.len()];
        let mut kept = 0;
        let mut turns = by_inclusive.iter().zip(&by_self);
        while kept < caps.functions.min(self.functions.len()) {
            let Some((&first, &second)) = turns.next() else {
                break;
            };
            for index in [first, second] {
                if kept < caps.functions && !keep[index] {
                    keep[index] = true;
                    kept += 1;
                }
            }
        }
        let mut merged: BTreeMap<String, FunctionCost> = BTreeMap::new();
        let mut other = self.other_functions.unwrap_or(OtherFunctions {
            functions: 0,
            self_instructions: 0,
        });
        for (function, keep) in self.functions.drain(..).zip(keep) {
            if !keep {
                other.functions += 1;
                other.self_instructions += function.self_instructions;
                continue;
            }
            let name = names::bounded(&function.name, caps.name_chars);
            let entry = merged.entry(name.clone()).or_insert(FunctionCost {
                name,
                self_instructions: 0,
                inclusive_instructions: 0,
            });
            entry.self_instructions += function.self_instructions;
            entry.inclusive_instructions += function.inclusive_instructions;
        }
        self.functions = merged.into_values().collect();
        sort_functions(&mut self.functions);
        self.other_functions = (other.functions > 0).then_some(other);
        self.stacks = self.stacks.map(|stacks| stacks.bounded(caps));
        self
    }
}

/// Largest first, by inclusive then self cost (or the other way round), then by name.
fn order(a: &FunctionCost, b: &FunctionCost, inclusive_first: bool) -> std::cmp::Ordering {
    let key = |f: &FunctionCost| {
        if inclusive_first {
            (f.inclusive_instructions, f.self_instructions)
        } else {
            (f.self_instructions, f.inclusive_instructions)
        }
    };
    key(b).cmp(&key(a)).then_with(|| a.name.cmp(&b.name))
}

/// The order of [`Profile::functions`].
fn sort_functions(functions: &mut [FunctionCost]) {
    functions.sort_by(|a, b| order(a, b, true));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(name: &str, self_instructions: u64, inclusive_instructions: u64) -> FunctionCost {
        FunctionCost {
            name: name.to_owned(),
            self_instructions,
            inclusive_instructions,
        }
    }

    fn profile(functions: Vec<FunctionCost>) -> Profile {
        Profile {
            count: 10,
            threads: 1,
            instructions: functions.iter().map(|f| f.self_instructions).sum(),
            inclusive: InclusiveSource::Stacks,
            cut_instructions: 0,
            functions,
            other_functions: None,
            stacks: None,
        }
    }

    #[test]
    fn bounding_keeps_the_largest_by_inclusive_and_by_self_and_sums_the_rest() {
        let full = profile(vec![
            function("root", 0, 1000),
            function("middle", 10, 900),
            function("inner", 20, 800),
            function("hot_leaf", 500, 500),
            function("warm_leaf", 300, 300),
            function("small", 5, 5),
            function("tiny", 1, 1),
        ]);
        let total = full.instructions;
        let caps = Caps {
            functions: 4,
            ..Caps::default()
        };
        let bounded = full.bounded(&caps);
        let names: Vec<&str> = bounded.functions.iter().map(|f| f.name.as_str()).collect();
        // By turns: root (inclusive), hot_leaf (self), middle (inclusive), warm_leaf (self).
        assert_eq!(names, ["root", "middle", "hot_leaf", "warm_leaf"]);
        assert_eq!(
            bounded.other_functions,
            Some(OtherFunctions {
                functions: 3,
                self_instructions: 26
            })
        );
        let kept: u64 = bounded.functions.iter().map(|f| f.self_instructions).sum();
        assert_eq!(kept + 26, total, "self costs still add up to the total");
    }

    #[test]
    fn bounding_cuts_long_names_and_merges_those_cut_alike() {
        let long = |end: &str| format!("{}{end}", "x".repeat(300));
        let bounded = profile(vec![
            function(&long("a"), 1, 10),
            function(&long("b"), 2, 20),
            function("short", 3, 3),
        ])
        .bounded(&Caps::default());
        assert_eq!(bounded.functions.len(), 2);
        let cut = &bounded.functions[0];
        assert_eq!(cut.name.chars().count(), Caps::default().name_chars);
        assert!(cut.name.ends_with(names::CUT_MARK));
        assert_eq!((cut.self_instructions, cut.inclusive_instructions), (3, 30));
        assert_eq!(bounded.other_functions, None);
    }

    #[test]
    fn profiles_round_trip_through_json_with_roles_named_as_the_json_line_names_them() {
        let profiles = RoleProfiles {
            window: 1,
            roles: BTreeMap::from([(Role::Worker, profile(vec![function("f", 1, 2)]))]),
        };
        let json = serde_json::to_string(&profiles).unwrap();
        assert!(json.contains("\"worker\":"), "{json}");
        assert!(json.contains("\"inclusive\":\"stacks\""), "{json}");
        let back: RoleProfiles = serde_json::from_str(&json).unwrap();
        assert_eq!(back, profiles);
        assert_eq!("loop".parse::<Role>(), Ok(Role::Loop));
        assert!("Loop".parse::<Role>().is_err());
    }
}
