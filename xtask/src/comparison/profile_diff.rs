//! Where two sides' instructions differ, function by function, per thread role: the
//! change in instructions per call of each function, self and inclusive, from the base's
//! and the head's profiles of one configuration ([`crate::model::profile`]), and the two
//! sides' stacks side by side for a differential flame graph.
//!
//! Functions are matched by their demangled name without hash, so one function of two
//! builds is one entry. A function on one side only is marked as such; when the other
//! side's profile was bounded, the function may be among those it left out, and the entry
//! says so ([`FunctionChange::maybe_left_out`]): diffing the full profiles and bounding
//! afterwards ([`RoleDiff::top`]) avoids that.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::profile::{InclusiveSource, Profile, Role, RoleProfiles, Stacks};

/// Every role's function changes between two sides of one configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileDiff {
    /// Roles with a profile on either side.
    pub roles: BTreeMap<Role, RoleDiff>,
}

/// One role's changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleDiff {
    /// The role's instructions per call on each side (0 where it had no thread).
    pub instructions: PerCall,
    /// Whether both sides' inclusive costs come from whole stacks; if not, inclusive
    /// changes of functions whose calls span the window's edges are unreliable.
    pub inclusive_exact: bool,
    /// Functions whose cost changed, largest self change first, then largest inclusive
    /// change, then by name.
    pub functions: Vec<FunctionChange>,
}

/// A quantity per call on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PerCall {
    /// The base's value per call.
    pub base: f64,
    /// The head's value per call.
    pub head: f64,
}

impl PerCall {
    /// Head minus base.
    pub fn change(&self) -> f64 {
        self.head - self.base
    }
}

/// Which sides a function was found on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Presence {
    /// Both.
    Both,
    /// Only the base (removed, renamed or inlined away by the head).
    BaseOnly,
    /// Only the head (new, renamed, or no longer inlined).
    HeadOnly,
}

/// One function's change in instructions per call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionChange {
    /// Demangled name; untrusted text from the code under test.
    pub name: String,
    /// Which sides it was found on.
    pub presence: Presence,
    /// Instructions per call executed in the function itself.
    pub self_instructions: PerCall,
    /// Instructions per call executed while it was on the stack.
    pub inclusive_instructions: PerCall,
    /// On one side only, and the other side's profile left functions out: it may be
    /// there below the bound, so its absence there is not known.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub maybe_left_out: bool,
}

impl ProfileDiff {
    /// The changes between `base` and `head`, the profiles of one configuration's window
    /// on each side.
    pub fn between(base: &RoleProfiles, head: &RoleProfiles) -> Self {
        let roles: BTreeSet<Role> = base
            .roles
            .keys()
            .chain(head.roles.keys())
            .copied()
            .collect();
        Self {
            roles: roles
                .into_iter()
                .map(|role| {
                    let diff = RoleDiff::between(base.roles.get(&role), head.roles.get(&role));
                    (role, diff)
                })
                .collect(),
        }
    }
}

impl RoleDiff {
    /// The changes of one role; a side without a profile of it counts as zero.
    pub fn between(base: Option<&Profile>, head: Option<&Profile>) -> Self {
        let per_call = |profile: Option<&Profile>, pick: &dyn Fn(&Profile) -> u64| {
            profile.map_or(0.0, |profile| profile.per_call(pick(profile)))
        };
        let mut functions: BTreeMap<&str, [Option<(f64, f64)>; 2]> = BTreeMap::new();
        for (side, profile) in [base, head].into_iter().enumerate() {
            for function in profile.map_or(&[][..], |profile| &profile.functions) {
                functions.entry(&function.name).or_default()[side] = Some((
                    profile.map_or(0.0, |p| p.per_call(function.self_instructions)),
                    profile.map_or(0.0, |p| p.per_call(function.inclusive_instructions)),
                ));
            }
        }
        let left_out = |profile: Option<&Profile>| {
            profile.is_some_and(|profile| profile.other_functions.is_some())
        };
        let mut changes: Vec<FunctionChange> = functions
            .into_iter()
            .map(|(name, [on_base, on_head])| {
                let (presence, maybe_left_out) = match (on_base, on_head) {
                    (Some(_), Some(_)) => (Presence::Both, false),
                    (Some(_), None) => (Presence::BaseOnly, left_out(head)),
                    _ => (Presence::HeadOnly, left_out(base)),
                };
                let (base_self, base_inclusive) = on_base.unwrap_or_default();
                let (head_self, head_inclusive) = on_head.unwrap_or_default();
                FunctionChange {
                    name: name.to_owned(),
                    presence,
                    self_instructions: PerCall {
                        base: base_self,
                        head: head_self,
                    },
                    inclusive_instructions: PerCall {
                        base: base_inclusive,
                        head: head_inclusive,
                    },
                    maybe_left_out,
                }
            })
            .filter(|change| {
                change.self_instructions.change() != 0.0
                    || change.inclusive_instructions.change() != 0.0
            })
            .collect();
        changes.sort_by(|a, b| {
            let key = |c: &FunctionChange| {
                (
                    c.self_instructions.change().abs(),
                    c.inclusive_instructions.change().abs(),
                )
            };
            key(b)
                .partial_cmp(&key(a))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.name.cmp(&b.name))
        });
        let exact = |profile: Option<&Profile>| {
            profile.is_none_or(|profile| profile.inclusive == InclusiveSource::Stacks)
        };
        Self {
            instructions: PerCall {
                base: per_call(base, &|p| p.instructions),
                head: per_call(head, &|p| p.instructions),
            },
            inclusive_exact: exact(base) && exact(head),
            functions: changes,
        }
    }

    /// The first `n` changes (for a report's "top functions").
    pub fn top(&self, n: usize) -> &[FunctionChange] {
        &self.functions[..n.min(self.functions.len())]
    }
}

/// The two sides' stacks of one role as a differential folded file: `outer;inner BASE
/// HEAD` a line (the input of inferno's differential flame graphs), in instructions per
/// call times `scale` (folded counts are integers; `scale` 1000 keeps three decimals),
/// each stack once, in order of its frames. Stacks left out by bounding are one line,
/// [`crate::model::profile::OTHER_STACKS_FRAME`].
pub fn differential_folded(base: (&Stacks, u64), head: (&Stacks, u64), scale: u64) -> String {
    let mut lines: BTreeMap<String, [u64; 2]> = BTreeMap::new();
    for (side, (stacks, count)) in [base, head].into_iter().enumerate() {
        for line in stacks.folded().lines() {
            let Some((stack, instructions)) = line.rsplit_once(' ') else {
                continue;
            };
            let instructions: u64 = instructions.parse().unwrap_or(0);
            let per_call = (instructions as f64 * scale as f64 / count.max(1) as f64).round();
            lines.entry(stack.to_owned()).or_default()[side] += per_call as u64;
        }
    }
    lines
        .into_iter()
        .map(|(stack, [base, head])| format!("{stack} {base} {head}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::profile::{FunctionCost, OtherFunctions};

    fn profile(count: u64, functions: &[(&str, u64, u64)]) -> Profile {
        Profile {
            count,
            threads: 1,
            instructions: functions.iter().map(|f| f.1).sum(),
            inclusive: InclusiveSource::Stacks,
            cut_instructions: 0,
            functions: functions
                .iter()
                .map(
                    |&(name, self_instructions, inclusive_instructions)| FunctionCost {
                        name: name.to_owned(),
                        self_instructions,
                        inclusive_instructions,
                    },
                )
                .collect(),
            other_functions: None,
            stacks: None,
        }
    }

    fn sides(base: Profile, head: Profile) -> RoleDiff {
        RoleDiff::between(Some(&base), Some(&head))
    }

    /// Base: `run` (10 self) calls `work` (40) 1000 times over 100 calls. Head, over 200
    /// calls: `work` grew to 45 per call, `run` calls a new `check` (5 per call), and
    /// `old_helper` (2 per call on the base) is gone.
    #[test]
    fn changes_per_call_are_sorted_by_size_and_one_sided_functions_marked() {
        let base = profile(
            100,
            &[
                ("run", 1_000, 5_200),
                ("work", 4_000, 4_000),
                ("old_helper", 200, 200),
            ],
        );
        let head = profile(
            200,
            &[
                ("run", 2_000, 12_000),
                ("work", 9_000, 9_000),
                ("check", 1_000, 1_000),
            ],
        );
        let diff = sides(base, head);
        assert_eq!(
            (diff.instructions.base, diff.instructions.head),
            (52.0, 60.0)
        );
        let summary: Vec<(&str, Presence, f64, f64)> = diff
            .functions
            .iter()
            .map(|c| {
                (
                    c.name.as_str(),
                    c.presence,
                    c.self_instructions.change(),
                    c.inclusive_instructions.change(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("check", Presence::HeadOnly, 5.0, 5.0),
                ("work", Presence::Both, 5.0, 5.0),
                ("old_helper", Presence::BaseOnly, -2.0, -2.0),
                ("run", Presence::Both, 0.0, 8.0),
            ]
        );
        assert!(diff.functions.iter().all(|c| !c.maybe_left_out));
        assert!(diff.inclusive_exact);
        assert_eq!(diff.top(1)[0].name, "check");
        assert_eq!(diff.top(10).len(), 4);
    }

    #[test]
    fn unchanged_functions_are_not_listed_and_equal_sides_give_no_changes() {
        let base = profile(100, &[("run", 1_000, 5_000), ("work", 4_000, 4_000)]);
        let diff = sides(base.clone(), base.clone());
        assert!(diff.functions.is_empty());
        // Twice the calls, twice the instructions: the same per call.
        let doubled = profile(200, &[("run", 2_000, 10_000), ("work", 8_000, 8_000)]);
        assert!(sides(base, doubled).functions.is_empty());
    }

    #[test]
    fn a_function_missing_beside_a_bounded_profile_may_have_been_left_out() {
        let mut base = profile(1, &[("a", 10, 10)]);
        base.other_functions = Some(OtherFunctions {
            functions: 3,
            self_instructions: 6,
        });
        let head = profile(1, &[("a", 10, 10), ("b", 1, 1)]);
        let diff = sides(base, head);
        assert_eq!(diff.functions.len(), 1);
        assert_eq!(diff.functions[0].presence, Presence::HeadOnly);
        assert!(diff.functions[0].maybe_left_out);
    }

    #[test]
    fn roles_on_one_side_only_count_as_zero_on_the_other() {
        let base = RoleProfiles {
            window: 1,
            roles: BTreeMap::from([(Role::Loop, profile(10, &[("poll", 100, 100)]))]),
        };
        let mut head = base.clone();
        head.roles
            .insert(Role::Other, profile(10, &[("timer", 30, 30)]));
        let diff = ProfileDiff::between(&base, &head);
        assert!(diff.roles[&Role::Loop].functions.is_empty());
        let other = &diff.roles[&Role::Other];
        assert_eq!(
            (other.instructions.base, other.instructions.head),
            (0.0, 3.0)
        );
        assert_eq!(other.functions[0].presence, Presence::HeadOnly);
        assert!(!other.functions[0].maybe_left_out);
    }

    #[test]
    fn a_side_with_inclusive_costs_from_calls_is_flagged() {
        let base = profile(1, &[("a", 1, 1)]);
        let mut head = profile(1, &[("a", 2, 2)]);
        head.inclusive = InclusiveSource::Calls;
        assert!(!sides(base, head).inclusive_exact);
    }

    #[test]
    fn differential_folded_stacks_line_up_both_sides_per_call() {
        use crate::model::profile::{callgrind, stacks::ThreadStacks};
        let known = include_str!("../../tests/fixtures/callgrind/known-shape.out");
        let stacks = |text: &str| {
            let dump = callgrind::parse(text).unwrap();
            Stacks::from_thread_stacks(&ThreadStacks::from_dump(&dump)).unwrap()
        };
        let base = stacks(known);
        // The head ran twice the calls, and `leaf` under `b` grew from 100 to 125 a call.
        let head = stacks(
            &known
                .replace(
                    "fn=(7) leaf'b'run'start'clone\n0 200",
                    "fn=(7) leaf'b'run'start'clone\n0 500",
                )
                .replace("fn=(1) clone\n0 1", "fn=(1) clone\n0 2")
                .replace("totals: 815", "totals: 1116"),
        );
        let folded = differential_folded((&base, 2), (&head, 4), 1000);
        let lines: Vec<&str> = folded.lines().collect();
        assert!(
            lines.contains(&"clone;start;run;b;leaf 100000 125000"),
            "{folded}"
        );
        assert!(lines.contains(&"clone 500 500"), "{folded}");
        assert!(
            lines.contains(&"clone;start;run;a;leaf 50000 25000"),
            "{folded}"
        );
        assert_eq!(lines.len(), 11);
    }

    #[test]
    fn hostile_names_stay_data() {
        let names = [
            "<img src=x onerror=alert(1)>",
            "**bold** [link](https://example.com) `code`",
            "@everyone @org/team",
            "| table | cell |",
        ];
        let base = profile(1, &names.map(|name| (name, 1, 1)));
        let head = profile(1, &names.map(|name| (name, 2, 2)));
        let diff = sides(base, head);
        let mut listed: Vec<&str> = diff.functions.iter().map(|c| c.name.as_str()).collect();
        listed.sort_unstable();
        let mut expected = names.to_vec();
        expected.sort_unstable();
        assert_eq!(listed, expected, "names kept byte for byte");
        let json = serde_json::to_string(&diff).unwrap();
        let back: RoleDiff = serde_json::from_str(&json).unwrap();
        assert_eq!(back, diff);
    }
}
