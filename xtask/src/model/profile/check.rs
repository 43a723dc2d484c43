//! What a profile read from a results file must hold before anything sums, divides or
//! scales its numbers: a file from a pull request's run is untrusted, and the comment job
//! runs a debug build, where an overflow is a panic.

use super::Profile;

/// The most instructions per call a profile may claim. A handoff of this benchmark runs
/// thousands; a billion leaves room for any real work and keeps every derived figure
/// (per call, times the flame graph's scale of 1000, summed over a role's stacks and both
/// sides) far inside a `u64`.
pub const MAX_INSTRUCTIONS_PER_CALL: u64 = 1_000_000_000;

impl Profile {
    /// `Ok` when the profile is one a counting run could have written: calls counted, its
    /// total within [`MAX_INSTRUCTIONS_PER_CALL`] per call, the functions' self costs and
    /// the stacks each adding up to no more than the total, every frame naming a function.
    pub fn check(&self) -> Result<(), String> {
        if self.count == 0 {
            return Err("its count of calls is 0".to_owned());
        }
        let most = self.count.saturating_mul(MAX_INSTRUCTIONS_PER_CALL);
        if self.instructions > most {
            return Err(format!(
                "it claims {} instructions in {} calls, more than {MAX_INSTRUCTIONS_PER_CALL} \
                 per call",
                self.instructions, self.count
            ));
        }
        let self_costs = self
            .functions
            .iter()
            .map(|f| f.self_instructions)
            .chain(self.other_functions.map(|o| o.self_instructions));
        if !within(self_costs, self.instructions) {
            return Err("its functions' self instructions add up to more than its total".into());
        }
        if let Some(f) = self
            .functions
            .iter()
            .find(|f| f.inclusive_instructions > most)
        {
            return Err(format!(
                "function {:?} claims more inclusive instructions than {MAX_INSTRUCTIONS_PER_CALL} \
                 per call",
                crate::model::shown::cut(&f.name)
            ));
        }
        if let Some(stacks) = &self.stacks {
            let costs = stacks
                .stacks
                .iter()
                .map(|s| s.instructions)
                .chain(stacks.other_stacks.map(|o| o.instructions));
            if !within(costs, self.instructions) {
                return Err("its stacks add up to more instructions than its total".to_owned());
            }
            let names = stacks.names.len();
            if let Some(stack) = stacks
                .stacks
                .iter()
                .find(|s| s.frames.iter().any(|&frame| frame as usize >= names))
            {
                return Err(format!(
                    "a stack names frame {:?} of {names} function names",
                    stack.frames.iter().find(|&&frame| frame as usize >= names)
                ));
            }
        }
        Ok(())
    }
}

/// Whether `costs` add up to at most `total` (checked: no sum wraps).
fn within(costs: impl Iterator<Item = u64>, total: u64) -> bool {
    let mut sum = 0u64;
    for cost in costs {
        match sum.checked_add(cost) {
            Some(s) if s <= total => sum = s,
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::profile::{FoldedStack, FunctionCost, InclusiveSource, Stacks};

    fn profile() -> Profile {
        Profile {
            count: 10,
            threads: 1,
            instructions: 1000,
            inclusive: InclusiveSource::Stacks,
            cut_instructions: 0,
            functions: vec![
                FunctionCost {
                    name: "main".into(),
                    self_instructions: 400,
                    inclusive_instructions: 1000,
                },
                FunctionCost {
                    name: "work".into(),
                    self_instructions: 600,
                    inclusive_instructions: 600,
                },
            ],
            other_functions: None,
            stacks: Some(Stacks {
                names: vec!["main".into(), "work".into()],
                stacks: vec![
                    FoldedStack {
                        frames: vec![0],
                        instructions: 400,
                        cut: false,
                    },
                    FoldedStack {
                        frames: vec![0, 1],
                        instructions: 600,
                        cut: false,
                    },
                ],
                other_stacks: None,
            }),
        }
    }

    #[test]
    fn a_profile_a_run_writes_passes() {
        profile().check().unwrap();
    }

    #[test]
    fn no_calls_is_refused() {
        let p = Profile {
            count: 0,
            ..profile()
        };
        assert_eq!(p.check().unwrap_err(), "its count of calls is 0");
    }

    #[test]
    fn totals_beyond_the_per_call_bound_are_refused() {
        let p = Profile {
            instructions: 10 * MAX_INSTRUCTIONS_PER_CALL + 1,
            ..profile()
        };
        assert!(p.check().unwrap_err().contains("per call"));
        let mut p = profile();
        p.functions[0].inclusive_instructions = u64::MAX;
        assert!(p.check().unwrap_err().contains("\"main\""));
    }

    #[test]
    fn parts_that_would_overflow_or_exceed_the_total_are_refused() {
        let mut p = profile();
        p.functions[1].self_instructions = u64::MAX;
        assert!(p.check().unwrap_err().contains("self instructions"));
        let mut p = profile();
        p.stacks.as_mut().unwrap().stacks[1].instructions = u64::MAX;
        assert!(p.check().unwrap_err().contains("stacks add up"));
    }

    #[test]
    fn a_frame_beyond_the_names_is_refused() {
        let mut p = profile();
        p.stacks.as_mut().unwrap().stacks[1].frames = vec![0, 2];
        assert_eq!(
            p.check().unwrap_err(),
            "a stack names frame Some(2) of 2 function names"
        );
    }
}
